// The suite runs on Node, Bun and Deno (`npm test` = test:node, test:bun, test:deno). Each
// script sets EDGEREC_EXPECT_RUNTIME; this file checks that the tests really execute inside
// that runtime (and not, say, in a Node child process that a runner spawned), and that the
// engine loads and trains there to the very same bytes.
import { describe, expect, it } from "vitest";
import { AlternatingLeastSquares, CsrMatrix } from "../src/index.js";
import { implicitCounts } from "./reference.js";
import { detectRuntime, expectedRuntime } from "./support/runtime.js";

const expected = expectedRuntime();
const actual = detectRuntime();

// implicit's tests/als_test.py 7×6 count matrix.
const counts = implicitCounts;

// SHA-256 of model.save() after `fit` on `counts` with { factors: 6, regularization: 0.01,
// seed: 23 } (other options at their defaults: 15 iterations, CG solver), recorded from the
// Node run. Hard-coding it is legitimate because the bytes do not depend on the host: the
// kernels are one single-threaded wasm module that imports nothing but its memory (its Math is
// AssemblyScript's own, not the engine's), the initial factors come from a counter-based
// generator, and the host side adds only integer bookkeeping and JSON of the options; Node
// (V8), Bun (JavaScriptCore), Deno (V8) and Chromium were measured to produce identical bytes.
// So a different digest here means the engine, its defaults or the model format changed
// (update the value deliberately) or a runtime computes differently (a real bug).
const GOLDEN_SAVE_SHA256 = "0f74ed40433ac3dd49c0827d4b5f1a352238955c70f0651e5ce4dcd03bd334af";

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function fittedDigest(lib: { AlternatingLeastSquares: typeof AlternatingLeastSquares; CsrMatrix: typeof CsrMatrix }) {
  const model = new lib.AlternatingLeastSquares({ factors: 6, regularization: 0.01, seed: 23 });
  await model.fit(lib.CsrMatrix.fromDense(counts));
  return sha256Hex(model.save());
}

describe("runtime", () => {
  it("runs on the runtime its script claims", () => {
    console.log(`edgerec tests ran on ${actual.name} ${actual.version} (expected ${expected})`);
    expect(["node", "bun", "deno"]).toContain(expected);
    expect(actual.name).toBe(expected);
    // Cross-check the globals each runtime defines, so that one stray global cannot fool it.
    const versions = process.versions as Record<string, string | undefined>;
    const g = globalThis as Record<string, unknown>;
    expect({ Bun: typeof g.Bun, Deno: typeof g.Deno, bun: typeof versions.bun, deno: typeof versions.deno }).toEqual({
      Bun: expected === "bun" ? "object" : "undefined",
      Deno: expected === "deno" ? "object" : "undefined",
      bun: expected === "bun" ? "string" : "undefined",
      deno: expected === "deno" ? "string" : "undefined",
    });
  });

  it("fits ALS to bit-identical model bytes on every runtime", async () => {
    expect(await fittedDigest({ AlternatingLeastSquares, CsrMatrix })).toBe(GOLDEN_SAVE_SHA256);
  });

  it("loads the built package entry (dist/) and gets the same bytes", async () => {
    const dist = (await import("../dist/index.js")) as { AlternatingLeastSquares: typeof AlternatingLeastSquares; CsrMatrix: typeof CsrMatrix };
    expect(await fittedDigest(dist)).toBe(GOLDEN_SAVE_SHA256);
  });

  // Reading Node's global `Response` loads its fetch implementation (undici, ~6 MB kept for
  // the life of the process); loading the engine from disk must not need it.
  it.runIf(actual.name === "node")("loads the engine in Node without loading its fetch implementation", async () => {
    const { spawnSync } = await import("node:child_process");
    const entry = new URL("../dist/index.js", import.meta.url).href;
    const script = `const lib = await import(${JSON.stringify(entry)}); await lib.initEngine();
      const m = new lib.AlternatingLeastSquares({ factors: 2, iterations: 1, threads: 1 }); await m.fit(lib.CsrMatrix.fromDense([[1, 0], [0, 1]]));
      console.log(JSON.stringify(process.moduleLoadList.filter((name) => /undici|fetch/.test(name))));`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual([]);
  });
});
