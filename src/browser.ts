// edgerec for browsers and bundlers: the `browser` export condition. The same library as
// the default entry, with the WebAssembly module carried inside the JavaScript, so a page
// bundled by esbuild, Vite or webpack works with no asset configuration. A cross-origin
// isolated page gets the shared-memory build (threads); any other page, one thread.

import { initEngine, sharedMemoryAvailable } from "./engine.js";
import { threadsWasmBase64, wasmBase64 } from "./embedded-wasm.js";

const shared = sharedMemoryAvailable();
await initEngine(decodeBase64(shared ? threadsWasmBase64 : wasmBase64), { shared });

export * from "./core.js";

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
