// Exact top-n in two passes: 16-bit integer factors pick the candidates, float32 decides.
//
// Every row is stored as t = s_t·t̃ + r_t, with t̃ integers in [-B, B], s_t = max|t_i|/B and
// the residual r_t kept only as its norm R_t. For a query q = s_q·q̃ + r_q,
//   q·t = s_q s_t (q̃·t̃) + q̂·r_t + r_q·t,   so   |q·t − s_q s_t (q̃·t̃)| ≤ ‖q̂‖R_t + ‖r_q‖‖t‖,
// and q̃·t̃ is computed exactly by i32x4.dot_i16x8_s, eight products an instruction (twice
// the float rate, half the bytes). A target whose upper bound (plus float rounding slack)
// is below a query's n-th best exact score can never enter that query's top n; the rest
// are scored exactly by pairScore, which gives the same bits as topKBlocked, so answers
// never depend on which pass found them.
//
// Targets are held in norm order (largest first): in inner-product mode a query also stops
// once its n-th best beats ‖q‖‖t‖ for every target left (Cauchy–Schwarz).
//
// Before its 16-bit products, a pair of targets must pass a cheaper bound along one axis
// e (a unit vector; the host picks the mean target direction, which for ALS factors is
// the top principal axis of TᵀT, ~70% of their energy): with t = t_e·e + t⊥,
//   q·t = q_e t_e + q⊥·t⊥ ≤ q_e t_e + ‖q⊥‖‖t⊥‖,
// two products per query and target. On the bench's 64-factor model it rules out ~39% of
// the 4 × 2 tiles the norm order leaves (bench/recommend-bounds.mjs). Inner products only.

import { dot, laneSums } from "./vector";
import {
  FILTERED, STATE_WORDS, finishRow, flagExclusions, groupThresholds, laneOf, offer, queryRow, stateLanes, thresholdOf, withLane,
} from "./topk";

/** Largest |t̃_i| for rows of kq (a multiple of 8) floats: each i32 lane sums kq/4 products. */
export function quantizationBound(kq: i32): i32 {
  return min(32767, <i32>Math.floor(Math.sqrt(2147483647.0 / <f64>(kq >> 2))));
}

// The quantization of one row of k floats into kq i16s (zero-padded), written in chunks of
// 8 (16 bytes) `chunkStride` bytes apart; returns its scale, stores ‖r‖ (rounded up) at
// residualOut.
// @ts-ignore: decorator
@inline
function quantizeRow(row: usize, k: i32, kq: i32, bound: i32, out: usize, chunkStride: usize, residualOut: usize): f32 {
  let largest: f32 = 0;
  for (let i = 0; i < k; i++) largest = max(largest, Mathf.abs(load<f32>(row + (<usize>i << 2))));
  const scale: f32 = largest > 0 ? largest / <f32>bound : 0;
  let residual: f64 = 0;
  for (let i = 0; i < kq; i++) {
    let level: i32 = 0;
    if (i < k && scale > 0) {
      const x = load<f32>(row + (<usize>i << 2));
      level = <i32>nearest<f32>(x / scale);
      level = min(bound, max(-bound, level));
      const error = <f64>x - <f64>scale * <f64>level;
      residual += error * error;
    }
    store<i16>(out + <usize>(i >> 3) * chunkStride + (<usize>(i & 7) << 1), <i16>level);
  }
  store<f32>(residualOut, <f32>(Math.sqrt(residual) * (1 + 1e-6)));
  return scale;
}

// Float rounding in the exact score, the bound and the scaling: a few ulps per product.
// @ts-ignore: decorator
@inline
export function boundEpsilon(k: i32): f32 {
  return <f32>(k + 16) * 1.2e-7;
}

// Targets per block: 64 KB of 16-bit rows, which stay in L2 while every query group passes.
// @ts-ignore: decorator
@inline
export function quantizedBlockTargets(kq: i32): i32 {
  return max(8, <i32>(<usize>65536 / (<usize>kq << 1)) & ~1);
}

/**
 * A query's terms of the bound in its state (STATE_WORDS words at st): its scale s_q (byte
 * 16), ‖q̂‖ = s_q‖q̃‖ from its 16-bit row at `slot` (query layout; byte 20), and
 * ‖r_q‖ + ε‖q‖ with slack for rounding (byte 24).
 */
// @ts-ignore: decorator
@inline
export function storeQueryBounds(st: usize, slot: usize, kq: i32, scale: f32, residual: f32, norm: f32, epsilon: f32): void {
  let levels: f64 = 0;
  for (let i = 0; i < kq; i++) { const l = <f64>load<i16>(slot + <usize>(i >> 3) * 64 + (<usize>(i & 7) << 1)); levels += l * l; }
  store<f32>(st, scale, 16);
  store<f32>(st, <f32>(<f64>scale * Math.sqrt(levels) * (1 + 1e-6)), 20);
  store<f32>(st, (residual + epsilon * norm) * (1 + epsilon), 24);
}

/** Bytes of the group's lane vectors (storeGroupLanes). */
export const GROUP_LANES_BYTES: usize = 96;

/** GROUP_LANES_BYTES, for the host: the quantized kernels' scratch ends with one group's lanes. */
export function groupLanesBytes(): i32 {
  return <i32>GROUP_LANES_BYTES;
}

/**
 * The bound's per-query terms of a group's four lanes as vectors at `out` (GROUP_LANES_BYTES):
 * s_q (byte 0), ‖q̂‖ (16), ‖r_q‖ + ε‖q‖ (32), the cosine scale (48), q_e (64) and ‖q⊥‖ (80);
 * 0 past `end`. The scoring loops load them from there: built from four scalars in the
 * loop, V8 kept the scalars and rebuilt each vector (four instructions) for every target pair.
 */
// @ts-ignore: decorator
@inline
export function storeGroupLanes(state: usize, first: i32, end: i32, out: usize): void {
  v128.store(out, stateLanes(state, first, end, 16));
  v128.store(out, stateLanes(state, first, end, 20), 16);
  v128.store(out, stateLanes(state, first, end, 24), 32);
  v128.store(out, stateLanes(state, first, end, 4), 48);
  v128.store(out, stateLanes(state, first, end, 32), 64);
  v128.store(out, stateLanes(state, first, end, 36), 80);
}

// Layouts, so the scoring loop walks two pointers with constant offsets (V8 keeps few
// general registers free for wasm; per-row pointers made it recompute addresses inside
// the loop): targets in pairs, chunk i of the pair's two rows side by side (32 bytes per
// chunk); queries in groups of four, chunk i of the four rows side by side (64 bytes).

/**
 * Quantized copy of the rows of m (nRows × k floats) in the given order, positions
 * [first, end) of it (the host calls a range at a time): position c of the copy is m's row
 * order[c]. Writes kq i16s per position to `quantized` (pair layout above; room for nRows
 * rounded up to even), and ids[c], scales[c], residuals[c] (‖r‖), norms[c] (‖t‖, as
 * rowNorms), invNorms[c] (as inverseNorms) and at axial + 8c the row's component along
 * `axis` (k floats; all zero for none) and the norm of the rest, rounded up (room for
 * nRows rounded up to even).
 */
export function quantizeRows(
  m: usize, nRows: i32, first: i32, end: i32, k: i32, kq: i32, order: usize,
  quantized: usize, ids: usize, scales: usize, residuals: usize, norms: usize, invNorms: usize, axis: usize, axial: usize,
): void {
  const bound = quantizationBound(kq);
  const axisScale = axisInverseNorm(axis, k);
  for (let c = first; c < end; c++) {
    const id = load<i32>(order + (<usize>c << 2));
    const row = m + <usize>id * (<usize>k << 2);
    const at = <usize>c << 2;
    store<i32>(ids + at, id);
    store<f32>(scales + at, quantizeRow(row, k, kq, bound, targetSlot(quantized, c, kq), 32, residuals + at));
    const norm = Mathf.sqrt(dot(row, row, k));
    store<f32>(norms + at, norm);
    store<f32>(invNorms + at, norm > 0 ? 1 / norm : 0);
    storeAxial(row, axis, axisScale, k, axial + (<usize>c << 3));
  }
  // An odd count leaves the last pair's second row: zeros, never admitted.
  if (end == nRows && nRows & 1) {
    for (let i = 0; i < kq; i += 8) v128.store(targetSlot(quantized, nRows, kq) + (<usize>i << 2), i32x4.splat(0));
    store<u64>(axial + (<usize>nRows << 3), 0);
  }
}

/** Adds rows [first, end) of m (k floats each) to sums (k f64s): the host's axis is their direction. */
export function sumRows(m: usize, first: i32, end: i32, k: i32, sums: usize): void {
  const vectorFloats = k & ~3;
  for (let r = first; r < end; r++) {
    const row = m + <usize>r * (<usize>k << 2);
    for (let i = 0; i < vectorFloats; i += 4) {
      const x = v128.load(row + (<usize>i << 2)), at = sums + (<usize>i << 3);
      v128.store(at, f64x2.add(v128.load(at), f64x2.promote_low_f32x4(x)));
      v128.store(at, f64x2.add(v128.load(at, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1))), 16);
    }
    for (let i = vectorFloats; i < k; i++) {
      const at = sums + (<usize>i << 3);
      store<f64>(at, load<f64>(at) + <f64>load<f32>(row + (<usize>i << 2)));
    }
  }
}

// 1/‖axis‖ in float64, or 0 for no axis (all zero).
// @ts-ignore: decorator
@inline
function axisInverseNorm(axis: usize, k: i32): f64 {
  let sum: f64 = 0;
  for (let i = 0; i < k; i++) { const a = <f64>load<f32>(axis + (<usize>i << 2)); sum += a * a; }
  return sum > 0 ? 1 / Math.sqrt(sum) : 0;
}

// A row's component along the axis ê = axis/‖axis‖ (f32 at out), and the norm of the rest
// rounded up (f32 at out + 4) as √(‖t‖² − t_e²) in float64: its error, below 1e-6‖t‖
// for any k here, is far inside the bound's slack ε‖q‖‖t‖. With no axis, 0 and ‖t‖.
// @ts-ignore: decorator
@inline
function storeAxial(row: usize, axis: usize, axisScale: f64, k: i32, out: usize): void {
  const vectorFloats = k & ~3;
  let alongs = f64x2.splat(0), squareSums = f64x2.splat(0);
  for (let i = 0; i < vectorFloats; i += 4) {
    const x = v128.load(row + (<usize>i << 2)), e = v128.load(axis + (<usize>i << 2));
    const xLow = f64x2.promote_low_f32x4(x), xHigh = f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1));
    alongs = f64x2.add(alongs, f64x2.add(f64x2.mul(xLow, f64x2.promote_low_f32x4(e)), f64x2.mul(xHigh, f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 0, 1)))));
    squareSums = f64x2.add(squareSums, f64x2.add(f64x2.mul(xLow, xLow), f64x2.mul(xHigh, xHigh)));
  }
  let along = f64x2.extract_lane(alongs, 0) + f64x2.extract_lane(alongs, 1);
  let squares = f64x2.extract_lane(squareSums, 0) + f64x2.extract_lane(squareSums, 1);
  for (let i = vectorFloats; i < k; i++) {
    const x = <f64>load<f32>(row + (<usize>i << 2));
    along += x * <f64>load<f32>(axis + (<usize>i << 2));
    squares += x * x;
  }
  along *= axisScale;
  store<f32>(out, <f32>along);
  store<f32>(out, <f32>(Math.sqrt(max<f64>(0, squares - along * along)) * (1 + 1e-6)), 4);
}

// @ts-ignore: decorator
@inline
export function targetSlot(quantized: usize, c: i32, kq: i32): usize {
  return quantized + <usize>(c >> 1) * (<usize>kq << 2) + (<usize>(c & 1) << 4);
}

// @ts-ignore: decorator
@inline
export function querySlot(queryQuantized: usize, q: i32, kq: i32): usize {
  return queryQuantized + <usize>(q >> 2) * (<usize>kq << 3) + (<usize>(q & 3) << 4);
}

/** q·t as topKBlocked computes it: one f32x4 accumulator over k/4 chunks, lanes summed pairwise, then the tail. */
// @ts-ignore: decorator
@inline
export function pairScore(q: usize, t: usize, k: i32): f32 {
  let acc = f32x4.splat(0);
  const vectorFloats = k & ~3;
  for (let i = 0; i < vectorFloats; i += 4) {
    const o = <usize>i << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(q + o), v128.load(t + o)));
  }
  let sum = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (let i = vectorFloats; i < k; i++) sum += load<f32>(q + (<usize>i << 2)) * load<f32>(t + (<usize>i << 2));
  return sum;
}

/**
 * topKBlocked's contract (see topk.ts) over a quantized copy made by quantizeRows: targets
 * are all nTargets rows of `targets`, scanned in the copy's order; cosine mode when
 * `cosine` is set (score = q·t/(‖q‖‖t‖)); pruning by norm in inner-product mode.
 * `axis` and `axial` as given to quantizeRows. `queryQuantized` is scratch for nQueries
 * rounded up to 4 × kq i16s, then GROUP_LANES_BYTES.
 */
export function topKQuantized(
  queries: usize, queryIds: usize, nQueries: i32, targets: usize, k: i32, kq: i32, nTargets: i32,
  quantized: usize, ids: usize, scales: usize, residuals: usize, norms: usize, invNorms: usize, axis: usize, axial: usize, cosine: bool,
  mask: usize, excludeIndptr: usize, excludeIndices: usize, excludeByPosition: bool,
  n: i32, outIds: usize, outScores: usize, state: usize, queryQuantized: usize,
): void {
  const rowBytes = <usize>k << 2;
  const bound = quantizationBound(kq);
  const nGroups = (nQueries + 3) >> 2;
  const epsilon = boundEpsilon(k);
  const slack: f32 = 1 + epsilon;
  const blockTargets = quantizedBlockTargets(kq);
  const axisScale = axisInverseNorm(axis, k);

  for (let q = 0; q < nQueries; q++) {
    const row = queryIds ? load<i32>(queryIds + (<usize>q << 2)) : q;
    const query = queries + <usize>row * rowBytes;
    const norm = Mathf.sqrt(dot(query, query, k));
    const st = state + <usize>q * (STATE_WORDS << 2);
    const quantizedQuery = querySlot(queryQuantized, q, kq);
    const scale = quantizeRow(query, k, kq, bound, quantizedQuery, 64, st + 24);
    store<i32>(st, 0);
    store<f32>(st, cosine ? (norm > 0 ? 1 / norm : 0) : 1, 4);
    store<f32>(st, norm, 8);
    store<i32>(st, 0, 12);
    storeQueryBounds(st, quantizedQuery, kq, scale, load<f32>(st, 24), norm, epsilon);
    storeAxial(query, axis, axisScale, k, st + 32);
    if (excludeIndptr) flagExclusions(mask, excludeIndptr, excludeIndices, excludeByPosition ? q : row, <u32>1 << q, true);
  }

  // Padding lanes of the last group: zeros (their threshold admits nothing anyway).
  for (let q = nQueries; q & 3; q++) for (let i = 0; i < kq; i += 8) v128.store(querySlot(queryQuantized, q, kq) + (<usize>i << 3), i32x4.splat(0));

  for (let blockStart = 0; blockStart < nTargets; blockStart += blockTargets) {
    const blockEnd = min(nTargets, blockStart + blockTargets);
    let active = 0;
    for (let g = 0; g < nGroups; g++) {
      const first = g << 2;
      const lanes = min(4, nQueries - first);
      if (!cosine) pruneGroup(state, first, lanes, n, outScores, load<f32>(norms + (<usize>blockStart << 2)) * slack);
      let groupActive = false;
      for (let j = 0; j < lanes; j++) if (!load<i32>(state + <usize>(first + j) * (STATE_WORDS << 2), 12)) groupActive = true;
      if (!groupActive) continue;
      active++;
      scoreQuantizedBlock(queries, queryIds, first, lanes, targets, k, kq, blockStart, blockEnd,
        quantized, ids, scales, residuals, norms, invNorms, axial, cosine, mask, n, outIds, outScores, state, queryQuantized,
        queryQuantized + (<usize>nGroups * <usize>kq << 3));
    }
    if (active == 0) break;
  }

  for (let q = 0; q < nQueries; q++) {
    finishRow(outIds + <usize>q * (<usize>n << 2), outScores + <usize>q * (<usize>n << 2), load<i32>(state + <usize>q * (STATE_WORDS << 2)), n);
    if (excludeIndptr) {
      const row = queryIds ? load<i32>(queryIds + (<usize>q << 2)) : q;
      flagExclusions(mask, excludeIndptr, excludeIndices, excludeByPosition ? q : row, <u32>1 << q, false);
    }
  }
}

// Marks done each query of the group whose heap is full and whose n-th best beats
// ‖q‖ × (bound on every remaining target's norm).
// @ts-ignore: decorator
@inline
function pruneGroup(state: usize, first: i32, lanes: i32, n: i32, outScores: usize, remainingNormBound: f32): void {
  for (let j = 0; j < lanes; j++) {
    const st = state + <usize>(first + j) * (STATE_WORDS << 2);
    if (load<i32>(st, 12) || load<i32>(st) < n) continue;
    const nthBest = load<f32>(outScores + <usize>(first + j) * (<usize>n << 2));
    if (nthBest > load<f32>(st, 8) * remainingNormBound) store<i32>(st, 1, 12);
  }
}

// One group of up to 4 queries against copy positions [blockStart, blockEnd).
function scoreQuantizedBlock(
  queries: usize, queryIds: usize, first: i32, lanes: i32, targets: usize, k: i32, kq: i32, blockStart: i32, blockEnd: i32,
  quantized: usize, ids: usize, scales: usize, residuals: usize, norms: usize, invNorms: usize, axial: usize, cosine: bool,
  mask: usize, n: i32, outIds: usize, outScores: usize, state: usize, queryQuantized: usize, groupLanes: usize,
): void {
  const rowBytes = <usize>k << 2, pairBytes = <usize>kq << 2;
  const end = first + lanes;
  const group = querySlot(queryQuantized, first, kq);
  storeGroupLanes(state, first, end, groupLanes);
  let thresholds = groupThresholds(state, first, end, n, outScores);

  // c stays even (blocks start at multiples of blockTargets), so each pair's axial terms
  // are one aligned vector: t_e and ‖t⊥‖ of its first row, then of its second.
  for (let c = blockStart; c < blockEnd; c += 2) {
    const pair = c + 1 < blockEnd;
    const cB = pair ? c + 1 : c;
    if (!cosine) {
      // The axis bound q_e t_e + ‖q⊥‖‖t⊥‖ + (‖r_q‖ + ε‖q‖)‖t‖ (the last term: slack for the
      // float32 score's rounding, as upperBound's); no lane can admit either row: skip.
      // Not for cosines: there it passed most pairs and cost more than it saved.
      const terms = v128.load(axial + (<usize>c << 3));
      const along = v128.load(groupLanes, 64), across = v128.load(groupLanes, 80), slackLanes = v128.load(groupLanes, 32);
      const axisA = f32x4.add(f32x4.add(f32x4.mul(along, v128.shuffle<f32>(terms, terms, 0, 0, 0, 0)), f32x4.mul(across, v128.shuffle<f32>(terms, terms, 1, 1, 1, 1))),
        f32x4.mul(slackLanes, f32x4.splat(load<f32>(norms + (<usize>c << 2)))));
      const axisB = pair ? f32x4.add(f32x4.add(f32x4.mul(along, v128.shuffle<f32>(terms, terms, 2, 2, 2, 2)), f32x4.mul(across, v128.shuffle<f32>(terms, terms, 3, 3, 3, 3))),
        f32x4.mul(slackLanes, f32x4.splat(load<f32>(norms + (<usize>cB << 2))))) : axisA;
      if (!v128.any_true(v128.or(f32x4.ge(axisA, thresholds), f32x4.ge(axisB, thresholds)))) continue;
    }
    const levelsA = pairLevels(group, targetSlot(quantized, c, kq), pairBytes), levelsB = secondLevels;
    const queryScales = v128.load(groupLanes), queryNormsHat = v128.load(groupLanes, 16);
    const queryErrors = v128.load(groupLanes, 32), cosineScales = v128.load(groupLanes, 48);
    // Upper bounds of q·t for the four queries: s_q s_t (q̃·t̃) + ‖q̂‖R_t + (‖r_q‖ + ε‖q‖)‖t‖.
    let upperA = upperBound(levelsA, queryScales, queryNormsHat, queryErrors, scales, residuals, norms, c);
    let upperB = upperBound(levelsB, queryScales, queryNormsHat, queryErrors, scales, residuals, norms, cB);
    // Cosine: the slack in the bound is relative to ‖q‖‖t‖, so it survives this scaling.
    if (cosine) {
      upperA = f32x4.mul(f32x4.mul(upperA, cosineScales), f32x4.splat(load<f32>(invNorms + (<usize>c << 2))));
      upperB = f32x4.mul(f32x4.mul(upperB, cosineScales), f32x4.splat(load<f32>(invNorms + (<usize>cB << 2))));
    }
    if (v128.any_true(f32x4.ge(upperA, thresholds))) {
      thresholds = admitExact(upperA, c, thresholds, queries, queryIds, first, lanes, targets, k, rowBytes, ids, invNorms, cosine, cosineScales, mask, n, outIds, outScores, state);
    }
    if (pair && v128.any_true(f32x4.ge(upperB, thresholds))) {
      thresholds = admitExact(upperB, cB, thresholds, queries, queryIds, first, lanes, targets, k, rowBytes, ids, invNorms, cosine, cosineScales, mask, n, outIds, outScores, state);
    }
  }
}

// pairLevels' sums for the pair's second row. A wasm global, not memory: each thread's
// instance has its own.
export let secondLevels: v128 = i32x4.splat(0);

/**
 * q̃·t̃ for the four queries of a group (query layout) and the two rows of a target pair
 * (pair layout at `pair`, pairBytes long), as f32 lanes: returns the first row's, leaves
 * the second's in secondLevels. Eight products an instruction (i32x4.dot_i16x8_s).
 */
// @ts-ignore: decorator
@inline
export function pairLevels(group: usize, pair: usize, pairBytes: usize): v128 {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  let b0 = i32x4.splat(0), b1 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
  let x = group;
  for (let t = pair, pairEnd = pair + pairBytes; t < pairEnd; t += 32, x += 64) {
    const ta = v128.load(t), tb = v128.load(t, 16);
    const q0 = v128.load(x), q1 = v128.load(x, 16), q2 = v128.load(x, 32), q3 = v128.load(x, 48);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(q0, ta)); b0 = i32x4.add(b0, i32x4.dot_i16x8_s(q0, tb));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(q1, ta)); b1 = i32x4.add(b1, i32x4.dot_i16x8_s(q1, tb));
    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(q2, ta)); b2 = i32x4.add(b2, i32x4.dot_i16x8_s(q2, tb));
    a3 = i32x4.add(a3, i32x4.dot_i16x8_s(q3, ta)); b3 = i32x4.add(b3, i32x4.dot_i16x8_s(q3, tb));
  }
  secondLevels = laneSums(f32x4.convert_i32x4_s(b0), f32x4.convert_i32x4_s(b1), f32x4.convert_i32x4_s(b2), f32x4.convert_i32x4_s(b3));
  return laneSums(f32x4.convert_i32x4_s(a0), f32x4.convert_i32x4_s(a1), f32x4.convert_i32x4_s(a2), f32x4.convert_i32x4_s(a3));
}

// @ts-ignore: decorator
@inline
export function upperBound(levels: v128, queryScales: v128, queryNormsHat: v128, queryErrors: v128, scales: usize, residuals: usize, norms: usize, c: i32): v128 {
  const at = <usize>c << 2;
  const estimate = f32x4.mul(levels, f32x4.mul(queryScales, f32x4.splat(load<f32>(scales + at))));
  const error = f32x4.add(f32x4.mul(queryNormsHat, f32x4.splat(load<f32>(residuals + at))), f32x4.mul(queryErrors, f32x4.splat(load<f32>(norms + at))));
  return f32x4.add(estimate, error);
}

// The slow path: copy position c may enter some lane's top n. Each such lane scores it
// exactly and offers it to its heap; returns the updated thresholds.
function admitExact(
  upper: v128, c: i32, thresholds: v128, queries: usize, queryIds: usize, first: i32, lanes: i32,
  targets: usize, k: i32, rowBytes: usize, ids: usize, invNorms: usize, cosine: bool, cosineScales: v128,
  mask: usize, n: i32, outIds: usize, outScores: usize, state: usize,
): v128 {
  const t = load<i32>(ids + (<usize>c << 2));
  const flags = load<u32>(mask + (<usize>t << 2));
  const target = targets + <usize>t * rowBytes;
  for (let j = 0; j < lanes; j++) {
    const q = first + j;
    const threshold = laneOf(thresholds, j);
    if (!(laneOf(upper, j) >= threshold)) continue;
    if (flags & (FILTERED | (<u32>1 << q))) continue;
    let score = pairScore(queryRow(queries, queryIds, q, rowBytes), target, k);
    if (cosine) score = score * laneOf(cosineScales, j) * load<f32>(invNorms + (<usize>c << 2));
    if (!(score >= threshold)) continue;
    if (!offer(state, q, score, t, n, outIds, outScores)) continue;
    thresholds = withLane(thresholds, j, thresholdOf(state, q, q + 1, n, outScores));
  }
  return thresholds;
}
