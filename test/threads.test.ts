import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { AlternatingLeastSquares, CsrMatrix, getEngine } from "../src/index.js";
import { WorkerPool } from "../src/pool.js";
import { randomInteractions, seededRandom } from "./reference.js";
import { gramOf, gramOnPool } from "../src/gram.js";
import { detachAudit } from "./support/detach-audit.js";

const digest = async (bytes: Uint8Array) => Buffer.from(await crypto.subtle.digest("SHA-256", bytes)).toString("hex");

describe("threads", () => {
  // The detach audit runs on an unshared memory, where fits fall back to one thread.
  it.skipIf(detachAudit)("runs on shared memory here", () => {
    expect(getEngine().shared).toBe(true);
  });

  it.each(["cg", "cholesky"] as const)("ALS (%s) gives bit-identical models on 1, 2 and 4 threads", async (solver) => {
    // 20,000 users: YᵀY over the users runs in several segments, shared by the workers.
    const userItems = CsrMatrix.fromCoo(randomInteractions(20_000, 700, 0.004, 77));
    expect(getEngine().kernels.gramSegments(userItems.nRows)).toBeGreaterThan(1);
    const hashes = [];
    for (const threads of [1, 2, 4]) {
      const model = new AlternatingLeastSquares({ factors: 12, iterations: 3, solver, threads, seed: 9, regularization: 0.05 });
      await model.fit(userItems);
      hashes.push(await digest(model.save()));
    }
    expect(hashes[1]).toBe(hashes[0]);
    expect(hashes[2]).toBe(hashes[0]);
  }, 60_000);

  it.skipIf(detachAudit)("YᵀY over many segments is the same bits on the pool as on one thread, and the float64 sum within rounding", async () => {
    const { heap, kernels } = getEngine();
    const nRows = 25_810, k = 21; // tiles with edges
    expect(kernels.gramSegments(nRows)).toBeGreaterThanOrEqual(3);
    const random = seededRandom(31);
    const values = Float32Array.from({ length: nRows * k }, () => random() - 0.5);
    const y = heap.alloc(values.length * 4), one = heap.alloc(k * k * 4), pooled = heap.alloc(k * k * 4);
    heap.f32(y, values.length).set(values);
    gramOf(getEngine(), y, nRows, k, 0.5, one);
    for (const size of [2, 4]) {
      const pool = await WorkerPool.create(getEngine(), size);
      await gramOnPool(pool, y, nRows, k, 0.5, pooled);
      pool.terminate();
      expect(heap.f32(pooled, k * k).slice()).toEqual(heap.f32(one, k * k).slice());
    }
    const result = heap.f32(one, k * k);
    for (const [i, j] of [[0, 0], [0, 20], [7, 13], [20, 20], [13, 7]]) {
      let exact = 0;
      for (let r = 0; r < nRows; r++) exact += values[r * k + i] * values[r * k + j];
      expect(Math.abs(result[i * k + j] - 0.5 * exact)).toBeLessThan(1e-3);
    }
    for (const p of [y, one, pooled]) heap.release(p);
  }, 60_000);

  it.skipIf(detachAudit)("surfaces a worker's error as an error, and terminates", async () => {
    const pool = await WorkerPool.create(getEngine(), 2);
    // List 1 always runs on a worker (list 0 runs on the calling thread outside browsers).
    await expect(pool.run([[], [{ kernel: "noSuchKernel", args: [] }]])).rejects.toThrow(/edgerec worker: no kernel 'noSuchKernel'/);
    expect(await pool.run([[{ kernel: "log1p", args: [0] }], [{ kernel: "pow", args: [2, 10] }]])).toEqual([[0], [1024]]);
    pool.terminate();
    await expect(pool.run([[{ kernel: "log1p", args: [0] }]])).rejects.toThrow(/1 task lists for 0 threads/);
  }, 30_000);

  it.skipIf(detachAudit)("on Node, Bun and Deno runs list 0 on the calling thread, one worker fewer, and waits for the workers when it fails", async () => {
    const pool = await WorkerPool.create(getEngine(), 3);
    expect(pool.size).toBe(3);
    expect(pool.workers).toBe(2);
    // A trap on the calling thread's list surfaces only once the workers' lists are done.
    const done: number[] = [];
    const failed = pool.run([[{ kernel: "noSuchKernel", args: [] }], [{ kernel: "pow", args: [2, 3] }], [{ kernel: "pow", args: [3, 2] }]], (thread) => done.push(thread));
    await expect(failed).rejects.toThrow(/no kernel 'noSuchKernel'/);
    expect(done.sort()).toEqual([1, 2]);
    const order: string[] = [];
    const results = await pool.run([[{ kernel: "pow", args: [2, 1] }, { kernel: "pow", args: [2, 2] }], [{ kernel: "pow", args: [5, 1] }, { kernel: "pow", args: [5, 2] }]],
      (thread, index) => order.push(`${thread}:${index}`));
    expect(results).toEqual([[2, 4], [5, 25]]);
    expect(order.filter((o) => o.startsWith("0:"))).toEqual(["0:0", "0:1"]);
    expect(order.filter((o) => o.startsWith("1:"))).toEqual(["1:0", "1:1"]);
    // A worker that fails while the calling thread still works: its error, once both are done.
    const busy = Array.from({ length: 200 }, () => ({ kernel: "pow", args: [1.0001, 3] as [number, number] }));
    const mine = pool.run([busy, [{ kernel: "noSuchKernel", args: [] }], []]);
    await expect(mine).rejects.toThrow(/edgerec worker: no kernel 'noSuchKernel'/);
    expect(await pool.run([[{ kernel: "pow", args: [2, 5] }], [], [{ kernel: "pow", args: [3, 3] }]])).toEqual([[32], [], [27]]);
    pool.terminate();
  }, 30_000);

  it.skipIf(detachAudit)("runShared runs every call exactly once, each thread with its own arguments, results in call order; a failure stops the rest and surfaces", async () => {
    const { heap } = getEngine();
    const pool = await WorkerPool.create(getEngine(), 3);
    const n = 300;
    const threadsSeen = new Set<number>();
    const results = await pool.runShared(3, (thread) => {
      threadsSeen.add(thread);
      return Array.from({ length: n }, (_, i) => ({ kernel: "pow", args: [2, i % 20] }));
    });
    expect([...threadsSeen].sort()).toEqual([0, 1, 2]);
    expect(results).toEqual(Array.from({ length: n }, (_, i) => 2 ** (i % 20)));
    // Each call ran once, with the arguments of the thread that took it: thread t's call i
    // adds 1·1 to cell t·n + i of its own region (accumulateRows over one row of one float).
    // Over the three regions every i is counted exactly once.
    const counts = heap.alloc(3 * n * 4), one = heap.alloc(4);
    heap.f32(counts, 3 * n).fill(0);
    heap.f32(one, 1)[0] = 1;
    await pool.runShared(3, (thread) => Array.from({ length: n }, (_, i) => ({ kernel: "accumulateRows", args: [one, one, 1, counts + (thread * n + i) * 4, 1] })));
    const cells = heap.f32(counts, 3 * n);
    expect(Array.from({ length: n }, (_, i) => cells[i] + cells[n + i] + cells[2 * n + i])).toEqual(Array.from({ length: n }, () => 1));
    expect(cells.every((c) => c === 0 || c === 1)).toBe(true);
    // Fewer threads than the pool has, and more than it has.
    expect(await pool.runShared(1, () => [{ kernel: "pow", args: [3, 2] }])).toEqual([9]);
    await expect(pool.runShared(4, () => [])).rejects.toThrow(/shared calls for 4 threads on a pool of 3/);
    // A failing call, on a worker or on the calling thread, rejects once every thread stopped.
    const failing = (i: number) => (i === 150 ? { kernel: "noSuchKernel", args: [] } : { kernel: "pow", args: [1.0001, 3] });
    await expect(pool.runShared(3, () => Array.from({ length: n }, (_, i) => failing(i)))).rejects.toThrow(/no kernel 'noSuchKernel'/);
    expect(await pool.runShared(3, () => [{ kernel: "pow", args: [2, 3] }, { kernel: "pow", args: [3, 3] }])).toEqual([8, 27]);
    heap.release(counts);
    heap.release(one);
    pool.terminate();
  }, 30_000);

  it("leaves no process hanging after a threaded fit", () => {
    const script = `import { AlternatingLeastSquares, CsrMatrix } from ${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)};
      const m = CsrMatrix.fromCoo({ rows: [0, 0, 1, 2, 2], cols: [0, 1, 1, 0, 2], shape: [3, 3] });
      const model = new AlternatingLeastSquares({ factors: 2, iterations: 2, threads: 2 });
      await model.fit(m);
      console.log("fitted");`;
    // Inside the project (test/.tmp, git-ignored), so Deno resolves packages from its package.json.
    const dir = fileURLToPath(new URL("./.tmp/", import.meta.url));
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `threaded-fit-${process.pid}.mjs`);
    writeFileSync(file, script);
    const args = "Deno" in globalThis ? ["run", "-A", file] : [file];
    const result = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 30_000, cwd: fileURLToPath(new URL("..", import.meta.url)) });
    expect(result.error, "the process did not exit by itself").toBeUndefined();
    expect(result.stdout.trim()).toBe("fitted");
    expect(result.status).toBe(0);
  }, 40_000);
});
