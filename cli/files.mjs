// Writing output files so that a failed or interrupted write never leaves a half file
// under the final name.

import process from "node:process";
import { rename, rm, writeFile } from "node:fs/promises";

/** Writes `bytes` (or text) to a temporary file beside `path`, then renames it into place; on failure removes the temporary file and rethrows. */
export async function writeFileAtomic(path, bytes) {
  const temporary = `${path}.partial-${process.pid}`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
