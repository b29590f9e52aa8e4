import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { datasetStats, formatStats, summarize } from "../src/dataset/stats.js";
import type { Interactions } from "../src/dataset/transforms.js";

const RATINGS = "/work/shared/data/ml-latest-small/ratings.csv";

describe("summarize", () => {
  it("matches pandas' describe (n − 1 std, numpy's linear quartiles)", () => {
    // [1, 2, 3, 4]: mean 2.5; Σ(x − 2.5)² = 5, 5/3 → std 1.290994…;
    // quartiles at positions 0.75, 1.5, 2.25: 1.75, 2.5, 3.25.
    expect(summarize([4, 1, 3, 2])).toEqual({ count: 4, mean: 2.5, std: Math.sqrt(5 / 3), min: 1, q25: 1.75, median: 2.5, q75: 3.25, max: 4 });
    const one = summarize([7]);
    expect(one).toMatchObject({ count: 1, mean: 7, min: 7, q25: 7, median: 7, q75: 7, max: 7 });
    expect(one.std).toBeNaN(); // pandas gives NaN for a single value too
    expect(summarize([]).count).toBe(0);
    expect(summarize([]).mean).toBeNaN();
  });
});

describe("datasetStats", () => {
  // Users u0..u3 with 1, 2, 3, 4 rows (u4 has none); items i0..i3 (i4 has none).
  // u3 rated i0 twice: 5 rows but 4 distinct users for i0.
  const rows = [
    [0, 0, 1],
    [1, 0, 2], [1, 1, 4],
    [2, 0, 1], [2, 1, 1], [2, 2, 5],
    [3, 0, 3], [3, 0, 2], [3, 1, 1], [3, 3, 4],
  ];
  const data: Interactions = {
    user: Int32Array.from(rows, (r) => r[0]), item: Int32Array.from(rows, (r) => r[1]), value: Float32Array.from(rows, (r) => r[2]),
    userKeys: ["u0", "u1", "u2", "u3", "u4"], itemKeys: ["i0", "i1", "i2", "i3", "i4"], itemLabels: ["Zero", "One", "Two", "Three", "Four"],
  };

  it("describes a small hand-worked example", () => {
    const stats = datasetStats(data, { top: 3 });
    expect(stats).toMatchObject({ users: 4, items: 4, interactions: 10, density: 10 / 16, shareOfValueOne: 4 / 10 });
    // i0: u0..u3 (4), i1: u1..u3 (3), then i2 and i3 tie at 1: key order decides.
    expect(stats.topItems).toEqual([{ key: "i0", label: "Zero", users: 4 }, { key: "i1", label: "One", users: 3 }, { key: "i2", label: "Two", users: 1 }]);
    expect(stats.perUserCount).toEqual({ count: 4, mean: 2.5, std: Math.sqrt(5 / 3), min: 1, q25: 1.75, median: 2.5, q75: 3.25, max: 4 });
    // Medians: u0 [1] → 1, u1 [2, 4] → 3, u2 [1, 1, 5] → 1, u3 [1, 2, 3, 4] → 2.5.
    // Sorted [1, 1, 2.5, 3]: mean 1.875; deviations² .765625·2 + .390625 + 1.265625 = 3.1875,
    // /3 → std √1.0625; quartiles at 0.75, 1.5, 2.25: 1, 1.75, 2.625.
    expect(stats.perUserMedianValue).toEqual({ count: 4, mean: 1.875, std: Math.sqrt(1.0625), min: 1, q25: 1, median: 1.75, q75: 2.625, max: 3 });
  });

  it("is the same whatever the row order", () => {
    const order = [9, 3, 0, 7, 1, 8, 5, 2, 6, 4];
    const shuffled: Interactions = { ...data, user: Int32Array.from(order, (r) => data.user[r]), item: Int32Array.from(order, (r) => data.item[r]), value: Float32Array.from(order, (r) => data.value[r]) };
    expect(datasetStats(shuffled, { top: 3 })).toEqual(datasetStats(data, { top: 3 }));
  });

  it("reports nothing to measure on an empty dataset", () => {
    const stats = datasetStats({ user: new Int32Array(0), item: new Int32Array(0), value: new Float32Array(0), userKeys: ["u"], itemKeys: [] });
    expect(stats).toMatchObject({ users: 0, items: 0, interactions: 0, topItems: [] });
    expect(stats.density).toBeNaN();
    expect(stats.perUserCount.count).toBe(0);
    expect(formatStats(stats)).toContain("density            n/a");
  });

  it("formats a report with aligned columns", () => {
    const text = formatStats(datasetStats(data, { top: 3 }));
    expect(text).toBe([
      "users                  4",
      "items                  4",
      "interactions          10",
      "density            62.5%",
      "values equal to 1  40.0%",
      "",
      "                       count  mean   std  min   25%   50%    75%  max",
      "interactions per user      4  2.50  1.29    1  1.75   2.5   3.25    4",
      "median value per user      4  1.88  1.03    1     1  1.75  2.625    3",
      "",
      "top 3 items by users",
      "  #  users  item",
      "  1      4  Zero [i0]",
      "  2      3  One [i1]",
      "  3      1  Two [i2]",
      "",
    ].join("\n"));
  });
});

describe("datasetStats on ml-latest-small", () => {
  const present = existsSync(RATINGS);
  if (!present) console.warn(`skipped: ${RATINGS} is absent`);

  it.runIf(present)("matches figures computed independently with numpy", () => {
    // A tiny CSV split: the file has a header and CRLF lines, and no quoted fields.
    const lines = readFileSync(RATINGS, "utf8").split("\r\n").filter((line) => line.length > 0).slice(1);
    const userIndex = new Map<string, number>(), itemIndex = new Map<string, number>();
    const user = new Int32Array(lines.length), item = new Int32Array(lines.length), value = new Float32Array(lines.length);
    lines.forEach((line, r) => {
      const [u, i, rating] = line.split(",");
      if (!userIndex.has(u)) userIndex.set(u, userIndex.size);
      if (!itemIndex.has(i)) itemIndex.set(i, itemIndex.size);
      user[r] = userIndex.get(u)!; item[r] = itemIndex.get(i)!; value[r] = Number(rating);
    });
    const itemKeys = [...itemIndex.keys()];
    // Titles may be quoted and hold commas, so movies.csv needs a quote-aware match.
    const titles = new Map<string, string>();
    for (const line of readFileSync(join(dirname(RATINGS), "movies.csv"), "utf8").split(/\r?\n/).slice(1)) {
      const match = /^(\d+),(?:"((?:[^"]|"")*)"|([^,]*)),/.exec(line);
      if (match) titles.set(match[1], match[2]?.replace(/""/g, '"') ?? match[3]);
    }
    const data: Interactions = { user, item, value, userKeys: [...userIndex.keys()], itemKeys, itemLabels: itemKeys.map((key) => titles.get(key) ?? key) };

    const stats = datasetStats(data, { top: 5 });
    expect(stats).toMatchObject({ users: 610, items: 9724, interactions: 100836 });
    expect(stats.density).toBeCloseTo(100836 / (610 * 9724), 12);
    // 2,811 ratings of exactly 1.0 (numpy: (ratings == 1).sum()).
    expect(stats.shareOfValueOne).toBeCloseTo(2811 / 100836, 12);

    // numpy 2.4 on this file: counts per user, np.mean, np.std(ddof=1), np.quantile.
    const count = stats.perUserCount;
    expect(count.mean).toBeCloseTo(100836 / 610, 10);
    expect(count.std).toBeCloseTo(269.480584387172, 9);
    expect([count.count, count.min, count.q25, count.median, count.q75, count.max]).toEqual([610, 20, 35, 70.5, 168, 2698]);
    const medians = stats.perUserMedianValue;
    expect(medians.mean).toBeCloseTo(3.7602459016393444, 10);
    expect(medians.std).toBeCloseTo(0.6017195708103136, 10);
    expect([medians.count, medians.min, medians.q25, medians.median, medians.q75, medians.max]).toEqual([610, 0.5, 3.5, 4, 4, 5]);

    expect(stats.topItems).toEqual([
      { key: "356", label: "Forrest Gump (1994)", users: 329 },
      { key: "318", label: "Shawshank Redemption, The (1994)", users: 317 },
      { key: "296", label: "Pulp Fiction (1994)", users: 307 },
      { key: "593", label: "Silence of the Lambs, The (1991)", users: 279 },
      { key: "2571", label: "Matrix, The (1999)", users: 278 },
    ]);
    const text = formatStats(stats);
    expect(text).toContain("interactions       100,836");
    expect(text).toContain("  1    329  Forrest Gump (1994) [356]");
  });
});
