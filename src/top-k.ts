// Exact top-n for many queries at once, on the calling thread or on the worker pool.
// Plans the wasm memory of one job (a filter mask, per-query state, output rows) and
// feeds a kernel up to 31 queries a call: topKQuantized (assembly/topk-quantized.ts) for
// whole catalogues, topKBlocked (assembly/topk.ts) for a chosen list of targets. Both
// give the same bits for the same pair. Each worker gets its own mask
// and scratch and a contiguous share of the queries, so every answer is the same bits
// whichever thread computed it. A cosine job over every row of a matrix against all of
// them (similarItems for the whole catalogue) goes to allPairsUnit
// (assembly/topk-all-pairs.ts) instead, which scores each pair once for both rows.

import type { Engine, TopKBlockedArgs, TopKQuantizedArgs } from "./engine.js";
import type { WorkerPool } from "./pool.js";

/** Queries per kernel call: the u32 mask has one bit per query plus the shared filter bit. */
const CALL_QUERIES = 31;
// Queries whose output rows are planned at once (per thread): bounds memory for large n.
const ROUND_QUERIES = 31 * 256;
const FILTERED = 1 << 31;

/** Items to skip per query: a CSR in wasm, its rows by query position or by query row id. */
export interface Exclusion { indptr: number; indices: number; byPosition: boolean }

/** A 16-bit copy of every target row, in norm order (assembly/topk-quantized.ts quantizeRows). */
export interface QuantizedTargets {
  kq: number; quantized: number; ids: number; scales: number; residuals: number; norms: number; invNorms: number;
  /** The unit vector of the axis bound (k floats) and each position's two terms along it. */
  axis: number; axial: number;
}

/** One top-n job: every pointer is into wasm memory and outlives the job. */
export interface TopKJob {
  /** Query rows (k floats each); query q is row queryIds[q], or row q without ids. */
  queries: number;
  queryIds?: Int32Array;
  nQueries: number;
  targets: number;
  nTargets: number;
  k: number;
  /** For the blocked kernel (no `quantized`): 1/‖t‖ per target for cosine scores, or 0 for inner products. */
  targetInvNorms: number;
  /** Cosine scores (the quantized copy holds its own inverse norms; targetInvNorms serves `order`). */
  cosine: boolean;
  /** Without `quantized`: the targets to scan, in this order (i32 ids), or 0 for all in id order. */
  order: number;
  nOrder: number;
  /** When set, every target is scanned through this copy (the exact two-pass kernel) instead of `order`. */
  quantized?: QuantizedTargets;
  /** Target ids never returned. */
  filter?: Int32Array;
  exclude?: Exclusion;
  /** Results per query. */
  n: number;
}

/** n ids and scores per query, row-major; unused slots hold id -1. */
export interface TopKRows { ids: Int32Array; scores: Float32Array }

/** Hears how far a job is: `done` of `total` queries answered (a share of them, for all pairs). */
export type Progress = (done: number, total: number) => void;

interface Lane { mask: number; state: number; queryIds: number; queryQuantized: number; outIds: number; outScores: number }
type KernelCall = { kernel: "topKBlocked"; args: TopKBlockedArgs } | { kernel: "topKQuantized"; args: TopKQuantizedArgs };

/** Runs the job on this thread. */
export function topK(engine: Engine, job: TopKJob, onProgress?: Progress): TopKRows {
  const allPairs = allPairsPlan(engine, job, 1);
  if (allPairs) {
    try {
      allPairs.calls[0].forEach((call, unit) => { engine.kernels.allPairsUnit(...call.args); allPairs.progress(0, unit, onProgress); });
      return allPairs.finish();
    } finally {
      allPairs.release();
    }
  }
  const lane = allocateLane(engine, job, Math.min(job.nQueries, ROUND_QUERIES));
  const result = emptyResult(job);
  let done = 0;
  try {
    for (let first = 0; first < job.nQueries; first += ROUND_QUERIES) {
      const count = Math.min(ROUND_QUERIES, job.nQueries - first);
      for (const call of roundCalls(engine, job, lane, first, count)) {
        if (call.kernel === "topKQuantized") engine.kernels.topKQuantized(...call.args);
        else engine.kernels.topKBlocked(...call.args);
        onProgress?.((done += call.args[2]), job.nQueries);
      }
      collect(engine, job, lane, first, count, result);
    }
  } finally {
    releaseLane(engine, lane);
  }
  return result;
}

/** Runs the job on the pool's workers, the queries split evenly between them. */
export async function topKParallel(engine: Engine, pool: WorkerPool, job: TopKJob, threads: number, onProgress?: Progress): Promise<TopKRows> {
  const allPairs = allPairsPlan(engine, job, threads);
  if (allPairs) {
    try {
      await pool.run(allPairs.calls, (worker, unit) => allPairs.progress(worker, unit, onProgress));
      return allPairs.finish();
    } finally {
      allPairs.release();
    }
  }
  const lanes: Lane[] = [];
  const result = emptyResult(job);
  let done = 0;
  try {
    const perRound = ROUND_QUERIES * threads;
    const laneQueries = Math.min(ROUND_QUERIES, Math.ceil(job.nQueries / threads / CALL_QUERIES) * CALL_QUERIES);
    for (let w = 0; w < threads; w++) lanes.push(allocateLane(engine, job, laneQueries));
    for (let first = 0; first < job.nQueries; first += perRound) {
      const count = Math.min(perRound, job.nQueries - first);
      // Contiguous shares in multiples of a call, so every call is full but the last.
      const share = Math.ceil(count / threads / CALL_QUERIES) * CALL_QUERIES;
      const shares = lanes.map((lane, w) => ({ lane, first: first + w * share, count: Math.max(0, Math.min(share, count - w * share)) }))
        .filter((s) => s.count > 0);
      const calls = shares.map((s) => roundCalls(engine, job, s.lane, s.first, s.count));
      await pool.run(calls, (worker, index) => onProgress?.((done += calls[worker][index].args[2]), job.nQueries));
      for (const s of shares) collect(engine, job, s.lane, s.first, s.count, result);
    }
  } finally {
    for (const lane of lanes) releaseLane(engine, lane);
  }
  return result;
}

function emptyResult(job: TopKJob): TopKRows {
  return { ids: new Int32Array(job.nQueries * job.n), scores: new Float32Array(job.nQueries * job.n) };
}

function allocateLane(engine: Engine, job: TopKJob, roundQueries: number): Lane {
  const { heap } = engine;
  const lane: Lane = { mask: 0, state: 0, queryIds: 0, queryQuantized: 0, outIds: 0, outScores: 0 };
  try {
    lane.mask = heap.allocZeroed(Math.max(job.nTargets, 1) * 4);
    // Sizes of the kernels' per-query state and of one group's lane vectors, from the kernels.
    lane.state = heap.alloc(CALL_QUERIES * engine.kernels.topKStateBytes());
    if (job.quantized) lane.queryQuantized = heap.alloc(Math.ceil(CALL_QUERIES / 4) * 4 * job.quantized.kq * 2 + engine.kernels.groupLanesBytes()); // queries in fours, a group's lanes
    if (job.queryIds) lane.queryIds = heap.alloc(Math.max(roundQueries, 1) * 4);
    lane.outIds = heap.alloc(Math.max(roundQueries * job.n, 1) * 4);
    lane.outScores = heap.alloc(Math.max(roundQueries * job.n, 1) * 4);
  } catch (error) {
    releaseLane(engine, lane);
    throw error;
  }
  if (job.filter) {
    const mask = heap.i32(lane.mask, job.nTargets);
    for (const id of job.filter) mask[id] = FILTERED;
  }
  return lane;
}

function releaseLane(engine: Engine, lane: Lane): void {
  for (const ptr of [lane.mask, lane.state, lane.queryIds, lane.queryQuantized, lane.outIds, lane.outScores]) if (ptr) engine.heap.release(ptr);
}

// The kernel calls for queries [first, first + count) of the job, into the lane's rows.
function roundCalls(engine: Engine, job: TopKJob, lane: Lane, first: number, count: number): KernelCall[] {
  if (job.queryIds) engine.heap.i32(lane.queryIds, count).set(job.queryIds.subarray(first, first + count));
  const calls: KernelCall[] = [];
  for (let at = 0; at < count; at += CALL_QUERIES) {
    const size = Math.min(CALL_QUERIES, count - at);
    const position = first + at;
    // Without ids, query q is row q: offset the base so the call starts at `position`.
    const queries = job.queryIds ? job.queries : job.queries + position * job.k * 4;
    const queryIds = job.queryIds ? lane.queryIds + at * 4 : 0;
    const { exclude } = job;
    // Exclusion rows by position follow the call; rows by id are absolute.
    const byPosition = exclude ? exclude.byPosition || !job.queryIds : false;
    const excludeIndptr = exclude ? (byPosition ? exclude.indptr + position * 4 : exclude.indptr) : 0;
    const excludeIndices = exclude ? exclude.indices : 0, outIds = lane.outIds + at * job.n * 4, outScores = lane.outScores + at * job.n * 4;
    const q = job.quantized;
    calls.push(q
      ? { kernel: "topKQuantized", args: [queries, queryIds, size, job.targets, job.k, q.kq, job.nTargets, q.quantized, q.ids, q.scales, q.residuals, q.norms, q.invNorms,
        q.axis, q.axial, job.cosine, lane.mask, excludeIndptr, excludeIndices, byPosition, job.n, outIds, outScores, lane.state, lane.queryQuantized] }
      : { kernel: "topKBlocked", args: [queries, queryIds, size, job.targets, job.k, job.order, job.nOrder, job.targetInvNorms,
        lane.mask, excludeIndptr, excludeIndices, byPosition, job.n, outIds, outScores, lane.state] });
  }
  return calls;
}

function collect(engine: Engine, job: TopKJob, lane: Lane, first: number, count: number, result: TopKRows): void {
  result.ids.set(engine.heap.i32(lane.outIds, count * job.n), first * job.n);
  result.scores.set(engine.heap.f32(lane.outScores, count * job.n), first * job.n);
}

// Query positions per allPairsUnit call: their 16-bit rows stay in L1 while a block of
// targets passes under them.
const ALL_PAIRS_UNIT = 64;
// Every thread keeps heaps for all rows (n entries each): beyond this, the ordinary path.
const ALL_PAIRS_MAX_HEAP_BYTES = 256 * 2 ** 20;

type AllPairsCall = { kernel: "allPairsUnit"; args: Parameters<Engine["kernels"]["allPairsUnit"]> };

/**
 * When `job` asks every row of a matrix for its cosine neighbours among all rows, with no
 * filter or exclusion: one set of heaps and scratch per thread, the units dealt out in
 * turn (unit u costs ~ rows − u·ALL_PAIRS_UNIT, so turns even it out), and `finish`,
 * which merges the threads' heaps and returns the rows in the job's query order.
 */
function allPairsPlan(engine: Engine, job: TopKJob, threads: number):
  { calls: AllPairsCall[][]; progress: (worker: number, unit: number, onProgress?: Progress) => void; finish: () => TopKRows; release: () => void } | undefined {
  const q = job.quantized;
  const nRows = job.nTargets, n = job.n;
  if (!q || !job.cosine || job.queries !== job.targets || job.filter || job.exclude || job.nQueries !== nRows || nRows === 0) return undefined;
  if (!coversEveryRow(job.queryIds, nRows)) return undefined;
  const { heap, kernels } = engine;
  const heapBytes = kernels.allPairsHeapBytes(nRows, n);
  const units = Math.ceil(nRows / ALL_PAIRS_UNIT);
  const sets = Math.max(1, Math.min(threads, units));
  if (sets * heapBytes > ALL_PAIRS_MAX_HEAP_BYTES) return undefined;
  const owned: number[] = [];
  const release = () => { for (const ptr of owned) heap.release(ptr); owned.length = 0; };
  const heaps: number[] = [], scratch: number[] = [];
  try {
    for (let w = 0; w < sets; w++) {
      heaps.push(heap.alloc(heapBytes)); owned.push(heaps[w]);
      scratch.push(heap.alloc(ALL_PAIRS_UNIT * (q.kq * 2 + kernels.topKStateBytes()) + kernels.groupLanesBytes())); owned.push(scratch[w]);
      kernels.allPairsReset(heaps[w], nRows, n);
    }
  } catch {
    release(); // no room for every thread's heaps: the ordinary path needs far less
    return undefined;
  }
  const calls: AllPairsCall[][] = heaps.map(() => []);
  for (let u = 0; u < units; u++) {
    const w = u % sets, start = u * ALL_PAIRS_UNIT;
    calls[w].push({ kernel: "allPairsUnit", args: [job.targets, job.k, q.kq, nRows, start, Math.min(nRows, start + ALL_PAIRS_UNIT),
      q.quantized, q.ids, q.scales, q.residuals, q.norms, q.invNorms, n, heaps[w], scratch[w]] });
  }
  // Progress in queries: the share of the triangle's pairs done (unit u pairs its rows with
  // every row from its own on), reported as that share of all rows.
  const totalPairs = (nRows * (nRows + 1)) / 2;
  let pairsDone = 0;
  const progress = (worker: number, unit: number, onProgress?: Progress) => {
    if (!onProgress) return;
    const [, , , , start, end] = calls[worker][unit].args;
    for (let p = start; p < end; p++) pairsDone += nRows - p;
    onProgress(pairsDone === totalPairs ? nRows : Math.floor((nRows * pairsDone) / totalPairs), nRows);
  };
  const finish = (): TopKRows => {
    for (let w = 1; w < sets; w++) kernels.mergeAllPairsHeaps(heaps[0], heaps[w], nRows, n);
    kernels.finishAllPairs(heaps[0], nRows, n);
    // Heap rows are by position in the quantized copy; answer rows by query.
    const positionOf = new Int32Array(nRows);
    heap.i32(q.ids, nRows).forEach((id, position) => { positionOf[id] = position; });
    const ids = heap.i32(heaps[0], nRows * n), scores = heap.f32(heaps[0] + nRows * n * 4, nRows * n);
    const result = emptyResult(job);
    for (let query = 0; query < nRows; query++) {
      const from = positionOf[job.queryIds ? job.queryIds[query] : query] * n;
      result.ids.set(ids.subarray(from, from + n), query * n);
      result.scores.set(scores.subarray(from, from + n), query * n);
    }
    return result;
  };
  return { calls, progress, finish, release };
}

// Whether ids (or 0..nRows-1 without ids) name each of nRows rows exactly once.
function coversEveryRow(ids: Int32Array | undefined, nRows: number): boolean {
  if (!ids) return true;
  if (ids.length !== nRows) return false;
  const seen = new Uint8Array(nRows);
  for (const id of ids) { if (seen[id]) return false; seen[id] = 1; }
  return true;
}
