// Times bench/implicit-topk.c (implicit 0.7.3's batch recommend and similar_items, in C over
// this machine's OpenBLAS) on the model and matrix bench/recommend.mjs queries, so edgerec's
// query figures can be set beside it from the same machine. Needs gcc with OpenMP and
// OpenBLAS (Debian: apt-get install gcc libopenblas-dev); without them it prints
// {"unavailable": why}. Its inputs (rewritten when bench/out's model is newer) and binary are
// cached in the temporary directory.
//   node bench/implicit-topk.mjs --threads 2 [--factors 64] [--users 20000] [--scale 1] [--versus-edgerec --rounds 4]
// --versus-edgerec alternates it with bench/recommend.mjs (same model, users and threads,
// every item) and prints each round's ratios of users/s and items/s.

import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runNative, runScript, standInMain } from "./stand-in.mjs";

const { values: args } = parseArgs({
  options: {
    factors: { type: "string", default: "64" },
    threads: { type: "string", default: "1" },
    users: { type: "string", default: "20000" },
    scale: { type: "string", default: "1" },
    "versus-edgerec": { type: "boolean", default: false },
    rounds: { type: "string", default: "4" },
  },
});

const inputs = join(tmpdir(), `edgerec-bench-query-v1-${args.factors}f-scale${args.scale}`);
standInMain({
  source: new URL("./implicit-topk.c", import.meta.url),
  input: `${inputs}.factors`, dependsOn: new URL(`./out/als-${args.factors}f-scale${args.scale}.edgerec`, import.meta.url).pathname,
  writer: "recommend.mjs", writerArgs: ["--factors", args.factors, "--scale", args.scale, "--write-inputs", inputs],
  standIn: (binary) => runNative(binary, [`${inputs}.csr`, `${inputs}.factors`, args.users, args.threads, "10"]),
  versus: {
    enabled: args["versus-edgerec"], rounds: Number(args.rounds),
    title: `edgerec vs implicit-topk (bench/implicit-topk.c) on this machine: ${args.factors} factors, ${args.threads} thread(s), ${args.users} users, every item, scale ${args.scale}`,
    edgerec: () => runScript("recommend.mjs", ["--factors", args.factors, "--threads", args.threads, "--users", args.users, "--items", "all", "--scale", args.scale]),
    figures: [
      { name: "recommend top-10 (liked filtered), users/s", of: (run) => run.recommendUsersPerSecond, format: (run) => `${Math.round(run.recommendUsersPerSecond)}/s` },
      { name: "similar items top-10, every item, items/s", of: (run) => run.similarItemsPerSecond, format: (run) => `${Math.round(run.similarItemsPerSecond)}/s` },
    ],
  },
});
