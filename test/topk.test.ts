import { describe, expect, it } from "vitest";
import { AlternatingLeastSquares, CsrMatrix, getEngine } from "../src/index.js";
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

// A model with float factors whose norms spread over two orders of magnitude (as
// popular and rare items do), so pruning by norm bound has work to do.
function spreadModel(nUsers: number, nItems: number, k: number, seed: number) {
  const random = seededRandom(seed);
  const userFactors = Float32Array.from({ length: nUsers * k }, () => random() * 2 - 1);
  const itemFactors = new Float32Array(nItems * k);
  for (let i = 0; i < nItems; i++) {
    const scale = Math.exp(-4 * random());
    for (let f = 0; f < k; f++) itemFactors[i * k + f] = (random() * 2 - 1) * scale;
  }
  const model = AlternatingLeastSquares.load(writeModelFile({ kind: "als", options: { factors: k }, nUsers, nItems, factors: k, userFactors, itemFactors }));
  return { model, userFactors, itemFactors };
}

const rowsOf = (batch: { ids: Int32Array[]; scores: Float32Array[] }) => batch.ids.map((ids, q) => [Array.from(ids), Array.from(batch.scores[q])]);

describe("top-k kernel: blocking, pruning, cosine, threads", () => {
  it("equals float64 brute force for factor counts with a scalar tail (k = 3, 6, 17)", () => {
    for (const k of [3, 6, 17]) {
      const { model, userFactors, itemFactors } = integerModel(13, 90, k, k);
      const users = Array.from({ length: 13 }, (_, u) => u);
      const batch = model.recommend(users, undefined, { n: 12, filterAlreadyLikedItems: false });
      for (const u of users) {
        const expected = bruteForce(userFactors.subarray(u * k, (u + 1) * k), itemFactors, k, () => true, 12);
        expect(Array.from(batch.ids[u])).toEqual(expected.map(([i]) => i));
        expect(Array.from(batch.scores[u])).toEqual(expected.map(([, s]) => s));
      }
    }
  });

  it("the two-pass kernel (16-bit candidates, norm-bound pruning) gives the same bits as scanning every item in float32", () => {
    const k = 24, nItems = 3000;
    const { model, userFactors, itemFactors } = spreadModel(40, nItems, k, 11);
    const users = Array.from({ length: 40 }, (_, u) => u);
    const everyItemInIdOrder = Array.from({ length: nItems }, (_, i) => i); // candidates: no pruning
    for (const n of [1, 10, 100]) {
      const pruned = model.recommend(users, undefined, { n, filterAlreadyLikedItems: false });
      const scanned = model.recommend(users, undefined, { n, filterAlreadyLikedItems: false, items: everyItemInIdOrder });
      expect(rowsOf(pruned)).toEqual(rowsOf(scanned));
      for (const u of [0, 17, 39]) {
        const expected = bruteForce(userFactors.subarray(u * k, (u + 1) * k), itemFactors, k, () => true, n);
        expect(Array.from(pruned.ids[u])).toEqual(expected.map(([i]) => i));
        pruned.scores[u].forEach((score, j) => expect(score).toBeCloseTo(expected[j][1], 4));
      }
    }
  });

  it("stays exact on adversarial factors: near-duplicate rows a few ulps apart, huge dynamic range, negative scores", () => {
    const k = 12, nItems = 500, nUsers = 24;
    const random = seededRandom(77);
    const itemFactors = new Float32Array(nItems * k);
    for (let i = 0; i < nItems; i++) {
      for (let f = 0; f < k; f++) itemFactors[i * k + f] = (random() * 2 - 1) * (f === i % k ? 3e4 : 1e-3);
    }
    // Near-duplicates: item 2j+1 is item 2j with one component nudged by one ulp.
    const bits = new Uint32Array(itemFactors.buffer);
    for (let i = 0; i + 1 < nItems; i += 2) {
      itemFactors.copyWithin((i + 1) * k, i * k, (i + 1) * k);
      bits[(i + 1) * k + (i % k)] += 1;
    }
    const userFactors = Float32Array.from({ length: nUsers * k }, (_, j) => (random() * 2 - 1) * (j % 3 === 0 ? -1e3 : 1e-2));
    const model = AlternatingLeastSquares.load(writeModelFile({ kind: "als", options: { factors: k }, nUsers, nItems, factors: k, userFactors, itemFactors }));
    const users = Array.from({ length: nUsers }, (_, u) => u), items = Array.from({ length: nItems }, (_, i) => i);
    for (const n of [1, 3, 10, 600]) {
      const twoPass = model.recommend(users, undefined, { n, filterAlreadyLikedItems: false });
      const scanned = model.recommend(users, undefined, { n, filterAlreadyLikedItems: false, items });
      expect(rowsOf(twoPass)).toEqual(rowsOf(scanned));
      expect(rowsOf(model.similarItems(items.slice(0, 60), { n }))).toEqual(rowsOf(model.similarItems(items.slice(0, 60), { n, candidates: items })));
    }
  });

  it("stays exact where the axis bound is tight: items and users in one plane, scores crowded at the top", () => {
    // Items on a narrow arc r(cos φ·u + sin φ·w), users in the same plane: across the
    // items' mean axis everything is a multiple of one direction, so the cheap bound
    // q_e t_e + ‖q⊥‖‖t⊥‖ equals the score for every item on the user's side. Near a user's
    // angle the scores are flat (cos φ), and the norms r are shuffled against them, so
    // items found later beat the n-th best so far by tiny margins: a bound even 1e-4 too
    // small drops some of them.
    const k = 16, nItems = 6000, nUsers = 24;
    const random = seededRandom(21);
    const u = Array.from({ length: k }, (_, f) => (f < 8 ? 0.25 : -0.25));
    const w = Array.from({ length: k }, (_, f) => (f % 2 ? 0.25 : -0.25)); // u·w = 0, both unit
    const inPlane = (x: number, y: number) => Array.from({ length: k }, (_, f) => x * u[f] + y * w[f]);
    const itemFactors = new Float32Array(nItems * k);
    for (let i = 0; i < nItems; i++) {
      const phi = 0.3 * (random() * 2 - 1), r = 1 + 1e-3 * random();
      itemFactors.set(inPlane(r * Math.cos(phi), r * Math.sin(phi)), i * k);
    }
    const userFactors = new Float32Array(nUsers * k);
    for (let q = 0; q < nUsers; q++) {
      const phi = 0.3 * (random() * 2 - 1), norm = 0.5 + random();
      userFactors.set(inPlane(norm * Math.cos(phi), norm * Math.sin(phi)), q * k);
    }
    const model = AlternatingLeastSquares.load(writeModelFile({ kind: "als", options: { factors: k }, nUsers, nItems, factors: k, userFactors, itemFactors }));
    const users = Array.from({ length: nUsers }, (_, q) => q), items = Array.from({ length: nItems }, (_, i) => i);
    for (const n of [1, 5, 40]) {
      const twoPass = model.recommend(users, undefined, { n, filterAlreadyLikedItems: false });
      expect(rowsOf(twoPass)).toEqual(rowsOf(model.recommend(users, undefined, { n, filterAlreadyLikedItems: false, items })));
    }
  });

  it("stays exact when targets differ by less than the 16-bit copy resolves (the bound's error terms decide)", async () => {
    // Every item is one direction b plus a nudge of ~1e-4: their scores for a query differ
    // by less than quantizing to 16 bits misjudges them, so only the bound's error terms
    // keep the items that belong in the top n (dropping the query's term fails this).
    const k = 32, nItems = 2500, nUsers = 12;
    const random = seededRandom(5);
    const base = Array.from({ length: k }, () => random() * 2 - 1);
    const itemFactors = Float32Array.from({ length: nItems * k }, (_, j) => base[j % k] + 2e-4 * (random() * 2 - 1));
    const userFactors = Float32Array.from({ length: nUsers * k }, () => random() * 2 - 1);
    const model = AlternatingLeastSquares.load(writeModelFile({ kind: "als", options: { factors: k }, nUsers, nItems, factors: k, userFactors, itemFactors }));
    const users = Array.from({ length: nUsers }, (_, u) => u), items = Array.from({ length: nItems }, (_, i) => i);
    for (const n of [1, 10, 50]) {
      const twoPass = model.recommend(users, undefined, { n, filterAlreadyLikedItems: false });
      expect(rowsOf(twoPass)).toEqual(rowsOf(model.recommend(users, undefined, { n, filterAlreadyLikedItems: false, items })));
      const scanned = model.similarItems(items, { n, candidates: items });
      expect(rowsOf(model.similarItems(items.slice(0, 40), { n }))).toEqual(rowsOf(scanned).slice(0, 40));
      expect(rowsOf(await model.similarItemsAsync(items, { n, threads: 2 }))).toEqual(rowsOf(scanned)); // every item at once
    }
  });

  it("similarItems is cosine: equals float64 brute force, the item itself first", () => {
    const k = 8;
    const { model, itemFactors } = spreadModel(5, 400, k, 4);
    const norm = (i: number) => Math.hypot(...itemFactors.subarray(i * k, (i + 1) * k));
    for (const item of [0, 123, 399]) {
      const got = model.similarItems(item, { n: 10 });
      const expected = Array.from({ length: 400 }, (_, t) => {
        let s = 0;
        for (let f = 0; f < k; f++) s += itemFactors[item * k + f] * itemFactors[t * k + f];
        return [t, s / (norm(item) * norm(t))];
      }).sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 10);
      expect(got.ids[0]).toBe(item);
      expect(Array.from(got.ids)).toEqual(expected.map(([t]) => t));
      got.scores.forEach((score, j) => expect(score).toBeCloseTo(expected[j][1], 5));
    }
  });

  it("similarItems over every item (each pair scored once for both items) gives the same bits as item by item, on 1, 2 and 3 threads", async () => {
    for (const [nItems, k, duplicates] of [[1, 8, false], [2, 5, false], [7, 3, false], [203, 17, true], [1500, 24, false], [1500, 24, true]] as const) {
      const { model, itemFactors } = spreadModel(3, nItems, k, nItems + k);
      if (duplicates) {
        // Exact ties: item 2j+1 is a copy of item 2j, so the smaller id must come first.
        for (let i = 0; i + 1 < nItems; i += 2) itemFactors.copyWithin((i + 1) * k, i * k, (i + 1) * k);
        model.itemFactors.set(itemFactors);
      }
      const everyItem = Array.from({ length: nItems }, (_, i) => (i * 7919) % nItems); // every id once, shuffled
      // n past the item count on the small models only: comparing 1500 rows of 1500 is slow.
      for (const n of nItems > 300 ? [1, 10, 40] : [1, 4, 10, nItems + 3]) {
        const together = model.similarItems(everyItem, { n });
        // Item by item: a batch that leaves one item out, and that item alone.
        const allButLast = model.similarItems(everyItem.slice(0, -1), { n }), last = model.similarItems(everyItem[nItems - 1], { n });
        expect(rowsOf(together)).toEqual([...rowsOf(allButLast), [Array.from(last.ids), Array.from(last.scores)]]);
        for (const threads of [1, 2, 3]) expect(rowsOf(await model.similarItemsAsync(everyItem, { n, threads }))).toEqual(rowsOf(together));
        if (!duplicates) {
          const norm = (i: number) => Math.hypot(...itemFactors.subarray(i * k, (i + 1) * k));
          for (const q of [0, nItems >> 1, nItems - 1]) {
            const item = everyItem[q];
            const expected = Array.from({ length: nItems }, (_, t) => {
              let dot = 0;
              for (let f = 0; f < k; f++) dot += itemFactors[item * k + f] * itemFactors[t * k + f];
              return [t, dot / (norm(item) * norm(t))];
            }).sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, n);
            expect(Array.from(together.ids[q])).toEqual(expected.map(([t]) => t));
          }
        }
      }
      // A full-length list that repeats an id is not "every item": the item-by-item path.
      if (nItems > 2) {
        const repeated = [...everyItem.slice(0, -1), everyItem[0]];
        expect(rowsOf(model.similarItems(repeated, { n: 3 }))[nItems - 1]).toEqual(rowsOf(model.similarItems([everyItem[0]], { n: 3 }))[0]);
      }
    }
  });

  it("onProgress hears the batch grow to its total: recommend, similar items item by item and every item at once, on 1 and 2 threads", async () => {
    const { model } = spreadModel(400, 900, 16, 5);
    const users = Array.from({ length: 400 }, (_, u) => u), items = Array.from({ length: 900 }, (_, i) => i);
    for (const threads of [1, 2]) {
      for (const [what, run, total] of [
        ["recommend", (onProgress: (d: number, t: number) => void) => model.recommendAsync(users, undefined, { n: 5, filterAlreadyLikedItems: false, threads, onProgress }), 400],
        ["similar, some items", (onProgress: (d: number, t: number) => void) => model.similarItemsAsync(items.slice(0, 500), { n: 5, threads, onProgress }), 500],
        ["similar, every item", (onProgress: (d: number, t: number) => void) => model.similarItemsAsync(items, { n: 5, threads, onProgress }), 900],
      ] as const) {
        const heard: [number, number][] = [];
        await run((done, of) => heard.push([done, of]));
        const label = `${what}, ${threads} thread(s)`;
        expect(heard.length, label).toBeGreaterThan(2);
        expect(heard.every(([, of]) => of === total), label).toBe(true);
        expect(heard.every(([done], i) => done >= (i ? heard[i - 1][0] : 0) && done <= total), label).toBe(true);
        expect(heard[heard.length - 1][0], label).toBe(total);
      }
    }
  });

  it("recommendAsync and similarItemsAsync give the same bits on 1, 2 and 4 threads as the synchronous calls", async () => {
    const { model } = spreadModel(150, 700, 16, 21);
    const random = seededRandom(2);
    const rows: number[] = [], cols: number[] = [];
    for (let u = 0; u < 150; u++) for (let i = 0; i < 700; i++) if (random() < 0.03) { rows.push(u); cols.push(i); }
    const userItems = CsrMatrix.fromCoo({ rows, cols, shape: [150, 700] });
    const users = Array.from({ length: 150 }, (_, u) => (u * 37) % 150);
    const items = Array.from({ length: 700 }, (_, i) => i);
    const expectedRecommend = rowsOf(model.recommend(users, userItems, { n: 10, filterItems: [5, 6] }));
    const expectedSimilar = rowsOf(model.similarItems(items, { n: 7 }));
    for (const threads of [1, 2, 4]) {
      expect(rowsOf(await model.recommendAsync(users, userItems, { n: 10, filterItems: [5, 6], threads }))).toEqual(expectedRecommend);
      expect(rowsOf(await model.similarItemsAsync(items, { n: 7, threads }))).toEqual(expectedSimilar);
    }
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

  it("every block starts on a 64-byte cache line, whatever the sizes before it (factor rows span as few lines as they can)", () => {
    const { heap } = getEngine();
    const sizes = [1, 4, 17, 100, 64 * 65 + 4, 12, 3 * 1024 * 1024 + 20];
    const blocks = sizes.map((bytes) => heap.alloc(bytes));
    heap.release(blocks[2]); heap.release(blocks[4]);
    const reused = [heap.alloc(30), heap.alloc(5000), heap.alloc(8)]; // carved from the freed blocks
    for (const ptr of [...blocks, ...reused]) expect(ptr % 64, `block at ${ptr}`).toBe(0);
    for (const ptr of [...blocks.filter((_, i) => i !== 2 && i !== 4), ...reused]) heap.release(ptr);
    const { model } = integerModel(7, 9, 5, 3);
    expect((model as unknown as { itemFactorsPtr: number }).itemFactorsPtr % 64).toBe(0);
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
