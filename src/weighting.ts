// Confidence weighting schemes from implicit.nearest_neighbours, applied to a copy
// (or in place, to spare memory on big matrices).
// Rows are "documents" and columns "terms": implicit's Last.fm example weights the
// items × users matrix, i.e. bm25Weight(userItems.transpose()).transpose().

import { CsrMatrix } from "./csr.js";
import { log } from "./math.js";

/** idf_c = ln(N) − ln(1 + df_c) with N rows and df_c the rows holding column c (implicit's form). */
function inverseDocumentFrequency(matrix: CsrMatrix): Float64Array {
  const df = new Float64Array(matrix.nCols);
  for (const c of matrix.indices) df[c]++;
  // Runtime-independent logs (the weights, and so the model, are the same bits
  // everywhere), and ln(N) − ln(1 + df) as one log so a term in every row weighs exactly 0.
  return df.map((count) => log(matrix.nRows / (1 + count)));
}

/**
 * Okapi BM25: value·(K1 + 1)/(K1·lengthNorm_r + value)·idf_c, where
 * lengthNorm_r = (1 − B) + B·rowSum_r/mean(rowSum). Defaults K1 = 100, B = 0.8 (implicit's).
 */
export function bm25Weight(matrix: CsrMatrix, { K1 = 100, B = 0.8, inPlace = false }: { K1?: number; B?: number; inPlace?: boolean } = {}): CsrMatrix {
  const idf = inverseDocumentFrequency(matrix);
  const indptr = matrix.indptr, data = matrix.data;
  const lengthNorm = new Float64Array(matrix.nRows);
  let total = 0;
  for (let r = 0; r < matrix.nRows; r++) {
    let sum = 0;
    for (let e = indptr[r]; e < indptr[r + 1]; e++) sum += data[e];
    lengthNorm[r] = sum;
    total += sum;
  }
  const average = total / matrix.nRows;
  for (let r = 0; r < matrix.nRows; r++) lengthNorm[r] = (1 - B) + (B * lengthNorm[r]) / average;
  return reweight(matrix, inPlace, (value, r, c) => (value * (K1 + 1)) / (K1 * lengthNorm[r] + value) * idf[c]);
}

/** TF-IDF as implicit: √value · idf_c. */
export function tfidfWeight(matrix: CsrMatrix, { inPlace = false }: { inPlace?: boolean } = {}): CsrMatrix {
  const idf = inverseDocumentFrequency(matrix);
  return reweight(matrix, inPlace, (value, _r, c) => Math.sqrt(value) * idf[c]);
}

// inPlace rewrites the matrix's own values: no second copy of a large matrix.
function reweight(matrix: CsrMatrix, inPlace: boolean, fn: (value: number, row: number, col: number) => number): CsrMatrix {
  return inPlace ? matrix.mapInPlace(fn) : matrix.map(fn);
}
