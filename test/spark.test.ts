// Spark MLlib ALSModel import: a folder written with Spark's layout and Parquet schema
// (test/support/spark-fixture.ts) loads with its factors intact, answers as a brute-force
// float64 computation on those factors does, folds new users in by Spark's own solve, and
// a broken export fails with a message naming the file.
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlternatingLeastSquares, DataError, NamedQueries, readSparkAlsModel, importSparkAlsModel, type SparkFile } from "../src/index.js";
import { runCli, runCliJson } from "./support/cli.js";
import { seededRandom, solveDense } from "./reference.js";
import { factorPart, partName, sparkMetadata, sparkModelFiles, writeSparkFolder, type FactorRows } from "./support/spark-fixture.js";

const tmp = fileURLToPath(new URL(`./.tmp/spark-${process.pid}/`, import.meta.url));
const RANK = 6;
const random = seededRandom(7);
const rows = (ids: number[]): FactorRows => ({ ids, features: ids.map(() => Array.from({ length: RANK }, () => Math.fround(random() * 2 - 1))) });
// Arbitrary, sparse, unsorted Spark ids; the items spread over two part files.
const users = rows([1003, 7, 42, 99999, 5, 640, 2 ** 31 - 1, 0]);
const itemParts = [rows([310, 12, 77, 4096, 9]), rows([1, 250000, 64, 3, 8888, 31])];
const allItems: FactorRows = { ids: itemParts.flatMap((p) => p.ids), features: itemParts.flatMap((p) => p.features) };
const sortedIds = (r: FactorRows) => [...r.ids].sort((a, b) => a - b);
const featuresOf = (r: FactorRows, id: number) => r.features[r.ids.indexOf(id)];
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };

let folder: string;
let model: AlternatingLeastSquares;

beforeAll(async () => {
  mkdirSync(tmp, { recursive: true });
  folder = writeSparkFolder(join(tmp, "als-model"), sparkModelFiles(RANK, users, itemParts));
  model = await readSparkAlsModel(folder);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("readSparkAlsModel", () => {
  it("loads the factors as written, rows in increasing Spark id, the catalog mapping ids to rows", () => {
    expect(model.factors).toBe(RANK);
    expect(model.catalog!.userKeys).toEqual(sortedIds(users).map(String));
    expect(model.catalog!.itemKeys).toEqual(sortedIds(allItems).map(String));
    sortedIds(users).forEach((id, row) => expect(Array.from(model.userFactors.subarray(row * RANK, (row + 1) * RANK))).toEqual(featuresOf(users, id)));
    sortedIds(allItems).forEach((id, row) => expect(Array.from(model.itemFactors.subarray(row * RANK, (row + 1) * RANK))).toEqual(featuresOf(allItems, id)));
  });

  it("recommend and similarItems equal a brute-force float64 computation on the factors", () => {
    const queries = new NamedQueries(model);
    for (const userId of users.ids) {
      const row = queries.findUser(String(userId));
      const got = model.recommend(row, undefined, { n: 5, filterAlreadyLikedItems: false });
      const expected = allItems.ids.map((id) => ({ id, score: dot(featuresOf(users, userId), featuresOf(allItems, id)) })).sort((a, b) => b.score - a.score).slice(0, 5);
      expect(Array.from(got.ids, (r) => Number(model.catalog!.itemKeys[r]))).toEqual(expected.map((e) => e.id));
      got.scores.forEach((s, j) => expect(s).toBeCloseTo(expected[j].score, 5));
    }
    for (const itemId of allItems.ids) {
      const row = model.catalog!.itemKeys.indexOf(String(itemId));
      const got = model.similarItems(row, { n: 4 });
      const q = featuresOf(allItems, itemId);
      const expected = allItems.ids.map((id) => { const v = featuresOf(allItems, id); return { id, score: dot(q, v) / Math.sqrt(dot(q, q) * dot(v, v)) }; })
        .sort((a, b) => b.score - a.score).slice(0, 4);
      expect(Array.from(got.ids, (r) => Number(model.catalog!.itemKeys[r]))).toEqual(expected.map((e) => e.id));
      got.scores.forEach((s, j) => expect(s).toBeCloseTo(expected[j].score, 5));
    }
  });

  it("an unknown Spark id is a clear error", () => {
    expect(() => new NamedQueries(model).findUser("123456")).toThrow(/no user '123456' in the model/);
    expect(() => new NamedQueries(model).similar("31337")).toThrow(/no item '31337'/);
  });

  it("folds a new user in by Spark's implicit rule: (YᵀY + Σ α r y yᵀ + λ n⁺ I) x = Σ (1 + α r) y", async () => {
    const regParam = 0.3, alpha = 4;
    const imported = await readSparkAlsModel(folder, { regParam, alpha });
    expect(imported.options).toMatchObject({ regularization: regParam, alpha, foldInRule: "spark-implicit" });
    const liked = { items: [2, 5, 9], values: [3, 1, 0.5] };
    const y = (row: number) => Array.from(imported.itemFactors.subarray(row * RANK, (row + 1) * RANK));
    const a = Array.from({ length: RANK }, () => new Array(RANK).fill(0));
    const b = new Array(RANK).fill(0);
    for (let i = 0; i < imported.nItems; i++) { const v = y(i); for (let p = 0; p < RANK; p++) for (let q = 0; q < RANK; q++) a[p][q] += v[p] * v[q]; }
    liked.items.forEach((item, j) => {
      const v = y(item), r = liked.values[j];
      for (let p = 0; p < RANK; p++) { b[p] += (1 + alpha * r) * v[p]; for (let q = 0; q < RANK; q++) a[p][q] += alpha * r * v[p] * v[q]; }
    });
    for (let p = 0; p < RANK; p++) a[p][p] += regParam * liked.items.length;
    const expected = solveDense(a, b);
    const got = imported.recalculateUser(liked);
    got.forEach((x, f) => expect(x).toBeCloseTo(expected[f], 4));
    // The rule survives a save and load.
    const reloaded = AlternatingLeastSquares.load(imported.save());
    expect(Array.from(reloaded.recalculateUser(liked))).toEqual(Array.from(got));
    expect(reloaded.catalog!.userKeys).toEqual(imported.catalog!.userKeys);
  });

  it("takes regParam, alpha and implicitPrefs from the metadata's paramMap when present; an explicit model refuses fold-in", async () => {
    const withParams = writeSparkFolder(join(tmp, "with-params"), sparkModelFiles(RANK, users, itemParts, sparkMetadata(RANK, { regParam: 0.05, alpha: 40, implicitPrefs: false })));
    const { model: imported, report } = await importSparkAlsModel(withParams);
    expect(report).toMatchObject({ rank: RANK, users: 8, items: 11, params: { regParam: 0.05, alpha: 40, implicitPrefs: false }, sources: { regParam: "metadata", alpha: "metadata", implicitPrefs: "metadata" } });
    expect(() => imported.recalculateUser([1, 2])).toThrow(/explicit-ratings ALS \(implicitPrefs=false\)/);
    expect(imported.recommend(0, undefined, { filterAlreadyLikedItems: false }).ids.length).toBe(10);
  });

  it("reads the same model from files in memory (browsers, edge workers)", async () => {
    const files: SparkFile[] = [];
    for (const sub of ["metadata", "userFactors", "itemFactors"]) {
      for (const name of readdirSync(join(folder, sub))) files.push({ name: `als-model/${sub}/${name}`, bytes: new Uint8Array(readFileSync(join(folder, sub, name))) });
    }
    const fromMemory = await readSparkAlsModel(files);
    expect(Array.from(fromMemory.itemFactors)).toEqual(Array.from(model.itemFactors));
    expect(fromMemory.catalog).toEqual(model.catalog);
  });

  it("takes the rank from the features when there is no metadata", async () => {
    const files = sparkModelFiles(RANK, users, itemParts);
    delete files["metadata/part-00000"];
    const bare = await readSparkAlsModel(writeSparkFolder(join(tmp, "no-metadata"), files));
    expect(bare.factors).toBe(RANK);
  });
});

describe("readSparkAlsModel on broken exports", () => {
  const broken = async (name: string, change: (files: Record<string, Uint8Array | string>) => void) => {
    const files = sparkModelFiles(RANK, users, itemParts);
    change(files);
    return readSparkAlsModel(writeSparkFolder(join(tmp, name), files)).then(() => undefined, (error: unknown) => error as Error);
  };
  const item1 = `itemFactors/${partName(1)}`;

  it("a missing folder", async () => {
    await expect(readSparkAlsModel(join(tmp, "nowhere"))).rejects.toThrow(/nowhere: no such folder/);
    const error = await broken("no-items", (f) => { for (const k of Object.keys(f)) if (k.startsWith("itemFactors/")) delete f[k]; });
    expect(error).toBeInstanceOf(DataError);
    expect(error!.message).toMatch(/no-items\/itemFactors: no itemFactors\/ folder/);
  });

  it("a missing features column, naming the file", async () => {
    const error = await broken("no-features", (f) => { f[item1] = factorPart(itemParts[1], "vector"); });
    expect(error).toBeInstanceOf(DataError);
    expect(error!.message).toContain(`no-features/${item1}: no 'features' column (it has 'id', 'vector')`);
  });

  it("ragged features, naming the file and row", async () => {
    const ragged = { ids: [5000, 5001], features: [new Array(RANK).fill(0.5), new Array(RANK - 1).fill(0.5)] };
    const error = await broken("ragged", (f) => { f[item1] = factorPart(ragged); });
    expect(error!.message).toContain(`ragged/${item1}:2: features: features of id 5001 have ${RANK - 1} values, the model's rank is ${RANK} (from metadata)`);
  });

  it("a duplicate id across part files, and a non-finite value", async () => {
    const duplicate = await broken("duplicate", (f) => { f[item1] = factorPart({ ids: [12], features: [new Array(RANK).fill(1)] }); });
    expect(duplicate!.message).toMatch(new RegExp(`duplicate/${item1}:1: id: id 12 appears twice \\(also in .*${partName(0)}\\)`));
    const nan = await broken("nan", (f) => { f[item1] = factorPart({ ids: [77777], features: [[1, 2, NaN, 4, 5, 6]] }); });
    expect(nan!.message).toContain(`nan/${item1}:1: features: features of id 77777: value 2 is NaN, not a finite number`);
  });

  it("not an ALSModel", async () => {
    const error = await broken("estimator", (f) => { f["metadata/part-00000"] = JSON.stringify({ class: "org.apache.spark.ml.recommendation.ALS", rank: RANK }); });
    expect(error!.message).toMatch(/metadata\/part-00000: holds a org.apache.spark.ml.recommendation.ALS, not an ALSModel/);
  });
});

describe("edgerec import-spark", () => {
  it("imports the folder, then recommends for a Spark user id and a new user from the model file", () => {
    const output = join(tmp, "spark.edgerec");
    const summary = runCliJson<{ rank: number; users: number; items: number; sources: Record<string, string> }>(["import-spark", folder, "-o", output, "--reg-param", "0.2"]);
    expect(summary).toMatchObject({ rank: RANK, users: 8, items: 11, sources: { regParam: "given", alpha: "default", implicitPrefs: "default" } });
    const text = runCli(["import-spark", folder, "-o", output]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/rank 6: 8 users × 11 items[\s\S]*regParam = 0.1 \(Spark's default/);
    const answer = runCliJson<{ items: { key: string; score: number }[] }>(["recommend", "-m", output, "--user", "42", "--no-filter", "-n", "3"]);
    const expected = allItems.ids.map((id) => ({ id, score: dot(featuresOf(users, 42), featuresOf(allItems, id)) })).sort((a, b) => b.score - a.score).slice(0, 3);
    expect(answer.items.map((i) => Number(i.key))).toEqual(expected.map((e) => e.id));
    const folded = runCliJson<{ items: unknown[] }>(["recommend", "-m", output, "--liked", "12,4096"]);
    expect(folded.items.length).toBe(9);
  });

  it("a missing folder and an unknown user are one clean line each", () => {
    const missing = runCli(["import-spark", join(tmp, "nowhere"), "-o", join(tmp, "x.edgerec")]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^edgerec: .*nowhere: no such folder/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const unknown = runCli(["recommend", "-m", join(tmp, "spark.edgerec"), "--user", "123456"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/no user '123456' in the model/);
  });
});
