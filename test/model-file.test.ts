import { describe, expect, it } from "vitest";
import { AlternatingLeastSquares, CsrMatrix } from "../src/index.js";
import { crc32 } from "../src/io/crc32.js";
import { randomInteractions } from "./reference.js";

async function trainedModel() {
  const userItems = CsrMatrix.fromCoo(randomInteractions(30, 25, 0.2, 17));
  const model = new AlternatingLeastSquares({ factors: 7, iterations: 3, seed: 8, regularization: 0.05, unobservedWeight: 0.5 });
  await model.fit(userItems);
  return { model, userItems };
}

describe("model file", () => {
  it("crc32 matches the published check value", () => {
    // CRC-32/ISO-HDLC of "123456789" is 0xCBF43926 (the catalogue's check value).
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it("save → load gives identical factors, options and recommendations", async () => {
    const { model, userItems } = await trainedModel();
    const bytes = model.save();
    const loaded = AlternatingLeastSquares.load(bytes);
    expect(loaded.options).toEqual(model.options);
    expect(loaded.userFactors).toEqual(model.userFactors);
    expect(loaded.itemFactors).toEqual(model.itemFactors);
    const users = Array.from({ length: 30 }, (_, u) => u);
    const a = model.recommend(users, userItems, { n: 5 }), b = loaded.recommend(users, userItems, { n: 5 });
    expect(b.ids.map((r) => Array.from(r))).toEqual(a.ids.map((r) => Array.from(r)));
    expect(b.scores.map((r) => Array.from(r))).toEqual(a.scores.map((r) => Array.from(r)));
    // Saving the loaded model gives the same bytes.
    expect(loaded.save()).toEqual(bytes);
  });

  it("loads the same model from bytes at any offset inside a larger buffer, read in place or copied", async () => {
    const { model } = await trainedModel();
    const bytes = model.save();
    for (let offset = 0; offset < 8; offset++) {
      const container = new Uint8Array(bytes.length + 16).fill(0xa5);
      container.set(bytes, offset);
      const loaded = AlternatingLeastSquares.load(container.subarray(offset, offset + bytes.length));
      expect(loaded.userFactors).toEqual(model.userFactors);
      expect(loaded.itemFactors).toEqual(model.itemFactors);
      // The loaded model owns its factors: the caller's buffer may change afterwards.
      container.fill(0);
      expect(loaded.itemFactors).toEqual(model.itemFactors);
      loaded.dispose();
    }
  });

  it("refuses any single flipped byte, a truncated file and a foreign file", async () => {
    const { model } = await trainedModel();
    const bytes = model.save();
    // Every position, one bit each: header, chunk table, payloads and checksum alike.
    for (let at = 0; at < bytes.length; at += Math.max(1, Math.floor(bytes.length / 300))) {
      const corrupted = bytes.slice();
      corrupted[at] ^= 1 << (at % 8);
      expect(() => AlternatingLeastSquares.load(corrupted), `byte ${at}`).toThrow(/edgerec model file/);
    }
    const flipped = bytes.slice();
    flipped[bytes.length - 100] ^= 0xff;
    expect(() => AlternatingLeastSquares.load(flipped)).toThrow(/checksum mismatch.*corrupted/);
    expect(() => AlternatingLeastSquares.load(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/);
    expect(() => AlternatingLeastSquares.load(bytes.subarray(0, 10))).toThrow(/too short/);
    expect(() => AlternatingLeastSquares.load(new TextEncoder().encode("user,item,rating\n1,2,3\n"))).toThrow(/not an edgerec model/);
  });
});
