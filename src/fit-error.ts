// Training that overflowed: factors that are NaN or infinite after a sweep. implicit
// raises ModelFitError for the same thing; so does edgerec, with what to change. A
// non-finite factor poisons every score it touches (NaN compares false, so top-k picks
// arbitrary items), so a fit that produced one must fail rather than save such a model.

import type { Engine } from "./engine.js";

/** Factors became NaN or infinite during fit(): the options or the input overflowed. */
export class ModelFitError extends Error {
  /** The model's class name. */
  readonly model: string;
  /** The 1-based iteration (ALS) or epoch (BPR, MF) after which it was found. */
  readonly iteration: number;
  /** Which factor matrix holds the first non-finite value. */
  readonly side: "users" | "items";
  /** Its row (user or item index); -1 when only a sum over them overflowed. */
  readonly row: number;
  /** The value found (NaN, Infinity or -Infinity). */
  readonly value: number;

  /** `what`: what was found wrong with that row, when not a non-finite value in it. */
  constructor(model: string, found: { iteration: number; side: "users" | "items"; row: number; value: number; what?: string }, advice: string) {
    const noun = found.side === "users" ? "user" : "item";
    const what = found.what !== undefined ? `the least-squares system of ${noun} ${found.row}: ${found.what}`
      : found.row >= 0 ? `the ${noun} factors hold ${found.value} (${noun} ${found.row})` : `the training loss is ${found.value}`;
    super(`${model}.fit: ${what} after iteration ${found.iteration}: the fit overflowed. ${advice}`);
    this.name = "ModelFitError";
    this.model = model;
    this.iteration = found.iteration;
    this.side = found.side;
    this.row = found.row;
    this.value = found.value;
  }
}

/** The first non-finite value of `count` floats viewed as rows of `width`, or undefined. */
export function firstNonFinite(values: Float32Array, width: number): { row: number; value: number } | undefined {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // v - v is 0 for finite v, NaN for NaN and ±Infinity: one test for both.
    if (v - v !== 0) return { row: Math.floor(i / width), value: v };
  }
  return undefined;
}

/**
 * Throws ModelFitError if either factor matrix (rows of `width` floats in wasm memory)
 * holds a non-finite value. Cheap next to a sweep: one SIMD pass in wasm over the factors,
 * which the sweep itself reads several times.
 */
export function checkFactorsFinite(engine: Engine, model: string, iteration: number, factors: { usersPtr: number; nUsers: number; itemsPtr: number; nItems: number; width: number }, advice: string): void {
  const { usersPtr, nUsers, itemsPtr, nItems, width } = factors;
  for (const [side, ptr, rows] of [["users", usersPtr, nUsers], ["items", itemsPtr, nItems]] as const) {
    const at = engine.kernels.firstNonFinite(ptr, rows * width);
    if (at >= 0) throw new ModelFitError(model, { iteration, side, row: Math.floor(at / width), value: engine.heap.f32(ptr + at * 4, 1)[0] }, advice);
  }
}
