// The one error type of the readers, so a caller (the CLI) can tell bad input from a bug
// and point the user at the exact place in the file.

/**
 * Bad input data: a malformed, truncated or inconsistent file. The message reads
 * `file:line: field: what`, with the parts that are unknown left out.
 */
export class DataError extends Error {
  /** The file (or archive member) as the caller named it. */
  readonly file: string;
  /** 1-based line number of the offending row, when known. */
  readonly line?: number;
  /** Column name, or 1-based position when the file has no header, when known. */
  readonly field?: string;
  /** The complaint alone, without the location prefix. */
  readonly what: string;

  constructor(what: string, location: { file: string; line?: number; field?: string | number }) {
    const field = location.field === undefined ? undefined : String(location.field);
    let where = location.file;
    if (location.line !== undefined) where += `:${location.line}`;
    super(field === undefined ? `${where}: ${what}` : `${where}: ${field}: ${what}`);
    this.name = "DataError";
    this.file = location.file;
    this.line = location.line;
    this.field = field;
    this.what = what;
  }
}
