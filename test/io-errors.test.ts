// One test per kind of bad input: each must be a DataError that names the file and, where
// there is one, the line and column, in the `file:line: field: what` form.

import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DataError } from "../src/io/errors.js";
import { readInteractions, readTable } from "../src/io/interactions.js";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/io/${name}`, import.meta.url));
const ratingColumns = { user: "userId", item: "movieId", value: "rating" };

async function dataError(promise: Promise<unknown>): Promise<DataError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DataError);
  return error as DataError;
}

describe("DataError", () => {
  it("formats file:line: field: what, leaving out what is unknown", () => {
    expect(new DataError("bad", { file: "a.csv", line: 3, field: "rating" }).message).toBe("a.csv:3: rating: bad");
    expect(new DataError("bad", { file: "a.csv", line: 3 }).message).toBe("a.csv:3: bad");
    expect(new DataError("bad", { file: "a.csv", field: 2 }).message).toBe("a.csv: 2: bad");
    expect(new DataError("bad", { file: "a.csv" }).message).toBe("a.csv: bad");
    const error = new DataError("bad", { file: "a.csv", line: 3, field: 2 });
    expect([error.file, error.line, error.field, error.what, error.name]).toEqual(["a.csv", 3, "2", "bad", "DataError"]);
    expect(error).toBeInstanceOf(Error);
  });
});

describe("bad input", () => {
  it("missing column: names the header line and lists the columns there are", async () => {
    const path = fixture("bom.csv");
    const error = await dataError(readInteractions(path, { columns: { user: "userId", item: "movieId", value: "score" } }));
    expect(error.message).toBe(`${path}:1: value column 'score' is not in the header (columns: 0 'userId', 1 'movieId', 2 'rating')`);
  });

  it("column position past the last field: lists the columns there are", async () => {
    const path = fixture("ml-1m-ratings.dat");
    const error = await dataError(readInteractions(path, { columns: { user: 0, item: 1, value: 4 } }));
    expect(error.message).toBe(`${path}:1: value column 4 is past the last field: the file has 4 (positions 0–3, no header)`);
  });

  it("column name without a header", async () => {
    const path = fixture("ml-1m-ratings.dat");
    const error = await dataError(readInteractions(path, { header: false, columns: { user: "user", item: 1 } }));
    expect(error.file).toBe(path);
    expect(error.message).toContain("header is false");
  });

  it("non-numeric value: file, line, column and the text", async () => {
    const path = fixture("bad-value.csv");
    const error = await dataError(readInteractions(path, { columns: ratingColumns }));
    expect(error.message).toBe(`${path}:3: rating: value 'abc' is not a number`);
    expect([error.line, error.field]).toEqual([3, "rating"]);
  });

  it("NaN value", async () => {
    const path = fixture("bad-nan.csv");
    const error = await dataError(readInteractions(path, { columns: ratingColumns }));
    expect(error.message).toBe(`${path}:4: rating: value 'NaN' is not a number`);
  });

  it("non-numeric value without a header: the column by 1-based position", async () => {
    const bytes = new TextEncoder().encode("1\t2\t3\n1\t3\t\n");
    const error = await dataError(readInteractions({ name: "plays.tsv", bytes }, { columns: { user: 0, item: 1, value: 2 } }));
    expect(error.message).toBe("plays.tsv:2: 3: value '' is not a number");
  });

  it("non-numeric and infinite timestamps", async () => {
    const bytes = new TextEncoder().encode("u,i,r,t\n1,2,3,17\n1,3,4,yesterday\n");
    const columns = { user: "u", item: "i", value: "r", timestamp: "t" };
    expect((await dataError(readInteractions({ name: "t.csv", bytes }, { columns }))).message).toBe("t.csv:3: t: timestamp 'yesterday' is not a number");
    const infinite = new TextEncoder().encode("u,i,r,t\n1,2,3,1e999\n");
    expect((await dataError(readInteractions({ name: "t.csv", bytes: infinite }, { columns }))).message).toBe("t.csv:2: t: timestamp '1e999' is not a number");
  });

  it("value beyond float32", async () => {
    const bytes = new TextEncoder().encode("u,i,r\n1,2,3\n1,3,1e39\n");
    const error = await dataError(readInteractions({ name: "big.csv", bytes }, { columns: { user: 0, item: 1, value: 2 } }));
    expect(error.message).toBe("big.csv:3: r: value '1e39' is beyond float32 range");
  });

  it("empty file", async () => {
    const path = fixture("empty.csv");
    const error = await dataError(readInteractions(path, { columns: { user: 0, item: 1 } }));
    expect(error.message).toBe(`${path}: empty file: no data rows`);
    await expect(readTable(path)).rejects.toThrow(`${path}: empty file: no data rows`);
  });

  it("header only, or only blank lines", async () => {
    const path = fixture("header-only.csv");
    expect((await dataError(readInteractions(path, { columns: ratingColumns }))).message).toBe(`${path}: empty file: no data rows`);
    const blank = new TextEncoder().encode("\n\r\n  \n");
    expect((await dataError(readTable({ name: "blank.csv", bytes: blank }))).message).toBe("blank.csv: empty file: no data rows");
  });

  it("inconsistent separator: the line where the field count changes", async () => {
    const path = fixture("bad-separator.tsv");
    const error = await dataError(readInteractions(path, { columns: { user: "userID", item: "artistID", value: "weight" } }));
    expect(error.message).toBe(`${path}:4: inconsistent separator: expected 3 fields, found 1 (separator tab)`);
    expect(error.line).toBe(4);
  });

  it("inconsistent separator in a big file, past the sniffed part", async () => {
    const text = "a,b,c\n" + "1,2,3\n".repeat(50_000) + "1;2;3\n";
    const error = await dataError(readTable({ name: "big.csv", bytes: new TextEncoder().encode(text) }));
    expect(error.message).toBe("big.csv:50002: inconsistent separator: expected 3 fields, found 1 (separator ',')");
  });

  it("unterminated quote", async () => {
    const bytes = new TextEncoder().encode('user,item\n1,"open\n2,b\n');
    const error = await dataError(readTable({ name: "q.csv", bytes }));
    expect(error.message).toBe("q.csv:2: unterminated quoted field");
  });
});
