// Shared settings of the fuzz properties: how many cases, which seed, a per-case time
// guard, and a tally of cases run per property (for `npm run fuzz`'s summary).
//
// `npm test` runs each property `ciRuns` times (a few hundred cases in all, a few seconds);
// `npm run fuzz` sets FUZZ_SCALE so the same properties run tens of thousands of cases.
// The seed is fixed so a failure in CI reproduces; FUZZ_SEED varies it.

import { appendFileSync } from "node:fs";
import process from "node:process";
import fc from "fast-check";

const DEFAULT_SEED = 20261130;

export const seed = Number.parseInt(process.env.FUZZ_SEED ?? "", 10) || DEFAULT_SEED;
const scale = Math.max(1, Number(process.env.FUZZ_SCALE) || 1);
let announced = false;

/** Cases to run for a property that runs `ciRuns` times under `npm test`. */
export function runs(ciRuns: number): number {
  return Math.round(ciRuns * scale);
}

/**
 * fast-check parameters for one property: the seed, the number of runs, and a tally of
 * the cases actually run, written where `npm run fuzz` collects it (FUZZ_REPORT).
 */
export function params<T>(name: string, ciRuns: number): fc.Parameters<T> {
  if (!announced) {
    announced = true;
    // Printed so that a failure can be replayed with FUZZ_SEED=<seed>.
    console.error(`fuzz: seed ${seed} (FUZZ_SEED to vary), scale ${scale}`);
  }
  let count = 0;
  return {
    seed,
    numRuns: runs(ciRuns),
    reporter: (details) => {
      count = details.numRuns;
      tally(name, count, details.failed);
      if (details.failed) {
        const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
        throw new Error(`${name}: ${fc.defaultReportMessage(details) ?? "failed"}\nCause: ${cause}`);
      }
    },
  };
}

function tally(name: string, cases: number, failed: boolean): void {
  const report = process.env.FUZZ_REPORT;
  if (report) appendFileSync(report, JSON.stringify({ name, cases, failed }) + "\n");
}

/** Time one case may take before it counts as a hang (generous: CI machines are shared). */
export const CASE_BUDGET_MS = 5_000;

/**
 * Runs one case under a time guard: an async hang (a promise that never settles, a
 * stream that never ends) fails after `ms`; a synchronous loop that eventually returns
 * but took longer than `ms` (a quadratic blow-up) fails too.
 */
export async function guarded<T>(what: string, run: () => Promise<T> | T, ms = CASE_BUDGET_MS): Promise<T> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms (a hang?)`)), ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(run), timeout]);
  } finally {
    clearTimeout(timer);
    const elapsed = performance.now() - started;
    if (elapsed > ms) throw new Error(`${what}: took ${Math.round(elapsed)} ms, more than ${ms} ms`);
  }
}

// setImmediate where there is one (Node, Bun, Deno): setTimeout(0) is clamped to 1 ms,
// which over thousands of cases is most of a run.
const nextMacrotask: (callback: () => void) => void = typeof setImmediate === "function" ? (callback) => setImmediate(callback) : (callback) => setTimeout(callback, 0);

/** The outcome of a case: its value, or the error it threw. */
export async function outcome<T>(what: string, run: () => Promise<T> | T): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  // A macrotask between cases: a long run of synchronous cases otherwise starves vitest's
  // worker RPC ("Timeout calling onTaskUpdate" after a minute).
  await new Promise((resolve) => nextMacrotask(resolve));
  try {
    return { ok: true, value: await guarded(what, run) };
  } catch (error) {
    if (error instanceof Error && /\(a hang\?\)|more than \d+ ms/.test(error.message)) throw error;
    return { ok: false, error };
  }
}
export const TEST_TIMEOUT = 60_000 * Math.max(1, Number(process.env.FUZZ_SCALE) || 1);
