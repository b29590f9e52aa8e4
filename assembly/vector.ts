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
 * out = S·v + shift·v for a symmetric k×k matrix S (row-major). Because S is symmetric,
 * S·v = Σ_i v_i S[i,:]: accumulateRows over the rows of S with v as the coefficients,
 * which streams S once with a block of `out` in registers. Each out[j] sums over i in order.
 */
export function symmetricMatVec(s: usize, v: usize, shift: f32, out: usize, k: i32): void {
  const sh = f32x4.splat(shift);
  let i = 0;
  for (; i + 4 <= k; i += 4) v128.store(out + (<usize>i << 2), f32x4.mul(sh, v128.load(v + (<usize>i << 2))));
  for (; i < k; i++) store<f32>(out + (<usize>i << 2), shift * load<f32>(v + (<usize>i << 2)));
  accumulateRows(v, s, k, out, k);
}

/** out = (diag(d) + shift·I)·v: out_i = shift·v_i + d_i·v_i, as symmetricMatVec rounds a diagonal G. */
// @ts-ignore: decorator
@inline
export function diagonalMatVec(d: usize, v: usize, shift: f32, out: usize, k: i32): void {
  const sh = f32x4.splat(shift);
  let i = 0;
  for (; i + 4 <= k; i += 4) {
    const o = <usize>i << 2;
    const vi = v128.load(v + o);
    v128.store(out + o, f32x4.add(f32x4.mul(sh, vi), f32x4.mul(v128.load(d + o), vi)));
  }
  for (; i < k; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, shift * load<f32>(v + o) + load<f32>(d + o) * load<f32>(v + o));
  }
}

/** out = (G + shift·I)·v, G given whole or (diagonal) as its k diagonal entries. */
// @ts-ignore: decorator
@inline
export function gramTimes(diagonal: bool, g: usize, v: usize, shift: f32, out: usize, k: i32): void {
  if (diagonal) diagonalMatVec(g, v, shift, out, k);
  else symmetricMatVec(g, v, shift, out, k);
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
 * out[j] = row_j · v for n contiguous rows of k floats, four rows at a time: each chunk of
 * v is loaded once for four rows, two 4-float chunks a step (one row at a time, the
 * loop's overhead and its reduction cost as much as the products). Order, the same for
 * every row and position: one 4-lane accumulator over the chunks in order, lanes
 * (0 + 1) + (2 + 3), then the scalar tail.
 */
export function dotRows(rows: usize, n: i32, v: usize, k: i32, out: usize): void {
  dotRowsOf(rows, 0, n, v, k, out);
}

/** dotRows over rows ids[0..n) (i32) of the table at `table`, read in place: the same bits. */
export function dotRowsAt(table: usize, ids: usize, n: i32, v: usize, k: i32, out: usize): void {
  dotRowsOf(table, ids, n, v, k, out);
}

// Row j of a run of rows: contiguous from `rows` (ids 0), or row ids[j] of the table at `rows`.
// @ts-ignore: decorator
@inline
function rowAddress(rows: usize, ids: usize, j: i32, rowBytes: usize): usize {
  return ids ? rows + <usize>load<i32>(ids + (<usize>j << 2)) * rowBytes : rows + <usize>j * rowBytes;
}

// dotRows and dotRowsAt (ids 0: contiguous rows).
// @ts-ignore: decorator
@inline
function dotRowsOf(rows: usize, ids: usize, n: i32, v: usize, k: i32, out: usize): void {
  const rowBytes = <usize>k << 2;
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    v128.store(out + (<usize>j << 2), dotFour(
      rowAddress(rows, ids, j, rowBytes), rowAddress(rows, ids, j + 1, rowBytes),
      rowAddress(rows, ids, j + 2, rowBytes), rowAddress(rows, ids, j + 3, rowBytes), v, k));
  }
  if (j < n) {
    // The last 1–3 rows as a block of four, the last row standing in for the missing ones:
    // one row alone waits on its single accumulator's chain of adds, ~4× as long a row.
    const last = n - 1;
    const sums = dotFour(
      rowAddress(rows, ids, j, rowBytes), rowAddress(rows, ids, min(j + 1, last), rowBytes),
      rowAddress(rows, ids, min(j + 2, last), rowBytes), rowAddress(rows, ids, last, rowBytes), v, k);
    const o = out + (<usize>j << 2);
    store<f32>(o, f32x4.extract_lane(sums, 0));
    if (j + 1 < n) store<f32>(o, f32x4.extract_lane(sums, 1), 4);
    if (j + 2 < n) store<f32>(o, f32x4.extract_lane(sums, 2), 8);
  }
}

// [r0·v, r1·v, r2·v, r3·v] for rows of k floats, each in dotRows's order.
// @ts-ignore: decorator
@inline
function dotFour(r0: usize, r1: usize, r2: usize, r3: usize, v: usize, k: i32): v128 {
  const rowBytes = <usize>k << 2;
  const vectorBytes = <usize>(k & ~3) << 2;
  const pairedBytes = <usize>(k & ~7) << 2;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let o: usize = 0;
  for (; o < pairedBytes; o += 32) {
    const vc = v128.load(v + o), vd = v128.load(v + o, 16);
    a0 = f32x4.add(f32x4.add(a0, f32x4.mul(v128.load(r0 + o), vc)), f32x4.mul(v128.load(r0 + o, 16), vd));
    a1 = f32x4.add(f32x4.add(a1, f32x4.mul(v128.load(r1 + o), vc)), f32x4.mul(v128.load(r1 + o, 16), vd));
    a2 = f32x4.add(f32x4.add(a2, f32x4.mul(v128.load(r2 + o), vc)), f32x4.mul(v128.load(r2 + o, 16), vd));
    a3 = f32x4.add(f32x4.add(a3, f32x4.mul(v128.load(r3 + o), vc)), f32x4.mul(v128.load(r3 + o, 16), vd));
  }
  if (o < vectorBytes) {
    const vc = v128.load(v + o);
    a0 = f32x4.add(a0, f32x4.mul(v128.load(r0 + o), vc));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(r1 + o), vc));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(r2 + o), vc));
    a3 = f32x4.add(a3, f32x4.mul(v128.load(r3 + o), vc));
  }
  const sums = laneSums(a0, a1, a2, a3);
  if (vectorBytes == rowBytes) return sums;
  return f32x4(
    dotTail(r0, v, k, f32x4.extract_lane(sums, 0)), dotTail(r1, v, k, f32x4.extract_lane(sums, 1)),
    dotTail(r2, v, k, f32x4.extract_lane(sums, 2)), dotTail(r3, v, k, f32x4.extract_lane(sums, 3)));
}

/** [Σ lanes of a, of b, of c, of d], each as (x0 + x1) + (x2 + x3), as dot() reduces. */
// @ts-ignore: decorator
@inline
export function laneSums(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 2, 4, 6), v128.shuffle<f32>(a, b, 1, 3, 5, 7)); // [a0+a1, a2+a3, b0+b1, b2+b3]
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 2, 4, 6), v128.shuffle<f32>(c, d, 1, 3, 5, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 2, 4, 6), v128.shuffle<f32>(ab, cd, 1, 3, 5, 7));
}

// sum + the products of the last k mod 4 floats, in order.
// @ts-ignore: decorator
@inline
function dotTail(row: usize, v: usize, k: i32, sum: f32): f32 {
  for (let i = k & ~3; i < k; i++) sum += load<f32>(row + (<usize>i << 2)) * load<f32>(v + (<usize>i << 2));
  return sum;
}

/**
 * out += Σ_j coefficients[j]·row_j over n contiguous rows of k floats: 16 columns held in
 * registers while the rows stream past, two rows a step (V8 hoists a step's loads above its
 * arithmetic; 4 accumulators + 2 splats + 8 loaded vectors fit the 16 SIMD registers,
 * 32 columns would spill). Each out[i] adds the rows' terms in row order, so the result is
 * the same bits as n successive axpy calls.
 */
export function accumulateRows(coefficients: usize, rows: usize, n: i32, out: usize, k: i32): void {
  accumulateRowsOf(coefficients, rows, 0, n, out, k);
}

/** accumulateRows over rows ids[0..n) (i32) of the table at `table`, read in place: the same bits. */
export function accumulateRowsAt(coefficients: usize, table: usize, ids: usize, n: i32, out: usize, k: i32): void {
  accumulateRowsOf(coefficients, table, ids, n, out, k);
}

// accumulateRows and accumulateRowsAt (ids 0: contiguous rows).
// @ts-ignore: decorator
@inline
function accumulateRowsOf(coefficients: usize, rows: usize, ids: usize, n: i32, out: usize, k: i32): void {
  const rowBytes = <usize>k << 2;
  let c = 0;
  for (; c + 16 <= k; c += 16) {
    const o = out + (<usize>c << 2);
    let acc0 = v128.load(o), acc1 = v128.load(o, 16), acc2 = v128.load(o, 32), acc3 = v128.load(o, 48);
    const column = <usize>c << 2;
    // Contiguous rows are walked with a pointer: a multiply a row cost ~20% here.
    let walked = rows + column;
    let j = 0;
    for (; j + 2 <= n; j += 2) {
      const s0 = v128.load32_splat(coefficients + (<usize>j << 2));
      const s1 = v128.load32_splat(coefficients + (<usize>j << 2), 4);
      const row = ids ? rowAddress(rows, ids, j, rowBytes) + column : walked;
      const next = ids ? rowAddress(rows, ids, j + 1, rowBytes) + column : walked + rowBytes;
      walked += rowBytes << 1;
      acc0 = f32x4.add(f32x4.add(acc0, f32x4.mul(s0, v128.load(row))), f32x4.mul(s1, v128.load(next)));
      acc1 = f32x4.add(f32x4.add(acc1, f32x4.mul(s0, v128.load(row, 16))), f32x4.mul(s1, v128.load(next, 16)));
      acc2 = f32x4.add(f32x4.add(acc2, f32x4.mul(s0, v128.load(row, 32))), f32x4.mul(s1, v128.load(next, 32)));
      acc3 = f32x4.add(f32x4.add(acc3, f32x4.mul(s0, v128.load(row, 48))), f32x4.mul(s1, v128.load(next, 48)));
    }
    if (j < n) {
      const s0 = v128.load32_splat(coefficients + (<usize>j << 2));
      const row = ids ? rowAddress(rows, ids, j, rowBytes) + column : walked;
      acc0 = f32x4.add(acc0, f32x4.mul(s0, v128.load(row)));
      acc1 = f32x4.add(acc1, f32x4.mul(s0, v128.load(row, 16)));
      acc2 = f32x4.add(acc2, f32x4.mul(s0, v128.load(row, 32)));
      acc3 = f32x4.add(acc3, f32x4.mul(s0, v128.load(row, 48)));
    }
    v128.store(o, acc0); v128.store(o, acc1, 16); v128.store(o, acc2, 32); v128.store(o, acc3, 48);
  }
  for (; c + 4 <= k; c += 4) {
    const o = out + (<usize>c << 2);
    let acc = v128.load(o);
    for (let j = 0; j < n; j++) {
      const row = rowAddress(rows, ids, j, rowBytes) + (<usize>c << 2);
      acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(coefficients + (<usize>j << 2)), v128.load(row)));
    }
    v128.store(o, acc);
  }
  for (; c < k; c++) {
    const o = out + (<usize>c << 2);
    let acc = load<f32>(o);
    for (let j = 0; j < n; j++) {
      acc += load<f32>(coefficients + (<usize>j << 2)) * load<f32>(rowAddress(rows, ids, j, rowBytes) + (<usize>c << 2));
    }
    store<f32>(o, acc);
  }
}
