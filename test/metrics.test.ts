import { describe, expect, it } from "vitest";
import {
  auc, hitRatioAtK, implicitPrecisionAtK, mapAtK, ndcgAtK, precisionAtK, rankingMetricsAtK, recallAtK,
} from "../src/evaluation/metrics.js";

// Every expected value below is worked by hand in the comments; log2(3) = 1.5849625…,
// log2(4) = 2, log2(6) = 2.5849625…

const all = (ranked: number[], relevant: number[] | Set<number>, k: number) => ({
  precision: precisionAtK(ranked, relevant, k),
  implicitPrecision: implicitPrecisionAtK(ranked, relevant, k),
  recall: recallAtK(ranked, relevant, k),
  map: mapAtK(ranked, relevant, k),
  ndcg: ndcgAtK(ranked, relevant, k),
  hitRatio: hitRatioAtK(ranked, relevant, k),
});

describe("ranking metrics at k", () => {
  it("|test| < k: the two precisions differ", () => {
    // ranked 1 2 3 4 5, held out {2, 5, 9}, k = 5: hits at 0-based places 1 and 4.
    // precision = 2/5 = 0.4; implicit's = 2 / min(5, 3) = 2/3; recall = 2/3.
    // AP: 1/2 (first hit at place 2) + 2/5 (second hit at place 5) = 0.9, / min(5, 3) → 0.3.
    // DCG = 1/log2(3) + 1/log2(6) = 0.6309298 + 0.3868528 = 1.0177826;
    // IDCG (3 hits) = 1 + 1/log2(3) + 1/log2(4) = 2.1309298; NDCG = 1.0177826 / 2.1309298 = 0.4776237.
    const got = all([1, 2, 3, 4, 5], [2, 5, 9], 5);
    expect(got.precision).toBeCloseTo(0.4, 12);
    expect(got.implicitPrecision).toBeCloseTo(2 / 3, 12);
    expect(got.recall).toBeCloseTo(2 / 3, 12);
    expect(got.map).toBeCloseTo(0.3, 12);
    expect(got.ndcg).toBeCloseTo(0.4776237, 6);
    expect(got.ndcg).toBeCloseTo((1 / Math.log2(3) + 1 / Math.log2(6)) / (1 + 1 / Math.log2(3) + 0.5), 12);
    expect(got.hitRatio).toBe(1);
  });

  it("|test| > k: the two precisions agree, recall is hits / |test|", () => {
    // ranked 7 1 8 2, held out {1..6}, k = 3: only item 1 (place 2) counts; item 2 is 4th.
    // precision = 1/3; implicit's = 1 / min(3, 6) = 1/3; recall = 1/6.
    // AP = (1/2) / min(3, 6) = 1/6. DCG = 1/log2(3) = 0.6309298; IDCG (3 hits) = 2.1309298;
    // NDCG = 0.6309298 / 2.1309298 = 0.2960819.
    const got = all([7, 1, 8, 2], [1, 2, 3, 4, 5, 6], 3);
    expect(got.precision).toBeCloseTo(1 / 3, 12);
    expect(got.implicitPrecision).toBeCloseTo(1 / 3, 12);
    expect(got.recall).toBeCloseTo(1 / 6, 12);
    expect(got.map).toBeCloseTo(1 / 6, 12);
    expect(got.ndcg).toBeCloseTo(0.2960819, 6);
    expect(got.hitRatio).toBe(1);
  });

  it("a perfect list scores 1 on everything but classic precision", () => {
    // ranked 4 9 1, held out {9, 4}, k = 3: hits at places 1 and 2, AP = (1/1 + 2/2) / 2 = 1,
    // DCG = IDCG; classic precision = 2/3.
    const got = all([4, 9, 1], new Set([9, 4]), 3);
    expect(got).toEqual({ precision: 2 / 3, implicitPrecision: 1, recall: 1, map: 1, ndcg: 1, hitRatio: 1 });
  });

  it("a list shorter than k counts the missing places as misses", () => {
    // ranked [4], held out {4}, k = 10: precision 1/10, everything else 1.
    expect(all([4], [4], 10)).toEqual({ precision: 0.1, implicitPrecision: 1, recall: 1, map: 1, ndcg: 1, hitRatio: 1 });
  });

  it("no hit scores 0; a repeated item counts once", () => {
    expect(all([1, 2], [3], 2)).toEqual({ precision: 0, implicitPrecision: 0, recall: 0, map: 0, ndcg: 0, hitRatio: 0 });
    // ranked 3 3 5, held out {3, 5}, k = 3: hits at places 1 and 3 (the second 3 is not a hit).
    // AP = (1/1 + 2/3) / 2 = 5/6; DCG = 1 + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3) = 1.6309298.
    const got = all([3, 3, 5], [3, 5], 3);
    expect(got.precision).toBeCloseTo(2 / 3, 12);
    expect(got.map).toBeCloseTo(5 / 6, 12);
    expect(got.ndcg).toBeCloseTo(1.5 / (1 + 1 / Math.log2(3)), 12);
  });

  it("MAP matches implicit's loop on a second case", () => {
    // ranked 5 6 7 8, held out {6, 8}, k = 4: hits at places 2 and 4: AP = (1/2 + 2/4) / 2 = 0.5.
    // DCG = 1/log2(3) + 1/log2(5) = 0.6309298 + 0.4306766 = 1.0616064; IDCG = 1.6309298 → 0.6509209.
    expect(mapAtK([5, 6, 7, 8], [6, 8], 4)).toBeCloseTo(0.5, 12);
    expect(ndcgAtK([5, 6, 7, 8], [6, 8], 4)).toBeCloseTo(0.6509209, 6);
    // The same list cut at k = 2: one hit at place 2, AP = (1/2) / min(2, 2) = 0.25;
    // NDCG = 0.6309298 / 1.6309298 = 0.3868528.
    expect(mapAtK([5, 6, 7, 8], [6, 8], 2)).toBeCloseTo(0.25, 12);
    expect(ndcgAtK([5, 6, 7, 8], [6, 8], 2)).toBeCloseTo(0.3868528, 6);
  });

  it("is NaN without held-out items and refuses a bad k", () => {
    expect(precisionAtK([1, 2], [], 2)).toBeNaN();
    expect(ndcgAtK([1, 2], new Set(), 2)).toBeNaN();
    for (const k of [0, -1, 1.5, NaN]) expect(() => recallAtK([1], [1], k)).toThrow(/k must be a positive integer/);
  });

  it("reports hits and implicit's denominator alongside", () => {
    expect(rankingMetricsAtK([1, 2, 3, 4, 5], [2, 5, 9], 5)).toMatchObject({ hits: 2, idealHits: 3 });
  });
});

describe("auc", () => {
  it("counts correctly ordered (positive, negative) pairs, ties as asked", () => {
    // positives 0.9, 0.5; negatives 0.7, 0.5, 0.1: six pairs. 0.9 beats all three; 0.5 beats
    // 0.1 and ties 0.5. Against: 4/6; half: 4.5/6.
    expect(auc([0.9, 0.5], [0.7, 0.5, 0.1])).toBeCloseTo(4 / 6, 12);
    expect(auc([0.9, 0.5], [0.7, 0.5, 0.1], { ties: "half" })).toBeCloseTo(0.75, 12);
    expect(auc([0.9, 0.5], [0.7, 0.5, 0.1], { ties: "against" })).toBeCloseTo(4 / 6, 12);
  });

  it("gives a constant model 0 with ties against, 0.5 with half", () => {
    expect(auc([1, 1], [1, 1, 1])).toBe(0);
    expect(auc([1, 1], [1, 1, 1], { ties: "half" })).toBe(0.5);
  });

  it("puts NaN scores lowest and is NaN with an empty side", () => {
    // NaN positive (= -Infinity) beats nothing; against a NaN negative, 1 beats it.
    expect(auc([NaN], [0, 1])).toBe(0);
    expect(auc([1], [NaN, 2])).toBe(0.5);
    expect(auc([], [1])).toBeNaN();
    expect(auc([1], [])).toBeNaN();
    expect(() => auc([1], [0], { ties: "random" as never })).toThrow(/ties/);
  });
});
