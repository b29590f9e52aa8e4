// Regressions found by the model-file fuzzer (test/fuzz/model-file.test.ts): each is a
// minimal counterexample of a crash class. Forged files get a recomputed checksum, so the
// forgery reaches the parsers as a deliberately crafted file would.

import { beforeAll, describe, expect, it } from "vitest";
import { AlternatingLeastSquares, CsrMatrix, getEngine } from "../src/index.js";
import { crc32 } from "../src/io/crc32.js";
import { randomInteractions } from "./reference.js";

let saved: Uint8Array;
beforeAll(async () => {
  const userItems = CsrMatrix.fromCoo(randomInteractions(12, 9, 0.3, 5));
  const model = new AlternatingLeastSquares({ factors: 3, iterations: 2, seed: 1 });
  await model.fit(userItems);
  model.userItems = userItems;
  saved = model.save();
});

/** A copy of the saved model with u32 `value` at byte `at`, checksum recomputed. */
function forged(at: number, value: number): Uint8Array {
  const bytes = saved.slice();
  const view = new DataView(bytes.buffer);
  view.setUint32(at, value, true);
  view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

/** Byte offset of the first chunk with this tag. */
function chunkAt(tag: string): number {
  const view = new DataView(saved.buffer);
  let at = 16;
  for (;;) {
    if (String.fromCharCode(...saved.subarray(at, at + 4)) === tag) return at;
    at += 8 + Math.ceil(view.getUint32(at + 4, true) / 4) * 4;
  }
}

describe("model file: forged chunk tables", () => {
  it("a chunk length of 2^31 - 3 is truncation, not a RangeError from a negative offset", () => {
    // padded(n) was (n + 3) & ~3: int32 arithmetic made it negative for n ≥ 2^31 - 3.
    expect(() => AlternatingLeastSquares.load(forged(chunkAt("META") + 4, 2 ** 31 - 3))).toThrow(/^edgerec model file: truncated: chunk 'META' needs 2147483645 bytes/);
    expect(() => AlternatingLeastSquares.load(forged(chunkAt("UFAC") + 4, 0xfffffffd))).toThrow(/^edgerec model file: truncated: chunk 'UFAC'/);
  });

  it("a chunk count of 2^32 - 1 is refused at once, not looped over", () => {
    expect(() => AlternatingLeastSquares.load(forged(12, 0xffffffff))).toThrow(/^edgerec model file: truncated: the chunk table lists 4294967295 chunks/);
  });

  it("a chunk that appears twice is refused", () => {
    // The UFAC head renamed META: two META chunks, the second one not JSON.
    const at = chunkAt("UFAC");
    const bytes = forged(at, new DataView(new TextEncoder().encode("META").buffer).getUint32(0, true));
    expect(() => AlternatingLeastSquares.load(bytes)).toThrow(/^edgerec model file: chunk 'META' appears twice/);
  });
});

/** The saved model with chunk `tag`'s payload replaced (padding and checksum redone). */
function withChunk(tag: string, payload: Uint8Array): Uint8Array {
  const at = chunkAt(tag);
  const oldLength = new DataView(saved.buffer).getUint32(at + 4, true);
  const oldEnd = at + 8 + Math.ceil(oldLength / 4) * 4;
  const padded = Math.ceil(payload.length / 4) * 4;
  const bytes = new Uint8Array(saved.length - (oldEnd - at) + 8 + padded);
  bytes.set(saved.subarray(0, at + 8));
  bytes.set(payload, at + 8);
  bytes.set(saved.subarray(oldEnd), at + 8 + padded);
  const view = new DataView(bytes.buffer);
  view.setUint32(at + 4, payload.length, true);
  view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

const text = (s: string) => new TextEncoder().encode(s);

describe("model file: META that is JSON but not a model's record", () => {
  it("null, a number or an array: a model-file error, not a TypeError from destructuring", () => {
    for (const meta of ["null", "1", "[]"]) expect(() => AlternatingLeastSquares.load(withChunk("META", text(meta)))).toThrow(/^edgerec model file: META chunk is not a JSON object/);
  });

  it("a kind that is not a string, options that are not an object", () => {
    const meta = (fields: object) => text(JSON.stringify({ kind: "als", options: {}, nUsers: 12, nItems: 9, factors: 3, ...fields }));
    expect(() => AlternatingLeastSquares.load(withChunk("META", meta({ kind: null })))).toThrow(/^edgerec model file: META field kind is not a string/);
    expect(() => AlternatingLeastSquares.load(withChunk("META", meta({ options: null })))).toThrow(/^edgerec model file: META field options is not an object/);
  });

  it("options the constructor refuses are the file's fault, and say so", () => {
    const meta = text(JSON.stringify({ kind: "als", options: { factors: "3" }, nUsers: 12, nItems: 9, factors: 3 }));
    expect(() => AlternatingLeastSquares.load(withChunk("META", meta))).toThrow(/^edgerec model file: the META options are not valid: AlternatingLeastSquares: factors must be/);
  });
});

describe("model file: extra chunks that disagree with themselves or the factors", () => {
  /** The UITM chunk with u32 word `word` set to `value`. */
  const uitmWith = (word: number, value: number) => forged(chunkAt("UITM") + 8 + 4 * word, value);

  it("a UITM indptr that does not run from 0 to nnz: a model-file error, not CsrMatrix's RangeError", () => {
    // Word 3 is indptr[0] (after nRows, nCols, nnz).
    expect(() => AlternatingLeastSquares.load(uitmWith(3, 2 ** 31))).toThrow(/^edgerec model file: the UITM chunk is not a valid matrix: CsrMatrix\.fromCsr: indptr must run from 0 to nnz/);
  });

  it("a UITM with other users than the factors is refused (recommend indexes it by user)", () => {
    const nnz = new DataView(saved.buffer).getUint32(chunkAt("UITM") + 16, true);
    // One empty row more: a valid matrix, of 13 users where the factors have 12.
    const at = chunkAt("UITM");
    const view = new DataView(saved.buffer, saved.byteOffset + at + 8);
    const header = [13, 9, nnz];
    const indptr = Array.from({ length: 13 }, (_, r) => view.getInt32(12 + 4 * r, true));
    indptr.push(nnz);
    const rest = saved.subarray(at + 8 + 12 + 13 * 4, at + 8 + 12 + 13 * 4 + 8 * nnz);
    const payload = new Uint8Array(12 + 14 * 4 + rest.length);
    const out = new DataView(payload.buffer);
    header.forEach((v, k) => out.setUint32(4 * k, v, true));
    indptr.forEach((v, k) => out.setInt32(12 + 4 * k, v, true));
    payload.set(rest, 12 + 14 * 4);
    expect(() => AlternatingLeastSquares.load(withChunk("UITM", payload))).toThrow(/^edgerec model file: the training matrix is 13 users × 9 items, the factors 12 × 9/);
    // A load that fails after allocating the factors frees them: models have no
    // finalizer, so repeated bad files used to fill the 4 GiB wasm heap (found at ~4,500
    // fuzz cases). Nothing of 100 failed loads may stay in the heap.
    const heap = getEngine().heap;
    const before = heap.bytesInUse;
    for (let k = 0; k < 100; k++) expect(() => AlternatingLeastSquares.load(withChunk("UITM", payload))).toThrow();
    expect(heap.bytesInUse).toBe(before);
  });

  it("a CATL that is JSON null: a model-file error, not a TypeError", async () => {
    const { zlibSync } = await import("fflate");
    const model = AlternatingLeastSquares.load(saved);
    model.catalog = { userKeys: Array.from({ length: 12 }, (_, u) => `u${u}`), itemKeys: Array.from({ length: 9 }, (_, i) => `i${i}`) };
    const withCatalog = model.save();
    const previous = saved;
    saved = withCatalog;
    try {
      expect(() => AlternatingLeastSquares.load(withChunk("CATL", zlibSync(text("null"))))).toThrow(/^edgerec model file: the CATL chunk is not a JSON object/);
    } finally {
      saved = previous;
    }
  });
});

describe("model file: options that disagree with the factors", () => {
  it("options.factors forged to 26M is refused before anything is allocated for it", () => {
    // ALS.load sized its rows from the options, not from META: 12 users × 26M floats.
    const meta = text(JSON.stringify({ kind: "als", options: { factors: 26188729 }, nUsers: 12, nItems: 9, factors: 3 }));
    const heap = getEngine().heap;
    const before = heap.bytesInUse;
    expect(() => AlternatingLeastSquares.load(withChunk("META", meta))).toThrow(/^edgerec model file: META says rows of 3 floats, the options 26188729/);
    expect(heap.bytesInUse).toBe(before);
  });
});
