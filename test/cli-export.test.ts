import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { AlternatingLeastSquares, BayesianPersonalizedRanking, parseNpy, readImplicitModel } from "../src/index.js";
import { runCli, runCliJson } from "./support/cli.js";

const work = mkdtempSync(join(tmpdir(), "edgerec-export-"));

// A small interaction file whose ids need care: an item id with a comma and quotes.
function writeData(path: string): void {
  const lines = ["user,item,rating"];
  let state = 7;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let u = 0; u < 25; u++) {
    for (let i = 0; i < 15; i++) if (next() < 0.35) lines.push(`user${u},${i === 7 ? '"item ""7"", x"' : `item${i}`},${1 + Math.floor(next() * 5)}`);
  }
  writeFileSync(path, lines.join("\n") + "\n");
}

/** RFC 4180 rows (enough for these files: quoted fields with doubled quotes and commas). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.trimEnd().split("\n")) {
    const fields: string[] = [];
    let at = 0;
    while (at <= line.length) {
      if (line[at] === '"') {
        let value = "";
        at++;
        for (;;) {
          const quote = line.indexOf('"', at);
          value += line.slice(at, quote);
          if (line[quote + 1] === '"') { value += '"'; at = quote + 2; } else { at = quote + 2; break; }
        }
        fields.push(value);
      } else {
        const comma = line.indexOf(",", at);
        const end = comma < 0 ? line.length : comma;
        fields.push(line.slice(at, end));
        at = end + 1;
      }
    }
    rows.push(fields);
  }
  return rows;
}

describe("edgerec export", () => {
  const data = join(work, "data.csv");
  const modelPath = join(work, "model.edgerec");
  const bprPath = join(work, "bpr.edgerec");
  let model: AlternatingLeastSquares;

  beforeAll(() => {
    writeData(data);
    const columns = ["--columns", "user=user,item=item,value=rating"];
    runCliJson(["fit", data, ...columns, "--factors", "5", "--iterations", "3", "-o", modelPath, "--quiet"]);
    runCliJson(["fit", data, ...columns, "--model", "bpr", "--factors", "3", "--iterations", "10", "-o", bprPath, "--quiet"]);
    model = AlternatingLeastSquares.load(readFileSync(modelPath));
  }, 120_000);

  const userIds = () => model.catalog!.userKeys;
  const itemIds = () => model.catalog!.itemKeys;
  const rowsOf = (values: Float32Array, width: number) => Array.from({ length: values.length / width }, (_, r) => Array.from(values.subarray(r * width, (r + 1) * width)));

  function expectIdMaps(usersCsv: string, itemsCsv: string) {
    expect(parseCsv(usersCsv)).toEqual([["row", "user_id"], ...userIds().map((id, r) => [String(r), id])]);
    expect(parseCsv(itemsCsv)).toEqual([["row", "item_id", "name"], ...itemIds().map((id, r) => [String(r), id, id])]);
    expect(itemIds()).toContain('item "7", x');
  }

  it("npz: implicit's model file with the same factors, id maps beside it; recommend and similar read it", async () => {
    const out = join(work, "exported.npz");
    const summary = runCliJson<{ files: string[] }>(["export", modelPath, "--format", "npz", "-o", out]);
    expect(summary.files).toEqual([out, join(work, "exported.user_ids.csv"), join(work, "exported.item_ids.csv")]);
    const loaded = await readImplicitModel(readFileSync(out), "exported.npz");
    expect(loaded).toBeInstanceOf(AlternatingLeastSquares);
    expect(loaded.userFactors).toEqual(model.userFactors);
    expect(loaded.itemFactors).toEqual(model.itemFactors);
    expectIdMaps(readFileSync(join(work, "exported.user_ids.csv"), "utf8"), readFileSync(join(work, "exported.item_ids.csv"), "utf8"));

    // The CLI answers from the .npz in row numbers: the same items and scores as from the model file.
    interface Answer { items: { key: string; score: number }[] }
    const item = 3;
    const fromNpz = runCliJson<Answer>(["similar", "-m", out, "--item", String(item), "-n", "4"]);
    const fromModel = runCliJson<Answer>(["similar", "-m", modelPath, "--item", itemIds()[item], "-n", "4"]);
    expect(fromNpz.items.map((i) => itemIds()[Number(i.key)])).toEqual(fromModel.items.map((i) => i.key));
    expect(fromNpz.items.map((i) => i.score)).toEqual(fromModel.items.map((i) => i.score));
    const recommended = runCliJson<Answer>(["recommend", "-m", out, "--user", "2", "--no-filter", "-n", "5"]);
    const expected = runCliJson<Answer>(["recommend", "-m", modelPath, "--user", userIds()[2], "--no-filter", "-n", "5"]);
    expect(recommended.items.map((i) => itemIds()[Number(i.key)])).toEqual(expected.items.map((i) => i.key));
  });

  it("npz of a BPR model keeps the bias column", async () => {
    const out = join(work, "bpr.npz");
    runCliJson(["export", bprPath, "--format", "npz", "-o", out]);
    const bpr = BayesianPersonalizedRanking.load(readFileSync(bprPath));
    const loaded = await readImplicitModel(readFileSync(out), "bpr.npz");
    expect(loaded).toBeInstanceOf(BayesianPersonalizedRanking);
    expect(loaded.factors).toBe(4);
    expect(loaded.itemFactors).toEqual(bpr.itemFactors);
  });

  it("npy: a folder of user_factors.npy and item_factors.npy (float32, users/items × factors) and the id maps", () => {
    const out = join(work, "npy");
    runCliJson(["export", modelPath, "--format", "npy", "-o", out]);
    expect(readdirSync(out).sort()).toEqual(["item_factors.npy", "item_ids.csv", "user_factors.npy", "user_ids.csv"]);
    const users = parseNpy(readFileSync(join(out, "user_factors.npy")));
    const items = parseNpy(readFileSync(join(out, "item_factors.npy")));
    expect([users.descr, users.shape]).toEqual(["<f4", [model.nUsers, 5]]);
    expect([items.descr, items.shape]).toEqual(["<f4", [model.nItems, 5]]);
    expect(users.data).toEqual(model.userFactors);
    expect(items.data).toEqual(model.itemFactors);
    expectIdMaps(readFileSync(join(out, "user_ids.csv"), "utf8"), readFileSync(join(out, "item_ids.csv"), "utf8"));
  });

  it("csv: the data's own ids first, then factors that read back as the same float32s", () => {
    const out = join(work, "csv");
    runCliJson(["export", modelPath, "--format", "csv", "-o", out]);
    for (const [file, ids, values] of [["user_factors.csv", userIds(), model.userFactors], ["item_factors.csv", itemIds(), model.itemFactors]] as const) {
      const [header, ...rows] = parseCsv(readFileSync(join(out, file), "utf8"));
      expect(header).toEqual([file.startsWith("user") ? "user_id" : "item_id", "f0", "f1", "f2", "f3", "f4"]);
      expect(rows.map((r) => r[0])).toEqual(ids);
      expect(Float32Array.from(rows.flatMap((r) => r.slice(1).map(Number)))).toEqual(values);
    }
    expectIdMaps(readFileSync(join(out, "user_ids.csv"), "utf8"), readFileSync(join(out, "item_ids.csv"), "utf8"));
  });

  it("csv of a BPR model names the bias column", () => {
    const out = join(work, "bpr-csv");
    runCliJson(["export", bprPath, "--format", "csv", "-o", out]);
    const [header, first] = parseCsv(readFileSync(join(out, "user_factors.csv"), "utf8"));
    expect(header).toEqual(["user_id", "f0", "f1", "f2", "bias"]);
    expect(first[4]).toBe("1");
  });

  it("json: one file with ids, names and factors", () => {
    const out = join(work, "factors.json");
    runCliJson(["export", modelPath, "--format", "json", "-o", out]);
    const json = JSON.parse(readFileSync(out, "utf8"));
    expect(json.model).toBe("als");
    expect(json.options).toMatchObject({ factors: 5, iterations: 3 });
    expect(json.options.threads).toBeUndefined();
    expect(json.columns).toEqual(["f0", "f1", "f2", "f3", "f4"]);
    expect(json.users.ids).toEqual(userIds());
    expect(json.items.ids).toEqual(itemIds());
    expect(json.items.names).toEqual(itemIds());
    expect(Float32Array.from(json.users.factors.flat())).toEqual(model.userFactors);
    expect(json.items.factors.map((r: number[]) => r.length)).toEqual(itemIds().map(() => 5));
    expect(rowsOf(Float32Array.from(json.items.factors.flat()), 5)).toEqual(rowsOf(model.itemFactors, 5));
  });

  it("refuses an unknown format and a missing model, writing nothing", () => {
    const out = join(work, "never.xyz");
    const unknown = runCli(["export", modelPath, "--format", "parquet", "-o", out]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/unknown format 'parquet': choose one of npz, npy, csv, json/);
    const missing = runCli(["export", join(work, "nope.edgerec"), "-o", out]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/no model file/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((f) => f.includes(".partial-"))).toEqual([]);
  });
});
