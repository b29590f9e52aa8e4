// Confidence weighting schemes from implicit.nearest_neighbours. The maths is written once,
// over entries (document, term, value), and used both for a CsrMatrix (rows are the
// documents, columns the terms; here) and for interaction columns (dataset/transforms.ts).
// implicit's Last.fm example weights the items × users matrix, i.e.
// bm25Weight(userItems.transpose()).transpose().

import { CsrMatrix } from "./csr.js";
import { log } from "./math.js";

/**
 * idf_t = ln(N) − ln(1 + df_t), N documents, df_t the entries of term t (entries are
 * distinct (document, term) pairs). One wasm log per term: the same bits on every runtime,
 * and a term every document has weighs exactly 0.
 */
function inverseDocumentFrequency(term: ArrayLike<number>, nDocs: number, nTerms: number): Float64Array {
  const df = new Float64Array(nTerms);
  for (let e = 0; e < term.length; e++) df[term[e]]++;
  return df.map((count) => log(nDocs / (1 + count)));
}

/**
 * Okapi BM25 per entry: value·(K1 + 1)/(K1·norm_d + value)·idf_t, where
 * norm_d = (1 − B) + B·rowSum_d/mean(rowSum) over all nDocs documents (empty ones too, as
 * implicit counts a matrix's rows). Computed in float64, returned as stored (float32).
 */
export function bm25Values(doc: ArrayLike<number>, term: ArrayLike<number>, values: ArrayLike<number>, nDocs: number, nTerms: number, K1: number, B: number): Float32Array {
  const idf = inverseDocumentFrequency(term, nDocs, nTerms);
  const lengthNorm = new Float64Array(nDocs);
  let total = 0;
  for (let e = 0; e < values.length; e++) { lengthNorm[doc[e]] += values[e]; total += values[e]; }
  const meanRowSum = total / nDocs;
  for (let d = 0; d < nDocs; d++) lengthNorm[d] = (1 - B) + (B * lengthNorm[d]) / meanRowSum;
  const out = new Float32Array(values.length);
  for (let e = 0; e < values.length; e++) {
    const v = values[e];
    out[e] = ((v * (K1 + 1)) / (K1 * lengthNorm[doc[e]] + v)) * idf[term[e]];
  }
  return out;
}

/** TF-IDF per entry as implicit: √value · idf_t (float64, returned as stored). */
export function tfidfValues(term: ArrayLike<number>, values: ArrayLike<number>, nDocs: number, nTerms: number): Float32Array {
  const idf = inverseDocumentFrequency(term, nDocs, nTerms);
  return Float32Array.from(values, (v, e) => Math.sqrt(v) * idf[term[e]]);
}

/** bm25Values over a CSR matrix (rows = documents). Defaults K1 = 100, B = 0.8 (implicit's bm25_weight). */
export function bm25Weight(matrix: CsrMatrix, { K1 = 100, B = 0.8, inPlace = false }: { K1?: number; B?: number; inPlace?: boolean } = {}): CsrMatrix {
  const weighted = bm25Values(rowOfEachEntry(matrix), matrix.indices, matrix.data, matrix.nRows, matrix.nCols, K1, B);
  return withValues(matrix, weighted, inPlace);
}

/** tfidfValues over a CSR matrix (rows = documents), as implicit's tfidf_weight. */
export function tfidfWeight(matrix: CsrMatrix, { inPlace = false }: { inPlace?: boolean } = {}): CsrMatrix {
  return withValues(matrix, tfidfValues(matrix.indices, matrix.data, matrix.nRows, matrix.nCols), inPlace);
}

function rowOfEachEntry(matrix: CsrMatrix): Int32Array {
  const indptr = matrix.indptr;
  const rows = new Int32Array(matrix.nnz);
  for (let r = 0; r < matrix.nRows; r++) rows.fill(r, indptr[r], indptr[r + 1]);
  return rows;
}

// The matrix with these entry values: its own (inPlace, no second copy of a large matrix)
// or a copy. mapInPlace visits entries in storage order, so entry e gets values[e]; it
// also refuses non-finite values before writing any.
function withValues(matrix: CsrMatrix, values: Float32Array, inPlace: boolean): CsrMatrix {
  let entry = 0;
  const next = () => values[entry++];
  return inPlace ? matrix.mapInPlace(next) : matrix.map(next);
}
