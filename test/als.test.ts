import { describe, expect, it } from "vitest";
import { AlternatingLeastSquares, CsrMatrix, getEngine } from "../src/index.js";
import { implicitCounts, randomInteractions, referenceConjugateGradient, referenceRowSolve, referenceRowSystem, seededRandom } from "./reference.js";
import { gramOf } from "../src/gram.js";

const solvers = ["cg", "cholesky"] as const;

// implicit's tests/als_test.py: a 7×6 count matrix that 6 factors with no regularization
// reconstruct exactly (the preference, i.e. the binary pattern).
const counts = implicitCounts;

// implicit's checkerboard: user u likes items of the same parity, with the diagonal withheld.
function checkerboard(size: number): CsrMatrix {
  const dense = Array.from({ length: size }, (_, u) => Array.from({ length: size }, (_, i) => ((u + i) % 2 === 0 && u !== i ? 1 : 0)));
  return CsrMatrix.fromDense(dense);
}

function score(model: AlternatingLeastSquares, userFactors: ArrayLike<number>, item: number): number {
  const k = model.factors, y = model.itemFactors;
  let s = 0;
  for (let f = 0; f < k; f++) s += userFactors[f] * y[item * k + f];
  return s;
}

describe.each(solvers)("ALS (%s)", (solver) => {
  it("reconstructs implicit's 7×6 matrix within 1e-3", async () => {
    const model = new AlternatingLeastSquares({ factors: 6, regularization: 0, alpha: 2, solver, seed: 23 });
    await model.fit(CsrMatrix.fromDense(counts));
    const u = model.userFactors;
    for (let user = 0; user < 7; user++) {
      for (let item = 0; item < 6; item++) {
        expect(Math.abs(score(model, u.subarray(user * 6, user * 6 + 6), item) - counts[user][item])).toBeLessThan(1e-3);
      }
    }
  });

  it("recommends the withheld diagonal on the 50×50 checkerboard", async () => {
    const userItems = checkerboard(50);
    const model = new AlternatingLeastSquares({ factors: 3, regularization: 0.01, solver, seed: 23 });
    await model.fit(userItems);
    for (let u = 0; u < 50; u++) {
      const { ids } = model.recommend(u, userItems, { n: 1 });
      expect(ids[0]).toBe(u);
    }
    const users = Array.from({ length: 50 }, (_, u) => u);
    const batch = model.recommend(users, userItems, { n: 5 });
    for (const u of users) {
      const single = model.recommend(u, userItems, { n: 5 });
      expect(Array.from(batch.ids[u])).toEqual(Array.from(single.ids));
      expect(Array.from(batch.scores[u])).toEqual(Array.from(single.scores));
    }
    // More than the catalogue: every item the user does not have, once, best first.
    const all = model.recommend(7, userItems, { n: 500 });
    expect(all.ids.length).toBe(50 - userItems.rowNnz(7));
    expect(new Set(all.ids).size).toBe(all.ids.length);
    for (let j = 1; j < all.scores.length; j++) expect(all.scores[j]).toBeLessThanOrEqual(all.scores[j - 1]);
    const unfiltered = model.recommend(7, undefined, { n: 500, filterAlreadyLikedItems: false });
    expect(unfiltered.ids.length).toBe(50);
  });

  it("solves every row as a float64 reference solve does, within 1e-4", async () => {
    const data = randomInteractions(30, 40, 0.15, 11, (r) => (r() < 0.1 ? -1 : 1 + Math.floor(r() * 5)));
    const userItems = CsrMatrix.fromCoo(data);
    const itemUsers = userItems.transpose();
    for (const extra of [{}, { unobservedWeight: 0.3, regularizationExponent: 1, regularization: 0.002 }]) {
      // CG on a k-dimensional system converges in k steps in exact arithmetic; 2k absorbs f32 rounding.
      const options = { factors: 6, regularization: 0.1, alpha: 0.7, solver, cgSteps: 12, seed: 5, ...extra };
      const initial = new AlternatingLeastSquares({ ...options, iterations: 0 });
      await initial.fit(userItems);
      const model = new AlternatingLeastSquares({ ...options, iterations: 1 });
      await model.fit(userItems);
      const o = model.options;
      const common = { k: 6, alpha: o.alpha, regularization: o.regularization, unobservedWeight: o.unobservedWeight, regularizationExponent: o.regularizationExponent };
      // Users are solved against the initial items; items then against the new users.
      for (let u = 0; u < 30; u++) {
        const row = userItems.row(u);
        const expected = referenceRowSolve({ ...common, y: initial.itemFactors, nOther: 40, cols: row.indices, values: row.data });
        const actual = model.userFactors.subarray(u * 6, u * 6 + 6);
        expected.forEach((v, f) => expect(Math.abs(actual[f] - v)).toBeLessThan(1e-4));
      }
      for (let i = 0; i < 40; i++) {
        const row = itemUsers.row(i);
        const expected = referenceRowSolve({ ...common, y: model.userFactors, nOther: 30, cols: row.indices, values: row.data });
        const actual = model.itemFactors.subarray(i * 6, i * 6 + 6);
        expected.forEach((v, f) => expect(Math.abs(actual[f] - v)).toBeLessThan(1e-4));
      }
    }
  });

  it("reports implicit's training loss, as a float64 reference computes it", async () => {
    const data = randomInteractions(20, 15, 0.3, 4);
    const userItems = CsrMatrix.fromCoo(data);
    const losses: number[] = [];
    const model = new AlternatingLeastSquares({ factors: 4, regularization: 0.05, alpha: 0.5, solver, iterations: 4, calculateTrainingLoss: true, seed: 1 });
    await model.fit(userItems, { onIteration: (info) => losses.push(info.loss!) });
    const x = model.userFactors, y = model.itemFactors, dense = userItems.toDense();
    let loss = 0, weight = 0;
    for (let u = 0; u < 20; u++) for (let i = 0; i < 15; i++) {
      let s = 0;
      for (let f = 0; f < 4; f++) s += x[u * 4 + f] * y[i * 4 + f];
      const c = 0.5 * dense[u][i];
      if (c > 0) { loss += c * (1 - s) ** 2; weight += c; } else { loss += s * s; weight += 1; }
    }
    for (const v of x) loss += 0.05 * v * v;
    for (const v of y) loss += 0.05 * v * v;
    expect(losses).toHaveLength(4);
    expect(Math.abs(losses[3] - loss / weight)).toBeLessThan(1e-5);
    expect(losses[3]).toBeLessThan(losses[0]);
  });

  it("gives bit-identical models for the same seed, different ones for another", async () => {
    const userItems = CsrMatrix.fromCoo(randomInteractions(60, 50, 0.1, 9));
    const fit = async (seed: number) => {
      const model = new AlternatingLeastSquares({ factors: 8, solver, seed, iterations: 3 });
      await model.fit(userItems);
      return Float32Array.from(model.userFactors);
    };
    const first = await fit(3), again = await fit(3), other = await fit(4);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it("fit({ lowMemory }) gives the same bits on 1 and 2 threads, its default the smaller estimate", async () => {
    // Users with up to ~300 items: places past 0xFF in a row, stored as u16.
    const data = randomInteractions(80, 400, 0.05, 10, (r) => 1 + Math.floor(r() * 50));
    for (let i = 0; i < 300; i++) { data.rows.push(7); data.cols.push(i); data.values.push(1 + (i % 13)); }
    const userItems = CsrMatrix.fromCoo(data);
    const saved = async (lowMemory: boolean, threads: number) => {
      const model = new AlternatingLeastSquares({ factors: 8, solver, seed: 5, iterations: 3, threads });
      await model.fit(userItems, { lowMemory });
      return model.save();
    };
    const reference = await saved(false, 1);
    expect(await saved(true, 1)).toEqual(reference);
    expect(await saved(true, 2)).toEqual(reference);
    expect(await saved(false, 2)).toEqual(reference);
    const shape = { nUsers: 358_868, nItems: 291_346, nnz: 17_548_462, longestRow: 77_000, longestUserRow: 166 };
    const lean = AlternatingLeastSquares.memoryNeeded(shape, { factors: 64 }).bytes;
    expect(AlternatingLeastSquares.memoryNeeded(shape, { factors: 64 }, { lowMemory: true }).bytes).toBe(lean);
    const withValues = AlternatingLeastSquares.memoryNeeded(shape, { factors: 64 }, { lowMemory: false }).bytes;
    expect(withValues - lean).toBeGreaterThan(2 * 17_548_462);
  });
});

describe("ALS queries", () => {
  async function trained(options = {}) {
    const userItems = CsrMatrix.fromCoo(randomInteractions(40, 30, 0.2, 21));
    const model = new AlternatingLeastSquares({ factors: 5, regularization: 0.1, solver: "cholesky", iterations: 100, seed: 2, ...options });
    await model.fit(userItems);
    return { model, userItems };
  }

  it("explain: contributions sum to the score of the user's exact solve", async () => {
    const { model, userItems } = await trained();
    for (const [user, item] of [[0, 3], [5, 17], [12, 29]]) {
      const explanation = model.explain(user, userItems, item, { n: 3 });
      const sum = explanation.contributions.scores.reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - explanation.score)).toBeLessThan(1e-4);
      const view = userItems.row(user), row = { indices: view.indices.slice(), data: view.data.slice() }; // queries allocate: views may detach
      expect(Array.from(explanation.contributions.ids).sort((a, b) => a - b)).toEqual(Array.from(row.indices));
      const refreshed = model.recalculateUser({ items: Array.from(row.indices), values: Array.from(row.data) });
      expect(Math.abs(score(model, refreshed, item) - explanation.score)).toBeLessThan(1e-4);
      expect(explanation.topContributions.ids.length).toBe(Math.min(3, row.indices.length));
      for (let j = 1; j < explanation.contributions.scores.length; j++) {
        expect(explanation.contributions.scores[j]).toBeLessThanOrEqual(explanation.contributions.scores[j - 1]);
      }
    }
  });

  it("recalculateUser on a trained user's items reproduces that user's scores", async () => {
    // Stored user factors were solved against the previous sweep's items; they agree
    // with a fresh solve once ALS has converged, which counts up to 20 make slow.
    const { model, userItems } = await trained({ iterations: 1000 });
    for (const user of [0, 7, 33]) {
      const row = userItems.row(user);
      const liked = { items: Array.from(row.indices), values: Array.from(row.data) };
      const refreshed = model.recalculateUser(liked);
      const stored = model.userFactors.slice(user * 5, user * 5 + 5);
      for (let item = 0; item < 30; item++) expect(Math.abs(score(model, refreshed, item) - score(model, stored, item))).toBeLessThan(1e-3);
      const fromIds = model.recommend(user, userItems, { n: 5 });
      const fromFactors = model.recommend(refreshed, liked.items, { n: 5 });
      expect(Array.from(fromFactors.ids)).toEqual(Array.from(fromIds.ids));
    }
  });

  it("partialFitUsers adds a new user as recalculateUser would, and leaves the rest alone", async () => {
    const { model } = await trained();
    const before = Float32Array.from(model.userFactors);
    const liked = [1, 4, 9];
    const expected = model.recalculateUser(liked);
    model.partialFitUsers([40], CsrMatrix.fromCoo({ rows: [0, 0, 0], cols: liked, shape: [1, 30] }));
    expect(model.nUsers).toBe(41);
    expect(model.userFactors.slice(0, before.length)).toEqual(before);
    const added = model.userFactors.subarray(40 * 5, 41 * 5);
    expected.forEach((v, f) => expect(added[f]).toBeCloseTo(v, 5));
    const itemsBefore = Float32Array.from(model.itemFactors);
    model.partialFitItems([30], CsrMatrix.fromCoo({ rows: [0, 0], cols: [2, 40], shape: [1, 41] }));
    expect(model.nItems).toBe(31);
    expect(model.itemFactors.slice(0, itemsBefore.length)).toEqual(itemsBefore);
    expect(() => model.partialFitUsers([1, 2], CsrMatrix.fromCoo({ rows: [0], cols: [0], shape: [1, 31] }))).toThrow(/2 ids but the matrix has 1 rows/);
  });

  it("similarItems and similarUsers rank by cosine, the query first", async () => {
    const { model } = await trained();
    const k = 5, y = Float32Array.from(model.itemFactors); // a copy: queries allocate, which can detach views
    const cosine = (a: number, b: number) => {
      let dot = 0, na = 0, nb = 0;
      for (let f = 0; f < k; f++) { dot += y[a * k + f] * y[b * k + f]; na += y[a * k + f] ** 2; nb += y[b * k + f] ** 2; }
      return dot / Math.sqrt(na * nb);
    };
    const { ids, scores } = model.similarItems(4, { n: 30 });
    expect(ids[0]).toBe(4);
    expect(scores[0]).toBeCloseTo(1, 5);
    ids.forEach((id, j) => expect(scores[j]).toBeCloseTo(cosine(4, id), 5));
    const expectedOrder = Array.from({ length: 30 }, (_, i) => i).sort((a, b) => cosine(4, b) - cosine(4, a));
    expect(Array.from(ids)).toEqual(expectedOrder);
    expect(model.similarUsers(3, { n: 2 }).ids[0]).toBe(3);
    const batch = model.similarItems([4, 5], { n: 3 });
    expect(Array.from(batch.ids[0])).toEqual(Array.from(ids.subarray(0, 3)));
  });

  it("refuses bad queries with clear errors", async () => {
    const { model, userItems } = await trained();
    expect(() => model.recommend(99, userItems)).toThrow(/user id 99 is outside \[0, 40\)/);
    expect(() => model.recommend(1)).toThrow(/pass userItems/);
    expect(() => model.recommend(1, userItems, { n: 0 })).toThrow(/n must be a positive integer/);
    expect(() => model.similarItems(-1)).toThrow(/item id -1 is outside/);
    expect(() => new AlternatingLeastSquares({ factors: 0 })).toThrow(/factors must be an integer ≥ 1/);
    expect(() => new AlternatingLeastSquares({ solver: "lu" as never })).toThrow(/solver must be 'cg' or 'cholesky'/);
    expect(() => new AlternatingLeastSquares().recommend(0, userItems)).toThrow(/not fitted/);
  });
});

describe("tuned iALS (Rendle et al. 2021)", () => {
  it("the documented mapping reproduces Rendle's row solve exactly (scaled by √(1+α₀))", async () => {
    const { writeModelFile } = await import("../src/model-file.js");
    const { seededRandom, solveDense } = await import("./reference.js");
    const k = 6, nItems = 25, alpha0 = 0.3, lambda = 0.007;
    const random = seededRandom(12);
    const itemsRendle = Float64Array.from({ length: nItems * k }, () => random() - 0.5);
    const history = [1, 4, 5, 9, 17, 20];
    // Rendle's project(): (Σ_h y yᵀ + α₀·YᵀY + λ(|h| + α₀·n)·I) x = Σ_h y, written from the paper.
    const lhs = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    const rhs = new Array<number>(k).fill(0);
    for (let i = 0; i < nItems; i++) for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) lhs[a][b] += alpha0 * itemsRendle[i * k + a] * itemsRendle[i * k + b];
    for (const h of history) for (let a = 0; a < k; a++) {
      rhs[a] += itemsRendle[h * k + a];
      for (let b = 0; b < k; b++) lhs[a][b] += itemsRendle[h * k + a] * itemsRendle[h * k + b];
    }
    for (let a = 0; a < k; a++) lhs[a][a] += lambda * (history.length + alpha0 * nItems);
    const expected = solveDense(lhs, rhs);

    const scale = Math.sqrt(1 + alpha0);
    const options = { factors: k, alpha: 1 + alpha0, regularization: lambda * (1 + alpha0), unobservedWeight: alpha0, regularizationExponent: 1 };
    const itemFactors = Float32Array.from(itemsRendle, (v) => v * scale);
    const model = AlternatingLeastSquares.load(writeModelFile({ kind: "als", options, nUsers: 1, nItems, factors: k, userFactors: new Float32Array(k), itemFactors }));
    const folded = model.recalculateUser(history);
    expected.forEach((v, f) => expect(Math.abs(folded[f] - scale * v)).toBeLessThan(1e-4));
  });
});

describe("ALS CG kernel, step by step", () => {
  it("takes exactly cgSteps steps of textbook CG from the warm start (1, 2, 3 and 5 steps against float64 CG)", () => {
    // Few steps leave x far from the solution, so each step's α shows: the last step's,
    // which the kernel forms from pᵀ(G + λI)p + Σ w (y·p)² instead of p·Ap, included.
    const { heap, kernels } = getEngine();
    const k = 8, nOther = 400, n = 60, alpha = 0.9, regularization = 0.2;
    const random = seededRandom(17);
    const y = Float32Array.from({ length: nOther * k }, () => (random() - 0.5) * 0.6);
    const cols = Int32Array.from({ length: n }, (_, j) => j * 6 + Math.floor(random() * 6));
    const values = Float32Array.from({ length: n }, () => (random() < 0.1 ? -2 : 1 + Math.floor(random() * 9)));
    const x0 = Float32Array.from({ length: k }, () => (random() - 0.5) * 0.4);
    const problem = { k, alpha, regularization, unobservedWeight: 1, regularizationExponent: 0, y, nOther, cols, values };
    const { a, b } = referenceRowSystem(problem);
    const exact = referenceRowSolve(problem);
    const chunkRows = kernels.cgChunkRows(k);
    const alloc = (bytes: number) => heap.alloc(bytes);
    const indptr = alloc(8), indices = alloc(n * 4), data = alloc(n * 4), yPtr = alloc(y.length * 4), g = alloc(k * k * 4);
    heap.i32(indptr, 2).set([0, n]); heap.i32(indices, n).set(cols); heap.f32(data, n).set(values); heap.f32(yPtr, y.length).set(y);
    gramOf(getEngine(), yPtr, nOther, k, 1, g);
    const x = alloc(k * 4), gathered = alloc(n * k * 4), weights = alloc(n * 4), coefficients = alloc(chunkRows * 4), work = alloc(3 * k * 4);
    const scale = Math.max(...exact.map(Math.abs));
    for (const cgSteps of [1, 2, 3, 5]) {
      heap.f32(x, k).set(x0);
      kernels.solveRowsCg(0, 1, indptr, indices, data, x, yPtr, k, g, alpha, regularization, 0, 1, nOther, cgSteps, gathered, n, weights, coefficients, work);
      const got = heap.f32(x, k);
      const want = referenceConjugateGradient(a, b, x0, cgSteps);
      want.forEach((v, f) => expect(Math.abs(got[f] - v) / scale, `${cgSteps} steps, factor ${f}`).toBeLessThan(1e-5));
      // The steps are far from done, so a wrong step size would show (and the test could fail).
      const fromExact = Math.max(...want.map((v, f) => Math.abs(v - exact[f]))) / scale;
      if (cgSteps < 5) expect(fromExact).toBeGreaterThan(1e-3);
    }
    for (const ptr of [indptr, indices, data, yPtr, g, x, gathered, weights, coefficients, work]) heap.release(ptr);
  });
});

describe("ALS CG kernel on a row longer than its gather block", () => {
  it("copies the row a chunk at a time with the same bits as gathering it whole, and solves as the float64 reference does", () => {
    // The most popular items have more entries than the kernel gathers at once; those rows
    // are copied a chunk per CG step instead. Call the kernel on one 3,000-entry row twice:
    // with a block that holds it whole, and with the smallest block (several chunks).
    const { heap, kernels } = getEngine();
    const k = 6, nOther = 5000, n = 3000, cgSteps = 12, alpha = 0.7, regularization = 0.1;
    const random = seededRandom(3);
    const y = Float32Array.from({ length: nOther * k }, () => (random() - 0.5) * 0.2);
    const cols = Int32Array.from({ length: n }, (_, j) => Math.floor((j * nOther) / n));
    const values = Float32Array.from({ length: n }, () => (random() < 0.1 ? -1 : 1 + Math.floor(random() * 5)));
    const chunkRows = kernels.cgChunkRows(k);
    expect(n).toBeGreaterThan(2 * chunkRows);
    const alloc = (bytes: number) => heap.alloc(bytes);
    const indptr = alloc(8), indices = alloc(n * 4), data = alloc(n * 4), yPtr = alloc(y.length * 4), g = alloc(k * k * 4);
    heap.i32(indptr, 2).set([0, n]); heap.i32(indices, n).set(cols); heap.f32(data, n).set(values); heap.f32(yPtr, y.length).set(y);
    gramOf(getEngine(), yPtr, nOther, k, 1, g);
    const solve = (gatherCapacity: number) => {
      const x = alloc(k * 4), gathered = alloc(gatherCapacity * k * 4), weights = alloc(n * 4), coefficients = alloc(chunkRows * 4), work = alloc(3 * k * 4);
      heap.f32(x, k).fill(0);
      kernels.solveRowsCg(0, 1, indptr, indices, data, x, yPtr, k, g, alpha, regularization, 0, 1, nOther, cgSteps, gathered, gatherCapacity, weights, coefficients, work);
      const result = heap.f32(x, k).slice();
      for (const p of [x, gathered, weights, coefficients, work]) heap.release(p);
      return result;
    };
    const whole = solve(n), chunked = solve(chunkRows);
    expect(Array.from(chunked)).toEqual(Array.from(whole));
    const expected = referenceRowSolve({ k, alpha, regularization, unobservedWeight: 1, regularizationExponent: 0, y, nOther, cols, values });
    expected.forEach((v, f) => expect(Math.abs(whole[f] - v), `factor ${f}`).toBeLessThan(1e-4));
    for (const p of [indptr, indices, data, yPtr, g]) heap.release(p);
  });
});
