// Times bench/implicit-cg.c (implicit 0.7.3's CG fit, call for call, in C over this
// machine's OpenBLAS) on the matrix bench/als.mjs trains on, so edgerec's figures can be set
// beside it from the same run on the same machine. Needs gcc with OpenMP and OpenBLAS
// (Debian: apt-get install gcc libopenblas-dev); without them it prints {"unavailable": why}.
// The matrix and the binary are cached in the temporary directory.
//   node bench/implicit-cg.mjs --factors 64 --threads 2 [--iterations 3] [--scale 1] [--versus-edgerec --rounds 4]
// --versus-edgerec alternates it with edgerec's fit (bench/als.mjs, same factors, threads and
// iterations) for --rounds rounds, each in its own process, and prints each round's ratio of
// median seconds per iteration.

import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { median, runNative, runScript, standInMain } from "./stand-in.mjs";

const { values: args } = parseArgs({
  options: {
    factors: { type: "string", default: "64" },
    iterations: { type: "string", default: "3" },
    scale: { type: "string", default: "1" },
    threads: { type: "string", default: "1" },
    "versus-edgerec": { type: "boolean", default: false },
    rounds: { type: "string", default: "4" },
  },
});

// The generator's output for a scale never changes, so one prepared matrix serves every run.
const matrix = join(tmpdir(), `edgerec-bench-bm25-v1-scale${args.scale}.csr`);
standInMain({
  source: new URL("./implicit-cg.c", import.meta.url),
  input: matrix, writer: "als.mjs", writerArgs: ["--scale", args.scale, "--write-matrix", matrix],
  standIn: (binary) => {
    const run = runNative(binary, [matrix, args.factors, args.iterations, args.threads, "0.01", "3"]);
    return { ...run, medianIterationSeconds: median(run.iterationSeconds) };
  },
  versus: {
    enabled: args["versus-edgerec"], rounds: Number(args.rounds),
    title: `edgerec vs implicit-cg (bench/implicit-cg.c) on this machine: ${args.factors} factors, ${args.threads} thread(s), ${args.iterations} iterations, scale ${args.scale}`,
    edgerec: () => runScript("als.mjs", ["--factors", args.factors, "--threads", args.threads, "--iterations", args.iterations, "--scale", args.scale]),
    figures: [{ name: "s per iteration", of: (run) => run.medianIterationSeconds, format: (run) => `${run.iterationSeconds.map((x) => x.toFixed(2)).join(", ")} s` }],
  },
});
