// gzip and zip sources: the same text read plain, gzipped and zipped (from disk and from
// memory) must give identical tables, and every truncation or corruption must be a
// DataError, never a silent short read. Archives are made here with fflate.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync, zipSync } from "fflate";
import { afterAll, describe, expect, it } from "vitest";
import { crc32 } from "../src/io/crc32.js";
import { DataError } from "../src/io/errors.js";
import { readInteractions, type InteractionTable } from "../src/io/interactions.js";

const dir = mkdtempSync(join(tmpdir(), "edgerec-io-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// ~6 MB of ratings, several 1 MiB chunks even gzipped: quoted items with commas, CRLF.
function ratingsCsv(rows: number): Uint8Array {
  let state = 12345;
  const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const lines = ["userId,movieId,rating,timestamp"];
  for (let r = 0; r < rows; r++) {
    const item = Math.floor(random() ** 2 * 5000);
    const key = item % 7 === 0 ? `"film ${item}, the ""cut"""` : `m${item}`;
    lines.push(`user-${Math.floor(r / 40)},${key},${Math.round(random() * 10) / 2},${1_500_000_000 + Math.floor(random() * 1e8)}`);
  }
  return new TextEncoder().encode(lines.join("\r\n") + "\r\n");
}

const plain = ratingsCsv(200_000);
const gzipped = gzipSync(plain, { level: 6 });
const zipped = zipSync({ "data/ratings.csv": plain, "notes.txt": new TextEncoder().encode("not this one") });
const zippedStored = zipSync({ "ratings.csv": [plain, { level: 0 }] });
const write = (name: string, bytes: Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};
const paths = {
  plain: write("ratings.csv", plain),
  gz: write("ratings.csv.gz", gzipped),
  zip: write("archive.zip", zipped),
  stored: write("stored.zip", zippedStored),
};
const columns = { user: "userId", item: "movieId", value: "rating", timestamp: "timestamp" };

/** Index of the first difference between two arrays, -1 when equal (vitest's deep equality is slow on 200K rows). */
function firstDifference(a: ArrayLike<unknown>, b: ArrayLike<unknown>): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Asserts two tables hold the same content (the name each was read from aside). */
function expectSameTable(actual: InteractionTable, expected: InteractionTable): void {
  for (const column of ["user", "item", "value", "timestamp", "userKeys", "itemKeys"] as const) {
    expect([column, firstDifference(actual[column] ?? [], expected[column] ?? [])]).toEqual([column, -1]);
  }
  expect({ ...actual, source: "", user: 0, item: 0, value: 0, timestamp: 0, userKeys: 0, itemKeys: 0 }).toEqual({ ...expected, source: "", user: 0, item: 0, value: 0, timestamp: 0, userKeys: 0, itemKeys: 0 });
}

async function expectDataError(promise: Promise<unknown>, file: string, message: RegExp): Promise<DataError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DataError);
  const dataError = error as DataError;
  expect(dataError.file).toBe(file);
  expect(dataError.message).toMatch(message);
  return dataError;
}

describe("same table whatever the container", () => {
  it("reads plain, .gz, a deflated zip member and a stored zip member, from disk and from memory, identically", async () => {
    const reference = await readInteractions(paths.plain, { columns });
    expect(reference.rows).toBe(200_000);
    expect(reference.itemKeys).toContain('film 7, the "cut"');
    const others = await Promise.all([
      readInteractions(paths.gz, { columns }),
      readInteractions(`${paths.zip}:data/ratings.csv`, { columns }),
      readInteractions(paths.stored, { columns }), // the only member, picked without naming it
      readInteractions({ name: "upload.csv.gz", bytes: gzipped }, { columns }),
      readInteractions({ name: "upload.zip:data/ratings.csv", bytes: zipped }, { columns }),
      readInteractions({ name: "upload.csv", bytes: plain }, { columns }),
    ]);
    for (const table of others) expectSameTable(table, reference);
  });

  it("unwraps a gzipped member of a zip archive", async () => {
    const nested = zipSync({ "ratings.csv.gz": [gzipped, { level: 0 }] });
    const table = await readInteractions({ name: "nested.zip:ratings.csv.gz", bytes: nested }, { columns });
    expectSameTable(table, await readInteractions(paths.plain, { columns }));
  });

  it("recognises gzip by its magic bytes whatever the name", async () => {
    const table = await readInteractions({ name: "ratings.csv", bytes: gzipped }, { columns });
    expect(table.rows).toBe(200_000);
  });

  it("reads every member of a multi-member gzip (concatenated .gz files)", async () => {
    const cut = plain.indexOf(0x0a, plain.length >> 1) + 1;
    const twoMembers = new Uint8Array([...gzipSync(plain.subarray(0, cut)), ...gzipSync(plain.subarray(cut))]);
    const table = await readInteractions({ name: "two.csv.gz", bytes: twoMembers }, { columns });
    expectSameTable(table, await readInteractions(paths.plain, { columns }));
  });
});

// A zip64 archive, built by hand from APPNOTE.TXT (fflate writes none): one stored member
// whose sizes and offset live in zip64 extra fields, found through the zip64 end record.
function zip64Stored(name: string, data: Uint8Array): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const crc = crc32(data);
  const localLength = 30 + nameBytes.length + 20;
  const centralLength = 46 + nameBytes.length + 28;
  const out = new Uint8Array(localLength + data.length + centralLength + 56 + 20 + 22);
  const view = new DataView(out.buffer);
  let p = 0;
  const u16 = (v: number) => (view.setUint16(p, v, true), (p += 2));
  const u32 = (v: number) => (view.setUint32(p, v, true), (p += 4));
  const u64 = (v: number) => (view.setBigUint64(p, BigInt(v), true), (p += 8));
  const bytes = (b: Uint8Array) => (out.set(b, p), (p += b.length));
  u32(0x04034b50), u16(45), u16(0), u16(0), u16(0), u16(0), u32(crc), u32(0xffffffff), u32(0xffffffff), u16(nameBytes.length), u16(20);
  bytes(nameBytes), u16(1), u16(16), u64(data.length), u64(data.length);
  bytes(data);
  const directory = p;
  u32(0x02014b50), u16(45), u16(45), u16(0), u16(0), u16(0), u16(0), u32(crc), u32(0xffffffff), u32(0xffffffff);
  u16(nameBytes.length), u16(28), u16(0), u16(0), u16(0), u32(0), u32(0xffffffff);
  bytes(nameBytes), u16(1), u16(24), u64(data.length), u64(data.length), u64(0);
  const record = p;
  u32(0x06064b50), u64(44), u16(45), u16(45), u32(0), u32(0), u64(1), u64(1), u64(record - directory), u64(directory);
  u32(0x07064b50), u32(0), u64(record), u32(1);
  u32(0x06054b50), u16(0xffff), u16(0xffff), u16(0xffff), u16(0xffff), u32(0xffffffff), u32(0xffffffff), u16(0);
  expect(p).toBe(out.length);
  return out;
}

describe("zip64", () => {
  it("reads a member whose sizes and offset are in zip64 fields", async () => {
    const table = await readInteractions({ name: "big.zip:ratings.csv", bytes: zip64Stored("ratings.csv", plain) }, { columns });
    expectSameTable(table, await readInteractions(paths.plain, { columns }));
  });
});

describe("truncated and corrupt archives", () => {
  it.each([
    ["in the middle of the deflate stream", (n: number) => n >> 1],
    ["one byte short", (n: number) => n - 1],
    ["without its length", (n: number) => n - 4],
    ["without its whole trailer", (n: number) => n - 8],
    ["inside the header", () => 5],
  ])("refuses a gzip file cut %s", async (_, cut) => {
    const path = write(`cut-${cut(gzipped.length)}.csv.gz`, gzipped.subarray(0, cut(gzipped.length)));
    await expectDataError(readInteractions(path, { columns }), path, /truncated gzip data/);
  });

  it("says on which line a truncated gzip stopped", async () => {
    const path = write("half.csv.gz", gzipped.subarray(0, gzipped.length >> 1));
    const error = await expectDataError(readInteractions(path, { columns }), path, /^.*half\.csv\.gz:\d+: truncated gzip data$/);
    expect(error.line).toBeGreaterThan(50_000);
  });

  it("refuses a gzip file whose CRC-32 does not match", async () => {
    const bad = gzipped.slice();
    bad[bad.length - 8] ^= 1;
    await expectDataError(readInteractions({ name: "bad-crc.csv.gz", bytes: bad }, { columns }), "bad-crc.csv.gz", /corrupt gzip data \(CRC-32 mismatch\)/);
  });

  it("checks the CRC-32 of every member of a multi-member gzip, not just the last", async () => {
    const first = gzipSync(plain.subarray(0, 500_000));
    first[first.length - 8] ^= 1;
    const bad = new Uint8Array([...first, ...gzipSync(plain.subarray(500_000))]);
    await expectDataError(readInteractions({ name: "two.csv.gz", bytes: bad }, { columns }), "two.csv.gz", /corrupt gzip data \(CRC-32 mismatch\)/);
  });

  it("lists the members when the named one is missing", async () => {
    const error = await expectDataError(readInteractions(`${paths.zip}:ratings.csv`, { columns }), paths.zip, /no member 'ratings.csv' in the archive/);
    expect(error.message).toContain("members: data/ratings.csv, notes.txt");
  });

  it("asks for a member when the archive has several", async () => {
    await expectDataError(readInteractions(paths.zip, { columns }), paths.zip, /name a member as .*archive\.zip:<member> \(members: data\/ratings\.csv, notes\.txt\)/);
  });

  it("points at a zip archive read as plain text", async () => {
    await expectDataError(readInteractions({ name: "ratings.bin", bytes: zipped }, { columns }), "ratings.bin", /is a zip archive: name a member as ratings\.bin:<member>/);
  });

  it("refuses a zip archive cut short", async () => {
    const path = write("cut.zip", zipped.subarray(0, zipped.length - 30));
    await expectDataError(readInteractions(`${path}:data/ratings.csv`, { columns }), path, /truncated zip data/);
  });

  it("refuses a zip member whose data does not match its CRC-32", async () => {
    const bad = zippedStored.slice();
    bad[1000] ^= 0x01; // inside the stored member's data
    await expectDataError(readInteractions({ name: "bad.zip:ratings.csv", bytes: bad }, { columns }), "bad.zip:ratings.csv", /corrupt zip data \(CRC-32 mismatch\)/);
  });

  it("refuses a zip member whose deflate data ends early", async () => {
    const small = zipSync({ "r.csv": plain.subarray(0, 100_000) });
    // Shrink the member's recorded compressed size: its data now ends mid-stream.
    const view = new DataView(small.buffer, small.byteOffset, small.byteLength);
    const directory = view.getUint32(small.length - 22 + 16, true);
    view.setUint32(directory + 20, view.getUint32(directory + 20, true) >> 1, true);
    await expectDataError(readInteractions({ name: "short.zip:r.csv", bytes: small }, { columns }), "short.zip:r.csv", /truncated zip data/);
  });

  it("names a missing file", async () => {
    const path = join(dir, "nope.csv");
    await expectDataError(readInteractions(path, { columns }), path, /no such file/);
  });
});
