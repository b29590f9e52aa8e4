// The models the CLI trains, by name: how to build each from command-line options, how
// to fit it while recording its training curve, and how to read any model file back.

import {
  AlternatingLeastSquares, BayesianPersonalizedRanking, BM25Recommender, CosineRecommender,
  MatrixFactorization, PopularityRecommender, TFIDFRecommender,
} from "../dist/index.js";
import { ItemItemRecommender } from "../dist/item-item.js";
import { readModelKind } from "../dist/model-file.js";

export const MODEL_NAMES = ["als", "bpr", "mf", "cosine", "bm25", "tfidf", "popular"];

/** A new, untrained model of kind `name` from parsed options (undefined options take the library's defaults). */
export function createModel(name, o) {
  switch (name) {
    case "als": return new AlternatingLeastSquares({
      factors: o.factors, regularization: o.regularization, alpha: o.alpha, iterations: o.iterations, solver: o.solver,
      cgSteps: o.cgSteps, seed: o.seed, unobservedWeight: o.unobservedWeight, regularizationExponent: o.regularizationExponent,
      initScale: o.initScale, initDistribution: o.initDistribution, threads: o.threads,
      calculateTrainingLoss: o.loss,
    });
    case "bpr": return new BayesianPersonalizedRanking({
      factors: o.factors, learningRate: o.learningRate, regularization: o.regularization, iterations: o.iterations,
      seed: o.seed, sampling: o.sampling, sampleOrder: o.sampleOrder, optimizer: o.optimizer, threads: o.threads,
    });
    case "mf": return new MatrixFactorization({
      factors: o.factors, learningRate: o.learningRate, regularization: o.regularization, iterations: o.iterations, seed: o.seed,
    });
    case "cosine": return new CosineRecommender({ K: o.neighbours });
    case "bm25": return new BM25Recommender({ K: o.neighbours });
    case "tfidf": return new TFIDFRecommender({ K: o.neighbours });
    case "popular": return new PopularityRecommender();
    default: throw new Error(`unknown model '${name}': choose one of ${MODEL_NAMES.join(", ")}`);
  }
}

/**
 * Fits `model` on `train`, calling `onStep(text, fraction)` for progress, and returns its
 * training curve: ALS loss, BPR training AUC, MF train and validation RMSE per epoch.
 * `lowMemory`: ALS's fit({ lowMemory }) (the library's default when undefined).
 */
export async function fitWithCurve(name, model, train, { validation, onStep, lowMemory }) {
  const curve = [];
  if (name === "als") {
    await model.fit(train, { lowMemory, onIteration: (i) => { curve.push({ epoch: i.iteration, loss: i.loss }); onStep(`ALS iteration ${i.iteration}/${i.iterations}${i.loss !== undefined ? `  loss ${i.loss.toPrecision(5)}` : ""}`, i.iteration / i.iterations, i.elapsed); } });
    return { curve, series: [{ name: "training loss", key: "loss" }] };
  }
  if (name === "bpr") {
    await model.fit(train, { onEpoch: (e) => { curve.push({ epoch: e.epoch, auc: e.auc }); onStep(`BPR epoch ${e.epoch}/${e.epochs}  training AUC ${e.auc.toFixed(4)}`, e.epoch / e.epochs, e.elapsed); } });
    return { curve, series: [{ name: "training AUC", key: "auc" }] };
  }
  if (name === "mf") {
    await model.fit(train, {
      validation,
      onEpoch: (e) => { curve.push({ epoch: e.epoch, trainRmse: e.trainRmse, validationRmse: e.validationRmse }); onStep(`MF epoch ${e.epoch}/${e.epochs}  train RMSE ${e.trainRmse.toFixed(4)}${e.validationRmse !== undefined ? `  validation RMSE ${e.validationRmse.toFixed(4)}` : ""}`, e.epoch / e.epochs, e.elapsed); },
    });
    return { curve, series: [{ name: "train RMSE", key: "trainRmse" }, ...(validation ? [{ name: "validation RMSE", key: "validationRmse" }] : [])] };
  }
  await model.fit(train);
  return { curve, series: [] };
}

/** Any model file, whatever its kind. */
export function loadAnyModel(bytes) {
  const kind = readModelKind(bytes);
  if (kind === "als") return AlternatingLeastSquares.load(bytes);
  if (kind === "bpr") return BayesianPersonalizedRanking.load(bytes);
  if (kind === "mf") return MatrixFactorization.load(bytes);
  return ItemItemRecommender.load(bytes);
}
