// YᵀY for ALS, the one product of a half-step that is not per row: segment partials
// (assembly/als.ts gramSegment) added in segment order by gramCombine. Segments have a
// fixed size, so one thread or several give the same bits. And the change of basis that
// makes YᵀY diagonal for the CG solver.

import { symmetricEigen } from "./eigen.js";
import type { Engine } from "./engine.js";
import type { WorkerPool } from "./pool.js";

interface GramPlan { partials: number; segments: number; partialAt(segment: number): number }

// Memory for one k×k partial per segment.
function planGram(engine: Engine, nRows: number, k: number): GramPlan {
  const segments = engine.kernels.gramSegments(nRows);
  const partialBytes = k * k * 4;
  const partials = engine.heap.alloc(Math.max(segments, 1) * partialBytes);
  return { partials, segments, partialAt: (s) => partials + s * partialBytes };
}

/** out (k×k) = scale·YᵀY for Y = nRows rows of k floats at `y`, on the calling thread. */
export function gramOf(engine: Engine, y: number, nRows: number, k: number, scale: number, out: number): void {
  const plan = planGram(engine, nRows, k);
  try {
    for (let s = 0; s < plan.segments; s++) engine.kernels.gramSegment(y, nRows, k, s, plan.partialAt(s));
    engine.kernels.gramCombine(plan.partials, plan.segments, k, scale, out);
  } finally {
    engine.heap.release(plan.partials);
  }
}

/** gramOf with the segments taken by the pool's threads as they come free (the same bits). */
export async function gramOnPool(pool: WorkerPool, y: number, nRows: number, k: number, scale: number, out: number): Promise<void> {
  const { engine } = pool;
  const plan = planGram(engine, nRows, k);
  try {
    const calls = Array.from({ length: plan.segments }, (_, s) => ({ kernel: "gramSegment", args: [y, nRows, k, s, plan.partialAt(s)] }));
    await pool.runShared(Math.max(1, Math.min(pool.size, plan.segments)), () => calls);
    engine.kernels.gramCombine(plan.partials, plan.segments, k, scale, out);
  } finally {
    engine.heap.release(plan.partials);
  }
}

/** A factor table in wasm memory: nRows rows of k floats at `ptr`. */
export interface FactorTable { ptr: number; nRows: number }

// Rows per rotateRows call: short calls let V8 tier the kernel up early.
const ROTATE_CHUNK = 8192;

/**
 * Turns the k×k Gram matrix G at `gramPtr` into its eigenbasis: G = Q·Λ·Qᵀ (float64, on
 * this thread), every table ← table·Q (so every product x·y is kept, and the tables' new
 * Gram matrix is Λ), and `gramPtr` ← the k eigenvalues. `rotationPtr` holds k×k f32 for Q,
 * `scratches` 4k f32 per thread. The rows are shared by the pool's threads when there is
 * one; each row is rotated alike by any thread, so the result is the same bits. Returns
 * false, changing nothing, when G is not finite (the fit's own check then names the cause).
 */
export async function toEigenbasis(engine: Engine, pool: WorkerPool | undefined, gramPtr: number, k: number, tables: FactorTable[], rotationPtr: number, scratches: number[]): Promise<boolean> {
  const { heap, kernels } = engine;
  const gram = heap.f32(gramPtr, k * k);
  if (!gram.every(Number.isFinite)) return false;
  const { values, vectors } = symmetricEigen(gram, k);
  heap.f32(rotationPtr, k * k).set(vectors);
  heap.f32(gramPtr, k).set(values);
  // Chunks of rows, each rotated in place through its thread's scratch.
  const chunks: [number, number, number][] = [];
  for (const { ptr, nRows } of tables) for (let start = 0; start < nRows; start += ROTATE_CHUNK) chunks.push([ptr, start, Math.min(nRows, start + ROTATE_CHUNK)]);
  if (pool) {
    await pool.runShared(Math.min(pool.size, scratches.length), (thread) =>
      chunks.map(([ptr, start, end]) => ({ kernel: "rotateRows", args: [ptr, start, end, k, rotationPtr, scratches[thread]] })));
  } else {
    for (const [ptr, start, end] of chunks) kernels.rotateRows(ptr, start, end, k, rotationPtr, scratches[0]);
  }
  return true;
}
