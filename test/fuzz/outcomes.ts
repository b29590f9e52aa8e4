// What a reader may do with any input: return, or throw a DataError that names the file
// (and the line, unless the complaint is about the whole file). Anything else (a
// TypeError from a bug, a RangeError from a huge allocation) fails the property.

import { expect } from "vitest";
import { DataError } from "../../src/io/errors.js";

// Complaints about the file as a whole, which have no line to name.
const WHOLE_FILE = /empty file|gzip|zip|no complete row/;

export function expectDataError(error: unknown, file: string): DataError {
  if (!(error instanceof DataError)) {
    throw new Error(`expected a DataError, got ${error instanceof Error ? `${error.constructor.name}: ${error.message}\n${error.stack}` : String(error)}`);
  }
  expect(error.file).toBe(file);
  if (error.line === undefined && !WHOLE_FILE.test(error.what)) throw new Error(`DataError without a line: ${error.message}`);
  if (error.line !== undefined) expect(error.line).toBeGreaterThanOrEqual(1);
  return error;
}
