// One ALS timing run on the synthetic Last.fm-360K-shaped data, in its own process so
// its peak memory is its own. Prints one JSON line. Run through bench/run.mjs.
//   node bench/als.mjs --factors 64 --iterations 3 [--scale 1] [--solver cg] [--stages] [--values-copy] [--write-matrix PATH]
// --stages prints the process's RSS (and wasm memory) after each step to stderr.
// --values-copy fits with fit({ lowMemory: false }): ALS's items × users copy holds the values.
// --write-matrix writes the bm25-weighted users × items matrix the fit trains on to PATH
// (bench/implicit-cg.c's format) and exits without fitting.

import { parseArgs } from "node:util";
import { AlternatingLeastSquares, CsrMatrix, bm25Weight, getEngine } from "../dist/index.js";
import { collectGarbage, generateLastfm360kLike } from "./synthetic.mjs";
import { writeMatrix } from "./csr-file.mjs";

const { values: args } = parseArgs({
  options: {
    factors: { type: "string", default: "64" },
    iterations: { type: "string", default: "3" },
    scale: { type: "string", default: "1" },
    solver: { type: "string", default: "cg" },
    threads: { type: "string", default: "1" },
    stages: { type: "boolean", default: false },
    "values-copy": { type: "boolean", default: false },
    "write-matrix": { type: "string" },
  },
});
const stage = (what) => {
  if (!args.stages) return;
  const mb = (bytes) => Math.round(bytes / 1e6);
  console.error(`${what}: RSS ${mb(process.memoryUsage().rss)} MB, peak ${mb(process.resourceUsage().maxRSS * 1024)} MB, wasm ${mb(getEngine().heap.bytesReserved)} MB`);
};

const started = performance.now();
let data = generateLastfm360kLike({ seed: 42, scale: Number(args.scale) });
const generatedSeconds = (performance.now() - started) / 1000;
stage("generated");

// As implicit's Last.fm example: bm25 over the items × users matrix (K1 = 100, B = 0.8).
const prepared = performance.now();
let userItems = CsrMatrix.fromCoo(data);
stage("CsrMatrix.fromCoo");
const shape = data.shape, nnz = userItems.nnz;
data = undefined; // the COO arrays are garbage from here on: the bench's, not the library's
await collectGarbage();
const itemUsers = bm25Weight(userItems.transpose(), { K1: 100, B: 0.8, inPlace: true });
userItems.dispose();
userItems = itemUsers.transpose();
itemUsers.dispose();
const preparedSeconds = (performance.now() - prepared) / 1000;
// The generator's COO arrays are this script's garbage, not the library's: collect them
// so peak memory measures what a fit holds (run.mjs starts us with --expose-gc).
await collectGarbage();
stage("bm25 weighted, generator's arrays collected");

if (args["write-matrix"]) {
  writeMatrix(args["write-matrix"], userItems);
  process.exit(0);
}

const iterationSeconds = [];
const model = new AlternatingLeastSquares({
  factors: Number(args.factors), iterations: Number(args.iterations), solver: args.solver,
  regularization: 0.01, seed: 1, threads: Number(args.threads),
});
await model.fit(userItems, { lowMemory: !args["values-copy"], onIteration: (info) => { iterationSeconds.push(info.seconds); stage(`iteration ${info.iteration}`); } });

const sorted = [...iterationSeconds].sort((a, b) => a - b);
console.log(JSON.stringify({
  factors: Number(args.factors), solver: args.solver, threads: Number(args.threads), users: shape[0], items: shape[1], nnz,
  generatedSeconds, preparedSeconds, iterationSeconds,
  medianIterationSeconds: sorted[Math.floor(sorted.length / 2)],
  peakRssBytes: process.resourceUsage().maxRSS * 1024,
  wasmMemoryBytes: getEngine().heap.bytesReserved,
}));
