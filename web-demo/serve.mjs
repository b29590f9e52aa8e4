#!/usr/bin/env node
// `npm run web`: serves web-demo/dist on localhost with the headers that make the page
// cross-origin isolated (COOP same-origin, COEP require-corp), so SharedArrayBuffer is
// available and ALS trains on every core. `--no-isolation` leaves them out to try the
// single-thread path; `--port N` picks the port (default 8080, 0 for any free one).
// No dependencies: node:http and node:fs.

import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".wasm": "application/wasm", ".json": "application/json", ".map": "application/json",
  ".svg": "image/svg+xml", ".png": "image/png", ".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
  ".gz": "application/gzip", ".csv": "text/csv; charset=utf-8",
};

/**
 * Starts the server; resolves with its URL and a close function. `isolated` adds the
 * COOP/COEP headers (and CORP, so every response may be embedded by an isolated page).
 */
export async function serveWebDemo({ root = join(dirname(fileURLToPath(import.meta.url)), "dist"), port = 8080, host = "127.0.0.1", isolated = true } = {}) {
  const base = normalize(root + sep);
  const server = createServer(async (request, response) => {
    try {
      const pathname = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname);
      let file = normalize(join(base, pathname));
      // Refuse anything that escapes the root (../ in the path).
      if (!file.startsWith(base) && file + sep !== base) return send(response, 403, "forbidden");
      if ((await stat(file).catch(() => undefined))?.isDirectory()) file = join(file, "index.html");
      const body = await readFile(file).catch(() => undefined);
      if (!body) return send(response, 404, `not found: ${pathname}`);
      const headers = { "content-type": TYPES[extname(file).toLowerCase()] ?? "application/octet-stream", "cache-control": "no-cache" };
      if (isolated) {
        headers["cross-origin-opener-policy"] = "same-origin";
        headers["cross-origin-embedder-policy"] = "require-corp";
        headers["cross-origin-resource-policy"] = "same-origin";
      }
      response.writeHead(200, headers);
      response.end(request.method === "HEAD" ? undefined : body);
    } catch (error) {
      send(response, 500, String(error?.message ?? error));
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${address.port}/`,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

function send(response, status, text) {
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  response.end(text);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const isolated = !args.includes("--no-isolation");
  const portAt = args.indexOf("--port");
  const port = portAt >= 0 ? Number(args[portAt + 1]) : Number(process.env.PORT ?? 8080);
  const unknown = args.filter((a, i) => a !== "--no-isolation" && a !== "--port" && !(i > 0 && args[i - 1] === "--port"));
  if (unknown.length || !Number.isInteger(port) || port < 0) {
    console.error("usage: node web-demo/serve.mjs [--no-isolation] [--port N]");
    process.exit(2);
  }
  const root = join(dirname(fileURLToPath(import.meta.url)), "dist");
  if (!(await stat(join(root, "index.html")).catch(() => undefined))) {
    console.error("web-demo/dist is missing: run `npm run build:web` first");
    process.exit(1);
  }
  const { url } = await serveWebDemo({ root, port, isolated });
  console.log(`edgerec web demo: ${url}`);
  console.log(isolated
    ? "cross-origin isolated (COOP/COEP sent): ALS trains on every core"
    : "not cross-origin isolated (--no-isolation): ALS trains on one thread");
  console.log("Ctrl+C to stop");
}
