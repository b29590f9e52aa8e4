// Datasets given as bytes (a browser upload, the web demo's built-in data): the same
// dataset as from disk, item names found among the companion files or inside the same
// zip archive, and the preview and archive listing a column-mapping form needs.

import { readFileSync } from "node:fs";
import { gunzipSync, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { DataError, listArchiveMembers, loadDataset, previewTable } from "../src/core.js";

const folder = new URL("../demo-data/ml-latest-small/", import.meta.url);
const ratingsGz = new Uint8Array(readFileSync(new URL("ratings.csv.gz", folder)));
const moviesGz = new Uint8Array(readFileSync(new URL("movies.csv.gz", folder)));
const ratingsPath = new URL("ratings.csv.gz", folder).pathname;

describe("loadDataset from bytes", () => {
  it("gives the dataset the file on disk gives, with titles from a companion movies.csv", async () => {
    const fromDisk = await loadDataset(ratingsPath);
    const fromBytes = await loadDataset({ name: "ratings.csv.gz", bytes: ratingsGz }, { companions: [{ name: "movies.csv.gz", bytes: moviesGz }] });
    expect(fromBytes.format).toBe("movielens");
    expect(fromBytes.userKeys).toEqual(fromDisk.userKeys);
    expect(fromBytes.itemKeys).toEqual(fromDisk.itemKeys);
    expect(fromBytes.value).toEqual(fromDisk.value);
    expect(fromBytes.itemLabels).toEqual(fromDisk.itemLabels);
    expect(fromBytes.itemInfo).toEqual(fromDisk.itemInfo);
    expect(fromBytes.itemLabels).toContain("Toy Story (1995)");
    expect(fromBytes.reports.at(-1)?.detail).toMatch(/names from movies\.csv\.gz/);
  });

  it("finds movies.csv inside the same in-memory zip archive", async () => {
    const zip = zipSync({ "ml/ratings.csv": gunzipSync(ratingsGz), "ml/movies.csv": gunzipSync(moviesGz), "ml/README.txt": new Uint8Array(1) });
    expect(await listArchiveMembers({ name: "ml.zip", bytes: zip })).toEqual(["ml/ratings.csv", "ml/movies.csv", "ml/README.txt"]);
    const data = await loadDataset({ name: "ml.zip:ml/ratings.csv", bytes: zip });
    expect(data.itemLabels).toContain("Toy Story (1995)");
    expect(data.reports.at(-1)?.detail).toMatch(/names from ml\.zip:ml\/movies\.csv/);
  });

  it("says items keep their ids when no companion holds their names", async () => {
    const data = await loadDataset({ name: "ratings.csv.gz", bytes: ratingsGz });
    expect(data.itemLabels).toBeUndefined();
    expect(data.reports.at(-1)?.detail).toBe("no movies.csv beside the data: items are shown by their ids");
    const zip = zipSync({ "ratings.csv": gunzipSync(ratingsGz) });
    expect((await loadDataset({ name: "r.zip:ratings.csv", bytes: zip })).itemLabels).toBeUndefined();
  });

  it("takes explicit metadata bytes with their columns", async () => {
    const bytes = new TextEncoder().encode("u,i\n1,10\n2,10\n2,11\n");
    const names = new TextEncoder().encode("id;title\n10;Alpha\n11;Beta\n");
    const data = await loadDataset({ name: "clicks.csv", bytes }, { columns: { user: "u", item: "i" }, items: { name: "names.csv", bytes: names }, itemColumns: { key: "id", label: "title" } });
    expect(data.itemLabels).toEqual(["Alpha", "Beta"]);
  });
});

describe("previewTable and listArchiveMembers", () => {
  it("previews the dialect and the first rows without reading the whole file", async () => {
    const preview = await previewTable({ name: "ratings.csv.gz", bytes: ratingsGz }, {}, 3);
    expect(preview.dialect).toMatchObject({ separator: ",", header: true });
    expect(preview.header).toEqual(["userId", "movieId", "rating", "timestamp"]);
    expect(preview.rows).toEqual([["1", "1", "4.0", "964982703"], ["1", "3", "4.0", "964981247"], ["1", "6", "4.0", "964982224"]]);
    expect(preview.more).toBe(true);
    const dat = await previewTable({ name: "ratings.dat", bytes: new TextEncoder().encode("1::10::5::97\n2::11::3::98\n") });
    expect(dat).toMatchObject({ dialect: { separator: "::", header: false }, fieldCount: 4, more: false });
    expect(dat.rows).toHaveLength(2);
  });

  it("names file and line of a bad row among the first ones", async () => {
    const bytes = new TextEncoder().encode("user,item,value\n1,2,3\n4,5\n");
    const error = await previewTable({ name: "bad.csv", bytes }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toBe("bad.csv:3: inconsistent separator: expected 3 fields, found 2 (separator ',')");
  });

  it("lists nothing for a file that is not an archive", async () => {
    expect(await listArchiveMembers({ name: "ratings.csv.gz", bytes: ratingsGz })).toEqual([]);
  });
});
