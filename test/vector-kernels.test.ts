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
const ROW_COUNTS = [0, 1, 2, 5, 50];

function randomFloats(n: number, random: () => number): Float32Array {
  return Float32Array.from({ length: n }, () => (random() - 0.5) * 4);
}

function withArrays<T>(arrays: Float32Array[], body: (ptrs: number[]) => T): T {
  const ptrs = arrays.map((a) => { const p = heap.alloc(Math.max(a.length, 1) * 4); heap.f32(p, a.length).set(a); return p; });
  try { return body(ptrs); } finally { for (const p of ptrs) heap.release(p); }
}

// dot(): four 4-lane accumulators over 16-float blocks, a 4-wide tail into the first,
// (acc0 + acc1) + (acc2 + acc3), lanes (0 + 1) + (2 + 3), then the scalar tail.
function dotInKernelOrder(a: Float32Array, b: Float32Array, k: number): number {
  const acc = [0, 1, 2, 3].map(() => [0, 0, 0, 0]);
  let i = 0;
  for (; i + 16 <= k; i += 16) for (let q = 0; q < 4; q++) for (let l = 0; l < 4; l++) acc[q][l] = f(acc[q][l] + f(a[i + 4 * q + l] * b[i + 4 * q + l]));
  for (; i + 4 <= k; i += 4) for (let l = 0; l < 4; l++) acc[0][l] = f(acc[0][l] + f(a[i + l] * b[i + l]));
  const lane = [0, 1, 2, 3].map((l) => f(f(acc[0][l] + acc[1][l]) + f(acc[2][l] + acc[3][l])));
  let sum = f(f(lane[0] + lane[1]) + f(lane[2] + lane[3]));
  for (; i < k; i++) sum = f(sum + f(a[i] * b[i]));
  return sum;
}

describe("dense kernels (assembly/vector.ts)", () => {
  it("dotRows: each out[j] is row_j·v in dot()'s order, bit for bit", () => {
    const random = seededRandom(7);
    for (const k of FACTOR_COUNTS) for (const n of ROW_COUNTS) {
      const rows = randomFloats(n * k, random), v = randomFloats(k, random);
      const out = withArrays([rows, v, new Float32Array(n)], ([r, vp, o]) => { kernels.dotRows(r, n, vp, k, o); return heap.f32(o, n).slice(); });
      for (let j = 0; j < n; j++) {
        const row = rows.subarray(j * k, j * k + k);
        expect(out[j], `k=${k} n=${n} j=${j}`).toBe(dotInKernelOrder(row, v, k));
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
