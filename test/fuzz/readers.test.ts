// Property-based fuzzing of the delimited and interaction readers: arbitrary bytes, valid
// files of random dialects checked against their own model, and those files mutated.
// Every case must end in a correct parse or a DataError naming file and line.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readInteractions, readTable, previewTable } from "../../src/io/interactions.js";
import { BAD_VALUES, validFile, type FileModel } from "./files.js";
import { expectDataError } from "./outcomes.js";
import { guarded, outcome, params, TEST_TIMEOUT } from "./support.js";

const FILE = "fuzz.csv";
const columns = { user: 0, item: 1, value: 2 };

/** The (user, item, value) triples of a table, in row order. */
function triples(table: Awaited<ReturnType<typeof readInteractions>>): [string, string, number][] {
  return Array.from({ length: table.rows }, (_, r) => [table.userKeys[table.user[r]], table.itemKeys[table.item[r]], table.value[r]]);
}

// Keys are trimmed of spaces and tabs at both ends by the reader.
const key = (text: string) => text.replace(/^[ \t]+|[ \t\r]+$/g, "");

function expected(model: FileModel): [string, string, number][] {
  return model.rows.map((r) => [key(r.user), key(r.item), r.value]);
}

function sameTriples(actual: [string, string, number][], wanted: [string, string, number][]): void {
  expect(actual.length).toBe(wanted.length);
  for (let r = 0; r < wanted.length; r++) {
    const [u, i, v] = actual[r];
    const [wu, wi, wv] = wanted[r];
    if (u !== wu || i !== wi || !Object.is(v, wv)) throw new Error(`row ${r}: got ${JSON.stringify([u, i, String(v)])}, want ${JSON.stringify([wu, wi, String(wv)])}`);
  }
}

// One mutation of a file's bytes; `at` and `length` are fractions of the file, so that
// shrinking keeps them meaningful whatever the size.
type Mutation =
  | { kind: "truncate"; at: number }
  | { kind: "flip"; at: number; bits: number }
  | { kind: "duplicateLine"; at: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "hugeField"; at: number; size: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("flip" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bits: fc.integer({ min: 1, max: 255 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("duplicateLine" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }), weight: 3 },
  { weight: 3, arbitrary: fc.record({
    kind: fc.constant("insert" as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    bytes: fc.oneof(
      fc.constantFrom(new Uint8Array([0]), new Uint8Array([0xff]), new Uint8Array([0xc3]), new Uint8Array([0xed, 0xa0, 0x80]), new Uint8Array([0x22]), new Uint8Array([0x0d]), new Uint8Array([0x0a]), new Uint8Array([0x2c]), new Uint8Array([0x09])),
      fc.uint8Array({ minLength: 1, maxLength: 8 }),
    ),
  }) },
  // Longer than the sniffer's 64 KiB, up to past the 1 MiB chunk of a source. Rarer than
  // the others: each costs a megabyte through five readers.
  { arbitrary: fc.record({ kind: fc.constant("hugeField" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), size: fc.integer({ min: 1 << 16, max: (1 << 20) + 4096 }) }), weight: 1 },
);

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const at = Math.min(bytes.length, Math.floor(m.at * (bytes.length + 1)));
  switch (m.kind) {
    case "truncate":
      return bytes.slice(0, at);
    case "flip": {
      if (bytes.length === 0) return bytes;
      const out = bytes.slice();
      out[Math.min(at, bytes.length - 1)] ^= m.bits;
      return out;
    }
    case "duplicateLine": {
      const start = bytes.lastIndexOf(0x0a, at - 1) + 1;
      let end = bytes.indexOf(0x0a, at);
      end = end < 0 ? bytes.length : end + 1;
      return concat(bytes.subarray(0, end), bytes.subarray(start, end), bytes.subarray(end));
    }
    case "insert":
      return concat(bytes.subarray(0, at), m.bytes, bytes.subarray(at));
    case "hugeField":
      return concat(bytes.subarray(0, at), new Uint8Array(m.size).fill(0x61), bytes.subarray(at));
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

/** Every reader on the same bytes: each must return or throw a DataError naming FILE. */
async function everyReaderSurvives(bytes: Uint8Array): Promise<void> {
  const input = { name: FILE, bytes };
  for (const [what, run] of [
    ["readInteractions", () => readInteractions(input, { columns })],
    ["readInteractions(named)", () => readInteractions(input, { columns: { user: "user", item: "item", value: "rating" } })],
    ["readInteractions(tab, no header)", () => readInteractions(input, { columns: { user: 0, item: 1 }, separator: "\t", header: false })],
    ["readTable", () => readTable(input)],
    ["previewTable", () => previewTable(input)],
  ] as const) {
    const result = await outcome(what, run as () => Promise<unknown>);
    if (!result.ok) expectDataError(result.error, FILE);
  }
}

describe("fuzz: delimited and interaction readers", () => {
  it("arbitrary bytes: a table or a DataError naming the file and line", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ unit: "binary", maxLength: 200 }).map((s) => new TextEncoder().encode(s))), everyReaderSurvives),
      params("readers: arbitrary bytes", 60),
    );
  }, TEST_TIMEOUT);

  it("valid files of random dialects read back exactly as written", async () => {
    await fc.assert(
      fc.asyncProperty(validFile, fc.boolean(), async (model, sniff) => {
        const dialect = sniff ? {} : { separator: model.separator, header: model.header, encoding: model.latin1 ? ("latin1" as const) : ("utf-8" as const) };
        const table = await guarded("readInteractions", () => readInteractions({ name: FILE, bytes: model.bytes }, { columns, ...dialect }));
        sameTriples(triples(table), expected(model));
        expect(table.dialect.separator).toBe(model.separator);
        expect(table.dialect.header).toBe(model.header);
        expect(table.skippedBlankLines).toBe(model.blanksBefore.reduce((a, b) => a + b, 0));
      }),
      params("readers: valid files", 80),
    );
  }, TEST_TIMEOUT);

  it("a non-finite or malformed value is refused with its file, line and column", async () => {
    await fc.assert(
      fc.asyncProperty(validFile, fc.nat(), fc.constantFrom(...BAD_VALUES), async (model, pick, bad) => {
        // An empty field is no field at all when runs of whitespace separate them.
        if (bad === "" && model.separator === "whitespace") return;
        const r = pick % model.rows.length;
        const rows = model.rows.map((row, k) => (k === r ? { ...row, text: bad } : row));
        const bytes = rebuild(model, rows);
        const result = await outcome("readInteractions", () => readInteractions({ name: FILE, bytes }, { columns, separator: model.separator, header: model.header }));
        if (result.ok) throw new Error(`value '${bad}' on line ${model.lines[r]} was accepted`);
        const error = expectDataError(result.error, FILE);
        expect(error.line).toBe(model.lines[r]);
        expect(error.field).toBe(model.header ? "rating" : "3");
      }),
      params("readers: bad values", 60),
    );
  }, TEST_TIMEOUT);

  it("mutated files: a table or a DataError naming the file and line", async () => {
    await fc.assert(
      fc.asyncProperty(validFile, fc.array(mutation, { minLength: 1, maxLength: 3 }), async (model, mutations) => {
        await everyReaderSurvives(mutations.reduce(mutate, model.bytes));
      }),
      params("readers: mutated files", 40),
    );
  }, TEST_TIMEOUT);
});

/** The file of `model` with row values replaced by `rows[k].text` (same dialect and layout). */
function rebuild(model: FileModel, rows: FileModel["rows"]): Uint8Array {
  const eol = model.crlf ? "\r\n" : "\n";
  const sep = model.separator === "whitespace" ? "  " : model.separator;
  const q = (t: string) => (model.separator === "," && /[",\n\r]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t);
  const lines: string[] = [];
  if (model.header) lines.push(["user", "item", "rating"].join(sep));
  rows.forEach((r, k) => {
    for (let b = 0; b < model.blanksBefore[k]; b++) lines.push("");
    lines.push([q(r.user), q(r.item), q(r.text)].join(sep));
  });
  const text = lines.join(eol) + eol;
  const bytes = new Uint8Array(text.length * 3);
  let n = 0;
  if (model.latin1) for (let i = 0; i < text.length; i++) bytes[n++] = text.charCodeAt(i);
  else n = new TextEncoder().encodeInto(text, bytes).written;
  return bytes.slice(0, n);
}
