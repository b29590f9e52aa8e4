import { describe, expect, it } from "vitest";
import {
  BM25Recommender, CosineRecommender, CsrMatrix, ItemItemRecommender, PopularityRecommender, TFIDFRecommender,
} from "../src/index.js";
import { randomInteractions } from "./reference.js";

const FLOAT32_MAX = 3.4028234663852886e38;

// ─── implicit's formulas, dense and in float64, written from nearest_neighbours.py ───────
// X: items × users (implicit weights counts.T). idf_u = ln N − ln(1 + df_u), N = items.

function idf(x: number[][]): number[] {
  const n = x.length, users = x[0].length;
  return Array.from({ length: users }, (_, u) => Math.log(n) - Math.log1p(x.filter((row) => row[u] !== 0).length));
}

function normalize(x: number[][]): number[][] {
  return x.map((row) => {
    const norm = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
    return row.map((v) => (norm > 0 ? v / norm : 0));
  });
}

function tfidf(x: number[][]): number[][] {
  const w = idf(x);
  return x.map((row) => row.map((v, u) => (v === 0 ? 0 : Math.sqrt(v) * w[u])));
}

function bm25(x: number[][], K1: number, B: number): number[][] {
  const w = idf(x);
  const sums = x.map((row) => row.reduce((s, v) => s + v, 0));
  const average = sums.reduce((s, v) => s + v, 0) / x.length;
  return x.map((row, i) => {
    const lengthNorm = 1 - B + (B * sums[i]) / average;
    return row.map((v, u) => (v === 0 ? 0 : ((v * (K1 + 1)) / (K1 * lengthNorm + v)) * w[u]));
  });
}

/** S = W·Wᵀ over the pairs of items that share a user (the entries all_pairs_knn can produce); undefined elsewhere. */
function similarityOf(w: number[][], pattern: number[][]): (number | undefined)[][] {
  return w.map((a, i) => w.map((b, j) => {
    if (!pattern[i].some((v, u) => v !== 0 && pattern[j][u] !== 0)) return undefined;
    return a.reduce((s, v, u) => s + v * b[u], 0);
  }));
}

function transpose(x: number[][]): number[][] {
  return x[0].map((_, c) => x.map((row) => row[c]));
}

function dense(m: CsrMatrix): number[][] {
  return m.toDense().map((row) => Array.from(row));
}

/** Checks each row holds a top-K of the reference row: right values, right count, nothing better left out. */
function expectTopK(similarity: CsrMatrix, reference: (number | undefined)[][], K: number): void {
  expect(similarity.shape).toEqual([reference.length, reference.length]);
  for (let i = 0; i < reference.length; i++) {
    const { indices, data } = similarity.row(i);
    const candidates = reference[i].map((s, j) => [j, s] as const).filter(([, s]) => s !== undefined) as [number, number][];
    expect(indices.length).toBe(Math.min(K, candidates.length));
    const kept = new Set(indices);
    let worstKept = Infinity;
    for (let e = 0; e < indices.length; e++) {
      if (e > 0) expect(indices[e]).toBeGreaterThan(indices[e - 1]);
      const s = reference[i][indices[e]];
      expect(s).toBeDefined();
      expect(Math.abs(data[e] - s!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(s!)));
      worstKept = Math.min(worstKept, s!);
    }
    for (const [j, s] of candidates) if (!kept.has(j)) expect(s).toBeLessThanOrEqual(worstKept + 1e-5 * Math.max(1, Math.abs(s)));
  }
}

/** implicit's recommend by brute force: Σ value·S_ij in float64 over the user's row, reached items only, sorted (score desc, id asc). */
function bruteRecommend(similarity: CsrMatrix, liked: { indices: ArrayLike<number>; data: ArrayLike<number> }, n: number, keep: (j: number) => boolean) {
  const scores = new Map<number, number>();
  for (let a = 0; a < liked.indices.length; a++) {
    const row = similarity.row(liked.indices[a]);
    for (let b = 0; b < row.indices.length; b++) scores.set(row.indices[b], (scores.get(row.indices[b]) ?? 0) + liked.data[a] * row.data[b]);
  }
  const ranked = [...scores].map(([j, s]) => [j, Math.fround(s)] as const).filter(([j]) => keep(j))
    .sort((x, y) => y[1] - x[1] || x[0] - y[0]).slice(0, n);
  return { ids: ranked.map(([j]) => j), scores: ranked.map(([, s]) => s) };
}

function checkerboard(size: number): CsrMatrix {
  return CsrMatrix.fromDense(Array.from({ length: size }, (_, u) => Array.from({ length: size }, (_, i) => ((u + i) % 2 === 0 && u !== i ? 1 : 0))));
}

const userItems = CsrMatrix.fromCoo(randomInteractions(25, 18, 0.3, 12, (r) => 1 + Math.floor(r() * 20)));
const counts = transpose(dense(userItems)); // items × users

const models = [
  { name: "ItemItemRecommender (raw)", make: (K: number) => new ItemItemRecommender({ K }), weights: () => counts },
  { name: "CosineRecommender", make: (K: number) => new CosineRecommender({ K }), weights: () => normalize(counts) },
  { name: "TFIDFRecommender", make: (K: number) => new TFIDFRecommender({ K }), weights: () => normalize(tfidf(counts)) },
  { name: "BM25Recommender (K1 100, B 0.8)", make: (K: number) => new BM25Recommender({ K, K1: 100, B: 0.8 }), weights: () => bm25(counts, 100, 0.8) },
  { name: "BM25Recommender (defaults: implicit's K1 1.2, B 0.75)", make: (K: number) => new BM25Recommender({ K }), weights: () => bm25(counts, 1.2, 0.75) },
];

describe.each(models)("$name", ({ make, weights }) => {
  it.each([5, 50])("keeps the top K = %i of a dense float64 W·Wᵀ of implicit's weighting", async (K) => {
    const model = make(K);
    await model.fit(userItems);
    expectTopK(model.similarity!, similarityOf(weights(), counts), K);
    expect(userItems.toDense()).toEqual(CsrMatrix.fromCoo(randomInteractions(25, 18, 0.3, 12, (r) => 1 + Math.floor(r() * 20))).toDense());
  });

  it("recommends what brute force over the similarity matrix gives", async () => {
    const model = make(5);
    await model.fit(userItems);
    const similarity = model.similarity!;
    const users = Array.from({ length: 25 }, (_, u) => u);
    const batch = model.recommend(users, userItems, { n: 6 });
    for (const u of users) {
      const view = userItems.row(u), row = { indices: view.indices.slice(), data: view.data.slice() }; // queries allocate: views may detach
      const liked = new Set(row.indices);
      const want = bruteRecommend(similarity, row, 6, (j) => !liked.has(j));
      const got = model.recommend(u, userItems, { n: 6 });
      expect({ ids: Array.from(got.ids), scores: Array.from(got.scores) }).toEqual(want);
      expect(Array.from(batch.ids[u])).toEqual(want.ids);
      expect(Array.from(batch.scores[u])).toEqual(want.scores);
      // Unfiltered, and with filterItems.
      const all = model.recommend(u, userItems, { n: 50, filterAlreadyLikedItems: false });
      expect(Array.from(all.ids)).toEqual(bruteRecommend(similarity, row, 50, () => true).ids);
      const banned = want.ids.slice(0, 2);
      const filtered = model.recommend(u, userItems, { n: 6, filterItems: banned });
      expect(Array.from(filtered.ids)).toEqual(bruteRecommend(similarity, row, 6, (j) => !liked.has(j) && !banned.includes(j)).ids);
    }
    // implicit's user_items[userids]: one row per user asked for.
    const rows = CsrMatrix.fromDense([dense(userItems)[7], dense(userItems)[3]]);
    const byRow = model.recommend([7, 3], rows, { n: 4 });
    expect(byRow.ids.map((r) => Array.from(r))).toEqual([7, 3].map((u) => Array.from(model.recommend(u, userItems, { n: 4 }).ids)));
  });
});

describe("item-item queries", () => {
  it("CosineRecommender recommends item u to user u on implicit's 50×50 checkerboard (K = 50, as implicit's tests)", async () => {
    const board = checkerboard(50);
    const model = new CosineRecommender({ K: 50 });
    await model.fit(board);
    for (let u = 0; u < 50; u++) {
      const { ids, scores } = model.recommend(u, board, { n: 1 });
      expect(Array.from(ids)).toEqual([u]);
      // 24 liked items of u's parity, each with cosine 23/24 to u.
      expect(scores[0]).toBeCloseTo(23, 4);
      const similar = model.similarItems(u, { n: 3 });
      expect(similar.ids[0]).toBe(u);
      expect(similar.scores[0]).toBeCloseTo(1, 6);
      expect(Array.from(similar.scores.subarray(1))).toEqual([Math.fround(23 / 24), Math.fround(23 / 24)].map((s) => expect.closeTo(s, 6)));
      expect(similar.ids[1] % 2).toBe(u % 2);
    }
  });

  it("similarItems is the item's similarity row, best first, with filter and candidates as implicit", async () => {
    const model = new BM25Recommender({ K: 6, K1: 1.2, B: 0.75 });
    await model.fit(userItems);
    for (let i = 0; i < 18; i++) {
      const row = model.similarity!.row(i);
      const entries = Array.from(row.indices, (j, e) => [j, row.data[e]] as const).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      const got = model.similarItems(i, { n: 4 });
      expect(Array.from(got.ids)).toEqual(entries.slice(0, 4).map(([j]) => j));
      expect(Array.from(got.scores)).toEqual(entries.slice(0, 4).map(([, s]) => s));
      const filtered = model.similarItems(i, { n: 10, filter: [entries[0][0]] });
      expect(Array.from(filtered.ids)).toEqual(entries.slice(1).map(([j]) => j));
      const outside = Array.from({ length: 18 }, (_, j) => j).find((j) => !row.indices.includes(j));
      if (outside !== undefined) {
        const only = model.similarItems(i, { n: 10, candidates: [outside, entries[1][0]] });
        expect(Array.from(only.ids)).toEqual([entries[1][0], outside]);
        expect(only.scores[1]).toBe(-FLOAT32_MAX);
      }
    }
    expect(model.similarItems([2, 5], { n: 2 }).ids.map((r) => Array.from(r))).toEqual([2, 5].map((i) => Array.from(model.similarItems(i, { n: 2 }).ids)));
  });

  it("recommend with items ranks only those, the unreached last with implicit's -FLT_MAX", async () => {
    // Items 0–2 co-occur; item 3 only with itself; user 0 likes 0.
    const matrix = CsrMatrix.fromDense([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]]);
    const model = new CosineRecommender();
    await model.fit(matrix);
    const { ids, scores } = model.recommend(0, matrix, { n: 10, items: [3, 2, 1, 0] });
    // 0 and 1 are liked; 2 is reached through item 1; 3 is not reached.
    expect(Array.from(ids)).toEqual([2, 3]);
    expect(scores[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(scores[1]).toBe(-FLOAT32_MAX);
    expect(Array.from(model.recommend(0, matrix, { n: 10 }).ids)).toEqual([2]);
  });

  it("fits implicit's all_pairs_knn test matrix (tf-idf weighted rows, K = 3)", async () => {
    // implicit tests/knn_test.py: all_pairs_knn(tfidf_weight(counts), 3) against counts·countsᵀ.
    const counts7 = [[5, 1, 0, 9, 0, 0], [0, 2, 1, 1, 0, 0], [7, 0, 3, 0, 0, 0], [1, 8, 0, 0, 0, 0], [0, 0, 4, 4, 0, 0], [0, 3, 0, 0, 0, 2], [0, 0, 0, 0, 6, 0]];
    const w = tfidf(counts7);
    // The base class takes the weighted users × items matrix, i.e. Wᵀ.
    const model = new ItemItemRecommender({ K: 3 });
    await model.fit(CsrMatrix.fromDense(transpose(w)));
    expectTopK(model.similarity!, similarityOf(w, counts7), 3);
  });

  it("save → load keeps the similarity, K and the class; errors are clear", async () => {
    const model = new BM25Recommender({ K: 4, K1: 2, B: 0.5 });
    await model.fit(userItems);
    const bytes = model.save();
    const loaded = ItemItemRecommender.load(bytes);
    expect(loaded).toBeInstanceOf(BM25Recommender);
    expect([loaded.K, (loaded as BM25Recommender).K1, (loaded as BM25Recommender).B]).toEqual([4, 2, 0.5]);
    expect(loaded.similarity!.toDense()).toEqual(model.similarity!.toDense());
    expect(loaded.recommend([0, 1, 2], userItems, { n: 5 })).toEqual(model.recommend([0, 1, 2], userItems, { n: 5 }));
    expect(loaded.save()).toEqual(bytes);
    expect(() => CosineRecommender.load(bytes)).toThrow(/'bm25'/);
    expect(() => new CosineRecommender({ K: 0 })).toThrow(/K must be/);
    expect(() => new CosineRecommender().recommend(0, userItems)).toThrow(/not fitted/);
    expect(() => model.recommend(0, userItems, { n: 0 })).toThrow(/n must be/);
    expect(() => model.recommend(25, userItems)).toThrow(/no row/);
  });

  it("is deterministic: two fits give the same similarity bytes", async () => {
    const a = new TFIDFRecommender({ K: 7 }), b = new TFIDFRecommender({ K: 7 });
    await a.fit(userItems); await b.fit(userItems);
    expect(b.save()).toEqual(a.save());
  });
});

describe("PopularityRecommender", () => {
  // Users' items: u0 {0, 1}, u1 {1, 2}, u2 {1, 3}, u3 {2, 3, 4}. Users per item: 1, 3, 2, 2, 1.
  const matrix = CsrMatrix.fromDense([[1, 1, 0, 0, 0], [0, 5, 1, 0, 0], [0, 1, 0, 2, 0], [0, 0, 1, 1, 1]]);

  it("recommends the most popular unseen items, equal counts to the smaller id", async () => {
    const model = new PopularityRecommender();
    await model.fit(matrix);
    expect(Array.from(model.counts!)).toEqual([1, 3, 2, 2, 1]);
    const u0 = model.recommend(0, matrix, { n: 3 });
    expect(Array.from(u0.ids)).toEqual([2, 3, 4]);
    expect(Array.from(u0.scores)).toEqual([2, 2, 1]);
    expect(Array.from(model.recommend(3, matrix, { n: 5 }).ids)).toEqual([1, 0]);
    expect(Array.from(model.recommend(3, undefined, { n: 3, filterAlreadyLikedItems: false }).ids)).toEqual([1, 2, 3]);
    expect(Array.from(model.recommend(0, matrix, { n: 3, filterItems: [2] }).ids)).toEqual([3, 4]);
    expect(Array.from(model.recommend(0, matrix, { n: 3, items: [4, 0, 3] }).ids)).toEqual([3, 4]);
    const batch = model.recommend([1, 2], matrix, { n: 2 });
    expect(batch.ids.map((r) => Array.from(r))).toEqual([[3, 0], [2, 0]]);
    expect(() => model.recommend(0, undefined)).toThrow(/userItems/);
  });
});
