import { describe, expect, it } from "vitest";
import { CsrMatrix, getEngine } from "../src/index.js";
import { rowRanges } from "../src/csr.js";
import { firstDifference, randomInteractions, seededRandom } from "./reference.js";

// Dense accumulation in plain JS: the independent truth for COO → CSR.
function denseFromCoo(rows: number[], cols: number[], values: number[], nRows: number, nCols: number): number[][] {
  const dense = Array.from({ length: nRows }, () => new Array<number>(nCols).fill(0));
  rows.forEach((r, e) => { dense[r][cols[e]] += values[e]; });
  return dense;
}

describe("CsrMatrix", () => {
  it("sums duplicates and sorts columns, as scipy (hand-worked example)", () => {
    // (0,2)=1 twice and (1,0)=5, given out of order.
    const m = CsrMatrix.fromCoo({ rows: [1, 0, 0, 2, 0], cols: [0, 2, 1, 1, 2], values: [5, 1, 3, 4, 1], shape: [3, 3] });
    expect(Array.from(m.indptr)).toEqual([0, 2, 3, 4]);
    expect(Array.from(m.indices)).toEqual([1, 2, 0, 1]);
    expect(Array.from(m.data)).toEqual([3, 2, 5, 4]);
    expect(m.nnz).toBe(4);
    expect(m.get(0, 2)).toBe(2);
    expect(m.get(2, 2)).toBe(0);
  });

  it("matches dense accumulation on random COO with duplicates, sorted and unsorted rows", () => {
    const random = seededRandom(7);
    for (const sortedRows of [false, true]) {
      const nnz = 3000, nRows = 57, nCols = 91;
      let rows = Array.from({ length: nnz }, () => Math.floor(random() * nRows));
      if (sortedRows) rows = rows.sort((a, b) => a - b);
      const cols = Array.from({ length: nnz }, () => Math.floor(random() * nCols));
      const values = Array.from({ length: nnz }, () => Math.floor(random() * 9) + 1);
      const m = CsrMatrix.fromCoo({ rows, cols, values, shape: [nRows, nCols] });
      const expected = denseFromCoo(rows, cols, values, nRows, nCols);
      expect(m.toDense().map((row) => Array.from(row))).toEqual(expected);
      for (let r = 0; r < nRows; r++) {
        const { indices } = m.row(r);
        for (let e = 1; e < indices.length; e++) expect(indices[e]).toBeGreaterThan(indices[e - 1]);
      }
    }
  });

  it("builds matrices larger than fromCoo's 2^20-entry chunk: duplicates across chunks, a row order broken only at a chunk boundary, an error past the first chunk", () => {
    const nRows = 1000, nCols = 500, nnz = 2_500_000, chunk = 1 << 20;
    const random = seededRandom(9);
    const rows = new Int32Array(nnz), cols = new Int32Array(nnz), values = new Float32Array(nnz);
    for (let e = 0; e < nnz; e++) { rows[e] = Math.floor(random() * nRows); cols[e] = Math.floor(random() * nCols); values[e] = 1 + Math.floor(random() * 4); }
    // Each chunk in row order, but the second starts below where the first ended.
    const ordered = Int32Array.from(rows);
    ordered.subarray(0, chunk).sort(); ordered.subarray(chunk).sort();
    for (let e = 0; e < chunk; e++) ordered[e] = 500 + (ordered[e] >> 1);
    for (let e = chunk; e < nnz; e++) ordered[e] = ordered[e] >> 1;
    for (const rowIds of [rows, ordered]) {
      const dense = new Float64Array(nRows * nCols);
      rowIds.forEach((r, e) => { dense[r * nCols + cols[e]] += values[e]; });
      const m = CsrMatrix.fromCoo({ rows: rowIds, cols, values, shape: [nRows, nCols] });
      // The CSR the dense accumulation implies, row by row, columns ascending.
      const indptr = new Int32Array(nRows + 1), indices: number[] = [], data: number[] = [];
      for (let r = 0; r < nRows; r++) {
        for (let c = 0; c < nCols; c++) if (dense[r * nCols + c] !== 0) { indices.push(c); data.push(dense[r * nCols + c]); }
        indptr[r + 1] = indices.length;
      }
      expect(firstDifference(m.indptr, indptr)).toBe(-1);
      expect(firstDifference(m.indices, indices)).toBe(-1);
      expect(firstDifference(m.data, data)).toBe(-1);
      m.dispose();
    }
    const heap = getEngine().heap, inUse = heap.bytesInUse;
    const badCols = Int32Array.from(cols);
    badCols[2_200_000] = nCols;
    expect(() => CsrMatrix.fromCoo({ rows, cols: badCols, values, shape: [nRows, nCols] })).toThrow(/entry 2200000: col 500 is outside \[0, 500\)/);
    expect(heap.bytesInUse).toBe(inUse); // nothing left allocated
  });

  it("transposes (CSR ↔ CSC) exactly, and twice is the identity", () => {
    const coo = randomInteractions(40, 25, 0.2, 3);
    const m = CsrMatrix.fromCoo(coo);
    const t = m.transpose();
    expect(t.shape).toEqual([25, 40]);
    const dense = m.toDense();
    const denseT = t.toDense();
    for (let r = 0; r < 40; r++) for (let c = 0; c < 25; c++) expect(denseT[c][r]).toBe(dense[r][c]);
    const back = t.transpose();
    expect(Array.from(back.indptr)).toEqual(Array.from(m.indptr));
    expect(Array.from(back.indices)).toEqual(Array.from(m.indices));
    expect(Array.from(back.data)).toEqual(Array.from(m.data));
  });

  it("cuts rows into ranges of about n entries (hand-worked), a row longer than n alone", () => {
    const indptr = Int32Array.from([0, 3, 3, 10, 11, 20]);
    expect(rowRanges(indptr, 5)).toEqual([[0, 2], [2, 3], [3, 4], [4, 5]]);
    expect(rowRanges(indptr, 100)).toEqual([[0, 5]]);
    expect(rowRanges(Int32Array.from([0]), 5)).toEqual([]);
    expect(rowRanges(Int32Array.from([0, 0, 0]), 5)).toEqual([[0, 2]]);
  });

  it("transposes a matrix past one 2^20-entry range exactly (against a transpose in plain JS)", () => {
    const nRows = 3000, nCols = 1000;
    const random = seededRandom(21);
    const rows: number[] = [], cols: number[] = [], values: number[] = [];
    for (let r = 0; r < nRows; r++) for (let c = 0; c < nCols; c++) if (random() < 0.45) { rows.push(r); cols.push(c); values.push(1 + Math.floor(random() * 50)); }
    const m = CsrMatrix.fromCoo({ rows: Int32Array.from(rows), cols: Int32Array.from(cols), values: Float32Array.from(values), shape: [nRows, nCols] });
    expect(m.nnz).toBeGreaterThan(1.2 * (1 << 20));
    expect(rowRanges(m.indptr).length).toBeGreaterThan(1);
    // Column by column, rows ascending: the reference transpose.
    const byColumn: Array<Array<[number, number]>> = Array.from({ length: nCols }, () => []);
    rows.forEach((r, e) => byColumn[cols[e]].push([r, values[e]]));
    const indptr = new Int32Array(nCols + 1), indices = new Int32Array(rows.length), data = new Float32Array(rows.length);
    let e = 0;
    byColumn.forEach((entries, c) => { for (const [r, v] of entries) { indices[e] = r; data[e++] = v; } indptr[c + 1] = e; });
    const t = m.transpose();
    expect(firstDifference(t.indptr, indptr)).toBe(-1);
    expect(firstDifference(t.indices, indices)).toBe(-1);
    expect(firstDifference(t.data, data)).toBe(-1);
    t.dispose(); m.dispose();
  });

  it("infers the shape, defaults values to 1 and keeps empty rows", () => {
    const m = CsrMatrix.fromCoo({ rows: [0, 3], cols: [4, 0] });
    expect(m.shape).toEqual([4, 5]);
    expect(m.rowNnz(1)).toBe(0);
    expect(Array.from(m.row(3).data)).toEqual([1]);
  });

  it("refuses bad input with errors that name the entry", () => {
    expect(() => CsrMatrix.fromCoo({ rows: [0, 5], cols: [0, 1], shape: [3, 3] })).toThrow(/entry 1: row 5 is outside \[0, 3\)/);
    expect(() => CsrMatrix.fromCoo({ rows: [0, 1], cols: [0, -1], shape: [3, 3] })).toThrow(/entry 1: col -1 is outside/);
    expect(() => CsrMatrix.fromCoo({ rows: [0, 1], cols: [0, 1], values: [1, NaN], shape: [3, 3] })).toThrow(/entry 1 \(row 1, col 1\): value NaN is not a finite number/);
    expect(() => CsrMatrix.fromCoo({ rows: [0, 1.5], cols: [0, 1], shape: [3, 3] })).toThrow(/entry 1: rows index 1.5 is not an integer/);
    expect(() => CsrMatrix.fromCoo({ rows: [0, 1], cols: [0], shape: [3, 3] })).toThrow(/rows has 2 entries but cols has 1/);
    expect(() => CsrMatrix.fromCoo({ rows: [0], cols: [0] }).row(1)).toThrow(/row 1 is outside/);
  });

  it("refuses use after dispose", () => {
    const m = CsrMatrix.fromDense([[1, 0], [0, 1]]);
    m.dispose();
    expect(() => m.indptr).toThrow(/after dispose/);
  });
});
