// Up-front memory checks for fits. A fit lays out every array it needs in wasm linear
// memory, which wasm32 caps at 4 GiB; finding that out halfway (after minutes of work,
// or as a bare "could not grow memory") helps nobody. Each model adds up the blocks its
// fit() allocates (see als.ts, bpr.ts, mf.ts) and refuses at once, before allocating
// anything, when they cannot fit beside what the heap already holds.

import type { Engine } from "./engine.js";
import { ALIGN, MAX_MEMORY_BYTES } from "./heap.js";

/** The shape of a training matrix: users × items with nnz stored interactions. */
export interface FitShape {
  nUsers: number;
  nItems: number;
  nnz: number;
}

/** What a fit will hold in wasm memory at its peak, in bytes, by what it is for. */
export interface MemoryEstimate {
  /** The total: the sum of the parts. */
  bytes: number;
  /** Named parts (e.g. "factors", "transposed matrix"), in bytes. */
  parts: Record<string, number>;
}

/** Bytes the heap hands out for a block of `bytes` (the allocator's rounding included). */
export function blockBytes(bytes: number): number {
  return Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN; // the heap's granule: every block is rounded up to it
}

/** An estimate from named parts. */
export function estimate(parts: Record<string, number>): MemoryEstimate {
  let bytes = 0;
  for (const value of Object.values(parts)) bytes += value;
  return { bytes, parts };
}

/**
 * Throws a RangeError, naming the need, the limit and the ways out, when `need` cannot
 * fit in the wasm32 address space beside the blocks the heap already holds. Call it
 * before the fit allocates anything.
 */
export function ensureMemoryFor(engine: Engine, what: string, need: MemoryEstimate): void {
  const inUse = engine.heap.bytesInUse;
  const available = engine.heap.bytesAvailable;
  if (need.bytes <= available) return;
  const largest = Object.entries(need.parts).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([name, bytes]) => `${name} ${gb(bytes)}`).join(", ");
  throw new RangeError(
    `${what}: this fit needs about ${gb(need.bytes)} of WebAssembly memory (${largest}), more than the ${gb(available)} ` +
    `wasm32 can still address (its limit is ${gb(MAX_MEMORY_BYTES)} = 4 GiB${inUse ? `, ${gb(inUse)} already in use` : ""}). ` +
    "Ways out: use fewer factors; filter rare users and items (kCore, `--k-core 5`); or train on Spark MLlib and import the model with `edgerec import-spark`.",
  );
}

/** Bytes in GB (10⁹), the unit people size machines and datasets in (MB below 10 MB). */
export function gb(bytes: number): string {
  const value = bytes / 1e9;
  if (value < 0.01) return `${(bytes / 1e6).toPrecision(2)} MB`;
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(2)} GB`;
}
