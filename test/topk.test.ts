import { describe, expect, it } from "vitest";
import { AlternatingLeastSquares, CsrMatrix } from "../src/index.js";
import { writeModelFile } from "../src/model-file.js";
import { seededRandom } from "./reference.js";

// A model with chosen factors: small integers, so dot products are exact in float32
// and ties are everywhere.
function integerModel(nUsers: number, nItems: number, k: number, seed: number) {
  const random = seededRandom(seed);
  const draw = (n: number) => Float32Array.from({ length: n }, () => Math.floor(random() * 5) - 2);
  const userFactors = draw(nUsers * k), itemFactors = draw(nItems * k);
  const model = AlternatingLeastSquares.load(writeModelFile({ kind: "als", options: { factors: k }, nUsers, nItems, factors: k, userFactors, itemFactors }));
  return { model, userFactors, itemFactors };
}

// Brute force: every allowed item scored in float64, sorted by score then id.
function bruteForce(user: Float32Array, items: Float32Array, k: number, allowed: (i: number) => boolean, n: number) {
  const scored: [number, number][] = [];
  for (let i = 0; i < items.length / k; i++) {
    if (!allowed(i)) continue;
    let s = 0;
    for (let f = 0; f < k; f++) s += user[f] * items[i * k + f];
    scored.push([i, s]);
  }
  scored.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return scored.slice(0, n);
}

describe("top-k", () => {
  it("equals brute force on random data, ties included, with every filter", () => {
    const nUsers = 60, nItems = 333, k = 4;
    const { model, userFactors, itemFactors } = integerModel(nUsers, nItems, k, 99);
    const random = seededRandom(5);
    const rows: number[] = [], cols: number[] = [];
    for (let u = 0; u < nUsers; u++) for (let i = 0; i < nItems; i++) if (random() < 0.1) { rows.push(u); cols.push(i); }
    const userItems = CsrMatrix.fromCoo({ rows, cols, shape: [nUsers, nItems] });
    const filterItems = [3, 17, 200, 201];
    const candidates = Array.from({ length: 120 }, (_, j) => (j * 7) % nItems);
    for (const n of [1, 10, 57, 400]) {
      const batch = model.recommend(Array.from({ length: nUsers }, (_, u) => u), userItems, { n, filterItems });
      const restricted = model.recommend(Array.from({ length: nUsers }, (_, u) => u), userItems, { n, items: candidates });
      for (let u = 0; u < nUsers; u++) {
        const user = userFactors.subarray(u * k, (u + 1) * k);
        const liked = new Set(userItems.row(u).indices);
        const expected = bruteForce(user, itemFactors, k, (i) => !liked.has(i) && !filterItems.includes(i), n);
        expect(Array.from(batch.ids[u])).toEqual(expected.map(([i]) => i));
        expect(Array.from(batch.scores[u])).toEqual(expected.map(([, s]) => s));
        const inCandidates = new Set(candidates);
        const expectedRestricted = bruteForce(user, itemFactors, k, (i) => !liked.has(i) && inCandidates.has(i), n);
        expect(Array.from(restricted.ids[u])).toEqual(expectedRestricted.map(([i]) => i));
      }
    }
  });

  it("scores a factor vector with its own liked items exactly as the stored user", () => {
    const { model, userFactors } = integerModel(10, 50, 6, 3);
    const liked = [1, 2, 30];
    const userItems = CsrMatrix.fromCoo({ rows: [4, 4, 4], cols: liked, shape: [10, 50] });
    const byId = model.recommend(4, userItems, { n: 50 });
    const byVector = model.recommend(userFactors.slice(24, 30), liked, { n: 50 });
    expect(Array.from(byVector.ids)).toEqual(Array.from(byId.ids));
    expect(byVector.ids.length).toBe(47);
  });
});

describe("wasm memory", () => {
  it("a memory growth leaves no stale view behind", async () => {
    const { model } = integerModel(20, 30, 4, 1);
    const factorsBefore = Float32Array.from(model.itemFactors);
    const recommendedBefore = model.recommend(0, undefined, { n: 5, filterAlreadyLikedItems: false });
    // ~64 MiB of new matrices forces linear memory to grow (and detach the old buffer).
    const big = CsrMatrix.fromCoo({ rows: new Int32Array(4_000_000), cols: new Int32Array(4_000_000), shape: [1, 1] });
    expect(big.get(0, 0)).toBe(4_000_000);
    expect(model.itemFactors).toEqual(factorsBefore);
    const recommendedAfter = model.recommend(0, undefined, { n: 5, filterAlreadyLikedItems: false });
    expect(Array.from(recommendedAfter.ids)).toEqual(Array.from(recommendedBefore.ids));
    big.dispose();
  });
});

describe("recommend with implicit ≥ 0.5's user_items[userids]", () => {
  it("takes one row per queried user as well as the whole matrix", () => {
    const { model } = integerModel(10, 40, 4, 8);
    const full = CsrMatrix.fromCoo({ rows: [2, 2, 5, 5, 5], cols: [1, 7, 3, 9, 30], shape: [10, 40] });
    const perUser = CsrMatrix.fromCoo({ rows: [0, 0, 1, 1, 1], cols: [1, 7, 3, 9, 30], shape: [2, 40] });
    const fromFull = model.recommend([2, 5], full, { n: 40 });
    const fromRows = model.recommend([2, 5], perUser, { n: 40 });
    expect(fromRows.ids.map((r) => Array.from(r))).toEqual(fromFull.ids.map((r) => Array.from(r)));
    expect(fromFull.ids[1].length).toBe(37);
    const single = model.recommend(5, CsrMatrix.fromCoo({ rows: [0, 0, 0], cols: [3, 9, 30], shape: [1, 40] }), { n: 40 });
    expect(Array.from(single.ids)).toEqual(Array.from(fromFull.ids[1]));
  });
});
