// From an interaction file to a users × items matrix: read (src/io), name items from
// their metadata file, transform (each step reporting what it removed or changed),
// and index users and items densely so the model speaks in the data's own ids.

import { existsSync } from "../io/exists.js";
import { readInteractions, readTable, type ColumnSpec } from "../io/interactions.js";
import { listArchiveMembers, splitArchivePath, type SourceInput } from "../io/source.js";
import { CsrMatrix } from "../csr.js";
import type { Catalog } from "../catalog.js";
import { findFormat, siblingPath, type DatasetFormat, type ItemMetadataFormat } from "./formats.js";
import { compactIds, confidence, kCore, keepValueAtLeast, lowercaseNames, sumDuplicates, type Interactions, type TransformReport } from "./transforms.js";

export interface LoadOptions {
  /** A known format's name (see FORMATS); by default picked from the file name. */
  format?: string;
  /** Columns by header name or 0-based position; overrides the format's. */
  columns?: Partial<ColumnSpec>;
  separator?: string;
  header?: boolean | "auto";
  encoding?: "utf-8" | "latin1" | "auto";
  /**
   * Item metadata file (titles, names) as a path or named bytes, or false for none; by
   * default the format's file beside the data (for in-memory data: among `companions`,
   * or in the same zip archive).
   */
  items?: SourceInput | false;
  /**
   * For data given as bytes: the files that were given with it (a browser upload of
   * ratings.csv with movies.csv), where the format's metadata file is looked for by name,
   * with or without `.gz`.
   */
  companions?: { name: string; bytes: Uint8Array }[];
  /** Columns of the metadata file when it is not the format's. */
  itemColumns?: { key: number | string; label: number | string; info?: number | string };
  onProgress?: (bytesRead: number, totalBytes: number | undefined, rows: number) => void;
}

/** Interactions with where they came from and what was done to them. */
export interface Dataset extends Interactions {
  source: string;
  format?: string;
  itemInfo?: string[];
  /** One line per step, in order: reading, metadata, every transform. */
  reports: TransformReport[];
}

export interface PrepareOptions {
  /** Merge item names that differ only in case ("Maroon 5", "maroon 5"). */
  lowercase?: boolean;
  /** Keep rows whose value is at least this (e.g. ratings ≥ 3). */
  minValue?: number;
  /** Keep users and items with at least this many interactions, to a fixpoint. */
  kCore?: number;
  /** How values become ALS confidences. Default 'raw'. */
  confidence?: "raw" | "binary" | "log" | "bm25" | "tfidf";
  bm25?: { K1?: number; B?: number };
}

/**
 * Reads an interaction file (plain, .gz, or `archive.zip:member`), given as a path or as
 * named bytes (`{ name, bytes }`, the name picking the format and the archive member as
 * a path would), and names its items.
 */
export async function loadDataset(input: SourceInput, options: LoadOptions = {}): Promise<Dataset> {
  const path = typeof input === "string" ? input : input.name;
  const format: DatasetFormat | undefined = findFormat(path, options.format);
  const columns = { ...(format?.columns ?? {}), ...(options.columns ?? {}) } as ColumnSpec;
  if (columns.user === undefined || columns.item === undefined) {
    throw new Error(`${path}: unknown file format: name the columns, e.g. --columns user=0,item=1,value=2 (known formats: ${["movielens", "movielens-dat", "lastfm-360k", "lastfm-2k"].join(", ")})`);
  }
  const table = await readInteractions(input, {
    columns,
    separator: options.separator ?? format?.separator ?? "auto",
    header: options.header ?? format?.header ?? "auto",
    encoding: options.encoding ?? format?.encoding ?? "auto",
    onProgress: options.onProgress,
  });
  const dataset: Dataset = {
    source: path, format: format?.name,
    user: table.user, item: table.item, value: table.value, timestamp: table.timestamp,
    userKeys: table.userKeys, itemKeys: table.itemKeys, itemLabels: table.itemLabels,
    reports: [{
      transform: "read", rowsBefore: table.rows, rowsAfter: table.rows, removedRows: 0, changedRows: 0,
      detail: `${table.rows} rows, ${table.userKeys.length} users, ${table.itemKeys.length} items${table.skippedBlankLines ? `, ${table.skippedBlankLines} blank lines skipped` : ""}`,
    }],
  };
  await joinItemMetadata(dataset, input, format?.items, options);
  return dataset;
}

// The metadata file beside the data: a path for a path; for bytes, a companion of that
// name (with or without .gz) or a member of the same in-memory archive. Undefined when absent.
async function siblingSource(input: SourceInput, file: string, companions: LoadOptions["companions"]): Promise<SourceInput | undefined> {
  if (typeof input === "string") {
    const path = siblingPath(input, file);
    return path.includes(".zip:") || existsSync(path) ? path : undefined;
  }
  const { archive, member } = splitArchivePath(input.name);
  if (member !== undefined) {
    const wanted = siblingPath(input.name, file).slice(archive.length + 1);
    const members = await listArchiveMembers(input);
    const found = members.find((m) => m === wanted) ?? members.find((m) => m === `${wanted}.gz` || `${m}.gz` === wanted);
    return found === undefined ? undefined : { name: `${archive}:${found}`, bytes: input.bytes };
  }
  const baseName = (name: string) => name.slice(Math.max(name.lastIndexOf("/"), name.lastIndexOf("\\")) + 1).toLowerCase().replace(/\.gz$/, "");
  return companions?.find((c) => baseName(c.name) === file.toLowerCase());
}

async function joinItemMetadata(dataset: Dataset, input: SourceInput, formatItems: ItemMetadataFormat | undefined, options: LoadOptions): Promise<void> {
  if (options.items === false) return;
  const explicit = options.items !== undefined;
  const metadata: ItemMetadataFormat | undefined = explicit ? { ...(formatItems ?? { file: "", key: 0, label: 1 }), ...(options.itemColumns ?? {}) } : formatItems;
  if (!metadata) return;
  const source = explicit ? (options.items as SourceInput) : await siblingSource(input, metadata.file, options.companions);
  if (source === undefined) {
    dataset.reports.push({ transform: "items", rowsBefore: 0, rowsAfter: 0, removedRows: 0, changedRows: 0, detail: `no ${metadata.file} beside the data: items are shown by their ids` });
    return;
  }
  const file = typeof source === "string" ? source : source.name;
  const { header, rows } = await readTable(source, { separator: metadata.separator ?? "auto", header: metadata.header ?? "auto", encoding: metadata.encoding ?? "auto" });
  const position = (column: number | string, what: string): number => {
    if (typeof column === "number") return column;
    const at = header?.findIndex((h) => h.toLowerCase() === column.toLowerCase()) ?? -1;
    if (at < 0) throw new Error(`${file}: no column '${column}' for the item ${what} (columns: ${header?.join(", ") ?? "none: the file has no header"})`);
    return at;
  };
  const keyAt = position(metadata.key, "id"), labelAt = position(metadata.label, "name");
  const infoAt = metadata.info !== undefined ? position(metadata.info, "info") : -1;
  const byKey = new Map<string, string[]>();
  for (const row of rows) byKey.set(row[keyAt], row);
  const labels = dataset.itemKeys.map((key, i) => byKey.get(key)?.[labelAt] ?? dataset.itemLabels?.[i] ?? key);
  const missing = dataset.itemKeys.reduce((n, key) => n + (byKey.has(key) ? 0 : 1), 0);
  dataset.itemLabels = labels;
  if (infoAt >= 0) dataset.itemInfo = dataset.itemKeys.map((key) => byKey.get(key)?.[infoAt] ?? "");
  dataset.reports.push({
    transform: "items", rowsBefore: rows.length, rowsAfter: rows.length, removedRows: 0, changedRows: 0,
    detail: `${rows.length} names from ${file}${missing ? `; ${missing} items have no entry there and are shown by their ids` : ""}`,
  });
}

/** Applies the transforms in a fixed order: lowercase, min value, sum duplicates, k-core, drop unused ids, confidence. */
export function prepareDataset(dataset: Dataset, options: PrepareOptions = {}): Dataset {
  let data: Interactions = dataset;
  const reports = [...dataset.reports];
  const itemInfo = dataset.itemInfo;
  const step = (result: { data: Interactions; report: TransformReport }) => { data = result.data; reports.push(result.report); };
  // Item info follows its item through key merges and drops; carry it as a label suffix.
  const infoKey = (key: string) => (options.lowercase ? key.toLowerCase() : key);
  const infoByKey = itemInfo ? new Map(dataset.itemKeys.map((key, i) => [infoKey(key), itemInfo[i]])) : undefined;
  if (options.lowercase) step(lowercaseNames(data, { users: false, items: true }));
  if (options.minValue !== undefined) step(keepValueAtLeast(data, options.minValue));
  step(sumDuplicates(data));
  if (options.kCore && options.kCore > 1) step(kCore(data, options.kCore));
  step(compactIds(data));
  step(confidence(data, options.confidence ?? "raw", options.bm25 ?? {}));
  const out: Dataset = { ...data, source: dataset.source, format: dataset.format, reports };
  if (infoByKey) out.itemInfo = out.itemKeys.map((key) => infoByKey.get(key) ?? "");
  return out;
}

/** The users × items matrix (duplicates summed), in wasm memory. */
export function toUserItems(data: Interactions): CsrMatrix {
  return CsrMatrix.fromCoo({ rows: data.user, cols: data.item, values: data.value, shape: [data.userKeys.length, data.itemKeys.length] });
}

/** The catalog a model file carries for this data. */
export function catalogOf(data: Dataset): Catalog {
  return { userKeys: data.userKeys, itemKeys: data.itemKeys, itemLabels: data.itemLabels, itemInfo: data.itemInfo };
}
