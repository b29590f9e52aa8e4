// Times bench/implicit-bpr.cpp (implicit 0.7.3's BPR epoch, in C++) on the matrix
// bench/bpr.mjs trains on, so edgerec's BPR figures can be set beside it from the same
// machine. Needs g++ with OpenMP; without it prints {"unavailable": why}. Its input and
// binary are cached in the temporary directory.
//   node bench/implicit-bpr.mjs --threads 2 [--factors 64] [--epochs 2] [--scale 1] [--versus-edgerec --rounds 4]
// --versus-edgerec alternates it with bench/bpr.mjs (edgerec's default user-block order, same
// factors, epochs and threads) and prints each round's ratio of median seconds per epoch.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { alternate, buildNative, lastJson, median, nativeEnv } from "./stand-in.mjs";

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

const built = buildNative(new URL("./implicit-bpr.cpp", import.meta.url));
if (built.unavailable) {
  console.log(JSON.stringify(built));
  process.exit(0);
}
const matrix = join(tmpdir(), `edgerec-bench-raw-v1-scale${args.scale}.csr`);
if (!existsSync(matrix)) {
  execFileSync(process.execPath, [new URL("./bpr.mjs", import.meta.url).pathname, "--scale", args.scale, "--write-matrix", matrix], { stdio: ["ignore", "ignore", "inherit"] });
}
const implicitBpr = () => {
  const run = lastJson(execFileSync(built.binary, [matrix, args.factors, args.epochs, args.threads], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: nativeEnv() }));
  return { ...run, medianEpochSeconds: median(run.epochSeconds) };
};
if (!args["versus-edgerec"]) {
  console.log(JSON.stringify(implicitBpr()));
  process.exit(0);
}
const edgerec = () => lastJson(execFileSync(process.execPath, ["--expose-gc", new URL("./bpr.mjs", import.meta.url).pathname,
  "--factors", args.factors, "--epochs", args.epochs, "--threads", args.threads, "--scale", args.scale], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
console.log(`edgerec vs implicit-bpr (bench/implicit-bpr.cpp) on this machine: ${args.factors} factors, ${args.threads} thread(s), ${args.epochs} epochs, scale ${args.scale}`);
alternate(Number(args.rounds), edgerec, implicitBpr, [{
  name: "s per epoch", of: (run) => run.medianEpochSeconds, format: (run) => `${run.epochSeconds.map((x) => x.toFixed(2)).join(", ")} s`,
}]);
