// Exact top-n cosine neighbours of every row among all rows (similarItems over the whole
// catalogue), scoring each unordered pair once for both rows. The two-pass scheme is
// topKQuantized's (topk-quantized.ts): 16-bit dot products bound q·t, and only a pair whose
// bound reaches either row's n-th best is scored exactly, by pairScore. pairScore(q, t) is
// the same bits as pairScore(t, q), and each side scales it as topKQuantized does
// ((q·t / ‖q‖) / ‖t‖ for row q), so every answer is the same bits as topKQuantized's.
//
// Work comes in units: the query positions [unitStart, unitEnd) of the quantized copy
// against every position from unitStart on (the upper triangle). A unit offers pairs to
// both rows' heaps, which live in the caller's `heaps` (one set per thread; merged by
// mergeAllPairsHeaps). Heaps are indexed by copy position; entries hold row ids.

import { STATE_WORDS, finishRow, laneOf, offerToHeap, withLane } from "./topk";
import {
  boundEpsilon, pairLevels, pairScore, quantizedBlockTargets, querySlot, secondLevels, storeGroupLanes, storeQueryBounds, targetSlot, upperBound,
} from "./topk-quantized";

// One thread's heaps for nRows positions: ids (n i32 each), scores (n f32 each), sizes
// (i32) and thresholds (f32: the n-th best once full, else -inf), in that order.
// @ts-ignore: decorator
@inline
function heapScores(heaps: usize, nRows: i32, n: i32): usize { return heaps + (<usize>nRows * <usize>n << 2); }
// @ts-ignore: decorator
@inline
function heapSizes(heaps: usize, nRows: i32, n: i32): usize { return heaps + (<usize>nRows * <usize>n << 3); }
// @ts-ignore: decorator
@inline
function heapThresholds(heaps: usize, nRows: i32, n: i32): usize { return heapSizes(heaps, nRows, n) + (<usize>nRows << 2); }

/** Bytes of one thread's heaps for nRows rows and n results (see allPairsUnit). */
export function allPairsHeapBytes(nRows: i32, n: i32): usize {
  return (<usize>nRows * <usize>n << 3) + (<usize>nRows << 3);
}

/** Empties one thread's heaps. */
export function allPairsReset(heaps: usize, nRows: i32, n: i32): void {
  memory.fill(heapSizes(heaps, nRows, n), 0, <usize>nRows << 2);
  const thresholds = heapThresholds(heaps, nRows, n);
  for (let p = 0; p < nRows; p++) store<f32>(thresholds + (<usize>p << 2), -Infinity);
}

// Position p's heap takes (score, id) if it ranks in; keeps p's threshold current.
// @ts-ignore: decorator
@inline
function offerTo(heaps: usize, nRows: i32, n: i32, p: i32, score: f32, id: i32): f32 {
  const sizes = heapSizes(heaps, nRows, n), scores = heapScores(heaps, nRows, n);
  const row = <usize>p * <usize>n << 2;
  offerToHeap(sizes + (<usize>p << 2), heaps + row, scores + row, score, id, n);
  const threshold: f32 = load<i32>(sizes + (<usize>p << 2)) < n ? -Infinity : load<f32>(scores + (<usize>p * <usize>n << 2));
  store<f32>(heapThresholds(heaps, nRows, n) + (<usize>p << 2), threshold);
  return threshold;
}

/**
 * One unit: query positions [unitStart, unitEnd) (unitStart a multiple of 4) against every
 * position t ≥ the query's own, over the quantized copy of `targets` (nRows rows of k
 * floats; copy layout, scales, residuals, norms, inverse norms and position → id as
 * quantizeRows writes them). `scratch` holds (unitEnd − unitStart rounded up to 4) × kq
 * i16s of query groups, STATE_WORDS words of state per query, then GROUP_LANES_BYTES.
 */
export function allPairsUnit(
  targets: usize, k: i32, kq: i32, nRows: i32, unitStart: i32, unitEnd: i32,
  quantized: usize, ids: usize, scales: usize, residuals: usize, norms: usize, invNorms: usize,
  n: i32, heaps: usize, scratch: usize,
): void {
  const nQueries = unitEnd - unitStart;
  const nGroups = (nQueries + 3) >> 2;
  const groups = scratch;
  const state = scratch + (<usize>nGroups * 4 * <usize>kq << 1);
  const epsilon = boundEpsilon(k);
  const blockTargets = quantizedBlockTargets(kq);

  // Each query's 16-bit row, copied from the pair layout into its group, and its state as
  // topKQuantized sets it (the same quantization: quantizeRows made both).
  for (let q = 0; q < nGroups * 4; q++) {
    const p = unitStart + q;
    const slot = querySlot(groups, q, kq);
    for (let i = 0; i < kq; i += 8) {
      v128.store(slot + (<usize>i << 3), p < unitEnd ? v128.load(targetSlot(quantized, p, kq) + (<usize>i << 2)) : i32x4.splat(0));
    }
    const st = state + <usize>q * (STATE_WORDS << 2);
    if (p >= unitEnd) { memory.fill(st, 0, STATE_WORDS << 2); continue; }
    const at = <usize>p << 2;
    store<f32>(st, load<f32>(invNorms + at), 4);
    storeQueryBounds(st, slot, kq, load<f32>(scales + at), load<f32>(residuals + at), load<f32>(norms + at), epsilon);
  }

  for (let blockStart = unitStart & ~1; blockStart < nRows; blockStart += blockTargets) {
    const blockEnd = min(nRows, blockStart + blockTargets);
    for (let g = 0; g < nGroups; g++) {
      const first = unitStart + (g << 2);
      if (first >= blockEnd) break;
      scoreGroup(targets, k, kq, nRows, first, min(4, unitEnd - first), max(blockStart, first), blockEnd,
        quantized, ids, scales, residuals, norms, invNorms, n, heaps, querySlot(groups, g << 2, kq), state + <usize>(g << 2) * (STATE_WORDS << 2),
        state + <usize>(nGroups << 2) * (STATE_WORDS << 2));
    }
  }
}

// One group of up to 4 query positions [first, first + lanes) against positions
// [from, blockEnd) (from ≥ first, even): pair (q, t) counts when t ≥ q.
function scoreGroup(
  targets: usize, k: i32, kq: i32, nRows: i32, first: i32, lanes: i32, from: i32, blockEnd: i32,
  quantized: usize, ids: usize, scales: usize, residuals: usize, norms: usize, invNorms: usize,
  n: i32, heaps: usize, group: usize, state: usize, groupLanes: usize,
): void {
  const pairBytes = <usize>kq << 2;
  storeGroupLanes(state, 0, lanes, groupLanes);
  const thresholdsAt = heapThresholds(heaps, nRows, n);
  // Lanes past the unit's end never count; on the diagonal, lane j counts for t ≥ first + j.
  const lanePositions = i32x4(first, first + 1, first + 2, first + 3);
  const live = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(lanes));
  let thresholds = f32x4(
    loadThreshold(thresholdsAt, first, lanes, 0), loadThreshold(thresholdsAt, first, lanes, 1),
    loadThreshold(thresholdsAt, first, lanes, 2), loadThreshold(thresholdsAt, first, lanes, 3));

  for (let c = from; c < blockEnd; c += 2) {
    const pair = c + 1 < blockEnd;
    const cB = pair ? c + 1 : c;
    const levelsA = pairLevels(group, targetSlot(quantized, c, kq), pairBytes), levelsB = secondLevels;
    const queryScales = v128.load(groupLanes), queryNormsHat = v128.load(groupLanes, 16);
    const queryErrors = v128.load(groupLanes, 32), cosineScales = v128.load(groupLanes, 48);
    // Upper bounds of the four cosines, as topKQuantized's (valid for either side of a pair:
    // it bounds |q·t − s_q s_t (q̃·t̃)|, which is symmetric, and the slack covers the order
    // of the two scalings).
    let upperA = f32x4.mul(f32x4.mul(upperBound(levelsA, queryScales, queryNormsHat, queryErrors, scales, residuals, norms, c), cosineScales),
      f32x4.splat(load<f32>(invNorms + (<usize>c << 2))));
    let upperB = f32x4.mul(f32x4.mul(upperBound(levelsB, queryScales, queryNormsHat, queryErrors, scales, residuals, norms, cB), cosineScales),
      f32x4.splat(load<f32>(invNorms + (<usize>cB << 2))));
    if (c < first + 4 || lanes < 4) {
      // NaN, not -inf: it fails every comparison, even with an empty heap's -inf threshold.
      upperA = v128.bitselect(upperA, f32x4.splat(NaN), v128.and(live, i32x4.le_s(lanePositions, i32x4.splat(c))));
      upperB = v128.bitselect(upperB, f32x4.splat(NaN), v128.and(live, i32x4.le_s(lanePositions, i32x4.splat(cB))));
    }
    // A pair counts when its bound reaches the query's n-th best or the target's.
    const thresholdA = load<f32>(thresholdsAt + (<usize>c << 2));
    if (v128.any_true(f32x4.ge(upperA, f32x4.min(thresholds, f32x4.splat(thresholdA))))) {
      thresholds = admitPair(upperA, c, thresholds, thresholdA, targets, k, nRows, first, lanes, ids, invNorms, cosineScales, n, heaps);
    }
    if (pair) {
      const thresholdB = load<f32>(thresholdsAt + (<usize>cB << 2));
      if (v128.any_true(f32x4.ge(upperB, f32x4.min(thresholds, f32x4.splat(thresholdB))))) {
        thresholds = admitPair(upperB, cB, thresholds, thresholdB, targets, k, nRows, first, lanes, ids, invNorms, cosineScales, n, heaps);
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function loadThreshold(thresholdsAt: usize, first: i32, lanes: i32, j: i32): f32 {
  return j < lanes ? load<f32>(thresholdsAt + (<usize>(first + j) << 2)) : Infinity;
}

// The slow path for position c: each lane whose bound reaches its own threshold or c's
// scores the pair exactly and offers it to its heap, c's heap, or both. Returns the lanes'
// thresholds (c's own lives in the thresholds array).
function admitPair(
  upper: v128, c: i32, thresholds: v128, thresholdC: f32, targets: usize, k: i32, nRows: i32, first: i32, lanes: i32,
  ids: usize, invNorms: usize, cosineScales: v128, n: i32, heaps: usize,
): v128 {
  const rowBytes = <usize>k << 2;
  const t = load<i32>(ids + (<usize>c << 2));
  const target = targets + <usize>t * rowBytes;
  const invT = load<f32>(invNorms + (<usize>c << 2));
  for (let j = 0; j < lanes; j++) {
    const bound = laneOf(upper, j);
    const threshold = laneOf(thresholds, j);
    if (!(bound >= threshold) && !(bound >= thresholdC)) continue;
    const p = first + j;
    const q = load<i32>(ids + (<usize>p << 2));
    const invQ = laneOf(cosineScales, j);
    const product = pairScore(targets + <usize>q * rowBytes, target, k);
    const forQuery = product * invQ * invT;
    if (forQuery >= threshold) thresholds = withLane(thresholds, j, offerTo(heaps, nRows, n, p, forQuery, t));
    if (p == c) continue; // a row and itself: one entry
    const forTarget = product * invT * invQ;
    if (forTarget >= thresholdC) {
      thresholdC = offerTo(heaps, nRows, n, c, forTarget, q);
      // c may be one of this group's lanes (the diagonal): keep its lane current.
      if (c - first < lanes) thresholds = withLane(thresholds, c - first, thresholdC);
    }
  }
  return thresholds;
}

/** Offers every entry of heaps `from` to heaps `into` (same nRows, n): the union's top n. */
export function mergeAllPairsHeaps(into: usize, from: usize, nRows: i32, n: i32): void {
  const fromSizes = heapSizes(from, nRows, n), fromScores = heapScores(from, nRows, n);
  for (let p = 0; p < nRows; p++) {
    const size = load<i32>(fromSizes + (<usize>p << 2));
    const row = <usize>p * <usize>n << 2;
    for (let e = 0; e < size; e++) {
      offerTo(into, nRows, n, p, load<f32>(fromScores + row + (<usize>e << 2)), load<i32>(from + row + (<usize>e << 2)));
    }
  }
}

/** Sorts every heap best first (unused slots: id -1, score -inf): rows by copy position. */
export function finishAllPairs(heaps: usize, nRows: i32, n: i32): void {
  const sizes = heapSizes(heaps, nRows, n), scores = heapScores(heaps, nRows, n);
  for (let p = 0; p < nRows; p++) {
    const row = <usize>p * <usize>n << 2;
    finishRow(heaps + row, scores + row, load<i32>(sizes + (<usize>p << 2)), n);
  }
}
