// Running the bench's C stand-ins for implicit (bench/implicit-*.c, implicit-bpr.cpp): built
// with gcc (g++ for C++), OpenMP and OpenBLAS (cached in the temporary directory by the source's hash), run with BLAS at
// one thread, and alternated with edgerec's own bench scripts.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

/** { binary: its path }, or { unavailable: why } when gcc, g++ or libopenblas-dev is missing. */
export function buildNative(sourceUrl) {
  const source = sourceUrl.pathname;
  const hash = createHash("sha256").update(readFileSync(source)).update(readFileSync(new URL("./stand-in.h", import.meta.url))).digest("hex").slice(0, 12);
  const cpp = source.endsWith(".cpp");
  const binary = join(tmpdir(), `edgerec-${basename(source).replace(/\.c(pp)?$/, "")}-${hash}`);
  if (existsSync(binary)) return { binary };
  try {
    execFileSync(cpp ? "g++" : "gcc", ["-O2", "-fopenmp", source, "-o", `${binary}.partial`, ...(cpp ? [] : ["-lopenblas"]), "-lm"], { stdio: ["ignore", "pipe", "pipe"] });
    renameSync(`${binary}.partial`, binary);
    return { binary };
  } catch (error) {
    return { unavailable: `could not build bench/${basename(source)} (needs gcc, g++ and libopenblas-dev): ${String(error.stderr || error.message).trim().split("\n")[0]}` };
  }
}

/** The environment the stand-ins run in: BLAS at one thread, as implicit's reference figures. */
export function nativeEnv() {
  // implicit's reference figures come from an AMD EPYC, where this OpenBLAS runs its Zen
  // kernels; 0.3.21 knows no newer Intel core and would fall back to its oldest (Prescott).
  return { ...process.env, OPENBLAS_NUM_THREADS: "1", OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE ?? "Zen" };
}

/** The last line a bench script or stand-in printed, parsed as JSON. */
export function lastJson(output) {
  return JSON.parse(output.trim().split("\n").pop());
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Runs `ours` and `theirs` (each returns its run) for `rounds` rounds, first one then the
 * other first, so a drift in the machine's speed favours neither, and prints each round's
 * ratio ours / theirs of every figure and their medians: on a VM whose speed drifts,
 * neighbours in time compare best. figures: { name, of(run) → number, format(run) → text }.
 */
export function alternate(rounds, ours, theirs, figures) {
  const ratios = figures.map(() => []);
  for (let round = 1; round <= rounds; round++) {
    let a, b;
    if (round % 2) { a = ours(); b = theirs(); } else { b = theirs(); a = ours(); }
    console.log(`round ${round}: ${figures.map(({ name, of, format }, f) => {
      ratios[f].push(of(a) / of(b));
      return `${name}: edgerec ${format(a)}, stand-in ${format(b)}, ${(of(a) / of(b)).toFixed(2)}×`;
    }).join("; ")}`);
  }
  for (const [f, { name }] of figures.entries()) {
    const r = ratios[f];
    console.log(`${name}: median ratio ${median(r).toFixed(2)}× (range ${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)}×)`);
  }
}

/** Runs bench/`script` (an edgerec bench script) with `scriptArgs` and returns its JSON line. */
export function runScript(script, scriptArgs, stderr = "inherit") {
  return lastJson(execFileSync(process.execPath, ["--expose-gc", new URL(`./${script}`, import.meta.url).pathname, ...scriptArgs],
    { encoding: "utf8", stdio: ["ignore", "pipe", stderr] }));
}

/**
 * What each bench/implicit-*.mjs does: builds the stand-in `source` (or prints why it cannot
 * and exits), writes its input with bench/`writer` `writerArgs` when `input` (a path, or the
 * path the writer's output is checked by) is missing or older than `dependsOn`, then either
 * prints one run's JSON (`standIn(binary)`) or, with `versus.enabled`, alternates it with
 * `versus.edgerec()` for `versus.rounds` rounds (see alternate).
 */
export function standInMain({ source, input, writer, writerArgs, dependsOn, standIn, versus }) {
  const built = buildNative(source);
  if (built.unavailable) {
    console.log(JSON.stringify(built));
    process.exit(0);
  }
  const stale = !existsSync(input) || (dependsOn && existsSync(dependsOn) && statSync(dependsOn).mtimeMs > statSync(input).mtimeMs);
  if (stale) execFileSync(process.execPath, ["--expose-gc", new URL(`./${writer}`, import.meta.url).pathname, ...writerArgs], { stdio: ["ignore", "ignore", "inherit"] });
  const run = () => standIn(built.binary);
  if (!versus.enabled) {
    console.log(JSON.stringify(run()));
    return;
  }
  console.log(versus.title);
  alternate(versus.rounds, versus.edgerec, run, versus.figures);
}

/** Runs a stand-in's binary with BLAS at one thread (nativeEnv) and returns its JSON line. */
export function runNative(binary, binaryArgs) {
  return lastJson(execFileSync(binary, binaryArgs, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: nativeEnv() }));
}
