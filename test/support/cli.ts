// Runs the edgerec CLI in a child process of the runtime running the tests (Node, Bun
// or Deno), so CLI tests exercise the runtime they claim.
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../../cli/edgerec.mjs", import.meta.url));
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

export interface CliResult { status: number | null; stdout: string; stderr: string }

export function runCli(args: string[], options: { cwd?: string } = {}): CliResult {
  const argv = isDeno ? ["run", "-A", cli, ...args] : [cli, ...args];
  const result = spawnSync(process.execPath, argv, { encoding: "utf8", cwd: options.cwd, env: { ...process.env, NO_COLOR: "1" }, timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function runCliJson<T = unknown>(args: string[], options: { cwd?: string } = {}): T {
  const result = runCli([...args, "--json"], options);
  if (result.status !== 0) throw new Error(`edgerec ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
