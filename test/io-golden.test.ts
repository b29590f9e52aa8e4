// The readers on the real datasets in ../shared/data, checked against the counts their
// README publishes and, row by row, against a naive split of the same file (these files
// quote only where the naive parse below handles it).

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readInteractions, readTable } from "../src/io/interactions.js";

const dataPath = (relative: string) => fileURLToPath(new URL(`../../shared/data/${relative}`, import.meta.url));
const missing = (relative: string) => (existsSync(dataPath(relative)) ? undefined : `skipped: ${dataPath(relative)} is absent`);

/** First-seen ids of keys, as the reader must assign them. */
function firstSeen(keys: string[]): { ids: number[]; distinct: string[] } {
  const index = new Map<string, number>();
  const ids = keys.map((key) => {
    let id = index.get(key);
    if (id === undefined) index.set(key, (id = index.size));
    return id;
  });
  return { ids, distinct: [...index.keys()] };
}

const ratings = "ml-latest-small/ratings.csv";
describe.skipIf(missing(ratings))(`ml-latest-small ratings.csv ${missing(ratings) ?? ""}`, () => {
  it("reads 100,836 ratings of 610 users and 9,724 movies, every row as a naive split reads it", async () => {
    const table = await readInteractions(dataPath(ratings), { columns: { user: "userId", item: "movieId", value: "rating", timestamp: "timestamp" } });
    expect(table.rows).toBe(100_836);
    expect(table.userKeys.length).toBe(610);
    expect(table.itemKeys.length).toBe(9_724);
    expect(table.header).toEqual(["userId", "movieId", "rating", "timestamp"]);
    expect(table.dialect).toMatchObject({ separator: ",", header: true, encoding: "utf-8" });
    expect(table.skippedBlankLines).toBe(0);

    const lines = readFileSync(dataPath(ratings), "utf8").split("\r\n").filter((line) => line !== "").slice(1).map((line) => line.split(","));
    const users = firstSeen(lines.map((f) => f[0]));
    const items = firstSeen(lines.map((f) => f[1]));
    expect(table.userKeys).toEqual(users.distinct);
    expect(table.itemKeys).toEqual(items.distinct);
    expect(Array.from(table.user)).toEqual(users.ids);
    expect(Array.from(table.item)).toEqual(items.ids);
    expect(Array.from(table.value)).toEqual(lines.map((f) => Math.fround(Number(f[2]))));
    expect(Array.from(table.timestamp!)).toEqual(lines.map((f) => Number(f[3])));
  });

  it("finds the same columns by position, the header sniffed", async () => {
    const table = await readInteractions(dataPath(ratings), { columns: { user: 0, item: 1, value: 2 } });
    expect(table.rows).toBe(100_836);
    expect(table.dialect.header).toBe(true);
    expect(table.timestamp).toBeUndefined();
  });
});

const movies = "ml-latest-small/movies.csv";
describe.skipIf(missing(movies))(`ml-latest-small movies.csv ${missing(movies) ?? ""}`, () => {
  it("reads 9,742 titles, unquoting commas and doubled quotes", async () => {
    const { header, rows } = await readTable(dataPath(movies));
    expect(header).toEqual(["movieId", "title", "genres"]);
    expect(rows.length).toBe(9_742);
    const byId = new Map(rows.map((row) => [row[0], row]));
    expect(byId.get("11")).toEqual(["11", "American President, The (1995)", "Comedy|Drama|Romance"]);
    expect(byId.get("7789")?.[1]).toBe(`11'09"01 - September 11 (2002)`);
    expect(byId.get("1")?.[1]).toBe("Toy Story (1995)");

    // Independent: a regex for this file's one quoted column; readTable trims fields
    // ("Dead Snow 2: Red vs. Dead (2014) " has a trailing space).
    const pattern = /^(\d+),(?:"((?:[^"]|"")*)"|([^,"]*)),(.*)$/;
    const lines = readFileSync(dataPath(movies), "utf8").split("\r\n").filter((line) => line !== "").slice(1);
    expect(rows.map((row) => row[1])).toEqual(
      lines.map((line) => {
        const match = pattern.exec(line)!;
        return (match[2] !== undefined ? match[2].replaceAll('""', '"') : match[3]).trim();
      }),
    );
  });
});

const userArtists = "lastfm-2k/user_artists.dat";
describe.skipIf(missing(userArtists))(`lastfm-2k user_artists.dat ${missing(userArtists) ?? ""}`, () => {
  it("reads 92,834 play counts of 1,892 users and 17,632 artists, tab-separated", async () => {
    const table = await readInteractions(dataPath(userArtists), { columns: { user: "userID", item: "artistID", value: "weight" } });
    expect(table.rows).toBe(92_834);
    expect(table.userKeys.length).toBe(1_892);
    expect(table.itemKeys.length).toBe(17_632);
    expect(table.dialect.separator).toBe("\t");

    const lines = readFileSync(dataPath(userArtists), "utf8").split("\n").filter((line) => line !== "").slice(1).map((line) => line.split("\t"));
    const users = firstSeen(lines.map((f) => f[0]));
    const items = firstSeen(lines.map((f) => f[1]));
    expect(Array.from(table.user)).toEqual(users.ids);
    expect(Array.from(table.item)).toEqual(items.ids);
    expect(table.itemKeys).toEqual(items.distinct);
    expect(Array.from(table.value)).toEqual(lines.map((f) => Math.fround(Number(f[2]))));
    expect(Math.max(...table.value)).toBe(352_698);
  });
});

const artists = "lastfm-2k/artists.dat";
describe.skipIf(missing(artists))(`lastfm-2k artists.dat ${missing(artists) ?? ""}`, () => {
  it("reads 17,632 artist names, UTF-8, quotes taken literally in a TSV", async () => {
    const { header, rows } = await readTable(dataPath(artists));
    expect(header).toEqual(["id", "name", "url", "pictureURL"]);
    expect(rows.length).toBe(17_632);
    const byId = new Map(rows.map((row) => [row[0], row[1]]));
    expect(byId.get("1")).toBe("MALICE MIZER");
    expect(byId.get("64")).toBe("Röyksopp");
    expect(byId.get("1686")).toBe('"Weird Al" Yankovic');

    const lines = readFileSync(dataPath(artists), "utf8").split("\n").filter((line) => line !== "").slice(1).map((line) => line.split("\t"));
    expect(rows.map((row) => row[1])).toEqual(lines.map((f) => f[1].trim()));
  });
});
