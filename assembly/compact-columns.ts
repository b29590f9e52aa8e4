// The columns of a CSR matrix (its transpose) with row ids stored as 16-bit gaps: ALS's
// item half-step reads the users of each item in order, so it never needs random access
// to an id, and most gaps fit in 16 bits. This halves the ids' 4 bytes per entry.
//
// Layout: indptr (i32, nCols+1) and data (f32, nnz) as in CSR; stream (u16) holds each
// column's row ids as gaps from the previous id (the first from 0), a gap of 0xFFFF or
// more as 0xFFFF followed by its high and low 16 bits; offsets (u32, nCols+1) gives each
// column's first u16 in the stream.

const ESCAPE: u32 = 0xffff;

/** Stream units (u16) a gap takes. */
// @ts-ignore: decorator
@inline
export function gapUnits(gap: u32): u32 {
  return gap < ESCAPE ? 1 : 3;
}

/** The gap stored at `at`: one unit, or ESCAPE and its high and low 16 bits. */
// @ts-ignore: decorator
@inline
export function gapAt(at: usize): u32 {
  const gap = <u32>load<u16>(at);
  return gap == ESCAPE ? (<u32>load<u16>(at, 2) << 16) | <u32>load<u16>(at, 4) : gap;
}

/**
 * Where entry `entry` (row id `id`) of a low-memory copy has its value in the source's
 * data: sourceIndptr[id] + its place, stored as u8, u16 or u32 (placeShift 0, 1, 2).
 */
// @ts-ignore: decorator
@inline
export function placedPosition(places: usize, placeShift: i32, entry: usize, id: u32, sourceIndptr: usize): u32 {
  const place = placeShift == 0 ? <u32>load<u8>(places + entry) : placeShift == 1 ? <u32>load<u16>(places + (entry << 1)) : load<u32>(places + (entry << 2));
  return <u32>load<i32>(sourceIndptr + (<usize>id << 2)) + place;
}

// The host builds the layout a range of rows at a time (so a first use runs only one range
// in V8's baseline tier): it zeroes outIndptr, outOffsets and `last`, counts every range
// with compactColumnsCount, sums with compactColumnsSizes, then starts the cursors at the
// columns' starts (entries, then stream units) and fills every range in order.

/**
 * First pass over rows [rowStart, rowEnd): each column's entries into outIndptr[c + 1] and
 * stream units into outOffsets[c + 1]. `last` (nCols u32) is each column's last row id.
 */
export function compactColumnsCount(indptr: usize, indices: usize, rowStart: i32, rowEnd: i32, outIndptr: usize, outOffsets: usize, last: usize): void {
  for (let r = rowStart; r < rowEnd; r++) {
    const end = load<i32>(indptr + ((<usize>r + 1) << 2));
    for (let e = load<i32>(indptr + (<usize>r << 2)); e < end; e++) {
      const c = <usize>load<i32>(indices + (<usize>e << 2)) << 2;
      store<i32>(outIndptr + c + 4, load<i32>(outIndptr + c + 4) + 1);
      store<u32>(outOffsets + c + 4, load<u32>(outOffsets + c + 4) + gapUnits(<u32>r - load<u32>(last + c)));
      store<u32>(last + c, <u32>r);
    }
  }
}

/** The counts made indptr and offsets (prefix sums); returns the stream's length in units. */
export function compactColumnsSizes(nCols: i32, outIndptr: usize, outOffsets: usize): u32 {
  for (let c = 0; c < nCols; c++) {
    const o = <usize>c << 2;
    store<i32>(outIndptr + o + 4, load<i32>(outIndptr + o + 4) + load<i32>(outIndptr + o));
    store<u32>(outOffsets + o + 4, load<u32>(outOffsets + o + 4) + load<u32>(outOffsets + o));
  }
  return load<u32>(outOffsets + (<usize>nCols << 2));
}

/**
 * Second pass over rows [rowStart, rowEnd): writes their entries' gaps to the stream and
 * to columnData their values (placeShift < 0) or, without values (low memory), each
 * entry's place in its source row as a u8, u16 or u32 (placeShift 0, 1, 2): the value is
 * then data[indptr[row] + place] of the source. Rows come in order, so each column's ids
 * arrive sorted. `cursors` is 2·nCols u32 (next entry, next stream unit of each column),
 * `last` nCols u32.
 */
export function compactColumnsFill(
  indptr: usize, indices: usize, data: usize, rowStart: i32, rowEnd: i32, nCols: i32,
  stream: usize, columnData: usize, placeShift: i32, cursors: usize, last: usize,
): void {
  const entryCursor = cursors;
  const streamCursor = cursors + (<usize>nCols << 2);
  for (let r = rowStart; r < rowEnd; r++) {
    const first = load<i32>(indptr + (<usize>r << 2));
    const end = load<i32>(indptr + ((<usize>r + 1) << 2));
    for (let e = first; e < end; e++) {
      const c = <usize>load<i32>(indices + (<usize>e << 2)) << 2;
      const slot = load<u32>(entryCursor + c);
      store<u32>(entryCursor + c, slot + 1);
      if (placeShift < 0) store<f32>(columnData + (<usize>slot << 2), load<f32>(data + (<usize>e << 2)));
      else if (placeShift == 0) store<u8>(columnData + <usize>slot, <u8>(e - first));
      else if (placeShift == 1) store<u16>(columnData + (<usize>slot << 1), <u16>(e - first));
      else store<u32>(columnData + (<usize>slot << 2), <u32>(e - first));
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
    const gap = gapAt(at);
    at += <usize>gapUnits(gap) << 1;
    id += gap;
    store<u32>(out + (<usize>j << 2), id);
  }
  return out;
}

/**
 * Where the values of a low-memory column's n entries sit in the source's data, into out
 * (u32): entry j, with row id ids[j] and its place at entry `first` + j of `places`, is at
 * sourceIndptr[ids[j]] + place.
 */
// @ts-ignore: decorator
@inline
export function placedPositions(places: usize, placeShift: i32, first: i32, n: i32, ids: usize, sourceIndptr: usize, out: usize): usize {
  for (let j = 0; j < n; j++) {
    store<u32>(out + (<usize>j << 2), placedPosition(places, placeShift, <usize>(first + j), load<u32>(ids + (<usize>j << 2)), sourceIndptr));
  }
  return out;
}

/**
 * The values of a low-memory column's n entries into out (f32), read from sourceData at
 * their placedPositions. Positions first, so the value loads are independent and their
 * misses overlap.
 */
// @ts-ignore: decorator
@inline
export function placedValues(places: usize, placeShift: i32, first: i32, n: i32, ids: usize, sourceIndptr: usize, sourceData: usize, out: usize): usize {
  placedPositions(places, placeShift, first, n, ids, sourceIndptr, out);
  for (let j = 0; j < n; j++) {
    const slot = out + (<usize>j << 2);
    store<f32>(slot, load<f32>(sourceData + (<usize>load<u32>(slot) << 2)));
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
