// Property-based fuzzing of the gzip and zip sources: valid archives of valid files read
// back exactly; random, mutated and forged archives (truncated, bytes flipped, CRCs and
// sizes forged, zip bombs claiming huge sizes) end in a DataError, without allocating
// memory in proportion to a size the archive merely claims.

import process from "node:process";
import fc from "fast-check";
import { gzipSync, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { DataError } from "../../src/io/errors.js";
import { readInteractions } from "../../src/io/interactions.js";
import { enlarge, validFile, type FileModel } from "./files.js";
import { expectDataError } from "./outcomes.js";
import { outcome, params, TEST_TIMEOUT } from "./support.js";
import { writeZip } from "./zip-writer.js";

const columns = { user: 0, item: 1, value: 2 };

type Container = "gzip" | "zip-deflate" | "zip-stored" | "zip-gz";

function pack(model: FileModel, container: Container): { name: string; bytes: Uint8Array; file: string[] } {
  switch (container) {
    case "gzip":
      return { name: "fuzz.csv.gz", bytes: gzipSync(model.bytes), file: ["fuzz.csv.gz"] };
    case "zip-deflate":
      return { name: "fuzz.zip:data/r.csv", bytes: zipSync({ "data/r.csv": model.bytes, "other.txt": new Uint8Array([65]) }), file: ["fuzz.zip:data/r.csv", "fuzz.zip"] };
    case "zip-stored":
      return { name: "fuzz.zip:r.csv", bytes: zipSync({ "r.csv": [model.bytes, { level: 0 }] }), file: ["fuzz.zip:r.csv", "fuzz.zip"] };
    case "zip-gz":
      return { name: "fuzz.zip:r.csv.gz", bytes: zipSync({ "r.csv.gz": [gzipSync(model.bytes), { level: 0 }] }), file: ["fuzz.zip:r.csv.gz", "fuzz.zip"] };
  }
}

const key = (text: string) => text.replace(/^[ \t]+|[ \t\r]+$/g, "");

function expectModel(table: Awaited<ReturnType<typeof readInteractions>>, model: FileModel): void {
  expect(table.rows).toBe(model.rows.length);
  model.rows.forEach((r, k) => {
    expect([table.userKeys[table.user[k]], table.itemKeys[table.item[k]], table.value[k]]).toEqual([key(r.user), key(r.item), r.value]);
  });
}

function expectArchiveError(error: unknown, names: string[]): void {
  if (!(error instanceof DataError)) expectDataError(error, names[0]);
  expect(names).toContain((error as DataError).file);
}

const dialectOf = (model: FileModel) => ({ separator: model.separator, header: model.header });

/** Largest ArrayBuffer total seen while reading (0 where the runtime does not report it). */
async function readWatchingMemory(name: string, bytes: Uint8Array, model: FileModel) {
  const before = process.memoryUsage().arrayBuffers ?? 0;
  let peak = 0;
  const result = await outcome("readInteractions", () =>
    readInteractions({ name, bytes }, { columns, ...dialectOf(model), onProgress: () => { peak = Math.max(peak, (process.memoryUsage().arrayBuffers ?? 0) - before); } }));
  return { result, peak };
}

describe("fuzz: gzip and zip sources", () => {
  it("valid archives read back exactly as the plain file", async () => {
    await fc.assert(
      fc.asyncProperty(validFile, fc.constantFrom<Container>("gzip", "zip-deflate", "zip-stored", "zip-gz"), async (model, container) => {
        const { name, bytes } = pack(model, container);
        const result = await outcome("readInteractions", () => readInteractions({ name, bytes }, { columns, ...dialectOf(model) }));
        if (!result.ok) throw result.error;
        expectModel(result.value, model);
      }),
      params("archives: valid", 30),
    );
  }, TEST_TIMEOUT);

  it("truncated or flipped archives: the exact content, or a DataError", async () => {
    await fc.assert(
      fc.asyncProperty(
        validFile,
        fc.constantFrom<Container>("gzip", "zip-deflate", "zip-stored", "zip-gz"),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 255 })),
        async (model, container, where, bits) => {
          const { name, bytes, file } = pack(model, container);
          const at = Math.min(bytes.length - 1, Math.floor(where * bytes.length));
          // bits 0: truncate at `at`; otherwise flip those bits of byte `at`.
          const mutated = bits === 0 ? bytes.slice(0, at) : bytes.slice();
          if (bits !== 0) mutated[at] ^= bits;
          const result = await outcome("readInteractions", () => readInteractions({ name, bytes: mutated }, { columns, ...dialectOf(model) }));
          // A flip in a field nothing checks (a gzip mtime, a zip version) is harmless: the
          // content must then be exactly the original one.
          if (result.ok) expectModel(result.value, model);
          else expectArchiveError(result.error, file);
        },
      ),
      params("archives: truncated or flipped", 60),
    );
  }, TEST_TIMEOUT);

  it("zip entries with forged CRCs, sizes, methods and offsets (zip bombs): a DataError, no huge allocation", async () => {
    const huge = fc.constantFrom(0xffffffff - 1, 2 ** 31, 2 ** 31 - 1, 1e9, 123_456_789);
    const forge = fc.oneof(
      fc.record({ crc: fc.integer({ min: 0, max: 0xffffffff }) }),
      fc.record({ size: fc.oneof(huge, fc.nat({ max: 5000 })) }),
      fc.record({ compressedSize: fc.oneof(huge, fc.nat({ max: 5000 })) }),
      fc.record({ zip64Size: fc.constantFrom(2 ** 40, 2 ** 52, 2 ** 53 + 2, 2 ** 63, 2 ** 33) }),
      fc.record({ method: fc.constantFrom(1, 6, 9, 12, 14, 99) }),
      fc.record({ localHeaderOffset: fc.constantFrom(1, 7, 0xfffffff0, 2 ** 31) }),
    );
    await fc.assert(
      fc.asyncProperty(validFile, fc.constantFrom<0 | 8>(0, 8), forge, async (small, method, forged) => {
        // Over 64 KiB, so that the reader streams past its sniffed start and sizes its
        // columns from the size the archive claims.
        const model = enlarge(small, 80 << 10);
        const bytes = writeZip([{ name: "r.csv", data: model.bytes, method, forge: forged }]);
        const { result, peak } = await readWatchingMemory("fuzz.zip:r.csv", bytes, model);
        // A forged field that changes nothing (a CRC forged to the right value) reads fine.
        if (result.ok) expectModel(result.value, model);
        else expectArchiveError(result.error, ["fuzz.zip:r.csv", "fuzz.zip"]);
        expect(peak).toBeLessThan(64 << 20);
      }),
      params("archives: forged zip entries", 40),
    );
  }, TEST_TIMEOUT);

  it("gzip trailers with forged sizes and CRCs: a DataError, no huge allocation", async () => {
    await fc.assert(
      fc.asyncProperty(validFile, fc.integer({ min: 0, max: 0xffffffff }), fc.boolean(), async (small, forged, crc) => {
        const model = enlarge(small, 80 << 10);
        const bytes = gzipSync(model.bytes);
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const at = bytes.length - (crc ? 8 : 4);
        if (view.getUint32(at, true) === forged) return;
        view.setUint32(at, forged, true);
        const { result, peak } = await readWatchingMemory("fuzz.csv.gz", bytes, model);
        if (result.ok) throw new Error("a forged gzip trailer was accepted");
        expectArchiveError(result.error, ["fuzz.csv.gz"]);
        expect(peak).toBeLessThan(64 << 20);
      }),
      params("archives: forged gzip trailers", 30),
    );
  }, TEST_TIMEOUT);

  it("arbitrary bytes named .gz or .zip: a DataError, or a table", async () => {
    const magic = fc.constantFrom(new Uint8Array([0x1f, 0x8b, 8, 0]), new Uint8Array([0x50, 0x4b, 3, 4]), new Uint8Array([0x50, 0x4b, 5, 6]), new Uint8Array(0));
    await fc.assert(
      fc.asyncProperty(magic, fc.uint8Array({ maxLength: 200 }), fc.constantFrom("fuzz.csv.gz", "fuzz.zip:r.csv", "fuzz.zip"), async (head, tail, name) => {
        const bytes = new Uint8Array([...head, ...tail]);
        const result = await outcome("readInteractions", () => readInteractions({ name, bytes }, { columns }));
        if (!result.ok) expectArchiveError(result.error, [name, name.replace(/:.*$/, "")]);
      }),
      params("archives: arbitrary bytes", 40),
    );
  }, TEST_TIMEOUT);
});
