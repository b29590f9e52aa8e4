// The transpose of a CSR matrix with its row ids stored as 16-bit gaps (layout in
// assembly/compact-columns.ts): ALS's item half-step reads each item's users in order, so
// it keeps the items × users copy of the training matrix at ~6 bytes an entry instead of 8.
// Without values (low memory) ~3: each entry's place in its source row instead of its
// value, which the solver reads from the source, at one more cache miss per entry.

import { longestRow, rowRanges, type CsrMatrix } from "./csr.js";
import type { Engine } from "./engine.js";
import { blockBytes } from "./memory-plan.js";

/** @internal The columns of a CsrMatrix, ids gap-coded; fit() holds one per training run. */
export class CompactColumns {
  private constructor(
    readonly engine: Engine,
    readonly nRows: number,
    readonly nCols: number,
    readonly nnz: number,
    readonly indptrPtr: number,
    /** Each row's first u16 in the stream (u32, nRows + 1). */
    readonly offsetsPtr: number,
    readonly streamPtr: number,
    /** Values (f32), or without values each entry's place in its source row (see placeShift). */
    readonly dataPtr: number,
    /** -1: dataPtr holds values; 0, 1, 2: places as u8, u16, u32, values read from `source`. */
    readonly placeShift: number,
    /** The matrix these are the columns of (read for the values when placeShift ≥ 0). */
    readonly source: CsrMatrix,
  ) {}

  /** Bytes per entry of the places without values, for a source whose longest row has `longestRow` entries. */
  static placeShiftFor(longestRow: number): number {
    return longestRow <= 0x100 ? 0 : longestRow <= 0x10000 ? 1 : 2;
  }

  /**
   * The columns of `matrix` as rows (nCols × nRows), ids in ascending order; with
   * `values: false`, each entry's place in its row of `matrix` instead of its value
   * (`matrix` must then outlive the copy).
   */
  static transposeOf(matrix: CsrMatrix, { values = true }: { values?: boolean } = {}): CompactColumns {
    const { engine } = matrix;
    const { heap, kernels } = engine;
    const n = matrix.nCols;
    const owned: number[] = [];
    const alloc = (bytes: number) => { const ptr = heap.alloc(Math.max(bytes, 4)); owned.push(ptr); return ptr; };
    // Scratch: each column's last row id (n u32), then its cursors (entry, stream unit).
    const scratch = heap.alloc(Math.max(3 * n, 1) * 4);
    const last = scratch, cursors = scratch + n * 4;
    try {
      const indptrPtr = alloc((n + 1) * 4), offsetsPtr = alloc((n + 1) * 4);
      const ranges = rowRanges(matrix.indptr);
      heap.i32(indptrPtr, n + 1).fill(0);
      heap.i32(offsetsPtr, n + 1).fill(0);
      heap.i32(last, n).fill(0);
      for (const [start, end] of ranges) kernels.compactColumnsCount(matrix.indptrPtr, matrix.indicesPtr, start, end, indptrPtr, offsetsPtr, last);
      const streamUnits = kernels.compactColumnsSizes(n, indptrPtr, offsetsPtr) >>> 0;
      const placeShift = values ? -1 : CompactColumns.placeShiftFor(matrix.maxRowNnz());
      const streamPtr = alloc(streamUnits * 2), dataPtr = alloc(values ? matrix.nnz * 4 : matrix.nnz << placeShift);
      heap.i32(last, n).fill(0);
      heap.i32(cursors, n).set(heap.i32(indptrPtr, n));
      heap.i32(cursors + n * 4, n).set(heap.i32(offsetsPtr, n));
      for (const [start, end] of ranges) kernels.compactColumnsFill(matrix.indptrPtr, matrix.indicesPtr, matrix.dataPtr, start, end, n, streamPtr, dataPtr, placeShift, cursors, last);
      return new CompactColumns(engine, n, matrix.nRows, matrix.nnz, indptrPtr, offsetsPtr, streamPtr, dataPtr, placeShift, matrix);
    } catch (error) {
      for (const ptr of owned) heap.release(ptr);
      throw error;
    } finally {
      heap.release(scratch);
    }
  }

  /**
   * Wasm bytes transposeOf takes at most for an nRows × nCols matrix with nnz entries, its
   * scratch included; without values, for rows of at most longestRow entries. Gaps within
   * a column sum to less than nRows, so a column has at most ⌊nRows / 0xFFFF⌋ escaped
   * (3-unit) gaps.
   */
  static bytesNeeded(nRows: number, nCols: number, nnz: number, { values = true, longestRow = nCols }: { values?: boolean; longestRow?: number } = {}): number {
    const escapes = Math.min(nnz, nCols * Math.floor(nRows / 0xffff));
    const dataBytes = values ? nnz * 4 : nnz << CompactColumns.placeShiftFor(longestRow);
    return 2 * blockBytes((nCols + 1) * 4) + blockBytes(2 * (nnz + 2 * escapes)) + blockBytes(dataBytes) + blockBytes(3 * nCols * 4);
  }

  get indptr(): Int32Array { return this.engine.heap.i32(this.indptrPtr, this.nRows + 1); }

  /** The CSR indices this layout encodes (tests). */
  decodeIndices(): Int32Array {
    const { heap, kernels } = this.engine;
    const out = heap.alloc(Math.max(this.nnz, 1) * 4);
    try {
      kernels.compactColumnsDecode(this.indptrPtr, this.offsetsPtr, this.streamPtr, 0, this.nRows, out);
      return heap.i32(out, this.nnz).slice();
    } finally {
      heap.release(out);
    }
  }

  /** The values, in entry order (tests): read from the source when this copy holds places. */
  get data(): Float32Array {
    const { heap } = this.engine;
    if (this.placeShift < 0) return heap.f32(this.dataPtr, this.nnz);
    const ids = this.decodeIndices();
    const places = this.placeShift === 0 ? heap.u8(this.dataPtr, this.nnz)
      : this.placeShift === 1 ? new Uint16Array(heap.memory.buffer, this.dataPtr, this.nnz) : heap.i32(this.dataPtr, this.nnz);
    const sourceIndptr = this.source.indptr, sourceData = this.source.data;
    return Float32Array.from(ids, (id, e) => sourceData[sourceIndptr[id] + places[e]]);
  }

  maxRowNnz(): number { return longestRow(this.indptr); }

  /** Bytes of the gap-coded ids (tests, benchmarks). */
  streamBytes(): number {
    return (this.engine.heap.i32(this.offsetsPtr, this.nRows + 1)[this.nRows] >>> 0) * 2;
  }

  dispose(): void {
    for (const ptr of [this.indptrPtr, this.offsetsPtr, this.streamPtr, this.dataPtr]) this.engine.heap.release(ptr);
  }
}
