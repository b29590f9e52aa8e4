// Dense f32 vector primitives over raw linear memory, shared by every kernel.
// Rows are `k` floats with no padding, so each loop runs 16-wide (four independent
// accumulators hide the add latency), then 4-wide, then scalar for the tail.
// The reduction order is fixed, so results are bit-identical on every runtime.

/** a·b over k floats. */
// @ts-ignore: decorator
@inline
export function dot(a: usize, b: usize, k: i32): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let acc2 = f32x4.splat(0);
  let acc3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= k; i += 16) {
    const o = <usize>i << 2;
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
    acc2 = f32x4.add(acc2, f32x4.mul(v128.load(a + o, 32), v128.load(b + o, 32)));
    acc3 = f32x4.add(acc3, f32x4.mul(v128.load(a + o, 48), v128.load(b + o, 48)));
  }
  for (; i + 4 <= k; i += 4) {
    const o = <usize>i << 2;
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  const acc = f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3));
  let sum = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) +
            (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (; i < k; i++) {
    const o = <usize>i << 2;
    sum += load<f32>(a + o) * load<f32>(b + o);
  }
  return sum;
}

/** y += alpha·x over k floats. */
// @ts-ignore: decorator
@inline
export function axpy(alpha: f32, x: usize, y: usize, k: i32): void {
  const a = f32x4.splat(alpha);
  let i = 0;
  for (; i + 16 <= k; i += 16) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(a, v128.load(x + o))));
    v128.store(y + o, f32x4.add(v128.load(y + o, 16), f32x4.mul(a, v128.load(x + o, 16))), 16);
    v128.store(y + o, f32x4.add(v128.load(y + o, 32), f32x4.mul(a, v128.load(x + o, 32))), 32);
    v128.store(y + o, f32x4.add(v128.load(y + o, 48), f32x4.mul(a, v128.load(x + o, 48))), 48);
  }
  for (; i + 4 <= k; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(a, v128.load(x + o))));
  }
  for (; i < k; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + alpha * load<f32>(x + o));
  }
}

/** y = x + beta·y over k floats (the CG direction update p = r + β p). */
// @ts-ignore: decorator
@inline
export function xpby(x: usize, beta: f32, y: usize, k: i32): void {
  const b = f32x4.splat(beta);
  let i = 0;
  for (; i + 4 <= k; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(x + o), f32x4.mul(b, v128.load(y + o))));
  }
  for (; i < k; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(x + o) + beta * load<f32>(y + o));
  }
}

/**
 * out = S·v + shift·v for a symmetric k×k matrix S (row-major).
 * Because S is symmetric, S·v = Σ_i v_i S[i,:], which streams S row by row and
 * keeps a 16-wide block of `out` in registers.
 */
export function symmetricMatVec(s: usize, v: usize, shift: f32, out: usize, k: i32): void {
  const rowBytes = <usize>k << 2;
  let j = 0;
  for (; j + 16 <= k; j += 16) {
    const jo = <usize>j << 2;
    const vj = v + jo;
    const sh = f32x4.splat(shift);
    let acc0 = f32x4.mul(sh, v128.load(vj));
    let acc1 = f32x4.mul(sh, v128.load(vj, 16));
    let acc2 = f32x4.mul(sh, v128.load(vj, 32));
    let acc3 = f32x4.mul(sh, v128.load(vj, 48));
    let row = s + jo;
    for (let i = 0; i < k; i++) {
      const vi = f32x4.splat(load<f32>(v + (<usize>i << 2)));
      acc0 = f32x4.add(acc0, f32x4.mul(vi, v128.load(row)));
      acc1 = f32x4.add(acc1, f32x4.mul(vi, v128.load(row, 16)));
      acc2 = f32x4.add(acc2, f32x4.mul(vi, v128.load(row, 32)));
      acc3 = f32x4.add(acc3, f32x4.mul(vi, v128.load(row, 48)));
      row += rowBytes;
    }
    const oj = out + jo;
    v128.store(oj, acc0);
    v128.store(oj, acc1, 16);
    v128.store(oj, acc2, 32);
    v128.store(oj, acc3, 48);
  }
  for (; j + 4 <= k; j += 4) {
    const jo = <usize>j << 2;
    let acc = f32x4.mul(f32x4.splat(shift), v128.load(v + jo));
    let row = s + jo;
    for (let i = 0; i < k; i++) {
      acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(v + (<usize>i << 2))), v128.load(row)));
      row += rowBytes;
    }
    v128.store(out + jo, acc);
  }
  for (; j < k; j++) {
    const jo = <usize>j << 2;
    let acc: f32 = shift * load<f32>(v + jo);
    let row = s + jo;
    for (let i = 0; i < k; i++) {
      acc += load<f32>(v + (<usize>i << 2)) * load<f32>(row);
      row += rowBytes;
    }
    store<f32>(out + jo, acc);
  }
}

/** dst[0..k) = src[0..k), 16 bytes at a time (a call-free memory.copy for one row). */
// @ts-ignore: decorator
@inline
export function copyRow(src: usize, dst: usize, k: i32): void {
  let i = 0;
  for (; i + 4 <= k; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, v128.load(src + o));
  }
  for (; i < k; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

/**
 * out[r] = row_r · v for n rows given by a table of row addresses (u32 each).
 * Four rows at a time share each load of v; two accumulators per row keep the adds
 * independent; a shuffle transpose sums the four rows' lanes in one go.
 */
export function rowsDot(rowPtrs: usize, n: i32, v: usize, k: i32, out: usize): void {
  const k4 = k & ~3;
  let r = 0;
  for (; r + 4 <= n; r += 4) {
    const p0 = <usize>load<u32>(rowPtrs + (<usize>r << 2));
    const p1 = <usize>load<u32>(rowPtrs + (<usize>r << 2), 4);
    const p2 = <usize>load<u32>(rowPtrs + (<usize>r << 2), 8);
    const p3 = <usize>load<u32>(rowPtrs + (<usize>r << 2), 12);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
    let i = 0;
    for (; i + 8 <= k; i += 8) {
      const o = <usize>i << 2;
      const va = v128.load(v + o), vb = v128.load(v + o, 16);
      a0 = f32x4.add(a0, f32x4.mul(va, v128.load(p0 + o))); b0 = f32x4.add(b0, f32x4.mul(vb, v128.load(p0 + o, 16)));
      a1 = f32x4.add(a1, f32x4.mul(va, v128.load(p1 + o))); b1 = f32x4.add(b1, f32x4.mul(vb, v128.load(p1 + o, 16)));
      a2 = f32x4.add(a2, f32x4.mul(va, v128.load(p2 + o))); b2 = f32x4.add(b2, f32x4.mul(vb, v128.load(p2 + o, 16)));
      a3 = f32x4.add(a3, f32x4.mul(va, v128.load(p3 + o))); b3 = f32x4.add(b3, f32x4.mul(vb, v128.load(p3 + o, 16)));
    }
    for (; i < k4; i += 4) {
      const o = <usize>i << 2;
      const va = v128.load(v + o);
      a0 = f32x4.add(a0, f32x4.mul(va, v128.load(p0 + o)));
      a1 = f32x4.add(a1, f32x4.mul(va, v128.load(p1 + o)));
      a2 = f32x4.add(a2, f32x4.mul(va, v128.load(p2 + o)));
      a3 = f32x4.add(a3, f32x4.mul(va, v128.load(p3 + o)));
    }
    a0 = f32x4.add(a0, b0); a1 = f32x4.add(a1, b1); a2 = f32x4.add(a2, b2); a3 = f32x4.add(a3, b3);
    // [Σa0, Σa1, Σa2, Σa3] by a 4×4 transpose-and-add.
    const s01 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), v128.shuffle<f32>(a0, a1, 2, 6, 3, 7));
    const s23 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), v128.shuffle<f32>(a2, a3, 2, 6, 3, 7));
    let sums = f32x4.add(v128.shuffle<f32>(s01, s23, 0, 1, 4, 5), v128.shuffle<f32>(s01, s23, 2, 3, 6, 7));
    if (i < k) {
      let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
      for (; i < k; i++) {
        const o = <usize>i << 2;
        const vi = load<f32>(v + o);
        t0 += vi * load<f32>(p0 + o); t1 += vi * load<f32>(p1 + o);
        t2 += vi * load<f32>(p2 + o); t3 += vi * load<f32>(p3 + o);
      }
      sums = f32x4.add(sums, f32x4(t0, t1, t2, t3));
    }
    v128.store(out + (<usize>r << 2), sums);
  }
  for (; r < n; r++) {
    store<f32>(out + (<usize>r << 2), dot(<usize>load<u32>(rowPtrs + (<usize>r << 2)), v, k));
  }
}

/**
 * out += Σ_r coefs[r]·row_r for n rows given by a table of row addresses.
 * `out` is walked in 32-float blocks held in registers while every row streams past,
 * so out is loaded and stored once per call rather than once per row.
 */
export function combineRows(rowPtrs: usize, coefs: usize, n: i32, k: i32, out: usize): void {
  let j = 0;
  for (; j + 32 <= k; j += 32) {
    const jo = <usize>j << 2;
    const oj = out + jo;
    let a0 = v128.load(oj), a1 = v128.load(oj, 16), a2 = v128.load(oj, 32), a3 = v128.load(oj, 48);
    let a4 = v128.load(oj, 64), a5 = v128.load(oj, 80), a6 = v128.load(oj, 96), a7 = v128.load(oj, 112);
    for (let r = 0; r < n; r++) {
      const row = <usize>load<u32>(rowPtrs + (<usize>r << 2)) + jo;
      const c = f32x4.splat(load<f32>(coefs + (<usize>r << 2)));
      a0 = f32x4.add(a0, f32x4.mul(c, v128.load(row))); a1 = f32x4.add(a1, f32x4.mul(c, v128.load(row, 16)));
      a2 = f32x4.add(a2, f32x4.mul(c, v128.load(row, 32))); a3 = f32x4.add(a3, f32x4.mul(c, v128.load(row, 48)));
      a4 = f32x4.add(a4, f32x4.mul(c, v128.load(row, 64))); a5 = f32x4.add(a5, f32x4.mul(c, v128.load(row, 80)));
      a6 = f32x4.add(a6, f32x4.mul(c, v128.load(row, 96))); a7 = f32x4.add(a7, f32x4.mul(c, v128.load(row, 112)));
    }
    v128.store(oj, a0); v128.store(oj, a1, 16); v128.store(oj, a2, 32); v128.store(oj, a3, 48);
    v128.store(oj, a4, 64); v128.store(oj, a5, 80); v128.store(oj, a6, 96); v128.store(oj, a7, 112);
  }
  for (; j + 4 <= k; j += 4) {
    const jo = <usize>j << 2;
    let a = v128.load(out + jo);
    for (let r = 0; r < n; r++) {
      const row = <usize>load<u32>(rowPtrs + (<usize>r << 2)) + jo;
      a = f32x4.add(a, f32x4.mul(f32x4.splat(load<f32>(coefs + (<usize>r << 2))), v128.load(row)));
    }
    v128.store(out + jo, a);
  }
  for (; j < k; j++) {
    const jo = <usize>j << 2;
    let a = load<f32>(out + jo);
    for (let r = 0; r < n; r++) a += load<f32>(coefs + (<usize>r << 2)) * load<f32>(<usize>load<u32>(rowPtrs + (<usize>r << 2)) + jo);
    store<f32>(out + jo, a);
  }
}
