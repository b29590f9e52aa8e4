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
  // 32 columns a pass: eight independent add chains keep the SIMD units busy, where four
  // wait on add latency. Each out[j] sums over i in the same order in every block width,
  // so the result is the same bits whichever width computes it.
  for (; j + 32 <= k; j += 32) {
    const jo = <usize>j << 2;
    const vj = v + jo;
    const sh = f32x4.splat(shift);
    let acc0 = f32x4.mul(sh, v128.load(vj));
    let acc1 = f32x4.mul(sh, v128.load(vj, 16));
    let acc2 = f32x4.mul(sh, v128.load(vj, 32));
    let acc3 = f32x4.mul(sh, v128.load(vj, 48));
    let acc4 = f32x4.mul(sh, v128.load(vj, 64));
    let acc5 = f32x4.mul(sh, v128.load(vj, 80));
    let acc6 = f32x4.mul(sh, v128.load(vj, 96));
    let acc7 = f32x4.mul(sh, v128.load(vj, 112));
    let row = s + jo;
    for (let i = 0; i < k; i++) {
      const vi = f32x4.splat(load<f32>(v + (<usize>i << 2)));
      acc0 = f32x4.add(acc0, f32x4.mul(vi, v128.load(row)));
      acc1 = f32x4.add(acc1, f32x4.mul(vi, v128.load(row, 16)));
      acc2 = f32x4.add(acc2, f32x4.mul(vi, v128.load(row, 32)));
      acc3 = f32x4.add(acc3, f32x4.mul(vi, v128.load(row, 48)));
      acc4 = f32x4.add(acc4, f32x4.mul(vi, v128.load(row, 64)));
      acc5 = f32x4.add(acc5, f32x4.mul(vi, v128.load(row, 80)));
      acc6 = f32x4.add(acc6, f32x4.mul(vi, v128.load(row, 96)));
      acc7 = f32x4.add(acc7, f32x4.mul(vi, v128.load(row, 112)));
      row += rowBytes;
    }
    const oj = out + jo;
    v128.store(oj, acc0);
    v128.store(oj, acc1, 16);
    v128.store(oj, acc2, 32);
    v128.store(oj, acc3, 48);
    v128.store(oj, acc4, 64);
    v128.store(oj, acc5, 80);
    v128.store(oj, acc6, 96);
    v128.store(oj, acc7, 112);
  }
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
