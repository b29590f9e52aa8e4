import { afterEach, describe, expect, it } from "vitest";
import { AlternatingLeastSquares, BayesianPersonalizedRanking, CsrMatrix, getEngine, type BprOptions, type EpochInfo } from "../src/index.js";
import { bprTuning, drawSamples } from "../src/bpr.js";
import { writeModelFile } from "../src/model-file.js";
import { randomInteractions, seededRandom } from "./reference.js";

// implicit's checkerboard: user u likes items of the same parity, with the diagonal withheld.
function checkerboard(size: number): CsrMatrix {
  const dense = Array.from({ length: size }, (_, u) => Array.from({ length: size }, (_, i) => ((u + i) % 2 === 0 && u !== i ? 1 : 0)));
  return CsrMatrix.fromDense(dense);
}

async function fit(userItems: CsrMatrix, options: BprOptions): Promise<{ model: BayesianPersonalizedRanking; epochs: EpochInfo[] }> {
  const model = new BayesianPersonalizedRanking(options);
  const epochs: EpochInfo[] = [];
  await model.fit(userItems, { onEpoch: (info) => epochs.push(info) });
  return { model, epochs };
}

/** x_u·y_i over the stored row width (factors and the bias column), in float64. */
function score(model: BayesianPersonalizedRanking, user: number, item: number): number {
  const w = model.factors, x = model.userFactors, y = model.itemFactors;
  let s = 0;
  for (let f = 0; f < w; f++) s += x[user * w + f] * y[item * w + f];
  return s;
}

/**
 * Two taste groups of users (u even: even items, u odd: odd items), each user liking a
 * random half of its group's 20 items, with one liked item per user held out of training.
 */
function tasteGroups(nUsers: number, seed: number): { userItems: CsrMatrix; heldOut: number[] } {
  const random = seededRandom(seed);
  const rows: number[] = [], cols: number[] = [], heldOut: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    const liked = Array.from({ length: 20 }, (_, i) => 2 * i + (u % 2)).filter(() => random() < 0.5);
    heldOut.push(liked.pop()!);
    for (const i of liked) { rows.push(u); cols.push(i); }
  }
  return { userItems: CsrMatrix.fromCoo({ rows, cols, shape: [nUsers, 40] }), heldOut };
}

/** The share of (user, other group's item) pairs where the user's held-out item scores higher (chance: ½). */
function heldOutWins(model: BayesianPersonalizedRanking, heldOut: number[]): number {
  let wins = 0;
  for (let u = 0; u < heldOut.length; u++) for (let o = 0; o < 20; o++) if (score(model, u, heldOut[u]) > score(model, u, 2 * o + 1 - (u % 2))) wins++;
  return wins / (20 * heldOut.length);
}

const defaultSamplesPerCall = bprTuning.samplesPerCall;
afterEach(() => { bprTuning.samplesPerCall = defaultSamplesPerCall; });

describe("BPR on implicit's checkerboard", () => {
  const learners: [string, BprOptions][] = [
    ["sgd", { factors: 4, learningRate: 0.05, iterations: 100 }],
    ["adagrad", { factors: 4, learningRate: 0.05, iterations: 100, optimizer: "adagrad" }],
    ["sgd, popularity sampling", { factors: 4, learningRate: 0.05, iterations: 100, sampling: "popularity" }],
    ["sgd, random order (implicit's)", { factors: 4, learningRate: 0.05, iterations: 100, sampleOrder: "random" }],
    ["sgd on 2 threads (Hogwild: workers share the factors without locks)", { factors: 4, learningRate: 0.05, iterations: 100, threads: 2 }],
  ];

  it.each(learners)("%s: recommends the withheld diagonal to every user", async (_name, options) => {
    const userItems = checkerboard(50);
    for (const seed of [23, 7]) {
      const { model } = await fit(userItems, { ...options, seed });
      for (let u = 0; u < 50; u++) expect(model.recommend(u, userItems, { n: 1 }).ids[0]).toBe(u);
      const users = Array.from({ length: 50 }, (_, u) => u);
      const batch = model.recommend(users, userItems, { n: 3 });
      for (const u of users) expect(Array.from(batch.ids[u])).toEqual(Array.from(model.recommend(u, userItems, { n: 3 }).ids));
    }
  });

  it.each([1, 2])("reports implicit's training AUC on %i thread(s): it rises over the epochs and ends above 0.9", async (threads) => {
    const userItems = checkerboard(50);
    const { epochs } = await fit(userItems, { factors: 4, learningRate: 0.05, iterations: 100, seed: 3, threads });
    expect(epochs.map((e) => e.epoch)).toEqual(Array.from({ length: 100 }, (_, e) => e + 1));
    for (const e of epochs) {
      expect(e.epochs).toBe(100);
      expect(e.seconds).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(e.skipped)).toBe(true);
      expect(e.auc).toBeGreaterThanOrEqual(0);
      expect(e.auc).toBeLessThanOrEqual(1);
    }
    for (let e = 1; e < epochs.length; e++) expect(epochs[e].elapsed).toBeGreaterThanOrEqual(epochs[e - 1].elapsed);
    // Random factors rank about half of the pairs right; the learned ones nearly all.
    expect(Math.abs(epochs[0].auc - 0.5)).toBeLessThan(0.15);
    expect(epochs[0].auc).toBeLessThan(epochs[99].auc);
    expect(epochs[99].auc).toBeGreaterThan(0.9);
    const lastTen = epochs.slice(-10).reduce((sum, e) => sum + e.auc, 0) / 10;
    const firstTen = epochs.slice(0, 10).reduce((sum, e) => sum + e.auc, 0) / 10;
    expect(lastTen).toBeGreaterThan(firstTen + 0.15);
  });

  it("skips the negatives a user likes: 24 of 50 items on the checkerboard, none without verification", async () => {
    const userItems = checkerboard(50);
    const nnz = userItems.nnz;
    expect(nnz).toBe(50 * 24);
    const { epochs } = await fit(userItems, { factors: 4, iterations: 50, seed: 1 });
    // Uniform negatives: P(liked) = 24/50 for every user. 60,000 samples: σ ≈ 0.002.
    const rate = epochs.reduce((sum, e) => sum + e.skipped, 0) / (nnz * epochs.length);
    expect(Math.abs(rate - 24 / 50)).toBeLessThan(0.01);
    const unverified = await fit(userItems, { factors: 4, iterations: 5, seed: 1, verifyNegativeSamples: false });
    expect(unverified.epochs.every((e) => e.skipped === 0)).toBe(true);
  });
});

describe("BPR factors", () => {
  it("reports the row width: factors + 1, the last column the item bias (users hold 1 there)", async () => {
    const userItems = CsrMatrix.fromCoo(randomInteractions(20, 15, 0.3, 5));
    const { model } = await fit(userItems, { factors: 6, iterations: 20, learningRate: 0.05, seed: 2 });
    expect(model.options.factors).toBe(6);
    expect(model.factors).toBe(7);
    expect(model.userFactors.length).toBe(20 * 7);
    expect(model.itemFactors.length).toBe(15 * 7);
    for (let u = 0; u < 20; u++) expect(model.userFactors[u * 7 + 6]).toBe(1);
    // recommend scores with the bias: x_u·y_i over all 7 columns.
    const { ids, scores } = model.recommend(3, undefined, { n: 15, filterAlreadyLikedItems: false });
    ids.forEach((item, r) => expect(scores[r]).toBeCloseTo(score(model, 3, item), 5));
  });

  it("epochs run on the rows split (k floats a row, item biases apart) and joined back exactly, range by range", () => {
    const { heap, kernels } = getEngine();
    const k = 5, nRows = 7, width = k + 1;
    // Row r, column c holds 10r + c (the bias column c = k).
    const joined = Float32Array.from({ length: nRows * width }, (_, e) => 10 * Math.floor(e / width) + (e % width));
    const rows = heap.alloc(joined.length * 4), bias = heap.alloc(nRows * 4);
    try {
      heap.f32(rows, joined.length).set(joined);
      // Ascending ranges to split, descending to join, as fit() calls them.
      for (const [start, end] of [[0, 3], [3, 6], [6, 7]]) kernels.bprSplitRows(rows, start, end, k, bias);
      const split = heap.f32(rows, nRows * k);
      for (let r = 0; r < nRows; r++) for (let c = 0; c < k; c++) expect(split[r * k + c]).toBe(10 * r + c);
      expect(Array.from(heap.f32(bias, nRows))).toEqual([5, 15, 25, 35, 45, 55, 65]);
      for (const [start, end] of [[4, 7], [1, 4], [0, 1]]) kernels.bprJoinRows(rows, start, end, k, bias);
      expect(heap.f32(rows, joined.length)).toEqual(joined);
      // Users: no bias array; the constant column comes back as 1.
      kernels.bprSplitRows(rows, 0, nRows, k, 0);
      kernels.bprJoinRows(rows, 0, nRows, k, 0);
      const users = heap.f32(rows, joined.length);
      for (let e = 0; e < joined.length; e++) expect(users[e]).toBe(e % width === k ? 1 : joined[e]);
    } finally {
      heap.release(rows);
      heap.release(bias);
    }
  });

  it("initialises as implicit: (U[0,1) − ½)/factors, unrated items and users zeroed, users' bias 1", async () => {
    // Users 0–5 rate items 0–8; user 6 and items 9, 10 have nothing.
    const data = randomInteractions(6, 9, 0.6, 8);
    const userItems = CsrMatrix.fromCoo({ ...data, shape: [7, 11] });
    const counts = new Array<number>(11).fill(0);
    for (const c of data.cols) counts[c]++;
    const { model } = await fit(userItems, { factors: 5, iterations: 0, seed: 4 });
    const x = model.userFactors, y = model.itemFactors;
    for (let i = 0; i < 11; i++) for (let f = 0; f < 6; f++) {
      const v = y[i * 6 + f];
      if (counts[i] === 0) expect(v).toBe(0);
      else { expect(v).toBeGreaterThanOrEqual(-0.1); expect(v).toBeLessThan(0.1); }
    }
    for (let u = 0; u < 7; u++) for (let f = 0; f < 5; f++) {
      const v = x[u * 6 + f];
      if (u === 6) expect(v).toBe(0);
      else { expect(v).toBeGreaterThanOrEqual(-0.1); expect(v).toBeLessThan(0.1); }
    }
    for (let u = 0; u < 7; u++) expect(x[u * 6 + 5]).toBe(1);
    // Spread: 45 rated-item entries and 30 user entries from U(−0.1, 0.1): the mean is near 0, the spread near 0.2/√12.
    const values = [...Array.from(y).filter((_, e) => counts[Math.floor(e / 6)] > 0), ...Array.from(x.subarray(0, 36)).filter((_, e) => e % 6 !== 5)];
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(sd - 0.2 / Math.sqrt(12))).toBeLessThan(0.015);
  });

  it("same seed: bit-identical factors, whatever the samples per kernel call; another seed: different", async () => {
    // ~6,000 nonzeros: a full user block and a short one, so calls also split blocks.
    const userItems = CsrMatrix.fromCoo(randomInteractions(200, 120, 0.25, 9));
    expect(userItems.nnz).toBeGreaterThan(4096);
    const run = async (seed: number, options: BprOptions = {}) => {
      const { model, epochs } = await fit(userItems, { factors: 7, iterations: 5, learningRate: 0.05, seed, ...options });
      return { x: Float32Array.from(model.userFactors), y: Float32Array.from(model.itemFactors), epochs: epochs.map(({ auc, skipped }) => ({ auc, skipped })) };
    };
    for (const options of [{}, { sampleOrder: "random" }, { optimizer: "adagrad", sampling: "popularity" }] as BprOptions[]) {
      const first = await run(3, options), again = await run(3, options);
      expect(again.x).toEqual(first.x);
      expect(again.y).toEqual(first.y);
      expect(again.epochs).toEqual(first.epochs);
      bprTuning.samplesPerCall = 7;
      const chunked = await run(3, options);
      bprTuning.samplesPerCall = defaultSamplesPerCall;
      expect(chunked.x).toEqual(first.x);
      expect(chunked.y).toEqual(first.y);
      expect(chunked.epochs).toEqual(first.epochs);
      const other = await run(4, options);
      expect(other.x).not.toEqual(first.x);
      expect(other.y).not.toEqual(first.y);
    }
  });
});

describe("BPR gradient steps, against float64 from the formulas", () => {
  // One user who likes item 0 of two: each epoch is one sample (u = 0, i = 0) whose
  // negative is item 1 (an update) or item 0 (skipped: verified negatives), and onEpoch
  // says which. Replaying the updates in float64 from the initial factors must give the
  // trained factors. Item 1 starts at zero (unrated, as implicit) and moves from step 1 on.
  const userItems = () => CsrMatrix.fromCoo({ rows: [0], cols: [0], shape: [1, 2] });

  function replay(k: number, optimizer: "sgd" | "adagrad", lr: number, reg: number, x0: Float32Array, y0: Float32Array, epochs: EpochInfo[]) {
    const w = k + 1;
    const x = Array.from(x0), y = Array.from(y0);
    const gx = new Array<number>(w).fill(0), gy = new Array<number>(2 * w).fill(0);
    const step = (g: number[], at: number, d: number) => {
      if (optimizer === "sgd") return lr * d;
      g[at] += d * d;
      return (lr * d) / Math.sqrt(g[at] + 1e-8);
    };
    let updates = 0;
    for (const epoch of epochs) {
      if (epoch.skipped === 1) continue;
      updates++;
      const i = 0, j = 1;
      // x_uij = x_u·(y_i − y_j) over k factors and the bias (x_u's bias column is 1).
      let xuij = 0;
      for (let f = 0; f < w; f++) xuij += x[f] * (y[i * w + f] - y[j * w + f]);
      const z = 1 / (1 + Math.exp(xuij));
      expect(epoch.auc).toBe(z < 0.5 ? 1 : 0);
      for (let f = 0; f < k; f++) {
        const xf = x[f], yi = y[i * w + f], yj = y[j * w + f];
        x[f] += step(gx, f, z * (yi - yj) - reg * xf);
        y[i * w + f] += step(gy, i * w + f, z * xf - reg * yi);
        y[j * w + f] += step(gy, j * w + f, -z * xf - reg * yj);
      }
      y[i * w + k] += step(gy, i * w + k, z - reg * y[i * w + k]);
      y[j * w + k] += step(gy, j * w + k, -z - reg * y[j * w + k]);
    }
    return { x, y, updates };
  }

  for (const optimizer of ["sgd", "adagrad"] as const) {
    for (const k of [3, 5, 8]) {
      it(`${optimizer}, ${k} factors`, async () => {
        const lr = optimizer === "sgd" ? 0.3 : 0.05, reg = 0.07;
        const options: BprOptions = { factors: k, learningRate: lr, regularization: reg, optimizer, seed: 11 };
        const initial = await fit(userItems(), { ...options, iterations: 0 });
        const trained = await fit(userItems(), { ...options, iterations: 12 });
        const expected = replay(k, optimizer, lr, reg, initial.model.userFactors, initial.model.itemFactors, trained.epochs);
        // The negative is uniform over the two items: some epochs update, some skip.
        expect(expected.updates).toBeGreaterThan(2);
        expect(expected.updates).toBeLessThan(12);
        trained.model.userFactors.forEach((v, f) => expect(Math.abs(v - expected.x[f])).toBeLessThan(1e-6));
        trained.model.itemFactors.forEach((v, f) => expect(Math.abs(v - expected.y[f])).toBeLessThan(1e-6));
      });
    }
  }

  it("without verification, a negative equal to the positive updates it twice in turn, as implicit", async () => {
    const k = 4, lr = 0.2, reg = 0.1;
    const options: BprOptions = { factors: k, learningRate: lr, regularization: reg, verifyNegativeSamples: false, sampling: "popularity", seed: 5 };
    // Popularity sampling on one nonzero: the negative is always item 0, the positive.
    const initial = await fit(userItems(), { ...options, iterations: 0 });
    const trained = await fit(userItems(), { ...options, iterations: 1 });
    const w = k + 1, x = Array.from(initial.model.userFactors), y = Array.from(initial.model.itemFactors);
    // x_uij = 0, z = ½: x_u shrinks; y_0 moves by +z·x_u, then by −z·x_u from its new value.
    const z = 0.5;
    for (let f = 0; f < k; f++) {
      const xf = x[f];
      x[f] += lr * (z * 0 - reg * xf);
      y[f] += lr * (z * xf - reg * y[f]);
      y[f] += lr * (-z * xf - reg * y[f]);
    }
    y[k] += lr * (z - reg * y[k]);
    y[k] += lr * (-z - reg * y[k]);
    expect(trained.epochs[0].skipped).toBe(0);
    expect(trained.epochs[0].auc).toBe(0); // z = ½ is not a correct ranking
    trained.model.userFactors.forEach((v, f) => expect(Math.abs(v - x[f])).toBeLessThan(1e-7));
    Array.from(trained.model.itemFactors).slice(0, w).forEach((v, f) => expect(Math.abs(v - y[f])).toBeLessThan(1e-7));
  });
});

describe("BPR sampling", () => {
  // Item c is liked by (c + 1)² users, so popularity sampling favours the last items strongly.
  function skewed(): { userItems: CsrMatrix; counts: number[] } {
    const nItems = 8, nUsers = 64;
    const rows: number[] = [], cols: number[] = [];
    const counts = Array.from({ length: nItems }, (_, c) => (c + 1) ** 2);
    counts.forEach((count, c) => { for (let u = 0; u < count; u++) { rows.push(u); cols.push(c); } });
    return { userItems: CsrMatrix.fromCoo({ rows, cols, shape: [nUsers, nItems + 2] }), counts: [...counts, 0, 0] };
  }

  // Pearson's χ² of observed counts against expected probabilities.
  function chiSquare(draws: ArrayLike<number>, probabilities: number[]): number {
    const observed = new Array<number>(probabilities.length).fill(0);
    for (let s = 0; s < draws.length; s++) observed[draws[s]]++;
    let chi = 0;
    probabilities.forEach((p, c) => {
      if (p === 0) { expect(observed[c]).toBe(0); return; }
      chi += (observed[c] - p * draws.length) ** 2 / (p * draws.length);
    });
    return chi;
  }

  it("negatives by popularity: in proportion to the items' counts (χ² test), never an item nobody has", () => {
    const { userItems, counts } = skewed();
    const total = counts.reduce((a, b) => a + b, 0);
    const { negatives } = drawSamples(userItems, 200_000, { sampling: "popularity", seed: 1 });
    // 7 degrees of freedom: P(χ² > 24.3) = 0.001.
    expect(chiSquare(negatives, counts.map((c) => c / total))).toBeLessThan(24.3);
    // And visibly so: the most popular item ~ 64/204 of the draws, the least ~ 1/204.
    const share = (c: number) => negatives.filter((d) => d === c).length / negatives.length;
    expect(Math.abs(share(7) - 64 / 204)).toBeLessThan(0.01);
    expect(Math.abs(share(0) - 1 / 204)).toBeLessThan(0.002);
  });

  it("negatives uniform: every item equally, those nobody has included (χ² test)", () => {
    const { userItems } = skewed();
    const { negatives } = drawSamples(userItems, 200_000, { sampling: "uniform", seed: 2 });
    // 9 degrees of freedom: P(χ² > 27.9) = 0.001.
    expect(chiSquare(negatives, new Array<number>(10).fill(0.1))).toBeLessThan(27.9);
  });

  it("draws the user of every nonzero right, around empty, one-entry and long rows", () => {
    // Rows 0–9 empty, row 10 with 300 entries, 11–100 one each, 101–150 empty, 151–180
    // three each, 181–199 empty: every nonzero is drawn, each with its own user.
    const rows: number[] = [], cols: number[] = [];
    for (let c = 0; c < 300; c++) { rows.push(10); cols.push(c); }
    for (let r = 11; r <= 100; r++) { rows.push(r); cols.push(r); }
    for (let r = 151; r <= 180; r++) for (const c of [r, r + 50, r + 100]) { rows.push(r); cols.push(c); }
    const userItems = CsrMatrix.fromCoo({ rows, cols, shape: [200, 400] });
    const { users, items } = drawSamples(userItems, 50_000, { seed: 9 });
    const stored = new Set(rows.map((r, e) => r * 400 + cols[e]));
    const drawn = new Set<number>();
    users.forEach((u, s) => drawn.add(u * 400 + items[s]));
    expect([...drawn].filter((key) => !stored.has(key))).toEqual([]);
    expect(drawn.size).toBe(stored.size);
  });

  it("liked pairs: every nonzero equally often (χ² test), each a real (user, item) of the matrix", () => {
    const userItems = CsrMatrix.fromCoo(randomInteractions(30, 20, 0.2, 3));
    const nnz = userItems.nnz;
    const indptr = Array.from(userItems.indptr), indices = Array.from(userItems.indices);
    const { users, items } = drawSamples(userItems, 100_000, { seed: 3 });
    const entryOf = new Map<number, number>();
    for (let u = 0; u < 30; u++) for (let e = indptr[u]; e < indptr[u + 1]; e++) entryOf.set(u * 20 + indices[e], e);
    const entry = Int32Array.from(users, (u, s) => entryOf.get(u * 20 + items[s]) ?? -1);
    expect(entry.every((e) => e >= 0)).toBe(true);
    // nnz − 1 degrees of freedom (~120): the 0.001 quantile is below df + 4.5·√(2·df).
    const df = nnz - 1;
    expect(chiSquare(entry, new Array<number>(nnz).fill(1 / nnz))).toBeLessThan(df + 4.5 * Math.sqrt(2 * df));
  });

  it("different seeds draw different sequences; the same seed the same; consecutive draws independent", () => {
    const { userItems } = skewed();
    const a = drawSamples(userItems, 1000, { seed: 1 }).negatives, b = drawSamples(userItems, 1000, { seed: 1 }).negatives;
    const c = drawSamples(userItems, 1000, { seed: 2 }).negatives;
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    // Consecutive draws agree ~1/10 of the time, as independent ones do.
    let same = 0;
    for (let s = 1; s < a.length; s++) if (a[s] === a[s - 1]) same++;
    expect(Math.abs(same / 999 - 0.1)).toBeLessThan(0.04);
  });
});

describe("BPR in user-block order", () => {
  const BLOCK = 4096;
  // Each sample's nonzero (its place in CSR order), from the (user, item) it drew.
  function entries(userItems: CsrMatrix, users: Int32Array, items: Int32Array): Int32Array {
    const indptr = userItems.indptr, indices = userItems.indices, nCols = userItems.nCols;
    const entryOf = new Map<number, number>();
    for (let u = 0; u < userItems.nRows; u++) for (let e = indptr[u]; e < indptr[u + 1]; e++) entryOf.set(u * nCols + indices[e], e);
    return Int32Array.from(users, (u, s) => entryOf.get(u * nCols + items[s]) ?? -1);
  }

  it("an epoch runs the full blocks in a random order, then the short one, each drawn as often as it has nonzeros", () => {
    const userItems = CsrMatrix.fromCoo(randomInteractions(500, 400, 0.2, 5));
    const nnz = userItems.nnz, nFull = Math.floor(nnz / BLOCK);
    expect(nFull).toBeGreaterThanOrEqual(9);
    expect(nnz % BLOCK).toBeGreaterThan(0);
    const orderOf = (seed: number) => {
      const { users, items } = drawSamples(userItems, 2 * nnz, { sampleOrder: "userBlocks", seed });
      const drawn = entries(userItems, users, items);
      expect(drawn.every((e) => e >= 0)).toBe(true);
      return [0, 1].map((epoch) => {
        const epochEntries = drawn.subarray(epoch * nnz, (epoch + 1) * nnz);
        const blocks: number[] = [];
        for (let p = 0; p < nFull; p++) {
          const run = epochEntries.subarray(p * BLOCK, (p + 1) * BLOCK);
          const block = Math.floor(run[0] / BLOCK);
          expect(run.every((e) => Math.floor(e / BLOCK) === block)).toBe(true);
          blocks.push(block);
        }
        expect([...blocks].sort((a, b) => a - b)).toEqual(Array.from({ length: nFull }, (_, b) => b));
        expect(epochEntries.subarray(nFull * BLOCK).every((e) => e >= nFull * BLOCK)).toBe(true);
        return blocks.join(",");
      });
    };
    const [first, second] = orderOf(1);
    expect(second).not.toBe(first); // a new order every epoch (10! orders)
    expect(orderOf(1)).toEqual([first, second]);
    expect(orderOf(2)[0]).not.toBe(first);
  });

  it("with exactly 2 full blocks and no short one, each epoch is the two blocks; fit runs", async () => {
    const dense = Array.from({ length: 128 }, () => new Array<number>(64).fill(1)); // 8,192 nonzeros
    const userItems = CsrMatrix.fromDense(dense);
    const { users, items } = drawSamples(userItems, 3 * 8192, { sampleOrder: "userBlocks", seed: 5, sampling: "uniform" });
    const drawn = entries(userItems, users, items);
    const blocksOf = (epoch: number) => [0, 1].map((p) => {
      const run = drawn.subarray(epoch * 8192 + p * BLOCK, epoch * 8192 + (p + 1) * BLOCK);
      const block = Math.floor(run[0] / BLOCK);
      expect(run.every((e) => Math.floor(e / BLOCK) === block)).toBe(true);
      return block;
    });
    for (let epoch = 0; epoch < 3; epoch++) expect(blocksOf(epoch).sort()).toEqual([0, 1]);
    const { model, epochs } = await fit(userItems, { factors: 3, iterations: 2, seed: 5, verifyNegativeSamples: false });
    expect(epochs).toHaveLength(2);
    expect(model.userFactors.every(Number.isFinite)).toBe(true);
  });

  it("every nonzero is as likely as in random order (χ² over 40 epochs)", () => {
    const userItems = CsrMatrix.fromCoo(randomInteractions(300, 150, 0.2, 6));
    const nnz = userItems.nnz;
    expect(nnz).toBeGreaterThan(2 * BLOCK);
    const { users, items } = drawSamples(userItems, 40 * nnz, { sampleOrder: "userBlocks", seed: 4 });
    const drawn = entries(userItems, users, items);
    const observed = new Float64Array(nnz);
    for (const e of drawn) observed[e]++;
    let chi = 0;
    for (const o of observed) chi += (o - 40) ** 2 / 40;
    const df = nnz - 1;
    expect(chi).toBeLessThan(df + 4.5 * Math.sqrt(2 * df));
    expect(observed.every((o) => o > 0)).toBe(true);
  });

  it("block orders are uniform permutations: all 24 orders of 4 blocks equally often (χ²)", () => {
    const { heap, kernels } = getEngine();
    const out = heap.alloc(4 * 1000);
    try {
      kernels.bprBlockOrder(7n, 0n, 1000, out);
      expect(Array.from(heap.i32(out, 1000)).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, b) => b));
      const counts = new Map<string, number>();
      for (let seed = 0n; seed < 40n; seed++) for (let epoch = 0n; epoch < 60n; epoch++) {
        kernels.bprBlockOrder(seed, epoch, 4, out);
        const key = Array.from(heap.i32(out, 4)).join("");
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      expect(counts.size).toBe(24);
      let chi = 0;
      for (const c of counts.values()) chi += (c - 100) ** 2 / 100;
      expect(chi).toBeLessThan(49.7); // 23 degrees of freedom: P(χ² > 49.7) = 0.001
    } finally {
      heap.release(out);
    }
  });

  it.each([1, 2])("learns as well as random order on %i thread(s): held-out liked items above the other taste group's", async (threads) => {
    // 1,000 users: ~9,000 training pairs, so 2 full blocks of consecutive users and a short one.
    const { userItems, heldOut } = tasteGroups(1000, 41);
    expect(userItems.nnz).toBeGreaterThan(2 * BLOCK);
    const accuracy = async (sampleOrder: "random" | "userBlocks") =>
      heldOutWins((await fit(userItems, { factors: 2, learningRate: 0.05, regularization: 0.05, iterations: 100, seed: 1, sampleOrder, threads })).model, heldOut);
    const blocked = await accuracy("userBlocks"), shuffled = await accuracy("random");
    // (Measured: 0.933 / 0.926 on 1 thread; on 2, Hogwild, 0.93–0.98 / 0.91–0.93.)
    expect(shuffled).toBeGreaterThan(0.85);
    expect(blocked).toBeGreaterThan(0.9);
    expect(blocked).toBeGreaterThan(shuffled - 0.03);
  });
});

describe("BPR model file", () => {
  it("a file from before sampleOrder existed loads as trained in random order", async () => {
    const { model } = await fit(CsrMatrix.fromCoo(randomInteractions(20, 10, 0.3, 2)), { factors: 3, iterations: 2, sampleOrder: "random" });
    const { sampleOrder: _added, threads: _notSaved, ...olderOptions } = model.options;
    const older = writeModelFile({ kind: "bpr", options: olderOptions, nUsers: model.nUsers, nItems: model.nItems, factors: model.factors, userFactors: model.userFactors, itemFactors: model.itemFactors });
    const loaded = BayesianPersonalizedRanking.load(older);
    expect(loaded.options.sampleOrder).toBe("random");
    expect(loaded.save()).toEqual(model.save());
    expect(BayesianPersonalizedRanking.load((await fit(CsrMatrix.fromCoo(randomInteractions(20, 10, 0.3, 2)), { factors: 3, iterations: 1 })).model.save()).options.sampleOrder).toBe("userBlocks");
  });

  it("save → load gives identical factors, options, recommendations and bytes", async () => {
    const userItems = CsrMatrix.fromCoo(randomInteractions(30, 25, 0.2, 17));
    const { model } = await fit(userItems, { factors: 6, iterations: 10, learningRate: 0.05, seed: 8, optimizer: "adagrad", sampling: "popularity" });
    model.catalog = {
      userKeys: Array.from({ length: 30 }, (_, u) => `user-${u}`),
      itemKeys: Array.from({ length: 25 }, (_, i) => `item-${i}`),
      itemLabels: Array.from({ length: 25 }, (_, i) => `Item ${i}`),
    };
    model.userItems = userItems;
    const bytes = model.save();
    const loaded = BayesianPersonalizedRanking.load(bytes);
    expect(loaded.options).toEqual(model.options);
    expect(loaded.factors).toBe(7);
    expect(loaded.userFactors).toEqual(model.userFactors);
    expect(loaded.itemFactors).toEqual(model.itemFactors);
    expect(loaded.catalog).toEqual(model.catalog);
    expect(Array.from(loaded.userItems!.indices)).toEqual(Array.from(userItems.indices));
    const users = Array.from({ length: 30 }, (_, u) => u);
    const a = model.recommend(users, userItems, { n: 5 }), b = loaded.recommend(users, loaded.userItems, { n: 5 });
    expect(b.ids.map((r) => Array.from(r))).toEqual(a.ids.map((r) => Array.from(r)));
    expect(b.scores.map((r) => Array.from(r))).toEqual(a.scores.map((r) => Array.from(r)));
    expect(Array.from(loaded.similarItems(3, { n: 5 }).ids)).toEqual(Array.from(model.similarItems(3, { n: 5 }).ids));
    expect(loaded.save()).toEqual(bytes);
  });

  it("refuses another kind of model and a corrupted file", async () => {
    const userItems = CsrMatrix.fromCoo(randomInteractions(10, 8, 0.3, 2));
    const bpr = (await fit(userItems, { factors: 3, iterations: 2 })).model;
    const als = new AlternatingLeastSquares({ factors: 3, iterations: 1 });
    await als.fit(userItems);
    expect(() => BayesianPersonalizedRanking.load(als.save())).toThrow(/holds a 'als' model, not 'bpr'/);
    expect(() => AlternatingLeastSquares.load(bpr.save())).toThrow(/holds a 'bpr' model, not 'als'/);
    const corrupted = bpr.save();
    corrupted[corrupted.length - 10] ^= 1;
    expect(() => BayesianPersonalizedRanking.load(corrupted)).toThrow(/checksum mismatch/);
  });
});

describe("BPR options and errors", () => {
  it("has implicit's defaults", () => {
    expect(new BayesianPersonalizedRanking().options).toEqual({
      factors: 100, learningRate: 0.01, regularization: 0.01, iterations: 100, verifyNegativeSamples: true, seed: 0, sampling: "uniform",
      sampleOrder: "userBlocks", optimizer: "sgd", threads: 1,
    });
  });

  it("refuses bad options, bad input and queries before fit with clear errors", async () => {
    expect(() => new BayesianPersonalizedRanking({ factors: 0 })).toThrow(/factors must be an integer ≥ 1/);
    expect(() => new BayesianPersonalizedRanking({ learningRate: 0 })).toThrow(/learningRate must be a number > 0/);
    expect(() => new BayesianPersonalizedRanking({ regularization: -1 })).toThrow(/regularization must be a number ≥ 0/);
    expect(() => new BayesianPersonalizedRanking({ sampling: "zipf" as never })).toThrow(/sampling must be 'uniform' or 'popularity'/);
    expect(() => new BayesianPersonalizedRanking({ optimizer: "adam" as never })).toThrow(/optimizer must be 'sgd' or 'adagrad'/);
    expect(() => new BayesianPersonalizedRanking({ sampleOrder: "sorted" as never })).toThrow(/sampleOrder must be 'random' or 'userBlocks'/);
    expect(() => new BayesianPersonalizedRanking({ verifyNegativeSamples: "yes" as never })).toThrow(/verifyNegativeSamples must be true or false/);
    const model = new BayesianPersonalizedRanking({ factors: 3 });
    await expect(model.fit([[1]] as never)).rejects.toThrow(/userItems must be a CsrMatrix/);
    expect(() => model.recommend(0, checkerboard(4))).toThrow(/not fitted/);
  });

  it("fits an empty matrix without sampling (the factors stay as initialised)", async () => {
    const empty = CsrMatrix.fromCoo({ rows: [], cols: [], shape: [3, 4] });
    const { model, epochs } = await fit(empty, { factors: 2, iterations: 3 });
    expect(epochs).toHaveLength(0);
    expect(Array.from(model.itemFactors)).toEqual(new Array(12).fill(0));
    expect(Array.from(model.userFactors)).toEqual([0, 0, 1, 0, 0, 1, 0, 0, 1]);
  });

  it("generalises: ranks a held-out liked item above the other taste group's items", async () => {
    // Training never shows the held-out item as liked by its user.
    const { userItems, heldOut } = tasteGroups(80, 31);
    const { model } = await fit(userItems, { factors: 2, learningRate: 0.05, regularization: 0.05, iterations: 100, seed: 1 });
    expect(heldOutWins(model, heldOut)).toBeGreaterThan(0.85);
  });
});

describe("BPR on every runtime", () => {
  // The same seed, data and options give the same bits under Node, Bun and Deno (npm test
  // runs this file on each): the digests of the saved models are pinned. A different
  // digest means the kernel, its random stream, its defaults or the model format changed.
  async function digest(options: BprOptions, userItems = CsrMatrix.fromCoo(randomInteractions(40, 30, 0.2, 12))): Promise<string> {
    const { model } = await fit(userItems, { factors: 6, iterations: 20, learningRate: 0.05, seed: 9, ...options });
    const bytes = new Uint8Array(await crypto.subtle.digest("SHA-256", model.save()));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  it("gives bit-identical models (pinned SHA-256 of save())", async () => {
    expect(await digest({ sampleOrder: "random" })).toBe("e33941262ace39ed6c51206ca67631d93eae7fdf9aa1d23babda94e35477cf3b");
    expect(await digest({ optimizer: "adagrad", sampling: "popularity", verifyNegativeSamples: false, sampleOrder: "random" })).toBe("9eca1bf0f3fec26b83f2dac247dd5aeb12c97f298ea3478e374866a5dec10255");
    // User-block order on 3 full blocks and a short one (fewer than 4,096 nonzeros would be one short block: random order).
    expect(await digest({ iterations: 3 }, CsrMatrix.fromCoo(randomInteractions(300, 200, 0.25, 4)))).toBe("1bc7a5718c3ab8859b9f77a91035479613c956c3e48769883cc7cb6c5b874e7b");
  });
});
