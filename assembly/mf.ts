// Two model families that are not ALS: explicit-rating matrix factorization trained by
// stochastic gradient descent, and item-item nearest neighbours (implicit's
// ItemItemRecommender). Like every kernel here they never allocate: the host plans
// every array and passes pointers; scratch arrays come back in the state they came in.

import { dot } from "./vector";
import { splitmix64 } from "./random";
import { heapSiftDown, heapSiftUp, worse } from "./topk";

// ─── Explicit matrix factorization (biased SVD, Funk 2006 / Koren et al. 2009) ────────
//
// Prediction:   r̂_ui = μ + b_u + b_i + p_u·q_i
// Per rating, with e = r_ui − r̂_ui, SGD on the per-rating objective
//   ½[e² + λ(‖p_u‖² + ‖q_i‖²) + λ_b(b_u² + b_i²)]
// takes one step of size η (the learning rate) against its gradient:
//   b_u ← b_u + η(e − λ_b·b_u)
//   b_i ← b_i + η(e − λ_b·b_i)
//   p_u ← p_u + η(e·q_i − λ·p_u)      (p_u and q_i updated simultaneously:
//   q_i ← q_i + η(e·p_u − λ·q_i)       both right-hand sides use the old values)
// μ is the training mean and stays fixed.
//
// Row layout. Every user and item row holds `width` floats (width ≥ k + 3, a multiple
// of 4 so rows stay 16-byte aligned), and the biases sit in extra columns so that one
// inner product is the whole prediction:
//   user row u: [ p_u (k) | b_u | 1   | μ | 0 … ]
//   item row i: [ q_i (k) | 1   | b_i | 1 | 0 … ]
//   dot(user_u, item_i) = p_u·q_i + b_u + b_i + μ = r̂_ui
// so training and predict score with the same `dot`, bit for bit, and exact top-n (the
// top-k kernels over these rows) ranks by the same sum, accumulated in the kernels' own
// fixed order (equal within float32 rounding). Arithmetic is f32 in a fixed order:
// identical on every runtime.
//
// Ratings are packed as 12-byte records (user i32, item i32, rating f32). Each epoch the
// host re-packs them in CSR order and shuffles them with mfShuffle, so the order of epoch
// e is a pure function of (seed, e), whatever the chunking of the calls.

const RECORD_BYTES: usize = 12;

/** Uniform integer in [0, bound) from 64 random bits (Lemire's multiply-shift with rejection: unbiased). */
// @ts-ignore: decorator
@inline
function boundedRandom(bits: u64, bound: u32): u32 {
  let m: u64 = (bits >> 32) * <u64>bound;
  let low = <u32>m;
  if (low < bound) {
    const threshold: u32 = (~bound + 1) % bound; // 2³² mod bound
    while (low < threshold) {
      bits = splitmix64(bits);
      m = (bits >> 32) * <u64>bound;
      low = <u32>m;
    }
  }
  return <u32>(m >> 32);
}

/** Packs the CSR rows [rowStart, rowEnd) as (row, col, value) records at out + e·12, e the entry's position. */
export function mfPack(indptr: usize, indices: usize, data: usize, rowStart: i32, rowEnd: i32, out: usize): void {
  for (let r = rowStart; r < rowEnd; r++) {
    const end = load<i32>(indptr + ((<usize>r + 1) << 2));
    for (let e = load<i32>(indptr + (<usize>r << 2)); e < end; e++) {
      const rec = out + <usize>e * RECORD_BYTES;
      store<i32>(rec, r);
      store<i32>(rec, load<i32>(indices + (<usize>e << 2)), 4);
      store<f32>(rec, load<f32>(data + (<usize>e << 2)), 8);
    }
  }
}

/**
 * Fisher–Yates steps i = hi−1, hi−2, …, lo (lo ≥ 1) over the records: swaps record i with
 * record j, j uniform in [0, i], drawn from counter i of the stream (seed, epoch). Called
 * with hi = n first and lower ranges after, it is one uniform shuffle of all n records.
 */
export function mfShuffle(records: usize, hi: i32, lo: i32, seed: u64, epoch: u64): void {
  const key = splitmix64(seed ^ splitmix64(epoch ^ 0x5347445f53485546)); // "SGD_SHUF"
  for (let i = hi - 1; i >= lo && i >= 1; i--) {
    const j = boundedRandom(splitmix64(key ^ splitmix64(<u64>i)), <u32>i + 1);
    const a = records + <usize>i * RECORD_BYTES, b = records + <usize>j * RECORD_BYTES;
    const a0 = load<u64>(a), a1 = load<u32>(a, 8);
    store<u64>(a, load<u64>(b)); store<u32>(a, load<u32>(b, 8), 8);
    store<u64>(b, a0); store<u32>(b, a1, 8);
  }
}

/**
 * One SGD step (the update above) for each record t in [start, end), in order.
 * `users`/`items`: the row layouts above, `width` floats per row, k factors.
 */
export function mfSgd(
  records: usize, start: i32, end: i32, users: usize, items: usize, k: i32, width: i32,
  learningRate: f32, regularization: f32, biasRegularization: f32,
): void {
  const rowBytes = <usize>width << 2;
  const userBias = <usize>k << 2, itemBias = userBias + 4;
  const lr = f32x4.splat(learningRate), lambda = f32x4.splat(regularization);
  for (let t = start; t < end; t++) {
    const rec = records + <usize>t * RECORD_BYTES;
    const p = users + <usize>load<i32>(rec) * rowBytes;
    const q = items + <usize>load<i32>(rec, 4) * rowBytes;
    const e: f32 = load<f32>(rec, 8) - dot(p, q, width);
    const bu = load<f32>(p + userBias), bi = load<f32>(q + itemBias);
    store<f32>(p + userBias, bu + learningRate * (e - biasRegularization * bu));
    store<f32>(q + itemBias, bi + learningRate * (e - biasRegularization * bi));
    const ev = f32x4.splat(e);
    let f = 0;
    for (; f + 4 <= k; f += 4) {
      const o = <usize>f << 2;
      const pv = v128.load(p + o), qv = v128.load(q + o);
      v128.store(p + o, f32x4.add(pv, f32x4.mul(lr, f32x4.sub(f32x4.mul(ev, qv), f32x4.mul(lambda, pv)))));
      v128.store(q + o, f32x4.add(qv, f32x4.mul(lr, f32x4.sub(f32x4.mul(ev, pv), f32x4.mul(lambda, qv)))));
    }
    for (; f < k; f++) {
      const o = <usize>f << 2;
      const pf = load<f32>(p + o), qf = load<f32>(q + o);
      store<f32>(p + o, pf + learningRate * (e * qf - regularization * pf));
      store<f32>(q + o, qf + learningRate * (e * pf - regularization * qf));
    }
  }
}

/**
 * Adds, over records [start, end), Σ e² to out[0] and Σ [λ(‖p_u‖² + ‖q_i‖²) + λ_b(b_u² + b_i²)]
 * to out[1] (f64; the second only when `penalty`). e = r − dot(user, item) in f32, as training.
 */
export function mfEvaluate(
  records: usize, start: i32, end: i32, users: usize, items: usize, k: i32, width: i32,
  regularization: f64, biasRegularization: f64, penalty: bool, out: usize,
): void {
  const rowBytes = <usize>width << 2;
  const userBias = <usize>k << 2, itemBias = userBias + 4;
  let squares = load<f64>(out), penalties = load<f64>(out, 8);
  for (let t = start; t < end; t++) {
    const rec = records + <usize>t * RECORD_BYTES;
    const p = users + <usize>load<i32>(rec) * rowBytes;
    const q = items + <usize>load<i32>(rec, 4) * rowBytes;
    const e: f32 = load<f32>(rec, 8) - dot(p, q, width);
    squares += <f64>e * <f64>e;
    if (penalty) {
      const bu = <f64>load<f32>(p + userBias), bi = <f64>load<f32>(q + itemBias);
      penalties += regularization * (<f64>dot(p, p, k) + <f64>dot(q, q, k)) + biasRegularization * (bu * bu + bi * bi);
    }
  }
  store<f64>(out, squares);
  store<f64>(out, penalties, 8);
}

/** out[t] = dot(users row userIds[t], items row itemIds[t]) = r̂ for t in [0, n). */
export function mfPredict(userIds: usize, itemIds: usize, n: i32, users: usize, items: usize, width: i32, out: usize): void {
  const rowBytes = <usize>width << 2;
  for (let t = 0; t < n; t++) {
    const o = <usize>t << 2;
    store<f32>(out + o, dot(users + <usize>load<i32>(userIds + o) * rowBytes, items + <usize>load<i32>(itemIds + o) * rowBytes, width));
  }
}

// ─── Item-item nearest neighbours (implicit's ItemItemRecommender) ────────────────────
//
// W is the weighted items × users matrix (rows L2-normalised for cosine, bm25 or tf-idf
// weighted, or raw). The similarity S = W·Wᵀ keeps, in each row i, the K largest entries
// S_ij = Σ_u W_iu·W_ju over the items j that share at least one user with i (i itself
// included, as implicit): for each (u, W_iu) in row i of W, for each (j, W_ju) in row u of
// Wᵀ, acc_j += W_iu·W_ju. Sums are f64 in that fixed order, then rounded to f32; ranking is
// on the f32 value, equal values to the smaller id. Rows are written in CSR form with
// ascending column ids.
//
// A user's score for item j is implicit's Σ_{i liked} value_ui·S_ij (row i of S: the
// neighbours of a liked item), over the items some liked item's row reaches.

// Scratch flags per item.
const TOUCHED: u8 = 1;
const LIKED: u8 = 2;

/** Offers (score, id) to a top-n heap holding `size` entries; returns the new size. NaN never enters. */
// @ts-ignore: decorator
@inline
function heapOffer(ids: usize, scores: usize, size: i32, n: i32, score: f32, id: i32): i32 {
  if (score != score) return size;
  if (size < n) {
    store<f32>(scores + (<usize>size << 2), score);
    store<i32>(ids + (<usize>size << 2), id);
    heapSiftUp(ids, scores, size);
    return size + 1;
  }
  if (worse(load<f32>(scores), load<i32>(ids), score, id)) {
    store<f32>(scores, score);
    store<i32>(ids, id);
    heapSiftDown(ids, scores, 0, size);
  }
  return size;
}

/** Turns a top-n heap of `size` entries into a list, best first. */
function heapDrain(ids: usize, scores: usize, size: i32): void {
  for (let last = size - 1; last > 0; last--) {
    const s = load<f32>(scores), i = load<i32>(ids);
    store<f32>(scores, load<f32>(scores + (<usize>last << 2))); store<i32>(ids, load<i32>(ids + (<usize>last << 2)));
    store<f32>(scores + (<usize>last << 2), s); store<i32>(ids + (<usize>last << 2), i);
    heapSiftDown(ids, scores, 0, last);
  }
}

/** Sorts n (id, score) pairs by ascending id, in place (heapsort: no scratch, O(n log n)). */
function sortById(ids: usize, scores: usize, n: i32): void {
  // Max-heap on id, then pop the largest to the back.
  for (let start = (n >> 1) - 1; start >= 0; start--) siftDownById(ids, scores, start, n);
  for (let last = n - 1; last > 0; last--) {
    const i0 = load<i32>(ids), s0 = load<f32>(scores);
    store<i32>(ids, load<i32>(ids + (<usize>last << 2))); store<f32>(scores, load<f32>(scores + (<usize>last << 2)));
    store<i32>(ids + (<usize>last << 2), i0); store<f32>(scores + (<usize>last << 2), s0);
    siftDownById(ids, scores, 0, last);
  }
}

function siftDownById(ids: usize, scores: usize, root: i32, size: i32): void {
  while (true) {
    let child = 2 * root + 1;
    if (child >= size) return;
    if (child + 1 < size && load<i32>(ids + ((<usize>child + 1) << 2)) > load<i32>(ids + (<usize>child << 2))) child++;
    const ri = load<i32>(ids + (<usize>root << 2)), ci = load<i32>(ids + (<usize>child << 2));
    if (ci <= ri) return;
    const rs = load<f32>(scores + (<usize>root << 2));
    store<i32>(ids + (<usize>root << 2), ci); store<f32>(scores + (<usize>root << 2), load<f32>(scores + (<usize>child << 2)));
    store<i32>(ids + (<usize>child << 2), ri); store<f32>(scores + (<usize>child << 2), rs);
    root = child;
  }
}

/**
 * Rows [rowStart, rowEnd) of the top-K similarity S = W·Wᵀ (see above), appended in CSR
 * form: row i's entries go to out{Indices,Data} from outIndptr[i], and outIndptr[i+1] is
 * set. Call with consecutive row ranges from row 0 (outIndptr[0] = 0).
 * W: items × users CSR (w*), Wᵀ: users × items CSR (t*). Scratch: acc (f64 × nItems,
 * all 0), flags (u8 × nItems, all 0), touched (i32 × nItems), heapIds/heapScores (K each).
 */
export function knnAllPairs(
  rowStart: i32, rowEnd: i32,
  wIndptr: usize, wIndices: usize, wData: usize,
  tIndptr: usize, tIndices: usize, tData: usize,
  K: i32, acc: usize, flags: usize, touched: usize, heapIds: usize, heapScores: usize,
  outIndptr: usize, outIndices: usize, outData: usize,
): void {
  for (let i = rowStart; i < rowEnd; i++) {
    let nTouched = 0;
    const wEnd = load<i32>(wIndptr + ((<usize>i + 1) << 2));
    for (let a = load<i32>(wIndptr + (<usize>i << 2)); a < wEnd; a++) {
      const u = load<i32>(wIndices + (<usize>a << 2));
      const w1 = <f64>load<f32>(wData + (<usize>a << 2));
      const tEnd = load<i32>(tIndptr + ((<usize>u + 1) << 2));
      for (let b = load<i32>(tIndptr + (<usize>u << 2)); b < tEnd; b++) {
        const j = load<i32>(tIndices + (<usize>b << 2));
        const slot = acc + (<usize>j << 3);
        if (!load<u8>(flags + <usize>j)) {
          store<u8>(flags + <usize>j, TOUCHED);
          store<i32>(touched + (<usize>nTouched << 2), j);
          nTouched++;
        }
        store<f64>(slot, load<f64>(slot) + w1 * <f64>load<f32>(tData + (<usize>b << 2)));
      }
    }
    let size = 0;
    for (let t = 0; t < nTouched; t++) {
      const j = load<i32>(touched + (<usize>t << 2));
      const slot = acc + (<usize>j << 3);
      size = heapOffer(heapIds, heapScores, size, K, <f32>load<f64>(slot), j);
      store<f64>(slot, 0);
      store<u8>(flags + <usize>j, 0);
    }
    sortById(heapIds, heapScores, size);
    const first = load<i32>(outIndptr + (<usize>i << 2));
    memory.copy(outIndices + (<usize>first << 2), heapIds, <usize>size << 2);
    memory.copy(outData + (<usize>first << 2), heapScores, <usize>size << 2);
    store<i32>(outIndptr + ((<usize>i + 1) << 2), first + size);
  }
}

/**
 * For each query q in [0, nQueries): the user's row of the liked matrix (row
 * queryRows[q], or q when queryRows is 0) scores items j by Σ value·S_ij over its liked
 * items i (see above); writes the n best reached items, best first, to outIds/outScores
 * row q (unused slots: id −1, score −inf). Items with mask[j] ≠ 0 are skipped, and the
 * user's own liked items too when `excludeLiked`. Scratch as knnAllPairs (acc, flags, touched).
 */
export function knnRecommend(
  queryRows: usize, nQueries: i32,
  likedIndptr: usize, likedIndices: usize, likedData: usize,
  sIndptr: usize, sIndices: usize, sData: usize,
  mask: usize, excludeLiked: bool, acc: usize, flags: usize, touched: usize,
  n: i32, outIds: usize, outScores: usize,
): void {
  for (let q = 0; q < nQueries; q++) {
    const row = queryRows ? load<i32>(queryRows + (<usize>q << 2)) : q;
    const likedStart = load<i32>(likedIndptr + (<usize>row << 2));
    const likedEnd = load<i32>(likedIndptr + ((<usize>row + 1) << 2));
    let nTouched = 0;
    for (let a = likedStart; a < likedEnd; a++) {
      const i = load<i32>(likedIndices + (<usize>a << 2));
      const value = <f64>load<f32>(likedData + (<usize>a << 2));
      const sEnd = load<i32>(sIndptr + ((<usize>i + 1) << 2));
      for (let b = load<i32>(sIndptr + (<usize>i << 2)); b < sEnd; b++) {
        const j = load<i32>(sIndices + (<usize>b << 2));
        const slot = acc + (<usize>j << 3);
        if (!(load<u8>(flags + <usize>j) & TOUCHED)) {
          store<u8>(flags + <usize>j, TOUCHED);
          store<i32>(touched + (<usize>nTouched << 2), j);
          nTouched++;
        }
        store<f64>(slot, load<f64>(slot) + value * <f64>load<f32>(sData + (<usize>b << 2)));
      }
    }
    if (excludeLiked) {
      for (let a = likedStart; a < likedEnd; a++) {
        const f = flags + <usize>load<i32>(likedIndices + (<usize>a << 2));
        store<u8>(f, load<u8>(f) | LIKED);
      }
    }
    const ids = outIds + <usize>q * (<usize>n << 2);
    const scores = outScores + <usize>q * (<usize>n << 2);
    let size = 0;
    for (let t = 0; t < nTouched; t++) {
      const j = load<i32>(touched + (<usize>t << 2));
      const slot = acc + (<usize>j << 3);
      if (!(load<u8>(flags + <usize>j) & LIKED) && !load<u8>(mask + <usize>j)) {
        size = heapOffer(ids, scores, size, n, <f32>load<f64>(slot), j);
      }
      store<f64>(slot, 0);
      store<u8>(flags + <usize>j, 0);
    }
    if (excludeLiked) {
      for (let a = likedStart; a < likedEnd; a++) store<u8>(flags + <usize>load<i32>(likedIndices + (<usize>a << 2)), 0);
    }
    heapDrain(ids, scores, size);
    for (let s = size; s < n; s++) {
      store<i32>(ids + (<usize>s << 2), -1);
      store<f32>(scores + (<usize>s << 2), -Infinity);
    }
  }
}
