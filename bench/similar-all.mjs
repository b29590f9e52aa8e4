// Similar items for the whole catalogue (each pair scored once for both items) against
// asking item by item, on the bench's cached 64-factor model (run `npm run bench` once
// first): throughput of both and whether their answers agree bit for bit.
//   node bench/similar-all.mjs [--threads 2] [--sample 10000]

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { AlternatingLeastSquares } from "../dist/index.js";

const { values: args } = parseArgs({ options: { threads: { type: "string", default: "2" }, sample: { type: "string", default: "10000" } } });
const threads = Number(args.threads);
const model = AlternatingLeastSquares.load(readFileSync(new URL("./out/als-64f-scale1.edgerec", import.meta.url)));
const every = Int32Array.from({ length: model.nItems }, (_, i) => i);
const sample = Int32Array.from({ length: Number(args.sample) }, (_, j) => Math.floor((j * model.nItems) / Number(args.sample)));
await model.similarItemsAsync(every.subarray(0, 64), { n: 10, threads }); // warm-up

let started = performance.now();
const all = await model.similarItemsAsync(every, { n: 10, threads });
const allSeconds = (performance.now() - started) / 1000;
started = performance.now();
const oneByOne = await model.similarItemsAsync(sample, { n: 10, threads });
const sampleSeconds = (performance.now() - started) / 1000;

let differing = 0;
sample.forEach((item, j) => {
  const a = all.ids[item], b = oneByOne.ids[j];
  if (a.length !== b.length || a.some((id, r) => id !== b[r] || !Object.is(all.scores[item][r], oneByOne.scores[j][r]))) differing++;
});
console.log(`${threads} thread(s): every item ${(model.nItems / allSeconds).toFixed(0)} items/s (${allSeconds.toFixed(1)} s), item by item ${(sample.length / sampleSeconds).toFixed(0)} items/s; rows that differ: ${differing} of ${sample.length}`);
process.exit(0);
