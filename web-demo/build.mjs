// `npm run build:web`: the demo as a folder any static host can serve, offline, no CDN.
// esbuild bundles the page script and the recommender worker; edgerec's browser entry
// carries the wasm inside the worker bundle, so no .wasm file needs copying. The built-in
// MovieLens data is copied with its README and licence beside it.
//
// Needs the library built first (`npm run build`): the bundle imports edgerec's dist/.

import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const out = join(here, "dist");

export async function buildWebDemo({ quiet = false } = {}) {
  const started = performance.now();
  if (!existsSync(join(root, "dist", "browser.js")) || !existsSync(join(root, "dist", "embedded-wasm.js"))) {
    throw new Error("edgerec is not built: run `npm run build` first (the demo bundles dist/browser.js)");
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await esbuild.build({
    entryPoints: { "app/app": join(here, "src/app.ts"), "app/recommender-worker": join(here, "src/recommender-worker.ts") },
    outdir: out,
    bundle: true,
    format: "esm",
    platform: "browser",
    // Top-level await (the engine loads on import) and class fields: every current browser.
    target: ["chrome100", "firefox100", "safari16"],
    minify: true,
    legalComments: "none",
    logLevel: quiet ? "error" : "warning",
  });
  cpSync(join(here, "index.html"), join(out, "index.html"));
  cpSync(join(here, "style.css"), join(out, "style.css"));
  // The data, its licence (README.txt) and our note on how it was packed.
  cpSync(join(root, "demo-data", "ml-latest-small"), join(out, "data", "ml-latest-small"), { recursive: true });
  cpSync(join(root, "demo-data", "README.md"), join(out, "data", "README.md"));
  writeFileSync(join(out, ".nojekyll"), ""); // GitHub Pages: serve the folder as it is

  const files = listFiles(out);
  const sizes = Object.fromEntries(files.map((f) => [relative(out, f), statSync(f).size]));
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  const code = Object.entries(sizes).filter(([f]) => /\.(js|css|html)$/.test(f)).reduce((a, [, b]) => a + b, 0);
  if (!quiet) {
    console.log(`web-demo/dist: ${files.length} files, ${kb(total)} (page, code and styles ${kb(code)}) in ${Math.round(performance.now() - started)} ms`);
    for (const [file, size] of Object.entries(sizes)) console.log(`  ${file.padEnd(44)} ${kb(size).padStart(9)}`);
  }
  return { out, sizes, total, code };
}

function kb(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function listFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? listFiles(path) : [path];
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildWebDemo().catch((error) => {
    console.error(`build:web: ${error.message}`);
    process.exit(1);
  });
}
