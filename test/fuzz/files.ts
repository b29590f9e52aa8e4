// Generators of interaction files together with their own model of the content: the
// rows a correct reader must return. Dialects, quoting, CRLF, BOM, blank lines and
// encodings vary; ids avoid every candidate separator so "auto" sniffing has one right
// answer, except inside quotes (comma dialect), where anything goes.

import fc from "fast-check";

export type Separator = "\t" | "," | "::" | "|" | "whitespace";

export interface Row { user: string; item: string; value: number; text: string }

export interface FileModel {
  separator: Separator;
  header: boolean;
  crlf: boolean;
  bom: boolean;
  latin1: boolean;
  /** Rows as the file holds them; `value` is what a reader must return (float32). */
  rows: Row[];
  /** Blank line counts before each row (a blank line is skipped, never a row). */
  blanksBefore: number[];
  finalNewline: boolean;
  /** Per row: the 1-based line it starts on. */
  lines: number[];
  bytes: Uint8Array;
}

const PLAIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.".split("");
// Non-ASCII letters that are single Latin-1 bytes (0xE9, 0xFC, 0xF1) which never form
// valid UTF-8 next to each other or to ASCII, so the encoding sniffer has one answer.
const ACCENTED = ["é", "ü", "ñ"];

const idText = (accented: boolean) =>
  fc.array(fc.constantFrom(...PLAIN, ...(accented ? ACCENTED : [])), { minLength: 1, maxLength: 8 })
    // Starting with a letter keeps ids from reading as numbers, so the header sniffer
    // sees text only in a header row.
    .map((chars) => "k" + chars.join(""));

// Field text that needs quotes in CSV: separators, quotes, newlines.
const quotedText = fc.array(fc.constantFrom("a", "b", ",", '"', " ", "\n", "é", "x"), { minLength: 1, maxLength: 8 }).map((c) => "q" + c.join(""));

/** A value as a file may write it, and the float32 a reader must return for it. */
export const valueText: fc.Arbitrary<{ text: string; value: number }> = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map((n) => String(n)),
  fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }).map((x) => String(x)),
  fc.tuple(fc.integer({ min: 0, max: 99999 }), fc.integer({ min: -30, max: 30 }), fc.constantFrom("e", "E")).map(([m, e, c]) => `${m}${c}${e}`),
  fc.tuple(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 999 })).map(([a, b]) => `${a}.${b}`),
  fc.integer({ min: 0, max: 999 }).map((n) => `.${n}`),
  fc.integer({ min: 0, max: 999 }).map((n) => `+${n}`),
  fc.constantFrom("-0", "0", "-0.0", "3.4028234663852886e38", "1e-45", "0.1", "1234567890123456789"),
).map((text) => ({ text, value: Math.fround(Number(text)) }));

function encodeLatin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function csvQuote(text: string, force: boolean): string {
  return force || /[",\n\r]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

export const validFile: fc.Arbitrary<FileModel> = fc
  .record({
    separator: fc.constantFrom<Separator>("\t", ",", "::", "|", "whitespace"),
    header: fc.boolean(),
    crlf: fc.boolean(),
    bom: fc.boolean(),
    latin1: fc.boolean(),
    finalNewline: fc.boolean(),
    forceQuotes: fc.boolean(),
    quotedIds: fc.boolean(),
  })
  .chain((shape) => {
    const accented = true;
    const id = shape.separator === "," && shape.quotedIds ? fc.oneof(idText(accented), quotedText) : idText(accented);
    const row = fc.record({ user: id, item: id, value: valueText });
    return fc.record({
      shape: fc.constant(shape),
      rows: fc.array(row, { minLength: 1, maxLength: 30 }),
      blanks: fc.array(fc.nat({ max: 2 }), { minLength: 30, maxLength: 30 }),
    });
  })
  .map(({ shape, rows, blanks }) => {
    const { separator, header, crlf, bom, latin1, finalNewline, forceQuotes } = shape;
    const eol = crlf ? "\r\n" : "\n";
    const sep = separator === "whitespace" ? "  " : separator;
    const field = (text: string) => (separator === "," ? csvQuote(text, forceQuotes) : text);
    const out: string[] = [];
    let line = 1;
    const lines: number[] = [];
    const blanksBefore: number[] = [];
    if (header) {
      out.push(["user", "item", "rating"].map(field).join(sep) + eol);
      line++;
    }
    rows.forEach((r, k) => {
      // No blank line before a header-less first row: a leading blank line is fine, but
      // keep the model simple by putting blank lines only between rows.
      const blank = k === 0 ? 0 : blanks[k];
      for (let b = 0; b < blank; b++) out.push(eol);
      line += blank;
      blanksBefore.push(blank);
      lines.push(line);
      const text = [field(r.user), field(r.item), field(r.value.text)].join(sep);
      out.push(text + (k < rows.length - 1 || finalNewline ? eol : ""));
      line += 1 + (r.user.match(/\n/g)?.length ?? 0) + (r.item.match(/\n/g)?.length ?? 0);
    });
    const text = out.join("");
    const body = latin1 ? encodeLatin1(text) : new TextEncoder().encode(text);
    // A BOM announces UTF-8: only on UTF-8 files.
    const withBom = bom && !latin1;
    const bytes = new Uint8Array(body.length + (withBom ? 3 : 0));
    if (withBom) bytes.set([0xef, 0xbb, 0xbf]);
    bytes.set(body, withBom ? 3 : 0);
    return {
      separator, header, crlf, bom: withBom, latin1, finalNewline, blanksBefore, lines, bytes,
      rows: rows.map((r) => ({ user: r.user, item: r.item, value: r.value.value, text: r.value.text })),
    };
  });

/** Values no reader may let through: each must be refused with its file and line. */
export const BAD_VALUES = ["NaN", "nan", "inf", "-inf", "Infinity", "-Infinity", "1e999", "-1e999", "1e39", "3.5e38", "", "0x10", "1,5", "e5", "1e", "--1", "∞"];

/**
 * The file with its data rows repeated until it is over `minBytes` long: big enough that
 * the reader sniffs its first 64 KiB and streams the rest (where size hints matter).
 */
export function enlarge(model: FileModel, minBytes: number): FileModel {
  const bytes = model.bytes;
  const eol = model.crlf ? [0x0d, 0x0a] : [0x0a];
  let start = model.bom ? 3 : 0;
  if (model.header) start = bytes.indexOf(0x0a) + 1;
  const body = bytes.subarray(start);
  const ending = model.finalNewline ? [] : eol;
  const copies = Math.max(1, Math.ceil(minBytes / Math.max(1, body.length + ending.length)));
  const out = new Uint8Array(bytes.length + copies * (ending.length + body.length));
  out.set(bytes);
  let o = bytes.length;
  const rows: Row[] = [...model.rows];
  for (let c = 0; c < copies; c++) {
    out.set(ending, o);
    o += ending.length;
    out.set(body, o);
    o += body.length;
    rows.push(...model.rows);
  }
  return { ...model, rows, bytes: out.subarray(0, o), lines: [], blanksBefore: [] };
}
