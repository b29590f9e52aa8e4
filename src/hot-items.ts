// The hot items of an ALS fit: items with more users than the CG kernel gathers at once.
// Their half-step runs a block of users at a time (assembly/als-hot-items.ts): each CG
// product of every hot item takes its entries in the block while the block's user rows
// are in cache, instead of re-gathering its users' factors from memory at every step.
// This plans their slots, state, scratch and threads; the factors come out the same bits.

import type { CompactColumns } from "./compact-columns.js";
import type { Engine } from "./engine.js";
import { blockBytes } from "./memory-plan.js";
import type { WorkerPool } from "./pool.js";

type Call = { kernel: string; args: (number | boolean)[] };

/** Tests switch the hot items off to compare with the gathered kernel. */
export const hotItemsTuning = { enabled: true };

// User rows per block: the block stays in L2 while every hot item takes its entries.
const BLOCK_BYTES = 512 << 10;
// What hotItemsBlock forms, as assembly/als.ts numbers it (ENTRY_AP, ENTRY_RESIDUAL, ENTRY_QUADRATIC).
const PRODUCT = 0, RESIDUAL = 1, QUADRATIC = 2;

/** What a hot-items half-step needs besides the state: the copy, factors and ALS options. */
export interface HotItemsStep {
  /** The items × users copy the item half-step solves from. */
  itemUsers: CompactColumns;
  userFactorsPtr: number;
  itemFactorsPtr: number;
  gramPtr: number;
  diagonalGram: boolean;
  confidenceScale: number;
  regularization: number;
  regularizationExponent: number;
  unobservedWeight: number;
  cgSteps: number;
}

/** @internal Slots, per-slot CG state and each thread's share of the items hotter than `capacity`. */
export class HotItems {
  private constructor(
    private readonly engine: Engine,
    readonly count: number,
    private readonly k: number,
    /** Item → slot, or −1 (i32, one per item): solveRowsCg skips the items with a slot. */
    readonly slotOfItemPtr: number,
    private readonly pointers: { items: number; x: number; r: number; p: number; ap: number; lambda: number; rsOld: number; quadratic: number; active: number; cursors: number },
    /** [slotStart, slotEnd) per thread, about equal in entries, and its scratch. */
    private readonly shares: { start: number; end: number; ids: number; values: number; coefficients: number }[],
    private readonly chunkRows: number,
    /** Running entry counts of the items, hot ones counted as empty: how to share the others among threads. */
    readonly residentIndptr: Float64Array,
  ) {}

  /** The most items that can be hotter than `capacity` in a matrix of nnz entries. */
  static maxCount(nItems: number, nnz: number, capacity: number): number {
    return Math.min(nItems, Math.floor(nnz / (capacity + 1)));
  }

  /** Bytes their state and scratch take for at most `count` hot items of nItems, k factors, on `threads`. */
  static bytesNeeded(nItems: number, count: number, k: number, chunkRows: number, threads: number): number {
    if (count === 0) return 0;
    return blockBytes(nItems * 4) + 4 * blockBytes(count * k * 4) + 5 * blockBytes(count * 4) + blockBytes(count * 16) +
      Math.min(threads, count) * 3 * blockBytes(chunkRows * 4);
  }

  /**
   * The items whose entry count (from `columnIndptr`, items × users) exceeds `capacity`,
   * in id order, shared among `threads` by entries; undefined when there are none.
   */
  static plan(engine: Engine, columnIndptr: Int32Array, capacity: number, k: number, threads: number): HotItems | undefined {
    const nItems = columnIndptr.length - 1;
    const hot: number[] = [];
    for (let item = 0; item < nItems; item++) if (columnIndptr[item + 1] - columnIndptr[item] > capacity) hot.push(item);
    if (hot.length === 0) return undefined;
    const entries = hot.map((item) => columnIndptr[item + 1] - columnIndptr[item]);
    const residentIndptr = new Float64Array(nItems + 1);
    for (let item = 0; item < nItems; item++) {
      const n = columnIndptr[item + 1] - columnIndptr[item];
      residentIndptr[item + 1] = residentIndptr[item] + (n > capacity ? 0 : n);
    }
    const { heap, kernels } = engine;
    const count = hot.length, rows = count * k * 4;
    const chunkRows = kernels.cgChunkRows(k);
    const slotOfItemPtr = heap.alloc(nItems * 4);
    const pointers = {
      items: heap.alloc(count * 4), x: heap.alloc(rows), r: heap.alloc(rows), p: heap.alloc(rows), ap: heap.alloc(rows),
      lambda: heap.alloc(count * 4), rsOld: heap.alloc(count * 4), quadratic: heap.alloc(count * 4), active: heap.alloc(count * 4), cursors: heap.alloc(count * 16),
    };
    const slotOfItem = heap.i32(slotOfItemPtr, nItems);
    slotOfItem.fill(-1);
    hot.forEach((item, slot) => { slotOfItem[item] = slot; });
    heap.i32(pointers.items, count).set(hot);
    // Contiguous slot ranges of about equal entries, one per thread.
    const total = entries.reduce((s, n) => s + n, 0);
    const parts = Math.max(1, Math.min(threads, count));
    const shares = [];
    let start = 0, seen = 0;
    for (let t = 0; t < parts; t++) {
      // At least one slot, and one left for each later share.
      let end = start;
      const last = count - (parts - t - 1);
      do seen += entries[end++]; while (end < last && seen < (total * (t + 1)) / parts);
      if (t === parts - 1) end = count;
      shares.push({ start, end, ids: heap.alloc(chunkRows * 4), values: heap.alloc(chunkRows * 4), coefficients: heap.alloc(chunkRows * 4) });
      start = end;
    }
    return new HotItems(engine, count, k, slotOfItemPtr, pointers, shares, chunkRows, residentIndptr);
  }

  /**
   * Solves the hot items for their new factors (written to the item factors): the
   * residual and each of cgSteps ≥ 1 CG steps' products a block of users at a time, on
   * the pool's threads when there is one.
   */
  async solve(pool: WorkerPool | undefined, s: HotItemsStep): Promise<void> {
    const { k, pointers: q } = this;
    const { itemUsers } = s;
    const source = itemUsers.source;
    const nUsers = itemUsers.nCols;
    const blockUsers = Math.max(64, Math.floor(BLOCK_BYTES / (4 * k)));
    const placed = itemUsers.placeShift >= 0;
    const product = (kind: number, v: number, acc: number, share: HotItems["shares"][number]): Call[] => {
      const calls: Call[] = [];
      for (let user = 0; user < nUsers; user += blockUsers) {
        calls.push({ kernel: "hotItemsBlock", args: [kind, user, Math.min(nUsers, user + blockUsers), share.start, share.end,
          itemUsers.streamPtr, itemUsers.dataPtr, itemUsers.placeShift, placed ? source.indptrPtr : 0, placed ? source.dataPtr : 0,
          s.userFactorsPtr, k, q.cursors, q.active, v, acc, s.confidenceScale, s.unobservedWeight,
          share.ids, share.values, share.coefficients, this.chunkRows] });
      }
      return calls;
    };
    const step = (first: boolean, more: boolean, share: HotItems["shares"][number]): Call =>
      ({ kernel: "hotItemsStep", args: [first, more, share.start, share.end, k, s.gramPtr, s.diagonalGram, q.x, q.r, q.p, q.ap, q.lambda, q.rsOld, q.active,
        q.items, itemUsers.indptrPtr, itemUsers.offsetsPtr, q.cursors, q.quadratic] });
    // The last step needs only pᵀAp (its product sums Σ w (x_u·p)², not rows), then x goes back to the factors.
    const lastStep = (share: HotItems["shares"][number]): Call[] => [
      { kernel: "hotItemsLastStep", args: [share.start, share.end, k, q.x, q.p, q.ap, q.rsOld, q.active, q.quadratic] },
      { kernel: "hotItemsEnd", args: [share.start, share.end, q.items, s.itemFactorsPtr, k, q.x] },
    ];
    // The residual: begin, its product with v = x into r, then p = r (and the next Ap's G term).
    await this.run(pool, (share) => [
      { kernel: "hotItemsBegin", args: [share.start, share.end, q.items, s.itemFactorsPtr, itemUsers.indptrPtr, itemUsers.offsetsPtr, k, s.gramPtr, s.diagonalGram,
        s.regularization, s.regularizationExponent, s.unobservedWeight, nUsers, q.x, q.r, q.lambda, q.active, q.cursors] },
      ...product(RESIDUAL, q.x, q.r, share),
      step(true, true, share),
    ]);
    for (let cgStep = 0; cgStep < s.cgSteps - 1; cgStep++) {
      await this.run(pool, (share) => [...product(PRODUCT, q.p, q.ap, share), step(false, true, share)]);
    }
    await this.run(pool, (share) => [...product(QUADRATIC, q.p, q.quadratic, share), ...lastStep(share)]);
  }

  // One list of calls per thread's share, on the pool or (one share) on this thread.
  private async run(pool: WorkerPool | undefined, callsFor: (share: HotItems["shares"][number]) => Call[]): Promise<void> {
    const lists = this.shares.map(callsFor);
    if (pool) { await pool.run(lists as { kernel: string; args: number[] }[][]); return; }
    const kernels = this.engine.kernels as unknown as Record<string, (...args: (number | boolean)[]) => unknown>;
    for (const list of lists) for (const { kernel, args } of list) kernels[kernel](...args);
  }

  dispose(): void {
    const { heap } = this.engine;
    heap.release(this.slotOfItemPtr);
    for (const ptr of Object.values(this.pointers)) heap.release(ptr);
    for (const { ids, values, coefficients } of this.shares) for (const ptr of [ids, values, coefficients]) heap.release(ptr);
  }
}
