// Exact top-n by inner product (or cosine) of query rows against target rows.
// Ranking: higher score first; equal scores go to the smaller target id, so results
// never depend on scan order. Filtered targets are flagged in a byte mask.

import { dot } from "./vector";

/** out[r] = 1/‖m_r‖, or 0 for a zero row (cosine then scores it 0, as implicit does). */
export function inverseNorms(m: usize, nRows: i32, k: i32, out: usize): void {
  const rowBytes = <usize>k << 2;
  for (let r = 0; r < nRows; r++) {
    const row = m + <usize>r * rowBytes;
    const norm = Mathf.sqrt(dot(row, row, k));
    store<f32>(out + (<usize>r << 2), norm > 0 ? 1 / norm : 0);
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

/**
 * For each query q in [0, nQueries): the n best targets, written best first to
 * outIds/outScores row q (n entries; unused slots get id -1 and score -inf).
 *
 * - Query q is row `queryIds[q]` of `queries` (or row q when queryIds is 0).
 * - Targets are `candidates[0..nCandidates)` (or all nTargets when candidates is 0).
 * - `mask` (nTargets bytes) marks filtered targets with any non-zero value. When
 *   `excludeIndptr` is set, the targets in one row of that CSR are also skipped for
 *   query q: row q when `excludeByPosition`, else the query's row (queryIds[q] or q).
 *   The kernel flags them in the mask and clears them after.
 * - Cosine mode when `targetInvNorms` is set: score = q·t /(‖q‖‖t‖).
 */
export function topKRows(
  queries: usize, queryIds: usize, nQueries: i32,
  targets: usize, nTargets: i32, k: i32, targetInvNorms: usize,
  candidates: usize, nCandidates: i32,
  mask: usize, excludeIndptr: usize, excludeIndices: usize, excludeByPosition: bool,
  n: i32, outIds: usize, outScores: usize,
): void {
  const rowBytes = <usize>k << 2;
  const exclusionFlag: u8 = 0x80;
  for (let q = 0; q < nQueries; q++) {
    const row = queryIds ? load<i32>(queryIds + (<usize>q << 2)) : q;
    const query = queries + <usize>row * rowBytes;
    let queryScale: f32 = 1;
    if (targetInvNorms) {
      const norm = Mathf.sqrt(dot(query, query, k));
      queryScale = norm > 0 ? 1 / norm : 0;
    }
    let excludeStart = 0, excludeEnd = 0;
    if (excludeIndptr) {
      const excludeRow = excludeByPosition ? q : row;
      excludeStart = load<i32>(excludeIndptr + (<usize>excludeRow << 2));
      excludeEnd = load<i32>(excludeIndptr + ((<usize>excludeRow + 1) << 2));
      for (let e = excludeStart; e < excludeEnd; e++) {
        const m = mask + <usize>load<i32>(excludeIndices + (<usize>e << 2));
        store<u8>(m, load<u8>(m) | exclusionFlag);
      }
    }

    const ids = outIds + <usize>q * (<usize>n << 2);
    const scores = outScores + <usize>q * (<usize>n << 2);
    let size = 0;
    const total = candidates ? nCandidates : nTargets;
    for (let c = 0; c < total; c++) {
      const t = candidates ? load<i32>(candidates + (<usize>c << 2)) : c;
      if (load<u8>(mask + <usize>t)) continue;
      let score = dot(query, targets + <usize>t * rowBytes, k);
      if (targetInvNorms) score = score * queryScale * load<f32>(targetInvNorms + (<usize>t << 2));
      if (score != score) continue; // NaN never ranks
      if (size < n) {
        store<f32>(scores + (<usize>size << 2), score);
        store<i32>(ids + (<usize>size << 2), t);
        heapSiftUp(ids, scores, size);
        size++;
      } else if (worse(load<f32>(scores), load<i32>(ids), score, t)) {
        store<f32>(scores, score);
        store<i32>(ids, t);
        heapSiftDown(ids, scores, 0, size);
      }
    }
    // Pop the worst to the back until the heap is empty: leaves the row best first.
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

    for (let e = excludeStart; e < excludeEnd; e++) {
      const m = mask + <usize>load<i32>(excludeIndices + (<usize>e << 2));
      store<u8>(m, load<u8>(m) & ~exclusionFlag);
    }
  }
}
