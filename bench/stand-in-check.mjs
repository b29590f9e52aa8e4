// Checks that the C stand-ins for implicit (bench/implicit-cg.c, bench/implicit-topk.c) do
// the job edgerec does, on the bench's data at a small scale: the stand-in's ALS reaches the
// training loss edgerec's does after the same iterations (implicit's loss formula; the two
// start from different random factors, so within 1%), and its recommend and similar items
// give the same best item for every query (a sum of the top-1 ids; ties aside, equal); its
// BPR skips as many samples as implicit's sampling implies (a negative drawn as the item of a
// random interaction is skipped when the user liked it: exactly computable from the matrix).
//   node bench/stand-in-check.mjs [--scale 0.1]

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { AlternatingLeastSquares, CsrMatrix, bm25Weight } from "../dist/index.js";
import { runScript } from "./stand-in.mjs";
import { generateLastfm360kLike } from "./synthetic.mjs";

const { values: args } = parseArgs({ options: { scale: { type: "string", default: "0.1" } } });
const script = (name, extra) => runScript(name, ["--scale", args.scale, ...extra]);
let failed = false;
const report = (what, ok, detail) => { failed ||= !ok; console.log(`${ok ? "ok  " : "FAIL"} ${what}: ${detail}`); };

const userItems = CsrMatrix.fromCoo(generateLastfm360kLike({ seed: 42, scale: Number(args.scale) }));
const weighted = bm25Weight(userItems.transpose(), { K1: 100, B: 0.8, inPlace: true }).transpose();
for (const iterations of [1, 3]) {
  const model = new AlternatingLeastSquares({ factors: 64, iterations, regularization: 0.01, seed: 1, threads: 1, calculateTrainingLoss: true });
  let ours = NaN;
  await model.fit(weighted, { onIteration: (info) => { ours = info.loss; } });
  model.dispose();
  const stand = script("implicit-cg.mjs", ["--factors", "64", "--iterations", String(iterations), "--threads", "2"]);
  if (stand.unavailable) { console.log(`skipped: ${stand.unavailable}`); process.exit(0); }
  const gap = Math.abs(stand.loss - ours) / ours;
  report(`ALS training loss after ${iterations} iteration(s)`, gap < 0.01, `edgerec ${ours.toPrecision(5)}, stand-in ${stand.loss.toPrecision(5)} (${(100 * gap).toFixed(2)}% apart)`);
}

// The model bench/recommend.mjs queries (it fits and caches it on first use).
const users = 2000;
const stand = script("implicit-topk.mjs", ["--threads", "2", "--users", String(users)]);
const model = AlternatingLeastSquares.load(readFileSync(new URL(`./out/als-64f-scale${args.scale}.edgerec`, import.meta.url)));
const sample = Int32Array.from({ length: Math.min(users, model.nUsers) }, (_, j) => Math.floor((j * model.nUsers) / Math.min(users, model.nUsers)));
const recommended = await model.recommendAsync(sample, userItems, { n: 10, threads: 2 });
const similar = await model.similarItemsAsync(Int32Array.from({ length: model.nItems }, (_, i) => i), { n: 10, threads: 2 });
let checksum = 0;
for (const ids of recommended.ids) checksum += ids[0];
for (const ids of similar.ids) checksum += ids[0];
report("recommend and similar items, best item of every query", checksum === stand.checksum, `sums of top-1 ids: edgerec ${checksum}, stand-in ${stand.checksum}`);
// P(skip) = Σ_entries (Σ_{j in the entry's user's row} users of j) / nnz²
const bpr = script("implicit-bpr.mjs", ["--threads", "2", "--epochs", "1"]);
const { indptr, indices } = userItems;
const usersOf = new Float64Array(userItems.nCols);
for (const item of indices) usersOf[item]++;
let expected = 0;
for (let u = 0; u < userItems.nRows; u++) {
  let liked = 0;
  for (let e = indptr[u]; e < indptr[u + 1]; e++) liked += usersOf[indices[e]];
  expected += (indptr[u + 1] - indptr[u]) * liked;
}
expected /= userItems.nnz * userItems.nnz;
const observed = bpr.skipped / userItems.nnz;
report("BPR's skipped samples (negatives the user liked)", Math.abs(observed - expected) < 0.03 * expected, `${(100 * observed).toFixed(3)}% of samples, implicit's sampling implies ${(100 * expected).toFixed(3)}%`);
process.exit(failed ? 1 : 0);
