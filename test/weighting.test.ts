import { describe, expect, it } from "vitest";
import { bm25Weight, CsrMatrix, defaultWasmUrl, getEngine, initEngine, tfidfWeight } from "../src/index.js";
import { bm25Values } from "../src/weighting.js";

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

  it("refuses a weight that is not a finite number, naming row, col and value, and writes nothing", () => {
    // B = 0 makes every norm 1, so value −1 meets K1·1 + value = 0 with K1 = 1.
    const matrix = CsrMatrix.fromDense([[3, 0, 2], [0, 5, 0], [-1, 0, 4]]);
    expect(() => bm25Weight(matrix, { K1: 1, B: 0, inPlace: true })).toThrow(/bm25Weight: row 2, col 0: weight .* of value -1 is not a finite number/);
    expect(Array.from(matrix.data)).toEqual([3, 2, 5, -1, 4]);
    matrix.dispose();
  });

  // Last in the file: it switches to an engine over a plain (unshared) memory, the one whose
  // growth detaches every view taken before it (a shared memory's old views stay readable).
  it("weights a large copy right when copying it grows the wasm memory, and leaves the original alone", async () => {
    const engine = await initEngine(defaultWasmUrl(false), { shared: false });
    // 5,000 documents × 400 terms, every cell set: the copy needs 16 MB the heap does not have.
    const nDocs = 5000, nTerms = 400, n = nDocs * nTerms;
    const rows = Int32Array.from({ length: n }, (_, e) => Math.floor(e / nTerms));
    const cols = Int32Array.from({ length: n }, (_, e) => e % nTerms);
    const values = Float32Array.from({ length: n }, (_, e) => 1 + ((e * 7919) % 13));
    const matrix = CsrMatrix.fromCoo({ rows, cols, values, shape: [nDocs, nTerms] });
    const heap = engine.heap;
    const before = heap.bytesReserved;
    const weighted = bm25Weight(matrix, { K1: 3, B: 0.5 });
    expect(heap.bytesReserved).toBeGreaterThan(before);
    // Counted, not diffed: a diff of 2M numbers would take minutes to print.
    const expected = bm25Values(rows, cols, values, nDocs, nTerms, 3, 0.5);
    const got = weighted.data, original = matrix.data;
    let wrong = 0, changed = 0;
    for (let e = 0; e < n; e++) { if (got[e] !== expected[e]) wrong++; if (original[e] !== values[e]) changed++; }
    expect({ wrong, changed }).toEqual({ wrong: 0, changed: 0 });
    weighted.dispose(); matrix.dispose();
  });

  // Still on the plain memory: bm25Weight's own per-row and per-column arrays (4M rows: 32 MB)
  // grow it, which detaches every view of the matrix taken before.
  it("weights in place right when its own scratch grows the wasm memory", () => {
    const heap = getEngine().heap;
    const nDocs = 4_000_000, nTerms = 3;
    const rows = Int32Array.from([0, 0, 5, 1_000_000, 3_999_999]), cols = Int32Array.from([0, 2, 1, 0, 2]), values = Float32Array.from([2, 1, 4, 3, 7]);
    const matrix = CsrMatrix.fromCoo({ rows, cols, values, shape: [nDocs, nTerms] });
    const before = heap.bytesReserved;
    bm25Weight(matrix, { K1: 3, B: 0.5, inPlace: true });
    expect(heap.bytesReserved).toBeGreaterThan(before);
    expect(Array.from(matrix.data)).toEqual(Array.from(bm25Values(rows, cols, values, nDocs, nTerms, 3, 0.5)));
    matrix.dispose();
  });
});
