// Math whose results do not depend on the JavaScript engine: Math.log, log1p and pow
// differ between V8 (Node, Deno, Chromium) and JavaScriptCore (Bun) in the last bit,
// which would make "same data, same seed" give different models. These run in wasm.
// (+, −, ×, ÷ and Math.sqrt are exactly rounded by IEEE 754 and safe everywhere.)

import { getEngine } from "./engine.js";

/** Natural logarithm, the same bits on every runtime. */
export function log(x: number): number { return getEngine().kernels.log(x); }
/** ln(1 + x), the same bits on every runtime. */
export function log1p(x: number): number { return getEngine().kernels.log1p(x); }
/** x^y, the same bits on every runtime. */
export function pow(x: number, y: number): number { return getEngine().kernels.pow(x, y); }
