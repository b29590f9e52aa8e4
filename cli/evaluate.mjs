// `edgerec evaluate`: split an interaction file, train a model on the training part and
// score it on the held-out part, with the protocol and metrics asked for.

import process from "node:process";
import { writeFileAtomic } from "./files.mjs";
import {
  evaluateFullRanking, evaluateSampled, recommendScorer, splitChronological, splitLeaveKOut, splitRandom, toUserItems,
} from "../dist/index.js";
import { FactorModel } from "../dist/factorization.js";
import { createModel, fitWithCurve } from "./models.mjs";
import { loadPrepared } from "./model-io.mjs";
import { duration, progress } from "./format.mjs";
import { svgChart, textChart } from "./chart.mjs";

const METRIC_ALIASES = { hr: "hitRatio", hitratio: "hitRatio", ndcg: "ndcg", map: "map", recall: "recall", precision: "precision", "implicit-precision": "implicitPrecision", implicitprecision: "implicitPrecision", auc: "auc" };

/** "hr,ndcg" → ["hitRatio", "ndcg"], refusing unknown names. */
export function parseMetrics(text) {
  return String(text).split(",").map((m) => m.trim()).filter(Boolean).map((m) => {
    const metric = METRIC_ALIASES[m.toLowerCase()];
    if (!metric) throw new Error(`--metrics: unknown metric '${m}': use ${Object.keys(METRIC_ALIASES).join(", ")}`);
    return metric;
  });
}

/** The held-out split named on the command line. */
export function makeSplit(data, { split, holdOut, testFraction, seed }) {
  switch (split) {
    case "leave-latest": return splitChronological(data, { lastK: holdOut });
    case "last-fraction": return splitChronological(data, { lastFraction: testFraction });
    case "leave-k-out": return splitLeaveKOut(data, { k: holdOut, seed });
    case "random": return splitRandom(data, { trainFraction: 1 - testFraction, seed });
    default: throw new Error(`--split: unknown split '${split}': use leave-latest, last-fraction, leave-k-out or random`);
  }
}

export async function runEvaluate(file, { dataset, prepare, modelName, model: modelOptions, split, protocol, metrics, k, candidates, sampling, candidatesFile, seed, quiet }) {
  const display = progress(process.stderr, { quiet });
  const data = await loadPrepared(file, dataset, prepare, display);
  const { train, test, report } = makeSplit(data, split);
  const trainMatrix = toUserItems(train);
  const model = createModel(modelName, modelOptions);
  const started = performance.now();
  const validation = modelName === "mf" ? toUserItems(test) : undefined;
  const { curve, series } = await fitWithCurve(modelName, model, trainMatrix, {
    validation, lowMemory: modelOptions.lowMemory,
    onStep: (text, fraction, elapsed) => display.update(`${text}  elapsed ${duration(elapsed)}`, fraction, true),
  });
  display.done();
  const trainSeconds = (performance.now() - started) / 1000;
  const scorer = model instanceof FactorModel ? model : recommendScorer(model, trainMatrix);
  const options = { k, metrics };
  const result = protocol === "full"
    ? await evaluateFullRanking(scorer, trainMatrix, test, options)
    : await evaluateSampled(scorer, trainMatrix, test, { ...options, candidates, sampling, seed, candidatesFile });
  return { model: modelName, split: report, protocol: result.protocol, k, metrics: result.metrics, usersEvaluated: result.usersEvaluated, usersSkipped: result.usersSkipped, skipped: result.skipped, detail: result.detail, trainSeconds, curve, series, reports: data.reports };
}

/** Draws the training curve in the terminal and, when asked, writes it as SVG. */
export async function showCurve(result, { print, svg }) {
  if (!result.series.length || !result.curve.length) return;
  const series = result.series.map((s) => ({ name: s.name, values: result.curve.map((c) => c[s.key]) }));
  const title = `${result.model} training curve`;
  print(textChart(title, series));
  if (svg) {
    await writeFileAtomic(svg, svgChart(title, series));
    print(`wrote ${svg}`);
  }
}
