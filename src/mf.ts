// Explicit-feedback matrix factorization: predicts ratings as μ + b_u + b_i + p_u·q_i
// (the "biased SVD" of Funk 2006 and Koren, Bell & Volinsky 2009; what one builds with two
// Embedding layers and two bias embeddings in Keras), trained by SGD over the ratings in
// a seeded random order per epoch. The maths and the row layout live beside the kernels
// in assembly/mf.ts.

import { CsrMatrix } from "./csr.js";
import { getEngine, type Engine } from "./engine.js";
import { FactorModel, type BatchTopN, type RecommendOptions, type TopN } from "./factorization.js";
import { extraChunks, restoreExtraChunks, type Catalog } from "./catalog.js";
import { littleEndianWords, modelFromOptions, readModelFile, restoreOrDispose, wordsOf, writeModelFile } from "./model-file.js";
import { blockBytes, ensureMemoryFor, estimate, type FitShape, type MemoryEstimate } from "./memory-plan.js";
import { firstNonFinite, ModelFitError } from "./fit-error.js";

export interface MatrixFactorizationOptions {
  /** Latent factors per user and item. Default 32. */
  factors?: number;
  /** η: SGD step size. Default 0.01. */
  learningRate?: number;
  /** λ: L2 regularization of the factors. Default 0.1. */
  regularization?: number;
  /** λ_b: L2 regularization of the biases. Default: the same as `regularization`. */
  biasRegularization?: number;
  /** Epochs (passes over the training ratings). Default 40. */
  iterations?: number;
  /** Seed of the initial factors and of every epoch's order: the same seed, data and options give the same model. Default 0. */
  seed?: number;
  /** Initial factors are N(0, initScale²); biases start at 0. Default 0.1. */
  initScale?: number;
}

/** What onEpoch receives after every epoch. */
export interface MfEpochInfo {
  /** 1-based. */
  epoch: number;
  epochs: number;
  /** √(mean squared error) over the training ratings, after the epoch. */
  trainRmse: number;
  /** The same over `validation`, when given. */
  validationRmse?: number;
  /**
   * The objective SGD minimises, per rating: mean over the training ratings of
   * e² + λ(‖p_u‖² + ‖q_i‖²) + λ_b(b_u² + b_i²).
   */
  trainLoss: number;
  /** The same objective over the validation ratings. */
  validationLoss?: number;
  /** Seconds since fit started. */
  elapsed: number;
}

export interface MatrixFactorizationFitOptions {
  /** Held-out ratings (users × items, the training matrix's ids) scored after every epoch. */
  validation?: CsrMatrix;
  onEpoch?: (info: MfEpochInfo) => void;
}

type ResolvedOptions = Required<MatrixFactorizationOptions>;

// Tuned on ml-latest-small (random 90/10 splits, seeds 1, 2, 3, 7, 42): validation RMSE 0.851
// on average, 0.858 at worst; λ = 0.02 and 20 epochs (Surprise's SVD) overfit to 0.862–0.881.
const DEFAULTS = { factors: 32, learningRate: 0.01, regularization: 0.1, iterations: 40, seed: 0, initScale: 0.1 };

// Ratings per SGD call: short calls let V8 tier the kernel up early (see the shared wasm findings).
const RATING_CHUNK = 16384;
// Fisher–Yates steps per shuffle call.
const SHUFFLE_CHUNK = 1 << 18;
const RECORD_BYTES = 12;

/** Rows are `width` floats: k factors, then the bias columns (see assembly/mf.ts). */
function rowWidth(k: number): number {
  return (k + 3 + 3) & ~3;
}

/** Explicit-rating matrix factorization with global mean and user and item biases, trained by SGD. */
export class MatrixFactorization {
  readonly options: Readonly<ResolvedOptions>;
  /** @internal */ readonly engine: Engine;
  nUsers = 0;
  nItems = 0;
  /** μ: the mean training rating (as float32). */
  globalMean = 0;
  /** The data's own ids and item names, saved with the model when set. */
  catalog?: Catalog;
  /** The training ratings, saved with the model when set: lets a loaded model filter seen items. */
  userItems?: CsrMatrix;
  /** @internal */ protected usersPtr = 0;
  /** @internal */ protected itemsPtr = 0;
  private scorer?: RowScorer;
  private scratch = 0;

  constructor(options: MatrixFactorizationOptions = {}) {
    this.engine = getEngine();
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as MatrixFactorizationOptions;
    const merged = { ...DEFAULTS, ...given };
    this.options = Object.freeze(validateOptions({ ...merged, biasRegularization: given.biasRegularization ?? merged.regularization }));
  }

  get factors(): number { return this.options.factors; }

  /**
   * The wasm memory (bytes, with a breakdown) fit() will hold at its peak for a ratings
   * matrix of this shape (validation ratings: `validationNnz`), on top of what is already
   * allocated: the factor rows with their bias columns, the initial factors' staging copy
   * and one 12-byte record per rating.
   */
  static memoryNeeded(shape: FitShape & { validationNnz?: number }, options: MatrixFactorizationOptions = {}): MemoryEstimate {
    const k = new MatrixFactorization(options).options.factors;
    const width = rowWidth(k);
    return estimate({
      "factor rows": blockBytes(shape.nUsers * width * 4) + blockBytes(shape.nItems * width * 4) + blockBytes(16),
      "initial factors": blockBytes((shape.nUsers + shape.nItems) * k * 4),
      "rating records": blockBytes(shape.nnz * RECORD_BYTES) + (shape.validationNnz ? blockBytes(shape.validationNnz * RECORD_BYTES) : 0) + blockBytes(16),
    });
  }
  /** Floats per row in wasm memory: the factors and the bias columns. */
  private get width(): number { return rowWidth(this.options.factors); }

  /**
   * Trains on a users × items matrix of ratings (each stored entry is one rating; a
   * missing entry is unknown, not 0). Starts from fresh factors every time.
   */
  async fit(train: CsrMatrix, { validation, onEpoch }: MatrixFactorizationFitOptions = {}): Promise<void> {
    if (!(train instanceof CsrMatrix)) throw new TypeError("MatrixFactorization.fit: train must be a CsrMatrix of ratings (users × items)");
    if (train.nnz === 0) throw new RangeError("MatrixFactorization.fit: the training matrix holds no ratings");
    if (validation !== undefined) {
      if (!(validation instanceof CsrMatrix)) throw new TypeError("MatrixFactorization.fit: validation must be a CsrMatrix (users × items)");
      if (validation.nRows > train.nRows || validation.nCols > train.nCols) {
        throw new RangeError(`MatrixFactorization.fit: validation is ${validation.nRows} × ${validation.nCols}, larger than the training matrix (${train.nRows} × ${train.nCols}); use the same user and item ids`);
      }
    }
    const o = this.options;
    const k = o.factors, width = this.width;
    const { heap, kernels } = this.engine;
    // Refuse a fit that cannot fit in wasm32 before allocating anything.
    ensureMemoryFor(this.engine, "MatrixFactorization.fit", MatrixFactorization.memoryNeeded(
      { nUsers: train.nRows, nItems: train.nCols, nnz: train.nnz, validationNnz: validation?.nnz }, o));

    this.allocate(train.nRows, train.nCols);
    let sum = 0;
    for (const r of train.data) sum += r;
    this.globalMean = Math.fround(sum / train.nnz);
    this.initialise();

    const n = train.nnz;
    const records = heap.alloc(n * RECORD_BYTES);
    const validationRecords = validation && validation.nnz > 0 ? heap.alloc(validation.nnz * RECORD_BYTES) : 0;
    const sums = heap.alloc(16);
    const started = performance.now();
    try {
      if (validationRecords) kernels.mfPack(validation!.indptrPtr, validation!.indicesPtr, validation!.dataPtr, 0, validation!.nRows, validationRecords);
      const seed = BigInt.asUintN(64, BigInt(o.seed));
      for (let epoch = 1; epoch <= o.iterations; epoch++) {
        // This epoch's order: CSR order shuffled by the stream (seed, epoch), so it depends on nothing else.
        kernels.mfPack(train.indptrPtr, train.indicesPtr, train.dataPtr, 0, train.nRows, records);
        for (let hi = n; hi > 1; hi -= SHUFFLE_CHUNK) kernels.mfShuffle(records, hi, Math.max(1, hi - SHUFFLE_CHUNK), seed, BigInt(epoch));
        for (let start = 0; start < n; start += RATING_CHUNK) {
          kernels.mfSgd(records, start, Math.min(n, start + RATING_CHUNK), this.usersPtr, this.itemsPtr, k, width,
            o.learningRate, o.regularization, o.biasRegularization);
        }
        const trainFit = this.evaluate(records, n, sums);
        if (!Number.isFinite(trainFit.loss)) {
          // The loss sums every prediction, so a non-finite factor or bias makes it non-finite.
          throw new ModelFitError("MatrixFactorization", { iteration: epoch, ...this.firstNonFiniteRow(trainFit.loss) }, `Training diverged (loss ${trainFit.loss}): lower learningRate (now ${o.learningRate}), raise regularization (now ${o.regularization}), and check the ratings for huge values.`);
        }
        const info: MfEpochInfo = { epoch, epochs: o.iterations, trainRmse: trainFit.rmse, trainLoss: trainFit.loss, elapsed: 0 };
        if (validation) {
          const validationFit = validationRecords ? this.evaluate(validationRecords, validation.nnz, sums) : { rmse: NaN, loss: NaN };
          info.validationRmse = validationFit.rmse;
          info.validationLoss = validationFit.loss;
        }
        info.elapsed = (performance.now() - started) / 1000;
        onEpoch?.(info);
        // Let progress output and other tasks run between epochs.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    } finally {
      heap.release(records);
      if (validationRecords) heap.release(validationRecords);
      heap.release(sums);
    }
  }

  // Where a diverged fit went non-finite: the first such user row, else item row (factors
  // and biases); row -1 when every parameter is finite and only the loss's sum overflowed.
  private firstNonFiniteRow(loss: number): { side: "users" | "items"; row: number; value: number } {
    const { heap } = this.engine;
    const users = firstNonFinite(heap.f32(this.usersPtr, this.nUsers * this.width), this.width);
    if (users) return { side: "users", ...users };
    const items = firstNonFinite(heap.f32(this.itemsPtr, this.nItems * this.width), this.width);
    if (items) return { side: "items", ...items };
    return { side: "users", row: -1, value: loss };
  }

  /** The predicted rating r̂ = μ + b_u + b_i + p_u·q_i. */
  predict(user: number, item: number): number {
    this.checkFitted();
    checkId(user, this.nUsers, "user");
    checkId(item, this.nItems, "item");
    const { heap, kernels } = this.engine;
    const ids = heap.i32(this.scratch, 2);
    ids[0] = user; ids[1] = item;
    kernels.mfPredict(this.scratch, this.scratch + 4, 1, this.usersPtr, this.itemsPtr, this.width, this.scratch + 8);
    return heap.f32(this.scratch + 8, 1)[0];
  }

  /** Predicted ratings for the pairs (users[t], items[t]). */
  predictMany(users: ArrayLike<number>, items: ArrayLike<number>): Float32Array {
    this.checkFitted();
    if (users.length !== items.length) throw new RangeError(`predictMany: ${users.length} users but ${items.length} items`);
    const n = users.length;
    const { heap, kernels } = this.engine;
    const userIds = heap.alloc(Math.max(n, 1) * 4), itemIds = heap.alloc(Math.max(n, 1) * 4), out = heap.alloc(Math.max(n, 1) * 4);
    try {
      const u = heap.i32(userIds, n), it = heap.i32(itemIds, n);
      for (let t = 0; t < n; t++) {
        u[t] = checkId(users[t], this.nUsers, "user");
        it[t] = checkId(items[t], this.nItems, "item");
      }
      kernels.mfPredict(userIds, itemIds, n, this.usersPtr, this.itemsPtr, this.width, out);
      return Float32Array.from(heap.f32(out, n));
    } finally {
      heap.release(userIds); heap.release(itemIds); heap.release(out);
    }
  }

  /**
   * The items with the highest predicted rating for a user (exact top-n), skipping the
   * items the user has in `userItems` (the users × items matrix, row = user id, or one row
   * per user asked for) unless `filterAlreadyLikedItems` is false. Scores are predicted
   * ratings, equal to predict()'s bit for bit; equal scores go to the smaller item id.
   */
  recommend(user: number, userItems?: CsrMatrix, options?: RecommendOptions): TopN;
  recommend(users: ArrayLike<number>, userItems?: CsrMatrix, options?: RecommendOptions): BatchTopN;
  recommend(user: number | ArrayLike<number>, userItems?: CsrMatrix, options: RecommendOptions = {}): TopN | BatchTopN {
    this.checkFitted();
    // A Float32Array would be taken for a factor vector by FactorModel: pass ids as a plain array.
    if (typeof user === "number") return this.scorer!.recommend(user, userItems, options);
    return this.scorer!.recommend(Array.from(user), userItems, options);
  }

  /** Users × factors (p_u), row-major: a copy. */
  get userFactors(): Float32Array { return this.column(this.usersPtr, this.nUsers, 0, this.factors); }
  /** Items × factors (q_i), row-major: a copy. */
  get itemFactors(): Float32Array { return this.column(this.itemsPtr, this.nItems, 0, this.factors); }
  /** b_u per user: a copy. */
  get userBiases(): Float32Array { return this.column(this.usersPtr, this.nUsers, this.factors, 1); }
  /** b_i per item: a copy. */
  get itemBiases(): Float32Array { return this.column(this.itemsPtr, this.nItems, this.factors + 1, 1); }

  /** The model as bytes in edgerec's model format (kind 'mf'), identical on every runtime. */
  save(): Uint8Array {
    this.checkFitted();
    const biases = new Float32Array(1 + this.nUsers + this.nItems);
    biases[0] = this.globalMean;
    biases.set(this.userBiases, 1);
    biases.set(this.itemBiases, 1 + this.nUsers);
    const extra = extraChunks(this);
    extra.set("BIAS", littleEndianWords(biases));
    return writeModelFile({
      extra, kind: "mf", options: this.options, nUsers: this.nUsers, nItems: this.nItems, factors: this.factors,
      userFactors: this.userFactors, itemFactors: this.itemFactors,
    });
  }

  /** A model from save()'s bytes. Refuses truncated, corrupted or foreign files with a clear error. */
  static load(bytes: Uint8Array): MatrixFactorization {
    const file = readModelFile(bytes);
    if (file.kind !== "mf") throw new Error(`MatrixFactorization.load: the file holds a '${file.kind}' model, not 'mf'`);
    const model = modelFromOptions(file, (options) => new MatrixFactorization(options as MatrixFactorizationOptions));
    if (model.factors !== file.factors) throw new Error(`edgerec model file: META says ${file.factors} factors, the options ${model.factors}`);
    const biasChunk = file.extra?.get("BIAS");
    if (!biasChunk) throw new Error("edgerec model file: an 'mf' model needs a BIAS chunk");
    if (biasChunk.length !== (1 + file.nUsers + file.nItems) * 4) throw new Error(`edgerec model file: the BIAS chunk has ${biasChunk.length} bytes, expected ${(1 + file.nUsers + file.nItems) * 4}`);
    const biases = new Float32Array(wordsOf(biasChunk, 0, biasChunk.length >> 2).buffer);
    return restoreOrDispose(model, () => {
      model.allocate(file.nUsers, file.nItems);
      model.globalMean = biases[0];
      model.layout(file.userFactors, file.itemFactors, biases.subarray(1, 1 + file.nUsers), biases.subarray(1 + file.nUsers));
      restoreExtraChunks(model, file);
    });
  }

  /** Frees the model's wasm memory now. */
  dispose(): void {
    const { heap } = this.engine;
    this.scorer?.release();
    for (const ptr of [this.usersPtr, this.itemsPtr, this.scratch]) if (ptr) heap.release(ptr);
    this.usersPtr = this.itemsPtr = this.scratch = 0;
    this.scorer = undefined;
    this.nUsers = this.nItems = 0;
  }

  private checkFitted(): void {
    if (!this.usersPtr) throw new Error("MatrixFactorization: the model is not fitted: call fit() or load() first");
  }

  private allocate(nUsers: number, nItems: number): void {
    this.dispose();
    const { heap } = this.engine;
    const width = this.width;
    this.nUsers = nUsers;
    this.nItems = nItems;
    this.usersPtr = heap.allocZeroed(Math.max(nUsers, 1) * width * 4);
    this.itemsPtr = heap.allocZeroed(Math.max(nItems, 1) * width * 4);
    this.scratch = heap.alloc(16);
    this.scorer = new RowScorer(this.engine, width, nUsers, nItems, this.usersPtr, this.itemsPtr);
  }

  // Factors N(0, initScale²) from the counter-based generator (items first, then users, as
  // ALS), biases 0.
  private initialise(): void {
    const { heap, kernels } = this.engine;
    const { seed, initScale } = this.options;
    const k = this.factors;
    const itemCount = this.nItems * k, userCount = this.nUsers * k;
    const plain = heap.alloc(Math.max(itemCount + userCount, 1) * 4);
    try {
      const seedBits = BigInt.asUintN(64, BigInt(seed));
      kernels.fillNormal(plain, itemCount, seedBits, 0n, initScale);
      kernels.fillNormal(plain + itemCount * 4, userCount, seedBits, BigInt(itemCount), initScale);
      const values = Float32Array.from(heap.f32(plain, itemCount + userCount));
      this.layout(values.subarray(itemCount), values.subarray(0, itemCount), new Float32Array(this.nUsers), new Float32Array(this.nItems));
    } finally {
      heap.release(plain);
    }
  }

  // Writes plain factors and biases into the row layout of assembly/mf.ts:
  // user [p_u | b_u, 1, μ, 0…], item [q_i | 1, b_i, 1, 0…].
  private layout(userFactors: Float32Array, itemFactors: Float32Array, userBiases: Float32Array, itemBiases: Float32Array): void {
    const k = this.factors, width = this.width;
    const users = this.engine.heap.f32(this.usersPtr, this.nUsers * width);
    users.fill(0);
    for (let u = 0; u < this.nUsers; u++) {
      const row = u * width;
      users.set(userFactors.subarray(u * k, (u + 1) * k), row);
      users[row + k] = userBiases[u]; users[row + k + 1] = 1; users[row + k + 2] = this.globalMean;
    }
    const items = this.engine.heap.f32(this.itemsPtr, this.nItems * width);
    items.fill(0);
    for (let i = 0; i < this.nItems; i++) {
      const row = i * width;
      items.set(itemFactors.subarray(i * k, (i + 1) * k), row);
      items[row + k] = 1; items[row + k + 1] = itemBiases[i]; items[row + k + 2] = 1;
    }
  }

  private column(ptr: number, rows: number, first: number, count: number): Float32Array {
    this.checkFitted();
    const width = this.width;
    const all = this.engine.heap.f32(ptr, rows * width);
    const out = new Float32Array(rows * count);
    for (let r = 0; r < rows; r++) for (let c = 0; c < count; c++) out[r * count + c] = all[r * width + first + c];
    return out;
  }

  // RMSE and mean per-rating objective over packed records.
  private evaluate(records: number, n: number, sums: number): { rmse: number; loss: number } {
    const o = this.options;
    const { heap, kernels } = this.engine;
    heap.f64(sums, 2).fill(0);
    for (let start = 0; start < n; start += RATING_CHUNK) {
      kernels.mfEvaluate(records, start, Math.min(n, start + RATING_CHUNK), this.usersPtr, this.itemsPtr, this.factors, this.width,
        o.regularization, o.biasRegularization, true, sums);
    }
    const [squares, penalties] = heap.f64(sums, 2);
    return { rmse: Math.sqrt(squares / n), loss: (squares + penalties) / n };
  }
}

/** Exact top-n over the biased rows: FactorModel's queries with rows of `width` floats. */
class RowScorer extends FactorModel {
  constructor(
    readonly engine: Engine, readonly factors: number, readonly nUsers: number, readonly nItems: number,
    protected userFactorsPtr: number, protected itemFactorsPtr: number,
  ) { super(); }

  protected checkFitted(): void {}

  release(): void { this.factorsChanged(); }
}

function checkId(id: number, bound: number, what: string): number {
  if (!Number.isInteger(id) || id < 0 || id >= bound) throw new RangeError(`${what} id ${id} is outside [0, ${bound})`);
  return id;
}


function validateOptions(o: ResolvedOptions): ResolvedOptions {
  const integer = (name: keyof ResolvedOptions, min: number) => {
    const v = o[name];
    if (!Number.isInteger(v) || v < min) throw new RangeError(`MatrixFactorization: ${name} must be an integer ≥ ${min}, got ${v}`);
  };
  const finite = (name: keyof ResolvedOptions, min: number, strict = false) => {
    const v = o[name];
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || (strict && v === min)) {
      throw new RangeError(`MatrixFactorization: ${name} must be a number ${strict ? ">" : "≥"} ${min}, got ${v}`);
    }
  };
  integer("factors", 1); integer("iterations", 0); integer("seed", 0);
  finite("learningRate", 0, true); finite("regularization", 0); finite("biasRegularization", 0); finite("initScale", 0);
  return o;
}
