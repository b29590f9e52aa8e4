// Threads for the kernels: workers that instantiate the same module over one shared
// WebAssembly.Memory, and (outside browsers) the calling thread. The main thread plans all
// memory (kernels never allocate) and hands each thread a disjoint part of the rows with
// its own scratch, so results are the same bits for any number of threads. Workers are
// unref'd: an idle pool never keeps a process alive, and terminate() ends it at once.

import { serverRuntime, type Engine } from "./engine.js";
import { kernelThreadMain } from "./kernel-thread.js";

type Args = (number | bigint | boolean)[];
interface Pending { resolve(value: unknown): void; reject(error: Error): void }
/** One kernel call: an export of the module and its arguments. */
export interface KernelCall { kernel: string; args: Args }
interface WorkerLike {
  postMessage(message: unknown): void;
  terminate(): unknown;
  /** node:worker_threads only: whether a running task keeps the process alive. */
  ref?(): void;
  unref?(): void;
}

/** One worker: a queue of kernel calls answered in order. */
class KernelThread {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private constructor(private readonly worker: WorkerLike) {}

  static async start(engine: Engine): Promise<KernelThread> {
    let thread!: KernelThread;
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (data: { ready?: boolean; id?: number; result?: unknown; error?: string }) => {
        if (data.ready) { thread.worker.unref?.(); return resolve(); }
        const task = thread.pending.get(data.id!);
        if (!task) return;
        thread.pending.delete(data.id!);
        // Idle workers must not hold the process open; busy ones must (we await them).
        if (thread.pending.size === 0) thread.worker.unref?.();
        if (data.error !== undefined) task.reject(new Error(`edgerec worker: ${data.error}`));
        else task.resolve(data.result ?? 0);
      };
      const onError = (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String((error as { message?: string })?.message ?? error));
        reject(failure);
        for (const task of thread.pending.values()) task.reject(new Error(`edgerec worker failed: ${failure.message}`));
        thread.pending.clear();
      };
      thread = new KernelThread(createWorker(onMessage, onError));
    });
    thread.worker.postMessage({ module: engine.module, memory: engine.heap.memory });
    await ready;
    return thread;
  }

  call(kernel: string, args: Args): Promise<number> {
    return this.post({ kernel, args }) as Promise<number>;
  }

  /** Runs calls of `queue` while `counter` hands out indices; [index, result] pairs of those it ran. */
  claim(queue: KernelCall[], counter: Int32Array): Promise<number[]> {
    return this.post({ queue, counter }) as Promise<number[]>;
  }

  private post(message: object): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref?.();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...message });
    });
  }

  terminate(): void {
    for (const task of this.pending.values()) task.reject(new Error("edgerec worker pool terminated"));
    this.pending.clear();
    void this.worker.terminate();
  }
}

let nodeWorker: (new (url: URL, options?: { execArgv?: string[] }) => WorkerLike & { on(e: string, f: (d: never) => void): void }) | undefined;
const nodeThreads = "node:worker_threads";
if (serverRuntime()) {
  try { ({ Worker: nodeWorker } = (await import(nodeThreads)) as { Worker: typeof nodeWorker }); } catch { nodeWorker = undefined; }
}

let browserWorkerUrl: string | undefined;

function createWorker(onMessage: (data: never) => void, onError: (error: unknown) => void): WorkerLike {
  if (nodeWorker) {
    // ../dist/ resolves from src/ (tests) and dist/ alike. No inherited flags: `node
    // --input-type=module -e …` would stop a file worker from starting.
    const worker = new nodeWorker(new URL("../dist/worker.js", import.meta.url), { execArgv: [] });
    worker.on("message", onMessage);
    worker.on("error", onError as (d: never) => void);
    return worker;
  }
  // Browsers start the thread from its own source: a bundled page needs no worker file,
  // and a Blob worker shares the page's cross-origin isolation.
  browserWorkerUrl ??= URL.createObjectURL(new Blob([`(${kernelThreadMain.toString()})();`], { type: "text/javascript" }));
  const worker = new Worker(browserWorkerUrl, { type: "module" });
  worker.onmessage = (event) => onMessage(event.data as never);
  worker.onerror = (event) => onError(new Error(event.message));
  return worker;
}

/**
 * A set of kernel threads over one engine's shared memory. On Node, Bun and Deno the
 * calling thread is one of them (it runs the first list of every job itself), so `size`
 * threads cost `size − 1` workers of ~9 MB each; in a page every list goes to a worker,
 * so the main thread stays free for the page.
 */
export class WorkerPool {
  private terminated = false;
  private constructor(readonly engine: Engine, private readonly threads: KernelThread[], private readonly callerWorks: boolean) {}

  /** Starts the workers for `size` threads; the engine must use shared memory. */
  static async create(engine: Engine, size: number): Promise<WorkerPool> {
    if (!engine.shared) throw new Error("edgerec: threads need the shared-memory engine (SharedArrayBuffer; in browsers, a cross-origin isolated page)");
    const callerWorks = nodeWorker !== undefined;
    const workers = callerWorks ? size - 1 : size;
    const threads = await Promise.all(Array.from({ length: workers }, () => KernelThread.start(engine)));
    return new WorkerPool(engine, threads, callerWorks);
  }

  /** Worker threads started (`size − 1` on Node, Bun and Deno; `size` in browsers). */
  get workers(): number { return this.threads.length; }

  /** Threads that run kernel lists: the workers, and the calling thread where it works too. */
  get size(): number { return this.terminated ? 0 : this.threads.length + (this.callerWorks ? 1 : 0); }

  /**
   * Runs one list of kernel calls per thread, each list in order; resolves when all are
   * done. `onCallDone(thread, index)` hears of each call as it finishes. Every worker gets
   * its whole list at once, so it runs the calls back to back while the calling thread
   * works through list 0 (yielding between calls, so messages and signals are heard).
   */
  async run(perWorker: KernelCall[][], onCallDone?: (worker: number, index: number) => void): Promise<number[][]> {
    if (perWorker.length > this.size) throw new Error(`edgerec: ${perWorker.length} task lists for ${this.size} threads`);
    const first = this.callerWorks ? 1 : 0;
    const posted = perWorker.slice(first).map((calls, i) => Promise.all(calls.map(({ kernel, args }, index) =>
      this.threads[i].call(kernel, args).then((result) => { onCallDone?.(i + first, index); return result; }))));
    // A worker may fail while this thread is still busy: handled now (so Node does not call
    // the rejection unhandled), reported by the Promise.all below.
    for (const list of posted) list.catch(() => undefined);
    if (!this.callerWorks || perWorker.length === 0) return Promise.all(posted);
    const own: number[] = [];
    try {
      for (const [index, call] of perWorker[0].entries()) {
        own.push(this.callHere(call));
        onCallDone?.(0, index);
        await yieldToEventLoop();
      }
    } catch (error) {
      // The workers may still be writing memory the caller is about to free: wait for them.
      await Promise.allSettled(posted);
      throw error;
    }
    return [own, ...(await Promise.all(posted))];
  }

  /**
   * Runs every call once, on whichever thread is free first: the threads take the next
   * index from one shared counter, so a slower or busier thread takes fewer calls (the
   * static split of `run` waits for the slowest). On `threads` of the pool's threads (at
   * most size), `listFor(thread)` gives each the same calls with its own scratch; call i's
   * result must not depend on the thread that runs it. Results in call order.
   */
  async runShared(threads: number, listFor: (thread: number) => KernelCall[]): Promise<number[]> {
    if (threads > this.size || threads < 1) throw new Error(`edgerec: shared calls for ${threads} threads on a pool of ${this.size}`);
    const lists = Array.from({ length: threads }, (_, thread) => listFor(thread));
    const count = lists[0].length;
    if (lists.some((list) => list.length !== count)) throw new Error("edgerec: runShared needs the same calls for every thread");
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const results = new Array<number>(count).fill(0);
    const first = this.callerWorks ? 1 : 0;
    const posted = this.threads.slice(0, threads - first).map((thread, i) => thread.claim(lists[i + first], counter).then((done) => {
      for (let p = 0; p < done.length; p += 2) results[done[p]] = done[p + 1];
    }));
    for (const list of posted) list.catch(() => undefined);
    if (this.callerWorks) {
      try {
        for (let index = Atomics.add(counter, 0, 1); index < count; index = Atomics.add(counter, 0, 1)) {
          results[index] = this.callHere(lists[0][index]);
          await yieldToEventLoop();
        }
      } catch (error) {
        Atomics.store(counter, 0, count);
        await Promise.allSettled(posted);
        throw error;
      }
    }
    await Promise.all(posted);
    return results;
  }

  // One kernel call on the calling thread.
  private callHere({ kernel, args }: KernelCall): number {
    const kernels = this.engine.kernels as unknown as Record<string, (...args: Args) => number | undefined>;
    if (typeof kernels[kernel] !== "function") throw new Error(`edgerec: no kernel '${kernel}'`);
    return kernels[kernel](...args) ?? 0;
  }

  /** Ends every worker now. */
  terminate(): void {
    for (const thread of this.threads) thread.terminate();
    this.threads.length = 0;
    this.terminated = true;
  }
}

// setImmediate where there is one (Node, Bun): setTimeout(0) waits ~1 ms in Node.
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => ((globalThis as { setImmediate?: (f: () => void) => void }).setImmediate ?? setTimeout)(resolve));

const pools = new WeakMap<Engine, WorkerPool>();

/** The engine's pool of at least `size` threads, started on first use and kept (idle workers cost nothing and hold no process open). */
export async function poolFor(engine: Engine, size: number): Promise<WorkerPool> {
  const existing = pools.get(engine);
  if (existing && existing.size >= size) return existing;
  existing?.terminate();
  const pool = await WorkerPool.create(engine, size);
  pools.set(engine, pool);
  return pool;
}

let nodeCores: number | undefined;
if (nodeWorker) {
  const osModule = "node:os";
  try { nodeCores = ((await import(osModule)) as { availableParallelism(): number }).availableParallelism(); } catch { nodeCores = undefined; }
}

let singleThreadNoticeShown = false;

/**
 * The threads a job gets: `requested` (0 = every core), or one when the engine cannot
 * share memory — with a one-time notice, since the user expected more.
 */
export function threadsFor(engine: Engine, requested: number): number {
  const wanted = requested || defaultThreads();
  if (engine.shared || wanted === 1) return wanted;
  if (!singleThreadNoticeShown) {
    singleThreadNoticeShown = true;
    const why = typeof (globalThis as { document?: unknown }).document === "object"
      ? "this page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp)"
      : "this runtime has no SharedArrayBuffer";
    console.warn(`edgerec: running on one thread: ${why}`);
  }
  return 1;
}

/** How many threads to use by default: every core. */
export function defaultThreads(): number {
  const g = globalThis as { navigator?: { hardwareConcurrency?: number } };
  return Math.max(1, nodeCores ?? g.navigator?.hardwareConcurrency ?? 1);
}
