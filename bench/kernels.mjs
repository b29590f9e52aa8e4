// The dense kernels under ALS's CG (assembly/vector.ts) on data in L1, for one or more
// builds in one process, alternating between them: best of 8 rounds per kernel.
//   node bench/kernels.mjs <checkout> [<checkout> ...]   (each built with `npm run build`)

import { importCheckout } from "./checkouts.mjs";

const checkouts = process.argv.slice(2);
if (checkouts.length === 0) checkouts.push(new URL("..", import.meta.url).pathname);
const engines = [];
for (const dir of checkouts) engines.push((await importCheckout(dir)).getEngine());
const ROWS = 50, REPS = 50000;

for (const k of [64, 128]) {
  const setups = engines.map(({ heap, kernels }) => {
    const g = heap.alloc(k * k * 4), v = heap.alloc(k * 4), out = heap.alloc(k * 4), rows = heap.alloc(ROWS * k * 4), coefficients = heap.alloc(ROWS * 4);
    heap.f32(g, k * k).forEach((_, i, a) => { a[i] = Math.sin(i); });
    heap.f32(v, k).forEach((_, i, a) => { a[i] = Math.cos(i); });
    heap.f32(rows, ROWS * k).forEach((_, i, a) => { a[i] = Math.cos(i * 0.3); });
    heap.f32(coefficients, ROWS).fill(0.001);
    return { kernels, g, v, out, rows, coefficients, best: { matVec: Infinity, dotRows: Infinity, dotRowsTail: Infinity, accumulateRows: Infinity } };
  });
  const time = (s, name, run) => {
    const started = performance.now();
    for (let r = 0; r < REPS; r++) run();
    s.best[name] = Math.min(s.best[name], ((performance.now() - started) / REPS) * 1e6);
  };
  for (let round = 0; round < 8; round++) {
    for (const s of setups) {
      time(s, "matVec", () => s.kernels.symmetricMatVec(s.g, s.v, 0.1, s.out, k));
      time(s, "dotRows", () => s.kernels.dotRows(s.rows, ROWS, s.v, k, s.coefficients));
      time(s, "dotRowsTail", () => s.kernels.dotRows(s.rows, 3, s.v, k, s.coefficients));
      time(s, "accumulateRows", () => s.kernels.accumulateRows(s.coefficients, s.rows, ROWS, s.out, k));
    }
  }
  setups.forEach((s, j) => console.log(`k=${k} ${checkouts[j]}: symmetricMatVec ${s.best.matVec.toFixed(0)} ns, dotRows(${ROWS}) ${s.best.dotRows.toFixed(0)} ns, dotRows(3) ${s.best.dotRowsTail.toFixed(0)} ns, accumulateRows(${ROWS}) ${s.best.accumulateRows.toFixed(0)} ns`));
}
process.exit(0);
