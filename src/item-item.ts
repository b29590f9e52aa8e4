// Item-item nearest-neighbour recommenders with the semantics of implicit's
// nearest_neighbours module (ItemItemRecommender, CosineRecommender, TFIDFRecommender,
// BM25Recommender), and a popularity baseline. The similarity product and the scoring
// run in wasm (assembly/mf.ts, "Item-item nearest neighbours"), where the maths is spelt out.
//
// implicit 0.7, for reference:
//   fit(user_items): W = weighting of the items × users matrix (cosine: rows L2-normalised;
//     tf-idf: tfidf_weight then rows L2-normalised; bm25: bm25_weight; base class: as given),
//     similarity = all_pairs_knn: S = W·Wᵀ keeping the K largest entries of each row
//     (the item itself included).
//   recommend: score_j = Σ_{i in the user's row} value_ui·S_ij, over the items the user's
//     liked items reach through their rows of S; similar_items(i): the best of row i of S.

import { CsrMatrix } from "./csr.js";
import { getEngine, type Engine } from "./engine.js";
import type { BatchTopN, RecommendOptions, SimilarOptions, TopN } from "./factorization.js";
import { decodeInteractions, encodeInteractions, extraChunks, restoreExtraChunks, type Catalog } from "./catalog.js";
import { modelFromOptions, readModelFile, restoreOrDispose, writeModelFile } from "./model-file.js";
import { bm25Weight, tfidfWeight } from "./weighting.js";

/** Score of a candidate that no liked item reaches (implicit: -numpy.finfo(float32).max). */
const UNREACHED = -3.4028234663852886e38;
// Similarity rows per kernel call, and queries per recommend call (short wasm calls tier up).
const ROW_CHUNK = 1024;
const QUERY_CHUNK = 1024;

export interface ItemItemOptions {
  /** Neighbours kept per item (the item itself included). Default 20. */
  K?: number;
}

export interface BM25Options extends ItemItemOptions {
  /** BM25 term-frequency saturation. Default 1.2, as implicit's BM25Recommender (bm25Weight defaults to 100). */
  K1?: number;
  /** BM25 length normalisation. Default 0.75, as implicit's BM25Recommender (bm25Weight defaults to 0.8). */
  B?: number;
}

/**
 * implicit's ItemItemRecommender: fit() takes an already weighted users × items matrix and
 * keeps the K most similar items per item by inner product of the items' columns.
 * Subclasses weight the matrix first.
 */
export class ItemItemRecommender {
  readonly K: number;
  /** @internal */ readonly engine: Engine;
  /** Items × items, the K best neighbours per row (ascending column ids). Set by fit() or load(). */
  similarity?: CsrMatrix;
  /** The data's own ids and item names, saved with the model (set by whoever trains it). */
  catalog?: Catalog;
  /** The training users × items matrix, saved with the model when set. */
  userItems?: CsrMatrix;
  nUsers = 0;
  nItems = 0;
  /** @internal */ protected readonly kind: string = "itemitem";

  constructor({ K = 20 }: ItemItemOptions = {}) {
    if (!Number.isInteger(K) || K < 1) throw new RangeError(`${this.constructor.name}: K must be an integer ≥ 1, got ${K}`);
    this.K = K;
    this.engine = getEngine();
  }

  /** @internal The options save() stores. */
  protected get savedOptions(): Record<string, number> { return { K: this.K }; }

  /**
   * Builds the item-item similarity from a users × items matrix (implicit's user_items).
   * The matrix is not changed.
   */
  async fit(userItems: CsrMatrix): Promise<void> {
    if (!(userItems instanceof CsrMatrix)) throw new TypeError(`${this.constructor.name}.fit: userItems must be a CsrMatrix (users × items)`);
    const itemUsers = userItems.transpose();
    let weighted: CsrMatrix | undefined, weightedT: CsrMatrix | undefined;
    try {
      weighted = this.weight(itemUsers);
      weightedT = weighted.transpose();
      this.setSimilarity(this.allPairsKnn(weighted, weightedT), userItems.nRows);
    } finally {
      weightedT?.dispose();
      if (weighted !== itemUsers) weighted?.dispose();
      itemUsers.dispose();
    }
  }

  /**
   * The best items for a user: score_j = Σ over the user's items i of value_ui·S_ij, among
   * the items their neighbour lists reach (fewer than n when fewer are reached), skipping the
   * user's own items unless `filterAlreadyLikedItems` is false. Equal scores go to the
   * smaller id. With `items`, the candidates no liked item reaches follow the reached ones
   * with score -3.4028235e38 (as implicit).
   * - `user`: a user id, or an array of ids (→ one result row per user).
   * - `userItems`: the users × items matrix (row = user id), or one row per user asked for
   *   (implicit's user_items[userids]); its values weigh the liked items.
   */
  recommend(user: number, userItems: CsrMatrix, options?: RecommendOptions): TopN;
  recommend(users: ArrayLike<number>, userItems: CsrMatrix, options?: RecommendOptions): BatchTopN;
  recommend(user: number | ArrayLike<number>, userItems: CsrMatrix, options: RecommendOptions = {}): TopN | BatchTopN {
    const similarity = this.checkFitted();
    const { n = 10, filterAlreadyLikedItems = true } = options;
    checkN(n);
    const single = typeof user === "number";
    if (!(userItems instanceof CsrMatrix)) throw new TypeError("recommend: pass userItems, the users × items CsrMatrix whose rows are the users' liked items");
    const { rows, byPosition } = queryRows(single ? [user as number] : (user as ArrayLike<number>), userItems, this.nUsers, this.nItems);
    const nQueries = rows.length;
    const candidates = options.items ? checkIds(options.items, this.nItems, "item") : undefined;
    const width = Math.min(n, candidates ? new Set(candidates).size : this.nItems);
    const { heap, kernels } = this.engine;
    const nItems = this.nItems;
    const chunk = Math.max(1, Math.min(nQueries, QUERY_CHUNK));
    const ptrs = {
      mask: heap.allocZeroed(Math.max(nItems, 1)), flags: heap.allocZeroed(Math.max(nItems, 1)),
      acc: heap.allocZeroed(Math.max(nItems, 1) * 8), touched: heap.alloc(Math.max(nItems, 1) * 4),
      rows: heap.alloc(chunk * 4), ids: heap.alloc(Math.max(chunk * width, 1) * 4), scores: heap.alloc(Math.max(chunk * width, 1) * 4),
    };
    const allIds = new Int32Array(nQueries * width), allScores = new Float32Array(nQueries * width);
    try {
      const mask = heap.u8(ptrs.mask, nItems);
      if (candidates) { mask.fill(1); for (const id of candidates) mask[id] = 0; }
      if (options.filterItems) for (const id of checkIds(options.filterItems, nItems, "item")) mask[id] = 1;
      for (let first = 0; first < nQueries && width > 0; first += chunk) {
        const count = Math.min(chunk, nQueries - first);
        heap.i32(ptrs.rows, count).set(byPosition ? Int32Array.from({ length: count }, (_, q) => first + q) : rows.subarray(first, first + count));
        kernels.knnRecommend(ptrs.rows, count, userItems.indptrPtr, userItems.indicesPtr, userItems.dataPtr,
          similarity.indptrPtr, similarity.indicesPtr, similarity.dataPtr,
          ptrs.mask, filterAlreadyLikedItems, ptrs.acc, ptrs.flags, ptrs.touched, width, ptrs.ids, ptrs.scores);
        allIds.set(heap.i32(ptrs.ids, count * width), first * width);
        allScores.set(heap.f32(ptrs.scores, count * width), first * width);
      }
    } finally {
      for (const ptr of Object.values(ptrs)) heap.release(ptr);
    }
    const rowAt = (q: number): TopN => {
      const ids = allIds.subarray(q * width, (q + 1) * width);
      let found = 0;
      while (found < width && ids[found] >= 0) found++;
      if (!candidates || found === width) return { ids: ids.slice(0, found), scores: allScores.slice(q * width, q * width + found) };
      // implicit returns the asked-for items a liked item does not reach too, last.
      const skip = new Set<number>(ids.subarray(0, found));
      if (filterAlreadyLikedItems) for (const id of userItems.row(byPosition ? q : rows[q]).indices) skip.add(id);
      if (options.filterItems) for (const id of checkIds(options.filterItems, nItems, "item")) skip.add(id);
      const extra = [...new Set(candidates)].filter((id) => !skip.has(id)).sort((a, b) => a - b).slice(0, width - found);
      const outIds = new Int32Array(found + extra.length), outScores = new Float32Array(found + extra.length).fill(UNREACHED);
      outIds.set(ids.subarray(0, found)); outIds.set(extra, found);
      outScores.set(allScores.subarray(q * width, q * width + found));
      return { ids: outIds, scores: outScores };
    };
    if (single) return rowAt(0);
    const result: BatchTopN = { ids: [], scores: [] };
    for (let q = 0; q < nQueries; q++) { const row = rowAt(q); result.ids.push(row.ids); result.scores.push(row.scores); }
    return result;
  }

  /**
   * The items most similar to an item: its row of the similarity matrix (at most K
   * entries, the item itself usually first), best first, equal scores to the smaller id.
   * `filter` drops ids; `candidates` keeps only those ids, the ones outside the row last
   * with score -3.4028235e38 (as implicit).
   */
  similarItems(item: number, options?: SimilarOptions): TopN;
  similarItems(items: ArrayLike<number>, options?: SimilarOptions): BatchTopN;
  similarItems(item: number | ArrayLike<number>, options: SimilarOptions = {}): TopN | BatchTopN {
    const similarity = this.checkFitted();
    const { n = 10 } = options;
    checkN(n);
    const single = typeof item === "number";
    const ids = checkIds(single ? [item as number] : (item as ArrayLike<number>), this.nItems, "item");
    const filter = options.filter ? new Set(checkIds(options.filter, this.nItems, "item")) : undefined;
    const candidates = options.candidates ? new Set(checkIds(options.candidates, this.nItems, "item")) : undefined;
    const one = (i: number): TopN => {
      const row = similarity.row(i);
      const entries: [number, number][] = [];
      for (let e = 0; e < row.indices.length; e++) {
        const j = row.indices[e];
        if (filter?.has(j) || (candidates && !candidates.has(j))) continue;
        entries.push([j, row.data[e]]);
      }
      entries.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      if (candidates) {
        const present = new Set(entries.map(([j]) => j));
        for (const j of [...candidates].sort((a, b) => a - b)) if (!present.has(j) && !filter?.has(j)) entries.push([j, UNREACHED]);
      }
      const best = entries.slice(0, n);
      return { ids: Int32Array.from(best, ([j]) => j), scores: Float32Array.from(best, ([, s]) => s) };
    };
    if (single) return one(ids[0]);
    const result: BatchTopN = { ids: [], scores: [] };
    for (const i of ids) { const row = one(i); result.ids.push(row.ids); result.scores.push(row.scores); }
    return result;
  }

  /** The model as bytes in edgerec's model format (the similarity matrix and K), identical on every runtime. */
  save(): Uint8Array {
    const similarity = this.checkFitted();
    return writeModelFile({
      kind: this.kind, options: this.savedOptions, nUsers: this.nUsers, nItems: this.nItems, factors: 0,
      userFactors: new Float32Array(0), itemFactors: new Float32Array(0),
      extra: new Map([...extraChunks(this), ["SIMI", encodeInteractions(similarity)]]),
    });
  }

  /** A model from save()'s bytes, of the class that saved it. */
  static load(bytes: Uint8Array): ItemItemRecommender {
    const file = readModelFile(bytes);
    const make: Record<string, (o: BM25Options) => ItemItemRecommender> = {
      itemitem: (o) => new ItemItemRecommender(o), cosine: (o) => new CosineRecommender(o),
      tfidf: (o) => new TFIDFRecommender(o), bm25: (o) => new BM25Recommender(o),
    };
    if (!Object.hasOwn(make, file.kind)) throw new Error(`ItemItemRecommender.load: the file holds a '${file.kind}' model, not an item-item one`);
    const model = modelFromOptions(file, (options) => make[file.kind](options as BM25Options));
    if (!(model instanceof this)) throw new Error(`${this.name}.load: the file holds a '${file.kind}' model`);
    const chunk = file.extra?.get("SIMI");
    if (!chunk) throw new Error("edgerec model file: an item-item model needs a SIMI chunk");
    const similarity = decodeInteractions(chunk, "SIMI");
    return restoreOrDispose(model, () => {
      if (similarity.nRows !== file.nItems || similarity.nCols !== file.nItems) {
        similarity.dispose();
        throw new Error(`edgerec model file: the similarity is ${similarity.nRows} × ${similarity.nCols}, META says ${file.nItems} items`);
      }
      model.setSimilarity(similarity, file.nUsers);
      restoreExtraChunks(model, file);
    });
  }

  /** Frees the similarity matrix now. */
  dispose(): void {
    this.similarity?.dispose();
    this.similarity = undefined;
    this.nUsers = this.nItems = 0;
  }

  /** @internal The weighted items × users matrix W (may return `itemUsers` itself, which fit() owns). */
  protected weight(itemUsers: CsrMatrix): CsrMatrix {
    return itemUsers;
  }

  private setSimilarity(similarity: CsrMatrix, nUsers: number): void {
    this.dispose();
    this.similarity = similarity;
    this.nItems = similarity.nRows;
    this.nUsers = nUsers;
  }

  private checkFitted(): CsrMatrix {
    if (!this.similarity) throw new Error(`${this.constructor.name}: the model is not fitted: call fit() or load() first`);
    return this.similarity;
  }

  // S = W·Wᵀ, the K best per row, in wasm; output sized for the worst case, then trimmed.
  private allPairsKnn(w: CsrMatrix, wt: CsrMatrix): CsrMatrix {
    const { heap, kernels } = this.engine;
    const nItems = w.nRows;
    const keep = Math.max(1, Math.min(this.K, nItems));
    const capacity = Math.max(nItems * keep, 1);
    const scratch = {
      acc: heap.allocZeroed(Math.max(nItems, 1) * 8), flags: heap.allocZeroed(Math.max(nItems, 1)), touched: heap.alloc(Math.max(nItems, 1) * 4),
      heapIds: heap.alloc(keep * 4), heapScores: heap.alloc(keep * 4), indices: heap.alloc(capacity * 4), data: heap.alloc(capacity * 4),
    };
    const indptr = heap.allocZeroed((nItems + 1) * 4);
    let indices = 0, data = 0;
    try {
      for (let start = 0; start < nItems; start += ROW_CHUNK) {
        kernels.knnAllPairs(start, Math.min(nItems, start + ROW_CHUNK), w.indptrPtr, w.indicesPtr, w.dataPtr, wt.indptrPtr, wt.indicesPtr, wt.dataPtr,
          keep, scratch.acc, scratch.flags, scratch.touched, scratch.heapIds, scratch.heapScores, indptr, scratch.indices, scratch.data);
      }
      const nnz = heap.i32(indptr, nItems + 1)[nItems];
      indices = heap.alloc(Math.max(nnz, 1) * 4);
      data = heap.alloc(Math.max(nnz, 1) * 4);
      heap.i32(indices, nnz).set(heap.i32(scratch.indices, nnz));
      heap.f32(data, nnz).set(heap.f32(scratch.data, nnz));
      return new CsrMatrix(this.engine, nItems, nItems, nnz, indptr, indices, data);
    } catch (error) {
      for (const ptr of [indptr, indices, data]) if (ptr) heap.release(ptr);
      throw error;
    } finally {
      for (const ptr of Object.values(scratch)) heap.release(ptr);
    }
  }
}

/** implicit's CosineRecommender: similarity = cosine of the items' user vectors. */
export class CosineRecommender extends ItemItemRecommender {
  protected readonly kind: string = "cosine";
  protected weight(itemUsers: CsrMatrix): CsrMatrix {
    return normalizeRows(itemUsers);
  }
}

/** implicit's TFIDFRecommender: cosine of the tf-idf weighted (√value·idf_user) user vectors. */
export class TFIDFRecommender extends ItemItemRecommender {
  protected readonly kind: string = "tfidf";
  protected weight(itemUsers: CsrMatrix): CsrMatrix {
    return normalizeRows(tfidfWeight(itemUsers, { inPlace: true }));
  }
}

/** implicit's BM25Recommender: inner products of the BM25-weighted user vectors (not normalised). */
export class BM25Recommender extends ItemItemRecommender {
  readonly K1: number;
  readonly B: number;
  protected readonly kind: string = "bm25";

  constructor({ K = 20, K1 = 1.2, B = 0.75 }: BM25Options = {}) {
    super({ K });
    if (!Number.isFinite(K1) || K1 < 0) throw new RangeError(`BM25Recommender: K1 must be a number ≥ 0, got ${K1}`);
    if (!Number.isFinite(B) || B < 0 || B > 1) throw new RangeError(`BM25Recommender: B must be a number in [0, 1], got ${B}`);
    this.K1 = K1;
    this.B = B;
  }

  protected get savedOptions(): Record<string, number> { return { K: this.K, K1: this.K1, B: this.B }; }

  protected weight(itemUsers: CsrMatrix): CsrMatrix {
    return bm25Weight(itemUsers, { K1: this.K1, B: this.B, inPlace: true });
  }
}

/**
 * The most popular items the user has not seen: popularity = the number of users with an
 * entry for the item in the training matrix; equal counts go to the smaller id.
 */
export class PopularityRecommender {
  /** Users per item, from fit(). */
  counts?: Int32Array;
  nUsers = 0;
  nItems = 0;
  // Item ids by (count desc, id asc).
  private order?: Int32Array;

  async fit(userItems: CsrMatrix): Promise<void> {
    if (!(userItems instanceof CsrMatrix)) throw new TypeError("PopularityRecommender.fit: userItems must be a CsrMatrix (users × items)");
    const counts = new Int32Array(userItems.nCols);
    for (const item of userItems.indices) counts[item]++;
    this.counts = counts;
    this.nUsers = userItems.nRows;
    this.nItems = userItems.nCols;
    this.order = Int32Array.from(counts.keys()).sort((a, b) => counts[b] - counts[a] || a - b);
  }

  /** The n most popular items, skipping the user's own (in `userItems`) unless `filterAlreadyLikedItems` is false. Scores are the counts. */
  recommend(user: number, userItems?: CsrMatrix, options?: RecommendOptions): TopN;
  recommend(users: ArrayLike<number>, userItems?: CsrMatrix, options?: RecommendOptions): BatchTopN;
  recommend(user: number | ArrayLike<number>, userItems?: CsrMatrix, options: RecommendOptions = {}): TopN | BatchTopN {
    if (!this.counts || !this.order) throw new Error("PopularityRecommender: the model is not fitted: call fit() first");
    const counts = this.counts;
    const { n = 10, filterAlreadyLikedItems = true } = options;
    checkN(n);
    const single = typeof user === "number";
    const users = single ? [user as number] : (user as ArrayLike<number>);
    let rows: Int32Array | undefined, byPosition = false;
    if (filterAlreadyLikedItems) {
      if (!(userItems instanceof CsrMatrix)) throw new Error("recommend: pass userItems (the users × items CsrMatrix) to filter liked items, or set filterAlreadyLikedItems: false");
      ({ rows, byPosition } = queryRows(users, userItems, this.nUsers, this.nItems));
    } else {
      rows = checkIds(users, Number.MAX_SAFE_INTEGER, "user");
    }
    const filter = options.filterItems ? new Set(checkIds(options.filterItems, this.nItems, "item")) : undefined;
    const order = options.items
      ? Int32Array.from(new Set(checkIds(options.items, this.nItems, "item"))).sort((a, b) => counts[b] - counts[a] || a - b)
      : this.order;
    const one = (q: number): TopN => {
      const liked = filterAlreadyLikedItems ? new Set(userItems!.row(byPosition ? q : rows![q]).indices) : undefined;
      const ids: number[] = [];
      for (let at = 0; at < order.length && ids.length < n; at++) {
        const item = order[at];
        if (!liked?.has(item) && !filter?.has(item)) ids.push(item);
      }
      return { ids: Int32Array.from(ids), scores: Float32Array.from(ids, (item) => counts[item]) };
    };
    if (single) return one(0);
    const result: BatchTopN = { ids: [], scores: [] };
    for (let q = 0; q < users.length; q++) { const row = one(q); result.ids.push(row.ids); result.scores.push(row.scores); }
    return result;
  }
}

/** A copy of the matrix with every row scaled to unit L2 norm (implicit's normalize); all-zero rows stay 0. */
function normalizeRows(matrix: CsrMatrix): CsrMatrix {
  const indptr = matrix.indptr, data = matrix.data;
  const inverse = new Float64Array(matrix.nRows);
  for (let r = 0; r < matrix.nRows; r++) {
    let squares = 0;
    for (let e = indptr[r]; e < indptr[r + 1]; e++) squares += data[e] * data[e];
    inverse[r] = squares > 0 ? 1 / Math.sqrt(squares) : 0;
  }
  return matrix.mapInPlace((value, r) => value * inverse[r]);
}

// Which row of userItems belongs to each queried user: row = user id, or (implicit's
// user_items[userids]) row q for the q-th user when the matrix has one row per query.
function queryRows(users: ArrayLike<number>, userItems: CsrMatrix, nUsers: number, nItems: number): { rows: Int32Array; byPosition: boolean } {
  if (userItems.nCols !== nItems) throw new RangeError(`recommend: userItems has ${userItems.nCols} columns but the model has ${nItems} items`);
  const rows = checkIds(users, Number.MAX_SAFE_INTEGER, "user");
  if (userItems.nRows === rows.length && userItems.nRows !== nUsers) return { rows, byPosition: true };
  for (const id of rows) {
    if (id >= userItems.nRows) throw new RangeError(`recommend: user ${id} has no row in userItems (${userItems.nRows} rows); pass the users × items matrix, or one row per user asked for`);
  }
  return { rows, byPosition: false };
}

function checkIds(ids: ArrayLike<number>, bound: number, what: string): Int32Array {
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id >= bound || id >= 2 ** 31) throw new RangeError(`${what} id ${id} is outside [0, ${Math.min(bound, 2 ** 31)})`);
    out[i] = id;
  }
  return out;
}

function checkN(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
}
