// The readers' parts against independent truths: numbers against the engine's Number(),
// the interner against a Map, CRC-32 against its check value and gzip's own trailer, and
// the tokenizer, fed in chunks of every size, against the rows a file was generated from.

import { gzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { crc32 } from "../src/io/crc32.js";
import { DelimitedReader, type OpenOptions } from "../src/io/delimited.js";
import { ByteInterner } from "../src/io/intern.js";
import { parseDecimal } from "../src/io/numbers.js";
import type { ByteSource } from "../src/io/source.js";

const encoder = new TextEncoder();

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe("parseDecimal", () => {
  const parse = (text: string) => {
    const bytes = encoder.encode(`xx${text}yy`); // an offset into a larger buffer, as in a row
    return parseDecimal(bytes, 2, bytes.length - 2);
  };

  it("agrees with Number() on hand-picked decimals", () => {
    const texts = ["0", "-0", "42", "+7", "3.5", "-3.5", ".5", "5.", "0.1", "4.0", "1e3", "1E3", "2.5e-4", "-1.25E+2", "000123", "0.000001234",
      "9007199254740993", "123456789012345678901234567890", "0.30000000000000004", "1.7976931348623157e308", "5e-324", "4.9e-324", "1e-400",
      "964982703", "352698", " 12 ", "\t3.5", "1e22", "1e23", "123456789012345.6", "1234567890123456.7"];
    for (const text of texts) expect([text, parse(text)]).toEqual([text, Number(text)]);
  });

  it("agrees with Number() on 20,000 random numbers written every which way", () => {
    const random = lcg(7);
    for (let k = 0; k < 20_000; k++) {
      const x = (random() - 0.5) * 10 ** Math.floor(random() * 30 - 15);
      for (const text of [String(x), x.toFixed(Math.floor(random() * 8)), x.toExponential(Math.floor(random() * 16)), x.toPrecision(1 + Math.floor(random() * 20))]) {
        expect(parse(text)).toBe(Number(text));
      }
    }
  });

  it("rejects what is not a plain finite decimal", () => {
    for (const text of ["", " ", "-", "+", ".", "e3", "1e", "1e+", "abc", "NaN", "nan", "Infinity", "-inf", "0x10", "1,5", "1.2.3", "12a", "--1", "1 2", "1e999", "-1e999"]) {
      expect([text, parse(text)]).toEqual([text, NaN]);
    }
  });
});

describe("ByteInterner", () => {
  it("gives the ids a Map gives, in first-seen order, through many growths", () => {
    const random = lcg(3);
    const decode = (bytes: Uint8Array, start: number, end: number) => new TextDecoder().decode(bytes.subarray(start, end));
    const interner = new ByteInterner(decode, 4);
    const reference = new Map<string, number>();
    const alphabet = "ab\u00e9\u4e2d0123456789-";
    for (let k = 0; k < 60_000; k++) {
      const length = Math.floor(random() ** 3 * 60);
      let key = "";
      for (let i = 0; i < length; i++) key += alphabet[Math.floor(random() * (k % 3 === 0 ? 2 : alphabet.length))];
      if (!reference.has(key)) reference.set(key, reference.size);
      const bytes = encoder.encode(`<${key}>`);
      expect(interner.intern(bytes, 1, bytes.length - 1)).toBe(reference.get(key));
    }
    expect(interner.keys).toEqual([...reference.keys()]);
    expect(interner.size).toBe(reference.size);
    const present = encoder.encode([...reference.keys()][123]);
    expect(interner.find(present, 0, present.length)).toBe(123);
    const absent = encoder.encode("zzz-not-a-key");
    expect(interner.find(absent, 0, absent.length)).toBe(-1);
  });

  it("decodes each distinct key once", () => {
    let decodes = 0;
    const interner = new ByteInterner((bytes, start, end) => {
      decodes++;
      return String.fromCharCode(...bytes.subarray(start, end));
    });
    const bytes = encoder.encode("a,b,a,a,b,c,");
    for (let i = 0; i < bytes.length; i += 2) interner.intern(bytes, i, i + 1);
    expect(interner.keys).toEqual(["a", "b", "c"]);
    expect(decodes).toBe(3);
  });
});

describe("crc32", () => {
  it("gives the standard check value and the CRC in gzip's trailer", () => {
    expect(crc32(encoder.encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    const random = lcg(11);
    const data = Uint8Array.from({ length: 100_003 }, () => Math.floor(random() * 256));
    const gz = gzipSync(data);
    const trailer = new DataView(gz.buffer, gz.byteOffset + gz.length - 8, 4).getUint32(0, true);
    expect(crc32(data)).toBe(trailer);
    expect(crc32(data.subarray(50_001), crc32(data.subarray(0, 50_001)))).toBe(trailer); // continued across chunks
  });

  it("gives gzip's CRC from every start offset and length around the 4- and 16-byte steps", () => {
    const random = lcg(12);
    const data = Uint8Array.from({ length: 300 }, () => Math.floor(random() * 256));
    for (let start = 0; start < 8; start++) {
      for (const length of [0, 1, 3, 15, 16, 17, 63, 64, 65, 66, 67, 79, 80, 81, 255, 256, 257, 292 - start]) {
        const piece = data.subarray(start, start + length);
        const gz = gzipSync(piece);
        expect(crc32(piece)).toBe(new DataView(gz.buffer, gz.byteOffset + gz.length - 8, 4).getUint32(0, true));
      }
    }
  });
});

/** A source that hands out `size`-byte chunks, to put chunk boundaries everywhere. */
function chunked(bytes: Uint8Array, size: number): ByteSource {
  let bytesRead = 0;
  return {
    name: `chunks-of-${size}`,
    totalBytes: bytes.length,
    get bytesRead() {
      return bytesRead;
    },
    decodedSizeHint: bytes.length,
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < bytes.length; i += size) {
        const chunk = bytes.slice(i, i + size);
        bytesRead += chunk.length;
        yield chunk;
      }
    },
  };
}

async function readRows(source: ByteSource, options: OpenOptions): Promise<string[][]> {
  const reader = await DelimitedReader.open(source, options);
  const rows: string[][] = [];
  await reader.forEachRow((bytes, starts, ends) => {
    const row: string[] = [];
    for (let k = 0; k < reader.fieldCount; k++) row.push(reader.decode(bytes, starts[k], ends[k]));
    rows.push(row);
  });
  return rows;
}

// Random rows of 4 fields drawn from `alphabet`, the truth the text is generated from.
function randomRows(seed: number, count: number, alphabet: string[], minLength: number): string[][] {
  const random = lcg(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: 4 }, () => {
      let field = "";
      const length = minLength + Math.floor(random() * 8);
      for (let i = 0; i < length; i++) field += alphabet[Math.floor(random() * alphabet.length)];
      return field;
    }),
  );
}

const csvField = (field: string) => (/[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field);

describe("tokenizer across chunk boundaries", () => {
  const sizes = [1, 2, 3, 7, 100, 4096, 1 << 20];
  // ~150 KB each: past the 64 KiB the dialect is sniffed from, so boundaries fall in the streaming part too.
  const dialects: { name: string; options: OpenOptions; rows: string[][]; text: string }[] = [];
  {
    const rows = randomRows(1, 6_000, ["a", "b", " ", ",", '"', "\n", "\r\n", "é", "x", "1"], 0);
    dialects.push({ name: "CSV with quotes, CRLF", options: { separator: ",", header: false }, rows, text: rows.map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n" });
  }
  {
    const rows = randomRows(2, 6_000, ["a", "b", " ", ",", '"', "é", "1", "|"], 0);
    dialects.push({ name: "MovieLens '::', no final newline", options: { separator: "::", header: false }, rows, text: rows.map((r) => r.join("::")).join("\n") });
  }
  {
    const rows = randomRows(3, 6_000, ["a", "b", " ", ",", '"', "é", "1", ":"], 0);
    dialects.push({ name: "tab, quotes literal", options: { separator: "\t", header: false }, rows, text: rows.map((r) => r.join("\t")).join("\n") + "\n" });
  }
  {
    const rows = randomRows(4, 6_000, ["a", "b", ",", '"', "é", "1"], 1);
    const random = lcg(5);
    const blanks = () => [" ", "\t", "  ", " \t "][Math.floor(random() * 4)];
    const text = rows.map((r) => (random() < 0.3 ? blanks() : "") + r.join(blanks()) + (random() < 0.3 ? blanks() : "") + (random() < 0.5 ? "\r\n" : "\n")).join("");
    dialects.push({ name: "whitespace runs", options: { separator: "whitespace", header: false }, rows, text });
  }

  for (const dialect of dialects) {
    it(`${dialect.name}: every chunk size gives the generated rows`, async () => {
      const bytes = encoder.encode(dialect.text);
      expect(bytes.length).toBeGreaterThan(100_000);
      for (const size of sizes) {
        const rows = await readRows(chunked(bytes, size), dialect.options);
        expect([size, rows.length]).toEqual([size, dialect.rows.length]);
        const firstBad = rows.findIndex((row, r) => row.join("\u0000") !== dialect.rows[r].join("\u0000"));
        expect([size, firstBad, rows[firstBad]]).toEqual([size, -1, undefined]);
      }
    });
  }

  it("sniffs the same dialect the generator used", async () => {
    for (const dialect of dialects) {
      const reader = await DelimitedReader.open(chunked(encoder.encode(dialect.text), 1 << 20), {});
      expect([dialect.name, reader.dialect.separator]).toEqual([dialect.name, dialect.options.separator]);
    }
  });
});

describe("sniffing", () => {
  const cases: [string, string, boolean][] = [
    ["1,2,3\n4,5,6\n", ",", false],
    ["a\tb\n1\t2\n", "\t", true],
    ["1::1193::5::978300760\n1::661::3::978302109\n", "::", false],
    ["1::Toy Story (1995)::Animation|Children's|Comedy\n2::Jumanji (1995)::Adventure|Children's|Fantasy\n", "::", false],
    ["196|242|3\n186|302|3\n", "|", false],
    ["1;2;3\n4;5;6\n", ";", false],
    ["1 2 3\n4  5\t6\n", "whitespace", false],
    ['movieId,title,genres\n1,"Toy Story, The (1995)",Comedy|Drama\n2,Heat (1995),Action\n', ",", true],
    ["id\tname\turl\n1\tMALICE MIZER\thttp://x/y,z\n2\tDiary of Dreams\thttp://x\n", "\t", true],
    ["user item plays\nabc def 3\nghi jkl 4\n", "whitespace", true],
  ];
  it.each(cases)("%j → separator %j, header %s", async (text, separator, header) => {
    const reader = await DelimitedReader.open(chunked(encoder.encode(text), 1 << 20), {});
    expect(reader.dialect.separator).toBe(separator);
    expect(reader.dialect.header).toBe(header);
  });
});
