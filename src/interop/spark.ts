// Imports a Spark MLlib ALSModel (what `model.save(path)` writes in Scala or PySpark) as
// an edgerec AlternatingLeastSquares: train on a cluster, then serve and fold in new users
// in browsers and edge workers. Spark's user and item ids are arbitrary ints spread over
// several part files; the model's rows are those ids in increasing order, and its catalog
// maps them back (userKeys[row] = String(id)).
//
// Fold-in rule. Spark's implicit ALS (implicitPrefs=true) solves, per user,
//   (YᵀY + Σ α|r| y yᵀ + λ·n⁺·I) x = Σ_{r>0} (1 + α r) y,   n⁺ = #{r > 0}
// i.e. Hu et al.'s confidence c = 1 + α·r and ALS-WR's λ scaled by the user's count.
// implicit and edgerec use c = α·r and a fixed λ, so the same regParam and alpha would
// give a different user. The imported model therefore carries foldInRule 'spark-implicit',
// which makes recalculateUser and explain solve Spark's very system. An ALSModel's own
// metadata holds no regParam, alpha or implicitPrefs (they are estimator params that
// copyValues does not carry to the model), so they are read from its paramMap when there
// and otherwise taken from the caller, else Spark's defaults (regParam 0.1, alpha 1) with
// implicitPrefs assumed true: edgerec serves implicit feedback.

import { AlternatingLeastSquares } from "../als.js";
import { DataError } from "../io/errors.js";
import { readSparkFactors, type SparkFactors } from "./spark-factors.js";
import { displayName, sparkModelFiles, type SparkModelFiles, type SparkModelSource } from "./spark-files.js";

export type { SparkFile, SparkModelSource } from "./spark-files.js";

/** Spark's training parameters that matter for fold-in; any given here wins over the metadata. */
export interface SparkAlsParams {
  /** Spark's regParam (λ, scaled by each user's positive count in Spark's solve). */
  regParam?: number;
  /** Spark's alpha: confidence 1 + alpha·r. */
  alpha?: number;
  /** Whether the model was trained on implicit feedback (Spark's implicitPrefs). */
  implicitPrefs?: boolean;
}

/** What readSparkAlsModel found besides the factors: where each parameter came from. */
export interface SparkImportReport {
  rank: number;
  users: number;
  items: number;
  /** The Spark class and uid from the metadata, when there was one. */
  sparkClass?: string;
  uid?: string;
  params: Required<SparkAlsParams>;
  /** For each parameter: 'metadata', 'given' or 'default'. */
  sources: Record<keyof SparkAlsParams, "metadata" | "given" | "default">;
}

const SPARK_DEFAULTS: Required<SparkAlsParams> = { regParam: 0.1, alpha: 1, implicitPrefs: true };

/**
 * Reads a Spark MLlib ALSModel folder (or its files in memory) into an
 * AlternatingLeastSquares whose catalog maps Spark's ids to rows and whose fold-in follows
 * Spark's rule. Bad input is a DataError naming the file.
 */
export async function readSparkAlsModel(source: SparkModelSource, params: SparkAlsParams = {}): Promise<AlternatingLeastSquares> {
  return (await importSparkAlsModel(source, params)).model;
}

/** readSparkAlsModel, with a report of the rank, the sizes and where each parameter came from. */
export async function importSparkAlsModel(source: SparkModelSource, params: SparkAlsParams = {}): Promise<{ model: AlternatingLeastSquares; report: SparkImportReport }> {
  const files = await sparkModelFiles(source);
  const metadata = readMetadata(files);
  const name = (file: { name: string; bytes: Uint8Array }) => displayName(files, file);
  const users = sortById(await readSparkFactors(files.userFactors, metadata.rank, name));
  const items = sortById(await readSparkFactors(files.itemFactors, metadata.rank ?? users.rank, name));
  if (items.rank !== users.rank) {
    throw new DataError(`item features have ${items.rank} values, user features ${users.rank}: both sides must have the model's rank`, { file: name(files.itemFactors[0]) });
  }
  const { values, sources } = resolveParams(metadata.params, params);
  const model = AlternatingLeastSquares.fromFactors(users.features, items.features, {
    factors: users.rank,
    regularization: values.regParam,
    alpha: values.alpha,
    // Spark's Gram term is the plain YᵀY and its λ is not frequency-scaled (see above).
    unobservedWeight: 1,
    regularizationExponent: 0,
    foldInRule: values.implicitPrefs ? "spark-implicit" : "spark-explicit",
  });
  model.catalog = { userKeys: Array.from(users.ids, String), itemKeys: Array.from(items.ids, String) };
  return {
    model,
    report: { rank: users.rank, users: users.ids.length, items: items.ids.length, sparkClass: metadata.sparkClass, uid: metadata.uid, params: values, sources },
  };
}

interface SparkMetadata { rank?: number; sparkClass?: string; uid?: string; params: SparkAlsParams }

// metadata/part-00000: one JSON object (DefaultParamsWriter's), rank beside paramMap.
function readMetadata(files: SparkModelFiles): SparkMetadata {
  if (!files.metadata) return { params: {} };
  const file = displayName(files, files.metadata);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder().decode(files.metadata.bytes).trim().split("\n")[0]);
  } catch (cause) {
    throw new DataError(`not Spark model metadata (one line of JSON): ${(cause as Error).message}`, { file });
  }
  const sparkClass = typeof json.class === "string" ? json.class : undefined;
  if (sparkClass && !sparkClass.endsWith("ALSModel")) throw new DataError(`holds a ${sparkClass}, not an ALSModel (save the fitted model, not the estimator or pipeline)`, { file });
  const rank = json.rank;
  if (rank !== undefined && (!Number.isInteger(rank) || (rank as number) < 1)) throw new DataError(`rank ${JSON.stringify(rank)} is not a positive integer`, { file, field: "rank" });
  const paramMaps = [json.paramMap, json.defaultParamMap].filter((m): m is Record<string, unknown> => typeof m === "object" && m !== null);
  const lookup = (key: string) => paramMaps.map((m) => m[key]).find((v) => v !== undefined);
  const params: SparkAlsParams = {};
  const regParam = lookup("regParam"), alpha = lookup("alpha"), implicitPrefs = lookup("implicitPrefs");
  if (typeof regParam === "number") params.regParam = regParam;
  if (typeof alpha === "number") params.alpha = alpha;
  if (typeof implicitPrefs === "boolean") params.implicitPrefs = implicitPrefs;
  return { rank: rank as number | undefined, sparkClass, uid: typeof json.uid === "string" ? json.uid : undefined, params };
}

function resolveParams(fromMetadata: SparkAlsParams, given: SparkAlsParams): { values: Required<SparkAlsParams>; sources: SparkImportReport["sources"] } {
  const values = { ...SPARK_DEFAULTS };
  const sources = { regParam: "default", alpha: "default", implicitPrefs: "default" } as SparkImportReport["sources"];
  for (const key of Object.keys(SPARK_DEFAULTS) as (keyof SparkAlsParams)[]) {
    if (given[key] !== undefined) { (values as Record<string, unknown>)[key] = given[key]; sources[key] = "given"; }
    else if (fromMetadata[key] !== undefined) { (values as Record<string, unknown>)[key] = fromMetadata[key]; sources[key] = "metadata"; }
  }
  return { values, sources };
}

// Rows in increasing id order: the same model whatever Spark's partitioning was.
function sortById({ ids, features, rank }: SparkFactors): SparkFactors {
  const order = Array.from(ids.keys()).sort((a, b) => ids[a] - ids[b]);
  const sorted = new Float32Array(features.length);
  order.forEach((from, to) => sorted.set(features.subarray(from * rank, (from + 1) * rank), to * rank));
  return { ids: Int32Array.from(order, (r) => ids[r]), features: sorted, rank };
}
