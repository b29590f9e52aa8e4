// Confidence weighting schemes from implicit.nearest_neighbours. The maths is written once,
// over entries (document, term, value), and used both for a CsrMatrix (rows are the
// documents, columns the terms; here) and for interaction columns (dataset/transforms.ts).
// implicit's Last.fm example weights the items × users matrix, i.e.
// bm25Weight(userItems.transpose()).transpose().

import { CsrMatrix, lastAtMost, rowRanges } from "./csr.js";
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

// Okapi BM25 of one entry: value·(K1 + 1)/(K1·norm_d + value)·idf_t.
function bm25(value: number, K1: number, lengthNorm: number, idf: number): number {
  return ((value * (K1 + 1)) / (K1 * lengthNorm + value)) * idf;
}

// norm_d = (1 − B) + B·rowSum_d/mean(rowSum) over all nDocs documents (empty ones too, as
// implicit counts a matrix's rows), in place over the row sums.
function lengthNorms(rowSums: Float64Array, B: number): Float64Array {
  let total = 0;
  for (let d = 0; d < rowSums.length; d++) total += rowSums[d];
  const meanRowSum = total / rowSums.length;
  for (let d = 0; d < rowSums.length; d++) rowSums[d] = (1 - B) + (B * rowSums[d]) / meanRowSum;
  return rowSums;
}

/**
 * Okapi BM25 per entry (document doc[e], term term[e]), computed in float64 and returned as
 * stored (float32). See bm25() and lengthNorms() for the formula.
 */
export function bm25Values(doc: ArrayLike<number>, term: ArrayLike<number>, values: ArrayLike<number>, nDocs: number, nTerms: number, K1: number, B: number): Float32Array {
  const idf = inverseDocumentFrequency(term, nDocs, nTerms);
  const rowSums = new Float64Array(nDocs);
  for (let e = 0; e < values.length; e++) rowSums[doc[e]] += values[e];
  const norms = lengthNorms(rowSums, B);
  const out = new Float32Array(values.length);
  for (let e = 0; e < values.length; e++) out[e] = bm25(values[e], K1, norms[doc[e]], idf[term[e]]);
  return out;
}

// TF-IDF of one entry, as implicit: √value · idf_t.
function tfidf(value: number, idf: number): number {
  return Math.sqrt(value) * idf;
}

/** TF-IDF per entry (float64, returned as stored). See tfidf(). */
export function tfidfValues(term: ArrayLike<number>, values: ArrayLike<number>, nDocs: number, nTerms: number): Float32Array {
  const idf = inverseDocumentFrequency(term, nDocs, nTerms);
  return Float32Array.from(values, (v, e) => tfidf(v, idf[term[e]]));
}

/**
 * bm25Values over a CSR matrix (rows = documents), the same bits. Defaults K1 = 100,
 * B = 0.8 (implicit's bm25_weight). The per-entry loop runs in wasm (assembly/weighting.ts),
 * a range of rows a call: every weight is checked before any is written.
 */
export function bm25Weight(matrix: CsrMatrix, { K1 = 100, B = 0.8, inPlace = false }: { K1?: number; B?: number; inPlace?: boolean } = {}): CsrMatrix {
  const { engine, nRows, nCols } = matrix;
  const { heap, kernels } = engine;
  const indptr = matrix.indptr, data = matrix.data;
  const idf = inverseDocumentFrequency(matrix.indices, nRows, nCols);
  const rowSums = new Float64Array(nRows);
  for (let r = 0; r < nRows; r++) for (let e = indptr[r]; e < indptr[r + 1]; e++) rowSums[r] += data[e];
  const norms = lengthNorms(rowSums, B);
  const normsPtr = heap.alloc(Math.max(nRows, 1) * 8), idfPtr = heap.alloc(Math.max(nCols, 1) * 8);
  try {
    heap.f64(normsPtr, nRows).set(norms);
    heap.f64(idfPtr, nCols).set(idf);
    // A fresh view: the allocations above may have grown the memory, detaching `indptr`.
    const ranges = rowRanges(matrix.indptr);
    const pass = (source: CsrMatrix, out: number) => {
      for (const [start, end] of ranges) {
        const bad = kernels.bm25Rows(source.indptrPtr, source.indicesPtr, source.dataPtr, start, end, K1, normsPtr, idfPtr, out);
        if (bad >= 0) return bad;
      }
      return -1;
    };
    const bad = pass(matrix, 0);
    if (bad >= 0) {
      const row = lastAtMost(matrix.indptr, bad, 0, nRows - 1), col = matrix.indices[bad], value = matrix.data[bad];
      throw new RangeError(`bm25Weight: row ${row}, col ${col}: weight ${Math.fround(bm25(value, K1, norms[row], idf[col]))} of value ${value} is not a finite number`);
    }
    const target = inPlace ? matrix : matrix.copy();
    pass(target, target.dataPtr);
    return target;
  } finally {
    heap.release(idfPtr);
    heap.release(normsPtr);
  }
}


/** tfidfValues over a CSR matrix (rows = documents), as implicit's tfidf_weight. */
export function tfidfWeight(matrix: CsrMatrix, { inPlace = false }: { inPlace?: boolean } = {}): CsrMatrix {
  const idf = inverseDocumentFrequency(matrix.indices, matrix.nRows, matrix.nCols);
  return reweight("tfidfWeight", matrix, inPlace, (value, _row, col) => tfidf(value, idf[col]));
}

// The matrix with every value replaced by weight(value, row, col): its own (inPlace) or a
// copy's. Every weight is checked before any is written, computing them twice so that a
// large matrix needs no second array of its size.
function reweight(name: string, matrix: CsrMatrix, inPlace: boolean, weight: (value: number, row: number, col: number) => number): CsrMatrix {
  const indptr = matrix.indptr, indices = matrix.indices, data = matrix.data;
  for (let r = 0; r < matrix.nRows; r++) {
    for (let e = indptr[r]; e < indptr[r + 1]; e++) {
      const w = weight(data[e], r, indices[e]);
      if (!Number.isFinite(w)) throw new RangeError(`${name}: row ${r}, col ${indices[e]}: weight ${w} of value ${data[e]} is not a finite number`);
    }
  }
  const target = inPlace ? matrix : matrix.copy();
  // Fresh views: the copy may have grown the memory, which detaches the ones above.
  const targetIndptr = target.indptr, targetIndices = target.indices, out = target.data;
  for (let r = 0; r < target.nRows; r++) {
    for (let e = targetIndptr[r]; e < targetIndptr[r + 1]; e++) out[e] = weight(out[e], r, targetIndices[e]);
  }
  return target;
}
