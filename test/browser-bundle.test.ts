// The package in a real browser, the way an app gets it: esbuild bundles a page that
// imports "edgerec" with no configuration (the `browser` condition carries the wasm
// inside the JavaScript), Chromium runs it with and without cross-origin isolation, and
// the fitted factors must be the same bits as Node's, on one thread and on two (a fit in the
// Gram matrix's eigenbasis included).
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlternatingLeastSquares, CsrMatrix } from "../src/index.js";
import { alsOptions, eigenbasisOptions, eigenbasisShape, interactions, sha256Hex } from "./fixtures/browser/interactions.mjs";
import { detectRuntime } from "./support/runtime.js";
import { serveStatic } from "./support/static-server.js";

const chromiumPath = "/usr/bin/chromium";
const runtime = detectRuntime().name;
// Playwright drives the browser from Node; under Bun and Deno the same page and wasm
// run in the same Chromium, so nothing is gained by running it three times.
const skip = runtime !== "node" || (!existsSync(chromiumPath) && !process.env.CI);
const outDir = fileURLToPath(new URL("./.tmp/browser-bundle/", import.meta.url));

describe.skipIf(skip)("edgerec bundled for a browser page (Chromium)", () => {
  let browser: import("playwright-core").Browser;
  let nodeFactors: { userBits: number[]; itemBits: number[]; top: number[] };
  let nodeEigenbasisDigest: string;

  beforeAll(async () => {
    mkdirSync(outDir, { recursive: true });
    const esbuild = await import("esbuild");
    await esbuild.build({
      entryPoints: [fileURLToPath(new URL("./fixtures/browser/page.mjs", import.meta.url))],
      bundle: true, format: "esm", platform: "browser", outfile: `${outDir}app.js`, logLevel: "error",
    });
    writeFileSync(`${outDir}index.html`, `<!doctype html><meta charset="utf-8"><title>edgerec</title><script type="module" src="app.js"></script>`);
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const userItems = CsrMatrix.fromCoo(interactions());
    const model = new AlternatingLeastSquares({ ...alsOptions, threads: 1 });
    await model.fit(userItems);
    nodeFactors = {
      userBits: Array.from(new Uint32Array(model.userFactors.slice().buffer)),
      itemBits: Array.from(new Uint32Array(model.itemFactors.slice().buffer)),
      top: Array.from(model.recommend(0, userItems, { n: 5 }).ids),
    };
    const turned = new AlternatingLeastSquares({ ...eigenbasisOptions, threads: 1 });
    await turned.fit(CsrMatrix.fromCoo(interactions(...eigenbasisShape)));
    nodeEigenbasisDigest = await sha256Hex(turned.save());
  }, 60_000);

  afterAll(async () => { await browser?.close(); });

  async function runPage(isolated: boolean) {
    const server = await serveStatic(outDir, { isolated });
    const page = await browser.newPage();
    const errors: string[] = [];
    const warnings: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("console", (message) => { if (message.type() === "warning") warnings.push(message.text()); });
    try {
      await page.goto(server.url);
      await page.waitForFunction(() => "edgerecResult" in globalThis, null, { timeout: 30_000 });
      const result = await page.evaluate(() => (globalThis as unknown as { edgerecResult: Promise<unknown> }).edgerecResult);
      return { result: result as { error?: string; workersStarted: number; shared: boolean; isolated: boolean; fits: Record<string, typeof nodeFactors>; eigenbasisDigests: Record<string, string> }, errors, warnings };
    } finally {
      await page.close();
      await server.close();
    }
  }

  it("cross-origin isolated: shared memory, two threads, the same bits as Node", async () => {
    const { result, errors, warnings } = await runPage(true);
    expect(warnings).toEqual([]);
    expect(errors).toEqual([]);
    expect(result.error).toBeUndefined();
    expect(result.isolated).toBe(true);
    expect(result.shared).toBe(true);
    expect(result.workersStarted).toBe(2);
    expect(result.fits[1]).toEqual(nodeFactors);
    expect(result.fits[2]).toEqual(nodeFactors);
    expect(result.eigenbasisDigests).toEqual({ 1: nodeEigenbasisDigest, 2: nodeEigenbasisDigest });
  }, 60_000);

  it("not isolated: the plain build on one thread, the same bits as Node", async () => {
    const { result, errors, warnings } = await runPage(false);
    expect(warnings).toEqual([expect.stringMatching(/one thread: this page is not cross-origin isolated/)]);
    expect(errors).toEqual([]);
    expect(result.error).toBeUndefined();
    expect(result.isolated).toBe(false);
    expect(result.shared).toBe(false);
    expect(result.workersStarted).toBe(0);
    expect(result.fits[1]).toEqual(nodeFactors);
    expect(result.fits[2]).toEqual(nodeFactors);
    expect(result.eigenbasisDigests).toEqual({ 1: nodeEigenbasisDigest, 2: nodeEigenbasisDigest });
  }, 60_000);
});
