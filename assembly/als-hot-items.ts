// ALS's item half-step for the hot items: the most popular items, whose users are more
// than the CG kernel gathers at once (assembly/als.ts solveRowsCg). There, each of their
// CG products would fetch all their users' factor rows again, in random order, from main
// memory. Here the products of all hot items run together, a block of users at a time:
// the block's factor rows (a few hundred KB) stay in cache while every hot item takes the
// run of its entries that falls in the block, so each user row comes from main memory
// once per product instead of once per hot entry.
//
// Per hot item i, with confidence c_ui = confidenceScale·value and weight
// w_ui = |c_ui| − α₀ (as solveRowsCg):
//   residual  r_i  = −(G + λ_i I) x_i + Σ_u (c⁺_ui − w_ui (x_u·x_i)) x_u
//   CG step   Ap_i =  (G + λ_i I) p_i + Σ_u w_ui (x_u·p_i) x_u
//   last step p_iᵀAp_i = p_iᵀ(G + λ_i I) p_i + Σ_u w_ui (x_u·p_i)²   (x moves, r is not needed)
// Every dot product and sum runs in solveRowsCg's order (users ascending; dotRows and
// accumulateRows, whose results do not depend on how the rows are chunked), so a hot
// item's factors are the same bits either way. Each thread owns a range of slots (hot
// items) and passes over every block, so the result does not depend on the thread count.
//
// State, slots × k f32 each: x (the item's factors while it is solved), r, p, ap; per
// slot lambda (f32), rsOld (f32), quadratic (f32: the last step's Σ_u w_ui (x_u·p_i)²),
// active (i32: 0 once CG has converged, as solveRowsCg breaks), and a cursor into the
// item's row of the compact items × users copy (4 u32: next stream unit, last user id,
// next entry, end entry).

import { ENTRY_QUADRATIC, ENTRY_RESIDUAL, rowRegularization } from "./als";
import { gapAt, gapUnits, placedPosition } from "./compact-columns";
import { accumulateRowsAt, axpy, copyRow, dot, dotRowsAt, gramTimes, xpby } from "./vector";

const CURSOR_BYTES: usize = 16;

/**
 * Starts the hot items' half-step for slots [slotStart, slotEnd): x ← the item's factors
 * (items[slot] is its id), λ from its entry count (columnIndptr: the items × users copy's),
 * r ← −(G + λI)·x, active ← 1, and the cursor at the item's first entry.
 */
export function hotItemsBegin(
  slotStart: i32, slotEnd: i32, items: usize, itemFactors: usize, columnIndptr: usize, offsets: usize, k: i32, g: usize, diagonalGram: bool,
  regularization: f32, regExponent: f32, unobservedWeight: f32, nOther: i32,
  x: usize, r: usize, lambda: usize, active: usize, cursors: usize,
): void {
  const rowBytes = <usize>k << 2;
  for (let slot = slotStart; slot < slotEnd; slot++) {
    const item = <usize>load<i32>(items + (<usize>slot << 2));
    const n = load<i32>(columnIndptr + ((item + 1) << 2)) - load<i32>(columnIndptr + (item << 2));
    const lambdaI = rowRegularization(regularization, regExponent, n, unobservedWeight, nOther);
    const xs = x + <usize>slot * rowBytes, rs = r + <usize>slot * rowBytes;
    copyRow(itemFactors + item * rowBytes, xs, k);
    gramTimes(diagonalGram, g, xs, lambdaI, rs, k);
    for (let i = 0; i < k; i++) store<f32>(rs + (<usize>i << 2), -load<f32>(rs + (<usize>i << 2)));
    store<f32>(lambda + (<usize>slot << 2), lambdaI);
    store<i32>(active + (<usize>slot << 2), 1);
  }
  hotItemsRewind(slotStart, slotEnd, items, columnIndptr, offsets, cursors);
}

// Every slot's cursor back to its item's first entry.
function hotItemsRewind(slotStart: i32, slotEnd: i32, items: usize, columnIndptr: usize, offsets: usize, cursors: usize): void {
  for (let slot = slotStart; slot < slotEnd; slot++) {
    const item = <usize>load<i32>(items + (<usize>slot << 2)) << 2;
    const cursor = cursors + <usize>slot * CURSOR_BYTES;
    store<u32>(cursor, load<u32>(offsets + item));
    store<u32>(cursor, 0, 4);
    store<i32>(cursor, load<i32>(columnIndptr + item), 8);
    store<i32>(cursor, load<i32>(columnIndptr + item + 4), 12);
  }
}

/**
 * One CG product's work on the users [userStart, userEnd) (a block, after the blocks
 * before it): each active slot in [slotStart, slotEnd) takes its entries whose user falls
 * in the block, a chunk at a time (ids, values, coefficients: chunkRows each), and with
 * d = x_u·v[slot] forms what `terms` names (als.ts ENTRY_*, as solveRowsCg's passes):
 * acc[slot] += Σ a·x_u with a = w·d (ENTRY_AP) or c⁺ − w·d (ENTRY_RESIDUAL), or with
 * ENTRY_QUADRATIC acc holding one f32 a slot, acc[slot] += Σ w·d·d in entry order.
 * Entries come from the items × users copy (stream of gaps, values in place when
 * placeShift < 0, else places into the users × items CSR's rows).
 */
export function hotItemsBlock(
  terms: i32, userStart: i32, userEnd: i32, slotStart: i32, slotEnd: i32,
  stream: usize, columnData: usize, placeShift: i32, sourceIndptr: usize, sourceData: usize,
  x: usize, k: i32, cursors: usize, active: usize, v: usize, acc: usize, confidenceScale: f32, unobservedWeight: f32,
  ids: usize, values: usize, coefficients: usize, chunkRows: i32,
): void {
  const rowBytes = <usize>k << 2;
  const limit = <u32>userEnd;
  // Bring into cache, with many misses in flight, what the slots read below in scattered
  // order: the block's factor rows and (with places) its users' values, in order, and each
  // slot's next gaps and places. One load a line, folded into a sink.
  let folded: i32 = 0;
  for (let at = x + <usize>userStart * rowBytes, end = x + <usize>userEnd * rowBytes; at < end; at += 64) folded ^= load<i32>(at);
  if (placeShift >= 0) {
    const first = sourceData + (<usize>load<i32>(sourceIndptr + (<usize>userStart << 2)) << 2);
    for (let at = first, end = sourceData + (<usize>load<i32>(sourceIndptr + (<usize>userEnd << 2)) << 2); at < end; at += 64) folded ^= load<i32>(at);
  }
  const dataShift = placeShift < 0 ? 2 : placeShift;
  for (let slot = slotStart; slot < slotEnd; slot++) {
    const cursor = cursors + <usize>slot * CURSOR_BYTES;
    const entry = load<i32>(cursor, 8);
    if (entry == load<i32>(cursor, 12)) continue;
    folded ^= <i32>load<u16>(stream + (<usize>load<u32>(cursor) << 1));
    folded ^= <i32>load<u8>(columnData + (<usize>entry << dataShift));
  }
  store<i32>(coefficients, folded);
  for (let slot = slotStart; slot < slotEnd; slot++) {
    if (!load<i32>(active + (<usize>slot << 2))) continue;
    const cursor = cursors + <usize>slot * CURSOR_BYTES;
    let unit = load<u32>(cursor), id = load<u32>(cursor, 4), entry = load<i32>(cursor, 8);
    const entryEnd = load<i32>(cursor, 12);
    const vs = v + <usize>slot * rowBytes;
    const accs = terms == ENTRY_QUADRATIC ? acc + (<usize>slot << 2) : acc + <usize>slot * rowBytes;
    let m = chunkRows;
    while (m == chunkRows) {
      // The next chunk of this slot's entries in the block, decoded.
      m = 0;
      while (m < chunkRows && entry < entryEnd) {
        const gap = gapAt(stream + (<usize>unit << 1));
        const user = id + gap;
        if (user >= limit) break;
        const e = <usize>entry;
        const value = placeShift < 0 ? load<f32>(columnData + (e << 2))
          : load<f32>(sourceData + (<usize>placedPosition(columnData, placeShift, e, user, sourceIndptr) << 2));
        store<u32>(ids + (<usize>m << 2), user);
        store<f32>(values + (<usize>m << 2), value);
        id = user; unit += gapUnits(gap); entry++; m++;
      }
      if (m == 0) break;
      // The rows are read in place: the block put them in cache.
      dotRowsAt(x, ids, m, vs, k, coefficients);
      let quadratic = terms == ENTRY_QUADRATIC ? load<f32>(accs) : 0;
      for (let j = 0; j < m; j++) {
        const o = <usize>j << 2;
        const c = confidenceScale * load<f32>(values + o);
        const d = load<f32>(coefficients + o);
        const weighted = (Mathf.abs(c) - unobservedWeight) * d;
        if (terms == ENTRY_QUADRATIC) { quadratic += weighted * d; continue; }
        store<f32>(coefficients + o, terms == ENTRY_RESIDUAL ? (c > 0 ? c : <f32>0) - weighted : weighted);
      }
      if (terms == ENTRY_QUADRATIC) store<f32>(accs, quadratic);
      else accumulateRowsAt(coefficients, x, ids, m, accs, k);
    }
    store<u32>(cursor, unit);
    store<u32>(cursor, id, 4);
    store<i32>(cursor, entry, 8);
  }
}

/**
 * Between products, for slots [slotStart, slotEnd): after the residual (`first`) p ← r
 * and rsOld ← r·r; after a CG step's product, the step itself (α = rsOld / p·Ap, x += αp,
 * r −= αAp, p ← r + (rsNew/rsOld)·p). A slot whose residual falls below 1e-20 stops. With
 * `more`, ap ← (G + λI)·p, quadratic ← 0 and the cursors rewound for the next product.
 */
export function hotItemsStep(
  first: bool, more: bool, slotStart: i32, slotEnd: i32, k: i32, g: usize, diagonalGram: bool,
  x: usize, r: usize, p: usize, ap: usize, lambda: usize, rsOld: usize, active: usize,
  items: usize, columnIndptr: usize, offsets: usize, cursors: usize, quadratic: usize,
): void {
  const rowBytes = <usize>k << 2;
  for (let slot = slotStart; slot < slotEnd; slot++) {
    const flag = active + (<usize>slot << 2);
    if (!load<i32>(flag)) continue;
    const o = <usize>slot * rowBytes;
    const rsSlot = rsOld + (<usize>slot << 2);
    if (first) {
      copyRow(r + o, p + o, k);
      const rs = dot(r + o, r + o, k);
      store<f32>(rsSlot, rs);
      if (rs < 1e-20) { store<i32>(flag, 0); continue; }
    } else {
      const old = load<f32>(rsSlot);
      const alpha = old / dot(p + o, ap + o, k);
      axpy(alpha, p + o, x + o, k);
      axpy(-alpha, ap + o, r + o, k);
      const rsNew = dot(r + o, r + o, k);
      if (rsNew < 1e-20) { store<i32>(flag, 0); continue; }
      xpby(r + o, rsNew / old, p + o, k);
      store<f32>(rsSlot, rsNew);
    }
    if (more) {
      gramTimes(diagonalGram, g, p + o, load<f32>(lambda + (<usize>slot << 2)), ap + o, k);
      store<f32>(quadratic + (<usize>slot << 2), 0);
    }
  }
  if (more) hotItemsRewind(slotStart, slotEnd, items, columnIndptr, offsets, cursors);
}

/**
 * The last CG step, after the ENTRY_QUADRATIC product, for slots [slotStart, slotEnd):
 * x += αp with α = rsOld / (p·(G + λI)p + quadratic), as solveRowsCg's last step.
 */
export function hotItemsLastStep(slotStart: i32, slotEnd: i32, k: i32, x: usize, p: usize, ap: usize, rsOld: usize, active: usize, quadratic: usize): void {
  const rowBytes = <usize>k << 2;
  for (let slot = slotStart; slot < slotEnd; slot++) {
    const s = <usize>slot << 2;
    if (!load<i32>(active + s)) continue;
    const o = <usize>slot * rowBytes;
    axpy(load<f32>(rsOld + s) / (dot(p + o, ap + o, k) + load<f32>(quadratic + s)), p + o, x + o, k);
  }
}

/** Ends the half-step: each slot's x back to its item's row of the factors. */
export function hotItemsEnd(slotStart: i32, slotEnd: i32, items: usize, itemFactors: usize, k: i32, x: usize): void {
  const rowBytes = <usize>k << 2;
  for (let slot = slotStart; slot < slotEnd; slot++) {
    copyRow(x + <usize>slot * rowBytes, itemFactors + <usize>load<i32>(items + (<usize>slot << 2)) * rowBytes, k);
  }
}
