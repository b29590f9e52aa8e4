// Candidate files of the Neural Collaborative Filtering benchmark (He et al. 2017,
// `ml-1m.test.negative`, `pinterest-20.test.negative`): one line per test user,
//
//   (user,item)<TAB>negative<TAB>negative<TAB>…
//
// the user's held-out item and the items to rank it against (99 in the published files).
// Read as a stream (plain, .gz, or a zip member, as every reader in src/io), with errors
// that name the file and line.

import { DataError } from "../io/errors.js";
import { openSource, type SourceInput } from "../io/source.js";

/** One line of a candidates file, ids as written. */
export interface NcfCase {
  /** 1-based line number in the file. */
  line: number;
  user: string;
  item: string;
  negatives: string[];
}

/** Candidate cases with ids resolved to the data's user and item indices. */
export interface ResolvedNcfCases {
  /** The file, as named, for messages. */
  file: string;
  user: Int32Array;
  item: Int32Array;
  negatives: Int32Array[];
  line: Int32Array;
}

const HEAD = /^\(\s*([^,()\s]+)\s*,\s*([^,()\s]+)\s*\)$/;

/** Parses the text of a candidates file; `file` names it in errors. Blank lines are skipped. */
export function parseNcfNegatives(text: string, file: string): NcfCase[] {
  const cases: NcfCase[] = [];
  const lines = text.split("\n");
  // A final newline leaves one empty piece, which is not a line.
  const count = lines.length > 0 && lines[lines.length - 1] === "" ? lines.length - 1 : lines.length;
  for (let j = 0; j < count; j++) {
    const parsed = parseLine(lines[j], j + 1, file);
    if (parsed) cases.push(parsed);
  }
  return cases;
}

/** Reads a candidates file (a path, `.gz`, `archive.zip:member`, or `{ name, bytes }`). */
export async function readNcfNegatives(input: SourceInput): Promise<NcfCase[]> {
  const source = await openSource(input);
  const file = source.name;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const cases: NcfCase[] = [];
  let pending = "", lineNumber = 0;
  const decode = (chunk: Uint8Array | undefined): string => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      throw new DataError("is not UTF-8 text", { file, line: lineNumber + 1 });
    }
  };
  const take = (text: string, final: boolean) => {
    pending += text;
    let from = 0;
    for (let at = pending.indexOf("\n"); at >= 0; at = pending.indexOf("\n", from)) {
      lineNumber++;
      const parsed = parseLine(pending.slice(from, at), lineNumber, file);
      if (parsed) cases.push(parsed);
      from = at + 1;
    }
    pending = pending.slice(from);
    if (final && pending !== "") {
      lineNumber++;
      const parsed = parseLine(pending, lineNumber, file);
      if (parsed) cases.push(parsed);
      pending = "";
    }
  };
  for await (const chunk of source) take(decode(chunk), false);
  take(decode(undefined), true);
  return cases;
}

function parseLine(raw: string, line: number, file: string): NcfCase | null {
  const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
  if (text.trim() === "") return null;
  const fields = text.split("\t");
  // A trailing tab (or spaces) leaves empty fields at the end: allowed.
  while (fields.length > 1 && fields[fields.length - 1].trim() === "") fields.pop();
  const head = HEAD.exec(fields[0].trim());
  if (!head) {
    throw new DataError(`expected '(user,item)' then tab-separated negative item ids, got ${quote(fields[0])}`, { file, line, field: 1 });
  }
  if (fields.length < 2) throw new DataError(`no negative item ids after ${quote(fields[0].trim())} (the ids follow it, separated by tabs)`, { file, line });
  const negatives = new Array<string>(fields.length - 1);
  for (let f = 1; f < fields.length; f++) {
    const id = fields[f].trim();
    if (id === "") throw new DataError("empty negative item id (two tabs in a row?)", { file, line, field: f + 1 });
    if (/[\s(),]/.test(id)) throw new DataError(`negative item id ${quote(id)} is not one id: ids are separated by tabs`, { file, line, field: f + 1 });
    negatives[f - 1] = id;
  }
  return { line, user: head[1], item: head[2], negatives };
}

/**
 * Maps the ids of the cases to user and item indices. `ids: 'keys'` (default) reads them
 * as the data's own ids, looked up in userKeys/itemKeys (as NCF's files read with
 * loadDataset: their ids are the keys); `ids: 'indices'` as 0-based indices. An unknown
 * id, or a user on two lines, is a DataError naming the line.
 */
export function resolveNcfCases(cases: readonly NcfCase[], keys: { userKeys: readonly string[]; itemKeys: readonly string[] }, file: string, ids: "keys" | "indices" = "keys"): ResolvedNcfCases {
  if (ids !== "keys" && ids !== "indices") throw new RangeError(`ids must be 'keys' or 'indices', not ${String(ids)}`);
  const lookup = (list: readonly string[], what: string) => {
    if (ids === "indices") {
      return (id: string, line: number, field?: number): number => {
        const n = /^\d+$/.test(id) ? Number(id) : NaN;
        if (!(n < list.length)) {
          throw new DataError(`${what} ${quote(id)} is not an index in [0, ${list.length})`, { file, line, ...(field !== undefined && { field }) });
        }
        return n;
      };
    }
    const index = new Map<string, number>();
    list.forEach((key, j) => { if (!index.has(key)) index.set(key, j); });
    return (id: string, line: number, field?: number): number => {
      const n = index.get(id);
      if (n === undefined) throw new DataError(`${what} ${quote(id)} is not in the data (${list.length} ${what}s)`, { file, line, ...(field !== undefined && { field }) });
      return n;
    };
  };
  const userOf = lookup(keys.userKeys, "user"), itemOf = lookup(keys.itemKeys, "item");
  const n = cases.length;
  const user = new Int32Array(n), item = new Int32Array(n), line = new Int32Array(n);
  const negatives: Int32Array[] = new Array(n);
  const seen = new Map<number, number>();
  for (let c = 0; c < n; c++) {
    const entry = cases[c];
    user[c] = userOf(entry.user, entry.line, 1);
    const before = seen.get(user[c]);
    if (before !== undefined) throw new DataError(`user ${quote(entry.user)} already has a line (line ${before}): the format has one line per test user`, { file, line: entry.line });
    seen.set(user[c], entry.line);
    item[c] = itemOf(entry.item, entry.line, 1);
    line[c] = entry.line;
    const list = new Int32Array(entry.negatives.length);
    for (let j = 0; j < list.length; j++) list[j] = itemOf(entry.negatives[j], entry.line, j + 2);
    negatives[c] = list;
  }
  return { file, user, item, negatives, line };
}

function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}
