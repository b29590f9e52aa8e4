// What every latent-factor model answers once trained (implicit's
// MatrixFactorizationBase): recommend, similarItems, similarUsers. Scores are inner
// products of factor rows; top-n is exact and computed in wasm by topKRows.

import { restoreExtraChunks, type Catalog } from "./catalog.js";
import type { CsrMatrix } from "./csr.js";
import type { Engine } from "./engine.js";
import type { ModelFileContents } from "./model-file.js";

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

/** Items to skip per query: a CSR in wasm, its rows by query position or by user id. */
interface Exclusion { indptr: number; indices: number; owned: boolean; byPosition: boolean }

// Queries per kernel call: bounds the output scratch, and keeps each wasm call short so
// V8 tiers the kernel up to optimized code early (see shared wasm findings).
const QUERY_CHUNK = 1024;

/** Shared query logic over user and item factor matrices in wasm memory. */
export abstract class FactorModel {
  /** @internal */ abstract readonly engine: Engine;
  abstract readonly factors: number;
  abstract nUsers: number;
  abstract nItems: number;
  /** @internal */ protected abstract userFactorsPtr: number;
  /** @internal */ protected abstract itemFactorsPtr: number;
  private normCache: { users?: number; items?: number } = {};
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
    this.checkFitted();
    const { n = 10, filterAlreadyLikedItems = true } = options;
    const k = this.factors;
    const single = typeof user === "number" || user instanceof Float32Array;

    let queries = this.userFactorsPtr, queryIds: Int32Array | undefined, nQueries: number, ownedQueries = 0;
    let exclude: Exclusion | undefined;
    const { heap } = this.engine;
    if (user instanceof Float32Array) {
      if (user.length !== k) throw new RangeError(`recommend: a user's factors are ${k} floats, got ${user.length}`);
      nQueries = 1;
      ownedQueries = heap.alloc(k * 4);
      heap.f32(ownedQueries, k).set(user);
      queries = ownedQueries;
      if (filterAlreadyLikedItems) {
        if (userItems === undefined) throw new Error("recommend: pass the user's liked item ids as userItems, or set filterAlreadyLikedItems: false");
        exclude = this.packLists([userItems as ArrayLike<number>], this.nItems, "userItems");
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
          exclude = { indptr: matrix.indptrPtr, indices: matrix.indicesPtr, owned: false, byPosition: true };
        } else {
          for (const id of queryIds) if (id >= matrix.nRows) throw new RangeError(`recommend: user ${id} has no row in userItems (${matrix.nRows} rows); pass the users × items matrix, or one row per user asked for`);
          exclude = { indptr: matrix.indptrPtr, indices: matrix.indicesPtr, owned: false, byPosition: false };
        }
      }
    }
    try {
      return this.topK(queries, queryIds, nQueries, single, this.itemFactorsPtr, this.nItems, false, n, options.filterItems, options.items, exclude, "item");
    } finally {
      if (ownedQueries) heap.release(ownedQueries);
      if (exclude?.owned) { heap.release(exclude.indptr); heap.release(exclude.indices); }
    }
  }

  /** Items most similar to an item (cosine of factors, as implicit); the item itself comes first. */
  similarItems(item: number, options?: SimilarOptions): TopN;
  similarItems(items: ArrayLike<number>, options?: SimilarOptions): BatchTopN;
  similarItems(item: number | ArrayLike<number>, options: SimilarOptions = {}): TopN | BatchTopN {
    this.checkFitted();
    const single = typeof item === "number";
    const ids = this.checkIds(single ? [item] : item, this.nItems, "item");
    return this.topK(this.itemFactorsPtr, ids, ids.length, single, this.itemFactorsPtr, this.nItems, true, options.n ?? 10, options.filter, options.candidates, undefined, "item");
  }

  /** Users most similar to a user (cosine of factors); the user itself comes first. */
  similarUsers(user: number, options?: SimilarOptions): TopN;
  similarUsers(users: ArrayLike<number>, options?: SimilarOptions): BatchTopN;
  similarUsers(user: number | ArrayLike<number>, options: SimilarOptions = {}): TopN | BatchTopN {
    this.checkFitted();
    const single = typeof user === "number";
    const ids = this.checkIds(single ? [user] : user, this.nUsers, "user");
    return this.topK(this.userFactorsPtr, ids, ids.length, single, this.userFactorsPtr, this.nUsers, true, options.n ?? 10, options.filter, options.candidates, undefined, "user");
  }

  /** @internal Call after factors change: cached norms are stale. */
  protected factorsChanged(): void {
    const { heap } = this.engine;
    if (this.normCache.users) heap.release(this.normCache.users);
    if (this.normCache.items) heap.release(this.normCache.items);
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
    this.allocateFactors(file.nUsers, file.nItems);
    this.engine.heap.f32(this.userFactorsPtr, file.nUsers * file.factors).set(file.userFactors);
    this.engine.heap.f32(this.itemFactorsPtr, file.nItems * file.factors).set(file.itemFactors);
    restoreExtraChunks(this, file);
  }

  private inverseNorms(side: "users" | "items"): number {
    const cached = this.normCache[side];
    if (cached) return cached;
    const rows = side === "users" ? this.nUsers : this.nItems;
    const ptr = this.engine.heap.alloc(rows * 4);
    this.engine.kernels.inverseNorms(side === "users" ? this.userFactorsPtr : this.itemFactorsPtr, rows, this.factors, ptr);
    this.normCache[side] = ptr;
    return ptr;
  }

  private topK(
    queries: number, queryIds: Int32Array | undefined, nQueries: number, single: boolean,
    targets: number, nTargets: number, cosine: boolean, n: number,
    filter: ArrayLike<number> | undefined, candidates: ArrayLike<number> | undefined,
    exclude: Exclusion | undefined, targetName: string,
  ): TopN | BatchTopN {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
    const { heap, kernels } = this.engine;
    const invNorms = cosine ? this.inverseNorms(targets === this.userFactorsPtr ? "users" : "items") : 0;
    const candidateIds = candidates ? this.checkIds(candidates, nTargets, targetName) : undefined;
    const width = Math.min(n, candidateIds ? candidateIds.length : nTargets);
    const chunk = Math.min(nQueries, QUERY_CHUNK);
    const maskPtr = heap.allocZeroed(nTargets);
    const candidatesPtr = candidateIds ? heap.alloc(candidateIds.length * 4) : 0;
    const queryIdsPtr = queryIds ? heap.alloc(chunk * 4) : 0;
    const outIdsPtr = heap.alloc(Math.max(chunk * width, 1) * 4);
    const outScoresPtr = heap.alloc(Math.max(chunk * width, 1) * 4);
    const allIds = new Int32Array(nQueries * width), allScores = new Float32Array(nQueries * width);
    try {
      if (filter) {
        const mask = heap.u8(maskPtr, nTargets);
        for (const id of this.checkIds(filter, nTargets, targetName)) mask[id] = 1;
      }
      if (candidateIds) heap.i32(candidatesPtr, candidateIds.length).set(candidateIds);
      for (let first = 0; first < nQueries && width > 0; first += chunk) {
        const count = Math.min(chunk, nQueries - first);
        if (queryIds) heap.i32(queryIdsPtr, count).set(queryIds.subarray(first, first + count));
        // Without ids, query q is row q: offset the base so the chunk starts at `first`.
        const base = queryIds ? queries : queries + first * this.factors * 4;
        // Exclusion rows by position follow the chunk; rows by id are absolute.
        const byPosition = exclude ? exclude.byPosition || !queryIds : false;
        const excludeIndptr = exclude ? (byPosition ? exclude.indptr + first * 4 : exclude.indptr) : 0;
        kernels.topKRows(base, queryIdsPtr, count, targets, nTargets, this.factors, invNorms,
          candidatesPtr, candidateIds ? candidateIds.length : 0, maskPtr, excludeIndptr, exclude ? exclude.indices : 0, byPosition,
          width, outIdsPtr, outScoresPtr);
        allIds.set(heap.i32(outIdsPtr, count * width), first * width);
        allScores.set(heap.f32(outScoresPtr, count * width), first * width);
      }
    } finally {
      for (const ptr of [maskPtr, candidatesPtr, queryIdsPtr, outIdsPtr, outScoresPtr]) if (ptr) heap.release(ptr);
    }
    const rowAt = (q: number): TopN => {
      const ids = allIds.subarray(q * width, (q + 1) * width);
      let found = 0;
      while (found < width && ids[found] >= 0) found++;
      return { ids: ids.subarray(0, found), scores: allScores.subarray(q * width, q * width + found) };
    };
    if (single) return rowAt(0);
    const result: BatchTopN = { ids: [], scores: [] };
    for (let q = 0; q < nQueries; q++) { const row = rowAt(q); result.ids.push(row.ids); result.scores.push(row.scores); }
    return result;
  }

  // Lists of ids → a small CSR in wasm (one row per list), for per-query exclusion.
  private packLists(lists: ArrayLike<number>[], bound: number, what: string): Exclusion {
    const { heap } = this.engine;
    let total = 0;
    for (const list of lists) total += list.length;
    const indptr = heap.alloc((lists.length + 1) * 4), indices = heap.alloc(Math.max(total, 1) * 4);
    try {
      const ip = heap.i32(indptr, lists.length + 1), ix = heap.i32(indices, Math.max(total, 1));
      let at = 0;
      ip[0] = 0;
      lists.forEach((list, q) => { ix.set(this.checkIds(list, bound, what), at); at += list.length; ip[q + 1] = at; });
    } catch (error) {
      heap.release(indptr); heap.release(indices);
      throw error;
    }
    return { indptr, indices, owned: true, byPosition: true };
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
