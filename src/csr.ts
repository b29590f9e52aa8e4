// Sparse matrices in compressed sparse row form, stored in wasm memory so kernels read
// them in place. Rows are users and columns items in a user_items matrix, as implicit.

import { getEngine, type Engine } from "./engine.js";

/** Coordinate-format input: entry e is (rows[e], cols[e]) = values[e]. */
export interface CooInput {
  rows: ArrayLike<number>;
  cols: ArrayLike<number>;
  /** Defaults to 1 for every entry. */
  values?: ArrayLike<number>;
  /** [nRows, nCols]; defaults to one past the largest row and column index. */
  shape?: readonly [number, number];
}

/** A view of one row: column indices (ascending) and their values. */
export interface SparseRow {
  indices: Int32Array;
  data: Float32Array;
}

// Frees the wasm blocks of matrices nobody disposed, once they are garbage.
const finalizer = new FinalizationRegistry<{ engine: Engine; ptrs: number[] }>(({ engine, ptrs }) => {
  for (const ptr of ptrs) engine.heap.release(ptr);
});

/**
 * A float32 CSR matrix in wasm memory (scipy's csr_matrix, minus what recommenders do
 * not need). `indptr`, `indices` and `data` are views into wasm memory: read them, do
 * not keep them across calls that may allocate.
 */
export class CsrMatrix {
  readonly nRows: number;
  readonly nCols: number;
  readonly nnz: number;
  /** @internal */ readonly engine: Engine;
  /** @internal */ readonly indptrPtr: number;
  /** @internal */ readonly indicesPtr: number;
  /** @internal */ readonly dataPtr: number;
  private disposed = false;

  /** @internal Use fromCoo / fromDense / fromCsr. */
  constructor(engine: Engine, nRows: number, nCols: number, nnz: number, indptrPtr: number, indicesPtr: number, dataPtr: number) {
    this.engine = engine;
    this.nRows = nRows;
    this.nCols = nCols;
    this.nnz = nnz;
    this.indptrPtr = indptrPtr;
    this.indicesPtr = indicesPtr;
    this.dataPtr = dataPtr;
    finalizer.register(this, { engine, ptrs: [indptrPtr, indicesPtr, dataPtr] }, this);
  }

  /**
   * Builds a CSR matrix from coordinates, summing duplicate entries as scipy does.
   * Throws on an index outside the shape or a value that is not a finite number,
   * naming the entry.
   */
  static fromCoo(coo: CooInput): CsrMatrix {
    const engine = getEngine();
    const { heap, kernels } = engine;
    const nnz = coo.rows.length;
    if (coo.cols.length !== nnz) throw new Error(`CsrMatrix.fromCoo: rows has ${nnz} entries but cols has ${coo.cols.length}`);
    if (coo.values && coo.values.length !== nnz) throw new Error(`CsrMatrix.fromCoo: rows has ${nnz} entries but values has ${coo.values.length}`);
    const [nRows, nCols] = coo.shape ?? [maxIndex(coo.rows, "rows") + 1, maxIndex(coo.cols, "cols") + 1];
    checkDimension(nRows, "rows"); checkDimension(nCols, "cols");

    // Two passes over the caller's arrays, a chunk at a time, so wasm memory holds the
    // finished matrix and one chunk, never a full copy of the coordinates: the first
    // checks every entry, counts each row's entries and puts cols and values in place
    // (right when rows come in order); entries out of order are scattered by the second.
    const chunk = Math.max(1, Math.min(nnz, COO_CHUNK));
    const owned: number[] = [];
    const alloc = (bytes: number) => { const ptr = heap.alloc(Math.max(bytes, 4)); owned.push(ptr); return ptr; };
    // Entries [first, first + count) of the caller's arrays, as i32 row ids, i32 cols, f32 values.
    const copyChunk = (first: number, count: number, rowsAt: number, colsAt: number, valuesAt: number) => {
      copyIndicesInto(engine, coo.rows, first, count, rowsAt, "rows");
      copyIndicesInto(engine, coo.cols, first, count, colsAt, "cols");
      copyValuesInto(engine, coo.values, first, count, valuesAt);
    };
    // Scratch first, below the matrix, so freeing it leaves one hole at the bottom of the
    // heap rather than gaps beside the blocks that stay.
    const scratch = [heap.alloc(chunk * 4)];
    const stageRows = scratch[0];
    try {
      const indptrPtr = alloc((nRows + 1) * 4), indicesPtr = alloc(nnz * 4), dataPtr = alloc(nnz * 4);
      heap.i32(indptrPtr, nRows + 1).fill(0);
      let inOrder = true, lastRow = -1;
      for (let first = 0; first < nnz; first += chunk) {
        const count = Math.min(chunk, nnz - first);
        const cols = indicesPtr + first * 4, values = dataPtr + first * 4;
        copyChunk(first, count, stageRows, cols, values);
        const bad = kernels.cooFirstInvalid(stageRows, cols, values, count, nRows, nCols);
        if (bad >= 0) throw invalidEntry(first + bad, heap.i32(stageRows, count)[bad], heap.i32(cols, count)[bad], coo.values ? coo.values[first + bad] : 1, nRows, nCols);
        kernels.addRowCounts(stageRows, count, indptrPtr);
        const rows = heap.i32(stageRows, count);
        if (inOrder) inOrder = rows[0] >= lastRow && !!kernels.isNonDecreasing(stageRows, count);
        lastRow = rows[count - 1];
      }
      kernels.countsToIndptr(indptrPtr, nRows);
      if (!inOrder) {
        for (const bytes of [nRows * 4, chunk * 4, chunk * 4]) scratch.push(heap.alloc(bytes));
        const [, cursor, stageCols, stageValues] = scratch;
        heap.i32(cursor, nRows).set(heap.i32(indptrPtr, nRows));
        for (let first = 0; first < nnz; first += chunk) {
          const count = Math.min(chunk, nnz - first);
          copyChunk(first, count, stageRows, stageCols, stageValues);
          kernels.scatterRows(stageRows, stageCols, stageValues, count, cursor, indicesPtr, dataPtr);
        }
      }
      const finalNnz = kernels.sortRowsSumDuplicates(indptrPtr, indicesPtr, dataPtr, nRows);
      return new CsrMatrix(engine, nRows, nCols, finalNnz, indptrPtr, indicesPtr, dataPtr);
    } catch (error) {
      for (const ptr of owned) heap.release(ptr);
      throw error;
    } finally {
      for (const ptr of scratch) heap.release(ptr);
    }
  }

  /**
   * From CSR arrays as scipy.sparse.csr_matrix holds them (indptr, indices, data), copied
   * into wasm memory after checking they form a valid matrix with sorted, distinct
   * column indices in every row.
   */
  static fromCsr({ indptr, indices, data, shape }: { indptr: ArrayLike<number>; indices: ArrayLike<number>; data: ArrayLike<number>; shape: readonly [number, number] }): CsrMatrix {
    const [nRows, nCols] = shape;
    checkDimension(nRows, "rows"); checkDimension(nCols, "cols");
    const fail = (why: string): never => { throw new RangeError(`CsrMatrix.fromCsr: ${why}`); };
    if (indptr.length !== nRows + 1) fail(`indptr has ${indptr.length} entries, a ${nRows}-row matrix needs ${nRows + 1}`);
    const nnz = indices.length;
    if (data.length !== nnz) fail(`indices has ${nnz} entries but data has ${data.length}`);
    if (indptr[0] !== 0 || indptr[nRows] !== nnz) fail(`indptr must run from 0 to nnz (${nnz})`);
    for (let r = 0; r < nRows; r++) {
      if (!(indptr[r + 1] >= indptr[r])) fail(`indptr decreases at row ${r}`);
      for (let e = indptr[r]; e < indptr[r + 1]; e++) {
        const c = indices[e];
        if (!Number.isInteger(c) || c < 0 || c >= nCols) fail(`row ${r}: col ${c} is outside [0, ${nCols})`);
        if (e > indptr[r] && c <= indices[e - 1]) fail(`row ${r}: column indices must be sorted and distinct`);
        if (!Number.isFinite(data[e])) fail(`row ${r}, col ${c}: value ${data[e]} is not a finite number`);
      }
    }
    const engine = getEngine();
    const { heap } = engine;
    const indptrPtr = heap.alloc((nRows + 1) * 4), indicesPtr = heap.alloc(Math.max(nnz, 1) * 4), dataPtr = heap.alloc(Math.max(nnz, 1) * 4);
    heap.i32(indptrPtr, nRows + 1).set(indptr);
    heap.i32(indicesPtr, nnz).set(indices);
    heap.f32(dataPtr, nnz).set(data);
    return new CsrMatrix(engine, nRows, nCols, nnz, indptrPtr, indicesPtr, dataPtr);
  }

  /** From a dense row-major array of rows (zeros are left out). Handy for small examples. */
  static fromDense(dense: ArrayLike<ArrayLike<number>>): CsrMatrix {
    const rows: number[] = [], cols: number[] = [], values: number[] = [];
    const nCols = dense.length ? dense[0].length : 0;
    for (let r = 0; r < dense.length; r++) {
      if (dense[r].length !== nCols) throw new Error(`CsrMatrix.fromDense: row ${r} has ${dense[r].length} columns, row 0 has ${nCols}`);
      for (let c = 0; c < nCols; c++) {
        if (dense[r][c] !== 0) { rows.push(r); cols.push(c); values.push(dense[r][c]); }
      }
    }
    return CsrMatrix.fromCoo({ rows, cols, values, shape: [dense.length, nCols] });
  }

  /** [nRows, nCols] */
  get shape(): [number, number] { return [this.nRows, this.nCols]; }
  /** Row r occupies positions indptr[r] .. indptr[r+1] of indices/data. */
  get indptr(): Int32Array { this.check(); return this.engine.heap.i32(this.indptrPtr, this.nRows + 1); }
  get indices(): Int32Array { this.check(); return this.engine.heap.i32(this.indicesPtr, this.nnz); }
  get data(): Float32Array { this.check(); return this.engine.heap.f32(this.dataPtr, this.nnz); }

  /** Column indices and values of row r (views into wasm memory). */
  row(r: number): SparseRow {
    this.check();
    if (!Number.isInteger(r) || r < 0 || r >= this.nRows) throw new RangeError(`CsrMatrix.row: row ${r} is outside [0, ${this.nRows})`);
    const indptr = this.indptr;
    const start = indptr[r], end = indptr[r + 1];
    return { indices: this.engine.heap.i32(this.indicesPtr + start * 4, end - start), data: this.engine.heap.f32(this.dataPtr + start * 4, end - start) };
  }

  /** Number of stored entries in row r. */
  rowNnz(r: number): number {
    const indptr = this.indptr;
    return indptr[r + 1] - indptr[r];
  }

  /** The largest number of entries in any row (sizes the solvers' scratch). */
  maxRowNnz(): number { return longestRow(this.indptr); }

  /** Value at (r, c), 0 when not stored. */
  get(r: number, c: number): number {
    const { indices, data } = this.row(r);
    let lo = 0, hi = indices.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (indices[mid] < c) lo = mid + 1; else hi = mid; }
    return lo < indices.length && indices[lo] === c ? data[lo] : 0;
  }

  /** The transpose (users × items → items × users), rows sorted. The CSC form of this matrix. */
  transpose(): CsrMatrix {
    this.check();
    const { heap, kernels } = this.engine;
    const indptrPtr = heap.alloc((this.nCols + 1) * 4);
    const cursorPtr = heap.alloc(Math.max(this.nCols, 1) * 4);
    const indicesPtr = heap.alloc(this.nnz * 4);
    const dataPtr = heap.alloc(this.nnz * 4);
    // A counting sort by column, rows visited in order, so every output row comes out sorted.
    const counts = heap.i32(indptrPtr, this.nCols + 1);
    counts.fill(0);
    for (let first = 0; first < this.nnz; first += COO_CHUNK) kernels.addRowCounts(this.indicesPtr + first * 4, Math.min(COO_CHUNK, this.nnz - first), indptrPtr);
    kernels.countsToIndptr(indptrPtr, this.nCols);
    heap.i32(cursorPtr, this.nCols).set(heap.i32(indptrPtr, this.nCols));
    for (const [start, end] of rowRanges(this.indptr)) kernels.transposeRows(this.indptrPtr, this.indicesPtr, this.dataPtr, start, end, cursorPtr, indicesPtr, dataPtr);
    heap.release(cursorPtr);
    return new CsrMatrix(this.engine, this.nCols, this.nRows, this.nnz, indptrPtr, indicesPtr, dataPtr);
  }

  /** A copy of this matrix (its own wasm memory). */
  copy(): CsrMatrix {
    this.check();
    const { heap } = this.engine;
    const indptrPtr = heap.alloc((this.nRows + 1) * 4);
    const indicesPtr = heap.alloc(this.nnz * 4);
    const dataPtr = heap.alloc(this.nnz * 4);
    heap.i32(indptrPtr, this.nRows + 1).set(this.indptr);
    heap.i32(indicesPtr, this.nnz).set(this.indices);
    heap.f32(dataPtr, this.nnz).set(this.data);
    return new CsrMatrix(this.engine, this.nRows, this.nCols, this.nnz, indptrPtr, indicesPtr, dataPtr);
  }

  /** A copy with every value mapped by fn(value, row, col) (e.g. a confidence transform). */
  map(fn: (value: number, row: number, col: number) => number): CsrMatrix {
    const copy = this.copy();
    try {
      return copy.mapInPlace(fn);
    } catch (error) {
      copy.dispose();
      throw error;
    }
  }

  /**
   * Maps every value by fn(value, row, col) in place and returns this matrix. All values
   * are computed and checked before any is written, so a bad value changes nothing.
   */
  mapInPlace(fn: (value: number, row: number, col: number) => number): CsrMatrix {
    this.check();
    const mapped = new Float32Array(this.nnz);
    const indptr = this.indptr, indices = this.indices, data = this.data;
    for (let r = 0; r < this.nRows; r++) {
      for (let e = indptr[r]; e < indptr[r + 1]; e++) {
        const value = fn(data[e], r, indices[e]);
        if (!Number.isFinite(value)) throw new RangeError(`CsrMatrix.map: row ${r}, col ${indices[e]}: mapped value ${value} is not a finite number`);
        mapped[e] = value;
      }
    }
    this.data.set(mapped);
    return this;
  }

  /** Dense copy as rows of Float32Array (small matrices only: tests, examples). */
  toDense(): Float32Array[] {
    const dense = Array.from({ length: this.nRows }, () => new Float32Array(this.nCols));
    const indptr = this.indptr, indices = this.indices, data = this.data;
    for (let r = 0; r < this.nRows; r++) for (let e = indptr[r]; e < indptr[r + 1]; e++) dense[r][indices[e]] = data[e];
    return dense;
  }

  /** Frees the wasm memory now instead of at garbage collection. The matrix is unusable after. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    finalizer.unregister(this);
    for (const ptr of [this.indptrPtr, this.indicesPtr, this.dataPtr]) this.engine.heap.release(ptr);
  }

  private check(): void {
    if (this.disposed) throw new Error("CsrMatrix: used after dispose()");
  }
}

/** @internal The most entries in one row, from a CSR indptr. */
export function longestRow(indptr: Int32Array): number {
  let longest = 0;
  for (let r = 0; r + 1 < indptr.length; r++) longest = Math.max(longest, indptr[r + 1] - indptr[r]);
  return longest;
}

/**
 * @internal Consecutive row ranges [start, end) covering a CSR matrix, each of about
 * `entries` entries (at least one row). One-pass kernels over a whole matrix are called a
 * range at a time: V8 runs a wasm function's first call in its baseline tier (2–2.5×
 * slower) and swaps in the optimized code only for later calls.
 */
export function rowRanges(indptr: Int32Array, entries = COO_CHUNK): Array<[number, number]> {
  const nRows = indptr.length - 1;
  const ranges: Array<[number, number]> = [];
  for (let start = 0; start < nRows;) {
    // The last row starting within the budget closes the range.
    const end = lastAtMost(indptr, indptr[start] + entries, start + 1, nRows);
    ranges.push([start, end]);
    start = end;
  }
  return ranges;
}

/**
 * @internal The largest i in [lo, hi] with indptr[i] ≤ value, or lo when there is none
 * (binary search over a non-decreasing indptr). With lo = 0 and hi = nRows − 1, the row
 * holding entry `value`.
 */
export function lastAtMost(indptr: Int32Array, value: number, lo: number, hi: number): number {
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (indptr[mid] <= value) lo = mid; else hi = mid - 1; }
  return lo;
}

function checkDimension(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 31) throw new RangeError(`CsrMatrix.fromCoo: shape ${what} ${n} is not a valid dimension`);
}

function maxIndex(indices: ArrayLike<number>, what: string): number {
  let max = -1;
  for (let e = 0; e < indices.length; e++) {
    const v = indices[e];
    if (!(v >= 0)) throw new RangeError(`CsrMatrix.fromCoo: entry ${e}: ${what} index ${v} is not a non-negative integer`);
    if (v > max) max = v;
  }
  return max;
}

// Entries fromCoo stages in wasm memory at once: their row ids (4 bytes each), and for
// input out of row order their cols and values too (12 bytes each).
const COO_CHUNK = 1 << 20;

// indices[first, first + count) as i32 at `target`. Typed int32 input is copied as is;
// anything else is checked to hold integers, so 1.5 or "3" fail loudly instead of being
// truncated (the error names the entry).
function copyIndicesInto(engine: Engine, indices: ArrayLike<number>, first: number, count: number, target: number, what: string): void {
  const out = engine.heap.i32(target, count);
  if (indices instanceof Int32Array) { out.set(indices.subarray(first, first + count)); return; }
  for (let j = 0; j < count; j++) {
    const v = indices[first + j];
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw new RangeError(`CsrMatrix.fromCoo: entry ${first + j}: ${what} index ${v} is not an integer`);
    out[j] = v;
  }
}

// values[first, first + count) as f32 at `target`, or ones without values.
function copyValuesInto(engine: Engine, values: ArrayLike<number> | undefined, first: number, count: number, target: number): void {
  const out = engine.heap.f32(target, count);
  if (!values) out.fill(1);
  else if (ArrayBuffer.isView(values)) out.set((values as unknown as Float32Array).subarray(first, first + count));
  else for (let j = 0; j < count; j++) out[j] = values[first + j];
}

// The error for entry e, which cooFirstInvalid found outside the shape or not finite.
function invalidEntry(e: number, row: number, col: number, value: number, nRows: number, nCols: number): RangeError {
  if (row < 0 || row >= nRows) return new RangeError(`CsrMatrix.fromCoo: entry ${e}: row ${row} is outside [0, ${nRows})`);
  if (col < 0 || col >= nCols) return new RangeError(`CsrMatrix.fromCoo: entry ${e}: col ${col} is outside [0, ${nCols})`);
  return new RangeError(`CsrMatrix.fromCoo: entry ${e} (row ${row}, col ${col}): value ${value} is not a finite number`);
}
