// Reading interaction files (user, item, value[, timestamp]) into typed columns. Ids are
// interned from the raw bytes and values parsed from them, so a row costs no JS strings;
// memory is the columns plus one string per distinct user and item.

import { DelimitedReader, trimField, type Dialect, type Encoding } from "./delimited.js";
import { DataError } from "./errors.js";
import { ByteInterner } from "./intern.js";
import { parseDecimal } from "./numbers.js";
import { openSource, type SourceInput } from "./source.js";

/** Which columns hold what: 0-based positions, or header names matched case-insensitively. */
export interface ColumnSpec {
  user: number | string;
  item: number | string;
  /** A rating or play count; every row counts 1 without it. */
  value?: number | string;
  timestamp?: number | string;
  /** A display name for the item (an artist's name beside its mbid), kept per item as first seen. */
  itemLabel?: number | string;
}

/** How to read an interaction file; everything but `columns` is sniffed by default. */
export interface ReadOptions {
  /** `"\t"`, `","`, `"::"`, `"|"`, `";"`, `"whitespace"`, another literal, or "auto". */
  separator?: string | "auto";
  header?: boolean | "auto";
  encoding?: Encoding | "auto";
  /** RFC 4180 quotes; by default on for comma-separated files only. */
  quote?: boolean;
  columns: ColumnSpec;
  /** Called after each chunk: stored bytes read so far, of how many (if known), and rows so far. */
  onProgress?: (bytesRead: number, totalBytes: number | undefined, rows: number) => void;
}

/** An interaction file as columns: row r is (userKeys[user[r]], itemKeys[item[r]], value[r]). */
export interface InteractionTable {
  /** The path (or name) as given, for messages. */
  source: string;
  /** Data rows kept. */
  rows: number;
  /** Per row: index into userKeys. */
  user: Int32Array;
  /** Per row: index into itemKeys. */
  item: Int32Array;
  /** Per row; 1 when there is no value column. */
  value: Float32Array;
  /** Per row, when a timestamp column is given. */
  timestamp?: Float64Array;
  /** Distinct raw user ids in first-seen order. */
  userKeys: string[];
  /** Distinct raw item ids in first-seen order. */
  itemKeys: string[];
  /** Per item key: its label column, as first seen. */
  itemLabels?: string[];
  /** Column names, when the file has a header. */
  header?: string[];
  /** Blank lines met and skipped. */
  skippedBlankLines: number;
  /** The separator, header, encoding and quoting the file was read with. */
  dialect: Dialect;
}

type ColumnRole = keyof ColumnSpec;
const ROLES: ColumnRole[] = ["user", "item", "value", "timestamp", "itemLabel"];

function nameOf(input: SourceInput): string {
  return typeof input === "string" ? input : input.name;
}

// Turns the column spec into field positions, naming what exists when a column does not.
function resolveColumns(reader: DelimitedReader, columns: ColumnSpec): Record<ColumnRole, number> {
  const file = reader.name;
  const line = reader.firstLine;
  const header = reader.header;
  const existing = header
    ? header.map((name, k) => `${k} '${name}'`).join(", ")
    : `positions 0–${reader.fieldCount - 1}, no header`;
  const positions = {} as Record<ColumnRole, number>;
  for (const role of ROLES) {
    const column = columns[role];
    if (column === undefined) {
      positions[role] = -1;
      continue;
    }
    if (typeof column === "number") {
      if (!Number.isInteger(column) || column < 0) throw new TypeError(`columns.${role}: ${column} is not a 0-based position`);
      if (column >= reader.fieldCount) {
        throw new DataError(`${role} column ${column} is past the last field: the file has ${reader.fieldCount} (${existing})`, { file, line });
      }
      positions[role] = column;
      continue;
    }
    const wanted = column.trim().toLowerCase();
    const at = header ? header.findIndex((name) => name.toLowerCase() === wanted) : -1;
    if (at < 0) {
      const why = header ? "is not in the header" : "cannot be found: the file has no header";
      throw new DataError(`${role} column '${column}' ${why} (columns: ${existing})`, { file, line });
    }
    positions[role] = at;
  }
  return positions;
}

/**
 * Reads an interaction file: plain, gzip (`.gz`), or a zip member (`archive.zip:member`),
 * or named bytes in memory. Streams it, so memory holds the columns, never the text.
 * Every problem with the data is a DataError naming file, line and column.
 */
export async function readInteractions(path: SourceInput, options: ReadOptions): Promise<InteractionTable> {
  const columns = options.columns;
  if (!columns || columns.user === undefined || columns.item === undefined) throw new TypeError("columns: user and item are required");
  const file = nameOf(path);
  const named = ROLES.filter((role) => typeof columns[role] === "string");
  if (named.length > 0 && options.header === false) {
    throw new DataError(`columns ${named.map((r) => `${r} '${columns[r]}'`).join(", ")} are named, but header is false: give 0-based positions`, { file });
  }
  const source = await openSource(path);
  // Header sniffing looks at the id and value columns: text over numbers means names.
  const probeRoles: ColumnRole[] = ["user", "item", "value", "timestamp"];
  const reader = await DelimitedReader.open(source, {
    separator: options.separator,
    header: named.length > 0 ? true : options.header,
    encoding: options.encoding,
    quote: options.quote,
    headerProbe: () => probeRoles.map((role) => columns[role]).filter((c): c is number => typeof c === "number"),
  });
  let at: Record<ColumnRole, number>;
  try {
    at = resolveColumns(reader, columns);
  } catch (error) {
    await reader.close();
    throw error;
  }
  const header = reader.header;
  const fieldName = (role: ColumnRole) => (header ? header[at[role]] : String(at[role] + 1));

  const decode = reader.decode;
  const users = new ByteInterner(decode, 1 << 12);
  const items = new ByteInterner(decode, 1 << 12);
  const labels: string[] | undefined = at.itemLabel >= 0 ? [] : undefined;
  const userAt = at.user;
  const itemAt = at.item;
  const valueAt = at.value;
  const timeAt = at.timestamp;
  const labelAt = at.itemLabel;

  let capacity = 1 << 16;
  let user = new Int32Array(capacity);
  let item = new Int32Array(capacity);
  let value = new Float32Array(capacity);
  let timestamp = timeAt >= 0 ? new Float64Array(capacity) : undefined;
  let rows = 0;
  const resize = (size: number) => {
    capacity = size;
    user = resized(user, size);
    item = resized(item, size);
    value = resized(value, size);
    if (timestamp) timestamp = resized(timestamp, size);
  };

  const badNumber = (role: ColumnRole, bytes: Uint8Array, start: number, end: number, line: number, why: string) => {
    const [s, e] = trimField(bytes, start, end);
    return new DataError(`${role === "timestamp" ? "timestamp" : "value"} '${decode(bytes, s, e)}' ${why}`, { file, line, field: fieldName(role) });
  };

  const onRow = (bytes: Uint8Array, starts: Int32Array, ends: Int32Array, line: number): void => {
    if (rows === capacity) resize(capacity * 2);
    // Keys are trimmed of surrounding whitespace in place: no copies, no strings.
    let s = starts[userAt];
    let e = ends[userAt];
    while (s < e && (bytes[s] === 0x20 || bytes[s] === 0x09)) s++;
    while (e > s && (bytes[e - 1] === 0x20 || bytes[e - 1] === 0x09 || bytes[e - 1] === 0x0d)) e--;
    user[rows] = users.intern(bytes, s, e);
    s = starts[itemAt];
    e = ends[itemAt];
    while (s < e && (bytes[s] === 0x20 || bytes[s] === 0x09)) s++;
    while (e > s && (bytes[e - 1] === 0x20 || bytes[e - 1] === 0x09 || bytes[e - 1] === 0x0d)) e--;
    const known = items.size;
    const id = items.intern(bytes, s, e);
    item[rows] = id;
    if (labels !== undefined && id === known) {
      const [ls, le] = trimField(bytes, starts[labelAt], ends[labelAt]);
      labels.push(decode(bytes, ls, le));
    }
    if (valueAt >= 0) {
      const v = parseDecimal(bytes, starts[valueAt], ends[valueAt]);
      if (v !== v) throw badNumber("value", bytes, starts[valueAt], ends[valueAt], line, "is not a number");
      if (v > 3.4028234663852886e38 || v < -3.4028234663852886e38) throw badNumber("value", bytes, starts[valueAt], ends[valueAt], line, "is beyond float32 range");
      value[rows] = v;
    } else value[rows] = 1;
    if (timestamp !== undefined) {
      const t = parseDecimal(bytes, starts[timeAt], ends[timeAt]);
      if (t !== t) throw badNumber("timestamp", bytes, starts[timeAt], ends[timeAt], line, "is not a number");
      timestamp[rows] = t;
    }
    rows++;
  };

  let presized = false;
  const onChunk = () => {
    // After the first chunk, size the columns for the whole file when its size is known,
    // so a 17.5M-row file does not pass through 16M-row arrays doubled to 32M.
    if (!presized && rows > 0 && source.decodedSizeHint !== undefined && reader.decodedBytes > 0) {
      presized = true;
      const estimate = Math.ceil((rows * source.decodedSizeHint) / reader.decodedBytes * 1.02) + 1024;
      if (estimate > capacity) resize(estimate);
    }
    options.onProgress?.(source.bytesRead, source.totalBytes, rows);
  };

  await reader.forEachRow(onRow, onChunk);

  // Hand back exact-length columns; a copy only when the spare capacity is worth freeing.
  const fit = <T extends Int32Array | Float32Array | Float64Array>(column: T): T =>
    (column.length === rows ? column : capacity - rows > rows / 16 ? column.slice(0, rows) : column.subarray(0, rows)) as T;
  const table: InteractionTable = {
    source: file,
    rows,
    user: fit(user),
    item: fit(item),
    value: fit(value),
    userKeys: users.keys,
    itemKeys: items.keys,
    skippedBlankLines: reader.skippedBlankLines,
    dialect: reader.dialect,
  };
  if (timestamp) table.timestamp = fit(timestamp);
  if (labels) table.itemLabels = labels;
  if (header) table.header = header;
  return table;
}

function resized<T extends Int32Array | Float32Array | Float64Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array.subarray(0, Math.min(array.length, length)));
  return bigger;
}

/** Options of readTable: the dialect only, sniffed by default. */
export interface TableOptions {
  separator?: string | "auto";
  header?: boolean | "auto";
  encoding?: Encoding | "auto";
  quote?: boolean;
}

/**
 * Reads a small delimited file (movies.csv titles, artists.dat names) into strings, every
 * field trimmed of surrounding whitespace. Holds the whole table: meant for metadata, not
 * interactions.
 */
export async function readTable(path: SourceInput, options: TableOptions = {}): Promise<{ header?: string[]; rows: string[][] }> {
  const reader = await DelimitedReader.open(await openSource(path), options);
  const decode = reader.decode;
  const rows: string[][] = [];
  const fieldCount = reader.fieldCount;
  await reader.forEachRow((bytes, starts, ends) => {
    const row = new Array<string>(fieldCount);
    for (let k = 0; k < fieldCount; k++) {
      const [s, e] = trimField(bytes, starts[k], ends[k]);
      row[k] = decode(bytes, s, e);
    }
    rows.push(row);
  });
  return reader.header ? { header: reader.header, rows } : { rows };
}

/** The start of a delimited file as previewTable reads it. */
export interface TablePreview {
  /** The separator, header, encoding and quoting sniffed (or given). */
  dialect: Dialect;
  /** Column names, when the file has a header. */
  header?: string[];
  /** Fields per row. */
  fieldCount: number;
  /** The first data rows, fields trimmed. */
  rows: string[][];
  /** Whether the file has more rows than those returned. */
  more: boolean;
}

// Thrown from a row callback to stop reading once the preview is full.
const PREVIEW_FULL = Symbol("preview full");

/**
 * The dialect, header and first `maxRows` data rows of a delimited file, reading no more
 * of it than that needs: what a column-mapping form shows before the real read. Bad rows
 * among the first ones are DataErrors, as they would be for readInteractions.
 */
export async function previewTable(input: SourceInput, options: TableOptions = {}, maxRows = 10): Promise<TablePreview> {
  const reader = await DelimitedReader.open(await openSource(input), options);
  const decode = reader.decode;
  const rows: string[][] = [];
  let more = false;
  try {
    await reader.forEachRow((bytes, starts, ends) => {
      if (rows.length === maxRows) {
        more = true;
        throw PREVIEW_FULL;
      }
      const row: string[] = [];
      for (let k = 0; k < reader.fieldCount; k++) {
        const [s, e] = trimField(bytes, starts[k], ends[k]);
        row.push(decode(bytes, s, e));
      }
      rows.push(row);
    });
  } catch (error) {
    if (error !== PREVIEW_FULL) throw error;
  }
  const preview: TablePreview = { dialect: reader.dialect, fieldCount: reader.fieldCount, rows, more };
  if (reader.header) preview.header = reader.header;
  return preview;
}
