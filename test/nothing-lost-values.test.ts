// Nothing lost on reading: a value that is not a finite float32 (NaN, inf, Infinity,
// 1e999, 1e39) is never read as some number; every format refuses it with the file, the
// line and the column, in its value column and in its timestamp column.

import { gzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { loadDataset } from "../src/dataset/dataset.js";
import { DataError } from "../src/io/errors.js";

const NON_FINITE = ["NaN", "nan", "-nan", "inf", "-inf", "Inf", "Infinity", "-Infinity", "+Infinity", "1e999", "-1e999", "1e39", "3.5e38", "0x1p200", "∞"];

interface Case {
  format: string;
  name: string;
  /** Lines of a valid file; `{v}` and `{t}` mark the value and timestamp of line `line`. */
  lines: string[];
  line: number;
  valueField: string;
  timestampField?: string;
}

const cases: Case[] = [
  { format: "movielens", name: "ratings.csv", lines: ["userId,movieId,rating,timestamp", "1,10,4.0,964982703", "1,20,{v},{t}", "2,10,3.5,964982224"], line: 3, valueField: "rating", timestampField: "timestamp" },
  { format: "movielens-dat", name: "ratings.dat", lines: ["1::10::4::978300760", "1::20::{v}::{t}", "2::10::3::978302109"], line: 2, valueField: "3", timestampField: "4" },
  { format: "lastfm-360k", name: "usersha1-artmbid-artname-plays.tsv", lines: ["u1\tm1\tthe beatles\t120", "u1\tm2\tradiohead\t{v}", "u2\tm1\tthe beatles\t7"], line: 2, valueField: "4" },
  { format: "lastfm-2k", name: "user_artists.dat", lines: ["userID\tartistID\tweight", "2\t51\t13883", "2\t52\t{v}", "3\t51\t5"], line: 3, valueField: "weight" },
];

const fill = (c: Case, v: string, t: string) => new TextEncoder().encode(c.lines.map((l) => l.replace("{v}", v).replace("{t}", t)).join("\n") + "\n");

async function refusal(name: string, bytes: Uint8Array): Promise<DataError> {
  const error = await loadDataset({ name, bytes }, { items: false }).then(() => undefined, (e: unknown) => e);
  if (!(error instanceof DataError)) throw new Error(`expected a DataError, got ${error === undefined ? "a dataset" : String(error)}`);
  return error;
}

describe.each(cases)("$format: non-finite values are refused with file, line and column", (c) => {
  it("the valid file reads", async () => {
    const data = await loadDataset({ name: c.name, bytes: fill(c, "5", "964981247") }, { items: false });
    expect(data.format).toBe(c.format);
    expect(Array.from(data.value).every(Number.isFinite)).toBe(true);
  });

  it.each(NON_FINITE)("value %s", async (bad) => {
    const error = await refusal(c.name, fill(c, bad, "964981247"));
    expect([error.file, error.line, error.field]).toEqual([c.name, c.line, c.valueField]);
    expect(error.what).toMatch(/^value '.*' is (not a number|beyond float32 range)$/);
  });

  it("gzipped too", async () => {
    const error = await refusal(`${c.name}.gz`, gzipSync(fill(c, "inf", "964981247")));
    expect([error.file, error.line, error.field]).toEqual([`${c.name}.gz`, c.line, c.valueField]);
  });

  if (c.timestampField) {
    it.each(["NaN", "inf", "Infinity", "1e999"])("timestamp %s", async (bad) => {
      const error = await refusal(c.name, fill(c, "5", bad));
      expect([error.file, error.line, error.field]).toEqual([c.name, c.line, c.timestampField]);
    });
  }
});

describe("columns given by hand (no known format)", () => {
  it.each(NON_FINITE)("value %s", async (bad) => {
    const bytes = new TextEncoder().encode(`a;x;1\nb;y;${bad}\n`);
    const error = await loadDataset({ name: "plays.txt", bytes }, { columns: { user: 0, item: 1, value: 2 }, separator: ";" }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect([(error as DataError).line, (error as DataError).field]).toEqual([2, "3"]);
  });
});
