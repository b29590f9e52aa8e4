// Implicit-feedback ALS (Hu, Koren, Volinsky 2008), solved one row at a time.
//
// For a row u (a user, or an item in the other half-step) with observed entries
// (i, c_ui) and the other side's factors Y, the least-squares system is
//
//   A_u x_u = b_u
//   A_u = α₀·YᵀY + λ_u·I + Σ_i (|c_ui| − α₀) y_i y_iᵀ
//   b_u = Σ_{c_ui > 0} c_ui y_i
//
// α₀ is the weight of unobserved cells (1 in implicit; Rendle et al. 2021 call it the
// unobserved weight), a negative c_ui is negative feedback (preference 0, weight |c|,
// as implicit), and λ_u = λ·(n_u + α₀·n_other)^ν is frequency-scaled regularization
// (ν = 0 gives implicit's plain λ). c_ui is the stored value times `confidenceScale`
// (implicit's alpha), applied on the fly so the user's matrix is never copied.
// The host passes G = α₀·YᵀY, computed once per half-step.

import { decodeColumn, placedPositions, placedValues } from "./compact-columns";
import { accumulateRows, axpy, copyRow, dot, dotRows, gramTimes, symmetricMatVec, xpby } from "./vector";

// YᵀY is summed a segment of rows at a time, each segment into its own k×k partial, and
// the partials are then added in segment order. Segments have a fixed number of rows, so the
// grouping of the sum, and with it every bit of the result, is the same whether one thread
// computes all the segments or several share them.
const GRAM_SEGMENT_ROWS: i32 = 8192;
// Within a segment, rows are summed a block at a time, small enough to stay in L1 while
// every 4×8 tile of the output walks over it.
const GRAM_BLOCK_BYTES: i32 = 16 << 10;

/** Number of Gram segments (k×k partials) for nRows rows. */
export function gramSegments(nRows: i32): i32 {
  return (nRows + GRAM_SEGMENT_ROWS - 1) / GRAM_SEGMENT_ROWS;
}

/**
 * partial (k×k f32, upper triangle) = Σ y yᵀ over the rows of segment `segment` of Y
 * (nRows rows of k floats). Tiles of 4×8 are kept in registers over a block of rows.
 */
export function gramSegment(y: usize, nRows: i32, k: i32, segment: i32, partial: usize): void {
  const rowBytes = <usize>k << 2;
  memory.fill(partial, 0, rowBytes * <usize>k);
  const k4 = k & ~3;
  const k8 = k & ~7;
  const blockRows = max(4, GRAM_BLOCK_BYTES / (k << 2));
  const segmentEnd = min(nRows, (segment + 1) * GRAM_SEGMENT_ROWS);
  for (let blockStart = segment * GRAM_SEGMENT_ROWS; blockStart < segmentEnd; blockStart += blockRows) {
    const blockEnd = min(segmentEnd, blockStart + blockRows);
    const first = y + <usize>blockStart * rowBytes;
    const last = y + <usize>blockEnd * rowBytes;
    // partial[i][j] += Σ_rows y_i·y_j, tiles of i in [i0, i0+4) × j in [j0, j0+8).
    for (let i0 = 0; i0 < k4; i0 += 4) {
      for (let j0 = i0 & ~7; j0 < k8; j0 += 8) {
        let a00 = f32x4.splat(0), a01 = f32x4.splat(0);
        let a10 = f32x4.splat(0), a11 = f32x4.splat(0);
        let a20 = f32x4.splat(0), a21 = f32x4.splat(0);
        let a30 = f32x4.splat(0), a31 = f32x4.splat(0);
        const io = <usize>i0 << 2;
        const jo = <usize>j0 << 2;
        for (let row = first; row < last; row += rowBytes) {
          const yj0 = v128.load(row + jo);
          const yj1 = v128.load(row + jo, 16);
          const y0 = v128.load32_splat(row + io);
          const y1 = v128.load32_splat(row + io, 4);
          const y2 = v128.load32_splat(row + io, 8);
          const y3 = v128.load32_splat(row + io, 12);
          a00 = f32x4.add(a00, f32x4.mul(y0, yj0)); a01 = f32x4.add(a01, f32x4.mul(y0, yj1));
          a10 = f32x4.add(a10, f32x4.mul(y1, yj0)); a11 = f32x4.add(a11, f32x4.mul(y1, yj1));
          a20 = f32x4.add(a20, f32x4.mul(y2, yj0)); a21 = f32x4.add(a21, f32x4.mul(y2, yj1));
          a30 = f32x4.add(a30, f32x4.mul(y3, yj0)); a31 = f32x4.add(a31, f32x4.mul(y3, yj1));
        }
        let o = partial + <usize>i0 * rowBytes + jo;
        v128.store(o, f32x4.add(v128.load(o), a00)); v128.store(o, f32x4.add(v128.load(o, 16), a01), 16);
        o += rowBytes;
        v128.store(o, f32x4.add(v128.load(o), a10)); v128.store(o, f32x4.add(v128.load(o, 16), a11), 16);
        o += rowBytes;
        v128.store(o, f32x4.add(v128.load(o), a20)); v128.store(o, f32x4.add(v128.load(o, 16), a21), 16);
        o += rowBytes;
        v128.store(o, f32x4.add(v128.load(o), a30)); v128.store(o, f32x4.add(v128.load(o, 16), a31), 16);
      }
      // Columns past the last full 8-wide tile.
      for (let i = i0; i < i0 + 4; i++) {
        for (let j = max(k8, i); j < k; j++) addColumnProducts(first, last, rowBytes, i, j, partial);
      }
    }
    // Rows past the last full 4-high tile.
    for (let i = k4; i < k; i++) {
      for (let j = i; j < k; j++) addColumnProducts(first, last, rowBytes, i, j, partial);
    }
  }
}

// partial[i][j] += Σ over rows [first, last) of y_i·y_j (the tiles' scalar edges).
// @ts-ignore: decorator
@inline
function addColumnProducts(first: usize, last: usize, rowBytes: usize, i: i32, j: i32, partial: usize): void {
  let sum: f32 = 0;
  for (let row = first; row < last; row += rowBytes) {
    sum += load<f32>(row + (<usize>i << 2)) * load<f32>(row + (<usize>j << 2));
  }
  const o = partial + <usize>i * rowBytes + (<usize>j << 2);
  store<f32>(o, load<f32>(o) + sum);
}

/**
 * out (k×k f32) = scale·Σ_s partial_s: nSegments partials from gramSegment (contiguous,
 * k×k each) added in segment order, the upper triangle scaled and mirrored.
 */
export function gramCombine(partials: usize, nSegments: i32, k: i32, scale: f32, out: usize): void {
  const bytes = (<usize>k * <usize>k) << 2;
  memory.fill(out, 0, bytes);
  for (let s = 0; s < nSegments; s++) {
    const partial = partials + <usize>s * bytes;
    let i: usize = 0;
    for (; i + 16 <= bytes; i += 16) v128.store(out + i, f32x4.add(v128.load(out + i), v128.load(partial + i)));
    for (; i < bytes; i += 4) store<f32>(out + i, load<f32>(out + i) + load<f32>(partial + i));
  }
  const rowBytes = <usize>k << 2;
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      const v = load<f32>(out + <usize>i * rowBytes + (<usize>j << 2)) * scale;
      store<f32>(out + <usize>i * rowBytes + (<usize>j << 2), v);
      store<f32>(out + <usize>j * rowBytes + (<usize>i << 2), v);
    }
    const d = out + <usize>i * rowBytes + (<usize>i << 2);
    store<f32>(d, load<f32>(d) * scale);
  }
}

/**
 * rows [start, end) of a table of k floats a row ← row·Q, in place (Q: k×k f32, row-major:
 * out_j = Σ_i row_i·Q_ij). Four rows at a time with 8 outputs each held in registers over
 * i, written to `scratch` (4k f32) and copied back. Each output is its own sum over i in
 * increasing order, whichever rows share its group, so the split into calls and threads
 * never changes a bit.
 */
export function rotateRows(rows: usize, start: i32, end: i32, k: i32, q: usize, scratch: usize): void {
  const rowBytes = <usize>k << 2;
  const k8 = k & ~7;
  let r = start;
  for (; r + 4 <= end; r += 4) {
    const r0 = rows + <usize>r * rowBytes, r1 = r0 + rowBytes, r2 = r1 + rowBytes, r3 = r2 + rowBytes;
    for (let j0 = 0; j0 < k8; j0 += 8) {
      const jo = <usize>j0 << 2;
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0);
      let a10 = f32x4.splat(0), a11 = f32x4.splat(0);
      let a20 = f32x4.splat(0), a21 = f32x4.splat(0);
      let a30 = f32x4.splat(0), a31 = f32x4.splat(0);
      let qi = q + jo;
      for (let io: usize = 0; io < rowBytes; io += 4) {
        const q0 = v128.load(qi), q1 = v128.load(qi, 16);
        const y0 = v128.load32_splat(r0 + io), y1 = v128.load32_splat(r1 + io);
        const y2 = v128.load32_splat(r2 + io), y3 = v128.load32_splat(r3 + io);
        a00 = f32x4.add(a00, f32x4.mul(y0, q0)); a01 = f32x4.add(a01, f32x4.mul(y0, q1));
        a10 = f32x4.add(a10, f32x4.mul(y1, q0)); a11 = f32x4.add(a11, f32x4.mul(y1, q1));
        a20 = f32x4.add(a20, f32x4.mul(y2, q0)); a21 = f32x4.add(a21, f32x4.mul(y2, q1));
        a30 = f32x4.add(a30, f32x4.mul(y3, q0)); a31 = f32x4.add(a31, f32x4.mul(y3, q1));
        qi += rowBytes;
      }
      const o = scratch + jo;
      v128.store(o, a00); v128.store(o, a01, 16);
      v128.store(o + rowBytes, a10); v128.store(o + rowBytes, a11, 16);
      v128.store(o + 2 * rowBytes, a20); v128.store(o + 2 * rowBytes, a21, 16);
      v128.store(o + 3 * rowBytes, a30); v128.store(o + 3 * rowBytes, a31, 16);
    }
    for (let j = k8; j < k; j++) {
      rotatedColumn(r0, j, k, q, scratch); rotatedColumn(r1, j, k, q, scratch + rowBytes);
      rotatedColumn(r2, j, k, q, scratch + 2 * rowBytes); rotatedColumn(r3, j, k, q, scratch + 3 * rowBytes);
    }
    memory.copy(r0, scratch, 4 * rowBytes);
  }
  for (; r < end; r++) {
    const row = rows + <usize>r * rowBytes;
    for (let j = 0; j < k; j++) rotatedColumn(row, j, k, q, scratch);
    memory.copy(row, scratch, rowBytes);
  }
}

// out[j] = Σ_i row_i·Q_ij, summed as one lane of rotateRows's vectors would be.
// @ts-ignore: decorator
@inline
function rotatedColumn(row: usize, j: i32, k: i32, q: usize, out: usize): void {
  const rowBytes = <usize>k << 2;
  let sum: f32 = 0;
  let qi = q + (<usize>j << 2);
  for (let io: usize = 0; io < rowBytes; io += 4) {
    sum += load<f32>(row + io) * load<f32>(qi);
    qi += rowBytes;
  }
  store<f32>(out + (<usize>j << 2), sum);
}

/** The first of n floats that is NaN or ±Infinity, or -1. */
export function firstNonFinite(values: usize, n: i32): i32 {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = values + (<usize>i << 2);
    // x − x is 0 for finite x and NaN otherwise; NaN ≠ NaN marks the block.
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    const probe = f32x4.add(f32x4.add(f32x4.sub(a, a), f32x4.sub(b, b)), f32x4.add(f32x4.sub(c, c), f32x4.sub(d, d)));
    if (v128.any_true(f32x4.ne(probe, probe))) break;
  }
  for (; i < n; i++) {
    const v = load<f32>(values + (<usize>i << 2));
    if (v - v != 0) return i;
  }
  return -1;
}

/** λ_u = λ·(n_u + α₀·n_other)^ν; ν = 0 is plain λ. */
// @ts-ignore: decorator
@inline
export function rowRegularization(regularization: f32, exponent: f32, rowNnz: i32, unobservedWeight: f32, nOther: i32): f32 {
  if (exponent == 0) return regularization;
  return regularization * <f32>Math.pow(<f64>rowNnz + <f64>unobservedWeight * <f64>nOther, <f64>exponent);
}

// Rows handled per pass of dotRows + accumulateRows: they stay in L1 between the two.
const CHUNK_BYTES: i32 = 32 << 10;

/** Rows the CG kernel handles per chunk for k factors (its scratch needs at least this many). */
export function cgChunkRows(k: i32): i32 {
  return max(8, CHUNK_BYTES / (k << 2));
}

/**
 * Conjugate-gradient ALS update for rows [rowStart, rowEnd), warm-started from the
 * current X (implicit's least_squares_cg). A row's factors y_i are first gathered into
 * a compact block (`gathered`, gatherCapacity×k floats) with their weights, so every
 * CG step reads them from cache instead of from the big factor matrix. Rows longer than
 * the block (very popular items) are copied in chunks at each step instead.
 * Each product with the row's entries, Σ_i a_i y_i with a_i from y_i·v, runs a chunk at a
 * time: all dot products (dotRows), then one pass adding the terms with the output held in
 * registers (accumulateRows). Every sum keeps the order of entry-by-entry dot + axpy.
 * Scratch: weights (maxRowNnz f32), coefficients (cgChunkRows f32), work (3k f32: r, p, Ap);
 * gatherCapacity ≥ cgChunkRows(k). The matrix's row ids are CSR indices, or, when
 * `offsets` is not 0, a compact-columns stream (assembly/compact-columns.ts) decoded a row
 * at a time into `ids` (maxRowNnz i32). Low-memory compact columns (`places` not 0) hold
 * no values: `data` is then the source CSR's, read through `sourceIndptr` and each entry's
 * place into `values` (maxRowNnz f32). With `diagonalGram`, g holds only the k diagonal
 * entries of G: both factor tables are in G's eigenbasis (rotateRows), where G·p costs k
 * multiply-adds instead of k². Rows u with skipRows[u] ≥ 0 (i32; skipRows 0: none) are
 * left alone: the hot items, solved by assembly/als-hot-items.ts.
 */
export function solveRowsCg(
  rowStart: i32, rowEnd: i32, indptr: usize, indices: usize, data: usize,
  x: usize, y: usize, k: i32, g: usize,
  confidenceScale: f32, regularization: f32, regExponent: f32, unobservedWeight: f32, nOther: i32, cgSteps: i32,
  gathered: usize, gatherCapacity: i32, weights: usize, coefficients: usize, work: usize,
  offsets: usize, ids: usize, places: usize, placeShift: i32, sourceIndptr: usize, values: usize, diagonalGram: bool, skipRows: usize,
): void {
  const rowBytes = <usize>k << 2;
  const chunkRows = cgChunkRows(k);
  const r = work;
  const p = work + rowBytes;
  const ap = work + 2 * rowBytes;
  for (let u = rowStart; u < rowEnd; u++) {
    if (skipRows && load<i32>(skipRows + (<usize>u << 2)) >= 0) continue;
    const start = load<i32>(indptr + (<usize>u << 2));
    const n = load<i32>(indptr + ((<usize>u + 1) << 2)) - start;
    const entryIndices = rowIds(indices, offsets, u, start, n, ids);
    const xu = x + <usize>u * rowBytes;
    const lambda = rowRegularization(regularization, regExponent, n, unobservedWeight, nOther);

    // Gather y_i (when the whole row fits) and its weight w_i = |c| − α₀. A low-memory
    // row's values are fetched in the same loop as the rows, so both sets of misses
    // overlap instead of being waited for one after the other.
    const resident = n <= gatherCapacity;
    let entryData: usize;
    if (resident && places) {
      entryData = placedPositions(places, placeShift, start, n, entryIndices, sourceIndptr, values);
      touchRowsLoadingValues(y, entryIndices, n, k, coefficients, data, values);
    } else {
      entryData = rowValues(data, places, placeShift, start, n, entryIndices, sourceIndptr, values);
      if (resident) touchRows(y, entryIndices, n, k, coefficients);
    }
    for (let j = 0; j < n; j++) {
      const e = <usize>j << 2;
      if (resident) copyRow(y + <usize>load<i32>(entryIndices + e) * rowBytes, gathered + <usize>j * rowBytes, k);
      store<f32>(weights + e, Mathf.abs(confidenceScale * load<f32>(entryData + e)) - unobservedWeight);
    }

    // r = b − A x = −(G + λI) x + Σ_i (c⁺_i − w_i·(y_i·x)) y_i
    gramTimes(diagonalGram, g, xu, lambda, r, k);
    for (let i = 0; i < k; i++) store<f32>(r + (<usize>i << 2), -load<f32>(r + (<usize>i << 2)));
    addEntryTerms(ENTRY_RESIDUAL, xu, r, n, k, chunkRows, resident, gathered, y, entryIndices, entryData, weights, coefficients, confidenceScale);

    copyRow(r, p, k);
    let rsOld = dot(r, r, k);
    if (rsOld < 1e-20) continue;
    for (let step = 0; step < cgSteps; step++) {
      // Ap = (G + λI) p + Σ_i w_i (y_i·p) y_i
      gramTimes(diagonalGram, g, p, lambda, ap, k);
      if (step == cgSteps - 1) {
        // The last step moves x only, so it needs pᵀAp = pᵀ(G + λI)p + Σ_i w_i (y_i·p)²
        // and not Ap itself: the dot products without the sum of rows, an eighth of the
        // entries' work at three steps.
        const quadratic = addEntryTerms(ENTRY_QUADRATIC, p, 0, n, k, chunkRows, resident, gathered, y, entryIndices, entryData, weights, coefficients, confidenceScale);
        axpy(rsOld / (dot(p, ap, k) + quadratic), p, xu, k);
        break;
      }
      addEntryTerms(ENTRY_AP, p, ap, n, k, chunkRows, resident, gathered, y, entryIndices, entryData, weights, coefficients, confidenceScale);
      const alpha = rsOld / dot(p, ap, k);
      axpy(alpha, p, xu, k);
      axpy(-alpha, ap, r, k);
      const rsNew = dot(r, r, k);
      if (rsNew < 1e-20) break;
      xpby(r, rsNew / rsOld, p, k);
      rsOld = rsNew;
    }
  }
}

// What a pass over a row's entries forms from d_j = y_j·v (addEntryTerms here,
// hotItemsBlock for the hot items; src/hot-items.ts passes the same numbers): a CG step's
// Σ w_j d_j y_j, the residual's Σ (c⁺_j − w_j d_j) y_j, or the last step's Σ w_j d_j².
export const ENTRY_AP = 0, ENTRY_RESIDUAL = 1, ENTRY_QUADRATIC = 2;

/**
 * A pass over a row's n entries, a chunk of rows at a time: every d_j = y_j·v first
 * (dotRows), then for ENTRY_AP and ENTRY_RESIDUAL out += Σ_j a_j y_j with `out` held in
 * registers (accumulateRows), a_j = w_j·d_j or c⁺_j − w_j·d_j; for ENTRY_QUADRATIC no
 * sum of rows: returns Σ_j w_j·d_j·d_j in entry order (otherwise 0).
 * Rows are read from the gathered block, or copied there a chunk at a time when not resident.
 */
// @ts-ignore: decorator
@inline
function addEntryTerms(
  terms: i32, v: usize, out: usize, n: i32, k: i32, chunkRows: i32, resident: bool, gathered: usize, y: usize,
  entryIndices: usize, entryData: usize, weights: usize, coefficients: usize, confidenceScale: f32,
): f32 {
  const rowBytes = <usize>k << 2;
  let quadratic: f32 = 0;
  for (let j0 = 0; j0 < n; j0 += chunkRows) {
    const m = min(chunkRows, n - j0);
    const rows = resident ? gathered + <usize>j0 * rowBytes : copyRows(y, entryIndices + (<usize>j0 << 2), m, gathered, k, coefficients);
    dotRows(rows, m, v, k, coefficients);
    for (let j = 0; j < m; j++) {
      const e = <usize>j << 2, entry = <usize>(j0 + j) << 2;
      const d = load<f32>(coefficients + e);
      const weighted = load<f32>(weights + entry) * d;
      if (terms == ENTRY_QUADRATIC) { quadratic += weighted * d; continue; }
      let a = weighted;
      if (terms == ENTRY_RESIDUAL) {
        const c = confidenceScale * load<f32>(entryData + entry);
        a = (c > 0 ? c : <f32>0) - weighted;
      }
      store<f32>(coefficients + e, a);
    }
    if (terms != ENTRY_QUADRATIC) accumulateRows(coefficients, rows, m, out, k);
  }
  return quadratic;
}

/**
 * Reads one word of every cache line of rows ids[0..m) of y, so the misses of all the rows
 * are in flight together; the copy that follows then finds them in cache. (A copy loop
 * alone waits on its stores and keeps only a row or two of misses in flight.) The words are
 * folded into `sink` so the loads are not optimized away.
 */
// @ts-ignore: decorator
@inline
function touchRows(y: usize, ids: usize, m: i32, k: i32, sink: usize): void {
  const rowBytes = <usize>k << 2;
  let folded: i32 = 0;
  for (let j = 0; j < m; j++) folded ^= touchRow(y + <usize>load<i32>(ids + (<usize>j << 2)) * rowBytes, rowBytes);
  store<i32>(sink, folded);
}

/** One word of every cache line of a row, folded (touchRows's loads). */
// @ts-ignore: decorator
@inline
function touchRow(row: usize, rowBytes: usize): i32 {
  let folded: i32 = 0;
  for (let o: usize = 0; o < rowBytes; o += 64) folded ^= load<i32>(row + o);
  return folded ^ load<i32>(row + rowBytes - 4);
}

/**
 * touchRows, and each entry's value loaded from sourceData at the position stored in
 * values[j] (u32, from placedPositions), written back over it as f32.
 */
// @ts-ignore: decorator
@inline
function touchRowsLoadingValues(y: usize, ids: usize, m: i32, k: i32, sink: usize, sourceData: usize, values: usize): void {
  const rowBytes = <usize>k << 2;
  let folded: i32 = 0;
  for (let j = 0; j < m; j++) {
    const slot = values + (<usize>j << 2);
    store<f32>(slot, load<f32>(sourceData + (<usize>load<u32>(slot) << 2)));
    folded ^= touchRow(y + <usize>load<i32>(ids + (<usize>j << 2)) * rowBytes, rowBytes);
  }
  store<i32>(sink, folded);
}

/** Row u's ids: in place in CSR indices, or decoded from a compact-columns stream into `ids`. */
// @ts-ignore: decorator
@inline
function rowIds(indices: usize, offsets: usize, u: i32, start: i32, n: i32, ids: usize): usize {
  return offsets ? decodeColumn(indices, offsets, u, n, ids) : indices + (<usize>start << 2);
}

/** Row u's values: in place, or read from the source CSR for low-memory compact columns. */
// @ts-ignore: decorator
@inline
function rowValues(data: usize, places: usize, placeShift: i32, start: i32, n: i32, ids: usize, sourceIndptr: usize, values: usize): usize {
  return places ? placedValues(places, placeShift, start, n, ids, sourceIndptr, data, values) : data + (<usize>start << 2);
}

/** Copies rows ids[0..m) of y (k floats each) to out, contiguous; returns out. `sink`: touchRows's. */
// @ts-ignore: decorator
@inline
function copyRows(y: usize, ids: usize, m: i32, out: usize, k: i32, sink: usize): usize {
  const rowBytes = <usize>k << 2;
  touchRows(y, ids, m, k, sink);
  for (let j = 0; j < m; j++) copyRow(y + <usize>load<i32>(ids + (<usize>j << 2)) * rowBytes, out + <usize>j * rowBytes, k);
  return out;
}

/**
 * Builds one row's normal equations in float64: A (k×k, upper triangle filled) and b
 * (k), from n entries given as item ids and confidences. `yRow` is k f64 of scratch.
 */
export function buildRowSystem(
  itemIds: usize, confidences: usize, n: i32, y: usize, k: i32, g: usize,
  confidenceScale: f32, lambda: f32, unobservedWeight: f32, a: usize, b: usize, yRow: usize,
): void {
  const rowBytes = <usize>k << 2;
  const rowBytes64 = <usize>k << 3;
  // A = G + λI, b = 0
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      store<f64>(a + <usize>i * rowBytes64 + (<usize>j << 3), <f64>load<f32>(g + <usize>i * rowBytes + (<usize>j << 2)));
    }
    const d = a + <usize>i * rowBytes64 + (<usize>i << 3);
    store<f64>(d, load<f64>(d) + <f64>lambda);
    store<f64>(b + (<usize>i << 3), 0);
  }
  for (let e = 0; e < n; e++) {
    const yi = y + <usize>load<i32>(itemIds + (<usize>e << 2)) * rowBytes;
    const c = <f64>(confidenceScale * load<f32>(confidences + (<usize>e << 2)));
    const weight = Math.abs(c) - <f64>unobservedWeight;
    const target: f64 = c > 0 ? c : 0;
    for (let i = 0; i < k; i++) store<f64>(yRow + (<usize>i << 3), <f64>load<f32>(yi + (<usize>i << 2)));
    // b += c⁺ y_i;  A += (|c| − α₀) y_i y_iᵀ (upper triangle, two doubles at a time)
    for (let i = 0; i < k; i++) {
      const yv = load<f64>(yRow + (<usize>i << 3));
      const bi = b + (<usize>i << 3);
      store<f64>(bi, load<f64>(bi) + target * yv);
      const s = f64x2.splat(weight * yv);
      const rowA = a + <usize>i * rowBytes64;
      let j = i & ~1;
      for (; j + 2 <= k; j += 2) {
        const o = <usize>j << 3;
        v128.store(rowA + o, f64x2.add(v128.load(rowA + o), f64x2.mul(s, v128.load(yRow + o))));
      }
      if (j < k) {
        const o = <usize>j << 3;
        store<f64>(rowA + o, load<f64>(rowA + o) + weight * yv * load<f64>(yRow + o));
      }
    }
  }
}

/**
 * In-place Cholesky A = UᵀU on the upper triangle of a k×k f64 matrix (right-looking,
 * row updates are contiguous). Returns -1, or the pivot index where A is not positive definite.
 */
export function choleskyFactor(a: usize, k: i32): i32 {
  const rowBytes64 = <usize>k << 3;
  for (let j = 0; j < k; j++) {
    const rowJ = a + <usize>j * rowBytes64;
    const pivot = load<f64>(rowJ + (<usize>j << 3));
    if (!(pivot > 0)) return j;
    const d = Math.sqrt(pivot);
    const inv = 1.0 / d;
    store<f64>(rowJ + (<usize>j << 3), d);
    for (let i = j + 1; i < k; i++) store<f64>(rowJ + (<usize>i << 3), load<f64>(rowJ + (<usize>i << 3)) * inv);
    // A[p][i] −= U[j][p]·U[j][i] for j < p ≤ i
    for (let p = j + 1; p < k; p++) {
      const ujp = load<f64>(rowJ + (<usize>p << 3));
      const rowP = a + <usize>p * rowBytes64;
      for (let i = p; i < k; i++) {
        store<f64>(rowP + (<usize>i << 3), load<f64>(rowP + (<usize>i << 3)) - ujp * load<f64>(rowJ + (<usize>i << 3)));
      }
    }
  }
  return -1;
}

/** Solves UᵀU x = b in place in b (f64), given the factor from choleskyFactor. */
export function choleskySolve(a: usize, b: usize, k: i32): void {
  const rowBytes64 = <usize>k << 3;
  // Uᵀ z = b (forward): row j of U is column j of Uᵀ.
  for (let j = 0; j < k; j++) {
    const rowJ = a + <usize>j * rowBytes64;
    const zj = load<f64>(b + (<usize>j << 3)) / load<f64>(rowJ + (<usize>j << 3));
    store<f64>(b + (<usize>j << 3), zj);
    for (let i = j + 1; i < k; i++) store<f64>(b + (<usize>i << 3), load<f64>(b + (<usize>i << 3)) - load<f64>(rowJ + (<usize>i << 3)) * zj);
  }
  // U x = z (backward)
  for (let j = k - 1; j >= 0; j--) {
    const rowJ = a + <usize>j * rowBytes64;
    let s = load<f64>(b + (<usize>j << 3));
    for (let i = j + 1; i < k; i++) s -= load<f64>(rowJ + (<usize>i << 3)) * load<f64>(b + (<usize>i << 3));
    store<f64>(b + (<usize>j << 3), s / load<f64>(rowJ + (<usize>j << 3)));
  }
}

/**
 * Exact ALS update for rows [rowStart, rowEnd) (implicit's least_squares): build each
 * row's system in f64, factor, solve, store as f32. `a` is k×k f64, `b` and `yRow` k f64;
 * rows as in solveRowsCg (`offsets`, `ids`, `places`, `placeShift`, `sourceIndptr`, `values`).
 * Returns -1, or the first row whose system is not positive definite.
 */
export function solveRowsCholesky(
  rowStart: i32, rowEnd: i32, indptr: usize, indices: usize, data: usize,
  x: usize, y: usize, k: i32, g: usize,
  confidenceScale: f32, regularization: f32, regExponent: f32, unobservedWeight: f32, nOther: i32,
  a: usize, b: usize, yRow: usize, offsets: usize, ids: usize, places: usize, placeShift: i32, sourceIndptr: usize, values: usize,
): i32 {
  for (let u = rowStart; u < rowEnd; u++) {
    const start = load<i32>(indptr + (<usize>u << 2));
    const n = load<i32>(indptr + ((<usize>u + 1) << 2)) - start;
    const lambda = rowRegularization(regularization, regExponent, n, unobservedWeight, nOther);
    const entryIndices = rowIds(indices, offsets, u, start, n, ids);
    buildRowSystem(entryIndices, rowValues(data, places, placeShift, start, n, entryIndices, sourceIndptr, values), n, y, k, g, confidenceScale, lambda, unobservedWeight, a, b, yRow);
    if (choleskyFactor(a, k) >= 0) return u;
    choleskySolve(a, b, k);
    const xu = x + <usize>u * (<usize>k << 2);
    for (let i = 0; i < k; i++) store<f32>(xu + (<usize>i << 2), <f32>load<f64>(b + (<usize>i << 3)));
  }
  return -1;
}

/**
 * The rows' share of the training loss, in f64:
 *   Σ_u [ Σ_i (|c_ui|·(p_ui − x_u·y_i)² − α₀·(x_u·y_i)²) + α₀·x_uᵀ(YᵀY)x_u + λ_u‖x_u‖² ]
 * (the unobserved cells' α₀·(x·y)² summed through the Gram matrix, minus the observed
 * ones). `gram` is the unscaled YᵀY; `work` holds k floats.
 */
export function lossRows(
  rowStart: i32, rowEnd: i32, indptr: usize, indices: usize, data: usize,
  x: usize, y: usize, k: i32, gram: usize,
  confidenceScale: f32, regularization: f32, regExponent: f32, unobservedWeight: f32, nOther: i32, work: usize,
): f64 {
  const rowBytes = <usize>k << 2;
  let loss: f64 = 0;
  for (let u = rowStart; u < rowEnd; u++) {
    const start = load<i32>(indptr + (<usize>u << 2));
    const end = load<i32>(indptr + ((<usize>u + 1) << 2));
    const xu = x + <usize>u * rowBytes;
    for (let e = start; e < end; e++) {
      const c = <f64>(confidenceScale * load<f32>(data + (<usize>e << 2)));
      const score = <f64>dot(xu, y + <usize>load<i32>(indices + (<usize>e << 2)) * rowBytes, k);
      const preference: f64 = c > 0 ? 1 : 0;
      loss += Math.abs(c) * (preference - score) * (preference - score) - <f64>unobservedWeight * score * score;
    }
    symmetricMatVec(gram, xu, 0, work, k);
    const norm = <f64>dot(xu, xu, k);
    loss += <f64>unobservedWeight * <f64>dot(xu, work, k);
    loss += <f64>rowRegularization(regularization, regExponent, end - start, unobservedWeight, nOther) * norm;
  }
  return loss;
}

/** Σ_i λ_i‖y_i‖² for the other side's regularization term of the loss. */
export function regularizationRows(
  rowStart: i32, rowEnd: i32, indptr: usize, x: usize, k: i32,
  regularization: f32, regExponent: f32, unobservedWeight: f32, nOther: i32,
): f64 {
  const rowBytes = <usize>k << 2;
  let total: f64 = 0;
  for (let u = rowStart; u < rowEnd; u++) {
    const n = load<i32>(indptr + ((<usize>u + 1) << 2)) - load<i32>(indptr + (<usize>u << 2));
    const xu = x + <usize>u * rowBytes;
    total += <f64>rowRegularization(regularization, regExponent, n, unobservedWeight, nOther) * <f64>dot(xu, xu, k);
  }
  return total;
}

/** Σ|data| over nnz entries, in f64 (the observed part of the loss's normaliser). */
export function sumAbs(data: usize, nnz: i32): f64 {
  let total: f64 = 0;
  for (let e = 0; e < nnz; e++) total += Math.abs(<f64>load<f32>(data + (<usize>e << 2)));
  return total;
}
