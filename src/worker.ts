// Entry file of a kernel thread under node:worker_threads (Node, Bun, Deno).
import { kernelThreadMain } from "./kernel-thread.js";

await kernelThreadMain();
