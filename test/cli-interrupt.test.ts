// Nothing lost on interruption: `edgerec fit … -o model.edgerec` killed mid-fit (SIGKILL,
// no chance to clean up) leaves the previous model byte for byte, and nothing half-written
// under the final name. The CLI writes every file through a temporary and a rename
// (cli/files.mjs); this checks it from the outside, on the runtime under test.

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { writeFileAtomic } from "../cli/files.mjs";
import { runCliJson } from "./support/cli.js";

const cli = fileURLToPath(new URL("../cli/edgerec.mjs", import.meta.url));
const ratings = fileURLToPath(new URL("../demo-data/ml-latest-small/ratings.csv.gz", import.meta.url));
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const dir = mkdtempSync(join(tmpdir(), "edgerec-interrupt-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `edgerec fit`, resolves once it has printed `pattern` on stderr, then SIGKILLs it. */
function killWhen(args: string[], pattern: RegExp): Promise<{ signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  const argv = isDeno ? ["run", "-A", cli, ...args] : [cli, ...args];
  const child = spawn(process.execPath, argv, { env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => (child.kill("SIGKILL"), reject(new Error(`fit never printed ${pattern}: ${stderr}`))), 90_000);
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (pattern.test(stderr)) child.kill("SIGKILL");
    });
    child.on("exit", (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stderr });
    });
    child.on("error", reject);
  });
}

describe("CLI: an interrupted fit loses nothing", () => {
  it("SIGKILL mid-fit leaves the previous model byte-identical and no partial file under its name", async () => {
    const model = join(dir, "model.edgerec");
    runCliJson(["fit", ratings, "-o", model, "--factors", "8", "--iterations", "1", "--threads", "1"]);
    const previous = readFileSync(model);
    // Long enough that the kill lands mid-fit: after the first iterations, long before the save.
    const run = await killWhen(["fit", ratings, "-o", model, "--factors", "64", "--iterations", "400", "--threads", "1"], /iteration 2\b/);
    expect(run.signal).toBe("SIGKILL");
    expect(run.code).toBeNull();
    expect(readFileSync(model).equals(previous)).toBe(true);
    // Only the previous model: no temporary left under (or beside) the final name.
    expect(readdirSync(dir)).toEqual(["model.edgerec"]);
  }, 120_000);

  it("writeFileAtomic replaces a file whole, and a failed write leaves no temporary", async () => {
    const sub = join(dir, "atomic");
    mkdirSync(sub);
    const path = join(sub, "chart.svg");
    writeFileSync(path, "old");
    await writeFileAtomic(path, "new");
    expect(readFileSync(path, "utf8")).toBe("new");
    // Renaming over a directory fails: the error surfaces, the directory stays, no temporary is left.
    mkdirSync(join(sub, "taken"));
    await expect(writeFileAtomic(join(sub, "taken"), "x")).rejects.toThrow();
    expect(readdirSync(sub).sort()).toEqual(["chart.svg", "taken"]);
  });
});
