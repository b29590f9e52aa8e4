// implicit's own model files, read and written: `model.save("model.npz")` in implicit ≥ 0.5
// is np.savez of the factors and the hyperparameters, one 0-d array each, and
// `AlternatingLeastSquares.load` / `BayesianPersonalizedRanking.load` build the class the
// caller names and setattr every key (0-d arrays become Python scalars, `dtype` a numpy
// dtype). So the file does not say which model it holds: the hyperparameters do.
//
// Keys as implicit 0.7's CPU save() writes them (GPU models save through to_cpu(); keys
// whose value is None, such as random_state by default, are left out):
//   ALS  user_factors, item_factors, regularization, factors, num_threads, iterations,
//        use_native, use_cg, cg_steps, calculate_training_loss, dtype, random_state, alpha
//   BPR  user_factors, item_factors, regularization, factors, learning_rate,
//        verify_negative_samples, num_threads, iterations, dtype, random_state
// Factors are float32 (float64 with dtype=np.float64) C-order matrices; Python ints are
// '<i8', floats '<f8', bools '|b1', dtype.name a '<U7' string. BPR rows are factors + 1
// wide (the item bias last; users hold 1 there), exactly as edgerec's BPR stores them.

import { AlternatingLeastSquares, type AlsOptions } from "../als.js";
import { BayesianPersonalizedRanking, type BprOptions } from "../bpr.js";
import { DataError } from "../io/errors.js";
import type { SourceInput } from "../io/source.js";
import { writeModelFile } from "../model-file.js";
import { npyScalar, scalarArray, type NpyArray, type NpyScalar } from "./npy.js";
import { readNpz, writeNpz } from "./npz.js";

/** The models implicit's .npz files can hold for edgerec. */
export type ImplicitModel = AlternatingLeastSquares | BayesianPersonalizedRanking;

export interface ImplicitReadOptions {
  /** Which model the file holds, when its keys do not tell (implicit's load is told by the caller too). */
  kind?: "als" | "bpr";
}

const ALS_KEYS = ["alpha", "use_cg", "cg_steps", "use_native", "calculate_training_loss"];
const BPR_KEYS = ["learning_rate", "verify_negative_samples"];

/**
 * An edgerec model from an implicit .npz (bytes, or a path). ALS or BPR is decided by the
 * hyperparameters implicit saves beside the factors (else by the users' constant last
 * column, BPR's bias slot); float64 factors become float32; keys edgerec has no use for
 * (num_threads, dtype, anything a later implicit adds) are ignored. The model has no
 * catalog: users and items are the file's row numbers.
 */
export async function readImplicitModel(input: Uint8Array | SourceInput, name = "model.npz", options: ImplicitReadOptions = {}): Promise<ImplicitModel> {
  const source: SourceInput = input instanceof Uint8Array ? { name, bytes: input } : input;
  const file = typeof source === "string" ? source : source.name;
  const fail = (why: string): never => { throw new DataError(why, { file }); };
  const arrays = await readNpz(source);

  const users = factorMatrix(arrays, "user_factors", fail);
  const items = factorMatrix(arrays, "item_factors", fail);
  if (users.columns !== items.columns) fail(`user_factors has ${users.columns} columns but item_factors ${items.columns}: not one model`);
  const scalar = (key: string, type: "number" | "integer" | "boolean"): number | boolean | undefined => {
    const array = arrays.get(key);
    if (!array) return undefined;
    const value = npyScalar(array, `${file}:${key}.npy`);
    if (type === "boolean") {
      if (typeof value !== "boolean") fail(`${key} should be a bool, got ${array.descr} ${String(value)}`);
      return value as boolean;
    }
    const n = typeof value === "bigint" ? Number(value) : value;
    if (typeof n !== "number" || !Number.isFinite(n) || (type === "integer" && !Number.isSafeInteger(n))) fail(`${key} should be ${type === "integer" ? "an integer" : "a number"}, got ${array.descr} ${String(value)}`);
    return n as number;
  };

  if (arrays.has("neg_prop")) fail("holds implicit's LogisticMatrixFactorization (neg_prop), which edgerec does not implement: only ALS and BPR models load");
  const kind = options.kind ?? detectKind(arrays, users.values, users.columns, fail);
  // random_state is saved only when it was an int; a negative or huge one cannot seed edgerec.
  const randomState = scalar("random_state", "integer") as number | undefined;
  const seed = randomState !== undefined && randomState >= 0 ? randomState : undefined;
  const declaredFactors = scalar("factors", "integer") as number | undefined;
  const iterations = scalar("iterations", "integer") as number | undefined;
  const regularization = scalar("regularization", "number") as number | undefined;

  let contents: { kind: string; options: object; factors: number };
  if (kind === "als") {
    if (declaredFactors !== undefined && declaredFactors !== users.columns) fail(`factors says ${declaredFactors} but the factor matrices have ${users.columns} columns`);
    const useCg = scalar("use_cg", "boolean") as boolean | undefined;
    const als: AlsOptions = {
      factors: users.columns, regularization, iterations, seed,
      alpha: scalar("alpha", "number") as number | undefined,
      cgSteps: scalar("cg_steps", "integer") as number | undefined,
      solver: useCg === undefined ? undefined : useCg ? "cg" : "cholesky",
      calculateTrainingLoss: scalar("calculate_training_loss", "boolean") as boolean | undefined,
    };
    contents = { kind: "als", options: validOptions(() => new AlternatingLeastSquares(als).options, fail), factors: users.columns };
  } else {
    if (users.columns < 2) fail(`a BPR model's rows hold the factors and the item bias: ${users.columns} column is too few`);
    if (declaredFactors !== undefined && declaredFactors + 1 !== users.columns) fail(`factors says ${declaredFactors} but BPR's factor matrices should then have ${declaredFactors + 1} columns (the bias last), not ${users.columns}`);
    const bpr: BprOptions = {
      factors: users.columns - 1, regularization, iterations, seed,
      learningRate: scalar("learning_rate", "number") as number | undefined,
      verifyNegativeSamples: scalar("verify_negative_samples", "boolean") as boolean | undefined,
      sampleOrder: "random", // implicit draws every liked pair from the whole matrix
    };
    contents = { kind: "bpr", options: validOptions(() => new BayesianPersonalizedRanking(bpr).options, fail), factors: users.columns };
  }
  // Through edgerec's own model file: load() then checks the shapes and owns the wasm memory.
  const bytes = writeModelFile({ ...contents, nUsers: users.rows, nItems: items.rows, userFactors: users.values, itemFactors: items.values });
  return kind === "als" ? AlternatingLeastSquares.load(bytes) : BayesianPersonalizedRanking.load(bytes);
}

/**
 * implicit's .npz of a fitted edgerec ALS or BPR model: the keys, dtypes and order
 * implicit 0.7's save() writes, so `implicit.als.AlternatingLeastSquares.load(path)` (or
 * implicit.bpr's) reads it. Options implicit has no key for (edgerec's unobservedWeight,
 * BPR's sampling and optimizer…) are not written; the catalog is not either: write it beside.
 */
export function writeImplicitNpz(model: ImplicitModel): Uint8Array {
  const factorArray = (values: Float32Array, rows: number): NpyArray => ({ descr: "<f4", shape: [rows, model.factors], data: Float32Array.from(values) });
  const arrays: [string, NpyArray][] = [
    ["user_factors", factorArray(model.userFactors, model.nUsers)],
    ["item_factors", factorArray(model.itemFactors, model.nItems)],
  ];
  const add = (key: string, value: NpyScalar, as?: "float" | "int") => arrays.push([key, scalarArray(value, as)]);
  if (model instanceof AlternatingLeastSquares) {
    const o = model.options;
    add("regularization", o.regularization, "float");
    add("factors", o.factors, "int");
    add("num_threads", 0, "int");
    add("iterations", o.iterations, "int");
    add("use_native", true);
    add("use_cg", o.solver === "cg");
    add("cg_steps", o.cgSteps, "int");
    add("calculate_training_loss", o.calculateTrainingLoss);
    add("dtype", "float32");
    add("random_state", o.seed, "int");
    add("alpha", o.alpha, "float");
  } else if (model instanceof BayesianPersonalizedRanking) {
    const o = model.options;
    add("regularization", o.regularization, "float");
    add("factors", o.factors, "int");
    add("learning_rate", o.learningRate, "float");
    add("verify_negative_samples", o.verifyNegativeSamples);
    add("num_threads", 0, "int");
    add("iterations", o.iterations, "int");
    add("dtype", "float32");
    add("random_state", o.seed, "int");
  } else {
    throw new TypeError("writeImplicitNpz: implicit's format holds AlternatingLeastSquares and BayesianPersonalizedRanking models only");
  }
  return writeNpz(arrays);
}

interface FactorMatrix { rows: number; columns: number; values: Float32Array }

function factorMatrix(arrays: Map<string, NpyArray>, key: string, fail: (why: string) => never): FactorMatrix {
  const array = arrays.get(key);
  if (!array) {
    const keys = [...arrays.keys()];
    return fail(`no ${key} array (keys: ${keys.join(", ") || "none"}): not an implicit model, or one saved before fit()`);
  }
  if (array.shape.length !== 2) fail(`${key} should be a users-or-items × factors matrix, got shape (${array.shape.join(", ")})`);
  const [rows, columns] = array.shape;
  if (columns < 1) fail(`${key} has no columns`);
  if (array.data instanceof Float32Array) return { rows, columns, values: array.data };
  if (array.data instanceof Float64Array) return { rows, columns, values: Float32Array.from(array.data) };
  return fail(`${key} has dtype ${array.descr}; implicit's factors are float32 or float64`);
}

function detectKind(arrays: Map<string, NpyArray>, userFactors: Float32Array, columns: number, fail: (why: string) => never): "als" | "bpr" {
  const als = ALS_KEYS.filter((k) => arrays.has(k));
  const bpr = BPR_KEYS.filter((k) => arrays.has(k));
  if (als.length && bpr.length) fail(`has keys of both ALS (${als.join(", ")}) and BPR (${bpr.join(", ")}): pass kind 'als' or 'bpr'`);
  if (als.length) return "als";
  if (bpr.length) return "bpr";
  // No hyperparameters: implicit's BPR sets every user's last column to exactly 1 (the bias slot).
  if (columns < 2 || userFactors.length === 0) return "als";
  for (let at = columns - 1; at < userFactors.length; at += columns) if (userFactors[at] !== 1) return "als";
  return "bpr";
}

function validOptions(build: () => object, fail: (why: string) => never): object {
  try {
    return build();
  } catch (error) {
    return fail(`its hyperparameters are not usable: ${(error as Error).message}`);
  }
}
