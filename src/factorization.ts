// What every latent-factor model answers once trained (implicit's
// MatrixFactorizationBase): recommend, similarItems, similarUsers. Scores are inner
// products of factor rows; top-n is exact and computed in wasm (see top-k.ts).

import { restoreExtraChunks, type Catalog } from "./catalog.js";
import type { CsrMatrix } from "./csr.js";
import type { Engine } from "./engine.js";
import { LITTLE_ENDIAN } from "./endian.js";
import { checkFactorsFinite } from "./fit-error.js";
import type { ModelFileContents } from "./model-file.js";
import { poolFor, threadsFor } from "./pool.js";
import { topK, topKParallel, type Exclusion, type QuantizedTargets, type TopKJob, type TopKRows } from "./top-k.js";

/** The n best items for one query, best first. */
export interface TopN {
  ids: Int32Array;
  scores: Float32Array;
}

/** One TopN per query, in the order asked. */
export interface BatchTopN {
  ids: Int32Array[];
  scores: Float32Array[];
}

export interface RecommendOptions {
  /** How many items to return (fewer when fewer are left after filtering). Default 10. */
  n?: number;
  /** Leave out items the user already has in userItems. Default true. */
  filterAlreadyLikedItems?: boolean;
  /** Item ids never to return. */
  filterItems?: ArrayLike<number>;
  /** Rank only these item ids. */
  items?: ArrayLike<number>;
}

export interface SimilarOptions {
  /** How many to return, the query itself included (as implicit). Default 10. */
  n?: number;
  /** Ids never to return. */
  filter?: ArrayLike<number>;
  /** Rank only these ids. */
  candidates?: ArrayLike<number>;
}

export interface ThreadOptions {
  /** Worker threads to spread the queries over (default: every core; one without shared memory). */
  threads?: number;
  /** Hears, as the work goes, that `done` of the `total` queries are answered (for long batches). */
  onProgress?: (done: number, total: number) => void;
}

/** A planned top-n job and the wasm blocks to free after it. */
interface PlannedQuery { job: TopKJob; single: boolean; owned: number[] }

// Factors quantizeRows converts per call.
const QUANTIZE_RANGE_FLOATS = 1 << 20;

// Row ids by decreasing norm, ties by id: one native sort of 64-bit keys (high word the
// complemented float bits, which order like the non-negative norms; low word the id),
// 4–7× faster than a comparator sort over 300k rows.
function byDecreasingNorm(norms: Float32Array): Int32Array {
  const n = norms.length;
  if (!LITTLE_ENDIAN) return Int32Array.from(norms.keys()).sort((a, b) => norms[b] - norms[a] || a - b);
  const bits = new Uint32Array(norms.buffer, norms.byteOffset, n);
  const keys = new BigUint64Array(n);
  const words = new Uint32Array(keys.buffer); // little-endian: [low, high] per key
  for (let r = 0; r < n; r++) { words[2 * r] = r; words[2 * r + 1] = ~bits[r] >>> 0; }
  keys.sort();
  const order = new Int32Array(n);
  for (let r = 0; r < n; r++) order[r] = words[2 * r];
  return order;
}

/** Shared query logic over user and item factor matrices in wasm memory. */
export abstract class FactorModel {
  /** @internal */ abstract readonly engine: Engine;
  abstract readonly factors: number;
  abstract nUsers: number;
  abstract nItems: number;
  /** @internal */ protected abstract userFactorsPtr: number;
  /** @internal */ protected abstract itemFactorsPtr: number;
  /** @internal Throws ModelFitError (naming `model` and `iteration`) if a factor is NaN or infinite. */
  protected checkFactorsFinite(model: string, iteration: number, advice: string): void {
    checkFactorsFinite(this.engine, model, iteration,
      { usersPtr: this.userFactorsPtr, nUsers: this.nUsers, itemsPtr: this.itemFactorsPtr, nItems: this.nItems, width: this.factors }, advice);
  }

  // Per factor matrix: 1/‖row‖ (cosine), and row ids sorted by norm with their norms (pruning).
  private normCache: Partial<Record<"users" | "items", { inverse?: number; quantized?: QuantizedTargets }>> = {};
  /** The data's own ids and item names, saved with the model (set by whoever trains it). */
  catalog?: Catalog;
  /** The training users × items matrix, saved with the model when set: lets a loaded model filter and explain. */
  userItems?: CsrMatrix;

  /** Users × factors, row-major (a view into wasm memory: re-read it after other calls). */
  get userFactors(): Float32Array { this.checkFitted(); return this.engine.heap.f32(this.userFactorsPtr, this.nUsers * this.factors); }
  /** Items × factors, row-major (a view into wasm memory: re-read it after other calls). */
  get itemFactors(): Float32Array { this.checkFitted(); return this.engine.heap.f32(this.itemFactorsPtr, this.nItems * this.factors); }

  /**
   * The best items for a user, skipping those they already have.
   * - `user`: a user id, an array of user ids (→ one result row per user), or a
   *   Float32Array of one user's `factors` floats (e.g. from recalculateUser).
   * - `userItems`: the users × items matrix (row = user id), or a matrix with one row
   *   per user asked for (implicit's user_items[userids]), to filter liked items; for a
   *   factor-vector user, the liked item ids.
   */
  recommend(user: number, userItems?: CsrMatrix, options?: RecommendOptions): TopN;
  recommend(userFactors: Float32Array, likedItems?: ArrayLike<number>, options?: RecommendOptions): TopN;
  recommend(users: ArrayLike<number>, userItems?: CsrMatrix, options?: RecommendOptions): BatchTopN;
  recommend(user: number | ArrayLike<number>, userItems?: CsrMatrix | ArrayLike<number>, options: RecommendOptions = {}): TopN | BatchTopN {
    return this.run(this.planRecommend(user, userItems, options));
  }

  /**
   * recommend for an array of users, spread over worker threads: the same answers as
   * `recommend(users, …)`, bit for bit, for any thread count.
   */
  recommendAsync(users: ArrayLike<number>, userItems?: CsrMatrix, options: RecommendOptions & ThreadOptions = {}): Promise<BatchTopN> {
    return this.runParallel(this.planRecommend(users, userItems, options), options);
  }

  private planRecommend(user: number | ArrayLike<number>, userItems: CsrMatrix | ArrayLike<number> | undefined, options: RecommendOptions): PlannedQuery {
    this.checkFitted();
    const { n = 10, filterAlreadyLikedItems = true } = options;
    const k = this.factors;
    const single = typeof user === "number" || user instanceof Float32Array;

    let queries = this.userFactorsPtr, queryIds: Int32Array | undefined, nQueries: number;
    let exclude: Exclusion | undefined;
    const owned: number[] = [];
    const { heap } = this.engine;
    try {
      if (user instanceof Float32Array) {
        if (user.length !== k) throw new RangeError(`recommend: a user's factors are ${k} floats, got ${user.length}`);
        nQueries = 1;
        queries = heap.alloc(k * 4);
        owned.push(queries);
        heap.f32(queries, k).set(user);
        if (filterAlreadyLikedItems) {
          if (userItems === undefined) throw new Error("recommend: pass the user's liked item ids as userItems, or set filterAlreadyLikedItems: false");
          exclude = this.packLists([userItems as ArrayLike<number>], this.nItems, "userItems", owned);
        }
      } else {
        queryIds = this.checkIds(single ? [user as number] : (user as ArrayLike<number>), this.nUsers, "user");
        nQueries = queryIds.length;
        if (filterAlreadyLikedItems) {
          const matrix = userItems as CsrMatrix | undefined;
          if (!matrix || typeof (matrix as CsrMatrix).nnz !== "number") {
            throw new Error("recommend: pass userItems (the users × items CsrMatrix given to fit) to filter liked items, or set filterAlreadyLikedItems: false");
          }
          if (matrix.nCols !== this.nItems) throw new RangeError(`recommend: userItems has ${matrix.nCols} columns but the model has ${this.nItems} items`);
          if (matrix.nRows === nQueries && matrix.nRows !== this.nUsers) {
            // implicit ≥ 0.5 style: user_items[userids], one row per queried user.
            exclude = { indptr: matrix.indptrPtr, indices: matrix.indicesPtr, byPosition: true };
          } else {
            for (const id of queryIds) if (id >= matrix.nRows) throw new RangeError(`recommend: user ${id} has no row in userItems (${matrix.nRows} rows); pass the users × items matrix, or one row per user asked for`);
            exclude = { indptr: matrix.indptrPtr, indices: matrix.indicesPtr, byPosition: false };
          }
        }
      }
      return { single, owned, job: this.planTopK(queries, queryIds, nQueries, "items", false, n, options.filterItems, options.items, exclude, owned) };
    } catch (error) {
      for (const ptr of owned) heap.release(ptr);
      throw error;
    }
  }

  /** Items most similar to an item (cosine of factors, as implicit); the item itself comes first. */
  similarItems(item: number, options?: SimilarOptions): TopN;
  similarItems(items: ArrayLike<number>, options?: SimilarOptions): BatchTopN;
  similarItems(item: number | ArrayLike<number>, options: SimilarOptions = {}): TopN | BatchTopN {
    return this.run(this.planSimilar("items", item, options));
  }

  /**
   * similarItems for an array of items, spread over worker threads (the same answers, bit
   * for bit). Asked for every item (each id once, any order, no filter or candidates), it
   * scores each pair of items once for both: about half the work of asking item by item.
   */
  similarItemsAsync(items: ArrayLike<number>, options: SimilarOptions & ThreadOptions = {}): Promise<BatchTopN> {
    return this.runParallel(this.planSimilar("items", items, options), options);
  }

  /** Users most similar to a user (cosine of factors); the user itself comes first. */
  similarUsers(user: number, options?: SimilarOptions): TopN;
  similarUsers(users: ArrayLike<number>, options?: SimilarOptions): BatchTopN;
  similarUsers(user: number | ArrayLike<number>, options: SimilarOptions = {}): TopN | BatchTopN {
    return this.run(this.planSimilar("users", user, options));
  }

  /** similarUsers for an array of users, spread over worker threads (the same answers, bit for bit). */
  similarUsersAsync(users: ArrayLike<number>, options: SimilarOptions & ThreadOptions = {}): Promise<BatchTopN> {
    return this.runParallel(this.planSimilar("users", users, options), options);
  }

  private planSimilar(side: "users" | "items", query: number | ArrayLike<number>, options: SimilarOptions): PlannedQuery {
    this.checkFitted();
    const single = typeof query === "number";
    const ids = this.checkIds(single ? [query] : query, side === "users" ? this.nUsers : this.nItems, side === "users" ? "user" : "item");
    const factors = side === "users" ? this.userFactorsPtr : this.itemFactorsPtr;
    const owned: number[] = [];
    return { single, owned, job: this.planTopK(factors, ids, ids.length, side, true, options.n ?? 10, options.filter, options.candidates, undefined, owned) };
  }

  /** @internal Call after factors change: cached norms are stale. */
  protected factorsChanged(): void {
    const { heap } = this.engine;
    for (const cache of Object.values(this.normCache)) {
      if (cache.inverse) heap.release(cache.inverse);
      if (cache.quantized) for (const ptr of [cache.quantized.quantized, cache.quantized.ids, cache.quantized.axial]) heap.release(ptr);
    }
    this.normCache = {};
  }

  /** Frees the factors' wasm memory now. */
  dispose(): void {
    this.factorsChanged();
    if (this.userFactorsPtr) this.engine.heap.release(this.userFactorsPtr);
    if (this.itemFactorsPtr) this.engine.heap.release(this.itemFactorsPtr);
    this.userFactorsPtr = this.itemFactorsPtr = 0;
    this.nUsers = this.nItems = 0;
  }

  protected checkFitted(): void {
    if (!this.userFactorsPtr) throw new Error(`${this.constructor.name}: the model is not fitted: call fit() or load() first`);
  }

  /** @internal Fresh (uninitialised) factor rows for nUsers × nItems, replacing any old ones. */
  protected allocateFactors(nUsers: number, nItems: number): void {
    this.dispose();
    const width = this.factors;
    this.nUsers = nUsers;
    this.nItems = nItems;
    this.userFactorsPtr = this.engine.heap.alloc(Math.max(nUsers * width, 1) * 4);
    this.itemFactorsPtr = this.engine.heap.alloc(Math.max(nItems * width, 1) * 4);
  }

  /** @internal The factors, catalog and training matrix of a model file read by readModelFile. */
  protected restoreFrom(file: ModelFileContents): void {
    // Before allocating: rows are as wide as the options say, and the options come from
    // the file too. A forged options.factors would size the factors (26M factors: 2 GiB).
    if (file.factors !== this.factors) throw new Error(`edgerec model file: META says rows of ${file.factors} floats, the options ${this.factors}`);
    this.allocateFactors(file.nUsers, file.nItems);
    this.engine.heap.f32(this.userFactorsPtr, file.nUsers * file.factors).set(file.userFactors);
    this.engine.heap.f32(this.itemFactorsPtr, file.nItems * file.factors).set(file.itemFactors);
    restoreExtraChunks(this, file);
  }

  private factorRows(side: "users" | "items"): { ptr: number; rows: number } {
    return side === "users" ? { ptr: this.userFactorsPtr, rows: this.nUsers } : { ptr: this.itemFactorsPtr, rows: this.nItems };
  }

  private inverseNorms(side: "users" | "items"): number {
    const cache = (this.normCache[side] ??= {});
    if (cache.inverse) return cache.inverse;
    const { ptr, rows } = this.factorRows(side);
    cache.inverse = this.engine.heap.alloc(Math.max(rows, 1) * 4);
    this.engine.kernels.inverseNorms(ptr, rows, this.factors, cache.inverse);
    return cache.inverse;
  }

  // A 16-bit copy of one side's factors in decreasing-norm order, for the two-pass top-n
  // kernel (built once per factor matrix, about half the size of the factors).
  private quantizedTargets(side: "users" | "items"): QuantizedTargets {
    const cache = (this.normCache[side] ??= {});
    if (cache.quantized) return cache.quantized;
    const { heap, kernels } = this.engine;
    const { ptr, rows } = this.factorRows(side);
    const kq = Math.ceil(this.factors / 8) * 8;
    const norms = new Float32Array(rows);
    const perRow = heap.alloc(Math.max(rows, 1) * 4 * 5); // ids, scales, residuals, norms, inverse norms
    let quantized = 0, axial = 0;
    try {
      kernels.rowNorms(ptr, rows, this.factors, perRow);
      norms.set(heap.f32(perRow, rows));
      heap.i32(perRow, rows).set(byDecreasingNorm(norms));
      const pairedRows = Math.ceil(rows / 2) * 2 || 2;
      quantized = heap.alloc(pairedRows * kq * 2); // rows in pairs
      const at = (j: number) => perRow + j * rows * 4;
      const rangeRows = Math.max(2, Math.floor(QUANTIZE_RANGE_FLOATS / this.factors) & ~1);
      // The axis of the copy's cheap bound (after two floats a row): the direction of the
      // rows' sum, summed in f64 in its own slot, then stored there as f32 (the kernels
      // scale it to unit length). For ALS and BPR factors the mean row points along the top
      // principal axis (cosine 1.0000 on the bench's 64-factor model); any axis keeps the
      // bound exact, a good one only makes it prune more.
      axial = heap.alloc(pairedRows * 8 + this.factors * 8);
      const axis = axial + pairedRows * 8;
      heap.f64(axis, this.factors).fill(0);
      for (let first = 0; first < rows; first += rangeRows) kernels.sumRows(ptr, first, Math.min(rows, first + rangeRows), this.factors, axis);
      heap.f32(axis, this.factors).set(Float32Array.from(heap.f64(axis, this.factors)));
      // quantizeRows reads the order from ids' own slot before writing each id back: same
      // value. A range of rows a call, so a first use runs one range in V8's baseline tier.
      for (let first = 0; first < rows; first += rangeRows) {
        kernels.quantizeRows(ptr, rows, first, Math.min(rows, first + rangeRows), this.factors, kq, at(0), quantized, at(0), at(1), at(2), at(3), at(4), axis, axial);
      }
      cache.quantized = { kq, quantized, ids: at(0), scales: at(1), residuals: at(2), norms: at(3), invNorms: at(4), axis, axial };
      return cache.quantized;
    } catch (error) {
      for (const block of [perRow, quantized, axial]) if (block) heap.release(block);
      throw error;
    }
  }

  // The top-n job for queries against one side's factors; blocks it allocates go to `owned`.
  private planTopK(
    queries: number, queryIds: Int32Array | undefined, nQueries: number, side: "users" | "items", cosine: boolean, n: number,
    filter: ArrayLike<number> | undefined, candidates: ArrayLike<number> | undefined, exclude: Exclusion | undefined, owned: number[],
  ): TopKJob {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
    const { heap } = this.engine;
    const { ptr: targets, rows: nTargets } = this.factorRows(side);
    const targetName = side === "users" ? "user" : "item";
    const filterIds = filter ? this.checkIds(filter, nTargets, targetName) : undefined;
    let order = 0, nOrder = nTargets, quantized: QuantizedTargets | undefined;
    if (candidates) {
      const candidateIds = this.checkIds(candidates, nTargets, targetName);
      nOrder = candidateIds.length;
      order = heap.alloc(Math.max(nOrder, 1) * 4);
      owned.push(order);
      heap.i32(order, nOrder).set(candidateIds);
    } else {
      quantized = this.quantizedTargets(side);
    }
    return {
      queries, queryIds, nQueries, targets, nTargets, k: this.factors, cosine,
      // The quantized copy carries its own inverse norms; only a candidate list needs these.
      targetInvNorms: cosine && !quantized ? this.inverseNorms(side) : 0,
      order, nOrder, quantized, filter: filterIds, exclude, n: Math.min(n, nOrder),
    };
  }

  private run(plan: PlannedQuery): TopN | BatchTopN {
    try {
      return this.answer(plan, plan.job.n > 0 ? topK(this.engine, plan.job) : undefined);
    } finally {
      for (const ptr of plan.owned) this.engine.heap.release(ptr);
    }
  }

  private async runParallel(plan: PlannedQuery, { threads = 0, onProgress }: ThreadOptions): Promise<BatchTopN> {
    try {
      const count = threadsFor(this.engine, threads);
      let rows: TopKRows | undefined;
      if (plan.job.n > 0) rows = count > 1 ? await topKParallel(this.engine, await poolFor(this.engine, count), plan.job, count, onProgress) : topK(this.engine, plan.job, onProgress);
      return this.answer(plan, rows) as BatchTopN;
    } finally {
      for (const ptr of plan.owned) this.engine.heap.release(ptr);
    }
  }

  // Kernel rows → one TopN (trailing unused slots cut) or one per query.
  private answer({ job, single }: PlannedQuery, rows: TopKRows | undefined): TopN | BatchTopN {
    const width = job.n;
    const rowAt = (q: number): TopN => {
      if (!rows) return { ids: new Int32Array(0), scores: new Float32Array(0) };
      const ids = rows.ids.subarray(q * width, (q + 1) * width);
      let found = 0;
      while (found < width && ids[found] >= 0) found++;
      return { ids: ids.subarray(0, found), scores: rows.scores.subarray(q * width, q * width + found) };
    };
    if (single) return rowAt(0);
    const result: BatchTopN = { ids: [], scores: [] };
    for (let q = 0; q < job.nQueries; q++) { const row = rowAt(q); result.ids.push(row.ids); result.scores.push(row.scores); }
    return result;
  }

  // Lists of ids → a small CSR in wasm (one row per list), for per-query exclusion.
  private packLists(lists: ArrayLike<number>[], bound: number, what: string, owned: number[]): Exclusion {
    const { heap } = this.engine;
    let total = 0;
    for (const list of lists) total += list.length;
    const indptr = heap.alloc((lists.length + 1) * 4), indices = heap.alloc(Math.max(total, 1) * 4);
    try {
      const ip = heap.i32(indptr, lists.length + 1), ix = heap.i32(indices, Math.max(total, 1));
      let at = 0;
      ip[0] = 0;
      lists.forEach((list, q) => { ix.set(this.checkIds(list, bound, what), at); at += list.length; ip[q + 1] = at; });
    } finally {
      owned.push(indptr, indices);
    }
    return { indptr, indices, byPosition: true };
  }

  /** @internal Validated int32 copy of ids, each in [0, bound). */
  protected checkIds(ids: ArrayLike<number>, bound: number, what: string): Int32Array {
    const out = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= bound) throw new RangeError(`${what} id ${id} is outside [0, ${bound})`);
      out[i] = id;
    }
    return out;
  }
}
