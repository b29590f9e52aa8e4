// edgerec: recommendations from implicit feedback, in SIMD WebAssembly, anywhere
// JavaScript runs. This entry loads the engine on import (top-level await), so
// everything below is ready to use.

import { initEngine } from "./engine.js";

await initEngine();

export { initEngine, getEngine, defaultWasmUrl, type Engine, type WasmSource } from "./engine.js";
export { CsrMatrix, type CooInput, type SparseRow } from "./csr.js";
export { FactorModel, type TopN, type BatchTopN, type RecommendOptions, type SimilarOptions } from "./factorization.js";
export { AlternatingLeastSquares, type AlsOptions, type FitOptions, type IterationInfo, type LikedItems, type Explanation } from "./als.js";
export { bm25Weight, tfidfWeight } from "./weighting.js";
export { FORMAT_VERSION } from "./model-file.js";
