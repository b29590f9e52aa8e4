// Exact top-n by inner product (or cosine) of query rows against target rows.
// Ranking: higher score first; equal scores go to the smaller target id, so results
// never depend on scan order. Filtered targets are flagged in a byte mask.

import { dot, laneSums } from "./vector";

/** out[r] = 1/‖m_r‖, or 0 for a zero row (cosine then scores it 0, as implicit does). */
export function inverseNorms(m: usize, nRows: i32, k: i32, out: usize): void {
  const rowBytes = <usize>k << 2;
  for (let r = 0; r < nRows; r++) {
    const row = m + <usize>r * rowBytes;
    const norm = Mathf.sqrt(dot(row, row, k));
    store<f32>(out + (<usize>r << 2), norm > 0 ? 1 / norm : 0);
  }
}

/** out[r] = ‖m_r‖. */
export function rowNorms(m: usize, nRows: i32, k: i32, out: usize): void {
  const rowBytes = <usize>k << 2;
  for (let r = 0; r < nRows; r++) {
    const row = m + <usize>r * rowBytes;
    store<f32>(out + (<usize>r << 2), Mathf.sqrt(dot(row, row, k)));
  }
}

/** Whether (scoreA, idA) ranks below (scoreB, idB): lower score, or equal score and larger id. */
// @ts-ignore: decorator
@inline
export function worse(scoreA: f32, idA: i32, scoreB: f32, idB: i32): bool {
  return scoreA < scoreB || (scoreA == scoreB && idA > idB);
}

// Heap ordered so the root is the worst kept entry.
export function heapSiftDown(ids: usize, scores: usize, root: i32, size: i32): void {
  while (true) {
    let child = 2 * root + 1;
    if (child >= size) return;
    const right = child + 1;
    if (right < size && worse(
      load<f32>(scores + (<usize>right << 2)), load<i32>(ids + (<usize>right << 2)),
      load<f32>(scores + (<usize>child << 2)), load<i32>(ids + (<usize>child << 2)),
    )) child = right;
    const rs = load<f32>(scores + (<usize>root << 2)), ri = load<i32>(ids + (<usize>root << 2));
    const cs = load<f32>(scores + (<usize>child << 2)), ci = load<i32>(ids + (<usize>child << 2));
    if (!worse(cs, ci, rs, ri)) return;
    store<f32>(scores + (<usize>root << 2), cs); store<i32>(ids + (<usize>root << 2), ci);
    store<f32>(scores + (<usize>child << 2), rs); store<i32>(ids + (<usize>child << 2), ri);
    root = child;
  }
}

export function heapSiftUp(ids: usize, scores: usize, pos: i32): void {
  while (pos > 0) {
    const parent = (pos - 1) >> 1;
    const ps = load<f32>(scores + (<usize>parent << 2)), pi = load<i32>(ids + (<usize>parent << 2));
    const cs = load<f32>(scores + (<usize>pos << 2)), ci = load<i32>(ids + (<usize>pos << 2));
    if (!worse(cs, ci, ps, pi)) return;
    store<f32>(scores + (<usize>parent << 2), cs); store<i32>(ids + (<usize>parent << 2), ci);
    store<f32>(scores + (<usize>pos << 2), ps); store<i32>(ids + (<usize>pos << 2), pi);
    pos = parent;
  }
}

// At most 31 queries a topKBlocked call: a u32 mask word has a bit per query, and bit 31
// is the filter shared by all.
export const FILTERED: u32 = 1 << 31;

// Per-query state in the caller's scratch (12 words a query): heap size, query scale
// (1/‖q‖ in cosine mode, else 1), ‖q‖ for pruning, whether the query is done, and for
// the quantized pass (topk-quantized.ts) its scale, ‖q̂‖, error bound and its components
// along and across the copy's axis (bytes 32, 36).
export const STATE_WORDS: usize = 12;

/** Bytes of one query's state (STATE_WORDS words): the host sizes its scratch by this. */
export function topKStateBytes(): i32 {
  return <i32>(STATE_WORDS << 2);
}

/**
 * For each query q in [0, nQueries) (nQueries ≤ MAX_BLOCK_QUERIES): the n best targets,
 * written best first to outIds/outScores row q (n entries; unused slots get id -1 and
 * score -inf). Scores are q·t, or q·t/(‖q‖‖t‖) in cosine mode (`targetInvNorms` set).
 *
 * - Query q is row `queryIds[q]` of `queries` (or row q when queryIds is 0).
 * - Targets are scanned in the order `order[0..nOrder)` (or 0..nOrder-1 when order is 0).
 * - `mask` holds a u32 per target: bit 31 filters it for every query; bit q is set here
 *   for the targets in query q's row of the exclusion CSR (row q when
 *   `excludeByPosition`, else the query's row id) and cleared before returning.
 *
 * Blocking: targets are taken in blocks that stay in cache while every query scores them;
 * the micro-kernel scores 4 queries × 2 targets per pass, each target row loaded once for
 * four queries. Each score is one f32x4 accumulator over k/4 chunks, lanes summed
 * pairwise, then the scalar tail: the same bits whichever block or lane a pair lands in.
 * Only a score at or above its query's current n-th best leaves the vector path.
 */
export function topKBlocked(
  queries: usize, queryIds: usize, nQueries: i32,
  targets: usize, k: i32, order: usize, nOrder: i32, targetInvNorms: usize,
  mask: usize, excludeIndptr: usize, excludeIndices: usize, excludeByPosition: bool,
  n: i32, outIds: usize, outScores: usize, state: usize,
): void {
  const rowBytes = <usize>k << 2;
  const vectorFloats = k & ~3;
  // About 64 KB of target rows per block: stays in L2 while all queries pass over it.
  const blockTargets = max(8, <i32>(<usize>65536 / rowBytes) & ~1);

  for (let q = 0; q < nQueries; q++) {
    const row = queryIds ? load<i32>(queryIds + (<usize>q << 2)) : q;
    const query = queries + <usize>row * rowBytes;
    const norm = Mathf.sqrt(dot(query, query, k));
    const st = state + <usize>q * (STATE_WORDS << 2);
    store<i32>(st, 0);
    store<f32>(st, targetInvNorms ? (norm > 0 ? 1 / norm : 0) : 1, 4);
    store<f32>(st, norm, 8);
    store<i32>(st, 0, 12);
    if (excludeIndptr) flagExclusions(mask, excludeIndptr, excludeIndices, excludeByPosition ? q : row, <u32>1 << q, true);
  }

  for (let blockStart = 0; blockStart < nOrder; blockStart += blockTargets) {
    const blockEnd = min(nOrder, blockStart + blockTargets);
    for (let first = 0; first < nQueries; first += 4) {
      scoreBlock(queries, queryIds, first, min(4, nQueries - first), targets, k, vectorFloats, order, blockStart, blockEnd, targetInvNorms,
        mask, n, outIds, outScores, state);
    }
  }

  for (let q = 0; q < nQueries; q++) {
    const size = load<i32>(state + <usize>q * (STATE_WORDS << 2));
    finishRow(outIds + <usize>q * (<usize>n << 2), outScores + <usize>q * (<usize>n << 2), size, n);
    if (excludeIndptr) {
      const row = queryIds ? load<i32>(queryIds + (<usize>q << 2)) : q;
      flagExclusions(mask, excludeIndptr, excludeIndices, excludeByPosition ? q : row, <u32>1 << q, false);
    }
  }
}

export function flagExclusions(mask: usize, indptr: usize, indices: usize, row: i32, bit: u32, set: bool): void {
  const start = load<i32>(indptr + (<usize>row << 2)), end = load<i32>(indptr + ((<usize>row + 1) << 2));
  for (let e = start; e < end; e++) {
    const m = mask + (<usize>load<i32>(indices + (<usize>e << 2)) << 2);
    store<u32>(m, set ? load<u32>(m) | bit : load<u32>(m) & ~bit);
  }
}

// @ts-ignore: decorator
@inline
export function queryRow(queries: usize, queryIds: usize, q: i32, rowBytes: usize): usize {
  return queries + <usize>(queryIds ? load<i32>(queryIds + (<usize>q << 2)) : q) * rowBytes;
}

// The admission threshold of query q: its heap root once full, else -inf (admit all).
// @ts-ignore: decorator
@inline
export function thresholdOf(state: usize, q: i32, end: i32, n: i32, outScores: usize): f32 {
  if (q >= end) return Infinity; // padding lane: admits nothing
  const st = state + <usize>q * (STATE_WORDS << 2);
  if (load<i32>(st, 12)) return Infinity; // done
  return load<i32>(st) < n ? -Infinity : load<f32>(outScores + <usize>q * (<usize>n << 2));
}

// A per-query state word (byte offset `offset`) of queries [first, first + 4) as lanes;
// 0 for the padding lanes past `end`.
// @ts-ignore: decorator
@inline
export function stateLanes(state: usize, first: i32, end: i32, offset: usize): v128 {
  return f32x4(
    first < end ? load<f32>(state + <usize>first * (STATE_WORDS << 2) + offset) : 0,
    first + 1 < end ? load<f32>(state + <usize>(first + 1) * (STATE_WORDS << 2) + offset) : 0,
    first + 2 < end ? load<f32>(state + <usize>(first + 2) * (STATE_WORDS << 2) + offset) : 0,
    first + 3 < end ? load<f32>(state + <usize>(first + 3) * (STATE_WORDS << 2) + offset) : 0,
  );
}

// thresholdOf for the four lanes of the group starting at `first`.
// @ts-ignore: decorator
@inline
export function groupThresholds(state: usize, first: i32, end: i32, n: i32, outScores: usize): v128 {
  return f32x4(
    thresholdOf(state, first, end, n, outScores), thresholdOf(state, first + 1, end, n, outScores),
    thresholdOf(state, first + 2, end, n, outScores), thresholdOf(state, first + 3, end, n, outScores),
  );
}

// One group of up to 4 queries against targets order[blockStart..blockEnd).
function scoreBlock(
  queries: usize, queryIds: usize, first: i32, lanes: i32, targets: usize, k: i32, vectorFloats: i32,
  order: usize, blockStart: i32, blockEnd: i32, targetInvNorms: usize,
  mask: usize, n: i32, outIds: usize, outScores: usize, state: usize,
): void {
  const rowBytes = <usize>k << 2;
  // Padding lanes repeat the group's last query; their threshold admits nothing.
  const q0 = queryRow(queries, queryIds, first, rowBytes);
  const q1 = queryRow(queries, queryIds, first + min(1, lanes - 1), rowBytes);
  const q2 = queryRow(queries, queryIds, first + min(2, lanes - 1), rowBytes);
  const q3 = queryRow(queries, queryIds, first + min(3, lanes - 1), rowBytes);
  const end = first + lanes;
  const scales = stateLanes(state, first, end, 4);
  let thresholds = groupThresholds(state, first, end, n, outScores);

  for (let c = blockStart; c < blockEnd; c += 2) {
    const pair = c + 1 < blockEnd;
    const tA = order ? load<i32>(order + (<usize>c << 2)) : c;
    const tB = pair ? (order ? load<i32>(order + (<usize>(c + 1) << 2)) : c + 1) : tA;
    const rowA = targets + <usize>tA * rowBytes, rowB = targets + <usize>tB * rowBytes;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
    for (let i = 0; i < vectorFloats; i += 4) {
      const o = <usize>i << 2;
      const ta = v128.load(rowA + o), tb = v128.load(rowB + o);
      const x0 = v128.load(q0 + o), x1 = v128.load(q1 + o), x2 = v128.load(q2 + o), x3 = v128.load(q3 + o);
      a0 = f32x4.add(a0, f32x4.mul(x0, ta)); b0 = f32x4.add(b0, f32x4.mul(x0, tb));
      a1 = f32x4.add(a1, f32x4.mul(x1, ta)); b1 = f32x4.add(b1, f32x4.mul(x1, tb));
      a2 = f32x4.add(a2, f32x4.mul(x2, ta)); b2 = f32x4.add(b2, f32x4.mul(x2, tb));
      a3 = f32x4.add(a3, f32x4.mul(x3, ta)); b3 = f32x4.add(b3, f32x4.mul(x3, tb));
    }
    let scoresA = laneSums(a0, a1, a2, a3), scoresB = laneSums(b0, b1, b2, b3);
    if (vectorFloats < k) {
      scoresA = addTail(scoresA, q0, q1, q2, q3, rowA, vectorFloats, k);
      scoresB = addTail(scoresB, q0, q1, q2, q3, rowB, vectorFloats, k);
    }
    if (targetInvNorms) {
      scoresA = f32x4.mul(f32x4.mul(scoresA, scales), f32x4.splat(load<f32>(targetInvNorms + (<usize>tA << 2))));
      scoresB = f32x4.mul(f32x4.mul(scoresB, scales), f32x4.splat(load<f32>(targetInvNorms + (<usize>tB << 2))));
    }
    // ge, not gt: an equal score can still win on the smaller id (decided exactly below).
    if (v128.any_true(f32x4.ge(scoresA, thresholds))) {
      thresholds = admit(scoresA, tA, thresholds, first, lanes, mask, n, outIds, outScores, state);
    }
    if (pair && v128.any_true(f32x4.ge(scoresB, thresholds))) {
      thresholds = admit(scoresB, tB, thresholds, first, lanes, mask, n, outIds, outScores, state);
    }
  }
}

// @ts-ignore: decorator
@inline
function addTail(sums: v128, q0: usize, q1: usize, q2: usize, q3: usize, row: usize, from: i32, k: i32): v128 {
  let s0 = f32x4.extract_lane(sums, 0), s1 = f32x4.extract_lane(sums, 1), s2 = f32x4.extract_lane(sums, 2), s3 = f32x4.extract_lane(sums, 3);
  for (let i = from; i < k; i++) {
    const o = <usize>i << 2;
    const t = load<f32>(row + o);
    s0 += load<f32>(q0 + o) * t; s1 += load<f32>(q1 + o) * t; s2 += load<f32>(q2 + o) * t; s3 += load<f32>(q3 + o) * t;
  }
  return f32x4(s0, s1, s2, s3);
}

// The slow path: target t scored at or above some lane's threshold. Each such lane's heap
// takes it if it is not excluded and beats the root (score, then smaller id); returns
// the updated thresholds.
function admit(
  scores: v128, t: i32, thresholds: v128, first: i32, lanes: i32,
  mask: usize, n: i32, outIds: usize, outScores: usize, state: usize,
): v128 {
  const flags = load<u32>(mask + (<usize>t << 2));
  for (let j = 0; j < lanes; j++) {
    const q = first + j;
    const score = laneOf(scores, j);
    if (!(score >= laneOf(thresholds, j))) continue;
    if (flags & (FILTERED | (<u32>1 << q))) continue;
    if (!offer(state, q, score, t, n, outIds, outScores)) continue;
    thresholds = withLane(thresholds, j, thresholdOf(state, q, q + 1, n, outScores));
  }
  return thresholds;
}

// Query q's heap takes (score, t) if not full or if it beats the root (score, then smaller id).
export function offer(state: usize, q: i32, score: f32, t: i32, n: i32, outIds: usize, outScores: usize): bool {
  return offerToHeap(state + <usize>q * (STATE_WORDS << 2), outIds + <usize>q * (<usize>n << 2), outScores + <usize>q * (<usize>n << 2), score, t, n);
}

/** offer() on one heap of capacity n: its size (i32 at sizeAt), ids and scores. */
export function offerToHeap(sizeAt: usize, ids: usize, heapScores: usize, score: f32, t: i32, n: i32): bool {
  const size = load<i32>(sizeAt);
  if (size < n) {
    store<f32>(heapScores + (<usize>size << 2), score);
    store<i32>(ids + (<usize>size << 2), t);
    heapSiftUp(ids, heapScores, size);
    store<i32>(sizeAt, size + 1);
    return true;
  }
  if (!worse(load<f32>(heapScores), load<i32>(ids), score, t)) return false;
  store<f32>(heapScores, score);
  store<i32>(ids, t);
  heapSiftDown(ids, heapScores, 0, size);
  return true;
}

// @ts-ignore: decorator
@inline
export function laneOf(v: v128, j: i32): f32 {
  return j == 0 ? f32x4.extract_lane(v, 0) : j == 1 ? f32x4.extract_lane(v, 1) : j == 2 ? f32x4.extract_lane(v, 2) : f32x4.extract_lane(v, 3);
}

// @ts-ignore: decorator
@inline
export function withLane(v: v128, j: i32, x: f32): v128 {
  return j == 0 ? f32x4.replace_lane(v, 0, x) : j == 1 ? f32x4.replace_lane(v, 1, x) : j == 2 ? f32x4.replace_lane(v, 2, x) : f32x4.replace_lane(v, 3, x);
}

// Pops the heap's worst to the back until empty (leaving the row best first) and pads
// unused slots with id -1, score -inf.
export function finishRow(ids: usize, scores: usize, size: i32, n: i32): void {
  for (let last = size - 1; last > 0; last--) {
    const s = load<f32>(scores), i = load<i32>(ids);
    store<f32>(scores, load<f32>(scores + (<usize>last << 2))); store<i32>(ids, load<i32>(ids + (<usize>last << 2)));
    store<f32>(scores + (<usize>last << 2), s); store<i32>(ids + (<usize>last << 2), i);
    heapSiftDown(ids, scores, 0, last);
  }
  for (let s = size; s < n; s++) {
    store<i32>(ids + (<usize>s << 2), -1);
    store<f32>(scores + (<usize>s << 2), -Infinity);
  }
}
