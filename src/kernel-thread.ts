// The body of a kernel thread: instantiates the shared-memory module over the main
// thread's memory and runs the kernels it is asked to. It never allocates: every pointer
// comes planned by the main thread (see pool.ts).
//
// The function must stay self-contained (no imports, no outer names): browsers start it
// from its own source text in a Blob, so a bundled page needs no separate worker file.
// Node, Bun and Deno run it from worker.js through node:worker_threads.

/** Runs the kernel-thread message loop in the current worker. */
export async function kernelThreadMain(): Promise<void> {
  interface Port { postMessage(message: unknown): void; on?(event: "message", listener: (data: unknown) => void): void }
  type Call = { kernel: string; args: (number | bigint | boolean)[] };
  type Task = { id: number } & Call;
  // Calls shared by every thread: each takes the next index from `counter` (pool.ts runShared).
  type Queue = { id: number; queue: Call[]; counter: Int32Array };
  type Init = { module: WebAssembly.Module; memory: WebAssembly.Memory };
  let kernels: Record<string, unknown> | undefined;

  function run({ kernel, args }: Call): unknown {
    const fn = kernels?.[kernel];
    if (typeof fn !== "function") throw new Error(`no kernel '${kernel}'`);
    return fn(...args);
  }

  async function handle(port: Port, message: Init | Task | Queue): Promise<void> {
    if ("module" in message) {
      // The module is built with `use abort=` and the stub runtime: memory is its only import.
      const instance = await WebAssembly.instantiate(message.module, { env: { memory: message.memory } });
      kernels = instance.exports as Record<string, unknown>;
      port.postMessage({ ready: true });
      return;
    }
    if ("queue" in message) {
      const { queue, counter } = message;
      // [index, result] pairs of the calls this thread took.
      const done: unknown[] = [];
      try {
        for (let index = Atomics.add(counter, 0, 1); index < queue.length; index = Atomics.add(counter, 0, 1)) done.push(index, run(queue[index]) ?? 0);
        port.postMessage({ id: message.id, result: done });
      } catch (error) {
        Atomics.store(counter, 0, queue.length); // the other threads take no more
        port.postMessage({ id: message.id, error: (error as Error).message ?? String(error) });
      }
      return;
    }
    try {
      port.postMessage({ id: message.id, result: run(message) });
    } catch (error) {
      port.postMessage({ id: message.id, error: (error as Error).message ?? String(error) });
    }
  }

  let parentPort: Port | null = null;
  if (typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === "string") {
    const nodeThreads = "node:worker_threads"; // a variable specifier keeps bundlers from resolving it
    try { ({ parentPort } = (await import(nodeThreads)) as { parentPort: Port | null }); } catch { parentPort = null; }
  }
  if (parentPort) {
    const port = parentPort;
    port.on!("message", (data) => void handle(port, data as Init | Task | Queue));
  } else {
    const self = globalThis as unknown as Port & { onmessage: ((event: { data: unknown }) => void) | null };
    self.onmessage = (event) => void handle(self, event.data as Init | Task | Queue);
  }
}
