// Confidence weighting of a CSR matrix's values in place (the maths is src/weighting.ts's,
// which computes the per-row and per-column terms; this is its per-entry loop).

/**
 * Okapi BM25 of the entries of rows [rowStart, rowEnd) of a CSR matrix (rows are
 * documents, columns terms): value·(K1 + 1)/(K1·norm_r + value)·idf_c in f64 (norms and
 * idf are f64 per row and per column), stored as f32 at `out` (entry-indexed like data),
 * or only checked when `out` is 0. Returns the first entry whose weight is not a finite
 * f32, or -1; nothing past it is written.
 */
export function bm25Rows(
  indptr: usize, indices: usize, data: usize, rowStart: i32, rowEnd: i32,
  K1: f64, norms: usize, idf: usize, out: usize,
): i32 {
  for (let r = rowStart; r < rowEnd; r++) {
    const lengthTerm = K1 * load<f64>(norms + (<usize>r << 3));
    const end = load<i32>(indptr + ((<usize>r + 1) << 2));
    for (let e = load<i32>(indptr + (<usize>r << 2)); e < end; e++) {
      const value = <f64>load<f32>(data + (<usize>e << 2));
      const weight = <f32>(((value * (K1 + 1)) / (lengthTerm + value)) * load<f64>(idf + (<usize>load<i32>(indices + (<usize>e << 2)) << 3)));
      if (weight - weight != 0) return e; // NaN or ±Infinity
      if (out) store<f32>(out + (<usize>e << 2), weight);
    }
  }
  return -1;
}
