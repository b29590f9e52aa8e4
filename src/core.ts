// edgerec without loading the engine: for runtimes that hand the WebAssembly module in
// themselves (edge workers import .wasm as a module; fetching at startup is not allowed
// there). Call `await initEngine(module)` before building matrices or models.
export { initEngine, getEngine, defaultWasmUrl, type Engine, type WasmSource } from "./engine.js";
export { CsrMatrix, type CooInput, type SparseRow } from "./csr.js";
export { FactorModel, type TopN, type BatchTopN, type RecommendOptions, type SimilarOptions } from "./factorization.js";
export { AlternatingLeastSquares, type AlsOptions, type AlsFitShape, type FitOptions, type IterationInfo, type LikedItems, type Explanation } from "./als.js";
export { ModelFitError } from "./fit-error.js";
export { BayesianPersonalizedRanking, type BprOptions, type BprFitOptions, type EpochInfo } from "./bpr.js";
export { bm25Weight, tfidfWeight } from "./weighting.js";
export { FORMAT_VERSION } from "./model-file.js";
export { type Catalog } from "./catalog.js";
export { NameIndex, normalizeName, type NameMatch } from "./names.js";
export { NamedQueries, UnknownNameError, type NamedItem, type NamedAnswer } from "./named-queries.js";
export { DataError } from "./io/errors.js";
export { readInteractions, readTable, previewTable, type ColumnSpec, type ReadOptions, type InteractionTable, type TablePreview } from "./io/interactions.js";
export { listArchiveMembers, type SourceInput } from "./io/source.js";
export { loadDataset, prepareDataset, toUserItems, catalogOf, type Dataset, type LoadOptions, type PrepareOptions } from "./dataset/dataset.js";
export { FORMATS, findFormat, type DatasetFormat } from "./dataset/formats.js";
export { lowercaseNames, keepValueAtLeast, sumDuplicates, kCore, compactIds, confidence, type Interactions, type TransformReport } from "./dataset/transforms.js";
export { datasetStats, formatStats } from "./dataset/stats.js";
export { MatrixFactorization, type MatrixFactorizationOptions, type MatrixFactorizationFitOptions, type MfEpochInfo } from "./mf.js";
export { ItemItemRecommender, CosineRecommender, TFIDFRecommender, BM25Recommender, PopularityRecommender, type ItemItemOptions, type BM25Options } from "./item-item.js";
export { splitRandom, splitLeaveKOut, splitChronological, type Split, type SplitReport, type RandomSplitOptions, type LeaveKOutOptions, type ChronologicalOptions } from "./evaluation/splits.js";
export { precisionAtK, implicitPrecisionAtK, recallAtK, mapAtK, ndcgAtK, hitRatioAtK, auc, rankingMetricsAtK, type Metric, type RankingMetric, type Relevant, type AucOptions } from "./evaluation/metrics.js";
export { evaluateFullRanking, evaluateSampled, factorScorer, recommendScorer, popularityScorer, type Scorer, type Recommends, type EvaluationOptions, type FullRankingOptions, type SampledOptions, type EvaluationResult, type SkippedUsers } from "./evaluation/protocols.js";
export { parseNcfNegatives, readNcfNegatives, resolveNcfCases, type NcfCase, type ResolvedNcfCases } from "./evaluation/ncf.js";
export { readSparkAlsModel, importSparkAlsModel, type SparkAlsParams, type SparkImportReport, type SparkFile, type SparkModelSource } from "./interop/spark.js";
export { type MemoryEstimate, type FitShape } from "./memory-plan.js";
export { readImplicitModel, writeImplicitNpz, type ImplicitModel, type ImplicitReadOptions } from "./interop/implicit-npz.js";
export { parseNpy, writeNpy, npyScalar, scalarArray, NpyError, type NpyArray, type NpyData, type NpyScalar } from "./interop/npy.js";
export { readNpz, writeNpz, isZipArchive } from "./interop/npz.js";
