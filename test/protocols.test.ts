import { existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { AlternatingLeastSquares, CsrMatrix, DataError, loadDataset, prepareDataset, toUserItems } from "../src/index.js";
import type { Interactions } from "../src/dataset/transforms.js";
import { parseNcfNegatives, readNcfNegatives } from "../src/evaluation/ncf.js";
import { evaluateFullRanking, evaluateSampled, factorScorer, NegativeSampler, popularityScorer, recommendScorer, type Scorer } from "../src/evaluation/protocols.js";
import { SeededRandom, splitChronological, splitLeaveKOut } from "../src/evaluation/splits.js";
import { randomInteractions, seededRandom } from "./reference.js";

const FIXTURES = new URL("./fixtures/eval/", import.meta.url).pathname;
const RATINGS = "/work/shared/data/ml-latest-small/ratings.csv";

// A hand-worked case. Users (keys) 7, 3, 5, 9; items 100..105 (indices 0..5).
//   user 7 (0): train {100, 101}, test {102, 105}
//   user 3 (1): train {102},      test {102, 103}   (102 is in train too: dropped)
//   user 5 (2): no train,         test {104}        (skipped: nothing to go on)
//   user 9 (3): train {100},      no test
// Every user scores the items 0.1 0.2 0.9 0.3 0.8 0.5.
const SCORES = [0.1, 0.2, 0.9, 0.3, 0.8, 0.5];
const keys = { userKeys: ["7", "3", "5", "9"], itemKeys: ["100", "101", "102", "103", "104", "105"] };
const interactions = (pairs: number[][]): Interactions => ({
  user: Int32Array.from(pairs, (p) => p[0]), item: Int32Array.from(pairs, (p) => p[1]), value: new Float32Array(pairs.length).fill(1), ...keys,
});
const trainPairs = [[0, 0], [0, 1], [1, 2], [3, 0]];
const test = interactions([[0, 2], [0, 5], [1, 2], [1, 3], [2, 4]]);
const trainMatrix = () => toUserItems(interactions(trainPairs));
const fixed: Scorer = { scoreItems: (_u, items) => Float32Array.from(items, (i) => SCORES[i]) };
const constant: Scorer = { scoreItems: (_u, items) => new Float32Array(items.length).fill(1) };
const ALL = ["precision", "implicitPrecision", "recall", "map", "ndcg", "hitRatio", "auc"] as const;

describe("evaluateFullRanking", () => {
  it("matches the hand-worked case", async () => {
    // k = 2. User 7 ranks 102 (.9) 103 (.3) 104 (.8) 105 (.5) → top 2 = [102, 104]; held out
    // {102, 105}: one hit at place 1. P = 1/2, implicit P = 1/min(2, 2), R = 1/2,
    // AP = (1/1)/2 = 1/2, NDCG = 1 / (1 + 1/log2 3) = 0.6131472, HR = 1;
    // AUC: 0.9 beats 0.3 and 0.8, 0.5 beats 0.3: 3/4.
    // User 3: ranks 100 101 103 104 105 → [104, 105]; held out {103}: all 0;
    // AUC: 0.3 beats 0.1 and 0.2 of 0.1 0.2 0.8 0.5: 2/4.
    // Means over 2 users; implicit's precision pooled: 1 hit / (2 + 1).
    const result = await evaluateFullRanking(fixed, trainMatrix(), test, { k: 2, metrics: ALL, perUser: true });
    expect(result.usersEvaluated).toBe(2);
    expect(result.usersSkipped).toBe(1);
    expect(result.skipped).toEqual({ noTrainInteractions: 1, allTestItemsInTrain: 0, noCandidatesLine: 0 });
    expect(result.testPairsInTrain).toBe(1);
    const m = result.metrics;
    expect(m.precision).toBeCloseTo(0.25, 12);
    expect(m.implicitPrecision).toBeCloseTo(1 / 3, 12);
    expect(m.recall).toBeCloseTo(0.25, 12);
    expect(m.map).toBeCloseTo(0.25, 12);
    expect(m.ndcg).toBeCloseTo(0.6131472 / 2, 6);
    expect(m.hitRatio).toBe(0.5);
    expect(m.auc).toBeCloseTo(0.625, 12);
    expect(Array.from(result.perUser!.users)).toEqual([0, 1]);
    expect(Array.from(result.perUser!.metrics.hitRatio!)).toEqual([1, 0]);
    expect(Array.from(result.perUser!.metrics.implicitPrecision!)).toEqual([0.5, 0]);
    expect(result.detail).toContain("HR@2 0.5000");
    expect(result.detail).toContain("skipped 1: 1 without train interactions");
  });

  it("breaks ties against the held-out items: a constant model scores 0", async () => {
    const result = await evaluateFullRanking(constant, trainMatrix(), test, { k: 2, metrics: ALL });
    for (const metric of ALL) expect(result.metrics[metric]).toBe(0);
  });

  it("skips users whose held-out items are all in train, and refuses mismatched inputs", async () => {
    const only = interactions([[1, 2]]);
    const result = await evaluateFullRanking(fixed, trainMatrix(), only, { k: 2 });
    expect(result).toMatchObject({ usersEvaluated: 0, usersSkipped: 1, testPairsInTrain: 1, skipped: { allTestItemsInTrain: 1 } });
    expect(result.metrics.hitRatio).toBeNaN();
    const narrow = CsrMatrix.fromCoo({ rows: [0], cols: [0], shape: [4, 5] });
    await expect(evaluateFullRanking(fixed, narrow, test)).rejects.toThrow(/train is 4 × 5 but test has 4 user keys and 6 item keys/);
    await expect(evaluateFullRanking(fixed, trainMatrix(), test, { k: 0 })).rejects.toThrow(/k 0/);
    await expect(evaluateFullRanking(fixed, trainMatrix(), test, { metrics: ["mrr" as never] })).rejects.toThrow(/unknown metric mrr/);
    const short: Scorer = { scoreItems: () => new Float32Array(2) };
    await expect(evaluateFullRanking(short, trainMatrix(), test)).rejects.toThrow(/returned 2 scores for 6 items/);
  });

  it("ranks a FactorModel with recommend as its factor scorer does", async () => {
    const data = randomInteractions(80, 120, 0.12, 3);
    const all: Interactions = {
      user: Int32Array.from(data.rows), item: Int32Array.from(data.cols), value: Float32Array.from(data.values),
      userKeys: Array.from({ length: 80 }, (_, u) => `u${u}`), itemKeys: Array.from({ length: 120 }, (_, i) => `i${i}`),
    };
    const split = splitLeaveKOut(all, { k: 3, seed: 1 });
    const train = toUserItems(split.train);
    const model = new AlternatingLeastSquares({ factors: 8, iterations: 5, seed: 2 });
    await model.fit(train);
    const fast = await evaluateFullRanking(model, train, split.test, { k: 10, perUser: true });
    const scored = await evaluateFullRanking(factorScorer(model), train, split.test, { k: 10, perUser: true });
    expect(fast.usersEvaluated).toBe(80);
    expect(scored.usersEvaluated).toBe(80);
    for (const metric of ["precision", "implicitPrecision", "recall", "map", "ndcg", "hitRatio"] as const) {
      expect(fast.metrics[metric]).toBeCloseTo(scored.metrics[metric]!, 12);
    }
    // And each user's top 10 by recommend, checked by hand against the metric definitions.
    const top = model.recommend(Array.from({ length: 80 }, (_, u) => u), train, { n: 10 });
    const held = new Map<number, Set<number>>();
    split.test.user.forEach((u, r) => { if (!held.has(u)) held.set(u, new Set()); held.get(u)!.add(split.test.item[r]); });
    let hits = 0;
    for (let u = 0; u < 80; u++) for (const i of top.ids[u]) if (held.get(u)!.has(i)) hits++;
    expect(fast.metrics.precision).toBeCloseTo(hits / 800, 12);
    expect(fast.metrics.recall).toBeCloseTo(hits / 240, 12);
    // With auc the model is scored in full; the ranking metrics stay the same.
    const withAuc = await evaluateFullRanking(model, train, split.test, { k: 10, metrics: ["hitRatio", "auc"] });
    expect(withAuc.metrics.hitRatio).toBeCloseTo(fast.metrics.hitRatio!, 12);
    expect(withAuc.metrics.auc).toBeGreaterThan(0.5);
    await expect(evaluateFullRanking(model, toUserItems({ ...split.train, userKeys: [...split.train.userKeys, "extra"] }), { ...split.test, userKeys: [...split.test.userKeys, "extra"] }))
      .rejects.toThrow(/the model has 80 users/);
  });
});

describe("evaluateSampled", () => {
  it("with more candidates than untouched items, ranks every untouched item (the hand-worked case)", async () => {
    const full = await evaluateFullRanking(fixed, trainMatrix(), test, { k: 2, metrics: ALL });
    const sampled = await evaluateSampled(fixed, trainMatrix(), test, { k: 2, metrics: ALL, candidates: 100 });
    expect(sampled.metrics).toEqual(full.metrics);
    expect(sampled).toMatchObject({ protocol: "sampled", usersEvaluated: 2, usersWithFewerCandidates: 2, testPairsInTrain: 1, skipped: { noTrainInteractions: 1 } });
  });

  it("draws distinct untouched negatives, reproducibly, the held-out items first", async () => {
    const split = leaveOneOut(300, 200, 0.08, 4);
    const train = toUserItems(split.train);
    const touched = touchedSets(split.train, split.test);
    const record = async (seed: number, sampling: "uniform" | "popularity") => {
      const calls: number[][] = [];
      const recorder: Scorer = { scoreItems: (u, items) => { calls.push([u, ...items]); return new Float32Array(items.length); } };
      await evaluateSampled(recorder, train, split.test, { candidates: 20, seed, sampling });
      return calls;
    };
    const popularity = new Float64Array(200);
    for (const i of split.train.item) popularity[i]++;
    for (const sampling of ["uniform", "popularity"] as const) {
      const calls = await record(5, sampling);
      expect(calls.length).toBe(new Set(split.test.user).size);
      for (const [u, positive, ...negatives] of calls) {
        expect(split.test.item[split.test.user.indexOf(u)]).toBe(positive);
        expect(negatives.length).toBe(20);
        expect(new Set(negatives).size).toBe(20);
        for (const i of negatives) {
          expect(touched.get(u)!.has(i)).toBe(false);
          if (sampling === "popularity") expect(popularity[i]).toBeGreaterThan(0);
        }
      }
      expect(await record(5, sampling)).toEqual(calls);
      expect(await record(6, sampling)).not.toEqual(calls);
    }
  });

  describe("chance level, 2000 users, 100 uniform negatives", () => {
    const split = leaveOneOut(2000, 300, 0.05, 9);
    const train = toUserItems(split.train);
    const n = new Set(split.test.user).size;

    it("a constant model has hit ratio, NDCG and AUC 0 (ties against the held-out item)", async () => {
      const result = await evaluateSampled(constant, train, split.test, { k: 10, seed: 1, metrics: ["hitRatio", "ndcg", "auc"] });
      expect(result.usersEvaluated).toBe(n);
      expect(result.metrics).toEqual({ hitRatio: 0, ndcg: 0, auc: 0 });
    });

    it("a random model has HR@10 ≈ 10/101, within 4 standard errors", async () => {
      const random = seededRandom(123);
      const coin: Scorer = { scoreItems: (_u, items) => Float32Array.from(items, () => random()) };
      const result = await evaluateSampled(coin, train, split.test, { k: 10, seed: 1, metrics: ["hitRatio", "ndcg", "auc"] });
      expect(result.usersEvaluated).toBe(n);
      expect(result.usersWithFewerCandidates).toBe(0);
      // The held-out item's rank r among 101 is uniform on 0..100, independently per user.
      // HR: Bernoulli(10/101), standard error √(p(1−p)/n) ≈ 0.0067 for n ≈ 2000.
      const p = 10 / 101;
      expect(Math.abs(result.metrics.hitRatio! - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
      // NDCG: 1/log2(r + 2) for r < 10, else 0.
      let mean = 0, square = 0;
      for (let r = 0; r < 10; r++) { mean += 1 / Math.log2(r + 2) / 101; square += 1 / Math.log2(r + 2) ** 2 / 101; }
      expect(Math.abs(result.metrics.ndcg! - mean)).toBeLessThan(4 * Math.sqrt((square - mean * mean) / n));
      // AUC: (100 − r)/100, mean 1/2, variance (101² − 1)/12 / 100².
      expect(Math.abs(result.metrics.auc! - 0.5)).toBeLessThan(4 * Math.sqrt((101 * 101 - 1) / 12 / 1e4 / n));
    });
  });

  describe("with an NCF candidates file", () => {
    it("ranks each listed pair against its listed negatives", async () => {
      // User 7: 102 (.9) against 103 (.3), 104 (.8): first. User 3: 103 (.3) against 100 (.1),
      // 101 (.2), 104 (.8), 105 (.5): third. k = 3: HR 1 and 1; NDCG 1 and 1/log2(4) = 0.5;
      // P@3 1/3 each; MAP 1 and 1/3; AUC 2/2 and 2/4. User 5 has test rows but no line.
      for (const file of ["small.test.negative", "small-crlf.test.negative"]) {
        const result = await evaluateSampled(fixed, trainMatrix(), test, { k: 3, metrics: ALL, candidatesFile: FIXTURES + file });
        expect(result.usersEvaluated).toBe(2);
        expect(result.skipped).toEqual({ noTrainInteractions: 0, allTestItemsInTrain: 0, noCandidatesLine: 1 });
        expect(result.touchedNegatives).toBe(0);
        const m = result.metrics;
        expect([m.hitRatio, m.recall, m.implicitPrecision]).toEqual([1, 1, 1]);
        expect(m.ndcg).toBeCloseTo(0.75, 12);
        expect(m.precision).toBeCloseTo(1 / 3, 12);
        expect(m.map).toBeCloseTo(2 / 3, 12);
        expect(m.auc).toBeCloseTo(0.75, 12);
        expect(result.detail).toContain(`negatives from ${FIXTURES + file}`);
      }
    });

    it("reads indices, keys-only test data, gzip, and counts touched negatives", async () => {
      const bytes = (text: string, name = "mem.negative") => ({ name, bytes: new TextEncoder().encode(text) });
      const keysOnly = interactions([]);
      const byIndex = await evaluateSampled(fixed, trainMatrix(), keysOnly, { k: 1, ids: "indices", candidatesFile: bytes("(0,2)\t3\t4\n(1,3)\t4\n") });
      // User 0: 102 first → hit; user 1: 103 (.3) below 104 (.8) → miss.
      expect(byIndex.metrics.hitRatio).toBe(0.5);
      expect(byIndex.usersSkipped).toBe(0);
      const gz = { name: "mem.negative.gz", bytes: gzipSync(new TextEncoder().encode("(7,102)\t103\t104\n")) };
      expect((await evaluateSampled(fixed, trainMatrix(), keysOnly, { k: 1, candidatesFile: gz })).metrics.hitRatio).toBe(1);
      // 102 is in user 3's train, 103 is their held-out item itself: both touched, ranked anyway.
      const touched = await evaluateSampled(fixed, trainMatrix(), test, { k: 1, candidatesFile: bytes("(3,103)\t102\t103\t100\n") });
      expect(touched.touchedNegatives).toBe(2);
      expect(touched.metrics.hitRatio).toBe(0);
    });

    it("names the file and line of a bad case", async () => {
      const bytes = (text: string) => ({ name: "cases.negative", bytes: new TextEncoder().encode(text) });
      const run = (text: string, ids: "keys" | "indices" = "keys") => evaluateSampled(fixed, trainMatrix(), test, { candidatesFile: bytes(text), ids });
      await expect(run("(7,102)\t103\n(7,105)\t103\n")).rejects.toThrow('cases.negative:2: user "7" already has a line (line 1)');
      await expect(run("(8,102)\t103\n")).rejects.toThrow('cases.negative:1: 1: user "8" is not in the data (4 users)');
      await expect(run("(7,102)\t103\t999\n")).rejects.toThrow('cases.negative:1: 3: item "999" is not in the data (6 items)');
      await expect(run("(7,104)\t103\n")).rejects.toThrow("cases.negative:1: (7, 104) is not a held-out pair of the test data");
      await expect(run("(0,2)\t3\t6\n", "indices")).rejects.toThrow('cases.negative:1: 3: item "6" is not an index in [0, 6)');
      const error = await run("\n(7,102)\t103\n(7 102)\t103\n").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataError);
      expect(error).toMatchObject({ file: "cases.negative", line: 3 });
      await expect(evaluateSampled(fixed, trainMatrix(), test, { candidatesFile: FIXTURES + "missing.negative" })).rejects.toThrow(/missing\.negative: no such file/);
    });
  });

  it("refuses bad options", async () => {
    await expect(evaluateSampled(fixed, trainMatrix(), test, { candidates: 0 })).rejects.toThrow(/candidates 0/);
    await expect(evaluateSampled(fixed, trainMatrix(), test, { sampling: "zipf" as never })).rejects.toThrow(/sampling/);
  });
});

describe("NCF parser", () => {
  it("reads the fixture", async () => {
    const cases = await readNcfNegatives(FIXTURES + "small.test.negative");
    expect(cases).toEqual([
      { line: 1, user: "7", item: "102", negatives: ["103", "104"] },
      { line: 2, user: "3", item: "103", negatives: ["100", "101", "104", "105"] },
    ]);
    // CRLF, a blank line and a trailing tab change nothing but line numbers.
    expect((await readNcfNegatives(FIXTURES + "small-crlf.test.negative")).map((c) => [c.line, c.negatives.length])).toEqual([[1, 2], [3, 4]]);
    // NCF's own first line shape.
    expect(parseNcfNegatives("(0,25)\t1064\t174\t2791\n", "x")).toEqual([{ line: 1, user: "0", item: "25", negatives: ["1064", "174", "2791"] }]);
  });

  it("rejects bad lines, naming file, line and field", async () => {
    await expect(readNcfNegatives(FIXTURES + "bad-head.test.negative")).rejects.toThrow(`${FIXTURES}bad-head.test.negative:2: 1: expected '(user,item)' then tab-separated negative item ids, got "0,26"`);
    const bad = (text: string) => () => parseNcfNegatives(text, "f.negative");
    expect(bad("(0,25)\n")).toThrow("f.negative:1: no negative item ids after \"(0,25)\"");
    expect(bad("(0,25)\t1\t\t2\n")).toThrow("f.negative:1: 3: empty negative item id");
    expect(bad("(0,25)\t1\n(0,25) 1 2\n")).toThrow("f.negative:2: 1: expected '(user,item)'");
    expect(bad("(0,25)\t1 2\n")).toThrow("f.negative:1: 2: negative item id \"1 2\" is not one id");
    expect(bad("(0)\t1\n")).toThrow("f.negative:1: 1: expected");
    const error = (() => { try { bad("(1,2,3)\t4")(); } catch (e) { return e; } })();
    expect(error).toBeInstanceOf(DataError);
    expect(error).toMatchObject({ file: "f.negative", line: 1, field: "1" });
    await expect(readNcfNegatives({ name: "latin.negative", bytes: Uint8Array.of(0x28, 0xe9, 0x29) })).rejects.toThrow("latin.negative:1: is not UTF-8 text");
  });
});

describe("NegativeSampler", () => {
  it("draws in proportion to the weights, never a zero weight or a touched item", () => {
    const sampler = new NegativeSampler(Float64Array.of(0, 1, 2, 3, 4), 5, new SeededRandom(1));
    const counts = [0, 0, 0, 0, 0];
    for (let j = 0; j < 20000; j++) counts[sampler.sample([], 1)[0]]++;
    // Binomial(20000, w/10): standard deviations 42, 57, 65, 69; 5 of them at most 350.
    expect(counts[0]).toBe(0);
    [2000, 4000, 6000, 8000].forEach((expected, j) => expect(Math.abs(counts[j + 1] - expected)).toBeLessThan(350));
    // Items 3 and 4 touched hold 7/10 of the mass: the list is rebuilt from 1 and 2 (1 : 2).
    const left = [0, 0, 0];
    for (let j = 0; j < 9000; j++) left[sampler.sample([Int32Array.of(4, 3)], 1)[0]]++;
    expect(Math.abs(left[2] - 6000)).toBeLessThan(5 * Math.sqrt(9000 * (2 / 9)));
    // Without replacement; all that is left when fewer than asked.
    for (let j = 0; j < 50; j++) { const three = sampler.sample([], 3); expect(new Set(three).size).toBe(3); expect(three).not.toContain(0); }
    expect(Array.from(sampler.sample([Int32Array.of(2)], 10))).toEqual([1, 3, 4]);
  });

  it("samples uniformly when unweighted", () => {
    const sampler = new NegativeSampler(null, 4, new SeededRandom(2));
    const counts = [0, 0, 0, 0];
    for (let j = 0; j < 8000; j++) for (const i of sampler.sample([Int32Array.of(0)], 2)) counts[i]++;
    // Each of items 1..3 is in a pair of 2 out of 3 with probability 2/3: 5333 of 8000, sd 42.
    expect(counts[0]).toBe(0);
    for (let i = 1; i < 4; i++) expect(Math.abs(counts[i] - 16000 / 3)).toBeLessThan(5 * 42.2);
  });
});

describe("ALS on ml-latest-small, leave-latest-out, 100 sampled negatives", () => {
  const present = existsSync(RATINGS);
  if (!present) console.warn(`skipped: ${RATINGS} is absent`);

  it.runIf(present)("reaches HR@10 well above chance", async () => {
    const data = prepareDataset(await loadDataset(RATINGS));
    const split = splitChronological(data, { lastK: 1 });
    expect(split.report.usersWithTest).toBe(610);
    const train = toUserItems(split.train);
    const model = new AlternatingLeastSquares({ factors: 64, regularization: 0.05, iterations: 15, seed: 1 });
    await model.fit(train);
    const result = await evaluateSampled(model, train, split.test, { k: 10, candidates: 100, seed: 1, metrics: ["hitRatio", "ndcg"] });
    const popularity = await evaluateSampled(popularityScorer(train), train, split.test, { k: 10, candidates: 100, seed: 1, metrics: ["hitRatio", "ndcg"] });
    const full = await evaluateFullRanking(model, train, split.test, { k: 10 });
    console.log(`ALS: ${result.detail}\npopularity: ${popularity.detail}\nALS: ${full.detail}`);
    expect(result.usersEvaluated).toBe(610);
    expect(result.metrics.hitRatio).toBeGreaterThan(0.5); // chance is 10/101
    expect(result.metrics.ndcg).toBeGreaterThan(0.3);
    // Popularity alone does well against uniform negatives; ALS must do clearly better.
    expect(result.metrics.hitRatio).toBeGreaterThan(popularity.metrics.hitRatio! + 0.05);
    // The same model through its recommend (float32 sums in wasm) ranks alike, up to a
    // near-tie or two among 610 users.
    const viaRecommend = await evaluateSampled(recommendScorer(model, train), train, split.test, { k: 10, candidates: 100, seed: 1, metrics: ["hitRatio", "ndcg"] });
    expect(Math.abs(viaRecommend.metrics.hitRatio! - result.metrics.hitRatio!)).toBeLessThanOrEqual(2 / 610);
    expect(full.usersEvaluated).toBe(610);
    expect(full.metrics.hitRatio).toBeLessThan(result.metrics.hitRatio!); // all items are harder than 101
  });
});

// Leave-one-out on random interactions; keys u0.., i0...
function leaveOneOut(nUsers: number, nItems: number, density: number, seed: number) {
  const data = randomInteractions(nUsers, nItems, density, seed);
  const all: Interactions = {
    user: Int32Array.from(data.rows), item: Int32Array.from(data.cols), value: Float32Array.from(data.values),
    userKeys: Array.from({ length: nUsers }, (_, u) => `u${u}`), itemKeys: Array.from({ length: nItems }, (_, i) => `i${i}`),
  };
  return splitLeaveKOut(all, { k: 1, seed });
}

function touchedSets(...parts: Interactions[]): Map<number, Set<number>> {
  const touched = new Map<number, Set<number>>();
  for (const part of parts) part.user.forEach((u, r) => { if (!touched.has(u)) touched.set(u, new Set()); touched.get(u)!.add(part.item[r]); });
  return touched;
}
