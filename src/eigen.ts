// Eigen-decomposition of a small symmetric matrix (ALS's k×k Gram matrix), in float64 on
// the calling thread. Householder reduction to tridiagonal form, then implicit symmetric
// QR steps with Wilkinson shifts (Golub & Van Loan, Matrix Computations, §8.3). It uses
// only +, −, ×, ÷ and sqrt, which IEEE 754 rounds the same everywhere, so every runtime
// gets the same bits.

/** a = Q·diag(values)·Qᵀ with Q orthogonal: eigenvector j is column j of `vectors` (row-major n×n). */
export interface SymmetricEigen { values: Float64Array; vectors: Float64Array }

/**
 * The eigenvalues and eigenvectors of the symmetric n×n matrix `a` (row-major; only its
 * lower triangle is read, and `a` is left as it was). Eigenvalues come in no particular
 * order.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): SymmetricEigen {
  if (a.length < n * n) throw new RangeError(`symmetricEigen: ${a.length} numbers for a ${n}×${n} matrix`);
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) t[i * n + j] = t[j * n + i] = a[i * n + j];
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const d = new Float64Array(n), e = new Float64Array(Math.max(n - 1, 0));
  tridiagonalize(t, q, d, e, n);
  diagonalizeTridiagonal(d, e, q, n);
  return { values: d, vectors: q };
}

// t ← Hᵀ t H for Householder reflections H = I − β v vᵀ that zero each column below its
// subdiagonal, q ← q H, so that the input equals q·T·qᵀ with T tridiagonal (d, e).
function tridiagonalize(t: Float64Array, q: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  const v = new Float64Array(n), p = new Float64Array(n);
  for (let j = 0; j + 2 < n; j++) {
    // x = t[j+1.., j]; v = x − α e₁ with α = −sign(x₀)‖x‖ (no cancellation in v₀).
    let norm2 = 0;
    for (let i = j + 1; i < n; i++) norm2 += t[i * n + j] * t[i * n + j];
    if (norm2 === 0) continue;
    const x0 = t[(j + 1) * n + j];
    const alpha = x0 > 0 ? -Math.sqrt(norm2) : Math.sqrt(norm2);
    let vv = 0;
    for (let i = j + 1; i < n; i++) { v[i] = t[i * n + j]; }
    v[j + 1] -= alpha;
    for (let i = j + 1; i < n; i++) vv += v[i] * v[i];
    if (vv === 0) continue;
    const beta = 2 / vv;
    // Column and row j: H x = α e₁.
    t[(j + 1) * n + j] = t[j * n + j + 1] = alpha;
    for (let i = j + 2; i < n; i++) t[i * n + j] = t[j * n + i] = 0;
    // Trailing block S ← H S H = S − v wᵀ − w vᵀ with p = β S v, w = p − (β pᵀv / 2) v.
    let pv = 0;
    for (let r = j + 1; r < n; r++) {
      let sum = 0;
      for (let c = j + 1; c < n; c++) sum += t[r * n + c] * v[c];
      p[r] = beta * sum;
      pv += p[r] * v[r];
    }
    const half = (beta * pv) / 2;
    for (let r = j + 1; r < n; r++) p[r] -= half * v[r];
    for (let r = j + 1; r < n; r++) {
      for (let c = j + 1; c < n; c++) t[r * n + c] -= v[r] * p[c] + p[r] * v[c];
    }
    // q ← q H: each row of q loses β (row·v) v.
    for (let r = 0; r < n; r++) {
      let sum = 0;
      for (let c = j + 1; c < n; c++) sum += q[r * n + c] * v[c];
      const scale = beta * sum;
      for (let c = j + 1; c < n; c++) q[r * n + c] -= scale * v[c];
    }
  }
  for (let i = 0; i < n; i++) d[i] = t[i * n + i];
  for (let i = 0; i + 1 < n; i++) e[i] = t[(i + 1) * n + i];
}

// Implicit symmetric QR steps on the tridiagonal (d, e) until e is negligible, each
// rotation also applied to the columns of q, so q·diag(d)·qᵀ keeps equal to the input.
function diagonalizeTridiagonal(d: Float64Array, e: Float64Array, q: Float64Array, n: number): void {
  const negligible = (i: number) => Math.abs(e[i]) <= Number.EPSILON * (Math.abs(d[i]) + Math.abs(d[i + 1]));
  let steps = 0;
  let hi = n - 1;
  while (hi > 0) {
    if (negligible(hi - 1)) { e[hi - 1] = 0; hi--; continue; }
    let lo = hi - 1;
    while (lo > 0 && !negligible(lo - 1)) lo--;
    if (++steps > 60 * n) throw new Error(`symmetricEigen: no convergence after ${steps} QR steps`);
    qrStep(d, e, q, n, lo, hi);
  }
}

// One implicit QR step with a Wilkinson shift on the unreduced block [lo, hi]: a rotation
// in rows/columns (k, k+1) for k = lo..hi−1 chases the bulge down the diagonal.
function qrStep(d: Float64Array, e: Float64Array, q: Float64Array, n: number, lo: number, hi: number): void {
  // μ: the eigenvalue of the trailing 2×2 block nearer to d[hi].
  const half = (d[hi - 1] - d[hi]) / 2;
  const last = e[hi - 1];
  const mu = d[hi] - (last * last) / (half + (half >= 0 ? 1 : -1) * Math.sqrt(half * half + last * last));
  let x = d[lo] - mu, z = e[lo];
  for (let k = lo; k < hi; k++) {
    // G = [[c, s], [−s, c]] in (k, k+1) with Gᵀ [x, z] = [r, 0].
    const r = Math.sqrt(x * x + z * z);
    const c = r === 0 ? 1 : x / r, s = r === 0 ? 0 : -z / r;
    if (k > lo) e[k - 1] = r;
    const a = d[k], b = e[k], cc = d[k + 1];
    d[k] = c * c * a - 2 * c * s * b + s * s * cc;
    d[k + 1] = s * s * a + 2 * c * s * b + c * c * cc;
    e[k] = c * s * (a - cc) + (c * c - s * s) * b;
    if (k + 1 < hi) {
      // The bulge moves to (k, k+2).
      x = e[k];
      z = -s * e[k + 1];
      e[k + 1] *= c;
    }
    for (let row = 0; row < n; row++) {
      const qk = q[row * n + k], qk1 = q[row * n + k + 1];
      q[row * n + k] = c * qk - s * qk1;
      q[row * n + k + 1] = s * qk + c * qk1;
    }
  }
}
