// Compressed sparse rows: indptr (i32, nRows+1), indices (i32, nnz), data (f32, nnz).
// The host allocates every array; these kernels only read and write them.

/**
 * First COO entry that cannot go into an nRows×nCols matrix (index out of range or
 * value not finite), or -1 when all are fine. Lets the host name the bad entry.
 */
export function cooFirstInvalid(rows: usize, cols: usize, values: usize, nnz: i32, nRows: i32, nCols: i32): i32 {
  for (let e = 0; e < nnz; e++) {
    const o = <usize>e << 2;
    const r = load<i32>(rows + o);
    const c = load<i32>(cols + o);
    const v = load<f32>(values + o);
    if (<u32>r >= <u32>nRows || <u32>c >= <u32>nCols || !isFinite<f32>(v)) return e;
  }
  return -1;
}

/** True when COO row ids never decrease, so cols/values already sit in CSR order. */
export function isNonDecreasing(values: usize, n: i32): bool {
  for (let e = 1; e < n; e++) {
    if (load<i32>(values + (<usize>e << 2)) < load<i32>(values + (<usize>(e - 1) << 2))) return false;
  }
  return true;
}

/** indptr[r + 1] += the entries of row r among rowIds[0, n): a counting pass, a chunk at a time. */
export function addRowCounts(rowIds: usize, n: i32, indptr: usize): void {
  for (let e = 0; e < n; e++) {
    const p = indptr + ((<usize>load<i32>(rowIds + (<usize>e << 2)) + 1) << 2);
    store<i32>(p, load<i32>(p) + 1);
  }
}

/** indptr[r] = first position of row r, from the counts addRowCounts left (indptr[0] = 0). */
export function countsToIndptr(indptr: usize, nRows: i32): void {
  for (let r = 0; r < nRows; r++) {
    const p = indptr + ((<usize>r + 1) << 2);
    store<i32>(p, load<i32>(p) + load<i32>(p - 4));
  }
}

/**
 * Stable scatter of n entries into row buckets: entry e goes to row rowIds[e] at the next
 * free slot, `cursor` (nRows i32, starting as the row starts) advancing. Called chunk by
 * chunk in entry order, it keeps every row's entries in input order.
 */
export function scatterRows(rowIds: usize, colIds: usize, values: usize, n: i32, cursor: usize, outIndices: usize, outData: usize): void {
  for (let e = 0; e < n; e++) {
    const o = <usize>e << 2;
    const slot = cursor + (<usize>load<i32>(rowIds + o) << 2);
    const dst = <usize>load<i32>(slot) << 2;
    store<i32>(slot, load<i32>(slot) + 1);
    store<i32>(outIndices + dst, load<i32>(colIds + o));
    store<f32>(outData + dst, load<f32>(values + o));
  }
}

/**
 * Sorts each row by column and sums duplicate entries (as scipy's sum_duplicates),
 * compacting in place and rewriting indptr. Returns the new nnz.
 * Rows that are already sorted, the common case, cost one pass.
 */
export function sortRowsSumDuplicates(indptr: usize, indices: usize, data: usize, nRows: i32): i32 {
  let write = 0;
  let start = load<i32>(indptr);
  for (let r = 0; r < nRows; r++) {
    const end = load<i32>(indptr + ((<usize>r + 1) << 2));
    sortRow(indices, data, start, end);
    const rowStart = write;
    for (let e = start; e < end; e++) {
      const col = load<i32>(indices + (<usize>e << 2));
      const value = load<f32>(data + (<usize>e << 2));
      if (write > rowStart && load<i32>(indices + (<usize>(write - 1) << 2)) == col) {
        const p = data + (<usize>(write - 1) << 2);
        store<f32>(p, load<f32>(p) + value);
      } else {
        store<i32>(indices + (<usize>write << 2), col);
        store<f32>(data + (<usize>write << 2), value);
        write++;
      }
    }
    start = end;
    store<i32>(indptr + ((<usize>r + 1) << 2), write);
  }
  return write;
}

// Sorts entries [start, end) by column, carrying values along. Stable order is not
// needed (equal columns are summed next), so short rows use insertion sort and long
// unsorted rows an in-place heapsort: no allocation, O(n log n) worst case.
function sortRow(indices: usize, data: usize, start: i32, end: i32): void {
  let sorted = true;
  for (let e = start + 1; e < end; e++) {
    if (load<i32>(indices + (<usize>e << 2)) < load<i32>(indices + (<usize>(e - 1) << 2))) { sorted = false; break; }
  }
  if (sorted) return;
  const n = end - start;
  const keys = indices + (<usize>start << 2);
  const vals = data + (<usize>start << 2);
  if (n <= 32) {
    for (let i = 1; i < n; i++) {
      const key = load<i32>(keys + (<usize>i << 2));
      const val = load<f32>(vals + (<usize>i << 2));
      let j = i - 1;
      while (j >= 0 && load<i32>(keys + (<usize>j << 2)) > key) {
        store<i32>(keys + (<usize>(j + 1) << 2), load<i32>(keys + (<usize>j << 2)));
        store<f32>(vals + (<usize>(j + 1) << 2), load<f32>(vals + (<usize>j << 2)));
        j--;
      }
      store<i32>(keys + (<usize>(j + 1) << 2), key);
      store<f32>(vals + (<usize>(j + 1) << 2), val);
    }
    return;
  }
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(keys, vals, i, n);
  for (let last = n - 1; last > 0; last--) {
    swap(keys, vals, 0, last);
    siftDown(keys, vals, 0, last);
  }
}

function siftDown(keys: usize, vals: usize, root: i32, n: i32): void {
  while (true) {
    let child = 2 * root + 1;
    if (child >= n) return;
    if (child + 1 < n && load<i32>(keys + (<usize>(child + 1) << 2)) > load<i32>(keys + (<usize>child << 2))) child++;
    if (load<i32>(keys + (<usize>root << 2)) >= load<i32>(keys + (<usize>child << 2))) return;
    swap(keys, vals, root, child);
    root = child;
  }
}

// @ts-ignore: decorator
@inline
function swap(keys: usize, vals: usize, a: i32, b: i32): void {
  const ka = keys + (<usize>a << 2), kb = keys + (<usize>b << 2);
  const va = vals + (<usize>a << 2), vb = vals + (<usize>b << 2);
  const k = load<i32>(ka); store<i32>(ka, load<i32>(kb)); store<i32>(kb, k);
  const v = load<f32>(va); store<f32>(va, load<f32>(vb)); store<f32>(vb, v);
}

/**
 * Scatters rows [rowStart, rowEnd) of a CSR matrix into its transpose: entry (r, c) goes
 * to the next free slot of column c, `cursor` (nCols i32, starting as the transpose's row
 * starts) advancing. Called on consecutive row ranges in order, every column's rows arrive
 * sorted. The host calls it a range at a time, so a first use runs only one range in V8's
 * baseline tier.
 */
export function transposeRows(
  indptr: usize, indices: usize, data: usize, rowStart: i32, rowEnd: i32,
  cursor: usize, outIndices: usize, outData: usize,
): void {
  for (let r = rowStart; r < rowEnd; r++) {
    const end = load<i32>(indptr + ((<usize>r + 1) << 2));
    for (let e = load<i32>(indptr + (<usize>r << 2)); e < end; e++) {
      const o = <usize>e << 2;
      const slot = cursor + (<usize>load<i32>(indices + o) << 2);
      const dst = <usize>load<i32>(slot) << 2;
      store<i32>(slot, load<i32>(slot) + 1);
      store<i32>(outIndices + dst, r);
      store<f32>(outData + dst, load<f32>(data + o));
    }
  }
}
