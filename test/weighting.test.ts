import { describe, expect, it } from "vitest";
import { bm25Weight, CsrMatrix, tfidfWeight } from "../src/index.js";

describe("weighting", () => {
  // 3 documents × 3 terms, worked by hand from implicit's definitions.
  const dense = [[2, 0, 1], [0, 3, 0], [4, 0, 0]];

  it("bm25Weight follows implicit's formula", () => {
    const K1 = 100, B = 0.8;
    const weighted = bm25Weight(CsrMatrix.fromDense(dense), { K1, B }).toDense();
    // df = [2, 1, 1]; idf = ln 3 − ln(1 + df); row sums 3, 3, 4, mean 10/3.
    const idf = [Math.log(3) - Math.log(3), Math.log(3) - Math.log(2), Math.log(3) - Math.log(2)];
    const norm = [3, 3, 4].map((sum) => 1 - B + (B * sum) / (10 / 3));
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) {
      const v = dense[r][c];
      const expected = v === 0 ? 0 : ((v * (K1 + 1)) / (K1 * norm[r] + v)) * idf[c];
      expect(weighted[r][c]).toBeCloseTo(expected, 6);
    }
  });

  it("tfidfWeight is √value · idf", () => {
    const weighted = tfidfWeight(CsrMatrix.fromDense(dense)).toDense();
    expect(weighted[1][1]).toBeCloseTo(Math.sqrt(3) * (Math.log(3) - Math.log(2)), 6);
    expect(weighted[0][0]).toBeCloseTo(0, 6);
  });
});
