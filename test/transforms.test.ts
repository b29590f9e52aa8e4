import "../src/index.js"; // loads the wasm engine that the runtime-independent logs run in
import { existsSync, readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { CsrMatrix } from "../src/csr.js";
import { initEngine } from "../src/engine.js";
import { bm25Weight, tfidfWeight } from "../src/weighting.js";
import {
  compactIds, confidence, kCore, keepValueAtLeast, lowercaseNames, sumDuplicates,
  type Interactions,
} from "../src/dataset/transforms.js";
import { seededRandom } from "./reference.js";

const RATINGS = "/work/shared/data/ml-latest-small/ratings.csv";

/** Builds Interactions from plain rows [user, item, value, timestamp?] and key lists. */
function make(rows: (number | undefined)[][], userKeys: string[], itemKeys: string[], itemLabels?: string[]): Interactions {
  const withTime = rows.some((row) => row[3] !== undefined);
  return {
    user: Int32Array.from(rows, (row) => row[0]!),
    item: Int32Array.from(rows, (row) => row[1]!),
    value: Float32Array.from(rows, (row) => row[2]!),
    ...(withTime && { timestamp: Float64Array.from(rows, (row) => row[3] ?? NaN) }),
    userKeys, itemKeys, ...(itemLabels && { itemLabels }),
  };
}

/** Rows as plain tuples, the easiest form to compare. */
function rowsOf(data: Interactions): number[][] {
  return Array.from(data.user, (u, r) => (data.timestamp ? [u, data.item[r], data.value[r], data.timestamp[r]] : [u, data.item[r], data.value[r]]));
}

/** A deep plain copy, to prove a transform left its input alone. */
function snapshot(data: Interactions): unknown {
  return JSON.parse(JSON.stringify({ ...data, user: [...data.user], item: [...data.item], value: [...data.value], timestamp: data.timestamp && [...data.timestamp] }));
}

function randomData(seed: number, nRows: number, nUsers: number, nItems: number, withTime = true): Interactions {
  const random = seededRandom(seed);
  // Squared draws skew popularity towards low ids, as real data is skewed.
  const pick = (n: number) => Math.floor(random() ** 2 * n);
  const rows = Array.from({ length: nRows }, () => [pick(nUsers), pick(nItems), 1 + Math.floor(random() * 5), withTime ? Math.floor(random() * 1000) : undefined]);
  return make(rows, Array.from({ length: nUsers }, (_, u) => `u${u}`), Array.from({ length: nItems }, (_, i) => `i${i}`));
}

/**
 * The (userK, itemK)-core computed the slow, obvious way (sets of distinct partners,
 * users and items removed alternately until stable): the independent truth for kCore.
 */
function naiveCore(data: Interactions, userK: number, itemK: number): Set<number> {
  let alive = Array.from(data.user, (_, r) => r);
  for (;;) {
    const itemsOf = new Map<number, Set<number>>(), usersOf = new Map<number, Set<number>>();
    for (const r of alive) {
      if (!itemsOf.has(data.user[r])) itemsOf.set(data.user[r], new Set());
      itemsOf.get(data.user[r])!.add(data.item[r]);
      if (!usersOf.has(data.item[r])) usersOf.set(data.item[r], new Set());
      usersOf.get(data.item[r])!.add(data.user[r]);
    }
    const next = alive.filter((r) => itemsOf.get(data.user[r])!.size >= userK && usersOf.get(data.item[r])!.size >= itemK);
    if (next.length === alive.length) return new Set(alive);
    alive = next;
  }
}

function readRatings(): Interactions {
  const lines = readFileSync(RATINGS, "utf8").split("\r\n").filter((line) => line.length > 0).slice(1);
  const userIndex = new Map<string, number>(), itemIndex = new Map<string, number>();
  const rows = lines.map((line) => {
    const [u, i, rating, time] = line.split(",");
    if (!userIndex.has(u)) userIndex.set(u, userIndex.size);
    if (!itemIndex.has(i)) itemIndex.set(i, itemIndex.size);
    return [userIndex.get(u)!, itemIndex.get(i)!, Number(rating), Number(time)];
  });
  return make(rows, [...userIndex.keys()], [...itemIndex.keys()]);
}

describe("lowercaseNames", () => {
  // "Maroon 5" and "maroon 5" are one artist; Alice listened under both spellings.
  const data = make(
    [[0, 0, 3, 10], [0, 2, 2, 20], [1, 2, 1, 5], [1, 1, 4, 7], [2, 0, 6, 1]],
    ["Alice", "Bob", "alice"],
    ["Maroon 5", "Coldplay", "maroon 5"],
    ["Maroon 5 (band)", "Coldplay", "maroon 5"],
  );

  it("merges item keys that differ only in case, remapping their rows", () => {
    const before = snapshot(data);
    const { data: out, report } = lowercaseNames(data);
    expect(out.itemKeys).toEqual(["maroon 5", "coldplay"]);
    expect(out.itemLabels).toEqual(["Maroon 5 (band)", "Coldplay"]); // display names keep their first spelling
    expect(out.userKeys).toEqual(["Alice", "Bob", "alice"]); // users are left alone by default
    expect(rowsOf(out)).toEqual([[0, 0, 3, 10], [0, 0, 2, 20], [1, 0, 1, 5], [1, 1, 4, 7], [2, 0, 6, 1]]);
    expect(report).toMatchObject({ transform: "lowercaseNames", rowsBefore: 5, rowsAfter: 5, removedRows: 0, changedRows: 2 });
    expect(report.detail).toContain("merged 1 item key");
    expect(report.detail).toContain('"maroon 5" + "Maroon 5" → "maroon 5"');
    // Alice's two rows now share the pair (Alice, maroon 5): reported, left to sumDuplicates.
    expect(report.detail).toContain("1 row now repeats an earlier (user, item) pair");
    expect(snapshot(data)).toEqual(before);

    const summed = sumDuplicates(out);
    expect(rowsOf(summed.data)).toEqual([[0, 0, 5, 20], [1, 0, 1, 5], [1, 1, 4, 7], [2, 0, 6, 1]]);
    expect(summed.report).toMatchObject({ rowsBefore: 5, rowsAfter: 4, removedRows: 1, changedRows: 1 });
  });

  it("merges user keys when asked, and both sides at once", () => {
    const { data: out, report } = lowercaseNames(data, { users: true, items: true });
    expect(out.userKeys).toEqual(["alice", "bob"]);
    expect(Array.from(out.user)).toEqual([0, 0, 1, 1, 0]);
    expect(Array.from(out.item)).toEqual([0, 0, 0, 1, 0]);
    // Rows 1 and 2 moved to the first item spelling, row 4 to the first user spelling.
    expect(report.changedRows).toBe(3);
    expect(report.detail).toContain("merged 1 user key");
    // (alice, maroon 5) now appears three times: two rows repeat the first.
    expect(report.detail).toContain("2 rows now repeat");

    const usersOnly = lowercaseNames(data, { users: true, items: false });
    expect(usersOnly.data.itemKeys).toEqual(data.itemKeys);
    expect(usersOnly.data.itemLabels).toEqual(data.itemLabels);
    expect(usersOnly.report.changedRows).toBe(1);
  });

  it("lowercases without merging when nothing collides", () => {
    const plain = make([[0, 0, 1], [0, 1, 1]], ["x"], ["ABBA", "Queen"]);
    const { data: out, report } = lowercaseNames(plain);
    expect(out.itemKeys).toEqual(["abba", "queen"]);
    expect(out.itemLabels).toBeUndefined();
    expect(report.changedRows).toBe(0);
    expect(report.detail).toBe("no item keys collided");
  });
});

describe("keepValueAtLeast", () => {
  it("drops rows below the threshold and NaN values, keeping keys and timestamps", () => {
    const data = make([[0, 0, 1, 1], [0, 1, 3, 2], [1, 0, 2.5, 3], [1, 1, NaN, 4], [2, 1, 5, 5]], ["a", "b", "c"], ["x", "y"]);
    const before = snapshot(data);
    const { data: out, report } = keepValueAtLeast(data, 3);
    expect(rowsOf(out)).toEqual([[0, 1, 3, 2], [2, 1, 5, 5]]);
    expect(out.userKeys).toEqual(["a", "b", "c"]); // b has no rows left, but only compactIds drops keys
    expect(report).toMatchObject({ transform: "keepValueAtLeast", rowsBefore: 5, rowsAfter: 2, removedRows: 3, changedRows: 0 });
    expect(report.detail).toBe("kept rows with value ≥ 3: dropped 3 of 5 (60.0%)");
    expect(snapshot(data)).toEqual(before);
  });

  it("keeps ml-latest-small's 81,763 ratings of 3 or more", () => {
    if (!existsSync(RATINGS)) { console.warn(`skipped: ${RATINGS} is absent`); return; }
    const data = readRatings();
    let atLeast3 = 0;
    for (const line of readFileSync(RATINGS, "utf8").split("\r\n").slice(1)) if (line && Number(line.split(",")[2]) >= 3) atLeast3++;
    expect(atLeast3).toBe(81763);
    expect(keepValueAtLeast(data, 3).report.rowsAfter).toBe(atLeast3);
  });
});

describe("sumDuplicates", () => {
  it("sums repeated pairs at their first position with the latest timestamp", () => {
    const data = make(
      [[0, 1, 1, 5], [1, 0, 2, 1], [0, 1, 2, 9], [0, 1, 0.5, 7], [1, 1, 1, 4], [1, 0, 3, 0]],
      ["a", "b"], ["x", "y"],
    );
    const before = snapshot(data);
    const { data: out, report } = sumDuplicates(data);
    expect(rowsOf(out)).toEqual([[0, 1, 3.5, 9], [1, 0, 5, 1], [1, 1, 1, 4]]);
    expect(report).toMatchObject({ transform: "sumDuplicates", rowsBefore: 6, rowsAfter: 3, removedRows: 3, changedRows: 2 });
    expect(report.detail).toBe("merged 3 repeated rows into 2 (user, item) pairs: values summed, latest timestamp kept");
    expect(snapshot(data)).toEqual(before);
  });

  it("returns an equal copy when no pair repeats, sorted or not", () => {
    for (const rows of [[[0, 0, 1], [0, 1, 2], [1, 0, 3]], [[1, 0, 3], [0, 1, 2], [0, 0, 1]]]) {
      const data = make(rows, ["a", "b"], ["x", "y"]);
      const { data: out, report } = sumDuplicates(data);
      expect(rowsOf(out)).toEqual(rows);
      expect(out.user).not.toBe(data.user);
      expect(out.userKeys).not.toBe(data.userKeys);
      expect(report).toMatchObject({ rowsAfter: 3, removedRows: 0, changedRows: 0, detail: "no (user, item) pair appears twice" });
    }
  });

  it("agrees with a Map-based sum on random rows", () => {
    const data = randomData(3, 5000, 40, 60);
    const expected = new Map<string, [number, number]>();
    for (let r = 0; r < data.user.length; r++) {
      const key = `${data.user[r]},${data.item[r]}`;
      const [sum, latest] = expected.get(key) ?? [0, -Infinity];
      expected.set(key, [sum + data.value[r], Math.max(latest, data.timestamp![r])]);
    }
    const { data: out, report } = sumDuplicates(data);
    // Map iteration follows insertion, i.e. first appearance: the order sumDuplicates keeps.
    expect(rowsOf(out)).toEqual([...expected].map(([key, [sum, latest]]) => [...key.split(",").map(Number), sum, latest]));
    expect(report.removedRows).toBe(5000 - expected.size);
  });
});

describe("kCore", () => {
  // A 2 × 2 core (users 0, 1 × items 0, 1) with a chain hanging off item 1:
  // user 2 — items 1, 2; user 3 — items 2, 3. Item 3 has one user, so it goes first,
  // which leaves user 3 with one item, then item 2, then user 2: four passes.
  const chain = make(
    [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1], [2, 1, 1], [2, 2, 1], [3, 2, 1], [3, 3, 1], [3, 3, 1]],
    ["u0", "u1", "u2", "u3"], ["i0", "i1", "i2", "i3"],
  );

  it("peels a chain over four passes to the 2-core", () => {
    const before = snapshot(chain);
    const { data: out, report } = kCore(chain, 2);
    expect(rowsOf(out)).toEqual([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]]);
    // Item 3's two rows are one user: distinct users, not rows, decide.
    expect(report).toMatchObject({ transform: "kCore", rowsBefore: 9, rowsAfter: 4, removedRows: 5, changedRows: 0, passes: 4, usersRemoved: 2, itemsRemoved: 2 });
    expect(report.detail).toBe("k = 2: stable after 4 passes; removed 2 users and 2 items with 5 rows (55.6%); compactIds drops their keys");
    expect(out.userKeys).toEqual(chain.userKeys);
    expect(snapshot(chain)).toEqual(before);
  });

  it("takes separate user and item thresholds", () => {
    // Items need 3 users: items 0, 2 and 3 go, which leaves users 0, 1 and 2 with item 1
    // alone (< 2) and user 3 with nothing; then item 1 has no rows either. Everyone had
    // rows and has none, so all count as removed.
    expect(kCore(chain, 2, { itemK: 3 }).report).toMatchObject({ rowsAfter: 0, passes: 2, usersRemoved: 4, itemsRemoved: 4 });
    // Users need 1 item, items 2 users: item 3 goes, then nothing else falls.
    expect(kCore(chain, 0, { userK: 1, itemK: 2 }).report).toMatchObject({ rowsAfter: 7, passes: 1, usersRemoved: 0, itemsRemoved: 1 });
    expect(kCore(chain, 1).report).toMatchObject({ rowsAfter: 9, passes: 0, removedRows: 0 });
    expect(() => kCore(chain, 2.5)).toThrow(RangeError);
  });

  it("matches a naive fixpoint on random data with duplicates", () => {
    for (const [seed, userK, itemK] of [[1, 3, 3], [2, 5, 2], [4, 2, 6]]) {
      // Sparse enough that removals cascade (4 to 5 passes).
      const data = randomData(seed, 1500, 300, 300);
      const expected = naiveCore(data, userK, itemK);
      const { data: out, report } = kCore(data, 0, { userK, itemK });
      expect(report.rowsAfter).toBe(expected.size);
      expect(rowsOf(out)).toEqual(rowsOf(data).filter((_, r) => expected.has(r)));
      expect(report.passes).toBeGreaterThanOrEqual(4);
    }
  });

  it("matches the naive fixpoint on ml-latest-small (10-core)", () => {
    if (!existsSync(RATINGS)) { console.warn(`skipped: ${RATINGS} is absent`); return; }
    const data = readRatings();
    const expected = naiveCore(data, 10, 10);
    const { data: out, report } = kCore(data, 10);
    expect(report.rowsAfter).toBe(expected.size);
    expect(rowsOf(out)).toEqual(rowsOf(data).filter((_, r) => expected.has(r)));
    expect(report.removedRows).toBeGreaterThan(0);
  });
});

describe("compactIds", () => {
  it("drops unused keys and renumbers densely in key order", () => {
    const data = make([[2, 3, 1, 1], [0, 1, 2, 2], [2, 1, 3, 3]], ["u0", "u1", "u2"], ["i0", "i1", "i2", "i3"], ["zero", "one", "two", "three"]);
    const before = snapshot(data);
    const { data: out, report } = compactIds(data);
    expect(out.userKeys).toEqual(["u0", "u2"]);
    expect(out.itemKeys).toEqual(["i1", "i3"]);
    expect(out.itemLabels).toEqual(["one", "three"]);
    expect(rowsOf(out)).toEqual([[1, 1, 1, 1], [0, 0, 2, 2], [1, 0, 3, 3]]);
    expect(report).toMatchObject({ transform: "compactIds", rowsBefore: 3, rowsAfter: 3, removedRows: 0, changedRows: 3, usersDropped: 1, itemsDropped: 2 });
    expect(report.detail).toBe("dropped 1 unused user key (2 left) and 2 unused item keys (2 left); 3 rows renumbered");
    expect(snapshot(data)).toEqual(before);
    // Already dense: nothing moves.
    expect(compactIds(out).report).toMatchObject({ changedRows: 0, usersDropped: 0, itemsDropped: 0 });
  });
});

describe("confidence", () => {
  // users u0..u3 (u3 has no rows), items i0..i2 (i2 has no rows). As items × users:
  //   i0: u0 = 2, u1 = 3        row sum 5
  //   i1: u0 = 1, u2 = 5        row sum 6
  //   i2: (empty)               row sum 0   → N = 3 items, mean row sum 11/3
  // (u2, i1) arrives as 2 + 3, to be summed first.
  const data = make([[0, 0, 2], [1, 0, 3], [0, 1, 1], [2, 1, 2], [2, 1, 3]], ["u0", "u1", "u2", "u3"], ["i0", "i1", "i2"]);
  const f32 = (x: number) => expect.closeTo(x, 6);

  it("bm25 is implicit's formula over items × users, worked by hand", () => {
    const before = snapshot(data);
    const { data: out, report } = confidence(data, "bm25");
    // df: u0 2, u1 1, u2 1 → idf = ln 3 − ln 3 = 0, ln 3 − ln 2, ln 3 − ln 2.
    // norm: i0 = 0.2 + 0.8·5/(11/3) = 1.290909…, i1 = 0.2 + 0.8·6/(11/3) = 1.509090…
    const norm0 = 0.2 + (0.8 * 5 * 3) / 11, norm1 = 0.2 + (0.8 * 6 * 3) / 11, idf12 = Math.log(3 / 2);
    expect(rowsOf(out)).toEqual([
      [0, 0, 0], [1, 0, f32(((3 * 101) / (100 * norm0 + 3)) * idf12)],
      [0, 1, 0], [2, 1, f32(((5 * 101) / (100 * norm1 + 5)) * idf12)],
    ]);
    expect(out.value[1]).toBeCloseTo(0.930086, 6); // 303/(129.0909 + 3)·0.405465, on a calculator
    expect(report).toMatchObject({ transform: "confidence", rowsBefore: 5, rowsAfter: 4, removedRows: 1, changedRows: 4 });
    expect(report.detail).toBe("bm25 (K1 = 100, B = 0.8, documents = items, terms = users); summed 1 repeated row into 1 (user, item) pair first; 4 of 4 rows changed value");
    expect(snapshot(data)).toEqual(before);
  });

  it("bm25 over users × items with other K1 and B, worked by hand", () => {
    // users × items: u0 = {i0: 2, i1: 1} sum 3, u1 = {i0: 3} sum 3, u2 = {i1: 5} sum 5,
    // u3 empty → N = 4, mean row sum 11/4. df: i0 2, i1 2 → idf = ln 4 − ln 3.
    const K1 = 1.2, B = 0.75, idf = Math.log(4 / 3);
    const norm = (sum: number) => 1 - B + (B * sum) / (11 / 4);
    const w = (v: number, sum: number) => ((v * (K1 + 1)) / (K1 * norm(sum) + v)) * idf;
    const { data: out } = confidence(data, "bm25", { K1, B, documents: "users" });
    expect(Array.from(out.value)).toEqual([f32(w(2, 3)), f32(w(3, 3)), f32(w(1, 3)), f32(w(5, 5))]);
  });

  it("tfidf is √value · idf", () => {
    const { data: out } = confidence(data, "tfidf");
    expect(Array.from(out.value)).toEqual([0, f32(Math.sqrt(3) * Math.log(1.5)), 0, f32(Math.sqrt(5) * Math.log(1.5))]);
    const byUsers = confidence(data, "tfidf", { documents: "users" }).data;
    expect(Array.from(byUsers.value)).toEqual([2, 3, 1, 5].map((v) => f32(Math.sqrt(v) * Math.log(4 / 3))));
  });

  it("log is 1 + α·ln(1 + value/ε); raw and binary", () => {
    const log = confidence(data, "log", { alpha: 2, epsilon: 0.5 });
    expect(Array.from(log.data.value)).toEqual([2, 3, 1, 5].map((v) => f32(1 + 2 * Math.log(1 + v / 0.5))));
    expect(Array.from(confidence(data, "log").data.value)).toEqual([2, 3, 1, 5].map((v) => f32(1 + Math.log(1 + v))));

    const raw = confidence(data, "raw");
    expect(Array.from(raw.data.value)).toEqual([2, 3, 1, 5]);
    // Only the summed row differs from what came in.
    expect(raw.report).toMatchObject({ rowsAfter: 4, removedRows: 1, changedRows: 1 });

    const binary = confidence(data, "binary");
    expect(Array.from(binary.data.value)).toEqual([1, 1, 1, 1]);
    // (u0, i1) was already 1 and is not counted.
    expect(binary.report.changedRows).toBe(3);
    expect(binary.report.detail).toBe("binary (every value set to 1); summed 1 repeated row into 1 (user, item) pair first; 3 of 4 rows changed value");
  });

  it("rejects what it cannot weight", () => {
    expect(() => confidence(data, "bogus" as never)).toThrow(/unknown scheme bogus/);
    const negative = make([[0, 0, -1]], ["u"], ["i"]);
    expect(() => confidence(negative, "log")).toThrow(/log needs value > −epsilon/);
    expect(confidence(negative, "log", { epsilon: 2 }).data.value[0]).toBeCloseTo(1 + Math.log(0.5), 6);
    expect(() => confidence(negative, "tfidf")).toThrow(/tfidf takes √value/);
    expect(() => confidence(data, "log", { epsilon: 0 })).toThrow(RangeError);
  });

  describe("agrees with the CSR weighting functions", () => {
    beforeAll(async () => { await initEngine(); });

    it("bm25 and tfidf on random data with duplicates and empty keys", () => {
      const data = randomData(9, 6000, 120, 90, false);
      const shape = [data.userKeys.length, data.itemKeys.length] as const;
      const userItems = CsrMatrix.fromCoo({ rows: data.user, cols: data.item, values: data.value, shape });
      const itemUsers = userItems.transpose();
      const cases = [
        { out: confidence(data, "bm25").data, matrix: bm25Weight(itemUsers), itemsAreRows: true },
        { out: confidence(data, "tfidf").data, matrix: tfidfWeight(itemUsers), itemsAreRows: true },
        { out: confidence(data, "bm25", { K1: 3, B: 0.5, documents: "users" }).data, matrix: bm25Weight(userItems, { K1: 3, B: 0.5 }), itemsAreRows: false },
      ];
      for (const { out, matrix, itemsAreRows } of cases) {
        expect(out.user.length).toBe(userItems.nnz);
        for (let r = 0; r < out.user.length; r++) {
          const expected = itemsAreRows ? matrix.get(out.item[r], out.user[r]) : matrix.get(out.user[r], out.item[r]);
          expect(Math.abs(out.value[r] - expected)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected)));
        }
      }
    });
  });
});

describe("every transform", () => {
  it("rejects columns of different lengths and indices outside the keys", () => {
    const good = make([[0, 0, 1]], ["u"], ["i"]);
    const short = { ...good, value: new Float32Array(0) };
    const outside = { ...good, item: Int32Array.of(1) };
    const negative = { ...good, user: Int32Array.of(-1) };
    for (const transform of [(d: Interactions) => sumDuplicates(d), (d: Interactions) => compactIds(d), (d: Interactions) => kCore(d, 2), (d: Interactions) => confidence(d, "raw")]) {
      expect(() => transform(short)).toThrow(/columns differ in length/);
      expect(() => transform(outside)).toThrow(/row 0 has user 0 and item 1, but there are 1 user keys and 1 item keys/);
      expect(() => transform(negative)).toThrow(RangeError);
    }
  });

  it("handles an empty dataset", () => {
    const empty = make([], ["u"], ["i"]);
    expect(sumDuplicates(empty).report.rowsAfter).toBe(0);
    expect(kCore(empty, 5).report).toMatchObject({ rowsAfter: 0, passes: 0 });
    expect(compactIds(empty).data.userKeys).toEqual([]);
    expect(confidence(empty, "bm25").data.value.length).toBe(0);
    expect(keepValueAtLeast(empty, 3).report.detail).toBe("kept rows with value ≥ 3: dropped 0 of 0 (0%)");
  });
});
