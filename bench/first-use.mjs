// The data steps a fresh process runs once before training (fromCoo, transpose, the compact
// items × users copy fit() builds, bm25), timed on their first, second and third calls on
// the synthetic Last.fm-360K-shaped data: the first call of a wasm kernel can run in V8's
// baseline tier, so a one-shot step pays for it unless the host calls the kernel a range
// at a time. Prints one line per round. With --model (a saved model, e.g. the one
// `npm run bench` caches), also the load itself (the file read, then load()) and a fresh
// load's first similarItems, which builds the 16-bit copy of the item factors every later
// query reuses, and its second.
//   node bench/first-use.mjs [--scale 1] [--model bench/out/als-64f-scale1.edgerec]

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { AlternatingLeastSquares, CsrMatrix, bm25Weight } from "../dist/index.js";
import { CompactColumns } from "../dist/compact-columns.js";
import { generateLastfm360kLike } from "./synthetic.mjs";

const { values: args } = parseArgs({ options: { scale: { type: "string", default: "1" }, model: { type: "string" } } });
const timed = (run) => { const started = performance.now(); const result = run(); return [result, performance.now() - started]; };
if (args.model) {
  const bytes = readFileSync(args.model);
  const [model, loadMs] = timed(() => AlternatingLeastSquares.load(bytes));
  console.log(`AlternatingLeastSquares.load of ${(bytes.length / 1e6).toFixed(0)} MB: ${loadMs.toFixed(0)} ms`);
  const [, firstMs] = timed(() => model.similarItems(0, { n: 10 }));
  const [, secondMs] = timed(() => model.similarItems(1, { n: 10 }));
  console.log(`similarItems on a loaded model (${model.nItems} items): first ${firstMs.toFixed(0)} ms, second ${secondMs.toFixed(1)} ms`);
  model.dispose();
}
const data = generateLastfm360kLike({ seed: 42, scale: Number(args.scale) });
for (let round = 1; round <= 3; round++) {
  const [userItems, fromCooMs] = timed(() => CsrMatrix.fromCoo(data));
  const [itemUsers, transposeMs] = timed(() => userItems.transpose());
  const [compact, compactMs] = timed(() => CompactColumns.transposeOf(userItems));
  const [, bm25Ms] = timed(() => bm25Weight(itemUsers, { K1: 100, B: 0.8, inPlace: true }));
  console.log(`call ${round}: fromCoo ${fromCooMs.toFixed(0)} ms, transpose ${transposeMs.toFixed(0)} ms, compact copy ${compactMs.toFixed(0)} ms, bm25 ${bm25Ms.toFixed(0)} ms`);
  compact.dispose(); itemUsers.dispose(); userItems.dispose();
}
