// Dialects on hand-made fixtures (test/fixtures/io/README.md): each expectation below is
// written out by hand from the fixture's bytes.

import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readInteractions, readTable } from "../src/io/interactions.js";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/io/${name}`, import.meta.url));

/** The table as (user, item, value) triples of raw keys: what a reader of the text sees. */
function triples(table: { rows: number; user: Int32Array; item: Int32Array; value: Float32Array; userKeys: string[]; itemKeys: string[] }) {
  return Array.from({ length: table.rows }, (_, r) => [table.userKeys[table.user[r]], table.itemKeys[table.item[r]], table.value[r]]);
}

describe("separators", () => {
  it("reads MovieLens-1M '::' lines, no header, timestamps included", async () => {
    const table = await readInteractions(fixture("ml-1m-ratings.dat"), { columns: { user: 0, item: 1, value: 2, timestamp: 3 } });
    expect(table.dialect).toMatchObject({ separator: "::", header: false, quote: false });
    expect(triples(table)).toEqual([
      ["1", "1193", 5], ["1", "661", 3], ["1", "914", 3], ["2", "1357", 5], ["2", "3068", 4], ["3", "2355", 5], ["3", "1193", 4],
    ]);
    expect(table.userKeys).toEqual(["1", "2", "3"]);
    expect(table.itemKeys).toEqual(["1193", "661", "914", "1357", "3068", "2355"]);
    expect(Array.from(table.item)).toEqual([0, 1, 2, 3, 4, 5, 0]);
    expect(Array.from(table.timestamp!)).toEqual([978300760, 978302109, 978301968, 978298709, 978299000, 978298430, 978297039]);
  });

  it("reads '|'-separated lines", async () => {
    const table = await readInteractions(fixture("pipe.data"), { columns: { user: 0, item: 1, value: 2 } });
    expect(table.dialect.separator).toBe("|");
    expect(triples(table)).toEqual([["196", "242", 3], ["186", "302", 3], ["22", "377", 1], ["196", "51", 2]]);
  });

  it("reads runs of spaces and tabs, ignoring leading and trailing blanks, a blank line and a CR", async () => {
    const table = await readInteractions(fixture("whitespace.txt"), { columns: { user: 0, item: 1, value: 2 } });
    expect(table.dialect.separator).toBe("whitespace");
    expect(table.skippedBlankLines).toBe(1);
    expect(triples(table)).toEqual([["1", "10", 3.5], ["2", "20", 4], ["1", "30", Math.fround(-0.2)], ["3", "10", 1000]]);
  });

  it("takes a separator given by name", async () => {
    const table = await readInteractions({ name: "named.txt", bytes: new TextEncoder().encode("a\tb\t1\nc\td\t2\n") }, { separator: "tab", columns: { user: 0, item: 1, value: 2 } });
    expect(table.dialect.separator).toBe("\t");
    expect(table.rows).toBe(2);
  });
});

describe("encodings", () => {
  it("decodes MovieLens-1M's ISO-8859-1 movies.dat by sniffing", async () => {
    const { header, rows } = await readTable(fixture("ml-1m-movies-latin1.dat"));
    expect(header).toBeUndefined();
    expect(rows.map((row) => row[1])).toEqual([
      "Toy Story (1995)",
      "Ghost in the Shell (Kôkaku kidôtai) (1995)",
      "One Flew Over the Cuckoo's Nest (1975)",
      "Toys, The (1992)",
      "Les Misérables (1935)",
    ]);
    expect(rows[0][2]).toBe("Animation|Children's|Comedy");
  });

  it("decodes it when told latin1, and shows replacement characters when told utf-8", async () => {
    const latin1 = await readTable(fixture("ml-1m-movies-latin1.dat"), { encoding: "latin1" });
    expect(latin1.rows[1][1]).toBe("Ghost in the Shell (Kôkaku kidôtai) (1995)");
    const utf8 = await readTable(fixture("ml-1m-movies-latin1.dat"), { encoding: "utf-8" });
    expect(utf8.rows[1][1]).toBe("Ghost in the Shell (K\uFFFDkaku kid\uFFFDtai) (1995)");
  });

  it("keeps item labels in Latin-1 as keys decode", async () => {
    const table = await readInteractions(fixture("ml-1m-movies-latin1.dat"), { columns: { user: 2, item: 0, itemLabel: 1 } });
    expect(table.itemLabels?.[1]).toBe("Ghost in the Shell (Kôkaku kidôtai) (1995)");
    expect(Array.from(table.value)).toEqual([1, 1, 1, 1, 1]);
  });

  it("skips a UTF-8 byte-order mark, so the first header name matches", async () => {
    const table = await readInteractions(fixture("bom.csv"), { columns: { user: "userid", item: "MOVIEID", value: "rating" } });
    expect(table.header).toEqual(["userId", "movieId", "rating"]);
    expect(table.dialect).toMatchObject({ separator: ",", encoding: "utf-8", header: true });
    expect(triples(table)).toEqual([["1", "10", 4.5], ["1", "20", 3], ["2", "10", 5]]);
  });

  it("decodes multi-byte UTF-8 keys once, and a stray Latin-1 key past the sniffed bytes by itself", async () => {
    const text = "user,item\r\nzoë,Café\r\nzoë,Café\r\n" + "u,i\r\n".repeat(100_000); // past the 256 KiB the encoding is sniffed from
    const bytes = new Uint8Array([...new TextEncoder().encode(text), ...[0x6a, 0xf6, 0x2c, 0x78, 0x0d, 0x0a]]); // "jö,x" in Latin-1
    const table = await readInteractions({ name: "mixed.csv", bytes }, { columns: { user: "user", item: "item" } });
    expect(table.dialect.encoding).toBe("utf-8");
    expect(table.userKeys).toEqual(["zoë", "u", "jö"]);
    expect(table.itemKeys).toEqual(["Café", "i", "x"]);
  });
});

describe("quoting", () => {
  it("unquotes RFC 4180 fields: separators, doubled quotes and a line break inside quotes", async () => {
    const { header, rows } = await readTable(fixture("quoted.csv"));
    expect(header).toEqual(["user", "item", "rating", "note"]);
    expect(rows).toEqual([
      ["u 1", "i1", "4", "plain"],
      ["u 1", "i,2", "3.5", 'a "quoted" word'],
      ["u2", "i 3", "5", "two\r\nlines, with comma"],
      ["u2", "i1", "1", ""],
    ]);
  });

  it("keeps line numbers right after a quoted line break", async () => {
    const bytes = new TextEncoder().encode('user,item,rating\n1,"a\nb",2\n1,c,oops\n');
    await expect(readInteractions({ name: "multiline.csv", bytes }, { columns: { user: 0, item: 1, value: 2 } })).rejects.toThrow("multiline.csv:4: rating: value 'oops' is not a number");
  });

  it("reads quoted ids as their text", async () => {
    const table = await readInteractions(fixture("quoted.csv"), { columns: { user: "user", item: "item", value: "rating" } });
    expect(triples(table)).toEqual([["u 1", "i1", 4], ["u 1", "i,2", 3.5], ["u2", "i 3", 5], ["u2", "i1", 1]]);
  });

  it("takes quotes literally in tab-separated files unless told otherwise", async () => {
    const bytes = new TextEncoder().encode('1\t"Weird Al" Yankovic\n2\t"Quoted"\n');
    expect((await readTable({ name: "names.tsv", bytes })).rows).toEqual([["1", '"Weird Al" Yankovic'], ["2", '"Quoted"']]);
    expect((await readTable({ name: "names.tsv", bytes }, { quote: true })).rows).toEqual([["1", "Weird Al Yankovic"], ["2", "Quoted"]]);
  });
});

describe("headers and keys", () => {
  it("tells a header from data by the id and value columns", async () => {
    const withHeader = new TextEncoder().encode("u\ti\tplays\nx\ty\t3\n");
    const without = new TextEncoder().encode("x\ty\t3\nz\ty\t4\n");
    expect((await readInteractions({ name: "h.tsv", bytes: withHeader }, { columns: { user: 0, item: 1, value: 2 } })).header).toEqual(["u", "i", "plays"]);
    const table = await readInteractions({ name: "n.tsv", bytes: without }, { columns: { user: 0, item: 1, value: 2 } });
    expect(table.header).toBeUndefined();
    expect(table.rows).toBe(2);
  });

  it("honours header: false and header: true", async () => {
    const bytes = new TextEncoder().encode("1,2,3\n4,5,6\n");
    expect((await readInteractions({ name: "a.csv", bytes }, { header: false, columns: { user: 0, item: 1, value: 2 } })).rows).toBe(2);
    const headed = await readInteractions({ name: "a.csv", bytes }, { header: true, columns: { user: "1", item: "2", value: "3" } });
    expect(headed.header).toEqual(["1", "2", "3"]);
    expect(triples(headed)).toEqual([["4", "5", 6]]);
  });

  it("trims keys of surrounding whitespace only, and counts every row 1 without a value column", async () => {
    const bytes = new TextEncoder().encode("user , item\n  a b  , x\n a b,x \n");
    const table = await readInteractions({ name: "t.csv", bytes }, { columns: { user: "USER", item: "item" } });
    expect(table.userKeys).toEqual(["a b"]);
    expect(table.itemKeys).toEqual(["x"]);
    expect(Array.from(table.value)).toEqual([1, 1]);
  });

  it("keeps each item's first label, as Last.fm-360K's artist names beside mbids", async () => {
    const text = "u1\tmbid-a\tMuse\t10\nu1\t\tunknown one\t3\nu2\tmbid-a\tmuse\t7\nu2\t\tunknown two\t1\n";
    const table = await readInteractions({ name: "plays.tsv", bytes: new TextEncoder().encode(text) }, { columns: { user: 0, item: 1, value: 3, itemLabel: 2 } });
    expect(table.itemKeys).toEqual(["mbid-a", ""]);
    expect(table.itemLabels).toEqual(["Muse", "unknown one"]);
    expect(Array.from(table.value)).toEqual([10, 3, 7, 1]);
  });

  it("reads a one-column file, skipping its blank lines", async () => {
    const { rows } = await readTable({ name: "ids.txt", bytes: new TextEncoder().encode("a\n\nb\r\n  \nc") });
    expect(rows).toEqual([["a"], ["b"], ["c"]]);
  });

  it("reports progress per chunk, ending at the file's size", async () => {
    const bytes = new TextEncoder().encode("u,i,1\n".repeat(400_000));
    const calls: [number, number | undefined, number][] = [];
    const table = await readInteractions({ name: "p.csv", bytes }, { columns: { user: 0, item: 1, value: 2 }, onProgress: (...args) => calls.push(args) });
    expect(calls.length).toBeGreaterThan(2);
    expect(calls.at(-1)).toEqual([bytes.length, bytes.length, 400_000]);
    expect(table.rows).toBe(400_000);
  });
});
