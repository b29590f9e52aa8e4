// edgerec: recommendations from implicit feedback, in SIMD WebAssembly, anywhere
// JavaScript runs. This entry loads the engine on import (top-level await), so
// everything it exports is ready to use. `edgerec/core` is the same without the load.

import { initEngine } from "./engine.js";

await initEngine();

export * from "./core.js";
