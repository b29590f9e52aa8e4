// Reads one side (users or items) of a Spark ALSModel: every Parquet part file's `id`
// (int) and `features` (array<float>, a Parquet LIST of FLOAT) into one id list and one
// row-major float matrix, with the checks that make a broken export fail loudly: both
// columns present, every row `rank` finite floats, no id twice (across part files too).

import { parquetMetadata, parquetRead, parquetSchema } from "hyparquet";
import { DataError } from "../io/errors.js";
import type { SparkFile } from "./spark-files.js";

/** One side's factors: ids[r] is the Spark id of row r of `features` (rank floats a row). */
export interface SparkFactors {
  ids: Int32Array;
  features: Float32Array;
  rank: number;
}

/**
 * Reads and checks the part files of one side. `rank`: the metadata's, when known (else
 * the first row's length sets it). `name(file)` is how messages call a file.
 */
export async function readSparkFactors(parts: SparkFile[], rank: number | undefined, name: (file: SparkFile) => string): Promise<SparkFactors> {
  const ids: number[] = [];
  const chunks: Float32Array[] = [];
  const seen = new Map<number, string>();
  let width = rank;
  for (const part of parts) {
    const file = name(part);
    const { ids: partIds, rows } = await readPart(part, file);
    for (let r = 0; r < partIds.length; r++) {
      const id = partIds[r];
      const row = rows[r];
      if (!Number.isInteger(id) || id < -(2 ** 31) || id >= 2 ** 31) throw new DataError(`id ${id} is not a 32-bit integer (Spark ALS ids are ints)`, { file, line: r + 1, field: "id" });
      if (!Array.isArray(row) && !ArrayBuffer.isView(row)) throw new DataError(`features of id ${id} are ${row === null || row === undefined ? "missing (null)" : "not a list of floats"}`, { file, line: r + 1, field: "features" });
      const values = row as ArrayLike<number>;
      width ??= values.length;
      if (values.length !== width || width === 0) {
        throw new DataError(`features of id ${id} have ${values.length} values, the model's rank is ${width}${rank !== undefined ? " (from metadata)" : " (from the first row)"}`, { file, line: r + 1, field: "features" });
      }
      for (let f = 0; f < values.length; f++) {
        if (typeof values[f] !== "number" || !Number.isFinite(values[f])) throw new DataError(`features of id ${id}: value ${f} is ${values[f]}, not a finite number`, { file, line: r + 1, field: "features" });
      }
      const earlier = seen.get(id);
      if (earlier !== undefined) throw new DataError(`id ${id} appears twice (also in ${earlier}): each user and item has one factor row`, { file, line: r + 1, field: "id" });
      seen.set(id, file);
      ids.push(id);
      chunks.push(Float32Array.from(values));
    }
  }
  const k = width ?? rank ?? 0;
  const features = new Float32Array(ids.length * k);
  chunks.forEach((row, r) => features.set(row, r * k));
  return { ids: Int32Array.from(ids), features, rank: k };
}

// One part file's two columns, in row order; the schema is checked first so a missing
// column is named rather than read as empty.
async function readPart(part: SparkFile, file: string): Promise<{ ids: ArrayLike<number>; rows: unknown[] }> {
  const buffer = part.bytes.buffer.slice(part.bytes.byteOffset, part.bytes.byteOffset + part.bytes.byteLength) as ArrayBuffer;
  let columns: string[];
  try {
    columns = parquetSchema(parquetMetadata(buffer)).children.map((c) => c.element.name);
  } catch (cause) {
    throw new DataError(`not a readable Parquet file: ${(cause as Error).message}`, { file });
  }
  for (const column of ["id", "features"]) {
    if (!columns.includes(column)) throw new DataError(`no '${column}' column (it has ${columns.map((c) => `'${c}'`).join(", ") || "none"}); Spark ALS factor files hold id: int and features: array<float>`, { file });
  }
  let ids: ArrayLike<number> = [];
  let rows: unknown[] = [];
  try {
    await parquetRead({
      file: buffer,
      columns: ["id", "features"],
      onComplete: (data: unknown[][]) => {
        ids = Array.from(data, (row) => Number(row[0] as number | bigint));
        rows = data.map((row) => row[1]);
      },
    });
  } catch (cause) {
    throw new DataError(`cannot read the Parquet data: ${(cause as Error).message}`, { file });
  }
  return { ids, rows };
}
