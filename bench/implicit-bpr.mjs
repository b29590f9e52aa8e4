// Times bench/implicit-bpr.cpp (implicit 0.7.3's BPR epoch, in C++) on the matrix
// bench/bpr.mjs trains on, so edgerec's BPR figures can be set beside it from the same
// machine. Needs g++ with OpenMP; without it prints {"unavailable": why}. Its input and
// binary are cached in the temporary directory.
//   node bench/implicit-bpr.mjs --threads 2 [--factors 64] [--epochs 2] [--scale 1] [--versus-edgerec --rounds 4]
// --versus-edgerec alternates it with bench/bpr.mjs (edgerec's default user-block order, same
// factors, epochs and threads) and prints each round's ratio of median seconds per epoch.

import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { median, runNative, runScript, standInMain } from "./stand-in.mjs";

const { values: args } = parseArgs({
  options: {
    factors: { type: "string", default: "64" },
    epochs: { type: "string", default: "2" },
    threads: { type: "string", default: "1" },
    scale: { type: "string", default: "1" },
    "versus-edgerec": { type: "boolean", default: false },
    rounds: { type: "string", default: "4" },
  },
});

const matrix = join(tmpdir(), `edgerec-bench-raw-v1-scale${args.scale}.csr`);
standInMain({
  source: new URL("./implicit-bpr.cpp", import.meta.url),
  input: matrix, writer: "bpr.mjs", writerArgs: ["--scale", args.scale, "--write-matrix", matrix],
  standIn: (binary) => {
    const run = runNative(binary, [matrix, args.factors, args.epochs, args.threads]);
    return { ...run, medianEpochSeconds: median(run.epochSeconds) };
  },
  versus: {
    enabled: args["versus-edgerec"], rounds: Number(args.rounds),
    title: `edgerec vs implicit-bpr (bench/implicit-bpr.cpp) on this machine: ${args.factors} factors, ${args.threads} thread(s), ${args.epochs} epochs, scale ${args.scale}`,
    edgerec: () => runScript("bpr.mjs", ["--factors", args.factors, "--epochs", args.epochs, "--threads", args.threads, "--scale", args.scale], "ignore"),
    figures: [{ name: "s per epoch", of: (run) => run.medianEpochSeconds, format: (run) => `${run.epochSeconds.map((x) => x.toFixed(2)).join(", ")} s` }],
  },
});
