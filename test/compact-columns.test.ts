// ALS's items × users copy stores user ids as 16-bit gaps (src/compact-columns.ts). Checked
// against CsrMatrix.transpose(), with gaps on each side of the 0xFFFF escape, and the
// solvers on it against the same solvers on the plain transpose, bit for bit.
import { describe, expect, it } from "vitest";
import { CsrMatrix, getEngine } from "../src/index.js";
import { CompactColumns } from "../src/compact-columns.js";
import { gramOf } from "../src/gram.js";
import { firstDifference, seededRandom } from "./reference.js";

// Users 0..nRows of a few columns, with the gaps the encoding must get right; `wide` adds
// two rows of 600 entries (places past 0xFF, stored as u16 without values).
function gappyMatrix(wide = false) {
  const nRows = 400_000, nCols = wide ? 607 : 7;
  const random = seededRandom(12);
  const rows: number[] = [], cols: number[] = [], values: number[] = [];
  const add = (r: number, c: number) => { rows.push(r); cols.push(c); values.push(1 + Math.floor(random() * 9)); };
  // column 0: first id 0, then gaps 65534, 65535 (escaped), 65536, 1, 131071
  let r = 0;
  for (const gap of [0, 65534, 65535, 65536, 1, 131071]) { r += gap; add(r, 0); }
  add(nRows - 1, 1); // one id past every 16-bit value, as its first gap
  for (let u = 0; u < nRows; u += 1 + Math.floor(random() * 200)) add(u, 2); // dense column
  for (let u = 0; u < 40; u++) add(Math.floor(random() * nRows), 3 + (u % 3)); // random gaps
  // column 6 stays empty
  if (wide) for (const r of [9, nRows - 1]) for (let c = 7; c < nCols; c++) add(r, c);
  return CsrMatrix.fromCoo({ rows, cols, values, shape: [nRows, nCols] });
}

describe("CompactColumns", () => {
  it.each([
    ["values", true, false, -1], ["places as u8 (low memory)", false, false, 0], ["places as u16 (low memory, rows past 256)", false, true, 1],
  ] as const)("encodes the transpose with %s: same indptr, ids and values as CsrMatrix.transpose(), 1 or 3 units a gap", (_name, values, wide, placeShift) => {
    const matrix = gappyMatrix(wide);
    const plain = matrix.transpose();
    const compact = CompactColumns.transposeOf(matrix, { values });
    expect(compact.placeShift).toBe(placeShift);
    expect(Array.from(compact.indptr)).toEqual(Array.from(plain.indptr));
    expect(compact.decodeIndices()).toEqual(plain.indices.slice());
    expect(compact.data.slice()).toEqual(plain.data.slice());
    expect(compact.maxRowNnz()).toBe(plain.maxRowNnz());
    let units = 0;
    for (let c = 0; c < plain.nRows; c++) {
      const ids = plain.row(c).indices;
      ids.forEach((id, j) => { units += id - (j === 0 ? 0 : ids[j - 1]) < 0xffff ? 1 : 3; });
    }
    expect(compact.streamBytes()).toBe(2 * units);
    expect(CompactColumns.bytesNeeded(matrix.nRows, matrix.nCols, matrix.nnz, { values, longestRow: matrix.maxRowNnz() })).toBeGreaterThanOrEqual(
      compact.streamBytes() + (values ? 4 : 1 << placeShift) * matrix.nnz + 8 * (matrix.nCols + 1));
    compact.dispose(); plain.dispose(); matrix.dispose();
  });

  it("encodes a matrix past one 2^20-entry range the same as the plain transpose", () => {
    const nRows = 200_000, nCols = 60;
    const random = seededRandom(31);
    const rows: number[] = [], cols: number[] = [], values: number[] = [];
    // Dense columns (1-unit gaps) beside sparse ones whose gaps cross 0xFFFF.
    for (let r = 0; r < nRows; r++) for (let c = 0; c < nCols; c++) if (random() < (c < 40 ? 0.15 : 0.00002)) { rows.push(r); cols.push(c); values.push(1 + Math.floor(random() * 9)); }
    const matrix = CsrMatrix.fromCoo({ rows: Int32Array.from(rows), cols: Int32Array.from(cols), values: Float32Array.from(values), shape: [nRows, nCols] });
    expect(matrix.nnz).toBeGreaterThan(1.1 * (1 << 20));
    const plain = matrix.transpose();
    const compact = CompactColumns.transposeOf(matrix);
    expect(firstDifference(compact.indptr, plain.indptr)).toBe(-1);
    expect(firstDifference(compact.decodeIndices(), plain.indices)).toBe(-1);
    expect(firstDifference(compact.data, plain.data)).toBe(-1);
    compact.dispose(); plain.dispose(); matrix.dispose();
  });

  it("handles a matrix with no entries", () => {
    const matrix = CsrMatrix.fromCoo({ rows: [], cols: [], shape: [3, 4] });
    const compact = CompactColumns.transposeOf(matrix);
    expect(Array.from(compact.indptr)).toEqual([0, 0, 0, 0, 0]);
    expect(compact.decodeIndices().length).toBe(0);
    compact.dispose(); matrix.dispose();
  });

  for (const [solver, values, wide] of [["cg", true, false], ["cholesky", true, false], ["cg", false, false], ["cholesky", false, true]] as const) {
    it(`${solver}: rows solved from the compact copy ${values ? "with values" : `with ${wide ? "u16" : "u8"} places`} are the same bits as from the plain transpose`, () => {
      const { heap, kernels } = getEngine();
      const matrix = gappyMatrix(wide);
      const plain = matrix.transpose();
      const compact = CompactColumns.transposeOf(matrix, { values });
      const k = 8, nOther = matrix.nRows, nItems = matrix.nCols;
      const random = seededRandom(4);
      const y = heap.alloc(nOther * k * 4);
      heap.f32(y, nOther * k).forEach((_, i, a) => { a[i] = (random() - 0.5) * 0.1; });
      const g = heap.alloc(k * k * 4);
      gramOf(getEngine(), y, nOther, k, 1, g);
      const longest = plain.maxRowNnz();
      // CG gathers rows of up to `capacity` entries (with places: their values in the same
      // pass) and copies longer ones a chunk at a time; column 2 (~4,000 entries) is the
      // longer kind when the capacity is the kernel's chunk.
      const solve = (indices: number, data: number, offsets: number, places: number, placeShift: number, sourceIndptr: number, capacity = longest) => {
        const x = heap.allocZeroed(nItems * k * 4), ids = heap.alloc(longest * 4), valuesScratch = heap.alloc(longest * 4), work = heap.alloc(3 * k * 4);
        const scratch = solver === "cg"
          ? [heap.alloc(longest * k * 4), heap.alloc(longest * 4), heap.alloc(kernels.cgChunkRows(k) * 4)]
          : [heap.alloc(k * k * 8), heap.alloc(k * 8), heap.alloc(k * 8)];
        if (solver === "cg") {
          kernels.solveRowsCg(0, nItems, plain.indptrPtr, indices, data, x, y, k, g, 0.5, 0.1, 0, 1, nOther, 3,
            scratch[0], capacity, scratch[1], scratch[2], work, offsets, ids, places, placeShift, sourceIndptr, valuesScratch);
        } else {
          expect(kernels.solveRowsCholesky(0, nItems, plain.indptrPtr, indices, data, x, y, k, g, 0.5, 0.1, 0, 1, nOther,
            scratch[0], scratch[1], scratch[2], offsets, ids, places, placeShift, sourceIndptr, valuesScratch)).toBe(-1);
        }
        const result = heap.f32(x, nItems * k).slice();
        for (const p of [x, ids, valuesScratch, work, ...scratch]) heap.release(p);
        return result;
      };
      const fromPlain = solve(plain.indicesPtr, plain.dataPtr, 0, 0, 0, 0);
      const fromCompact = values
        ? solve(compact.streamPtr, compact.dataPtr, compact.offsetsPtr, 0, 0, 0)
        : solve(compact.streamPtr, matrix.dataPtr, compact.offsetsPtr, compact.dataPtr, compact.placeShift, matrix.indptrPtr);
      expect(fromPlain.some((v) => v !== 0)).toBe(true);
      expect(fromCompact).toEqual(fromPlain);
      if (solver === "cg") {
        const chunk = kernels.cgChunkRows(k);
        expect(longest).toBeGreaterThan(chunk);
        const chunked = values
          ? solve(compact.streamPtr, compact.dataPtr, compact.offsetsPtr, 0, 0, 0, chunk)
          : solve(compact.streamPtr, matrix.dataPtr, compact.offsetsPtr, compact.dataPtr, compact.placeShift, matrix.indptrPtr, chunk);
        expect(chunked).toEqual(fromPlain);
      }
      for (const p of [y, g]) heap.release(p);
      compact.dispose(); plain.dispose(); matrix.dispose();
    });
  }
});
