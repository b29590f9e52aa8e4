import { defineConfig } from "vitest/config";
import { detectRuntime, expectedRuntime } from "./test/support/runtime.js";

// `npm test` runs this suite on Node, Bun and Deno in turn (scripts test:node, test:bun,
// test:deno). Label each run with the runtime that loaded vitest (on stderr, so that a
// machine-readable reporter's stdout stays clean); test/runtime.test.ts checks the runtime
// the tests themselves execute in.
const runner = detectRuntime();
console.error(`edgerec: vitest on ${runner.name} ${runner.version} (EDGEREC_EXPECT_RUNTIME=${expectedRuntime()})`);

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    // Test files run in child processes made by child_process.fork, which starts
    // process.execPath: the node, bun or deno binary that runs vitest, so the tests execute
    // in that runtime (test/runtime.test.ts proves it on each). This is vitest's default,
    // pinned so that a change of default cannot move the tests elsewhere unnoticed;
    // `threads` (worker_threads) was measured to work on all three runtimes too.
    pool: "forks",
    // `npm run test:detach` swaps in an engine whose views detach at every allocation.
    setupFiles: ["test/support/detach-audit.ts"],
  },
});
