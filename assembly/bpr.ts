// Bayesian Personalized Ranking (Rendle et al. 2009) trained by stochastic gradient
// ascent, as implicit's CPU BayesianPersonalizedRanking (implicit/cpu/bpr.pyx).
//
// Rows are k+1 floats: k latent factors and a bias column. A user's bias column is
// fixed at 1 and an item's holds its bias b_i, so x_u·y_i = Σ_f x_uf·y_if + b_i.
// An epoch runs on the rows split (bprSplitRows): k floats a row, the item biases in an
// array of their own, the users' constant 1 dropped. A row of 64 factors is then 4 cache
// lines instead of 5, and a sample misses 3 lines fewer; bprJoinRows restores the k+1
// layout after the epoch.
//
// One sample: a liked pair (u, i), uniform over the nonzeros of the users × items
// matrix (or, in user-block order, over the nonzeros of the epoch's current block: see
// likedIndex), and a negative item j, uniform over items ('uniform') or the item of another
// uniformly drawn nonzero, i.e. proportional to the items' counts ('popularity', what
// implicit's CPU code does). With verify, a j that u likes is skipped (counted, no update).
//
//   x_uij = x_u·(y_i − y_j)                           (k+1 terms: the bias is included)
//   z     = 1/(1 + exp(x_uij)) = σ(−x_uij)            (∂ ln σ(x_uij)/∂x_uij)
//   correct when z < ½, i.e. x_uij > 0 (the training AUC's numerator)
//
// SGD (ascent on ln σ(x_uij) − reg/2·‖θ‖², all from the values before the sample), for f < k:
//   x_uf += lr·( z·(y_if − y_jf) − reg·x_uf)
//   y_if += lr·( z·x_uf          − reg·y_if)
//   y_jf += lr·(−z·x_uf          − reg·y_jf)
// and for the bias (x_u's bias column is the constant 1 and is never updated):
//   b_i  += lr·( z − reg·b_i),   b_j += lr·(−z − reg·b_j)
// Adagrad: each parameter θ with ascent direction d (the bracket above) keeps
//   G_θ += d²,  θ += lr·d/√(G_θ + 1e-8)
// Every operation is f32 in implicit's order; z is computed in f64 (as C's exp) and
// rounded to f32. y_j's update reads y_j after y_i's, so i = j (possible without
// verify) gives implicit's sequential result.
//
// Random numbers are counter-based: sample t of a fit (t counts on across epochs) takes
// its liked nonzero from the low and its negative from the high 32 bits of
// SplitMix64's t-th output for the seed (a rejected draw continues with that output
// rehashed). So a sample is a pure function of (seed, t): a run does not depend on
// how the host splits the samples across calls, and the loop can look ahead.
// Integers in [0, n) by Lemire's multiply-shift with rejection (exactly uniform).
//
// Speed: in random order a sample touches memory that is almost never in cache (rowOf[e],
// indices[e], indptr[u], u's item list, x_u, y_i, y_j; in user-block order only y_i and
// y_j remain), and each address comes from the load before.
// Wasm has no prefetch, so the loop loads and discards ("touches") the memory of the
// samples one, two and three batches ahead before it updates a batch: the cache misses
// of many samples are in flight together instead of one after another. Touching never
// changes a value, so the model is the same whatever the batch size.

import { fillUniform, splitmix64 } from "./random";

const GOLDEN: u64 = 0x9e3779b97f4a7c15;

/** The sampler's key for a seed: a stream apart from the initial factors' counters. */
// @ts-ignore: decorator
@inline
function samplerKey(seed: u64): u64 {
  return splitmix64(seed ^ 0x42505253414d504c); // "BPRSAMPL"
}

/** Lemire: bits·n / 2³² when its low half is not in the biased zone, else a retry from the rehashed word. */
// @ts-ignore: decorator
@inline
function bounded(bits: u32, n: u32, word: u64, shift: u32): u32 {
  let m = <u64>bits * <u64>n;
  if (<u32>m < n) {
    const threshold = (<u32>0 - n) % n; // 2³² mod n
    while (<u32>m < threshold) {
      word = splitmix64(word);
      m = <u64>(<u32>(word >> shift)) * <u64>n;
    }
  }
  return <u32>(m >> 32);
}

// User-block order. The nonzeros, in CSR order (so by user), are cut into blocks of
// BLOCK_NONZEROS and a last, shorter one. An epoch visits the full blocks in a random
// order (bprBlockOrder), then the short one, and draws from each block as many samples as
// it has nonzeros, uniformly within it. Each nonzero is then as likely a sample as in
// random order (1/nnz a draw), but a block's ~80 users, their item lists and their row
// ids stay in cache while its samples run: only the items are still misses.
const BLOCK_SHIFT: u32 = 12;

/**
 * The liked nonzero of sample s of an epoch (s counts from 0 each epoch; it may run past
 * the epoch's end for the look-ahead touches): uniform over [0, nnz) in random order
 * (`blocked` false), else uniform over block order[s >> BLOCK_SHIFT] (nFull full blocks,
 * then the short block).
 */
// @ts-ignore: decorator
@inline
function likedIndex(word: u64, s: u64, nnz: u32, blocked: bool, order: usize, nFull: u32): u32 {
  if (!blocked) return bounded(<u32>word, nnz, word, 0);
  const tailStart = nFull << BLOCK_SHIFT;
  let position = <u32>min<u64>(s >> BLOCK_SHIFT, <u64>nFull);
  if (position == nFull && tailStart == nnz) position = nFull - 1; // no short block: only past the end
  if (position == nFull) return tailStart + bounded(<u32>word, nnz - tailStart, word, 0);
  return (load<u32>(order + (<usize>position << 2)) << BLOCK_SHIFT) + (<u32>word >> (32 - BLOCK_SHIFT));
}

/**
 * Sample t's draws (s: its place in its epoch): the liked nonzero e (low 32 bits) and the
 * negative (high 32 bits): an item id for uniform sampling, a nonzero index (whose item is
 * the negative) for popularity.
 */
// @ts-ignore: decorator
@inline
function draw(key: u64, t: u64, s: u64, nnz: u32, nNegative: u32, blocked: bool, order: usize, nFull: u32): u64 {
  const word = splitmix64(key + t * GOLDEN);
  const e = likedIndex(word, s, nnz, blocked, order, nFull);
  const n = bounded(<u32>(word >> 32), nNegative, word, 32);
  return <u64>e | (<u64>n << 32);
}

/**
 * The order of the nFull full blocks in epoch `epoch` (from 0) of a fit with this seed:
 * a uniform permutation (Fisher–Yates, draws from the epoch's own SplitMix64 stream).
 */
export function bprBlockOrder(seed: u64, epoch: u64, nFull: i32, out: usize): void {
  const key = splitmix64(samplerKey(seed) ^ 0x424c4f434b4f5244) + epoch * GOLDEN; // "BLOCKORD"
  for (let b = 0; b < nFull; b++) store<i32>(out + (<usize>b << 2), b);
  for (let b = nFull - 1; b > 0; b--) {
    const word = splitmix64(key ^ (<u64>b * 0xd1b54a32d192ed03));
    const other = bounded(<u32>word, <u32>(b + 1), word, 0);
    const at = out + (<usize>b << 2), to = out + (<usize>other << 2);
    const kept = load<i32>(at);
    store<i32>(at, load<i32>(to));
    store<i32>(to, kept);
  }
}

// @ts-ignore: decorator
@inline
function negativeItem(indices: usize, pair: u64, popularity: bool): i32 {
  const n = <i32>(pair >> 32);
  return popularity ? load<i32>(indices + (<usize>n << 2)) : n;
}

// Samples whose memory the loop touches together.
const BATCH: i32 = 4;

// @ts-ignore: decorator
@inline
function touchRow(row: usize, rowBytes: usize): i32 {
  let sum = 0;
  for (let o: usize = 0; o < rowBytes; o += 64) sum += load<i32>(row + o);
  return sum + load<i32>(row + rowBytes - 4);
}

/** out[e] = the row of nonzero e (the COO row ids of a CSR matrix). */
export function bprRowIds(indptr: usize, nRows: i32, out: usize): void {
  for (let r = 0; r < nRows; r++) {
    const end = load<i32>(indptr + ((<usize>r + 1) << 2));
    for (let e = load<i32>(indptr + (<usize>r << 2)); e < end; e++) store<i32>(out + (<usize>e << 2), r);
  }
}

/**
 * implicit's initial factors: every entry (U[0,1) − ½)/k (users from counter nItems·(k+1)
 * on), rows of items and users without any interaction zeroed, the users' bias column 1.
 * `counts` is nItems i32 of scratch.
 */
export function bprInitialize(
  x: usize, nUsers: i32, y: usize, nItems: i32, k: i32, seed: u64,
  indptr: usize, indices: usize, nnz: i32, counts: usize,
): void {
  const width = k + 1;
  const rowBytes = <usize>width << 2;
  const itemCount = nItems * width, userCount = nUsers * width;
  fillUniform(y, itemCount, seed, 0, 1);
  fillUniform(x, userCount, seed, <u64>itemCount, 1);
  const kf = <f32>k;
  for (let e = 0; e < itemCount; e++) { const p = y + (<usize>e << 2); store<f32>(p, (load<f32>(p) - 0.5) / kf); }
  for (let e = 0; e < userCount; e++) { const p = x + (<usize>e << 2); store<f32>(p, (load<f32>(p) - 0.5) / kf); }
  memory.fill(counts, 0, <usize>nItems << 2);
  for (let e = 0; e < nnz; e++) {
    const c = counts + (<usize>load<i32>(indices + (<usize>e << 2)) << 2);
    store<i32>(c, load<i32>(c) + 1);
  }
  for (let i = 0; i < nItems; i++) {
    if (load<i32>(counts + (<usize>i << 2)) == 0) memory.fill(y + <usize>i * rowBytes, 0, rowBytes);
  }
  for (let u = 0; u < nUsers; u++) {
    const row = x + <usize>u * rowBytes;
    if (load<i32>(indptr + ((<usize>u + 1) << 2)) == load<i32>(indptr + (<usize>u << 2))) memory.fill(row, 0, rowBytes);
    store<f32>(row + (<usize>k << 2), 1);
  }
}

/**
 * Whether the sorted, distinct run indices[start, end) holds value. Branch-free binary
 * search (the loop runs ⌈log₂ n⌉ times whatever the outcome, the halving is a select),
 * so the unpredictable comparisons cost no mispredictions.
 */
// @ts-ignore: decorator
@inline
function contains(indices: usize, start: i32, end: i32, value: i32): bool {
  let n = end - start;
  if (n <= 0) return false;
  let base = indices + (<usize>start << 2);
  while (n > 1) {
    const half = n >>> 1;
    const probe = base + (<usize>half << 2);
    base = select<usize>(probe, base, load<i32>(probe) <= value);
    n -= half;
  }
  return load<i32>(base) == value;
}

/**
 * One sample's update (see the top), in the split layout: x_u, y_i, y_j (k floats), the
 * biases b_i and b_j and, for adagrad, the squared-gradient sums of all five, by address.
 * Returns 1 when the pair was ranked correctly.
 */
// @ts-ignore: decorator
@inline
function update(
  xu: usize, yi: usize, yj: usize, bi: usize, bj: usize, k: i32, learningRate: f32, regularization: f32,
  adagrad: bool, gxu: usize, gyi: usize, gyj: usize, gbi: usize, gbj: usize,
): i32 {
  const k4 = k & ~3;
  // x_uij over all k+1 columns (the user's bias column is 1, so its term is b_i − b_j).
  let acc = f32x4.splat(0);
  let f = 0;
  for (; f < k4; f += 4) {
    const o = <usize>f << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(xu + o), f32x4.sub(v128.load(yi + o), v128.load(yj + o))));
  }
  let score = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (; f < k; f++) {
    const o = <usize>f << 2;
    score += load<f32>(xu + o) * (load<f32>(yi + o) - load<f32>(yj + o));
  }
  score += load<f32>(bi) - load<f32>(bj);
  const z = <f32>(1.0 / (1.0 + Math.exp(<f64>score)));

  const lr = f32x4.splat(learningRate);
  const reg = f32x4.splat(regularization);
  const zv = f32x4.splat(z);
  const negZv = f32x4.splat(-z);
  if (!adagrad) {
    for (f = 0; f < k4; f += 4) {
      const o = <usize>f << 2;
      const xv = v128.load(xu + o);
      const iv = v128.load(yi + o);
      const jv = v128.load(yj + o);
      v128.store(xu + o, f32x4.add(xv, f32x4.mul(lr, f32x4.sub(f32x4.mul(zv, f32x4.sub(iv, jv)), f32x4.mul(reg, xv)))));
      v128.store(yi + o, f32x4.add(iv, f32x4.mul(lr, f32x4.sub(f32x4.mul(zv, xv), f32x4.mul(reg, iv)))));
      const jv2 = v128.load(yj + o); // after y_i's store: i = j updates twice, as implicit
      v128.store(yj + o, f32x4.add(jv2, f32x4.mul(lr, f32x4.sub(f32x4.mul(negZv, xv), f32x4.mul(reg, jv2)))));
    }
    for (; f < k; f++) {
      const o = <usize>f << 2;
      const xs = load<f32>(xu + o);
      const is = load<f32>(yi + o);
      store<f32>(xu + o, xs + learningRate * (z * (is - load<f32>(yj + o)) - regularization * xs));
      store<f32>(yi + o, is + learningRate * (z * xs - regularization * is));
      const js = load<f32>(yj + o);
      store<f32>(yj + o, js + learningRate * (-z * xs - regularization * js));
    }
    const biasI = load<f32>(bi);
    store<f32>(bi, biasI + learningRate * (z - regularization * biasI));
    const biasJ = load<f32>(bj);
    store<f32>(bj, biasJ + learningRate * (-z - regularization * biasJ));
  } else {
    const eps = f32x4.splat(1e-8);
    for (f = 0; f < k4; f += 4) {
      const o = <usize>f << 2;
      const xv = v128.load(xu + o);
      const iv = v128.load(yi + o);
      const jv = v128.load(yj + o);
      const dx = f32x4.sub(f32x4.mul(zv, f32x4.sub(iv, jv)), f32x4.mul(reg, xv));
      const di = f32x4.sub(f32x4.mul(zv, xv), f32x4.mul(reg, iv));
      const gxv = f32x4.add(v128.load(gxu + o), f32x4.mul(dx, dx));
      v128.store(gxu + o, gxv);
      v128.store(xu + o, f32x4.add(xv, f32x4.div(f32x4.mul(lr, dx), f32x4.sqrt(f32x4.add(gxv, eps)))));
      const giv = f32x4.add(v128.load(gyi + o), f32x4.mul(di, di));
      v128.store(gyi + o, giv);
      v128.store(yi + o, f32x4.add(iv, f32x4.div(f32x4.mul(lr, di), f32x4.sqrt(f32x4.add(giv, eps)))));
      const jv2 = v128.load(yj + o);
      const dj = f32x4.sub(f32x4.mul(negZv, xv), f32x4.mul(reg, jv2));
      const gjv = f32x4.add(v128.load(gyj + o), f32x4.mul(dj, dj));
      v128.store(gyj + o, gjv);
      v128.store(yj + o, f32x4.add(jv2, f32x4.div(f32x4.mul(lr, dj), f32x4.sqrt(f32x4.add(gjv, eps)))));
    }
    for (; f < k; f++) {
      const o = <usize>f << 2;
      const xs = load<f32>(xu + o);
      const is = load<f32>(yi + o);
      const dx = z * (is - load<f32>(yj + o)) - regularization * xs;
      const di = z * xs - regularization * is;
      store<f32>(xu + o, xs + adagradStep(gxu + o, dx, learningRate));
      store<f32>(yi + o, is + adagradStep(gyi + o, di, learningRate));
      const js = load<f32>(yj + o);
      store<f32>(yj + o, js + adagradStep(gyj + o, -z * xs - regularization * js, learningRate));
    }
    const biasI = load<f32>(bi);
    store<f32>(bi, biasI + adagradStep(gbi, z - regularization * biasI, learningRate));
    const biasJ = load<f32>(bj);
    store<f32>(bj, biasJ + adagradStep(gbj, -z - regularization * biasJ, learningRate));
  }
  return <i32>(z < 0.5);
}

/** G += d², returns lr·d/√(G + 1e-8) (f32, as the SIMD lanes compute it). */
// @ts-ignore: decorator
@inline
function adagradStep(g: usize, d: f32, learningRate: f32): f32 {
  const sum = load<f32>(g) + d * d;
  store<f32>(g, sum);
  return (learningRate * d) / Mathf.sqrt(sum + <f32>1e-8);
}

/**
 * Samples [first, first + samples) of a fit, on the split layout: x users × k, y items × k
 * f32 and the item biases yBias; rowOf: the row of each nonzero (bprRowIds). For adagrad,
 * gx, gy and gyBias are the squared-gradient sums, shaped as x, y and yBias. Writes the
 * samples ranked correctly and the samples skipped to out (two i32).
 */
export function bprSamples(
  samples: i32, seed: u64, first: u64, rowOf: usize, indptr: usize, indices: usize, nnz: i32, nItems: i32,
  x: usize, y: usize, yBias: usize, k: i32, learningRate: f32, regularization: f32,
  verify: bool, popularity: bool, adagrad: bool, gx: usize, gy: usize, gyBias: usize, out: usize,
  epochFirst: u64, blocked: bool, order: usize, nFull: i32,
): void {
  const rowBytes = <usize>k << 2;
  const key = samplerKey(seed);
  const n = <u32>nnz;
  const nNegative = popularity ? <u32>nnz : <u32>nItems;
  const ahead1 = <u64>(3 * BATCH), ahead2 = <u64>(2 * BATCH), ahead3 = <u64>BATCH;
  const fullBlocks = <u32>nFull;
  let correct = 0, skipped = 0, sink = 0;
  for (let batch = 0; batch < samples; batch += BATCH) {
    // Touch the memory of the samples ahead, a batch at a time, so that the misses of a
    // whole batch are in flight together (see "Speed" above). Three stages, as each
    // address comes from the previous stage's load.
    for (let q = 0; q < BATCH; q++) {
      const t = first + <u64>(batch + q);
      // In user-block order the block's row ids, items, users and item lists are in cache:
      // only the item rows (and a popularity negative's item) are worth touching.
      // Stage 1: the nonzero's row id and item, and the popularity negative's item.
      if (!blocked || popularity) {
        const p1 = draw(key, t + ahead1, t - epochFirst + ahead1, n, nNegative, blocked, order, fullBlocks);
        if (!blocked) sink += load<i32>(rowOf + (<usize><u32>p1 << 2)) + load<i32>(indices + (<usize><u32>p1 << 2));
        if (popularity) sink += load<i32>(indices + (<usize>(p1 >> 32) << 2));
      }
      // Stage 2: the user's indptr entry and the three factor rows.
      const p2 = draw(key, t + ahead2, t - epochFirst + ahead2, n, nNegative, blocked, order, fullBlocks);
      const i2 = <usize>load<i32>(indices + (<usize><u32>p2 << 2)), j2 = <usize>negativeItem(indices, p2, popularity);
      if (!blocked) {
        const u2 = load<i32>(rowOf + (<usize><u32>p2 << 2));
        sink += load<i32>(indptr + (<usize>u2 << 2)) + touchRow(x + <usize>u2 * rowBytes, rowBytes);
      }
      sink += touchRow(y + i2 * rowBytes, rowBytes) + load<i32>(yBias + (i2 << 2));
      sink += touchRow(y + j2 * rowBytes, rowBytes) + load<i32>(yBias + (j2 << 2));
      // Stage 3: the user's item list, where the binary search will look.
      if (verify && !blocked) {
        const u3 = load<i32>(rowOf + (<usize><u32>draw(key, t + ahead3, t - epochFirst + ahead3, n, nNegative, blocked, order, fullBlocks) << 2));
        const start = load<i32>(indptr + (<usize>u3 << 2)), end = load<i32>(indptr + ((<usize>u3 + 1) << 2));
        if (end > start) {
          sink += load<i32>(indices + (<usize>start << 2)) + load<i32>(indices + (<usize>((start + end) >>> 1) << 2));
          sink += load<i32>(indices + (<usize>(end - 1) << 2));
        }
      }
    }
    // Then the batch's own samples, in order.
    const batchEnd = min(samples, batch + BATCH);
    for (let s = batch; s < batchEnd; s++) {
      const pair = draw(key, first + <u64>s, first + <u64>s - epochFirst, n, nNegative, blocked, order, fullBlocks);
      const e = <usize><u32>pair << 2;
      const u = <usize>load<i32>(rowOf + e);
      const i = <usize>load<i32>(indices + e);
      const j = negativeItem(indices, pair, popularity);
      if (verify && contains(indices, load<i32>(indptr + (u << 2)), load<i32>(indptr + ((u + 1) << 2)), j)) {
        skipped++;
        continue;
      }
      const ju = <usize>j;
      correct += update(x + u * rowBytes, y + i * rowBytes, y + ju * rowBytes, yBias + (i << 2), yBias + (ju << 2), k, learningRate, regularization,
        adagrad, gx + u * rowBytes, gy + i * rowBytes, gy + ju * rowBytes, gyBias + (i << 2), gyBias + (ju << 2));
    }
  }
  store<i32>(out, correct);
  store<i32>(out, skipped, 4);
  store<i32>(out, sink, 8); // keeps the touches alive; the host ignores it
}

/**
 * Rows [rowStart, rowEnd) of an n-row block of (k+1)-float rows to the split layout, in
 * place: row r's k factors move to r·k floats and its last column to bias[r] (dropped when
 * bias is 0). Call over ranges in ascending order (rows only move down).
 */
export function bprSplitRows(rows: usize, rowStart: i32, rowEnd: i32, k: i32, bias: usize): void {
  const splitBytes = <usize>k << 2, joinedBytes = splitBytes + 4;
  for (let r = rowStart; r < rowEnd; r++) {
    const from = rows + <usize>r * joinedBytes;
    if (bias) store<f32>(bias + (<usize>r << 2), load<f32>(from + splitBytes));
    memory.copy(rows + <usize>r * splitBytes, from, splitBytes);
  }
}

/**
 * bprSplitRows undone for rows [rowStart, rowEnd), in place: the last column from bias[r],
 * or 1 (a user's constant) when bias is 0. Call over ranges in descending order.
 */
export function bprJoinRows(rows: usize, rowStart: i32, rowEnd: i32, k: i32, bias: usize): void {
  const splitBytes = <usize>k << 2, joinedBytes = splitBytes + 4;
  for (let r = rowEnd - 1; r >= rowStart; r--) {
    const to = rows + <usize>r * joinedBytes;
    memory.copy(to, rows + <usize>r * splitBytes, splitBytes);
    store<f32>(to + splitBytes, bias ? load<f32>(bias + (<usize>r << 2)) : 1);
  }
}

/**
 * Test hook: samples [first, first + n) as bprSamples draws them (the same order
 * arguments), as (u, i, j) triples of i32 into out: the liked pair's user and item, and
 * the negative item.
 */
export function bprDrawSamples(
  seed: u64, first: u64, rowOf: usize, indices: usize, nnz: i32, nItems: i32, popularity: bool, n: i32, out: usize,
  epochFirst: u64, blocked: bool, order: usize, nFull: i32,
): void {
  const key = samplerKey(seed);
  const nNegative = popularity ? <u32>nnz : <u32>nItems;
  for (let s = 0; s < n; s++) {
    const pair = draw(key, first + <u64>s, first + <u64>s - epochFirst, <u32>nnz, nNegative, blocked, order, <u32>nFull);
    const e = <usize><u32>pair << 2;
    const o = out + <usize>s * 12;
    store<i32>(o, load<i32>(rowOf + e));
    store<i32>(o, load<i32>(indices + e), 4);
    store<i32>(o, negativeItem(indices, pair, popularity), 8);
  }
}
