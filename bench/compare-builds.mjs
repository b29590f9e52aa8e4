// Same-machine A/B of builds: loads each build's dist/ in one process and alternates their
// runs, so a noisy machine's drift hits both alike.
// --job als (default): fits on the same synthetic data; prints each build's median and
// fastest seconds per iteration and the SHA-256 (first 12 hex digits) of its last model's
// save(): equal digests mean bit-identical models.
// --job bpr: BPR fits (64 factors unless --factors, verify negatives) alternating the same way;
// --iterations epochs each; prints seconds per epoch and the model digest.
// --job recommend | similar: top-10 for --queries users (filter off) or items (one by one,
// not all at once) on the bench's cached 64-factor model (run `npm run bench` once), the
// first --items of its items only (all when 0); prints each build's median and fastest
// queries per second and a digest of its answers.
//   node bench/compare-builds.mjs --factors 64 --scale 0.3 --threads 1 --rounds 3 <checkoutA> <checkoutB> ...
//   node bench/compare-builds.mjs --job similar --items 100000 --queries 3000 --rounds 5 <checkoutA> <checkoutB>
// A checkout written DIR:values fits with fit({ lowMemory: false }) and DIR:lowMemory with
// fit({ lowMemory: true }) (the default since 2026-12-07; older builds default to false), so
// one build's two layouts can be compared: node bench/compare-builds.mjs --scale 1 --threads 2 . .:values
// (each checkout built with `npm run build`; an older commit: `git worktree add /tmp/old <ref>`.)

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { importCheckout } from "./checkouts.mjs";
import { generateLastfm360kLike } from "./synthetic.mjs";

const { values: args, positionals: checkouts } = parseArgs({
  allowPositionals: true,
  options: {
    factors: { type: "string", default: "64" },
    scale: { type: "string", default: "0.3" },
    threads: { type: "string", default: "1" },
    rounds: { type: "string", default: "3" },
    iterations: { type: "string", default: "2" },
    job: { type: "string", default: "als" },
    items: { type: "string", default: "0" },
    queries: { type: "string", default: "3000" },
  },
});
if (checkouts.length === 0) throw new Error("give one or more checkouts to compare (directories holding a built dist/)");
const libraries = [];
for (const name of checkouts) {
  const [dir, variant] = name.split(":");
  if (variant !== undefined && variant !== "lowMemory" && variant !== "values") throw new Error(`${name}: the variants are DIR:lowMemory and DIR:values`);
  libraries.push({ dir: name, lib: await importCheckout(dir), fitOptions: variant === undefined ? {} : { lowMemory: variant === "lowMemory" } });
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];

if (args.job === "recommend" || args.job === "similar") {
  const saved = readFileSync(new URL("./out/als-64f-scale1.edgerec", import.meta.url));
  const builds = libraries.map(({ dir, lib }) => {
    let model = lib.AlternatingLeastSquares.load(saved);
    const nItems = Number(args.items) || model.nItems;
    if (nItems < model.nItems) {
      const k = model.factors, subset = lib.AlternatingLeastSquares.fromFactors(model.userFactors, model.itemFactors.slice(0, nItems * k), { factors: k });
      model.dispose();
      model = subset;
    }
    return { dir, model, perSecond: [], digest: "" };
  });
  const side = args.job === "recommend" ? builds[0].model.nUsers : builds[0].model.nItems;
  const queries = Int32Array.from({ length: Math.min(Number(args.queries), side) }, (_, j) => Math.floor((j * side) / Math.min(Number(args.queries), side)));
  const threads = Number(args.threads);
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const build of builds) {
      const started = performance.now();
      const result = args.job === "recommend"
        ? await build.model.recommendAsync(queries, undefined, { n: 10, filterAlreadyLikedItems: false, threads })
        : await build.model.similarItemsAsync(queries, { n: 10, threads });
      build.perSecond.push(queries.length / ((performance.now() - started) / 1000));
      const hash = createHash("sha256");
      result.ids.forEach((ids, q) => { hash.update(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength)); hash.update(new Uint8Array(result.scores[q].buffer, result.scores[q].byteOffset, result.scores[q].byteLength)); });
      build.digest = hash.digest("hex").slice(0, 12);
    }
  }
  for (const { dir, perSecond, digest } of builds) {
    console.log(`${dir}: ${args.job} median ${median(perSecond).toFixed(0)}, fastest ${Math.max(...perSecond).toFixed(0)} queries/s; answers ${digest}`);
  }
  process.exit(0);
}

const data = generateLastfm360kLike({ seed: 42, scale: Number(args.scale) });
const builds = libraries.map(({ dir, lib, fitOptions }) => ({ dir, lib, fitOptions, userItems: lib.CsrMatrix.fromCoo(data), seconds: [], digest: "" }));
const bpr = args.job === "bpr";
for (let round = 0; round < Number(args.rounds); round++) {
  for (const build of builds) {
    const options = { factors: Number(args.factors), iterations: Number(args.iterations), threads: Number(args.threads), seed: 1 };
    const model = bpr ? new build.lib.BayesianPersonalizedRanking(options) : new build.lib.AlternatingLeastSquares(options);
    const record = (info) => build.seconds.push(info.seconds);
    await model.fit(build.userItems, bpr ? { onEpoch: record } : { ...build.fitOptions, onIteration: record });
    build.digest = createHash("sha256").update(model.save()).digest("hex").slice(0, 12);
    model.dispose();
  }
}
for (const { dir, seconds, digest } of builds) {
  const sorted = [...seconds].sort((a, b) => a - b);
  console.log(`${dir}: median ${sorted[sorted.length >> 1].toFixed(2)} s, fastest ${sorted[0].toFixed(2)} s per ${bpr ? "epoch" : "iteration"}; model ${digest}`);
  // In run order, so a drift of the machine shows as a pattern shared by every build.
  console.log(`  each: ${seconds.map((s) => s.toFixed(2)).join(" ")}`);
}
process.exit(0);
