// Regressions found by the fuzzers (test/fuzz): each is the minimal counterexample of a
// crash class, kept as a plain test so it runs on every `npm test` whatever the seed.

import process from "node:process";
import { gzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { DataError } from "../src/io/errors.js";
import { readInteractions } from "../src/io/interactions.js";
import { writeZip } from "./fuzz/zip-writer.js";

const columns = { user: 0, item: 1, value: 2 };
// Over the readers' 64 KiB sniff, so the columns are sized from the container's claim.
const text = new TextEncoder().encode("kg\tkq\t0\n".repeat(12_000));

async function read(name: string, bytes: Uint8Array) {
  const before = process.memoryUsage().arrayBuffers ?? 0;
  let peak = 0;
  const error = await readInteractions({ name, bytes }, { columns, onProgress: () => { peak = Math.max(peak, (process.memoryUsage().arrayBuffers ?? 0) - before); } }).then(() => undefined, (e: unknown) => e);
  return { error, peak };
}

describe("decoded-size claims of archives are not trusted beyond the stored bytes", () => {
  it("a gzip trailer forged to 2.9 GB: a DataError, no column sized for it", async () => {
    const bytes = gzipSync(text);
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(bytes.length - 4, 2885681141, true);
    const { error, peak } = await read("r.csv.gz", bytes);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toMatch(/^r\.csv\.gz:\d+: truncated gzip data/);
    // Was ~100 MB: the columns were pre-sized for 2.9 GB of text.
    expect(peak).toBeLessThan(32 << 20);
  });

  it("a zip64 size forged to 2^40: a DataError, not a RangeError from new Int32Array(huge)", async () => {
    const bytes = writeZip([{ name: "r.csv", data: text, method: 8, forge: { zip64Size: 2 ** 40 } }]);
    const { error, peak } = await read("a.zip:r.csv", bytes);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toMatch(/member holds 96000 bytes, the directory says 1099511627776/);
    expect(peak).toBeLessThan(32 << 20);
  });

  it("a stored zip member claiming 4 GB: a DataError, no column sized for it", async () => {
    const bytes = writeZip([{ name: "r.csv", data: text, method: 0, forge: { size: 0xfffffffe } }]);
    const { error, peak } = await read("a.zip:r.csv", bytes);
    expect(error).toBeInstanceOf(DataError);
    expect(peak).toBeLessThan(32 << 20);
  });
});
