// `npm run bench`: parse throughput on a generated 17.5M-line Last.fm-360K-shaped TSV
// (bench/parse.mjs), then on the synthetic Last.fm-360K-shaped data (bench/synthetic.mjs):
// ALS seconds per iteration at 64 and 128 factors and peak memory, a BPR epoch at 64
// factors, and recommend throughput on a sample of users and similar-items throughput for
// every item (each pair scored once for both items; a number samples instead), each
// on 1 and 2 threads and printed beside implicit's figure from
// ../shared/bench/implicit-reference.md as a ratio (time: below 1 is faster; per second: above 1 is faster);
// then the 64-factor ALS fit on 2 threads once more with fit({ lowMemory: false }) (values
// copied into ALS's items × users copy; the default reads them from the CSR). BPR runs
// in its default user-block order and in random order (implicit's). Each ALS and query run,
// and each BPR run in the first order, is followed by a C stand-in for implicit
// (bench/implicit-cg.c, implicit-topk.c, implicit-bpr.cpp: implicit's algorithms call for
// call, over OpenBLAS where implicit uses BLAS) on the same data, model and threads,
// for a ratio from this machine at the same time; they need gcc, g++ and libopenblas-dev and are
// skipped with a notice without them (--stand-ins false skips them).
//   npm run bench -- [--iterations 3] [--scale 1] [--factors 64,128] [--threads 1,2] [--parse-lines N | --skip-parse]
//                    [--bpr-epochs 2] [--bpr-orders userBlocks,random] [--query-users 20000] [--query-items all | N] [--values-copy false]
//                    [--stand-ins false]

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { availableParallelism, cpus } from "node:os";
import { runScript } from "./stand-in.mjs";

const { values: args } = parseArgs({
  options: {
    iterations: { type: "string", default: "3" },
    scale: { type: "string", default: "1" },
    factors: { type: "string", default: "64,128" },
    threads: { type: "string", default: "1,2" },
    "parse-lines": { type: "string", default: "17535655" },
    "skip-parse": { type: "boolean", default: false },
    "bpr-epochs": { type: "string", default: "2" },
    "bpr-orders": { type: "string", default: "userBlocks,random" },
    "values-copy": { type: "string", default: "true" },
    "query-users": { type: "string", default: "20000" },
    "query-items": { type: "string", default: "all" },
    "stand-ins": { type: "string", default: "true" },
  },
});

if (!args["skip-parse"]) {
  execFileSync(process.execPath, [new URL("./parse.mjs", import.meta.url).pathname, "--lines", args["parse-lines"]], { stdio: "inherit" });
  console.log("");
}

const referencePath = new URL("../../shared/bench/implicit-reference.md", import.meta.url);
const reference = existsSync(referencePath) ? readFileSync(referencePath, "utf8") : "";

// "| ALS, CG (3 steps), seconds per iteration | 64 | 9.6 | 5.0 |" → 9.6
function implicitFigure(what, factors, threads = 1) {
  for (const line of reference.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells[1] === what && cells[2] === String(factors)) return parseFloat(cells[threads === 2 ? 4 : 3].replace(/[, ]|MB/g, ""));
  }
  return undefined;
}

// implicit's figures are for the full-size data only.
const ratio = (ours, theirs) => (theirs && Number(args.scale) === 1 ? `${(ours / theirs).toFixed(2)}×` : "n/a");
const mb = (bytes) => `${Math.round(bytes / 1e6)} MB`;

console.log(`edgerec ALS bench: node ${process.version}, ${availableParallelism()} cores, threads ${args.threads}, scale ${args.scale}, ${args.iterations} iterations per run`);
if (!reference) console.log("(no ../shared/bench/implicit-reference.md: implicit's figures are not shown)");
// The ratios set this machine against the one implicit's figures come from: say what each is.
const referenceMachine = /measured on an? (.*? VM)/.exec(reference.replace(/\s+/g, " "))?.[1];
console.log(`this machine: ${cpus()[0]?.model ?? "unknown CPU"}${referenceMachine ? `; implicit's figures: ${referenceMachine}` : ""}`);
const rows = [];
// A stand-in's figures (bench/implicit-*.mjs), or undefined when skipped; a row saying why when it cannot run.
function standIn(script, scriptArgs) {
  if (args["stand-ins"] === "false") return undefined;
  const run = runScript(script, scriptArgs);
  if (run.unavailable) rows.push({ what: "  C stand-in for implicit", edgerec: "", implicit: `not run: ${run.unavailable}`, ratio: "n/a" });
  return run.unavailable ? undefined : run;
}
// The row under an edgerec figure: the stand-in's, run on this machine straight after.
function standInRow(ours, stand, figureOf, format, runs) {
  return {
    what: "  the C stand-in for implicit, run here just after",
    edgerec: format(ours), implicit: `${format(figureOf(stand))}${runs ? ` (runs: ${runs.map((s) => s.toFixed(2)).join(", ")})` : ""}`,
    ratio: `${(ours / figureOf(stand)).toFixed(2)}×`,
  };
}
// Every factors × threads run, then fit({ lowMemory: false }) at the first factors on the most threads.
const alsRuns = args.factors.split(",").map(Number).flatMap((factors) => args.threads.split(",").map((threads) => ({ factors, threads: Number(threads), valuesCopy: false })));
if (args["values-copy"] !== "false" && alsRuns.length > 0) alsRuns.push({ ...alsRuns.reduce((a, b) => (b.threads > a.threads ? b : a)), valuesCopy: true });
for (const { factors, threads, valuesCopy } of alsRuns) {
  const output = execFileSync(process.execPath, ["--expose-gc", new URL("./als.mjs", import.meta.url).pathname,
    "--factors", String(factors), "--iterations", args.iterations, "--scale", args.scale, "--threads", String(threads), ...(valuesCopy ? ["--values-copy"] : [])],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const run = JSON.parse(output.trim().split("\n").pop());
  if (rows.length === 0) console.log(`data: ${run.users} users × ${run.items} items, ${run.nnz} interactions (generated in ${run.generatedSeconds.toFixed(1)} s, CSR + bm25 in ${run.preparedSeconds.toFixed(1)} s)`);
  const implicitSeconds = implicitFigure("ALS, CG (3 steps), seconds per iteration", factors, threads);
  const implicitPeak = implicitFigure("peak resident memory of an ALS fit (whole process)", factors, threads);
  rows.push({
    what: `ALS CG s/iteration, ${factors} factors, ${threads} thread${threads > 1 ? "s" : ""}${valuesCopy ? ", values copied (lowMemory: false)" : ""}`,
    edgerec: `${run.medianIterationSeconds.toFixed(2)} s (runs: ${run.iterationSeconds.map((s) => s.toFixed(2)).join(", ")})`,
    implicit: implicitSeconds ? `${implicitSeconds} s` : "n/a",
    ratio: ratio(run.medianIterationSeconds, implicitSeconds),
  });
  rows.push({
    what: `peak RSS, ${factors} factors, ${threads} thread${threads > 1 ? "s" : ""}${valuesCopy ? ", values copied (lowMemory: false)" : ""}`,
    edgerec: `${mb(run.peakRssBytes)} (wasm memory ${mb(run.wasmMemoryBytes)})`,
    implicit: implicitPeak ? `${implicitPeak} MB` : "n/a",
    ratio: ratio(run.peakRssBytes / 1e6, implicitPeak),
  });
  if (!valuesCopy) {
    const stand = standIn("implicit-cg.mjs", ["--factors", String(factors), "--iterations", args.iterations, "--scale", args.scale, "--threads", String(threads)]);
    if (stand) rows.push(standInRow(run.medianIterationSeconds, stand, (r) => r.medianIterationSeconds, (s) => `${s.toFixed(2)} s`, stand.iterationSeconds));
  }
}
if (Number(args["bpr-epochs"]) > 0) {
  for (const sampleOrder of args["bpr-orders"].split(",")) for (const threads of args.threads.split(",").map(Number)) {
    const output = execFileSync(process.execPath, ["--expose-gc", new URL("./bpr.mjs", import.meta.url).pathname,
      "--factors", "64", "--epochs", args["bpr-epochs"], "--scale", args.scale, "--threads", String(threads), "--sample-order", sampleOrder],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const run = JSON.parse(output.trim().split("\n").pop());
    const implicitEpoch = implicitFigure("BPR (verify negatives, lr 0.01, reg 0.01), seconds per epoch of 17.5M samples", 64, threads);
    rows.push({
      what: `BPR s/epoch, 64 factors, ${threads} thread${threads > 1 ? "s (Hogwild)" : ""}, ${sampleOrder} order`,
      edgerec: `${run.medianEpochSeconds.toFixed(2)} s (runs: ${run.epochSeconds.map((s) => s.toFixed(2)).join(", ")}; AUC ${run.auc[run.auc.length - 1].toFixed(3)})`,
      implicit: implicitEpoch ? `${implicitEpoch} s` : "n/a",
      ratio: ratio(run.medianEpochSeconds, implicitEpoch),
    });
    if (sampleOrder === args["bpr-orders"].split(",")[0]) {
      const stand = standIn("implicit-bpr.mjs", ["--factors", "64", "--epochs", args["bpr-epochs"], "--scale", args.scale, "--threads", String(threads)]);
      if (stand) rows.push(standInRow(run.medianEpochSeconds, stand, (r) => r.medianEpochSeconds, (s) => `${s.toFixed(2)} s`, stand.epochSeconds));
    }
  }
}
if (Number(args["query-users"]) > 0) {
  for (const threads of args.threads.split(",").map(Number)) {
    const output = execFileSync(process.execPath, ["--expose-gc", new URL("./recommend.mjs", import.meta.url).pathname,
      "--factors", "64", "--threads", String(threads), "--users", args["query-users"], "--items", args["query-items"], "--scale", args.scale],
      { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    const run = JSON.parse(output.trim().split("\n").pop());
    const suffix = `64 factors, ${threads} thread${threads > 1 ? "s" : ""}`;
    const implicitUsers = implicitFigure("recommend top-10 for every user, filter liked, users per second (machine shared)", 64, threads);
    const implicitItems = implicitFigure("similar_items top-10 for every item, items per second (machine shared)", 64, threads);
    // Throughput: a ratio above 1 means edgerec answers more per second.
    rows.push({
      what: `recommend top-10 users/s (${run.users} users), ${suffix}`,
      edgerec: `${Math.round(run.recommendUsersPerSecond)}/s`, implicit: implicitUsers ? `${implicitUsers}/s` : "n/a",
      ratio: ratio(run.recommendUsersPerSecond, implicitUsers),
    });
    const stand = args["query-items"] === "all" ? standIn("implicit-topk.mjs", ["--factors", "64", "--threads", String(threads), "--users", args["query-users"], "--scale", args.scale]) : undefined;
    const perSecond = (x) => `${Math.round(x)}/s`;
    if (stand) rows.push(standInRow(run.recommendUsersPerSecond, stand, (r) => r.recommendUsersPerSecond, perSecond));
    rows.push({
      what: `similar items top-10 items/s (${run.items} items), ${suffix}`,
      edgerec: `${Math.round(run.similarItemsPerSecond)}/s`, implicit: implicitItems ? `${implicitItems}/s` : "n/a",
      ratio: ratio(run.similarItemsPerSecond, implicitItems),
    });
    if (stand) rows.push(standInRow(run.similarItemsPerSecond, stand, (r) => r.similarItemsPerSecond, perSecond));
  }
}
const widths = ["what", "edgerec", "implicit", "ratio"].map((key) => Math.max(key.length, ...rows.map((r) => r[key].length)));
const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join("  ");
console.log(line(["what", "edgerec", "implicit (same threads)", "edgerec / implicit"]));
for (const r of rows) console.log(line([r.what, r.edgerec, r.implicit, r.ratio]));
