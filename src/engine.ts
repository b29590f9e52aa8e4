// Loads the one edgerec WebAssembly module and owns its memory. Every runtime goes
// through the same path: locate edgerec.wasm beside the package (import.meta.url),
// read it from disk where there is a disk (Node, Bun, Deno), fetch it elsewhere
// (browsers), and instantiate it with @assemblyscript/loader over a memory we create.

import { instantiate, instantiateSync } from "@assemblyscript/loader";
import { WasmHeap } from "./heap.js";

type Ptr = number;

/** The module's raw exports (see assembly/). Pointers are byte offsets into memory. */
/** assembly/topk.ts topKBlocked's parameters, in order. */
export type TopKBlockedArgs = [
  queries: Ptr, queryIds: Ptr, nQueries: number, targets: Ptr, k: number, order: Ptr, nOrder: number, targetInvNorms: Ptr,
  mask: Ptr, excludeIndptr: Ptr, excludeIndices: Ptr, excludeByPosition: boolean, n: number, outIds: Ptr, outScores: Ptr, state: Ptr,
];

/** assembly/topk-quantized.ts topKQuantized's parameters, in order. */
export type TopKQuantizedArgs = [
  queries: Ptr, queryIds: Ptr, nQueries: number, targets: Ptr, k: number, kq: number, nTargets: number,
  quantized: Ptr, ids: Ptr, scales: Ptr, residuals: Ptr, norms: Ptr, invNorms: Ptr, axis: Ptr, axial: Ptr, cosine: boolean,
  mask: Ptr, excludeIndptr: Ptr, excludeIndices: Ptr, excludeByPosition: boolean, n: number, outIds: Ptr, outScores: Ptr, state: Ptr, queryQuantized: Ptr,
];

export interface Kernels {
  heapBase(): Ptr;
  cooFirstInvalid(rows: Ptr, cols: Ptr, values: Ptr, nnz: number, nRows: number, nCols: number): number;
  isNonDecreasing(values: Ptr, n: number): number;
  addRowCounts(rowIds: Ptr, n: number, indptr: Ptr): void;
  countsToIndptr(indptr: Ptr, nRows: number): void;
  scatterRows(rowIds: Ptr, colIds: Ptr, values: Ptr, n: number, cursor: Ptr, outIndices: Ptr, outData: Ptr): void;
  sortRowsSumDuplicates(indptr: Ptr, indices: Ptr, data: Ptr, nRows: number): number;
  compactColumnsCount(indptr: Ptr, indices: Ptr, rowStart: number, rowEnd: number, outIndptr: Ptr, outOffsets: Ptr, last: Ptr): void;
  compactColumnsSizes(nCols: number, outIndptr: Ptr, outOffsets: Ptr): number;
  compactColumnsFill(indptr: Ptr, indices: Ptr, data: Ptr, rowStart: number, rowEnd: number, nCols: number, stream: Ptr, columnData: Ptr, placeShift: number, cursors: Ptr, last: Ptr): void;
  compactColumnsDecode(columnIndptr: Ptr, offsets: Ptr, stream: Ptr, start: number, end: number, outIndices: Ptr): void;
  transposeRows(indptr: Ptr, indices: Ptr, data: Ptr, rowStart: number, rowEnd: number, cursor: Ptr, outIndices: Ptr, outData: Ptr): void;
  gramSegments(nRows: number): number;
  gramSegment(y: Ptr, nRows: number, k: number, segment: number, partial: Ptr): void;
  gramCombine(partials: Ptr, nSegments: number, k: number, scale: number, out: Ptr): void;
  firstNonFinite(values: Ptr, n: number): number;
  solveRowsCg(
    rowStart: number, rowEnd: number, indptr: Ptr, indices: Ptr, data: Ptr, x: Ptr, y: Ptr, k: number, g: Ptr,
    confidenceScale: number, regularization: number, regExponent: number, unobservedWeight: number, nOther: number, cgSteps: number,
    gathered: Ptr, gatherCapacity: number, weights: Ptr, coefficients: Ptr, work: Ptr, offsets: Ptr, ids: Ptr,
    places: Ptr, placeShift: number, sourceIndptr: Ptr, values: Ptr, diagonalGram?: boolean, skipRows?: Ptr,
  ): void;
  cgChunkRows(k: number): number;
  rotateRows(rows: Ptr, start: number, end: number, k: number, q: Ptr, scratch: Ptr): void;
  hotItemsBegin(
    slotStart: number, slotEnd: number, items: Ptr, itemFactors: Ptr, columnIndptr: Ptr, offsets: Ptr, k: number, g: Ptr, diagonalGram: boolean,
    regularization: number, regExponent: number, unobservedWeight: number, nOther: number, x: Ptr, r: Ptr, lambda: Ptr, active: Ptr, cursors: Ptr,
  ): void;
  hotItemsBlock(
    product: number, userStart: number, userEnd: number, slotStart: number, slotEnd: number,
    stream: Ptr, columnData: Ptr, placeShift: number, sourceIndptr: Ptr, sourceData: Ptr,
    x: Ptr, k: number, cursors: Ptr, active: Ptr, v: Ptr, acc: Ptr, confidenceScale: number, unobservedWeight: number,
    ids: Ptr, values: Ptr, coefficients: Ptr, chunkRows: number,
  ): void;
  hotItemsStep(
    first: boolean, more: boolean, slotStart: number, slotEnd: number, k: number, g: Ptr, diagonalGram: boolean,
    x: Ptr, r: Ptr, p: Ptr, ap: Ptr, lambda: Ptr, rsOld: Ptr, active: Ptr, items: Ptr, columnIndptr: Ptr, offsets: Ptr, cursors: Ptr, quadratic: Ptr,
  ): void;
  hotItemsLastStep(slotStart: number, slotEnd: number, k: number, x: Ptr, p: Ptr, ap: Ptr, rsOld: Ptr, active: Ptr, quadratic: Ptr): void;
  hotItemsEnd(slotStart: number, slotEnd: number, items: Ptr, itemFactors: Ptr, k: number, x: Ptr): void;
  solveRowsCholesky(
    rowStart: number, rowEnd: number, indptr: Ptr, indices: Ptr, data: Ptr, x: Ptr, y: Ptr, k: number, g: Ptr,
    confidenceScale: number, regularization: number, regExponent: number, unobservedWeight: number, nOther: number,
    a: Ptr, b: Ptr, yRow: Ptr, offsets: Ptr, ids: Ptr, places: Ptr, placeShift: number, sourceIndptr: Ptr, values: Ptr,
  ): number;
  buildRowSystem(
    itemIds: Ptr, confidences: Ptr, n: number, y: Ptr, k: number, g: Ptr,
    confidenceScale: number, lambda: number, unobservedWeight: number, a: Ptr, b: Ptr, yRow: Ptr,
  ): void;
  choleskyFactor(a: Ptr, k: number): number;
  choleskySolve(a: Ptr, b: Ptr, k: number): void;
  lossRows(
    rowStart: number, rowEnd: number, indptr: Ptr, indices: Ptr, data: Ptr, x: Ptr, y: Ptr, k: number, gram: Ptr,
    confidenceScale: number, regularization: number, regExponent: number, unobservedWeight: number, nOther: number, work: Ptr,
  ): number;
  regularizationRows(
    rowStart: number, rowEnd: number, indptr: Ptr, x: Ptr, k: number,
    regularization: number, regExponent: number, unobservedWeight: number, nOther: number,
  ): number;
  sumAbs(data: Ptr, nnz: number): number;
  bm25Rows(indptr: Ptr, indices: Ptr, data: Ptr, rowStart: number, rowEnd: number, K1: number, norms: Ptr, idf: Ptr, out: Ptr): number;
  symmetricMatVec(s: Ptr, v: Ptr, shift: number, out: Ptr, k: number): void;
  dotRows(rows: Ptr, n: number, v: Ptr, k: number, out: Ptr): void;
  accumulateRows(coefficients: Ptr, rows: Ptr, n: number, out: Ptr, k: number): void;
  dotRowsAt(table: Ptr, ids: Ptr, n: number, v: Ptr, k: number, out: Ptr): void;
  accumulateRowsAt(coefficients: Ptr, table: Ptr, ids: Ptr, n: number, out: Ptr, k: number): void;
  inverseNorms(m: Ptr, nRows: number, k: number, out: Ptr): void;
  rowNorms(m: Ptr, nRows: number, k: number, out: Ptr): void;
  topKBlocked(...args: TopKBlockedArgs): void;
  topKStateBytes(): number;
  groupLanesBytes(): number;
  quantizeRows(m: Ptr, nRows: number, first: number, end: number, k: number, kq: number, order: Ptr, quantized: Ptr, ids: Ptr, scales: Ptr, residuals: Ptr, norms: Ptr, invNorms: Ptr, axis: Ptr, axial: Ptr): void;
  topKQuantized(...args: TopKQuantizedArgs): void;
  sumRows(m: Ptr, first: number, end: number, k: number, sums: Ptr): void;
  allPairsHeapBytes(nRows: number, n: number): number;
  allPairsReset(heaps: Ptr, nRows: number, n: number): void;
  allPairsUnit(
    targets: Ptr, k: number, kq: number, nRows: number, unitStart: number, unitEnd: number,
    quantized: Ptr, ids: Ptr, scales: Ptr, residuals: Ptr, norms: Ptr, invNorms: Ptr, n: number, heaps: Ptr, scratch: Ptr,
  ): void;
  mergeAllPairsHeaps(into: Ptr, from: Ptr, nRows: number, n: number): void;
  finishAllPairs(heaps: Ptr, nRows: number, n: number): void;
  fillUniform(out: Ptr, n: number, seed: bigint, first: bigint, scale: number): void;
  fillNormal(out: Ptr, n: number, seed: bigint, first: bigint, stddev: number): void;
  bprRowIds(indptr: Ptr, nRows: number, out: Ptr): void;
  bprInitialize(x: Ptr, nUsers: number, y: Ptr, nItems: number, k: number, seed: bigint, indptr: Ptr, indices: Ptr, nnz: number, counts: Ptr): void;
  bprSamples(
    samples: number, seed: bigint, first: bigint, rowOf: Ptr, indptr: Ptr, indices: Ptr, nnz: number, nItems: number,
    x: Ptr, y: Ptr, yBias: Ptr, k: number, learningRate: number, regularization: number,
    verify: boolean, popularity: boolean, adagrad: boolean, gx: Ptr, gy: Ptr, gyBias: Ptr, out: Ptr,
    epochFirst: bigint, blocked: boolean, order: Ptr, nFull: number,
  ): void;
  bprBlockOrder(seed: bigint, epoch: bigint, nFull: number, out: Ptr): void;
  bprSplitRows(rows: Ptr, rowStart: number, rowEnd: number, k: number, bias: Ptr): void;
  bprJoinRows(rows: Ptr, rowStart: number, rowEnd: number, k: number, bias: Ptr): void;
  bprDrawSamples(
    seed: bigint, first: bigint, rowOf: Ptr, indices: Ptr, nnz: number, nItems: number, popularity: boolean, n: number, out: Ptr,
    epochFirst: bigint, blocked: boolean, order: Ptr, nFull: number,
  ): void;
  mfPack(indptr: Ptr, indices: Ptr, data: Ptr, rowStart: number, rowEnd: number, out: Ptr): void;
  mfShuffle(records: Ptr, hi: number, lo: number, seed: bigint, epoch: bigint): void;
  mfSgd(records: Ptr, start: number, end: number, users: Ptr, items: Ptr, k: number, width: number, learningRate: number, regularization: number, biasRegularization: number): void;
  mfEvaluate(records: Ptr, start: number, end: number, users: Ptr, items: Ptr, k: number, width: number, regularization: number, biasRegularization: number, penalty: boolean, out: Ptr): void;
  mfPredict(userIds: Ptr, itemIds: Ptr, n: number, users: Ptr, items: Ptr, width: number, out: Ptr): void;
  knnAllPairs(
    rowStart: number, rowEnd: number, wIndptr: Ptr, wIndices: Ptr, wData: Ptr, tIndptr: Ptr, tIndices: Ptr, tData: Ptr,
    K: number, acc: Ptr, flags: Ptr, touched: Ptr, heapIds: Ptr, heapScores: Ptr, outIndptr: Ptr, outIndices: Ptr, outData: Ptr,
  ): void;
  knnRecommend(
    queryRows: Ptr, nQueries: number, likedIndptr: Ptr, likedIndices: Ptr, likedData: Ptr, sIndptr: Ptr, sIndices: Ptr, sData: Ptr,
    mask: Ptr, excludeLiked: boolean, acc: Ptr, flags: Ptr, touched: Ptr, n: number, outIds: Ptr, outScores: Ptr,
  ): void;
  log(x: number): number;
  log1p(x: number): number;
  pow(x: number, y: number): number;
}

/** A loaded module with its memory and allocator. */
export interface Engine {
  readonly kernels: Kernels;
  readonly heap: WasmHeap;
  /** The compiled module, for workers to instantiate over the same memory. */
  readonly module: WebAssembly.Module;
  /** Whether the memory is shared, so workers can run kernels on it (see pool.ts). */
  readonly shared: boolean;
}

/** How to load the engine. */
export interface EngineOptions {
  /**
   * Use the shared-memory build so fits can run on several threads. Default: wherever
   * SharedArrayBuffer is usable (Node, Bun, Deno; browsers only when cross-origin isolated).
   */
  shared?: boolean;
}

/** Where the module can come from: a compiled module, its bytes, a fetch Response, or a URL. */
export type WasmSource = WebAssembly.Module | ArrayBuffer | Uint8Array | Response | URL | string;

let current: Engine | undefined;

/** The default location of edgerec.wasm (or its shared-memory twin), relative to this file in src/ or dist/. */
export function defaultWasmUrl(shared = false): URL {
  return new URL(shared ? "../build/edgerec-threads.wasm" : "../build/edgerec.wasm", import.meta.url);
}

/** Whether this runtime can share wasm memory with workers. */
export function sharedMemoryAvailable(): boolean {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean };
  return typeof g.SharedArrayBuffer === "function" && g.crossOriginIsolated !== false;
}

/**
 * Loads the module (once) and makes it the engine every new matrix and model uses.
 * With no argument it finds edgerec.wasm beside the package; pass a source to load it
 * from elsewhere (a bundler's URL, bytes you fetched, a precompiled module).
 */
export async function initEngine(source?: WasmSource, { shared = source === undefined && sharedMemoryAvailable() }: EngineOptions = {}): Promise<Engine> {
  if (current && source === undefined) return current;
  // Memory grows on demand up to wasm32's 4 GiB; the host plans every byte. The shared
  // build is the same code compiled for a shared memory that workers can run kernels on.
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared });
  const from = source ?? defaultWasmUrl(shared);
  let result;
  try {
    const resolved = await resolveSource(from);
    // On Node, Bun and Deno the bytes are compiled asynchronously here and instantiated
    // synchronously: the loader's async instantiate first asks whether its argument is a
    // fetch Response, and merely reading Node's global `Response` loads its whole fetch
    // implementation (~6 MB of memory for the life of the process). Browsers keep the async
    // path, which may not block their main thread.
    result = serverRuntime() && !isResponse(resolved)
      ? instantiateSync(resolved instanceof WebAssembly.Module ? resolved : await WebAssembly.compile(resolved as BufferSource), { env: { memory } })
      : await instantiate(resolved, { env: { memory } });
  } catch (cause) {
    throw new Error(`edgerec: could not load the WebAssembly module from ${describe(from)}: ${(cause as Error).message}`, { cause });
  }
  const kernels = result.instance.exports as unknown as Kernels;
  current = { kernels, heap: new WasmHeap(memory, kernels.heapBase() >>> 0), module: result.module, shared };
  return current;
}

/** The loaded engine; throws a clear error when initEngine() has not finished. */
export function getEngine(): Engine {
  if (!current) throw new Error("edgerec: the WebAssembly engine is not loaded yet: `await initEngine()` first (the default entry point does this on import)");
  return current;
}

async function resolveSource(source: WasmSource): Promise<WebAssembly.Module | ArrayBuffer | Uint8Array | Response> {
  if (typeof source !== "string" && !(source instanceof URL)) return source;
  const url = source instanceof URL ? source : new URL(source, import.meta.url);
  if (url.protocol === "file:") {
    // Node's fetch refuses file: URLs; node:fs exists in Node, Bun and Deno alike. The
    // specifier is a variable so browser bundlers do not try to resolve it.
    const fsModule = "node:fs/promises";
    const { readFile } = (await import(fsModule)) as { readFile(path: URL): Promise<Uint8Array> };
    return new Uint8Array(await readFile(url));
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
  // Streaming compilation needs the right MIME type; many static servers omit it.
  if (response.headers.get("content-type")?.startsWith("application/wasm")) return response;
  return response.arrayBuffer();
}

/** @internal Whether this is Node, Bun or Deno (each sets process.versions.node). */
export function serverRuntime(): boolean {
  return typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === "string";
}

// Duck-typed, so that the check itself never reads the global `Response`.
function isResponse(source: object): source is Response {
  return !(source instanceof WebAssembly.Module || source instanceof ArrayBuffer || ArrayBuffer.isView(source));
}

function describe(source: WasmSource): string {
  if (typeof source === "string") return source;
  if (source instanceof URL) return source.href;
  return "the given source";
}
