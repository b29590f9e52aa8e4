// Query throughput on the synthetic Last.fm-360K-shaped data: recommend top-10 for a
// sample of users (liked items filtered) and similar items top-10 for every item (or a
// sample: --items N), on 1 or more threads. Fits (or reuses from bench/out/) an ALS model,
// prints one JSON line. Run through bench/run.mjs.
//   node bench/recommend.mjs --threads 2 [--factors 64] [--users 20000] [--items all | N] [--scale 1] [--write-inputs PREFIX]
// --write-inputs writes the users × items matrix to PREFIX.csr and the model's factors to
// PREFIX.factors (bench/csr-file.mjs's formats, for bench/implicit-topk.c) and exits.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { AlternatingLeastSquares, CsrMatrix, bm25Weight } from "../dist/index.js";
import { writeFactors, writeMatrix } from "./csr-file.mjs";
import { collectGarbage, generateLastfm360kLike } from "./synthetic.mjs";

const { values: args } = parseArgs({
  options: {
    factors: { type: "string", default: "64" },
    threads: { type: "string", default: "1" },
    users: { type: "string", default: "20000" },
    items: { type: "string", default: "all" },
    scale: { type: "string", default: "1" },
    "write-inputs": { type: "string" },
  },
});
const factors = Number(args.factors), threads = Number(args.threads);

let data = generateLastfm360kLike({ seed: 42, scale: Number(args.scale) });
const userItems = CsrMatrix.fromCoo(data);
data = undefined;
await collectGarbage();

// The model: 3 iterations of ALS on bm25 weights, as bench/als.mjs; cached between runs.
const cacheDir = new URL("./out/", import.meta.url);
const cached = new URL(`als-${factors}f-scale${args.scale}.edgerec`, cacheDir);
let model;
if (existsSync(cached)) {
  model = AlternatingLeastSquares.load(readFileSync(cached));
} else {
  const weighted = bm25Weight(userItems.transpose(), { K1: 100, B: 0.8, inPlace: true }).transpose();
  model = new AlternatingLeastSquares({ factors, iterations: 3, regularization: 0.01, seed: 1 });
  await model.fit(weighted);
  weighted.dispose();
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(cached, model.save());
}

if (args["write-inputs"]) {
  writeMatrix(`${args["write-inputs"]}.csr`, userItems);
  writeFactors(`${args["write-inputs"]}.factors`, model);
  process.exit(0);
}

// Evenly spread samples, so every part of the id range (and of popularity) is in them.
const sample = (count, total) => Int32Array.from({ length: Math.min(count, total) }, (_, j) => Math.floor((j * total) / Math.min(count, total)));
const users = sample(Number(args.users), model.nUsers);
// Every item: the catalogue-wide job (each pair scored once for both items) a related-items table needs.
const items = args.items === "all" ? Int32Array.from({ length: model.nItems }, (_, i) => i) : sample(Number(args.items), model.nItems);

async function time(run) {
  await run(users.subarray(0, 64), items.subarray(0, 64)); // warm-up: workers started, kernels tiered up
  const started = performance.now();
  await run(users, items);
  return (performance.now() - started) / 1000;
}
const recommendSeconds = await time((u) => model.recommendAsync(u, userItems, { n: 10, threads }));
const similarSeconds = await time((_, i) => model.similarItemsAsync(i, { n: 10, threads }));

console.log(JSON.stringify({
  factors, threads, users: users.length, items: items.length,
  recommendUsersPerSecond: users.length / recommendSeconds, similarItemsPerSecond: items.length / similarSeconds,
}));
