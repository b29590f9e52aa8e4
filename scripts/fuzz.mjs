#!/usr/bin/env node
// `npm run fuzz`: the fuzz properties of test/fuzz with many more cases than `npm test`
// runs (FUZZ_SCALE times each property's CI count), then the cases run per property and
// in total. FUZZ_SEED varies the seed (fixed by default, so a failure reproduces);
// FUZZ_SCALE the number of cases; extra arguments go to vitest (e.g. a test file).

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const MIN_TOTAL = 10_000;
const scale = process.env.FUZZ_SCALE ?? "30";
const dir = mkdtempSync(join(tmpdir(), "edgerec-fuzz-"));
const report = join(dir, "cases.jsonl");
const vitest = new URL("../node_modules/vitest/vitest.mjs", import.meta.url).pathname;
const args = process.argv.slice(2);
// One test file at a time: long properties on a shared machine otherwise starve vitest's
// main process, and its worker RPC times out.
const run = spawnSync(process.execPath, [vitest, "run", "--no-file-parallelism", ...(args.length > 0 ? args : ["test/fuzz"])], {
  stdio: "inherit",
  env: { ...process.env, FUZZ_SCALE: scale, FUZZ_REPORT: report },
});

let lines = [];
try {
  lines = readFileSync(report, "utf8").trim().split("\n").filter(Boolean).map((line) => JSON.parse(line));
} catch {
  // No property reported: vitest failed before running any.
}
rmSync(dir, { recursive: true, force: true });

const width = Math.max(8, ...lines.map((l) => l.name.length));
console.log(`\nfuzz cases (seed ${process.env.FUZZ_SEED ?? "default"}, scale ${scale}):`);
let total = 0;
for (const { name, cases, failed } of lines) {
  total += cases;
  console.log(`  ${name.padEnd(width)}  ${String(cases).padStart(7)}${failed ? "  FAILED" : ""}`);
}
console.log(`  ${"total".padEnd(width)}  ${String(total).padStart(7)}`);
if (run.status === 0 && args.length === 0 && total < MIN_TOTAL) {
  console.error(`fuzz: only ${total} cases ran, fewer than ${MIN_TOTAL}: raise FUZZ_SCALE`);
  process.exit(1);
}
process.exit(run.status ?? 1);
