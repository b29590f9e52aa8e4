// Bayesian Personalized Ranking (Rendle et al. 2009) with the options and semantics of
// implicit's BayesianPersonalizedRanking (CPU). The sampling-and-update loop and its
// maths live in assembly/bpr.ts.
//
// Factor rows carry an item bias as one extra column, as implicit does: item rows are
// [y_i, b_i], user rows [x_u, 1], so an inner product is x_u·y_i + b_i and every
// FactorModel query (recommend, similarItems, similarUsers) scores with the bias.
// `model.factors` is therefore the row width, options.factors + 1 (implicit's
// item_factors.shape[1]); `model.options.factors` is the number asked for. A user given
// to recommend() as a Float32Array is options.factors + 1 floats ending in 1, and
// similarItems' cosine includes the bias column, as implicit's CPU model does.
//
// Initial factors as implicit: (U[0,1) − ½)/factors for every entry, the item bias
// included; items and users without any interaction zeroed; the users' last column 1.
// One epoch is nnz samples; onEpoch reports implicit's train_auc and skipped count.

import { CsrMatrix } from "./csr.js";
import { getEngine, type Engine } from "./engine.js";
import { FactorModel } from "./factorization.js";
import { extraChunks } from "./catalog.js";
import { modelFromOptions, readModelFile, restoreOrDispose, writeModelFile } from "./model-file.js";
import { defaultThreads, poolFor, threadsFor } from "./pool.js";
import { blockBytes, ensureMemoryFor, estimate, type FitShape, type MemoryEstimate } from "./memory-plan.js";

export interface BprOptions {
  /** Latent factors per user and item (rows hold one more column: the item bias). Default 100. */
  factors?: number;
  /** SGD step size (Adagrad: the base step). Default 0.01. */
  learningRate?: number;
  /** L2 regularization of every updated parameter. Default 0.01. */
  regularization?: number;
  /** Epochs; one epoch draws as many samples as the matrix has nonzeros. Default 100. */
  iterations?: number;
  /** Skip a sample whose negative item the user actually likes (as implicit). Default true. */
  verifyNegativeSamples?: boolean;
  /** Seed of the initial factors and of the sampler: same seed, data and options → same model. Default 0. */
  seed?: number;
  /**
   * How negative items are drawn: 'uniform' over all items, or 'popularity': in proportion
   * to each item's number of users (the item of a random nonzero: what implicit's CPU
   * code does). Default 'uniform'.
   */
  sampling?: "uniform" | "popularity";
  /**
   * The order of the liked pairs: 'random', each sample a uniformly drawn interaction (as
   * implicit), or 'userBlocks': each epoch visits the interactions in blocks of 4,096
   * (consecutive users), the blocks in a random order, drawing each block's share of the
   * samples uniformly from it. Every interaction is as likely a sample as in 'random'
   * order, and models score the same (README: Models and evaluation), but a block's users
   * stay in cache while it runs: an epoch on large data takes ~0.6× the time. Default 'userBlocks'.
   */
  sampleOrder?: "random" | "userBlocks";
  /** 'sgd' (implicit's) or 'adagrad' (per-parameter steps lr/√(Σ gradient² + 1e-8)). Default 'sgd'. */
  optimizer?: "sgd" | "adagrad";
  /**
   * Threads for the epochs. Default 1: deterministic. With more (0 = every core), each
   * epoch's samples are split between threads that update the shared factors without
   * locks (Hogwild, as implicit's OpenMP loop does): faster, but the model then varies
   * from run to run.
   */
  threads?: number;
}

/** What onEpoch receives after every epoch. */
export interface EpochInfo {
  /** 1-based. */
  epoch: number;
  epochs: number;
  /** Seconds since fit started. */
  elapsed: number;
  /** Seconds this epoch took. */
  seconds: number;
  /**
   * implicit's train_auc: the share of this epoch's sampled (u, i, j) triples the model
   * ranked correctly (x_u·y_i > x_u·y_j, before the update), skipped samples left out.
   * NaN when every sample was skipped.
   */
  auc: number;
  /** Samples skipped because the negative item was one the user likes (verifyNegativeSamples). */
  skipped: number;
}

export interface BprFitOptions {
  onEpoch?: (info: EpochInfo) => void;
}

const DEFAULTS: Required<BprOptions> = {
  factors: 100, learningRate: 0.01, regularization: 0.01, iterations: 100, verifyNegativeSamples: true, seed: 0,
  sampling: "uniform", sampleOrder: "userBlocks", optimizer: "sgd", threads: 1,
};

/** Nonzeros per block in 'userBlocks' order (assembly/bpr.ts BLOCK_SHIFT). */
const BLOCK_NONZEROS = 1 << 12;

/**
 * @internal Samples per kernel call: short calls let V8 tier the kernel up early (see
 * the shared wasm findings). Sample t's random draws depend on (seed, t) only, so the
 * model does not depend on this; tests change it to prove that.
 */
export const bprTuning = { samplesPerCall: 1 << 18 };

// Rows per call when the factors are split and joined around an epoch: many calls, so a
// first epoch runs V8's optimized code after the first few (see rowRanges in csr.ts).
const CONVERT_ROWS = 1 << 15;

/** Implicit-feedback matrix factorization by Bayesian Personalized Ranking (pairwise, SGD). */
export class BayesianPersonalizedRanking extends FactorModel {
  readonly options: Readonly<Required<BprOptions>>;
  /** @internal */ readonly engine: Engine;
  nUsers = 0;
  nItems = 0;
  /** @internal */ protected userFactorsPtr = 0;
  /** @internal */ protected itemFactorsPtr = 0;

  constructor(options: BprOptions = {}) {
    super();
    this.engine = getEngine();
    this.options = Object.freeze(validateOptions({ ...DEFAULTS, ...stripUndefined(options) }));
  }

  /** Row width of userFactors and itemFactors: options.factors + 1 (the last column is the item bias; users hold 1 there). */
  get factors(): number { return this.options.factors + 1; }

  /**
   * The wasm memory (bytes, with a breakdown) fit() will hold at its peak for a matrix of
   * this shape, on top of what is already allocated: the factor rows, the item biases
   * apart during epochs (and Adagrad's gradient sums, about as large as the factors) and
   * the row id of every interaction.
   */
  static memoryNeeded(shape: FitShape, options: BprOptions = {}): MemoryEstimate {
    const o = validateOptions({ ...DEFAULTS, ...stripUndefined(options) });
    const width = o.factors + 1;
    const factors = blockBytes(shape.nUsers * width * 4) + blockBytes(shape.nItems * width * 4);
    const itemBiases = blockBytes(Math.max(shape.nItems, 1) * 4);
    return estimate({
      factors,
      "item biases": itemBiases,
      "Adagrad gradient sums": o.optimizer === "adagrad"
        ? blockBytes(Math.max(shape.nUsers * o.factors, 1) * 4) + blockBytes(Math.max(shape.nItems * o.factors, 1) * 4) + itemBiases : 0,
      // The per-item counts of initialisation are freed before the row ids are taken.
      "row id per interaction": Math.max(blockBytes(shape.nnz * 4), blockBytes(shape.nItems * 4)),
      "block order": o.sampleOrder === "userBlocks" ? blockBytes(Math.max(Math.floor(shape.nnz / BLOCK_NONZEROS), 1) * 4) : 0,
      "results of each kernel call": blockBytes((Math.ceil(shape.nnz / bprTuning.samplesPerCall) + Math.max(o.threads, defaultThreads())) * 12),
    });
  }

  /**
   * Trains on a users × items matrix: every stored entry is a liked (positive) pair, its
   * value ignored (as implicit). Initialises the factors from the seed, then runs
   * `iterations` epochs of nnz samples each.
   */
  async fit(userItems: CsrMatrix, { onEpoch }: BprFitOptions = {}): Promise<void> {
    if (!(userItems instanceof CsrMatrix)) throw new TypeError("fit: userItems must be a CsrMatrix (users × items), e.g. CsrMatrix.fromCoo({ rows, cols, values })");
    const o = this.options;
    const { heap, kernels } = this.engine;
    const nnz = userItems.nnz;
    // Refuse a fit that cannot fit in wasm32 before allocating anything.
    ensureMemoryFor(this.engine, "BayesianPersonalizedRanking.fit", BayesianPersonalizedRanking.memoryNeeded({ nUsers: userItems.nRows, nItems: userItems.nCols, nnz }, o));
    this.allocateFactors(userItems.nRows, userItems.nCols);
    const seedBits = BigInt.asUintN(64, BigInt(o.seed));
    const adagrad = o.optimizer === "adagrad";
    const ptrs = { rowOf: 0, out: 0, gx: 0, gy: 0, gyBias: 0, itemBias: 0, counts: 0, blockOrder: 0 };
    const blocked = o.sampleOrder === "userBlocks", fullBlocks = Math.floor(nnz / BLOCK_NONZEROS);
    try {
      ptrs.counts = heap.alloc(Math.max(this.nItems, 1) * 4);
      kernels.bprInitialize(this.userFactorsPtr, this.nUsers, this.itemFactorsPtr, this.nItems, o.factors, seedBits,
        userItems.indptrPtr, userItems.indicesPtr, nnz, ptrs.counts);
      heap.release(ptrs.counts);
      ptrs.counts = 0;
      // The row of every nonzero (COO row ids), the sums of squared gradients, the kernel's counts.
      ptrs.rowOf = heap.alloc(Math.max(nnz, 1) * 4);
      kernels.bprRowIds(userItems.indptrPtr, userItems.nRows, ptrs.rowOf);
      ptrs.itemBias = heap.alloc(Math.max(this.nItems, 1) * 4);
      if (blocked) ptrs.blockOrder = heap.alloc(Math.max(fullBlocks, 1) * 4);
      if (adagrad) {
        // Shaped as the split layout the epochs run on (the users' constant column has none).
        ptrs.gx = heap.allocZeroed(Math.max(this.nUsers * o.factors, 1) * 4);
        ptrs.gy = heap.allocZeroed(Math.max(this.nItems * o.factors, 1) * 4);
        ptrs.gyBias = heap.allocZeroed(Math.max(this.nItems, 1) * 4);
      }
      const threads = o.threads === 1 ? 1 : threadsFor(this.engine, o.threads);
      const pool = threads > 1 ? await poolFor(this.engine, threads) : undefined;
      // One 12-byte result slot per kernel call of an epoch (each thread's range in calls).
      const callsPerEpoch = Math.ceil(nnz / bprTuning.samplesPerCall) + threads;
      ptrs.out = heap.alloc(callsPerEpoch * 12);

      const started = now();
      for (let epoch = 1; epoch <= o.iterations && nnz > 0; epoch++) {
        const epochStarted = now();
        // Sample t of the fit is a pure function of (seed, t): chunking cannot change the model.
        if (blocked) kernels.bprBlockOrder(seedBits, BigInt(epoch - 1), fullBlocks, ptrs.blockOrder);
        const calls = this.epochCalls(epoch, nnz, threads, seedBits, ptrs, userItems, adagrad, fullBlocks);
        this.splitRows(ptrs.itemBias);
        try {
          if (pool) await pool.run(calls);
          else for (const { args } of calls.flat()) kernels.bprSamples(...(args as Parameters<typeof kernels.bprSamples>));
        } finally {
          this.joinRows(ptrs.itemBias);
        }
        let correct = 0, skipped = 0;
        const results = heap.i32(ptrs.out, calls.flat().length * 3);
        for (let c = 0; c < calls.flat().length; c++) { correct += results[3 * c]; skipped += results[3 * c + 1]; }
        this.checkFactorsFinite("BayesianPersonalizedRanking", epoch,
          `Lower learningRate (now ${o.learningRate}), raise regularization (now ${o.regularization}), or try optimizer: 'adagrad'.`);
        const finished = now();
        const auc = nnz > skipped ? correct / (nnz - skipped) : NaN;
        onEpoch?.({ epoch, epochs: o.iterations, elapsed: (finished - started) / 1000, seconds: (finished - epochStarted) / 1000, auc, skipped });
        // Let progress output and other tasks run between epochs.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    } finally {
      for (const ptr of Object.values(ptrs)) if (ptr) heap.release(ptr);
      this.factorsChanged();
    }
  }

  // Epochs run on the factor rows split (assembly/bpr.ts): k floats a row, item biases apart.
  private splitRows(itemBias: number): void {
    const { kernels } = this.engine;
    const k = this.options.factors;
    for (let start = 0; start < this.nUsers; start += CONVERT_ROWS) kernels.bprSplitRows(this.userFactorsPtr, start, Math.min(this.nUsers, start + CONVERT_ROWS), k, 0);
    for (let start = 0; start < this.nItems; start += CONVERT_ROWS) kernels.bprSplitRows(this.itemFactorsPtr, start, Math.min(this.nItems, start + CONVERT_ROWS), k, itemBias);
  }

  private joinRows(itemBias: number): void {
    const { kernels } = this.engine;
    const k = this.options.factors;
    for (let end = this.nUsers; end > 0; end -= CONVERT_ROWS) kernels.bprJoinRows(this.userFactorsPtr, Math.max(0, end - CONVERT_ROWS), end, k, 0);
    for (let end = this.nItems; end > 0; end -= CONVERT_ROWS) kernels.bprJoinRows(this.itemFactorsPtr, Math.max(0, end - CONVERT_ROWS), end, k, itemBias);
  }

  // The bprSamples calls of one epoch: its nnz samples cut into `threads` contiguous
  // ranges (one list per thread), each in calls of at most samplesPerCall samples. In
  // user-block order each thread's range is then its own blocks: its own users.
  private epochCalls(epoch: number, nnz: number, threads: number, seedBits: bigint, ptrs: { rowOf: number; out: number; gx: number; gy: number; gyBias: number; itemBias: number; blockOrder: number }, userItems: CsrMatrix, adagrad: boolean, fullBlocks: number) {
    const o = this.options;
    const lists: { kernel: string; args: (number | bigint | boolean)[] }[][] = [];
    let slot = 0;
    for (let w = 0; w < threads; w++) {
      const list: { kernel: string; args: (number | bigint | boolean)[] }[] = [];
      const end = Math.floor((nnz * (w + 1)) / threads);
      for (let done = Math.floor((nnz * w) / threads); done < end;) {
        const samples = Math.min(bprTuning.samplesPerCall, end - done);
        const epochFirst = BigInt(epoch - 1) * BigInt(nnz), first = epochFirst + BigInt(done);
        list.push({ kernel: "bprSamples", args: [samples, seedBits, first, ptrs.rowOf, userItems.indptrPtr, userItems.indicesPtr, nnz, this.nItems,
          this.userFactorsPtr, this.itemFactorsPtr, ptrs.itemBias, o.factors, o.learningRate, o.regularization,
          o.verifyNegativeSamples, o.sampling === "popularity", adagrad, ptrs.gx, ptrs.gy, ptrs.gyBias, ptrs.out + 12 * slot++,
          epochFirst, o.sampleOrder === "userBlocks", ptrs.blockOrder, fullBlocks] });
        done += samples;
      }
      lists.push(list);
    }
    return lists;
  }

  /**
   * The model as bytes in edgerec's versioned model format (kind 'bpr'; identical on
   * every runtime), with its catalog and training matrix when those are set.
   */
  save(): Uint8Array {
    this.checkFitted();
    return writeModelFile({
      extra: extraChunks(this),
      kind: "bpr",
      options: modelOptions(this.options),
      nUsers: this.nUsers,
      nItems: this.nItems,
      factors: this.factors,
      userFactors: this.userFactors,
      itemFactors: this.itemFactors,
    });
  }

  /** A model from save()'s bytes. Refuses truncated, corrupted or foreign files with a clear error. */
  static load(bytes: Uint8Array): BayesianPersonalizedRanking {
    const file = readModelFile(bytes);
    if (file.kind !== "bpr") throw new Error(`BayesianPersonalizedRanking.load: the file holds a '${file.kind}' model, not 'bpr'`);
    // Files from before sampleOrder existed were trained in random order.
    const model = modelFromOptions(file, (options) => new BayesianPersonalizedRanking({ sampleOrder: "random", ...(options as BprOptions) }));
    if (file.factors !== model.factors) throw new Error(`edgerec model file: rows of ${file.factors} floats, but ${model.options.factors} factors need ${model.factors} (the factors and the bias)`);
    return restoreOrDispose(model, () => model.restoreFrom(file));
  }

}

/**
 * @internal Test hook: the first `count` samples of a fit with this seed, drawn by the
 * training loop's own sampler: users, liked items and negative items. Default order
 * 'random' (the order the sampler tests were written for).
 */
export function drawSamples(
  userItems: CsrMatrix, count: number,
  { sampling = "uniform", sampleOrder = "random", seed = 0 }: { sampling?: "uniform" | "popularity"; sampleOrder?: "random" | "userBlocks"; seed?: number } = {},
): { users: Int32Array; items: Int32Array; negatives: Int32Array } {
  const { heap, kernels } = userItems.engine;
  const nnz = userItems.nnz;
  if (nnz === 0) throw new RangeError("drawSamples: the matrix has no nonzeros");
  const fullBlocks = Math.floor(nnz / BLOCK_NONZEROS), seedBits = BigInt.asUintN(64, BigInt(seed));
  const rowOf = heap.alloc(nnz * 4), out = heap.alloc(Math.max(count, 1) * 12), order = heap.alloc(Math.max(fullBlocks, 1) * 4);
  try {
    kernels.bprRowIds(userItems.indptrPtr, userItems.nRows, rowOf);
    // An epoch at a time, as fit() runs them (each has its own block order).
    for (let epoch = 0; epoch * nnz < count; epoch++) {
      const first = epoch * nnz;
      kernels.bprBlockOrder(seedBits, BigInt(epoch), fullBlocks, order);
      kernels.bprDrawSamples(seedBits, BigInt(first), rowOf, userItems.indicesPtr, nnz, userItems.nCols, sampling === "popularity",
        Math.min(nnz, count - first), out + first * 12, BigInt(first), sampleOrder === "userBlocks", order, fullBlocks);
    }
    const triples = heap.i32(out, count * 3);
    return {
      users: Int32Array.from({ length: count }, (_, s) => triples[3 * s]),
      items: Int32Array.from({ length: count }, (_, s) => triples[3 * s + 1]),
      negatives: Int32Array.from({ length: count }, (_, s) => triples[3 * s + 2]),
    };
  } finally {
    heap.release(rowOf);
    heap.release(out);
    heap.release(order);
  }
}

function now(): number {
  return performance.now();
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// What the file keeps: how the model was trained, not how many threads did it.
function modelOptions(options: Required<BprOptions>): Omit<Required<BprOptions>, "threads"> {
  const { threads: _notAModelProperty, ...kept } = options;
  return kept;
}

function validateOptions(o: Required<BprOptions>): Required<BprOptions> {
  const fail = (why: string): never => { throw new RangeError(`BayesianPersonalizedRanking: ${why}`); };
  const integer = (name: keyof BprOptions, min: number) => {
    const v = o[name] as number;
    if (!Number.isInteger(v) || v < min) fail(`${name} must be an integer ≥ ${min}, got ${v}`);
  };
  const finite = (name: keyof BprOptions, min: number, exclusive = false) => {
    const v = o[name] as number;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || (exclusive && v === min)) fail(`${name} must be a number ${exclusive ? ">" : "≥"} ${min}, got ${v}`);
  };
  integer("factors", 1); integer("iterations", 0); integer("seed", 0); integer("threads", 0);
  finite("learningRate", 0, true); finite("regularization", 0);
  if (typeof o.verifyNegativeSamples !== "boolean") fail(`verifyNegativeSamples must be true or false, got ${o.verifyNegativeSamples}`);
  if (o.sampling !== "uniform" && o.sampling !== "popularity") fail(`sampling must be 'uniform' or 'popularity', got '${o.sampling}'`);
  if (o.sampleOrder !== "random" && o.sampleOrder !== "userBlocks") fail(`sampleOrder must be 'random' or 'userBlocks', got '${o.sampleOrder}'`);
  if (o.optimizer !== "sgd" && o.optimizer !== "adagrad") fail(`optimizer must be 'sgd' or 'adagrad', got '${o.optimizer}'`);
  return o;
}
