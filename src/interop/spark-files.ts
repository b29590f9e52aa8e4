// Finds the files of a Spark MLlib ALSModel as ALSModel.save(path) lays them out:
//   path/metadata/part-00000          one line of JSON (class, uid, paramMap, rank)
//   path/userFactors/part-*.parquet   columns id: int, features: array<float>
//   path/itemFactors/part-*.parquet   the same for items
// beside Spark's own bookkeeping (_SUCCESS, .crc checksums), which is skipped. The model
// comes as a folder path (Node, Bun, Deno) or as files already in memory (browsers, edge
// workers: e.g. from a zip or an <input type=file webkitdirectory>).

import { DataError } from "../io/errors.js";

/** One file of a saved Spark model held in memory; `name` is its path inside the model folder (e.g. "userFactors/part-00000-….snappy.parquet"). */
export interface SparkFile {
  name: string;
  bytes: Uint8Array;
}

/** A saved Spark ALSModel: its folder's path or URL, or its files in memory. */
export type SparkModelSource = string | URL | SparkFile[];

/** The files that matter, by role. */
export interface SparkModelFiles {
  /** What to call the model in messages: its folder, or "the given files". */
  where: string;
  metadata?: SparkFile;
  userFactors: SparkFile[];
  itemFactors: SparkFile[];
}

const FOLDERS = ["metadata", "userFactors", "itemFactors"] as const;

/** The metadata and factor part files of a saved model; a missing factor folder is a DataError naming it. */
export async function sparkModelFiles(source: SparkModelSource): Promise<SparkModelFiles> {
  const files = Array.isArray(source) ? { where: "the given files", list: source } : await readFolder(source);
  const byFolder = new Map<string, SparkFile[]>(FOLDERS.map((f) => [f, []]));
  for (const file of files.list) {
    const parts = file.name.split(/[\\/]+/).filter(Boolean);
    const base = parts[parts.length - 1] ?? "";
    const folder = parts[parts.length - 2];
    if (!folder || !byFolder.has(folder) || !isDataFile(base)) continue;
    byFolder.get(folder)!.push(file);
  }
  for (const side of ["userFactors", "itemFactors"] as const) {
    const found = byFolder.get(side)!.filter((f) => f.name.endsWith(".parquet"));
    if (found.length === 0) {
      throw new DataError(`no Parquet part files in ${side}/: a Spark ALSModel folder holds metadata/, userFactors/ and itemFactors/ (what ALSModel.save(path) writes)`, { file: joinPath(files.where, side) });
    }
    byFolder.set(side, found.sort((a, b) => a.name.localeCompare(b.name)));
  }
  const metadata = byFolder.get("metadata")!.sort((a, b) => a.name.localeCompare(b.name))[0];
  return { where: files.where, metadata, userFactors: byFolder.get("userFactors")!, itemFactors: byFolder.get("itemFactors")! };
}

// Spark's part files, not its markers (_SUCCESS, _committed_…) or checksums (.part-….crc).
function isDataFile(base: string): boolean {
  return !base.startsWith("_") && !base.startsWith(".") && !base.endsWith(".crc");
}

function joinPath(where: string, name: string): string {
  return where === "the given files" ? name : `${where.replace(/[\\/]+$/, "")}/${name}`;
}

/** The few node:fs/promises calls used here (no Node types in a browser-first package). */
interface NodeFs {
  stat(path: string): Promise<{ isDirectory(): boolean }>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<Uint8Array>;
}

// Reads the three folders from disk. node:fs is imported by a variable specifier so that
// browser bundlers leave it alone (browsers pass files in memory instead).
async function readFolder(source: string | URL): Promise<{ where: string; list: SparkFile[] }> {
  const fsModule = "node:fs/promises";
  const fs = (await import(fsModule)) as NodeFs;
  const root = typeof source === "string" ? source : decodeURIComponent(source.pathname);
  try {
    if (!(await fs.stat(root)).isDirectory()) throw new DataError("not a folder: give the folder ALSModel.save(path) wrote", { file: root });
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw new DataError("no such folder: give the folder ALSModel.save(path) wrote (with metadata/, userFactors/, itemFactors/)", { file: root });
  }
  const list: SparkFile[] = [];
  for (const folder of FOLDERS) {
    const dir = joinPath(root, folder);
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch {
      if (folder === "metadata") continue; // optional: rank then comes from the features
      throw new DataError(`no ${folder}/ folder: a Spark ALSModel folder holds metadata/, userFactors/ and itemFactors/ (what ALSModel.save(path) writes)`, { file: dir });
    }
    for (const name of names) {
      if (!isDataFile(name)) continue;
      list.push({ name: `${folder}/${name}`, bytes: new Uint8Array(await fs.readFile(joinPath(dir, name))) });
    }
  }
  return { where: root, list };
}

/** A file's name as messages show it: under the model folder when there is one. */
export function displayName(files: SparkModelFiles, file: SparkFile): string {
  return joinPath(files.where, file.name);
}
