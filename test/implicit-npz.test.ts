import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { AlternatingLeastSquares, BayesianPersonalizedRanking, CsrMatrix, readImplicitModel, readNpz, writeImplicitNpz } from "../src/index.js";
import { randomInteractions } from "./reference.js";

// ---------------------------------------------------------------------------------------
// Fixtures built from the .npy specification alone (not with edgerec's writer): a dict
// literal header with numpy's 21-digit spare room, padded with spaces to a 64-byte
// boundary and ended by '\n', then little-endian data.

type Element = { descr: "<f8" | "<f4"; values: number[] } | { descr: "<i8"; values: number[] } | { descr: "|b1"; values: boolean[] } | { descr: "<U7"; values: string[] } | { descr: "<i4"; values: number[] };

function npy(element: Element, shape: number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${element.descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  if (shape.length > 0) header += " ".repeat(21 - String(shape[0]).length);
  const unpadded = header.length + 1;
  const headerLength = unpadded + 64 - ((10 + unpadded) % 64);
  const itemSize = { "<f8": 8, "<f4": 4, "<i8": 8, "|b1": 1, "<U7": 28, "<i4": 4 }[element.descr];
  const bytes = new Uint8Array(10 + headerLength + element.values.length * itemSize);
  const view = new DataView(bytes.buffer);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  view.setUint16(8, headerLength, true);
  for (let i = 0; i < headerLength; i++) bytes[10 + i] = i < header.length ? header.charCodeAt(i) : i === headerLength - 1 ? 0x0a : 0x20;
  element.values.forEach((v, e) => {
    const at = 10 + headerLength + e * itemSize;
    if (element.descr === "<f8") view.setFloat64(at, v as number, true);
    else if (element.descr === "<f4") view.setFloat32(at, v as number, true);
    else if (element.descr === "<i8") view.setBigInt64(at, BigInt(v as number), true);
    else if (element.descr === "<i4") view.setInt32(at, v as number, true);
    else if (element.descr === "|b1") bytes[at] = v ? 1 : 0;
    else Array.from(v as string).forEach((c, k) => view.setUint32(at + 4 * k, c.codePointAt(0)!, true));
  });
  return bytes;
}

const scalar = {
  float: (v: number) => npy({ descr: "<f8", values: [v] }, []),
  int: (v: number) => npy({ descr: "<i8", values: [v] }, []),
  bool: (v: boolean) => npy({ descr: "|b1", values: [v] }, []),
  str: (v: string) => npy({ descr: "<U7", values: [v] }, []),
};

/** np.savez: one stored member `<key>.npy` per array, in the order given. */
function npz(members: [string, Uint8Array][]): Uint8Array {
  return zipSync(Object.fromEntries(members.map(([key, bytes]) => [`${key}.npy`, [bytes, { level: 0 }]])));
}

// Small factor matrices with distinct scores, so the expected rankings are clear-cut.
const userRows = [[0.9, -0.2, 0.1], [-0.5, 0.8, 0.3], [0.05, 0.05, 1.1], [0.4, 0.4, -0.7]];
const itemRows = [[1.0, 0.1, 0.0], [0.0, 1.2, 0.2], [0.3, -0.4, 0.9], [-0.6, 0.2, 0.5], [0.7, 0.7, -0.3]];

/** implicit 0.7's AlternatingLeastSquares(factors=3, regularization=0.05, dtype=np.float64).save(): keys in save()'s order, random_state None left out. */
function implicitAlsFloat64(): Uint8Array {
  return npz([
    ["user_factors", npy({ descr: "<f8", values: userRows.flat() }, [4, 3])],
    ["item_factors", npy({ descr: "<f8", values: itemRows.flat() }, [5, 3])],
    ["regularization", scalar.float(0.05)],
    ["factors", scalar.int(3)],
    ["num_threads", scalar.int(0)],
    ["iterations", scalar.int(15)],
    ["use_native", scalar.bool(true)],
    ["use_cg", scalar.bool(true)],
    ["cg_steps", scalar.int(3)],
    ["calculate_training_loss", scalar.bool(false)],
    ["dtype", scalar.str("float64")],
    ["alpha", scalar.float(2.5)],
  ]);
}

/** implicit 0.7's BayesianPersonalizedRanking(factors=2, random_state=42).save(): float32 rows of factors + bias, users' last column 1. */
function implicitBpr(extra: [string, Uint8Array][] = []): Uint8Array {
  const users = userRows.map((r) => [r[0], r[1], 1]);
  return npz([
    ["user_factors", npy({ descr: "<f4", values: users.flat() }, [4, 3])],
    ["item_factors", npy({ descr: "<f4", values: itemRows.flat() }, [5, 3])],
    ["regularization", scalar.float(0.01)],
    ["factors", scalar.int(2)],
    ["learning_rate", scalar.float(0.05)],
    ["verify_negative_samples", scalar.bool(true)],
    ["num_threads", scalar.int(0)],
    ["iterations", scalar.int(100)],
    ["dtype", scalar.str("float32")],
    ["random_state", scalar.int(42)],
    ...extra,
  ]);
}

/** Item ids by decreasing x_u·y_i, computed here in float64 from the fixture's rows. */
function expectedRanking(user: number[], items: number[][]): number[] {
  const scores = items.map((y) => y.reduce((s, v, f) => s + v * user[f], 0));
  return scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
}

const rejection = async (promise: Promise<unknown>): Promise<Error> => {
  try { await promise; } catch (error) { return error as Error; }
  throw new Error("expected a rejection");
};

describe("implicit .npz files built from the format", () => {
  it("an ALS saved with float64 factors loads as ALS, float32, with its hyperparameters, and recommends", async () => {
    const model = await readImplicitModel(implicitAlsFloat64(), "als.npz");
    expect(model).toBeInstanceOf(AlternatingLeastSquares);
    const als = model as AlternatingLeastSquares;
    expect(als.options).toMatchObject({ factors: 3, regularization: 0.05, iterations: 15, cgSteps: 3, solver: "cg", alpha: 2.5, calculateTrainingLoss: false });
    expect([als.nUsers, als.nItems]).toEqual([4, 5]);
    expect(als.userFactors).toEqual(Float32Array.from(userRows.flat()));
    expect(als.itemFactors).toEqual(Float32Array.from(itemRows.flat()));
    expect(als.catalog).toBeUndefined();
    for (let u = 0; u < 4; u++) {
      const { ids } = als.recommend(u, undefined, { n: 5, filterAlreadyLikedItems: false });
      expect(Array.from(ids), `user ${u}`).toEqual(expectedRanking(userRows[u], itemRows));
    }
    expect(als.similarItems(1, { n: 1 }).ids[0]).toBe(1);
  });

  it("a BPR loads as BPR: factors + 1 columns, the item bias scored", async () => {
    const model = await readImplicitModel(implicitBpr(), "bpr.npz");
    expect(model).toBeInstanceOf(BayesianPersonalizedRanking);
    const bpr = model as BayesianPersonalizedRanking;
    expect(bpr.options).toMatchObject({ factors: 2, learningRate: 0.05, regularization: 0.01, iterations: 100, verifyNegativeSamples: true, seed: 42, sampleOrder: "random" });
    expect(bpr.factors).toBe(3);
    const users = userRows.map((r) => [r[0], r[1], 1]);
    for (let u = 0; u < 4; u++) {
      expect(Array.from(bpr.recommend(u, undefined, { n: 5, filterAlreadyLikedItems: false }).ids)).toEqual(expectedRanking(users[u], itemRows));
    }
  });

  it("tolerates keys it has no use for (a later implicit's, GPU leftovers) and non-array members", async () => {
    const bytes = implicitBpr([["_user_norms", npy({ descr: "<f4", values: [1, 2, 3, 4] }, [4])], ["device", scalar.str("cuda")]]);
    expect(await readImplicitModel(bytes)).toBeInstanceOf(BayesianPersonalizedRanking);
  });

  it("without hyperparameters, users' constant last column of 1 means BPR, anything else ALS; kind overrides", async () => {
    const bprRows = userRows.map((r) => [r[0], r[1], 1]);
    const bare = (users: number[][]) => npz([
      ["user_factors", npy({ descr: "<f4", values: users.flat() }, [4, 3])],
      ["item_factors", npy({ descr: "<f4", values: itemRows.flat() }, [5, 3])],
    ]);
    expect(await readImplicitModel(bare(bprRows))).toBeInstanceOf(BayesianPersonalizedRanking);
    expect(await readImplicitModel(bare(userRows))).toBeInstanceOf(AlternatingLeastSquares);
    expect(await readImplicitModel(bare(bprRows), "x.npz", { kind: "als" })).toBeInstanceOf(AlternatingLeastSquares);
  });

  it("refuses what is not an ALS or BPR model with errors naming the file and the problem", async () => {
    const f64 = (rows: number[][]) => npy({ descr: "<f8", values: rows.flat() }, [rows.length, rows[0].length]);
    const cases: [string, Uint8Array, RegExp][] = [
      ["no item factors", npz([["user_factors", f64(userRows)], ["alpha", scalar.float(1)]]), /m\.npz: no item_factors array \(keys: user_factors, alpha\)/],
      ["different widths", npz([["user_factors", f64(userRows)], ["item_factors", f64(itemRows.map((r) => r.slice(0, 2)))]]), /user_factors has 3 columns but item_factors 2/],
      ["integer factors", npz([["user_factors", npy({ descr: "<i4", values: [1, 2, 3, 4] }, [2, 2])], ["item_factors", f64([[1, 2]])]]), /user_factors has dtype <i4; implicit's factors are float32 or float64/],
      ["a vector, not a matrix", npz([["user_factors", npy({ descr: "<f8", values: [1, 2] }, [2])], ["item_factors", f64([[1, 2]])]]), /user_factors should be a users-or-items × factors matrix, got shape \(2\)/],
      ["LMF", npz([["user_factors", f64(userRows)], ["item_factors", f64(itemRows)], ["neg_prop", scalar.int(30)]]), /LogisticMatrixFactorization/],
      ["ALS and BPR keys at once", npz([["user_factors", f64(userRows)], ["item_factors", f64(itemRows)], ["alpha", scalar.float(1)], ["learning_rate", scalar.float(0.1)]]), /keys of both ALS \(alpha\) and BPR \(learning_rate\)/],
      ["factors contradicting the arrays", npz([["user_factors", f64(userRows)], ["item_factors", f64(itemRows)], ["alpha", scalar.float(1)], ["factors", scalar.int(4)]]), /factors says 4 but the factor matrices have 3 columns/],
      ["a bool where a number belongs", npz([["user_factors", f64(userRows)], ["item_factors", f64(itemRows)], ["alpha", scalar.bool(true)]]), /alpha should be a number, got \|b1 true/],
      ["unusable hyperparameters", npz([["user_factors", f64(userRows)], ["item_factors", f64(itemRows)], ["alpha", scalar.float(-1)]]), /hyperparameters are not usable: .*alpha/],
      ["a truncated member", npz([["user_factors", f64(userRows).subarray(0, 150)], ["item_factors", f64(itemRows)]]), /m\.npz:user_factors\.npy: truncated: shape \(4, 3\) of <f8 needs 96 data bytes, 22 are present/],
      ["not a zip", new TextEncoder().encode("user,item\n1,2\n"), /not an \.npz \(zip\) archive/],
    ];
    for (const [what, bytes, message] of cases) {
      const error = await rejection(readImplicitModel(bytes, "m.npz"));
      expect(error.message, what).toMatch(message);
    }
  });

  it("a flipped byte in a member's data fails the zip's CRC-32; a cut archive is truncated", async () => {
    const bytes = implicitAlsFloat64();
    const at = bytes.indexOf(0x3f, 200); // inside user_factors' doubles
    const corrupted = bytes.slice();
    corrupted[at] ^= 0x10;
    expect((await rejection(readImplicitModel(corrupted, "m.npz"))).message).toMatch(/CRC-32 mismatch/);
    expect((await rejection(readImplicitModel(bytes.subarray(0, bytes.length - 30), "m.npz"))).message).toMatch(/truncated zip data/);
  });
});

describe("edgerec → implicit .npz → edgerec", () => {
  const userItems = CsrMatrix.fromCoo(randomInteractions(40, 30, 0.2, 5));
  const users = Array.from({ length: 40 }, (_, u) => u);
  const items = Array.from({ length: 30 }, (_, i) => i);

  async function roundTrip(model: AlternatingLeastSquares | BayesianPersonalizedRanking) {
    const bytes = writeImplicitNpz(model);
    const back = await readImplicitModel(bytes, "round.npz");
    expect(back.constructor).toBe(model.constructor);
    expect(back.userFactors).toEqual(model.userFactors);
    expect(back.itemFactors).toEqual(model.itemFactors);
    const a = model.recommend(users, userItems, { n: 8 }), b = back.recommend(users, userItems, { n: 8 });
    expect(b.ids.map((r) => Array.from(r))).toEqual(a.ids.map((r) => Array.from(r)));
    expect(b.scores.map((r) => Array.from(r))).toEqual(a.scores.map((r) => Array.from(r)));
    const s = model.similarItems(items, { n: 6 }), t = back.similarItems(items, { n: 6 });
    expect(t.ids.map((r) => Array.from(r))).toEqual(s.ids.map((r) => Array.from(r)));
    expect(t.scores.map((r) => Array.from(r))).toEqual(s.scores.map((r) => Array.from(r)));
    // Writing the loaded model again gives the same bytes.
    expect(writeImplicitNpz(back)).toEqual(bytes);
    return { bytes, back };
  }

  it("ALS: identical factors, recommendations and similar items; implicit's keys, order and dtypes", async () => {
    const model = new AlternatingLeastSquares({ factors: 6, iterations: 3, seed: 11, regularization: 0.1, alpha: 3, solver: "cholesky", cgSteps: 4 });
    await model.fit(userItems);
    const { bytes, back } = await roundTrip(model);
    expect((back as AlternatingLeastSquares).options).toMatchObject({ factors: 6, iterations: 3, seed: 11, regularization: 0.1, alpha: 3, solver: "cholesky", cgSteps: 4 });
    const arrays = await readNpz({ name: "round.npz", bytes });
    expect([...arrays].map(([key, a]) => `${key} ${a.descr} (${a.shape.join(",")})`)).toEqual([
      "user_factors <f4 (40,6)", "item_factors <f4 (30,6)", "regularization <f8 ()", "factors <i8 ()", "num_threads <i8 ()",
      "iterations <i8 ()", "use_native |b1 ()", "use_cg |b1 ()", "cg_steps <i8 ()", "calculate_training_loss |b1 ()",
      "dtype <U7 ()", "random_state <i8 ()", "alpha <f8 ()",
    ]);
    expect(arrays.get("use_cg")!.data[0]).toBe(0);
    expect(arrays.get("dtype")!.data[0]).toBe("float32");
  });

  it("BPR: identical factors (bias column included), recommendations and similar items; implicit's keys", async () => {
    const model = new BayesianPersonalizedRanking({ factors: 5, iterations: 20, seed: 3, learningRate: 0.05 });
    await model.fit(userItems);
    const { bytes, back } = await roundTrip(model);
    expect((back as BayesianPersonalizedRanking).options).toMatchObject({ factors: 5, iterations: 20, seed: 3, learningRate: 0.05 });
    const arrays = await readNpz({ name: "round.npz", bytes });
    expect([...arrays.keys()]).toEqual(["user_factors", "item_factors", "regularization", "factors", "learning_rate", "verify_negative_samples", "num_threads", "iterations", "dtype", "random_state"]);
    expect(arrays.get("user_factors")!.shape).toEqual([40, 6]);
    expect(arrays.get("factors")!.data[0]).toBe(5n);
  });
});

// The strongest check short of installing implicit: numpy's own np.load and np.savez, and
// implicit's load() logic (setattr of every key; 0-d arrays → .item(); dtype → np.dtype).
const python = spawnSync("python3", ["-c", "import numpy"], { encoding: "utf8" });
describe.skipIf(python.status !== 0)("against numpy itself (when python3 and numpy are installed)", () => {
  const work = mkdtempSync(join(tmpdir(), "edgerec-npz-"));
  const run = (script: string) => {
    const result = spawnSync("python3", ["-c", script], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(result.stderr);
    return result.stdout;
  };

  it("np.load reads writeImplicitNpz's file as implicit's load would, and ranks as edgerec does", async () => {
    const userItems = CsrMatrix.fromCoo(randomInteractions(25, 20, 0.25, 9));
    const model = new AlternatingLeastSquares({ factors: 4, iterations: 3, seed: 2 });
    await model.fit(userItems);
    const path = join(work, "edgerec-als.npz");
    writeFileSync(path, writeImplicitNpz(model));
    const out = JSON.parse(run(`
import json, numpy as np
attrs = {}
with np.load(${JSON.stringify(path)}, allow_pickle=False) as data:
    for k, v in data.items():
        if k == "dtype":
            v = np.dtype(str(v))
        elif v.shape == ():
            v = v.item()
        attrs[k] = v
uf, itf = attrs.pop("user_factors"), attrs.pop("item_factors")
print(json.dumps({
    "attrs": {k: ["dtype" if isinstance(v, np.dtype) else type(v).__name__, str(v)] for k, v in attrs.items()},
    "dtypes": [str(uf.dtype), str(itf.dtype)], "shapes": [uf.shape, itf.shape],
    "top": [np.argsort(-(itf @ uf[u]), kind="stable")[:5].tolist() for u in range(uf.shape[0])],
}))`));
    expect(out.dtypes).toEqual(["float32", "float32"]);
    expect(out.shapes).toEqual([[25, 4], [20, 4]]);
    expect(out.attrs).toEqual({
      regularization: ["float", "0.01"], factors: ["int", "4"], num_threads: ["int", "0"], iterations: ["int", "3"],
      use_native: ["bool", "True"], use_cg: ["bool", "True"], cg_steps: ["int", "3"], calculate_training_loss: ["bool", "False"],
      dtype: ["dtype", "float32"], random_state: ["int", "2"], alpha: ["float", "1.0"],
    });
    const ours = model.recommend(Array.from({ length: 25 }, (_, u) => u), undefined, { n: 5, filterAlreadyLikedItems: false });
    expect(ours.ids.map((r) => Array.from(r))).toEqual(out.top);
  });

  it("readImplicitModel reads np.savez's file (zip64 local headers) with implicit's keys and float64 factors", async () => {
    const path = join(work, "numpy-als.npz");
    run(`
import numpy as np
rng = np.random.default_rng(4)
np.savez(${JSON.stringify(path)}, user_factors=rng.random((7, 3)), item_factors=rng.random((9, 3)), regularization=0.02,
         factors=3, num_threads=0, iterations=10, use_native=True, use_cg=False, cg_steps=3,
         calculate_training_loss=False, dtype=np.dtype("float64").name, random_state=5, alpha=4.0)
np.save(${JSON.stringify(join(work, "numpy-items.npy"))}, np.load(${JSON.stringify(path)})["item_factors"].astype(np.float32))`);
    const model = await readImplicitModel(path);
    expect(model).toBeInstanceOf(AlternatingLeastSquares);
    expect((model as AlternatingLeastSquares).options).toMatchObject({ factors: 3, regularization: 0.02, iterations: 10, solver: "cholesky", seed: 5, alpha: 4 });
    const items = readFileSync(join(work, "numpy-items.npy"));
    expect(model.itemFactors).toEqual(new Float32Array(items.buffer.slice(items.byteOffset + 128, items.byteOffset + items.byteLength)));
  });
});
