// The binary files the bench's C stand-ins for implicit read (bench/implicit-*.c), in the
// host's byte order, each written through a temporary name so a cut-short write leaves none:
// a matrix: "edgerec-csr-f32" and a NUL (16 bytes), i32 nRows, nCols, nnz, 0, then i32
// indptr[nRows + 1], i32 indices[nnz], f32 data[nnz];
// factors: "edgerec-factors" and a NUL, i32 nUsers, nItems, k, 0, then the f32 user factors
// and item factors, row-major.

import { closeSync, openSync, renameSync, writeSync } from "node:fs";

/** Writes `matrix` (a CsrMatrix) to `path`. */
export function writeMatrix(path, matrix) {
  writeParts(path, [header("edgerec-csr-f32", matrix.nRows, matrix.nCols, matrix.nnz), matrix.indptr, matrix.indices, matrix.data]);
}

/** Writes a fitted model's user and item factors to `path`. */
export function writeFactors(path, model) {
  writeParts(path, [header("edgerec-factors", model.nUsers, model.nItems, model.factors), model.userFactors, model.itemFactors]);
}

function header(magic, a, b, c) {
  const bytes = new Int32Array(8);
  new TextEncoder().encodeInto(magic, new Uint8Array(bytes.buffer, 0, 15));
  bytes.set([a, b, c], 4);
  return bytes;
}

function writeParts(path, parts) {
  const partial = `${path}.partial-${process.pid}`;
  const fd = openSync(partial, "w");
  try {
    for (const part of parts) {
      const bytes = new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
      for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(partial, path);
}
