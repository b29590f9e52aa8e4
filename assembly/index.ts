// The edgerec WebAssembly module: allocation-free kernels over host-planned memory.
// The host (src/) owns every byte past heapBase(); kernels take raw pointers.

export { cooFirstInvalid, isNonDecreasing, addRowCounts, countsToIndptr, scatterRows, sortRowsSumDuplicates, transposeRows } from "./sparse";
export { gramSegments, gramSegment, gramCombine, rotateRows, firstNonFinite, cgChunkRows, solveRowsCg, solveRowsCholesky, buildRowSystem, choleskyFactor, choleskySolve, lossRows, regularizationRows, sumAbs } from "./als";
export { inverseNorms, rowNorms, topKBlocked, topKStateBytes } from "./topk";
export { groupLanesBytes, quantizeRows, sumRows, topKQuantized } from "./topk-quantized";
export { allPairsHeapBytes, allPairsReset, allPairsUnit, mergeAllPairsHeaps, finishAllPairs } from "./topk-all-pairs";
export { hotItemsBegin, hotItemsBlock, hotItemsStep, hotItemsLastStep, hotItemsEnd } from "./als-hot-items";
export { compactColumnsCount, compactColumnsSizes, compactColumnsFill, compactColumnsDecode } from "./compact-columns";
export { symmetricMatVec, dotRows, accumulateRows, dotRowsAt, accumulateRowsAt } from "./vector";
export { fillUniform, fillNormal } from "./random";
export { bprRowIds, bprInitialize, bprSamples, bprBlockOrder, bprDrawSamples, bprSplitRows, bprJoinRows } from "./bpr";
export { log, log1p, pow } from "./math";
export { bm25Rows } from "./weighting";
export { mfPack, mfShuffle, mfSgd, mfEvaluate, mfPredict, knnAllPairs, knnRecommend } from "./mf";

/** First byte the host may use: everything below belongs to the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}
