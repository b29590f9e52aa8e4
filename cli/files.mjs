// Files the CLI (and the example builds) write appear whole or not at all: bytes go to a
// temporary file beside the final name, are flushed to disk, then renamed over it.
// rename() within a directory is atomic, so an interrupted run (Ctrl-C, SIGKILL, a full disk) leaves the previous
// file intact and never a half-written one under the final name.

import process from "node:process";
import { open, rename, rm } from "node:fs/promises";

/** Writes `data` (bytes or text) to `path` through a temporary file and a rename. */
export async function writeFileAtomic(path, data) {
  // pid and a counter: two writers (or two writes of one process) never share a temporary.
  const temporary = `${path}.partial-${process.pid}-${++writes}`;
  let handle;
  try {
    handle = await open(temporary, "wx");
    await handle.writeFile(data);
    // Flushed before the rename, so that after a crash the new name holds the new bytes.
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temporary, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
}

let writes = 0;
