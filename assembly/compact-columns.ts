// The columns of a CSR matrix (its transpose) with row ids stored as 16-bit gaps: ALS's
// item half-step reads the users of each item in order, so it never needs random access
// to an id, and most gaps fit in 16 bits. This halves the ids' 4 bytes per entry.
//
// Layout: indptr (i32, nCols+1) and data (f32, nnz) as in CSR; stream (u16) holds each
// column's row ids as gaps from the previous id (the first from 0), a gap of 0xFFFF or
// more as 0xFFFF followed by its high and low 16 bits; offsets (u32, nCols+1) gives each
// column's first u16 in the stream.

const ESCAPE: u32 = 0xffff;

// @ts-ignore: decorator
@inline
function gapUnits(gap: u32): u32 {
  return gap < ESCAPE ? 1 : 3;
}

/**
 * First pass: indptr (entries) and offsets (stream units) of the columns of an
 * nRows × nCols CSR matrix. `last` is nCols u32 of scratch. Returns the stream's length.
 */
export function compactColumnsSizes(indptr: usize, indices: usize, nRows: i32, nCols: i32, outIndptr: usize, outOffsets: usize, last: usize): u32 {
  const columnBytes = (<usize>nCols + 1) << 2;
  memory.fill(outIndptr, 0, columnBytes);
  memory.fill(outOffsets, 0, columnBytes);
  memory.fill(last, 0, <usize>nCols << 2);
  for (let r = 0; r < nRows; r++) {
    const end = load<i32>(indptr + ((<usize>r + 1) << 2));
    for (let e = load<i32>(indptr + (<usize>r << 2)); e < end; e++) {
      const c = <usize>load<i32>(indices + (<usize>e << 2)) << 2;
      store<i32>(outIndptr + c + 4, load<i32>(outIndptr + c + 4) + 1);
      store<u32>(outOffsets + c + 4, load<u32>(outOffsets + c + 4) + gapUnits(<u32>r - load<u32>(last + c)));
      store<u32>(last + c, <u32>r);
    }
  }
  for (let c = 0; c < nCols; c++) {
    const o = <usize>c << 2;
    store<i32>(outIndptr + o + 4, load<i32>(outIndptr + o + 4) + load<i32>(outIndptr + o));
    store<u32>(outOffsets + o + 4, load<u32>(outOffsets + o + 4) + load<u32>(outOffsets + o));
  }
  return load<u32>(outOffsets + (<usize>nCols << 2));
}

/**
 * Second pass: writes the stream and data laid out by compactColumnsSizes. Rows are
 * visited in order, so each column's ids arrive sorted. `cursors` is 2·nCols u32 of
 * scratch, `last` nCols u32.
 */
export function compactColumnsFill(
  indptr: usize, indices: usize, data: usize, nRows: i32, nCols: i32,
  columnIndptr: usize, offsets: usize, stream: usize, columnData: usize, cursors: usize, last: usize,
): void {
  const columnBytes = <usize>nCols << 2;
  const entryCursor = cursors;
  const streamCursor = cursors + columnBytes;
  memory.copy(entryCursor, columnIndptr, columnBytes);
  memory.copy(streamCursor, offsets, columnBytes);
  memory.fill(last, 0, columnBytes);
  for (let r = 0; r < nRows; r++) {
    const end = load<i32>(indptr + ((<usize>r + 1) << 2));
    for (let e = load<i32>(indptr + (<usize>r << 2)); e < end; e++) {
      const c = <usize>load<i32>(indices + (<usize>e << 2)) << 2;
      const slot = load<u32>(entryCursor + c);
      store<u32>(entryCursor + c, slot + 1);
      store<f32>(columnData + (<usize>slot << 2), load<f32>(data + (<usize>e << 2)));
      const gap = <u32>r - load<u32>(last + c);
      store<u32>(last + c, <u32>r);
      const unit = load<u32>(streamCursor + c);
      const at = stream + (<usize>unit << 1);
      if (gap < ESCAPE) {
        store<u16>(at, <u16>gap);
        store<u32>(streamCursor + c, unit + 1);
      } else {
        store<u16>(at, <u16>ESCAPE);
        store<u16>(at, <u16>(gap >> 16), 2);
        store<u16>(at, <u16>(gap & 0xffff), 4);
        store<u32>(streamCursor + c, unit + 3);
      }
    }
  }
}

/** Decodes column `c`'s n row ids into out (i32) and returns out. */
// @ts-ignore: decorator
@inline
export function decodeColumn(stream: usize, offsets: usize, c: i32, n: i32, out: usize): usize {
  let at = stream + (<usize>load<u32>(offsets + (<usize>c << 2)) << 1);
  let id: u32 = 0;
  for (let j = 0; j < n; j++) {
    let gap = <u32>load<u16>(at);
    at += 2;
    if (gap == ESCAPE) {
      gap = (<u32>load<u16>(at) << 16) | <u32>load<u16>(at, 2);
      at += 4;
    }
    id += gap;
    store<u32>(out + (<usize>j << 2), id);
  }
  return out;
}

/** Decodes columns [start, end) into CSR-style indices (tests, and reading the layout back). */
export function compactColumnsDecode(columnIndptr: usize, offsets: usize, stream: usize, start: i32, end: i32, outIndices: usize): void {
  for (let c = start; c < end; c++) {
    const first = load<i32>(columnIndptr + (<usize>c << 2));
    decodeColumn(stream, offsets, c, load<i32>(columnIndptr + ((<usize>c + 1) << 2)) - first, outIndices + (<usize>first << 2));
  }
}
