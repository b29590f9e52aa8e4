// One ALS timing run on the synthetic Last.fm-360K-shaped data, in its own process so
// its peak memory is its own. Prints one JSON line. Run through bench/run.mjs.
//   node bench/als.mjs --factors 64 --iterations 3 [--scale 1] [--solver cg]

import { parseArgs } from "node:util";
import { AlternatingLeastSquares, CsrMatrix, bm25Weight, getEngine } from "../dist/index.js";
import { collectGarbage, generateLastfm360kLike } from "./synthetic.mjs";

const { values: args } = parseArgs({
  options: {
    factors: { type: "string", default: "64" },
    iterations: { type: "string", default: "3" },
    scale: { type: "string", default: "1" },
    solver: { type: "string", default: "cg" },
    threads: { type: "string", default: "1" },
  },
});

const started = performance.now();
let data = generateLastfm360kLike({ seed: 42, scale: Number(args.scale) });
const generatedSeconds = (performance.now() - started) / 1000;

// As implicit's Last.fm example: bm25 over the items × users matrix (K1 = 100, B = 0.8).
const prepared = performance.now();
let userItems = CsrMatrix.fromCoo(data);
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

const iterationSeconds = [];
const model = new AlternatingLeastSquares({
  factors: Number(args.factors), iterations: Number(args.iterations), solver: args.solver,
  regularization: 0.01, seed: 1, threads: Number(args.threads),
});
await model.fit(userItems, { onIteration: (info) => iterationSeconds.push(info.seconds) });

const sorted = [...iterationSeconds].sort((a, b) => a - b);
console.log(JSON.stringify({
  factors: Number(args.factors), solver: args.solver, threads: Number(args.threads), users: shape[0], items: shape[1], nnz,
  generatedSeconds, preparedSeconds, iterationSeconds,
  medianIterationSeconds: sorted[Math.floor(sorted.length / 2)],
  peakRssBytes: process.resourceUsage().maxRSS * 1024,
  wasmMemoryBytes: getEngine().heap.bytesReserved,
}));
