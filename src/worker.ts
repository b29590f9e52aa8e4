// A kernel thread: instantiates the shared-memory module over the main thread's memory and
// runs the kernels it is asked to. It never allocates: every pointer comes planned by the
// main thread (see pool.ts). Runs under node:worker_threads (Node, Bun, Deno) and as a
// module Web Worker (browsers).

import { instantiate } from "@assemblyscript/loader";

interface Port { postMessage(message: unknown): void; on?(event: "message", listener: (data: unknown) => void): void }
type Task = { id: number; kernel: string; args: (number | bigint | boolean)[] };
type Init = { module: WebAssembly.Module; memory: WebAssembly.Memory };

let kernels: Record<string, (...args: unknown[]) => unknown> | undefined;

async function handle(port: Port, message: Init | Task): Promise<void> {
  if ("module" in message) {
    const result = await instantiate(message.module, { env: { memory: message.memory } });
    kernels = result.instance.exports as unknown as typeof kernels;
    port.postMessage({ ready: true });
    return;
  }
  try {
    const fn = kernels?.[message.kernel];
    if (typeof fn !== "function") throw new Error(`no kernel '${message.kernel}'`);
    port.postMessage({ id: message.id, result: fn(...message.args) });
  } catch (error) {
    port.postMessage({ id: message.id, error: (error as Error).message ?? String(error) });
  }
}

const nodeThreads = "node:worker_threads";
let parentPort: Port | null = null;
try {
  if (typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === "string") {
    ({ parentPort } = (await import(nodeThreads)) as { parentPort: Port | null });
  }
} catch {
  parentPort = null;
}
if (parentPort) {
  const port = parentPort;
  port.on!("message", (data) => void handle(port, data as Init | Task));
} else {
  const self = globalThis as unknown as Port & { onmessage: ((event: { data: unknown }) => void) | null };
  self.onmessage = (event) => void handle(self, event.data as Init | Task);
}
