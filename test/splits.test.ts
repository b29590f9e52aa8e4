import { describe, expect, it } from "vitest";
import type { Interactions } from "../src/dataset/transforms.js";
import { SeededRandom, splitChronological, splitLeaveKOut, splitRandom, type Split } from "../src/evaluation/splits.js";
import { seededRandom } from "./reference.js";

// 60 users × 40 items, each pair present with probability 0.3, integer timestamps with
// many ties, and 25 extra rows repeating earlier pairs (other values, other timestamps).
function dataset(): Interactions {
  const random = seededRandom(7);
  const user: number[] = [], item: number[] = [], value: number[] = [], timestamp: number[] = [];
  for (let u = 0; u < 60; u++) for (let i = 0; i < 40; i++) {
    if (random() < 0.3 + (u % 7 === 0 ? -0.27 : 0)) { user.push(u); item.push(i); value.push(1 + Math.floor(random() * 5)); timestamp.push(Math.floor(random() * 50)); }
  }
  const n = user.length;
  for (let d = 0; d < 25; d++) {
    const r = Math.floor(random() * n);
    user.push(user[r]); item.push(item[r]); value.push(1); timestamp.push(Math.floor(random() * 60));
  }
  return {
    user: Int32Array.from(user), item: Int32Array.from(item), value: Float32Array.from(value), timestamp: Float64Array.from(timestamp),
    userKeys: Array.from({ length: 62 }, (_, u) => `u${u}`), itemKeys: Array.from({ length: 40 }, (_, i) => `i${i}`),
  };
}

const pairKey = (data: Interactions, r: number) => data.user[r] * 1000 + data.item[r];

/** Summed value and latest timestamp of every distinct pair of the input. */
function pairsOf(data: Interactions): Map<number, { value: number; timestamp: number }> {
  const pairs = new Map<number, { value: number; timestamp: number }>();
  for (let r = 0; r < data.user.length; r++) {
    const key = pairKey(data, r), seen = pairs.get(key), t = data.timestamp ? data.timestamp[r] : NaN;
    if (seen) { seen.value += data.value[r]; seen.timestamp = Math.max(seen.timestamp, t); } else pairs.set(key, { value: data.value[r], timestamp: t });
  }
  return pairs;
}

/** Train and test partition the input's distinct pairs, keep values and keys, and agree with the report. */
function checkPartition(data: Interactions, split: Split): void {
  const { train, test, report } = split;
  const expected = pairsOf(data);
  const seen = new Map<number, "train" | "test">();
  for (const [side, part] of [["train", train], ["test", test]] as const) {
    for (let r = 0; r < part.user.length; r++) {
      const key = pairKey(part, r);
      // No pair twice, so no held-out pair is left in train.
      expect(seen.has(key), `pair ${key} appears twice`).toBe(false);
      seen.set(key, side);
      const want = expected.get(key)!;
      expect(want).toBeDefined();
      expect(part.value[r]).toBe(want.value);
      expect(part.timestamp![r]).toBe(want.timestamp);
    }
  }
  expect(seen.size).toBe(expected.size);
  expect(train.userKeys).toBe(test.userKeys);
  expect(train.itemKeys).toBe(test.itemKeys);
  expect(train.userKeys).toEqual(data.userKeys);
  expect(train.itemKeys).toEqual(data.itemKeys);
  expect(report.rowsBefore).toBe(data.user.length);
  expect(report.duplicateRowsMerged).toBe(data.user.length - expected.size);
  expect([report.trainRows, report.testRows]).toEqual([train.user.length, test.user.length]);
  expect(report.usersWithTest).toBe(new Set(test.user).size);
}

function perUser(part: Interactions, nUsers: number): number[] {
  const counts = new Array<number>(nUsers).fill(0);
  for (const u of part.user) counts[u]++;
  return counts;
}

const sameSplit = (a: Split, b: Split) => Array.from(a.test.user).join() === Array.from(b.test.user).join() && Array.from(a.test.item).join() === Array.from(b.test.item).join();

describe("SeededRandom", () => {
  it("is xoshiro128**: the reference sequence from state (1, 2, 3, 4)", () => {
    const random = new SeededRandom(0) as unknown as { s0: number; s1: number; s2: number; s3: number; nextUint32(): number };
    Object.assign(random, { s0: 1, s1: 2, s2: 3, s3: 4 });
    // Blackman and Vigna's xoshiro128starstar.c from that state: 11520, 0, 5927040, 70819200.
    expect([random.nextUint32(), random.nextUint32(), random.nextUint32(), random.nextUint32()]).toEqual([11520, 0, 5927040, 70819200]);
  });

  it("draws the same golden sequence on every runtime, and unbiased bounded integers", () => {
    const random = new SeededRandom(42);
    const first = [random.nextUint32(), random.nextUint32(), random.nextUint32()];
    expect(first).toEqual(GOLDEN_42);
    expect(new SeededRandom(42).nextUint32()).toBe(GOLDEN_42[0]);
    expect(new SeededRandom(43).nextUint32()).not.toBe(GOLDEN_42[0]);
    expect(new SeededRandom(42 + 2 ** 32).nextUint32()).not.toBe(GOLDEN_42[0]); // the high half counts
    const counts = [0, 0, 0];
    const r = new SeededRandom(1);
    for (let j = 0; j < 30000; j++) counts[r.below(3)]++;
    // Each count is Binomial(30000, 1/3): sd 81.6; 5 sd = 408.
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(408);
    const big = new SeededRandom(2);
    for (let j = 0; j < 100; j++) { const x = big.below(2 ** 40 + 3); expect(Number.isInteger(x) && x >= 0 && x < 2 ** 40 + 3).toBe(true); }
    expect(() => new SeededRandom(1.5)).toThrow(/seed/);
    expect(() => r.below(0)).toThrow(RangeError);
  });
});

// Drawn once by this implementation; the test guards that Node, Bun and Deno agree.
const GOLDEN_42 = [1874330980, 2143255774, 4055375598];
const GOLDEN_LEAVE_ONE_OUT = [55, 3204918481];

describe("splitRandom", () => {
  const data = dataset();
  const pairs = pairsOf(data).size;

  it("holds out an exact share of the distinct pairs, reproducibly", () => {
    const split = splitRandom(data, { trainFraction: 0.8, seed: 3 });
    checkPartition(data, split);
    expect(split.train.user.length).toBe(Math.round(0.8 * pairs));
    expect(split.report.usersTooFew).toBe(0);
    expect(sameSplit(split, splitRandom(data, { trainFraction: 0.8, seed: 3 }))).toBe(true);
    expect(sameSplit(split, splitRandom(data, { trainFraction: 0.8, seed: 4 }))).toBe(false);
    expect(split.report.detail).toContain("25 repeated (user, item) rows summed");
  });

  it("per user: each user's train share within one row of the fraction", () => {
    const split = splitRandom(data, { trainFraction: 0.7, seed: 5, perUser: true });
    checkPartition(data, split);
    const train = perUser(split.train, 62), test = perUser(split.test, 62);
    for (let u = 0; u < 62; u++) {
      const n = train[u] + test[u];
      expect(Math.abs(train[u] - 0.7 * n)).toBeLessThanOrEqual(0.5);
    }
  });

  it("handles the extremes and refuses bad fractions", () => {
    expect(splitRandom(data, { trainFraction: 1 }).test.user.length).toBe(0);
    expect(splitRandom(data, { trainFraction: 0 }).train.user.length).toBe(0);
    for (const f of [-0.1, 1.1, NaN]) expect(() => splitRandom(data, { trainFraction: f })).toThrow(/trainFraction/);
    expect(() => splitRandom(data, { seed: 0.5 })).toThrow(/seed/);
  });
});

describe("splitLeaveKOut", () => {
  const data = dataset();

  it("holds out k pairs of every user with at least k + minTrain, and keeps the rest whole", () => {
    for (const [k, minTrain] of [[1, 1], [2, 3]]) {
      const split = splitLeaveKOut(data, { k, minTrain, seed: 11 });
      checkPartition(data, split);
      const train = perUser(split.train, 62), test = perUser(split.test, 62);
      let tooFew = 0;
      for (let u = 0; u < 62; u++) {
        const n = train[u] + test[u];
        if (n === 0) continue;
        if (n < k + minTrain) { expect(test[u]).toBe(0); tooFew++; } else expect(test[u]).toBe(k);
      }
      expect(tooFew).toBeGreaterThan(0); // users u % 7 == 0 have few pairs
      expect(split.report.usersTooFew).toBe(tooFew);
      expect(split.report.detail).toContain(`${tooFew} users with too few pairs kept entirely in train`);
    }
  });

  it("the same seed gives the same split, another seed another, on every runtime", () => {
    const a = splitLeaveKOut(data, { seed: 1 });
    // FNV-1a over the held-out (user, item) pairs, recorded once: Node, Bun and Deno agree.
    let hash = 0x811c9dc5;
    a.test.user.forEach((u, r) => { for (const x of [u, a.test.item[r]]) hash = Math.imul(hash ^ x, 0x01000193) >>> 0; });
    expect([a.test.user.length, hash]).toEqual(GOLDEN_LEAVE_ONE_OUT);
    expect(sameSplit(a, splitLeaveKOut(data, { seed: 1 }))).toBe(true);
    expect(sameSplit(a, splitLeaveKOut(data, { seed: 2 }))).toBe(false);
    expect(() => splitLeaveKOut(data, { k: 0 })).toThrow(/k 0/);
  });
});

describe("splitChronological", () => {
  const data = dataset();

  it("holds out each user's latest pairs: no test timestamp before a train timestamp", () => {
    for (const options of [{ lastK: 1 }, { lastK: 3 }, { lastFraction: 0.25 }, {}]) {
      const split = splitChronological(data, options);
      checkPartition(data, split);
      const latestTrain = new Array<number>(62).fill(-Infinity), earliestTest = new Array<number>(62).fill(Infinity);
      split.train.user.forEach((u, r) => { latestTrain[u] = Math.max(latestTrain[u], split.train.timestamp![r]); });
      split.test.user.forEach((u, r) => { earliestTest[u] = Math.min(earliestTest[u], split.test.timestamp![r]); });
      for (let u = 0; u < 62; u++) expect(earliestTest[u]).toBeGreaterThanOrEqual(latestTrain[u]);
      const train = perUser(split.train, 62), test = perUser(split.test, 62);
      for (let u = 0; u < 62; u++) {
        const n = train[u] + test[u];
        if (n === 0 || test[u] === 0) continue;
        if ("lastFraction" in options) expect(Math.abs(test[u] - 0.25 * n)).toBeLessThanOrEqual(1);
        else expect(test[u]).toBe(options.lastK ?? 1);
      }
    }
  });

  it("breaks timestamp ties by row order, and dates a repeated pair by its latest row", () => {
    // u0: a@5, b@5, c@3 → the latest is b (the later row among the 5s), then a.
    // u1: d@1, e@5, d@10 → d is one pair (values 1 + 4), dated 10: it is u1's latest.
    const data: Interactions = {
      user: Int32Array.of(0, 0, 0, 1, 1, 1), item: Int32Array.of(0, 1, 2, 3, 4, 3), value: Float32Array.of(1, 1, 1, 1, 1, 4),
      timestamp: Float64Array.of(5, 5, 3, 1, 5, 10), userKeys: ["u0", "u1"], itemKeys: ["a", "b", "c", "d", "e"],
    };
    const one = splitChronological(data, { lastK: 1 });
    expect(Array.from(one.test.item)).toEqual([1, 3]);
    expect(Array.from(one.test.value)).toEqual([1, 5]);
    expect(Array.from(one.test.timestamp!)).toEqual([5, 10]);
    expect(one.report.duplicateRowsMerged).toBe(1);
    const two = splitChronological(data, { lastK: 2 });
    // u0 keeps c in train; u1 has only 2 pairs and minTrain 1: kept whole.
    expect(Array.from(two.test.item)).toEqual([0, 1]);
    expect(two.report.usersTooFew).toBe(1);
    // Reversing row order flips which of the tied pairs is the latest.
    const reversed: Interactions = { ...data, user: Int32Array.of(0, 0, 0), item: Int32Array.of(1, 0, 2), value: Float32Array.of(1, 1, 1), timestamp: Float64Array.of(5, 5, 3) };
    expect(Array.from(splitChronological(reversed, { lastK: 1 }).test.item)).toEqual([0]);
  });

  it("counts users whose fraction rounds to nothing as kept in train", () => {
    // 3 pairs × 0.1 = 0.3 → 0 held out.
    const data: Interactions = {
      user: Int32Array.of(0, 0, 0), item: Int32Array.of(0, 1, 2), value: Float32Array.of(1, 1, 1), timestamp: Float64Array.of(1, 2, 3),
      userKeys: ["u"], itemKeys: ["a", "b", "c"],
    };
    const split = splitChronological(data, { lastFraction: 0.1 });
    expect(split.test.user.length).toBe(0);
    expect(split.report.usersTooFew).toBe(1);
    expect(splitChronological(data, { lastFraction: 0.5 }).test.item).toEqual(Int32Array.of(1, 2)); // round(1.5) = 2
  });

  it("refuses data without timestamps, missing timestamps and contradictory options", () => {
    const { timestamp: _, ...untimed } = dataset();
    expect(() => splitChronological(untimed)).toThrow(/no timestamp column/);
    const data = dataset();
    data.timestamp![4] = NaN;
    expect(() => splitChronological(data)).toThrow(/has no timestamp/);
    expect(() => splitChronological(dataset(), { lastK: 1, lastFraction: 0.1 })).toThrow(/not both/);
    expect(() => splitChronological(dataset(), { lastFraction: 0 })).toThrow(/lastFraction/);
  });
});
