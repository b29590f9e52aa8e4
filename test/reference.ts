// Independent float64 reference maths for the tests: plain loops, no wasm, no SIMD.

/** Solves A x = b (A symmetric positive definite, n×n row-major) by Gaussian elimination with partial pivoting. */
export function solveDense(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = col + 1; r < n; r++) {
      const f = m[r][col] / m[col][col];
      for (let c = col; c <= n; c++) m[r][c] -= f * m[col][c];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let c = r + 1; c < n; c++) s -= m[r][c] * x[c];
    x[r] = s / m[r][r];
  }
  return x;
}

export interface RowProblem {
  /** The other side's factors, rows of k. */
  y: Float32Array;
  nOther: number;
  k: number;
  /** Observed entries of the row: column ids and raw values. */
  cols: ArrayLike<number>;
  values: ArrayLike<number>;
  alpha: number;
  regularization: number;
  unobservedWeight: number;
  regularizationExponent: number;
}

/**
 * The exact ALS row solution written from the paper, not from the kernel:
 * minimise Σ_obs |c|(p − x·y)² + α₀ Σ_unobs (x·y)² + λ_u‖x‖², c = alpha·value,
 * p = [c > 0], λ_u = λ(n_u + α₀·n_other)^ν, by forming every term of the normal equations.
 */
export function referenceRowSolve(p: RowProblem): number[] {
  const { a, b } = referenceRowSystem(p);
  return solveDense(a, b);
}

/** referenceRowSolve's normal equations A x = b (A: k rows of k). */
export function referenceRowSystem(p: RowProblem): { a: number[][]; b: number[] } {
  const { y, nOther, k } = p;
  const observed = new Map<number, number>();
  for (let j = 0; j < p.cols.length; j++) observed.set(p.cols[j], p.alpha * p.values[j]);
  const lambda = p.regularizationExponent === 0 ? p.regularization
    : p.regularization * Math.pow(p.cols.length + p.unobservedWeight * nOther, p.regularizationExponent);
  const a = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (i === j ? lambda : 0)));
  const b = new Array<number>(k).fill(0);
  for (let item = 0; item < nOther; item++) {
    const c = observed.get(item);
    const weight = c === undefined ? p.unobservedWeight : Math.abs(c);
    const preference = c !== undefined && c > 0 ? 1 : 0;
    for (let i = 0; i < k; i++) {
      const yi = y[item * k + i];
      b[i] += weight * preference * yi;
      for (let j = 0; j < k; j++) a[i][j] += weight * yi * y[item * k + j];
    }
  }
  return { a, b };
}

/**
 * `steps` steps of textbook conjugate gradients on A x = b from x0 (Hestenes–Stiefel, as
 * implicit's least_squares_cg runs them: stops early once r·r < 1e-20).
 */
export function referenceConjugateGradient(a: number[][], b: number[], x0: ArrayLike<number>, steps: number): number[] {
  const n = b.length;
  const times = (v: number[]) => a.map((row) => row.reduce((s, aij, j) => s + aij * v[j], 0));
  const dot = (u: number[], v: number[]) => u.reduce((s, ui, i) => s + ui * v[i], 0);
  const x = Array.from(x0);
  const ax = times(x);
  const r = b.map((bi, i) => bi - ax[i]);
  const p = r.slice();
  let rsOld = dot(r, r);
  for (let step = 0; step < steps && rsOld >= 1e-20; step++) {
    const ap = times(p);
    const alpha = rsOld / dot(p, ap);
    for (let i = 0; i < n; i++) { x[i] += alpha * p[i]; r[i] -= alpha * ap[i]; }
    const rsNew = dot(r, r);
    for (let i = 0; i < n; i++) p[i] = r[i] + (rsNew / rsOld) * p[i];
    rsOld = rsNew;
  }
  return x;
}

/** A deterministic generator for test data (mulberry32). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random sparse interactions: each (u, i) present with probability density. */
export function randomInteractions(nUsers: number, nItems: number, density: number, seed: number, valueOf: (r: () => number) => number = (r) => 1 + Math.floor(r() * 20)) {
  const random = seededRandom(seed);
  const rows: number[] = [], cols: number[] = [], values: number[] = [];
  for (let u = 0; u < nUsers; u++) for (let i = 0; i < nItems; i++) {
    if (random() < density) { rows.push(u); cols.push(i); values.push(valueOf(random)); }
  }
  return { rows, cols, values, shape: [nUsers, nItems] as [number, number] };
}

/** implicit's tests/als_test.py 7×6 count matrix. */
export const implicitCounts = [
  [1, 1, 0, 1, 0, 0],
  [0, 1, 1, 1, 0, 0],
  [1, 0, 1, 0, 0, 0],
  [1, 1, 0, 0, 0, 0],
  [0, 0, 1, 1, 0, 1],
  [0, 1, 0, 0, 0, 1],
  [0, 0, 0, 0, 1, 1],
];

/** The first index where two arrays differ (length included), or -1: one check for million-entry arrays. */
export function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
