// YᵀY for ALS, the one product of a half-step that is not per row: segment partials
// (assembly/als.ts gramSegment) added in segment order by gramCombine. Segments have a
// fixed size, so one thread or several give the same bits.

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

/** gramOf with the segments shared by the pool's workers in contiguous runs (the same bits). */
export async function gramOnPool(pool: WorkerPool, y: number, nRows: number, k: number, scale: number, out: number): Promise<void> {
  const { engine } = pool;
  const plan = planGram(engine, nRows, k);
  try {
    const calls = Array.from({ length: plan.segments }, (_, s) => ({ kernel: "gramSegment", args: [y, nRows, k, s, plan.partialAt(s)] }));
    const workers = Math.max(1, Math.min(pool.size, plan.segments));
    await pool.run(Array.from({ length: workers }, (_, w) =>
      calls.slice(Math.floor((plan.segments * w) / workers), Math.floor((plan.segments * (w + 1)) / workers))));
    engine.kernels.gramCombine(plan.partials, plan.segments, k, scale, out);
  } finally {
    engine.heap.release(plan.partials);
  }
}
