// A streaming tokenizer for delimited text (CSV, TSV, MovieLens `::`, `|`, whitespace)
// that works on the file's bytes: each row's fields reach the caller as offsets into a
// byte buffer, and nothing is decoded to a string unless the caller asks. The dialect
// (separator, header, encoding) is sniffed from the first 64 KiB unless given.

import { DataError } from "./errors.js";
import type { Decode } from "./intern.js";
import { parseDecimal } from "./numbers.js";
import type { ByteSource } from "./source.js";

/** Text encodings the readers decode. */
export type Encoding = "utf-8" | "latin1";

/** How to split a file into rows and fields; "auto" (the default) sniffs it. */
export interface DelimitedOptions {
  /** `"\t"`, `","`, `"::"`, `"|"`, `";"`, `"whitespace"` (runs of spaces and tabs) or any other literal string. */
  separator?: string | "auto";
  /** Whether the first row names the columns. */
  header?: boolean | "auto";
  /** "auto": UTF-8 unless the first 64 KiB are not valid UTF-8, then Latin-1. */
  encoding?: Encoding | "auto";
  /**
   * RFC 4180 quoting: a field that starts with `"` may hold separators, newlines and `""`.
   * Defaults to true for comma-separated files only: TSV and MovieLens `::` files quote
   * nothing, and take an artist named `"Weird Al" Yankovic` literally.
   */
  quote?: boolean;
}

/** The dialect a reader settled on, sniffed or given. */
export interface Dialect {
  separator: string;
  header: boolean;
  encoding: Encoding;
  quote: boolean;
}

/**
 * Receives one data row: field k is `bytes[starts[k]]` up to (not including) `bytes[ends[k]]`,
 * quotes already removed. The arrays are reused for the next row. `line` is the 1-based
 * line the row starts on.
 */
export type RowHandler = (bytes: Uint8Array, starts: Int32Array, ends: Int32Array, line: number) => void;

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const SPACE = 0x20;
const TAB = 0x09;

/** How much text the sniffers look at. */
const SNIFF_BYTES = 64 * 1024;
const SNIFF_ROWS = 50;

// Separators tried in order by the sniffer; the first that splits every sampled row into the
// same number (≥ 2) of fields wins. Tab before comma: TSV titles often hold commas.
const CANDIDATE_SEPARATORS = ["\t", "::", ",", "|", ";", "whitespace"];

const SEPARATOR_NAMES: Record<string, string> = { tab: "\t", "\\t": "\t", comma: ",", pipe: "|", semicolon: ";", space: "whitespace", spaces: "whitespace" };

/** Accepts the names a command line tends to pass ("tab", a literal backslash-t, "comma", …) for separators. */
export function normalizeSeparator(separator: string): string {
  return SEPARATOR_NAMES[separator.toLowerCase()] ?? separator;
}

/** A separator as people write it, for messages. */
export function describeSeparator(separator: string): string {
  if (separator === "\t") return "tab";
  if (separator === "whitespace") return "whitespace";
  return `'${separator}'`;
}

/**
 * Splits rows of bytes into fields. Rows that end in the middle of a buffer's last line
 * are left for the next call, so callers feed it a partial line glued to the next chunk.
 */
class Tokenizer {
  /** 1-based line number where the next row starts. */
  line = 1;
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  /** Fields of the last row found by scan(). */
  fieldCount = 0;
  private readonly mode: "byte" | "string" | "whitespace";
  private readonly separatorByte: number;
  private readonly separatorBytes: Uint8Array;
  private readonly quote: boolean;
  // Rows with quoted fields (and all rows in string/whitespace mode) are rebuilt here,
  // so the input buffer is never written to.
  private scratch = new Uint8Array(1024);
  private readonly file: string;

  constructor(separator: string, quote: boolean, file: string) {
    this.file = file;
    this.quote = quote;
    this.separatorBytes = new TextEncoder().encode(separator === "whitespace" ? " " : separator);
    if (separator === "whitespace") this.mode = "whitespace";
    else if (this.separatorBytes.length === 1 && this.separatorBytes[0] !== LF && this.separatorBytes[0] !== QUOTE) this.mode = "byte";
    else this.mode = "string";
    if (this.separatorBytes.length === 0) throw new TypeError("separator: must not be empty");
    this.separatorByte = this.separatorBytes[0];
  }

  /**
   * Tokenizes rows from `pos` on, calling `onRow(bytes, fieldCount, line)` for each
   * complete row (blank ones included). Returns where the first incomplete row starts,
   * or `end` when `final` (end of input) and every row was delivered.
   */
  scan(buf: Uint8Array, pos: number, end: number, final: boolean, onRow: (bytes: Uint8Array, fieldCount: number, line: number) => void): number {
    if (this.mode !== "byte") return this.scanGeneral(buf, pos, end, final, onRow);
    const separator = this.separatorByte;
    const quote = this.quote;
    let starts = this.starts;
    let ends = this.ends;
    while (pos < end) {
      const rowStart = pos;
      let p = pos;
      let fields = 0;
      let quoted = false;
      for (;;) {
        if (fields === starts.length) {
          this.growFields();
          starts = this.starts;
          ends = this.ends;
        }
        if (quote && p < end && buf[p] === QUOTE) {
          quoted = true;
          break;
        }
        const fieldStart = p;
        while (p < end) {
          const c = buf[p];
          if (c === separator || c === LF) break;
          p++;
        }
        starts[fields] = fieldStart;
        ends[fields++] = p;
        if (p === end) {
          if (!final) return rowStart;
          break;
        }
        if (buf[p++] === LF) break;
        // A separator as the very last byte of the input still ends a field: one more, empty.
        if (p === end && final) {
          starts[fields] = p;
          ends[fields++] = p;
          break;
        }
      }
      if (quoted) {
        const next = this.rowAt(buf, rowStart, end, final);
        if (next < 0) return rowStart;
        pos = next;
        const line = this.line;
        this.line += 1 + this.newlinesInRow;
        onRow(this.scratch, this.fieldCount, line);
        starts = this.starts;
        ends = this.ends;
        continue;
      }
      const last = fields - 1;
      if (ends[last] > starts[last] && buf[ends[last] - 1] === CR) ends[last]--;
      pos = p;
      this.fieldCount = fields;
      onRow(buf, fields, this.line++);
    }
    return pos;
  }

  /** Newlines inside quoted fields of the last row rebuilt by rowAt(). */
  private newlinesInRow = 0;

  private scanGeneral(buf: Uint8Array, pos: number, end: number, final: boolean, onRow: (bytes: Uint8Array, fieldCount: number, line: number) => void): number {
    while (pos < end) {
      const next = this.rowAt(buf, pos, end, final);
      if (next < 0) return pos;
      pos = next;
      const line = this.line;
      this.line += 1 + this.newlinesInRow;
      onRow(this.scratch, this.fieldCount, line);
    }
    return pos;
  }

  /**
   * Rebuilds the row starting at `rowStart` into the scratch buffer, unquoting fields.
   * Returns where the next row starts, or -1 when the row is not complete yet.
   */
  private rowAt(buf: Uint8Array, rowStart: number, end: number, final: boolean): number {
    if (this.scratch.length < end - rowStart) this.scratch = new Uint8Array(Math.max(end - rowStart, this.scratch.length * 2));
    const out = this.scratch;
    const whitespace = this.mode === "whitespace";
    const sep = this.separatorBytes;
    let o = 0;
    let p = rowStart;
    let fields = 0;
    let newlines = 0;
    if (whitespace) while (p < end && (buf[p] === SPACE || buf[p] === TAB)) p++;
    for (;;) {
      if (fields === this.starts.length) this.growFields();
      this.starts[fields] = o;
      let quoted = false;
      if (this.quote && p < end && buf[p] === QUOTE) {
        quoted = true;
        for (p++; ; ) {
          if (p >= end) {
            if (!final) return -1;
            throw new DataError("unterminated quoted field", { file: this.file, line: this.line });
          }
          const c = buf[p];
          if (c === QUOTE) {
            if (p + 1 < end && buf[p + 1] === QUOTE) {
              out[o++] = QUOTE;
              p += 2;
              continue;
            }
            p++;
            break;
          }
          if (c === LF) newlines++;
          out[o++] = c;
          p++;
        }
      }
      // Unquoted text, or whatever follows a closing quote (kept, as Python's csv does).
      // `skip` is the separator's length once found; 0 means the line (or input) ended.
      let skip = 0;
      while (p < end) {
        const c = buf[p];
        if (c === LF) break;
        if (whitespace && (c === SPACE || c === TAB || c === CR)) {
          let q = p + 1;
          while (q < end && (buf[q] === SPACE || buf[q] === TAB || buf[q] === CR)) q++;
          if (q === end && !final) return -1;
          if (q === end || buf[q] === LF) {
            p = q; // trailing whitespace ends the line, not a field
            break;
          }
          skip = q - p;
          break;
        }
        if (c === sep[0] && !whitespace) {
          if (p + sep.length > end && !final) return -1;
          let k = 1;
          while (k < sep.length && buf[p + k] === sep[k]) k++;
          if (k === sep.length) {
            skip = k;
            break;
          }
        }
        out[o++] = c;
        p++;
      }
      // Drop the CR of a CRLF, unless a quoted field ends with it inside its quotes.
      if (skip === 0 && o > this.starts[fields] && out[o - 1] === CR && (!quoted || buf[p - 1] === CR)) o--;
      this.ends[fields++] = o;
      if (skip === 0) {
        if (p === end) {
          if (!final) return -1;
        } else p++; // the LF
        break;
      }
      p += skip;
      if (p === end && final) {
        // A separator as the very last byte still ends a field: one more, empty.
        if (fields === this.starts.length) this.growFields();
        this.starts[fields] = o;
        this.ends[fields++] = o;
        break;
      }
    }
    this.fieldCount = fields;
    this.newlinesInRow = newlines;
    return p;
  }

  private growFields(): void {
    const starts = new Int32Array(this.starts.length * 2);
    const ends = new Int32Array(this.ends.length * 2);
    starts.set(this.starts);
    ends.set(this.ends);
    this.starts = starts;
    this.ends = ends;
  }
}

/** True when the row is empty or only whitespace: one field of spaces, tabs or nothing. */
function isBlank(bytes: Uint8Array, starts: Int32Array, ends: Int32Array, fieldCount: number): boolean {
  if (fieldCount !== 1) return false;
  for (let i = starts[0]; i < ends[0]; i++) {
    const c = bytes[i];
    if (c !== SPACE && c !== TAB && c !== CR) return false;
  }
  return true;
}

/** Whether bytes [start, end) hold a number parseDecimal accepts. */
function isNumber(bytes: Uint8Array, start: number, end: number): boolean {
  return !Number.isNaN(parseDecimal(bytes, start, end));
}

/** Makes the string decoder for an encoding; `lenient` UTF-8 falls back to Latin-1 per string. */
export function makeDecoder(encoding: Encoding, lenient = false): Decode {
  if (encoding === "latin1") {
    // TextDecoder's "latin1" is really windows-1252, which remaps 0x80–0x9F: decode by hand.
    return (bytes, start, end) => {
      let text = "";
      for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]);
      return text;
    };
  }
  if (!lenient) {
    const utf8 = new TextDecoder("utf-8");
    return (bytes, start, end) => utf8.decode(bytes.subarray(start, end));
  }
  const strict = new TextDecoder("utf-8", { fatal: true });
  const latin1 = makeDecoder("latin1");
  return (bytes, start, end) => {
    try {
      return strict.decode(bytes.subarray(start, end));
    } catch {
      return latin1(bytes, start, end);
    }
  };
}

/** Whether the bytes are valid UTF-8, allowing a sequence cut off at the very end. */
function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** Trims spaces, tabs and CRs from both ends of field bytes; returns [start, end]. */
export function trimField(bytes: Uint8Array, start: number, end: number): [number, number] {
  while (start < end && (bytes[start] === SPACE || bytes[start] === TAB || bytes[start] === CR)) start++;
  while (end > start && (bytes[end - 1] === SPACE || bytes[end - 1] === TAB || bytes[end - 1] === CR)) end--;
  return [start, end];
}

/** Extra options of DelimitedReader.open beyond the dialect. */
export interface OpenOptions extends DelimitedOptions {
  /** Columns whose first-row text decides "auto" header detection; all columns by default. */
  headerProbe?: (fieldCount: number) => number[];
}

/**
 * A delimited text file opened for streaming: the dialect is settled (sniffed from the
 * first 64 KiB where not given) and the header read; forEachRow() then streams the rows.
 */
export class DelimitedReader {
  /** The source's name, for messages. */
  readonly name: string;
  readonly source: ByteSource;
  readonly dialect: Dialect;
  /** Column names (trimmed), when the file has a header row. */
  readonly header?: string[];
  /** Fields per row: the header's, or the first data row's. */
  readonly fieldCount: number;
  /** 1-based line of the first non-blank row: the header, or the first data row. */
  readonly firstLine: number;
  /** Decodes field bytes in the file's encoding. */
  readonly decode: Decode;
  /** Blank lines met so far (not counted as rows). */
  skippedBlankLines = 0;
  /** Data rows delivered so far. */
  rows = 0;
  /** Decoded bytes taken from the source so far (for size estimates). */
  decodedBytes: number;

  private readonly chunks: AsyncIterator<Uint8Array>;
  // Unconsumed text: an unfinished row carried over, then the latest chunk.
  private work: Uint8Array;
  private workStart: number;
  private workEnd: number;
  private exhausted: boolean;
  private consumed = false;

  private constructor(source: ByteSource, chunks: AsyncIterator<Uint8Array>, work: Uint8Array, workStart: number, exhausted: boolean, dialect: Dialect, header: string[] | undefined, fieldCount: number, firstLine: number, decode: Decode) {
    this.source = source;
    this.name = source.name;
    this.chunks = chunks;
    this.work = work;
    this.workStart = workStart;
    this.workEnd = work.length;
    this.exhausted = exhausted;
    this.dialect = dialect;
    this.header = header;
    this.fieldCount = fieldCount;
    this.decode = decode;
    this.firstLine = firstLine;
    this.decodedBytes = work.length;
  }

  /** Opens a source: reads its first 64 KiB (more if a row is longer) and settles the dialect and header. */
  static async open(source: ByteSource, options: OpenOptions = {}): Promise<DelimitedReader> {
    const file = source.name;
    const chunks = source[Symbol.asyncIterator]();
    const pieces: Uint8Array[] = [];
    let length = 0;
    let newlines = 0;
    let exhausted = false;
    while (length < SNIFF_BYTES || newlines < 2) {
      const next = await chunks.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      pieces.push(next.value.slice()); // the source may reuse its chunk
      length += next.value.length;
      for (let i = next.value.indexOf(LF); i >= 0 && newlines < 2; i = next.value.indexOf(LF, i + 1)) newlines++;
    }
    const work = concat(pieces, length);
    const bom = work.length >= 3 && work[0] === 0xef && work[1] === 0xbb && work[2] === 0xbf ? 3 : 0;

    const encodingOption = options.encoding ?? "auto";
    const encoding: Encoding = encodingOption !== "auto" ? encodingOption : bom || isUtf8(work.subarray(bom, Math.min(work.length, bom + 4 * SNIFF_BYTES))) ? "utf-8" : "latin1";
    const decode = makeDecoder(encoding, encodingOption === "auto");

    // The first rows of the sniffed text (blank ones left out), split by one separator.
    let firstLine = 1;
    const sample = (separator: string): string[][] => {
      const tokenizer = new Tokenizer(separator, options.quote ?? separator === ",", file);
      const rows: string[][] = [];
      try {
        tokenizer.scan(work, bom, work.length, exhausted, (bytes, fieldCount, line) => {
          if (rows.length >= SNIFF_ROWS) throw SAMPLE_FULL;
          if (isBlank(bytes, tokenizer.starts, tokenizer.ends, fieldCount)) return;
          const row: string[] = [];
          for (let k = 0; k < fieldCount; k++) row.push(decode(bytes, tokenizer.starts[k], tokenizer.ends[k]));
          if (rows.length === 0) firstLine = line;
          rows.push(row);
        });
      } catch (error) {
        // An unterminated quote is reported when the rows are read for real.
        if (error !== SAMPLE_FULL && !(error instanceof DataError)) throw error;
      }
      return rows;
    };

    let separator = normalizeSeparator(options.separator ?? "auto");
    let rows: string[][];
    try {
      if (separator === "auto") ({ separator, rows } = sniffSeparator(sample));
      else {
        if (separator === "" || /[\r\n]/.test(separator)) throw new TypeError(`separator: ${JSON.stringify(separator)} cannot separate fields (use "auto" to sniff it)`);
        rows = sample(separator);
      }
      if (rows.length === 0 && !exhausted) throw new DataError(`no complete row in the first ${length} bytes (an unterminated quote?)`, { file, line: 1 });
      if (rows.length === 0) throw new DataError("empty file: no data rows", { file });
    } catch (error) {
      await chunks.return?.(); // closes the file
      throw error;
    }

    let header: boolean;
    if (options.header === undefined || options.header === "auto") {
      const probe = options.headerProbe?.(rows[0].length) ?? rows[0].map((_, k) => k);
      header = sniffHeader(rows, probe);
    } else header = options.header;

    const dialect: Dialect = { separator, header, encoding, quote: options.quote ?? separator === "," };
    const names = header ? rows[0].map((name) => name.trim()) : undefined;
    return new DelimitedReader(source, chunks, work, bom, exhausted, dialect, names, rows[0].length, firstLine, decode);
  }

  /**
   * Streams every data row to `onRow` (the header row skipped), checking each has
   * `fieldCount` fields. `onChunk` runs after each chunk of input, for progress. Throws a
   * DataError on an inconsistent row, and "empty file: no data rows" when there were none.
   */
  async forEachRow(onRow: RowHandler, onChunk?: () => void): Promise<void> {
    if (this.consumed) throw new Error("DelimitedReader: the rows can only be read once");
    this.consumed = true;
    const file = this.name;
    const tokenizer = new Tokenizer(this.dialect.separator, this.dialect.quote, file);
    const expected = this.fieldCount;
    let headerPending = this.dialect.header;
    // A blank line has one field: with one-field rows every row must be checked for it.
    const oneField = expected === 1;
    const handle = (bytes: Uint8Array, fieldCount: number, line: number): void => {
      if (fieldCount !== expected || headerPending || oneField) {
        if (isBlank(bytes, tokenizer.starts, tokenizer.ends, fieldCount)) {
          this.skippedBlankLines++;
          return;
        }
        if (headerPending) {
          headerPending = false;
          if (fieldCount === expected) return;
        }
        if (fieldCount === expected) {
          this.rows++;
          onRow(bytes, tokenizer.starts, tokenizer.ends, line);
          return;
        }
        const separator = describeSeparator(this.dialect.separator);
        throw new DataError(`inconsistent separator: expected ${expected} fields, found ${fieldCount} (separator ${separator})`, { file, line });
      }
      this.rows++;
      onRow(bytes, tokenizer.starts, tokenizer.ends, line);
    };
    try {
      for (;;) {
        this.workStart = tokenizer.scan(this.work, this.workStart, this.workEnd, this.exhausted, handle);
        onChunk?.();
        if (this.exhausted) break;
        let chunk: IteratorResult<Uint8Array>;
        try {
          chunk = await this.chunks.next();
        } catch (error) {
          // A truncated or corrupt archive: say how far the rows got.
          if (error instanceof DataError && error.line === undefined) throw new DataError(error.what, { file: error.file, line: tokenizer.line });
          throw error;
        }
        if (chunk.done) this.exhausted = true;
        else this.append(chunk.value);
      }
    } catch (error) {
      await this.chunks.return?.(); // closes the file
      throw error;
    }
    if (this.rows === 0) throw new DataError("empty file: no data rows", { file });
  }

  /** Closes the source without reading the rows (after an error of the caller's, say). */
  async close(): Promise<void> {
    this.consumed = true;
    await this.chunks.return?.();
  }

  // Glues the unfinished row left in the work buffer to the next chunk, reusing the buffer.
  private append(chunk: Uint8Array): void {
    const carry = this.workEnd - this.workStart;
    const needed = carry + chunk.length;
    if (this.work.length < needed) {
      const work = new Uint8Array(Math.max(needed, 2 * chunk.length));
      work.set(this.work.subarray(this.workStart, this.workEnd));
      this.work = work;
    } else if (carry > 0) this.work.copyWithin(0, this.workStart, this.workEnd);
    this.work.set(chunk, carry);
    this.decodedBytes += chunk.length;
    this.workStart = 0;
    this.workEnd = needed;
  }
}

const SAMPLE_FULL = new Error("sample full");

function concat(pieces: Uint8Array[], length: number): Uint8Array {
  if (pieces.length === 1) return pieces[0];
  const out = new Uint8Array(length);
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}

// Picks the first candidate that splits every sampled row into the same number (≥ 2) of
// fields; failing that, the one most rows agree with the first row on, so the stray row
// is reported as an inconsistent line rather than the file read as one column.
function sniffSeparator(sample: (separator: string) => string[][]): { separator: string; rows: string[][] } {
  let best: { separator: string; rows: string[][]; agreeing: number } | undefined;
  for (const separator of CANDIDATE_SEPARATORS) {
    const rows = sample(separator);
    if (rows.length === 0) return { separator, rows };
    const fields = rows[0].length;
    if (fields < 2) continue;
    const agreeing = rows.filter((r) => r.length === fields).length;
    if (agreeing === rows.length) return { separator, rows };
    if (!best || agreeing > best.agreeing) best = { separator, rows, agreeing };
  }
  if (best) return best;
  return { separator: ",", rows: sample(",") };
}

// A header's fields are names: some probed column is text in the first row but a number in
// every later sampled row. With a single row to go on, all probed fields must be text.
function sniffHeader(rows: string[][], probe: number[]): boolean {
  const encoder = new TextEncoder();
  const numeric = (text: string | undefined) => {
    if (text === undefined) return false;
    const bytes = encoder.encode(text);
    return isNumber(bytes, 0, bytes.length);
  };
  const first = rows[0];
  const columns = probe.filter((k) => k < first.length);
  if (columns.length === 0) return false;
  if (rows.length === 1) return columns.every((k) => !numeric(first[k]));
  return columns.some((k) => !numeric(first[k]) && rows.slice(1).every((row) => numeric(row[k])));
}
