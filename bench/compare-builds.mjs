// Same-machine A/B of ALS builds: loads each build's dist/ in one process and alternates
// their fits on the same synthetic data, so a noisy machine's drift hits both alike.
// Prints each build's median and fastest seconds per iteration and the SHA-256 (first 12
// hex digits) of its last model's save(): equal digests mean bit-identical models.
//   node bench/compare-builds.mjs --factors 64 --scale 0.3 --threads 1 --rounds 3 <checkoutA> <checkoutB> ...
// (each checkout built with `npm run build`; an older commit: `git worktree add /tmp/old <ref>`.)

import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { generateLastfm360kLike } from "./synthetic.mjs";

const { values: args, positionals: checkouts } = parseArgs({
  allowPositionals: true,
  options: {
    factors: { type: "string", default: "64" },
    scale: { type: "string", default: "0.3" },
    threads: { type: "string", default: "1" },
    rounds: { type: "string", default: "3" },
    iterations: { type: "string", default: "2" },
  },
});
if (checkouts.length === 0) throw new Error("give one or more checkouts to compare (directories holding a built dist/)");

const data = generateLastfm360kLike({ seed: 42, scale: Number(args.scale) });
const builds = [];
for (const dir of checkouts) {
  const lib = await import(new URL(`file://${dir.replace(/\/$/, "")}/dist/index.js`).href);
  builds.push({ dir, lib, userItems: lib.CsrMatrix.fromCoo(data), seconds: [], digest: "" });
}
for (let round = 0; round < Number(args.rounds); round++) {
  for (const build of builds) {
    const model = new build.lib.AlternatingLeastSquares({ factors: Number(args.factors), iterations: Number(args.iterations), threads: Number(args.threads), seed: 1 });
    await model.fit(build.userItems, { onIteration: (info) => build.seconds.push(info.seconds) });
    build.digest = createHash("sha256").update(model.save()).digest("hex").slice(0, 12);
    model.dispose();
  }
}
for (const { dir, seconds, digest } of builds) {
  const sorted = [...seconds].sort((a, b) => a - b);
  console.log(`${dir}: median ${sorted[sorted.length >> 1].toFixed(2)} s, fastest ${sorted[0].toFixed(2)} s per iteration; model ${digest}`);
}
process.exit(0);
