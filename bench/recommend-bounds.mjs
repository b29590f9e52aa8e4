// Analysis, not a benchmark: how much of the catalogue a cheaper bound would let recommend
// skip on the bench's cached 64-factor model (run `npm run bench` once first). For sample
// users, θ = the 10th best q·t; a target must be scored when its bound reaches θ. Bounds:
// the norm bound ‖q‖‖t‖ (what topKQuantized prunes with), and q_h·t_h + ‖q_tail‖‖t_tail‖
// with the factors rotated onto the principal axes of YᵀY and the first h axes exact. Also
// the share of the first pass's 4 × 2 tiles (norm order) such a bound would still leave:
// a pass over h of k axes first, the rest only for those tiles, costs h/k + (share)·(k−h)/k
// of today's first pass (θ here is the final 10th best, so the shares are a best case).
//   node bench/recommend-bounds.mjs [--users 60]

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { AlternatingLeastSquares } from "../dist/index.js";

const { values: args } = parseArgs({ options: { users: { type: "string", default: "60" } } });
const model = AlternatingLeastSquares.load(readFileSync(new URL("./out/als-64f-scale1.edgerec", import.meta.url)));
const k = model.factors, nItems = model.nItems, Y = model.itemFactors, X = model.userFactors;

// Principal axes of YᵀY by Jacobi rotations (float64).
const G = Array.from({ length: k }, () => new Float64Array(k));
for (let i = 0; i < nItems; i++) for (let a = 0; a < k; a++) { const ya = Y[i * k + a]; for (let b = 0; b < k; b++) G[a][b] += ya * Y[i * k + b]; }
const V = Array.from({ length: k }, (_, i) => { const row = new Float64Array(k); row[i] = 1; return row; });
for (let sweep = 0; sweep < 30; sweep++) {
  let off = 0;
  for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) {
    off += G[p][q] ** 2;
    if (Math.abs(G[p][q]) < 1e-14) continue;
    const theta = (G[q][q] - G[p][p]) / (2 * G[p][q]);
    const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1)), c = 1 / Math.sqrt(t * t + 1), s = t * c;
    for (let r = 0; r < k; r++) { const gp = G[r][p], gq = G[r][q]; G[r][p] = c * gp - s * gq; G[r][q] = s * gp + c * gq; }
    for (let r = 0; r < k; r++) { const gp = G[p][r], gq = G[q][r]; G[p][r] = c * gp - s * gq; G[q][r] = s * gp + c * gq; }
    for (let r = 0; r < k; r++) { const vp = V[r][p], vq = V[r][q]; V[r][p] = c * vp - s * vq; V[r][q] = s * vp + c * vq; }
  }
  if (off < 1e-20) break;
}
const axes = [...Array(k).keys()].sort((a, b) => G[b][b] - G[a][a]);
const energy = axes.map((a) => G[a][a]), totalEnergy = energy.reduce((x, y) => x + y, 0);
console.log(`items' energy on the first 1 / 4 / 16 axes: ${[1, 4, 16].map((h) => (energy.slice(0, h).reduce((x, y) => x + y, 0) / totalEnergy).toFixed(3)).join(" / ")}`);
const rotate = (m, row) => { const out = new Float64Array(k); for (let j = 0; j < k; j++) { let s = 0; for (let d = 0; d < k; d++) s += m[row * k + d] * V[d][axes[j]]; out[j] = s; } return out; };
const R = new Float64Array(nItems * k);
for (let i = 0; i < nItems; i++) R.set(rotate(Y, i), i * k);
const heads = [1, 4, 8, 16];
const tails = heads.map((h) => Float64Array.from({ length: nItems }, (_, i) => { let s = 0; for (let d = h; d < k; d++) s += R[i * k + d] ** 2; return Math.sqrt(s); }));
const norms = Float64Array.from({ length: nItems }, (_, i) => Math.hypot(...R.subarray(i * k, (i + 1) * k)));
const normOrder = Int32Array.from({ length: nItems }, (_, i) => i).sort((a, b) => norms[b] - norms[a]);

const nUsers = Number(args.users) - (Number(args.users) % 4);
const passed = { norm: 0, ...Object.fromEntries(heads.map((h) => [h, 0])) };
let tilesNorm = 0;
const tilesLeft = heads.map(() => 0);
for (let g = 0; g < nUsers / 4; g++) {
  const group = [0, 1, 2, 3].map((j) => {
    const q = rotate(X, (((g * 4 + j) * 5981) % model.nUsers));
    const scores = new Float64Array(nItems);
    for (let t = 0; t < nItems; t++) { let s = 0; for (let d = 0; d < k; d++) s += q[d] * R[t * k + d]; scores[t] = s; }
    const theta = Float64Array.from(scores).sort().reverse()[9], qNorm = Math.hypot(...q);
    const qTails = heads.map((h) => Math.hypot(...q.subarray(h)));
    for (let t = 0; t < nItems; t++) {
      if (qNorm * norms[t] >= theta) passed.norm++;
      heads.forEach((h, hi) => { let s = 0; for (let d = 0; d < h; d++) s += q[d] * R[t * k + d]; if (s + qTails[hi] * tails[hi][t] >= theta) passed[h]++; });
    }
    return { q, theta, qNorm, qTails };
  });
  for (let c = 0; c < nItems; c += 2) {
    const pair = [normOrder[c], normOrder[Math.min(c + 1, nItems - 1)]];
    const active = group.filter((u) => u.qNorm * norms[pair[0]] >= u.theta);
    if (active.length === 0) break;
    tilesNorm++;
    heads.forEach((h, hi) => {
      const admits = (u, t) => { let s = 0; for (let d = 0; d < h; d++) s += u.q[d] * R[t * k + d]; return s + u.qTails[hi] * tails[hi][t] >= u.theta; };
      if (active.some((u) => pair.some((t) => admits(u, t)))) tilesLeft[hi]++;
    });
  }
}
const share = (count) => `${((100 * count) / (nUsers * nItems)).toFixed(1)}%`;
console.log(`${nUsers} users: targets to score with the norm bound ${share(passed.norm)}; with ${heads.map((h) => `${h} exact axes ${share(passed[h])}`).join(", ")}`);
console.log(`first-pass tiles (4 users × 2 items, norm order): ${tilesNorm}; an h-axis bound in front would leave ${heads.map((h, hi) => `${h}: ${((100 * tilesLeft[hi]) / tilesNorm).toFixed(1)}%`).join(", ")}`);
process.exit(0);
