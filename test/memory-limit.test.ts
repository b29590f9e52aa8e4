// Fits that cannot fit in wasm32's 4 GiB are refused up front, before any allocation, with
// a message naming the need, the limit and the ways out; and the estimates behind that are
// never below what a real fit holds at its peak.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { AlternatingLeastSquares, BayesianPersonalizedRanking, CsrMatrix, MatrixFactorization, getEngine } from "../src/index.js";
import { eigenbasisTuning } from "../src/als.js";
import { randomInteractions } from "./reference.js";
import { runCli } from "./support/cli.js";

const tmp = fileURLToPath(new URL(`./.tmp/memory-${process.pid}/`, import.meta.url));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// The most bytes in use at any moment while `run` runs, above what was in use before.
async function peakBytes(run: () => Promise<void>): Promise<number> {
  const heap = getEngine().heap;
  const before = heap.bytesInUse;
  let peak = before;
  const alloc = heap.alloc.bind(heap);
  heap.alloc = (bytes: number) => { const ptr = alloc(bytes); peak = Math.max(peak, heap.bytesInUse); return ptr; };
  try { await run(); } finally { heap.alloc = alloc; }
  return peak - before;
}

const matrix = () => {
  const { rows, cols, values } = randomInteractions(300, 200, 0.05, 3);
  return CsrMatrix.fromCoo({ rows, cols, values, shape: [300, 200] });
};
const shapeOf = (m: CsrMatrix) => ({ nUsers: m.nRows, nItems: m.nCols, nnz: m.nnz });

describe("memory estimates are at least a real fit's peak", () => {
  it.each([
    ["ALS cg, 1 thread", { solver: "cg", threads: 1 }],
    ["ALS cg, 2 threads", { solver: "cg", threads: 2 }],
    ["ALS cholesky", { solver: "cholesky", threads: 1 }],
    ["ALS cg, 2 threads, values copied (lowMemory: false)", { solver: "cg", threads: 2 }, false],
    ["ALS cholesky, values copied (lowMemory: false)", { solver: "cholesky", threads: 1 }, false],
    ["ALS cg, 2 threads, in the Gram matrix's eigenbasis", { solver: "cg", threads: 2 }, true, true],
  ] as const)("%s", async (_, options, lowMemory = true, eigenbasis = false) => {
    const userItems = matrix();
    const model = new AlternatingLeastSquares({ factors: 24, iterations: 2, ...options });
    const tuning = { ...eigenbasisTuning };
    // This matrix is too small for the eigenbasis to pay: force it on, or keep it off.
    Object.assign(eigenbasisTuning, eigenbasis ? { minFactors: 1, decompositionCost: 0 } : { minFactors: Infinity });
    let peak: number, need;
    try {
      peak = await peakBytes(() => model.fit(userItems, { lowMemory }));
      need = AlternatingLeastSquares.memoryNeeded(shapeOf(userItems), model.options, { lowMemory });
      expect(Object.keys(need.parts).some((part) => part.includes("eigenvectors"))).toBe(eigenbasis);
    } finally {
      Object.assign(eigenbasisTuning, tuning);
    }
    console.log(`ALS ${JSON.stringify(options)}: peak ${peak} B, estimate ${need.bytes} B`);
    expect(peak).toBeGreaterThan(0);
    expect(need.bytes).toBeGreaterThanOrEqual(peak);
    model.dispose();
  });

  it("ALS cg, 2 threads, with hot items (more users than the gather block holds)", async () => {
    // 24 factors gather 5,461 rows at once: items 0 and 1, liked by all 6,000 users, are hot.
    const data = randomInteractions(6000, 50, 0.02, 8);
    for (let u = 0; u < 6000; u++) for (const item of [0, 1]) { data.rows.push(u); data.cols.push(item); data.values.push(1 + (u % 7)); }
    const userItems = CsrMatrix.fromCoo(data);
    const model = new AlternatingLeastSquares({ factors: 24, iterations: 2, threads: 2 });
    const peak = await peakBytes(() => model.fit(userItems));
    const need = AlternatingLeastSquares.memoryNeeded(shapeOf(userItems), model.options);
    expect(need.parts["hot items' state"]).toBeGreaterThan(0);
    expect(need.bytes).toBeGreaterThanOrEqual(peak);
    model.dispose();
  });

  it("BPR (sgd and adagrad) and MF", async () => {
    const userItems = matrix();
    for (const optimizer of ["sgd", "adagrad"] as const) {
      const bpr = new BayesianPersonalizedRanking({ factors: 16, iterations: 2, optimizer });
      const peak = await peakBytes(() => bpr.fit(userItems));
      expect(BayesianPersonalizedRanking.memoryNeeded(shapeOf(userItems), bpr.options).bytes).toBeGreaterThanOrEqual(peak);
      bpr.dispose();
    }
    const mf = new MatrixFactorization({ factors: 16, iterations: 2 });
    const peak = await peakBytes(() => mf.fit(userItems, { validation: userItems }));
    expect(MatrixFactorization.memoryNeeded({ ...shapeOf(userItems), validationNnz: userItems.nnz }, mf.options).bytes).toBeGreaterThanOrEqual(peak);
    mf.dispose();
  });
});

describe("absurd fits are refused before anything is allocated", () => {
  it("50M users × 1000 factors: the estimate is ~200 GB", () => {
    const need = AlternatingLeastSquares.memoryNeeded({ nUsers: 50_000_000, nItems: 1000, nnz: 10 }, { factors: 1000, threads: 1 });
    expect(need.bytes).toBeGreaterThan(200e9);
    expect(need.parts["user factors"]).toBe(200e9);
  });

  it("ALS, BPR and MF fits on 50M items × 1000 factors throw the message, the heap untouched", async () => {
    // 10 users × 50M items with 3 interactions: the matrix itself is tiny (its indptr has 11 entries).
    const userItems = CsrMatrix.fromCsr({ indptr: [0, 1, 2, 3, 3, 3, 3, 3, 3, 3, 3], indices: [0, 7, 49_999_999], data: [1, 1, 1], shape: [10, 50_000_000] });
    const heap = getEngine().heap;
    const inUse = heap.bytesInUse, reserved = heap.bytesReserved;
    const models = [
      new AlternatingLeastSquares({ factors: 1000, threads: 1 }),
      new BayesianPersonalizedRanking({ factors: 1000 }),
      new MatrixFactorization({ factors: 1000 }),
    ];
    for (const model of models) {
      const error = await model.fit(userItems).then(() => undefined, (e: Error) => e);
      expect(error).toBeInstanceOf(RangeError);
      expect(error!.message).toMatch(/\.fit: this fit needs about 2\d\d GB of WebAssembly memory \(item factors 200 GB|factor/);
      expect(error!.message).toMatch(/wasm32 can still address \(its limit is 4.29 GB = 4 GiB/);
      expect(error!.message).toMatch(/fewer factors.*kCore.*edgerec import-spark/);
      expect(heap.bytesInUse).toBe(inUse);
      expect(heap.bytesReserved).toBe(reserved);
    }
  });

  it("the CLI shows the message as one clean line", () => {
    mkdirSync(tmp, { recursive: true });
    const file = join(tmp, "tiny.csv");
    writeFileSync(file, "user,item,value\na,x,1\na,y,2\nb,y,1\nc,z,3\n");
    const result = runCli(["fit", file, "-o", join(tmp, "m.edgerec"), "--columns", "user=0,item=1,value=2", "--factors", "1000000000", "--quiet"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^edgerec: AlternatingLeastSquares\.fit: this fit needs about \d+ GB of WebAssembly memory/);
    expect(result.stderr).toMatch(/edgerec import-spark/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
