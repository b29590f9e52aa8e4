// Writes a folder laid out as Spark MLlib's ALSModel.save(path) lays it out — metadata JSON,
// userFactors/ and itemFactors/ Parquet part files with Spark's schema (id: required int32,
// features: optional LIST of required FLOAT, as Spark writes array<float> with
// containsNull=false), plus Spark's _SUCCESS and .crc files — for the importer's tests.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";

/** One side's factor rows: Spark ids and their features. */
export interface FactorRows { ids: number[]; features: number[][] }

/** Spark's Parquet schema for the factor DataFrames (FeatureData(id: Int, features: Array[Float])). */
export function factorSchema(featuresName = "features") {
  return [
    { name: "spark_schema", num_children: 2 },
    { name: "id", type: "INT32" as const, repetition_type: "REQUIRED" as const },
    { name: featuresName, repetition_type: "OPTIONAL" as const, num_children: 1, converted_type: "LIST" as const },
    { name: "list", repetition_type: "REPEATED" as const, num_children: 1 },
    { name: "element", type: "FLOAT" as const, repetition_type: "REQUIRED" as const },
  ];
}

/** A Parquet part file's bytes (snappy, Spark's default codec). */
export function factorPart({ ids, features }: FactorRows, featuresName = "features"): Uint8Array {
  return new Uint8Array(parquetWriteBuffer({
    columnData: [{ name: "id", data: Int32Array.from(ids) }, { name: featuresName, data: features }],
    schema: factorSchema(featuresName),
    codec: "SNAPPY",
  }));
}

/** The metadata line DefaultParamsWriter writes for an ALSModel (no regParam/alpha: those are estimator params). */
export function sparkMetadata(rank: number, extraParams: Record<string, unknown> = {}): string {
  return `${JSON.stringify({
    class: "org.apache.spark.ml.recommendation.ALSModel", timestamp: 1718000000000, sparkVersion: "3.5.1", uid: "ALS_4c1d2e3f5a6b",
    paramMap: { userCol: "user", itemCol: "item", predictionCol: "prediction", coldStartStrategy: "nan", blockSize: 4096, ...extraParams },
    defaultParamMap: { userCol: "user", itemCol: "item", predictionCol: "prediction", coldStartStrategy: "nan", blockSize: 4096 },
    rank,
  })}\n`;
}

/** Spark's part file name: part-NNNNN-<job uuid>-c000.snappy.parquet. */
export function partName(n: number): string {
  return `part-${String(n).padStart(5, "0")}-0b7a1c52-9e3d-4f7a-8c21-5d0e6f1a2b3c-c000.snappy.parquet`;
}

/** Writes a model folder; `files` maps paths inside it to contents. Returns the folder. */
export function writeSparkFolder(folder: string, files: Record<string, Uint8Array | string>): string {
  rmSync(folder, { recursive: true, force: true });
  for (const [name, content] of Object.entries(files)) {
    const path = join(folder, name);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, content);
  }
  return folder;
}

/** The file set of a well-formed model: one user part, two item parts, Spark's marker files. */
export function sparkModelFiles(rank: number, users: FactorRows, itemParts: FactorRows[], metadata = sparkMetadata(rank)): Record<string, Uint8Array | string> {
  const files: Record<string, Uint8Array | string> = {
    "metadata/part-00000": metadata, "metadata/_SUCCESS": "", "metadata/.part-00000.crc": "crc",
    [`userFactors/${partName(0)}`]: factorPart(users), "userFactors/_SUCCESS": "",
    "itemFactors/_SUCCESS": "",
  };
  itemParts.forEach((part, n) => { files[`itemFactors/${partName(n)}`] = factorPart(part); });
  return files;
}
