// Implicit-feedback alternating least squares (Hu, Koren, Volinsky 2008) with the
// options and semantics of implicit's AlternatingLeastSquares, plus the
// frequency-scaled regularization and unobserved weight of Rendle et al. 2021.
// The maths lives beside the kernels in assembly/als.ts.

import { CompactColumns } from "./compact-columns.js";
import { CsrMatrix } from "./csr.js";
import { getEngine, type Engine } from "./engine.js";
import { gramOf, gramOnPool, toEigenbasis } from "./gram.js";
import { HotItems, hotItemsTuning } from "./hot-items.js";
import { FactorModel } from "./factorization.js";
import { poolFor, threadsFor, type KernelCall, type WorkerPool } from "./pool.js";
import { extraChunks } from "./catalog.js";
import { ModelFitError } from "./fit-error.js";
import { pow } from "./math.js";
import { modelFromOptions, readModelFile, restoreOrDispose, writeModelFile } from "./model-file.js";
import { blockBytes, ensureMemoryFor, estimate, type FitShape, type MemoryEstimate } from "./memory-plan.js";

export interface AlsOptions {
  /** Latent factors per user and item. Default 100. */
  factors?: number;
  /** λ: L2 regularization. Default 0.01. */
  regularization?: number;
  /** Confidence c_ui = alpha · value, as implicit. Default 1. */
  alpha?: number;
  /** Full ALS sweeps (users then items). Default 15. */
  iterations?: number;
  /** 'cg' (fast, implicit's default) or 'cholesky' (exact per-row solve). Default 'cg'. */
  solver?: "cg" | "cholesky";
  /** Conjugate-gradient steps per row and sweep. Default 3. */
  cgSteps?: number;
  /** Seed of the initial factors: the same seed, data and options give the same model. Default 0. */
  seed?: number;
  /** Compute the training loss after each iteration (costs about one CG step). Default false. */
  calculateTrainingLoss?: boolean;
  /** α₀: weight of the cells a user never touched (implicit: 1). Default 1. */
  unobservedWeight?: number;
  /** ν: λ_u = λ·(n_u + α₀·n_items)^ν, Rendle et al.'s frequency-scaled regularization; 0 = plain λ. Default 0. */
  regularizationExponent?: number;
  /**
   * Threads for the row solves: the calling thread and workers over shared wasm memory
   * (in browsers, workers only). The model is the same bits for any number. Default:
   * every core where memory can be shared, else 1.
   */
  threads?: number;
  /** Spread of the initial factors. Default 0.01. */
  initScale?: number;
  /**
   * 'uniform': U[0, initScale), as implicit. 'normal': N(0, initScale²), as Rendle et
   * al.'s iALS code. Default 'uniform'.
   */
  initDistribution?: "uniform" | "normal";
  /**
   * How recalculateUser and explain turn a new user's liked items into a least-squares
   * system. 'edgerec' (implicit's): confidence c = alpha·value, λ = regularization.
   * 'spark-implicit' (Spark MLlib's implicitPrefs ALS, for imported models): c = 1 + alpha·|value|,
   * preference 1 only for value > 0, λ = regularization × the number of values > 0 (ALS-WR).
   * 'spark-explicit': Spark's explicit-ratings ALS, which edgerec cannot fold in (refused).
   * fit and partialFit always train by edgerec's rule. Default 'edgerec'.
   */
  foldInRule?: "edgerec" | "spark-implicit" | "spark-explicit";
}

/**
 * The training matrix's shape for AlternatingLeastSquares.memoryNeeded; when known,
 * longestRow (most entries in a user's or item's row) and longestUserRow (in a user's).
 */
export interface AlsFitShape extends FitShape {
  longestRow?: number;
  longestUserRow?: number;
}

/** What onIteration receives after every sweep. */
export interface IterationInfo {
  /** 1-based. */
  iteration: number;
  iterations: number;
  /** Seconds since fit started. */
  elapsed: number;
  /** Seconds this iteration took. */
  seconds: number;
  /** Training loss (implicit's normalisation), when calculateTrainingLoss is set. */
  loss?: number;
}

export interface FitOptions {
  onIteration?: (info: IterationInfo) => void;
  /**
   * Keep the items × users copy that the item half-steps read without values (~3 bytes an
   * interaction instead of ~6; each value is fetched from userItems together with its
   * user's factors): about 50 MB less at Last.fm-360K's 17.5M interactions, for ~4% more
   * time per iteration on our bench. `false` copies the values too. The same model bits
   * either way. Default true.
   */
  lowMemory?: boolean;
}

/** Liked items for a user who is not in the model: ids, with optional values (default 1). */
export type LikedItems = ArrayLike<number> | { items: ArrayLike<number>; values?: ArrayLike<number> };

export interface Explanation {
  /** The item's score for the user: the sum of every contribution. */
  score: number;
  /** Each liked item's share of the score, largest first. */
  contributions: { ids: Int32Array; scores: Float32Array };
  /** The n largest contributions. */
  topContributions: { ids: Int32Array; scores: Float32Array };
}

const DEFAULTS: Required<AlsOptions> = {
  factors: 100, regularization: 0.01, alpha: 1, iterations: 15, solver: "cg", cgSteps: 3, seed: 0,
  calculateTrainingLoss: false, unobservedWeight: 1, regularizationExponent: 0, initScale: 0.01, initDistribution: "uniform", threads: 0,
  foldInRule: "edgerec",
};

// Rows per kernel call: short calls let V8 tier the kernel up early and let fit yield.
const ROW_CHUNK = 4096;
// A CG half-step may first turn both factor tables into the eigenbasis of the fixed side's
// Gram matrix G (gram.ts toEigenbasis): CG's iterates are the same in any orthonormal basis
// (up to rounding), and there G·p costs k multiply-adds instead of k², for cgSteps + 1
// products a solved row, against one k×k rotation of every row of both tables and the
// float64 decomposition (~300·k³ multiply-adds' time). Below 32 factors it gains little
// and models keep the bits they had before it. Tests change these to take either path.
export const eigenbasisTuning = { minFactors: 32, decompositionCost: 300 };

// Whether a fit with these options and shape may use the eigenbasis at all.
function usesEigenbasis(o: Required<AlsOptions>, nUsers: number, nItems: number): boolean {
  return eigenbasisPays(o, nUsers, nItems) || eigenbasisPays(o, nItems, nUsers);
}

// Whether the half-step that solves nSolved rows against nFixed gains by the eigenbasis.
function eigenbasisPays(o: Required<AlsOptions>, nSolved: number, nFixed: number): boolean {
  const k = o.factors;
  return o.solver === "cg" && k >= eigenbasisTuning.minFactors &&
    (o.cgSteps + 1) * nSolved - (nSolved + nFixed) > eigenbasisTuning.decompositionCost * k;
}
// CG copies each row's factors into one compact block that stays in L2 while every CG
// step reads it. Longer rows (the most popular items) are copied a cache-sized chunk at a
// time at each step instead: on the Last.fm-360K-shaped bench (64 factors), a block of
// 256 KB to 4 MB ran as fast as one holding the longest row whole (20 MB per thread), within
// the machine's noise.
const GATHER_CAPACITY_BYTES = 512 << 10;

// Rows of k factors the CG kernel gathers per solve (at least the chunk it always needs).
function cgGatherCapacity(engine: Engine, k: number, longestRow: number): number {
  const chunkRows = engine.kernels.cgChunkRows(k);
  return Math.max(chunkRows, Math.min(longestRow, Math.floor(GATHER_CAPACITY_BYTES / (4 * k))));
}

/** Implicit-feedback matrix factorization by alternating least squares. */
export class AlternatingLeastSquares extends FactorModel {
  readonly options: Readonly<Required<AlsOptions>>;
  /** @internal */ readonly engine: Engine;
  nUsers = 0;
  nItems = 0;
  /** @internal */ protected userFactorsPtr = 0;
  /** @internal */ protected itemFactorsPtr = 0;

  constructor(options: AlsOptions = {}) {
    super();
    this.engine = getEngine();
    this.options = Object.freeze(validateOptions({ ...DEFAULTS, ...stripUndefined(options) }));
  }

  get factors(): number { return this.options.factors; }

  /**
   * The wasm memory (bytes, with a breakdown) fit() will hold at its peak for a matrix of
   * this shape, on top of what is already allocated: the factors, the transposed matrix,
   * the Gram matrix and every thread's solver scratch. Without `longestRow` it assumes the
   * longest a row can be, so the estimate only errs upwards.
   */
  static memoryNeeded(shape: AlsFitShape, options: AlsOptions = {}, { lowMemory = true }: Pick<FitOptions, "lowMemory"> = {}): MemoryEstimate {
    const o = validateOptions({ ...DEFAULTS, ...stripUndefined(options) });
    const { nUsers, nItems, nnz } = shape;
    const k = o.factors;
    const longestRow = Math.max(1, shape.longestRow ?? Math.min(nnz, Math.max(nUsers, nItems)));
    const threads = threadsFor(getEngine(), o.threads);
    const eigenbasis = usesEigenbasis(o, nUsers, nItems);
    const perThread = (eigenbasis ? blockBytes(4 * k * 4) : 0) + (o.solver === "cholesky"
      ? blockBytes(3 * k * 4) + blockBytes(k * k * 8) + 2 * blockBytes(k * 8) + (lowMemory ? 2 : 1) * blockBytes(longestRow * 4)
      : blockBytes(3 * k * 4) + blockBytes(cgGatherCapacity(getEngine(), k, longestRow) * k * 4) + (lowMemory ? 3 : 2) * blockBytes(longestRow * 4) + blockBytes(getEngine().kernels.cgChunkRows(k) * 4));
    return estimate({
      "user factors": blockBytes(nUsers * k * 4),
      "item factors": blockBytes(nItems * k * 4),
      // fit() solves the items from a compact items × users copy of the matrix.
      "transposed matrix": CompactColumns.bytesNeeded(nUsers, nItems, nnz, { values: !lowMemory, longestRow: Math.min(longestRow, shape.longestUserRow ?? longestRow) }),
      [eigenbasis ? "Gram matrix and its eigenvectors" : "Gram matrix"]: blockBytes(k * k * 4) * (eigenbasis ? 2 : 1),
      "hot items' state": o.solver === "cg" && hotItemsTuning.enabled
        ? HotItems.bytesNeeded(nItems, HotItems.maxCount(nItems, nnz, cgGatherCapacity(getEngine(), k, longestRow)), k, getEngine().kernels.cgChunkRows(k), threads) : 0,
      [`solver scratch (${threads} thread${threads === 1 ? "" : "s"})`]: threads * perThread,
    });
  }

  /**
   * Trains on a users × items matrix of interaction values (play counts, ratings,
   * clicks). Initialises the factors from the seed, then runs `iterations` sweeps.
   */
  async fit(userItems: CsrMatrix, { onIteration, lowMemory = true }: FitOptions = {}): Promise<void> {
    if (!(userItems instanceof CsrMatrix)) throw new TypeError("fit: userItems must be a CsrMatrix (users × items), e.g. CsrMatrix.fromCoo({ rows, cols, values })");
    const o = this.options;
    if (userItems.engine !== this.engine) throw new Error("fit: userItems was built by another engine (initEngine was called again): rebuild it");
    // Refuse a fit that cannot fit in wasm32 before allocating anything. Item rows hold
    // at most nUsers entries, so the longest row is bounded without transposing.
    const longestRowBound = Math.max(userItems.maxRowNnz(), Math.min(userItems.nnz, userItems.nRows), 1);
    ensureMemoryFor(this.engine, "AlternatingLeastSquares.fit", AlternatingLeastSquares.memoryNeeded(
      { nUsers: userItems.nRows, nItems: userItems.nCols, nnz: userItems.nnz, longestRow: longestRowBound, longestUserRow: userItems.maxRowNnz() }, o, { lowMemory }));
    // The items × users copy the item half-steps read, ids gap-coded: ~3 bytes an entry
    // (a gap and the entry's place in its user's row), ~6 with the values.
    const itemUsers = CompactColumns.transposeOf(userItems, { values: !lowMemory });
    try {
      this.allocateFactors(userItems.nRows, userItems.nCols);
      this.initialiseFactors();
      await this.sweeps(userItems, itemUsers, onIteration);
    } finally {
      itemUsers.dispose();
      this.factorsChanged();
    }
  }

  // fit()'s iterations, from the initial factors.
  private async sweeps(userItems: CsrMatrix, itemUsers: CompactColumns, onIteration: FitOptions["onIteration"]): Promise<void> {
    const o = this.options;
    const k = o.factors;
    const { heap } = this.engine;
    const threads = threadsFor(this.engine, o.threads);
    const pool = threads > 1 ? await poolFor(this.engine, threads) : undefined;
    const longestRow = Math.max(userItems.maxRowNnz(), itemUsers.maxRowNnz(), 1);
    const gramPtr = heap.alloc(k * k * 4);
    const eigenbasis = usesEigenbasis(o, this.nUsers, this.nItems);
    const rotationPtr = eigenbasis ? heap.alloc(k * k * 4) : 0;
    const scratches: SolverScratch[] = [];
    const advice = `Raise regularization (now ${o.regularization}), lower alpha (now ${o.alpha}), and check the input values: confidences of 1 + alpha·value must stay well inside float32 range.`;
    const tables = () => [{ ptr: this.userFactorsPtr, nRows: this.nUsers }, { ptr: this.itemFactorsPtr, nRows: this.nItems }];
    // The items with more users than the CG kernel gathers at once, solved a block of users
    // at a time instead (hot-items.ts), the same bits.
    const hot = o.solver === "cg" && hotItemsTuning.enabled ? HotItems.plan(this.engine, itemUsers.indptr, cgGatherCapacity(this.engine, k, longestRow), k, threads) : undefined;
    // One half-step: the rows of `matrix` solved for x against the fixed y (nOther rows),
    // with G = α₀·YᵀY on the pool's threads when there is one, in G's eigenbasis when that pays.
    const halfStep = async (matrix: TrainingRows, x: number, y: number, nOther: number, iteration: number, side: "users" | "items") => {
      if (pool) await gramOnPool(pool, y, nOther, k, o.unobservedWeight, gramPtr);
      else gramOf(this.engine, y, nOther, k, o.unobservedWeight, gramPtr);
      const diagonal = eigenbasis && eigenbasisPays(o, matrix.nRows, nOther) &&
        await toEigenbasis(this.engine, pool, gramPtr, k, tables(), rotationPtr, scratches.map((s) => s.rotation));
      const skip = side === "items" && hot ? hot.slotOfItemPtr : 0;
      const failed = pool
        ? await this.solveRowsInParallel(pool, matrix, x, y, gramPtr, nOther, scratches, diagonal, skip, skip ? hot!.residentIndptr : matrix.indptr)
        : this.solveRows(matrix, x, y, gramPtr, nOther, scratches[0], diagonal, skip);
      if (skip) {
        await hot!.solve(pool, {
          itemUsers, userFactorsPtr: y, itemFactorsPtr: x, gramPtr, diagonalGram: diagonal, confidenceScale: o.alpha,
          regularization: o.regularization, regularizationExponent: o.regularizationExponent, unobservedWeight: o.unobservedWeight, cgSteps: o.cgSteps,
        });
      }
      if (failed < 0) return;
      // With λ > 0 every row system is positive definite in exact arithmetic: a failed
      // factorization means the confidences or factors overflowed float32.
      if (o.regularization > 0) throw new ModelFitError("AlternatingLeastSquares", { iteration, side, row: failed, value: NaN, what: "its Cholesky factorization failed" }, advice);
      throw new Error(`AlternatingLeastSquares: the least-squares system of ${side === "users" ? "user" : "item"} ${failed} is not positive definite; use regularization > 0`);
    };
    const started = now();
    try {
      for (let t = 0; t < threads; t++) scratches.push(this.allocateSolverScratch(longestRow, itemUsers.placeShift >= 0, eigenbasis));
      for (let iteration = 1; iteration <= o.iterations; iteration++) {
        const iterationStarted = now();
        // Users against fixed items, then items against the new users.
        await halfStep(userItems, this.userFactorsPtr, this.itemFactorsPtr, this.nItems, iteration, "users");
        await halfStep(itemUsers, this.itemFactorsPtr, this.userFactorsPtr, this.nUsers, iteration, "items");
        this.checkFactorsFinite("AlternatingLeastSquares", iteration, advice);
        const loss = o.calculateTrainingLoss ? this.trainingLoss(userItems, itemUsers, gramPtr, scratches[0].work) : undefined;
        const finished = now();
        onIteration?.({ iteration, iterations: o.iterations, elapsed: (finished - started) / 1000, seconds: (finished - iterationStarted) / 1000, loss });
        // Let progress output and other tasks run between sweeps.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    } finally {
      heap.release(gramPtr);
      if (rotationPtr) heap.release(rotationPtr);
      hot?.dispose();
      for (const each of scratches) this.releaseScratch(each);
    }
  }

  /**
   * Factors for a user the model has not seen, from the items they like, without
   * retraining: the exact least-squares solve against the current item factors (what
   * one ALS step would give this user). Pass the result to recommend().
   */
  recalculateUser(likedItems: LikedItems): Float32Array {
    this.checkFitted();
    const solution = this.withRowSystem(this.foldInInputs(this.likedArrays(likedItems)), (a, b) => {
      this.engine.kernels.choleskySolve(a, b, this.factors);
      return Float32Array.from(this.engine.heap.f64(b, this.factors));
    });
    return solution;
  }

  /**
   * Why `item` is recommended to `user` (Hu et al. 2008, §5): the score splits into one
   * contribution per liked item j, c_uj·(y_itemᵀ W_u y_j) with W_u = A_u⁻¹, the user's
   * weighting matrix. The contributions sum to the score of the user's exact solve.
   * `userItems`: the users × items matrix (row = user id) or this user's liked items.
   */
  explain(user: number, userItems: CsrMatrix | LikedItems, item: number, { n = 10 }: { n?: number } = {}): Explanation {
    this.checkFitted();
    const k = this.factors;
    this.checkIds([item], this.nItems, "item");
    let liked: { items: Int32Array; values: Float32Array };
    if (userItems instanceof CsrMatrix) {
      this.checkIds([user], userItems.nRows, "user");
      if (userItems.nCols !== this.nItems) throw new RangeError(`explain: userItems has ${userItems.nCols} columns but the model has ${this.nItems} items`);
      const row = userItems.row(user);
      liked = { items: Int32Array.from(row.indices), values: Float32Array.from(row.data) };
    } else {
      liked = this.likedArrays(userItems);
    }
    const { heap } = this.engine;
    const itemFactors = () => this.itemFactors;
    const system = this.foldInInputs(liked);
    liked = { items: system.items, values: system.values };
    return this.withRowSystem(system, (a, b) => {
      // z = A_u⁻¹ y_item; contribution_j = c⁺_uj · (z·y_j)
      const z = heap.f64(b, k);
      const yItem = itemFactors().subarray(item * k, (item + 1) * k);
      for (let i = 0; i < k; i++) z[i] = yItem[i];
      this.engine.kernels.choleskySolve(a, b, k);
      const zCopy = Float64Array.from(heap.f64(b, k));
      const factors = itemFactors();
      const alpha = system.confidenceScale;
      const scores = new Float32Array(liked.items.length);
      let total = 0;
      for (let j = 0; j < liked.items.length; j++) {
        const c = alpha * liked.values[j];
        if (!(c > 0)) continue;
        let dotZ = 0;
        const base = liked.items[j] * k;
        for (let i = 0; i < k; i++) dotZ += zCopy[i] * factors[base + i];
        scores[j] = c * dotZ;
        total += c * dotZ;
      }
      const order = Array.from(liked.items.keys()).sort((p, q) => scores[q] - scores[p] || liked.items[p] - liked.items[q]);
      const ids = Int32Array.from(order, (j) => liked.items[j]);
      const sorted = Float32Array.from(order, (j) => scores[j]);
      return { score: total, contributions: { ids, scores: sorted }, topContributions: { ids: ids.slice(0, n), scores: sorted.slice(0, n) } };
    });
  }

  /**
   * Recomputes (or adds) the factors of the given users from their rows of `userItems`
   * (row r belongs to userIds[r]) against the current item factors, without touching
   * anything else. Ids past the current count grow the model.
   */
  partialFitUsers(userIds: ArrayLike<number>, userItems: CsrMatrix): void {
    this.partialFit(userIds, userItems, "users");
  }

  /** The same for items: row r of `itemUsers` (items × users) belongs to itemIds[r]. */
  partialFitItems(itemIds: ArrayLike<number>, itemUsers: CsrMatrix): void {
    this.partialFit(itemIds, itemUsers, "items");
  }

  /**
   * The model as bytes in edgerec's versioned model format (identical on every runtime),
   * with its catalog and training matrix when those are set.
   */
  save(): Uint8Array {
    this.checkFitted();
    return writeModelFile({
      extra: extraChunks(this),
      kind: "als",
      options: modelOptions(this.options),
      nUsers: this.nUsers,
      nItems: this.nItems,
      factors: this.factors,
      userFactors: this.userFactors,
      itemFactors: this.itemFactors,
    });
  }

  /** A model from save()'s bytes. Refuses truncated, corrupted or foreign files with a clear error. */
  static load(bytes: Uint8Array): AlternatingLeastSquares {
    const file = readModelFile(bytes);
    if (file.kind !== "als") throw new Error(`AlternatingLeastSquares.load: the file holds a '${file.kind}' model, not 'als'`);
    const model = modelFromOptions(file, (options) => new AlternatingLeastSquares(options as AlsOptions));
    return restoreOrDispose(model, () => model.restoreFrom(file));
  }

  /**
   * A model from factors trained elsewhere (row-major, `options.factors` floats a row),
   * ready for recommend, similarItems and recalculateUser. The arrays are copied.
   */
  static fromFactors(userFactors: Float32Array, itemFactors: Float32Array, options: AlsOptions = {}): AlternatingLeastSquares {
    const model = new AlternatingLeastSquares(options);
    const k = model.factors;
    if (userFactors.length % k !== 0 || itemFactors.length % k !== 0) {
      throw new RangeError(`AlternatingLeastSquares.fromFactors: ${userFactors.length} user and ${itemFactors.length} item floats are not whole rows of ${k} factors`);
    }
    model.restoreFrom({ kind: "als", options: model.options, nUsers: userFactors.length / k, nItems: itemFactors.length / k, factors: k, userFactors, itemFactors });
    return model;
  }

  private initialiseFactors(): void {
    const { kernels } = this.engine;
    const { seed, initScale, initDistribution, factors } = this.options;
    // Items take counters [0, nItems·k), users the ones after: one stream, no overlap.
    const itemCount = this.nItems * factors, userCount = this.nUsers * factors;
    const seedBits = BigInt.asUintN(64, BigInt(seed));
    if (initDistribution === "normal") {
      kernels.fillNormal(this.itemFactorsPtr, itemCount, seedBits, 0n, initScale);
      kernels.fillNormal(this.userFactorsPtr, userCount, seedBits, BigInt(itemCount), initScale);
    } else {
      kernels.fillUniform(this.itemFactorsPtr, itemCount, seedBits, 0n, initScale);
      kernels.fillUniform(this.userFactorsPtr, userCount, seedBits, BigInt(itemCount), initScale);
    }
  }

  // `placedValues`: the compact copy holds places, so a row's values are read into scratch.
  // `eigenbasis`: rows are rotated too (4k floats).
  private allocateSolverScratch(longestRow: number, placedValues: boolean, eigenbasis: boolean): SolverScratch {
    const { heap } = this.engine;
    const k = this.factors;
    const ids = heap.alloc(longestRow * 4), values = placedValues ? heap.alloc(longestRow * 4) : 0;
    const rotation = eigenbasis ? heap.alloc(4 * k * 4) : 0;
    if (this.options.solver === "cholesky") {
      return { work: heap.alloc(3 * k * 4), ids, values, rotation, a: heap.alloc(k * k * 8), b: heap.alloc(k * 8), yRow: heap.alloc(k * 8) };
    }
    const gatherCapacity = cgGatherCapacity(this.engine, k, longestRow);
    return {
      work: heap.alloc(3 * k * 4), ids, values, rotation, gatherCapacity, gathered: heap.alloc(gatherCapacity * k * 4), weights: heap.alloc(longestRow * 4),
      coefficients: heap.alloc(this.engine.kernels.cgChunkRows(k) * 4),
    };
  }

  private releaseScratch(scratch: SolverScratch): void {
    const { gatherCapacity: _notAPointer, ...pointers } = scratch;
    for (const ptr of Object.values(pointers)) if (ptr) this.engine.heap.release(ptr);
  }

  // The kernel call that solves rows [start, end) of `matrix` for `x` against fixed `y`;
  // `diagonalGram`: gramPtr holds G's diagonal (the tables are in G's eigenbasis); rows with
  // skipRows[row] ≥ 0 are not solved (CG only; skipRows 0: none).
  private solverCall(matrix: TrainingRows, start: number, end: number, x: number, y: number, gramPtr: number, nOther: number, s: SolverScratch, diagonalGram = false, skipRows = 0): KernelCall {
    const o = this.options;
    // CSR rows are read in place; compact columns are decoded a row at a time, their values
    // from the source CSR when they hold places instead.
    const compact = matrix instanceof CompactColumns ? matrix : undefined;
    const placed = compact !== undefined && compact.placeShift >= 0;
    const ids = compact ? compact.streamPtr : (matrix as CsrMatrix).indicesPtr;
    const data = placed ? compact.source.dataPtr : matrix.dataPtr;
    const rows = [compact ? compact.offsetsPtr : 0, s.ids, placed ? compact.dataPtr : 0, placed ? compact.placeShift : 0, placed ? compact.source.indptrPtr : 0, s.values];
    const common = [start, end, matrix.indptrPtr, ids, data, x, y, this.factors, gramPtr, o.alpha, o.regularization, o.regularizationExponent, o.unobservedWeight, nOther];
    return o.solver === "cholesky"
      ? { kernel: "solveRowsCholesky", args: [...common, s.a!, s.b!, s.yRow!, ...rows] }
      : { kernel: "solveRowsCg", args: [...common, o.cgSteps, s.gathered!, s.gatherCapacity!, s.weights!, s.coefficients!, s.work, ...rows, diagonalGram ? 1 : 0, skipRows] };
  }

  // One half-sweep: every row of `matrix` solved for `x` against fixed `y`. Returns the
  // first row whose Cholesky factorization failed, or -1.
  private solveRows(matrix: TrainingRows, x: number, y: number, gramPtr: number, nOther: number, s: SolverScratch, diagonalGram = false, skipRows = 0): number {
    const kernels = this.engine.kernels as unknown as Record<string, (...args: KernelCall["args"]) => number | undefined>;
    for (let start = 0; start < matrix.nRows; start += ROW_CHUNK) {
      const { kernel, args } = this.solverCall(matrix, start, Math.min(matrix.nRows, start + ROW_CHUNK), x, y, gramPtr, nOther, s, diagonalGram, skipRows);
      const failed = kernels[kernel](...args);
      if (failed !== undefined && failed >= 0) return failed;
    }
    return -1;
  }

  // One half-sweep on the pool: the rows cut into chunks of about equal nonzeros that the
  // threads take as they come free, each thread with its own scratch; every row is solved
  // exactly as on one thread, so the factors are the same bits for any number of threads.
  // `balance`: running counts of the entries to share (default the rows' own; with
  // skipRows, the skipped rows' count as none).
  private async solveRowsInParallel(pool: WorkerPool, matrix: TrainingRows, x: number, y: number, gramPtr: number, nOther: number, scratches: SolverScratch[],
    diagonalGram = false, skipRows = 0, balance: ArrayLike<number> = matrix.indptr): Promise<number> {
    // Chunks of about equal entries (at most ROW_CHUNK rows), ~16 a thread, taken by
    // whichever thread is free: the first call of a fresh worker runs in V8's baseline
    // tier, and a busy core slows its thread; neither holds up the half-step.
    // (At least one entry a chunk: rows without entries still go ROW_CHUNK at a time.)
    const target = Math.max(1, balance[matrix.nRows] / (16 * scratches.length));
    const bounds = [0];
    for (let row = 0; row < matrix.nRows;) {
      const from = row;
      do row++; while (row < matrix.nRows && row - from < ROW_CHUNK && balance[row] - balance[from] < target);
      bounds.push(row);
    }
    const results = await pool.runShared(scratches.length, (thread) => bounds.slice(1).map((end, c) =>
      this.solverCall(matrix, bounds[c], end, x, y, gramPtr, nOther, scratches[thread], diagonalGram, skipRows)));
    if (this.options.solver !== "cholesky") return -1;
    return results.find((r) => r >= 0) ?? -1;
  }

  // implicit's loss: (Σ_obs c(p − x·y)² + α₀ Σ_unobs (x·y)² + Σ λ_u‖x_u‖² + Σ λ_i‖y_i‖²) / (Σc + α₀(N·M − nnz))
  private trainingLoss(userItems: CsrMatrix, itemUsers: CompactColumns, gramPtr: number, work: number): number {
    const o = this.options;
    const { kernels } = this.engine;
    const k = this.factors;
    gramOf(this.engine, this.itemFactorsPtr, this.nItems, k, 1, gramPtr);
    let loss = 0;
    for (let start = 0; start < this.nUsers; start += ROW_CHUNK) {
      loss += kernels.lossRows(start, Math.min(this.nUsers, start + ROW_CHUNK), userItems.indptrPtr, userItems.indicesPtr, userItems.dataPtr,
        this.userFactorsPtr, this.itemFactorsPtr, k, gramPtr, o.alpha, o.regularization, o.regularizationExponent, o.unobservedWeight, this.nItems, work);
    }
    loss += kernels.regularizationRows(0, this.nItems, itemUsers.indptrPtr, this.itemFactorsPtr, k, o.regularization, o.regularizationExponent, o.unobservedWeight, this.nUsers);
    const totalConfidence = Math.abs(o.alpha) * kernels.sumAbs(userItems.dataPtr, userItems.nnz);
    return loss / (totalConfidence + o.unobservedWeight * (this.nUsers * this.nItems - userItems.nnz));
  }

  private likedArrays(liked: LikedItems): { items: Int32Array; values: Float32Array } {
    const itemsIn = "items" in liked && !ArrayBuffer.isView(liked) ? liked.items : (liked as ArrayLike<number>);
    const valuesIn = "items" in liked && !ArrayBuffer.isView(liked) ? liked.values : undefined;
    const items = this.checkIds(itemsIn, this.nItems, "liked item");
    if (valuesIn && valuesIn.length !== items.length) throw new RangeError(`liked items: ${items.length} items but ${valuesIn.length} values`);
    const values = valuesIn ? Float32Array.from(valuesIn) : new Float32Array(items.length).fill(1);
    for (let j = 0; j < values.length; j++) if (!Number.isFinite(values[j])) throw new RangeError(`liked items: value ${valuesIn![j]} of item ${items[j]} is not a finite number`);
    return { items, values };
  }

  // α₀·YᵀY over the item factors, kept until they change: every explain and
  // recalculateUser needs it, and it costs nItems·k² where the row solve costs nnz·k².
  private itemGramPtr = 0;
  private itemGram(): number {
    if (!this.itemGramPtr) {
      const k = this.factors;
      this.itemGramPtr = this.engine.heap.alloc(k * k * 4);
      gramOf(this.engine, this.itemFactorsPtr, this.nItems, k, this.options.unobservedWeight, this.itemGramPtr);
    }
    return this.itemGramPtr;
  }

  /** @internal */
  protected override factorsChanged(): void {
    super.factorsChanged();
    if (this.itemGramPtr) this.engine.heap.release(this.itemGramPtr);
    this.itemGramPtr = 0;
  }

  // A new user's row system by the model's fold-in rule: the entries, the scale that turns
  // a value into its confidence (c = scale·value, as the kernel computes it) and λ.
  private foldInInputs({ items, values }: { items: Int32Array; values: Float32Array }): FoldInInputs {
    const o = this.options;
    if (o.foldInRule === "spark-explicit") {
      throw new Error("this model was trained by Spark's explicit-ratings ALS (implicitPrefs=false): edgerec folds in new users by the implicit-feedback rule only; recommend and similarItems work, or import a model trained with implicitPrefs=true");
    }
    if (o.foldInRule === "spark-implicit") {
      // Spark: A = YᵀY + Σ α|r| y yᵀ + λ·n⁺ I, b = Σ_{r>0} (1 + α r) y, n⁺ = #{r > 0}. The kernel
      // adds (|c| − α₀) y yᵀ and c⁺ y with α₀ = 1 (the importer's unobservedWeight), so
      // c = ±(1 + α|r|) carries the sign of r; r = 0 adds nothing in Spark and is dropped.
      const kept: number[] = [];
      for (let j = 0; j < items.length; j++) if (values[j] !== 0) kept.push(j);
      const confidences = Float32Array.from(kept, (j) => Math.sign(values[j]) * (1 + o.alpha * Math.abs(values[j])));
      const positives = kept.filter((j) => values[j] > 0).length;
      return { items: Int32Array.from(kept, (j) => items[j]), values: confidences, confidenceScale: 1, lambda: o.regularization * positives };
    }
    const lambda = o.regularizationExponent === 0 ? o.regularization : o.regularization * pow(items.length + o.unobservedWeight * this.nItems, o.regularizationExponent);
    return { items, values, confidenceScale: o.alpha, lambda };
  }

  // Builds and factors one row's f64 system A, b in wasm against the item factors, runs
  // `use(a, b)` and frees everything.
  private withRowSystem<T>({ items, values, confidenceScale, lambda }: FoldInInputs, use: (a: number, b: number) => T): T {
    const { heap, kernels } = this.engine;
    const o = this.options;
    const k = this.factors;
    const gram = this.itemGram();
    const ptrs = { items: heap.alloc(Math.max(items.length, 1) * 4), values: heap.alloc(Math.max(items.length, 1) * 4), a: heap.alloc(k * k * 8), b: heap.alloc(k * 8), yRow: heap.alloc(k * 8) };
    try {
      heap.i32(ptrs.items, items.length).set(items);
      heap.f32(ptrs.values, values.length).set(values);
      kernels.buildRowSystem(ptrs.items, ptrs.values, items.length, this.itemFactorsPtr, k, gram, confidenceScale, lambda, o.unobservedWeight, ptrs.a, ptrs.b, ptrs.yRow);
      if (kernels.choleskyFactor(ptrs.a, k) >= 0) throw new Error("the user's least-squares system is not positive definite; the model needs regularization > 0");
      return use(ptrs.a, ptrs.b);
    } finally {
      for (const ptr of Object.values(ptrs)) heap.release(ptr);
    }
  }

  private partialFit(ids: ArrayLike<number>, rows: CsrMatrix, side: "users" | "items"): void {
    this.checkFitted();
    const k = this.factors;
    const { heap } = this.engine;
    const fitUsers = side === "users";
    const nOther = fitUsers ? this.nItems : this.nUsers;
    const what = fitUsers ? "partialFitUsers" : "partialFitItems";
    if (rows.nRows !== ids.length) throw new RangeError(`${what}: ${ids.length} ids but the matrix has ${rows.nRows} rows (one row per id)`);
    if (rows.nCols !== nOther) throw new RangeError(`${what}: the matrix has ${rows.nCols} columns but the model has ${nOther} ${fitUsers ? "items" : "users"}`);
    const checked = this.checkIds(ids, 2 ** 31 - 1, fitUsers ? "user" : "item");
    const current = fitUsers ? this.nUsers : this.nItems;
    let needed = current;
    for (const id of checked) needed = Math.max(needed, id + 1);
    if (needed > current) this.growFactors(side, needed);

    const solved = heap.alloc(Math.max(rows.nRows, 1) * k * 4);
    const gramPtr = heap.alloc(k * k * 4);
    const scratch = { a: heap.alloc(k * k * 8), b: heap.alloc(k * 8), yRow: heap.alloc(k * 8) };
    try {
      const o = this.options;
      const y = fitUsers ? this.itemFactorsPtr : this.userFactorsPtr;
      gramOf(this.engine, y, nOther, k, o.unobservedWeight, gramPtr);
      const failed = this.engine.kernels.solveRowsCholesky(0, rows.nRows, rows.indptrPtr, rows.indicesPtr, rows.dataPtr, solved, y, k, gramPtr,
        o.alpha, o.regularization, o.regularizationExponent, o.unobservedWeight, nOther, scratch.a, scratch.b, scratch.yRow, 0, 0, 0, 0, 0, 0);
      if (failed >= 0) throw new Error(`${what}: the least-squares system of row ${failed} is not positive definite; use regularization > 0`);
      const target = fitUsers ? this.userFactors : this.itemFactors;
      const source = heap.f32(solved, rows.nRows * k);
      checked.forEach((id, r) => target.set(source.subarray(r * k, (r + 1) * k), id * k));
    } finally {
      for (const ptr of [solved, gramPtr, scratch.a, scratch.b, scratch.yRow]) heap.release(ptr);
      this.factorsChanged();
    }
  }

  private growFactors(side: "users" | "items", rows: number): void {
    const { heap } = this.engine;
    const k = this.factors;
    const oldPtr = side === "users" ? this.userFactorsPtr : this.itemFactorsPtr;
    const oldRows = side === "users" ? this.nUsers : this.nItems;
    const ptr = heap.allocZeroed(rows * k * 4);
    heap.f32(ptr, oldRows * k).set(heap.f32(oldPtr, oldRows * k));
    heap.release(oldPtr);
    if (side === "users") { this.userFactorsPtr = ptr; this.nUsers = rows; } else { this.itemFactorsPtr = ptr; this.nItems = rows; }
  }
}

interface FoldInInputs { items: Int32Array; values: Float32Array; confidenceScale: number; lambda: number }

// What a half-sweep solves from: the users × items CSR, or the compact items × users copy.
type TrainingRows = CsrMatrix | CompactColumns;

interface SolverScratch {
  work: number;
  /** A compact-columns row decoded: its ids, and its values when read from the source (else 0). */
  ids: number; values: number;
  /** rotateRows's 4k floats when the tables are turned into an eigenbasis (else 0). */
  rotation: number;
  gathered?: number; gatherCapacity?: number; weights?: number; coefficients?: number;
  a?: number; b?: number; yRow?: number;
}

function now(): number {
  return performance.now();
}

// What the file keeps: how the model was trained, not how many threads did it; the
// fold-in rule only when it is not the default, so files of native models stay as they were.
function modelOptions(options: Required<AlsOptions>): Partial<AlsOptions> {
  const { threads: _notAModelProperty, foldInRule, ...kept } = options;
  return foldInRule === "edgerec" ? kept : { ...kept, foldInRule };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validateOptions(o: Required<AlsOptions>): Required<AlsOptions> {
  const positiveInt = (name: keyof AlsOptions, min: number) => {
    const v = o[name] as number;
    if (!Number.isInteger(v) || v < min) throw new RangeError(`AlternatingLeastSquares: ${name} must be an integer ≥ ${min}, got ${v}`);
  };
  const finite = (name: keyof AlsOptions, min: number) => {
    const v = o[name] as number;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min) throw new RangeError(`AlternatingLeastSquares: ${name} must be a number ≥ ${min}, got ${v}`);
  };
  positiveInt("factors", 1); positiveInt("iterations", 0); positiveInt("cgSteps", 1); positiveInt("seed", 0); positiveInt("threads", 0);
  finite("regularization", 0); finite("alpha", 0); finite("unobservedWeight", 0); finite("regularizationExponent", 0); finite("initScale", 0);
  if (o.solver !== "cg" && o.solver !== "cholesky") throw new RangeError(`AlternatingLeastSquares: solver must be 'cg' or 'cholesky', got '${o.solver}'`);
  if (!["edgerec", "spark-implicit", "spark-explicit"].includes(o.foldInRule)) throw new RangeError(`AlternatingLeastSquares: foldInRule must be 'edgerec', 'spark-implicit' or 'spark-explicit', got '${o.foldInRule}'`);
  if (o.initDistribution !== "uniform" && o.initDistribution !== "normal") throw new RangeError(`AlternatingLeastSquares: initDistribution must be 'uniform' or 'normal', got '${o.initDistribution}'`);
  return o;
}
