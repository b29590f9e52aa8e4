// The hot items (src/hot-items.ts, assembly/als-hot-items.ts): items with more users than
// the CG kernel gathers at once, solved a block of users at a time. Their factors must be
// the same bits as the gathered kernel's (assembly/als.ts solveRowsCg), whatever the
// layout, threads, blocks, chunks and gaps; a fit must give the same model with them or
// without them.
import { afterEach, describe, expect, it } from "vitest";
import { AlternatingLeastSquares, CsrMatrix, getEngine } from "../src/index.js";
import { CompactColumns } from "../src/compact-columns.js";
import { gramOf } from "../src/gram.js";
import { HotItems, hotItemsTuning } from "../src/hot-items.js";
import { WorkerPool } from "../src/pool.js";
import { firstDifference, randomInteractions, seededRandom } from "./reference.js";
import { detachAudit } from "./support/detach-audit.js";

// 70,000 users × 8 items: item 0 liked by everyone (its entries cross every block of users
// and fill many chunks a block), item 1 by 60 users with a first gap past 0xFFFF, item 2 by
// every 7th user, item 3 by 40 (not hot), the rest sparse; some values negative.
const nUsers = 70_000, nItems = 8, hotAbove = 50;
function hotMatrix(): CsrMatrix {
  const random = seededRandom(21);
  const rows: number[] = [], cols: number[] = [], values: number[] = [];
  const add = (u: number, i: number) => { rows.push(u); cols.push(i); values.push(random() < 0.05 ? -1 - Math.floor(random() * 3) : 1 + Math.floor(random() * 20)); };
  for (let u = 0; u < nUsers; u++) add(u, 0);
  add(0, 1);
  for (let u = 66_000; u < 66_059; u++) add(u, 1);
  for (let u = 0; u < nUsers; u += 7) add(u, 2);
  for (let j = 0; j < 40; j++) add(Math.floor(random() * nUsers), 3);
  for (let i = 4; i < nItems; i++) for (let u = 0; u < nUsers; u++) if (random() < (i === 4 ? 0.002 : 0.0004)) add(u, i);
  return CsrMatrix.fromCoo({ rows, cols, values, shape: [nUsers, nItems] });
}

describe("hot items", () => {
  const cases = [
    { k: 8, values: false, diagonal: false, threads: 1 },
    { k: 8, values: true, diagonal: true, threads: 1 },
    { k: 13, values: false, diagonal: true, threads: 2 },
    { k: 13, values: true, diagonal: false, threads: 2 },
  ];
  it.each(cases)("are the same bits as the gathered kernel: $k factors, values copied $values, diagonal G $diagonal, $threads threads", async ({ k, values, diagonal, threads }) => {
    if (threads > 1 && detachAudit) return; // an unshared memory has no workers
    const { heap, kernels } = getEngine();
    const userItems = hotMatrix();
    const itemUsers = CompactColumns.transposeOf(userItems, { values });
    const random = seededRandom(k);
    const y = heap.alloc(nUsers * k * 4), x = heap.alloc(nItems * k * 4), g = heap.alloc(k * k * 4);
    heap.f32(y, nUsers * k).forEach((_, i, a) => { a[i] = (random() - 0.5) * 0.02; });
    const x0 = Float32Array.from({ length: nItems * k }, () => (random() - 0.5) * 0.1);
    if (diagonal) heap.f32(g, k).forEach((_, i, a) => { a[i] = 0.5 + random(); });
    else gramOf(getEngine(), y, nUsers, k, 1, g);
    const chunk = kernels.cgChunkRows(k), longest = itemUsers.maxRowNnz();
    const scratch = { gathered: heap.alloc(chunk * k * 4), weights: heap.alloc(longest * 4), coefficients: heap.alloc(chunk * 4), work: heap.alloc(3 * k * 4), ids: heap.alloc(longest * 4), values: heap.alloc(longest * 4) };
    const placed = !values;
    const solveGathered = (skip: number) => kernels.solveRowsCg(0, nItems, itemUsers.indptrPtr, itemUsers.streamPtr, placed ? userItems.dataPtr : itemUsers.dataPtr, x, y, k, g,
      0.7, 0.05, 0, 1, nUsers, 3, scratch.gathered, chunk, scratch.weights, scratch.coefficients, scratch.work, itemUsers.offsetsPtr, scratch.ids,
      placed ? itemUsers.dataPtr : 0, placed ? itemUsers.placeShift : 0, placed ? userItems.indptrPtr : 0, scratch.values, diagonal, skip);
    const pool = threads > 1 ? await WorkerPool.create(getEngine(), threads) : undefined;
    const hot = HotItems.plan(getEngine(), itemUsers.indptr, hotAbove, k, threads)!;
    try {
      heap.f32(x, nItems * k).set(x0);
      solveGathered(0);
      const gathered = heap.f32(x, nItems * k).slice();
      expect(hot.count).toBe(4); // items 0, 1, 2 and 4
      expect(Array.from(heap.i32(hot.slotOfItemPtr, nItems))).toEqual([0, 1, 2, -1, 3, -1, -1, -1]);
      heap.f32(x, nItems * k).set(x0);
      solveGathered(hot.slotOfItemPtr);
      await hot.solve(pool, { itemUsers, userFactorsPtr: y, itemFactorsPtr: x, gramPtr: g, diagonalGram: diagonal, confidenceScale: 0.7,
        regularization: 0.05, regularizationExponent: 0, unobservedWeight: 1, cgSteps: 3 });
      const blocked = heap.f32(x, nItems * k).slice();
      for (let i = 0; i < nItems; i++) expect(blocked.subarray(i * k, (i + 1) * k).some((v, f) => v !== x0[i * k + f]), `item ${i} solved`).toBe(true);
      expect(firstDifference(blocked, gathered)).toBe(-1);
    } finally {
      pool?.terminate();
      hot.dispose();
      for (const p of [y, x, g, ...Object.values(scratch)]) heap.release(p);
      itemUsers.dispose(); userItems.dispose();
    }
  }, 60_000);

  it("leave no item hot when none has more entries than the block holds", () => {
    const matrix = CsrMatrix.fromCoo(randomInteractions(50, 30, 0.2, 4));
    expect(HotItems.plan(getEngine(), matrix.transpose().indptr, matrix.nRows, 8, 1)).toBeUndefined();
  });
});

describe("ALS fits with hot items", () => {
  afterEach(() => { hotItemsTuning.enabled = true; });

  it.skipIf(detachAudit)("give the same model as without them, on 1 and 2 threads", async () => {
    // 64 factors gather 2,048 rows at once: three items liked by ~2,600–6,000 of 8,000 users are hot.
    const data = randomInteractions(8000, 120, 0.01, 9);
    const random = seededRandom(5);
    for (let u = 0; u < 8000; u++) for (const [item, share] of [[0, 0.75], [1, 0.5], [2, 0.33]]) if (random() < share) { data.rows.push(u); data.cols.push(item); data.values.push(1 + Math.floor(random() * 9)); }
    const userItems = CsrMatrix.fromCoo(data);
    const digest = async (threads: number) => {
      const model = new AlternatingLeastSquares({ factors: 64, iterations: 2, seed: 4, threads, regularization: 0.05 });
      await model.fit(userItems);
      return Buffer.from(await crypto.subtle.digest("SHA-256", model.save())).toString("hex");
    };
    const withHot = await digest(1);
    expect(await digest(2)).toBe(withHot);
    hotItemsTuning.enabled = false;
    expect(await digest(1)).toBe(withHot);
  }, 60_000);
});
