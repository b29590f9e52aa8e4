// Regressions found by the model-file fuzzer (test/fuzz/model-file.test.ts): each is a
// minimal counterexample of a crash class. Forged files get a recomputed checksum, so the
// forgery reaches the parsers as a deliberately crafted file would.

import { beforeAll, describe, expect, it } from "vitest";
import { AlternatingLeastSquares, CsrMatrix } from "../src/index.js";
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
