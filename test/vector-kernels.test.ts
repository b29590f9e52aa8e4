// The dense kernels under ALS's CG solve (assembly/vector.ts) promise fixed summation
// orders, which is what makes models the same bits on every runtime and thread count. Each
// is checked bit for bit against its documented order emulated in float32 (Math.fround),
// and against float64 within rounding, over factor counts that hit every SIMD tail.
import { describe, expect, it } from "vitest";
import { getEngine } from "../src/index.js";
import { seededRandom } from "./reference.js";

const f = Math.fround;
const { heap, kernels } = getEngine();
const FACTOR_COUNTS = [1, 3, 6, 16, 17, 32, 48, 64, 72, 128];
const ROW_COUNTS = [0, 1, 2, 4, 5, 7, 50];

function randomFloats(n: number, random: () => number): Float32Array {
  return Float32Array.from({ length: n }, () => (random() - 0.5) * 4);
}

function withArrays<T>(arrays: Float32Array[], body: (ptrs: number[]) => T): T {
  const ptrs = arrays.map((a) => { const p = heap.alloc(Math.max(a.length, 1) * 4); heap.f32(p, a.length).set(a); return p; });
  try { return body(ptrs); } finally { for (const p of ptrs) heap.release(p); }
}

// dotRows: per row, one 4-lane accumulator over the 4-float chunks in order, lanes
// (0 + 1) + (2 + 3), then the scalar tail.
function dotRowsOrder(a: Float32Array, b: Float32Array, k: number): number {
  const acc = [0, 0, 0, 0];
  let i = 0;
  for (; i + 4 <= k; i += 4) for (let l = 0; l < 4; l++) acc[l] = f(acc[l] + f(a[i + l] * b[i + l]));
  let sum = f(f(acc[0] + acc[1]) + f(acc[2] + acc[3]));
  for (; i < k; i++) sum = f(sum + f(a[i] * b[i]));
  return sum;
}

describe("dense kernels (assembly/vector.ts)", () => {
  it("dotRows: each out[j] is row_j·v in its documented order whatever the row's position among four, bit for bit", () => {
    const random = seededRandom(7);
    for (const k of FACTOR_COUNTS) for (const n of ROW_COUNTS) {
      const rows = randomFloats(n * k, random), v = randomFloats(k, random);
      const out = withArrays([rows, v, new Float32Array(n)], ([r, vp, o]) => { kernels.dotRows(r, n, vp, k, o); return heap.f32(o, n).slice(); });
      for (let j = 0; j < n; j++) {
        const row = rows.subarray(j * k, j * k + k);
        expect(out[j], `k=${k} n=${n} j=${j}`).toBe(dotRowsOrder(row, v, k));
        let exact = 0;
        for (let i = 0; i < k; i++) exact += row[i] * v[i];
        expect(Math.abs(out[j] - exact)).toBeLessThan(1e-5 * k);
      }
    }
  });

  it("accumulateRows: out += Σ c_j row_j, each element in row order (as successive axpy), bit for bit", () => {
    const random = seededRandom(8);
    for (const k of FACTOR_COUNTS) for (const n of ROW_COUNTS) {
      const rows = randomFloats(n * k, random), c = randomFloats(n, random), start = randomFloats(k, random);
      const out = withArrays([c, rows, start], ([cp, r, o]) => { kernels.accumulateRows(cp, r, n, o, k); return heap.f32(o, k).slice(); });
      for (let i = 0; i < k; i++) {
        let sequential = start[i], exact = start[i];
        for (let j = 0; j < n; j++) { sequential = f(sequential + f(c[j] * rows[j * k + i])); exact += c[j] * rows[j * k + i]; }
        expect(out[i], `k=${k} n=${n} i=${i}`).toBe(sequential);
        expect(Math.abs(out[i] - exact)).toBeLessThan(1e-5 * (n + 1));
      }
    }
  });

  it("dotRowsAt and accumulateRowsAt read rows ids[j] of a table in place and give the contiguous kernels' bits on those rows copied out", () => {
    const random = seededRandom(10);
    const TABLE_ROWS = 37;
    for (const k of FACTOR_COUNTS) for (const n of ROW_COUNTS) {
      const table = randomFloats(TABLE_ROWS * k, random), v = randomFloats(k, random), c = randomFloats(n, random), start = randomFloats(k, random);
      // Out of order, with repeats, first and last rows included.
      const ids = Int32Array.from({ length: n }, (_, j) => (j === 0 ? TABLE_ROWS - 1 : j === 1 ? 0 : Math.floor(random() * TABLE_ROWS)));
      const copied = new Float32Array(n * k);
      ids.forEach((id, j) => copied.set(table.subarray(id * k, id * k + k), j * k));
      const idsPtr = heap.alloc(Math.max(n, 1) * 4);
      heap.i32(idsPtr, n).set(ids);
      try {
        const [dotsAt, sumsAt] = withArrays([table, v, new Float32Array(n), c, start.slice()], ([t, vp, o, cp, acc]) => {
          kernels.dotRowsAt(t, idsPtr, n, vp, k, o);
          kernels.accumulateRowsAt(cp, t, idsPtr, n, acc, k);
          return [heap.f32(o, n).slice(), heap.f32(acc, k).slice()];
        });
        const [dots, sums] = withArrays([copied, v, new Float32Array(n), c, start.slice()], ([r, vp, o, cp, acc]) => {
          kernels.dotRows(r, n, vp, k, o);
          kernels.accumulateRows(cp, r, n, acc, k);
          return [heap.f32(o, n).slice(), heap.f32(acc, k).slice()];
        });
        expect(dotsAt, `k=${k} n=${n}`).toEqual(dots);
        expect(sumsAt, `k=${k} n=${n}`).toEqual(sums);
        if (n > 0) expect(dots[0], `k=${k}`).toBe(dotRowsOrder(table.subarray((TABLE_ROWS - 1) * k, TABLE_ROWS * k), v, k));
      } finally {
        heap.release(idsPtr);
      }
    }
  });

  it("symmetricMatVec: out = S·v + shift·v, each out[j] summed over i in order, bit for bit", () => {
    const random = seededRandom(9);
    for (const k of FACTOR_COUNTS) {
      const s = new Float32Array(k * k);
      for (let i = 0; i < k; i++) for (let j = i; j < k; j++) s[i * k + j] = s[j * k + i] = f((random() - 0.5) * 4);
      const v = randomFloats(k, random), shift = f(0.375);
      const out = withArrays([s, v, new Float32Array(k)], ([sp, vp, o]) => { kernels.symmetricMatVec(sp, vp, shift, o, k); return heap.f32(o, k).slice(); });
      for (let j = 0; j < k; j++) {
        let sequential = f(shift * v[j]), exact = shift * v[j];
        for (let i = 0; i < k; i++) { sequential = f(sequential + f(v[i] * s[i * k + j])); exact += v[i] * s[i * k + j]; }
        expect(out[j], `k=${k} j=${j}`).toBe(sequential);
        expect(Math.abs(out[j] - exact)).toBeLessThan(1e-5 * k);
      }
    }
  });
});
