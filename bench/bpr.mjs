// One BPR timing run on the synthetic Last.fm-360K-shaped data (bench/synthetic.mjs), as
// implicit's reference figure: verify negatives, lr 0.01, reg 0.01. Prints one JSON line
// with the seconds of each epoch (an epoch = nnz samples). More than one thread is Hogwild.
//   node bench/bpr.mjs [--factors 64] [--epochs 3] [--threads 1] [--scale 1] [--sampling uniform|popularity] [--sample-order userBlocks|random] [--optimizer sgd|adagrad] [--write-matrix PATH]
// --write-matrix writes the users × items matrix to PATH (bench/csr-file.mjs) and exits.

import { parseArgs } from "node:util";
import { BayesianPersonalizedRanking, CsrMatrix, getEngine } from "../dist/index.js";
import { writeMatrix } from "./csr-file.mjs";
import { collectGarbage, generateLastfm360kLike } from "./synthetic.mjs";

const { values: args } = parseArgs({
  options: {
    factors: { type: "string", default: "64" },
    epochs: { type: "string", default: "3" },
    scale: { type: "string", default: "1" },
    sampling: { type: "string", default: "uniform" },
    "sample-order": { type: "string", default: "userBlocks" },
    optimizer: { type: "string", default: "sgd" },
    verify: { type: "string", default: "true" },
    threads: { type: "string", default: "1" },
    "write-matrix": { type: "string" },
  },
});

let data = generateLastfm360kLike({ seed: 42, scale: Number(args.scale) });
const userItems = CsrMatrix.fromCoo(data);
const shape = data.shape, nnz = userItems.nnz;
data = undefined;
await collectGarbage();

if (args["write-matrix"]) {
  writeMatrix(args["write-matrix"], userItems);
  process.exit(0);
}

const epochs = [];
const model = new BayesianPersonalizedRanking({
  factors: Number(args.factors), iterations: Number(args.epochs), learningRate: 0.01, regularization: 0.01,
  verifyNegativeSamples: args.verify !== "false", sampling: args.sampling, sampleOrder: args["sample-order"], optimizer: args.optimizer, seed: 1,
  threads: Number(args.threads),
});
await model.fit(userItems, { onEpoch: (info) => { epochs.push(info); console.error(`epoch ${info.epoch}: ${info.seconds.toFixed(2)} s, auc ${info.auc.toFixed(4)}, skipped ${info.skipped}`); } });

const seconds = epochs.map((e) => e.seconds);
const sorted = [...seconds].sort((a, b) => a - b);
console.log(JSON.stringify({
  factors: Number(args.factors), threads: Number(args.threads), sampling: args.sampling, sampleOrder: args["sample-order"], optimizer: args.optimizer, verify: args.verify !== "false",
  users: shape[0], items: shape[1], nnz, epochSeconds: seconds, medianEpochSeconds: sorted[Math.floor(sorted.length / 2)],
  auc: epochs.map((e) => e.auc), skipped: epochs.map((e) => e.skipped),
  peakRssBytes: process.resourceUsage().maxRSS * 1024, wasmMemoryBytes: getEngine().heap.bytesReserved,
}));
