#!/usr/bin/env node
// The edgerec command line: train on an interaction file, then ask for recommendations,
// similar items and explanations in the data's own ids and names. Runs the same under
// Node (`node cli/edgerec.mjs`), Bun (`bun cli/edgerec.mjs`) and Deno
// (`deno run --allow-read --allow-write cli/edgerec.mjs`).

import process from "node:process";
import { readFileSync } from "node:fs";
import { cac } from "cac";
import { DataError } from "../dist/io/errors.js";
import { importSparkAlsModel } from "../dist/interop/spark.js";
import { loadDataset } from "../dist/dataset/dataset.js";
import { FORMATS, parseColumns } from "../dist/dataset/formats.js";
import { datasetStats, formatStats } from "../dist/dataset/stats.js";
import { fitModel, loadModel, saveModel } from "./model-io.mjs";
import { MODEL_NAMES } from "./models.mjs";
import { parseMetrics, runEvaluate, showCurve } from "./evaluate.mjs";
import { NamedQueries } from "../dist/named-queries.js";
import { score, table } from "./format.mjs";
import { runDemo } from "./demo.mjs";
import { EXPORT_FORMATS, defaultExportPath, exportModel } from "./export.mjs";

// A closed pipe (`edgerec … | head`) ends the output, not the program with an error.
process.stdout.on("error", (error) => { if (error.code === "EPIPE") process.exit(0); else throw error; });

const packageJson = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const cli = cac("edgerec");
const print = (text) => process.stdout.write(`${text}\n`);
const printJson = (value) => print(JSON.stringify(value, null, 2));

const loadingOptions = (command) => command
  .option("--format <name>", `Input format (default: from the file name): ${FORMATS.map((f) => f.name).join(", ")}`)
  .option("--columns <spec>", "Columns by header name or 0-based position, e.g. user=0,item=1,value=2,timestamp=3")
  .option("--items <file>", "Item metadata file (titles, names); default: the format's file beside the data")
  .option("--no-metadata", "Do not read an item metadata file")
  .option("--separator <sep>", "Field separator (default: detected): tab, ',', '::', '|', or 'whitespace'")
  .option("--encoding <enc>", "utf-8, latin1 or auto (default: auto)")
  .option("--min-value <t>", "Keep interactions whose value is at least t (e.g. ratings >= 3)")
  .option("--k-core <k>", "Keep users and items with at least k interactions, repeated until stable")
  .option("--lowercase", "Merge item names that differ only in case")
  .option("--confidence <scheme>", "raw, binary, log, bm25 or tfidf (default: bm25 for Last.fm formats, raw otherwise)");

const datasetOptions = (file, o) => ({
  format: o.format,
  columns: o.columns ? parseColumns(String(o.columns)) : undefined,
  items: o.metadata === false ? false : o.items,
  separator: o.separator, // names like "tab" and "whitespace" are understood by the reader
  encoding: o.encoding,
});

const prepareOptions = (o, format) => ({
  minValue: o.minValue !== undefined ? number(o.minValue, "--min-value") : undefined,
  kCore: o.kCore !== undefined ? integer(o.kCore, "--k-core", 1) : undefined,
  lowercase: Boolean(o.lowercase),
  confidence: o.confidence ?? (format?.startsWith("lastfm") ? "bm25" : "raw"),
});

const modelFlags = (command) => command
  .option("--model <name>", `Model: ${MODEL_NAMES.join(", ")}`, { default: "als" })
  .option("--factors <n>", "Latent factors (als 100, bpr 100, mf 32)")
  .option("--regularization <lambda>", "L2 regularization (als 0.01, bpr 0.01, mf 0.1)")
  .option("--iterations <n>", "Sweeps or epochs (als 15, bpr 100, mf 40)")
  .option("--seed <n>", "Seed of the initial factors and sampling", { default: 0 })
  .option("--alpha <a>", "ALS: confidence scale, c = alpha * value (default 1)")
  .option("--solver <name>", "ALS: cg or cholesky (default cg)")
  .option("--cg-steps <n>", "ALS: conjugate-gradient steps per sweep (default 3)")
  .option("--unobserved-weight <w>", "ALS: weight of unobserved cells, Rendle et al.'s alpha0 (default 1)")
  .option("--regularization-exponent <nu>", "ALS: frequency-scaled regularization exponent (default 0)")
  .option("--threads <n>", "ALS: threads for the row solves (default: every core; the same model for any number). BPR: default 1; more runs Hogwild (faster, not reproducible)")
  .option("--init-scale <s>", "ALS: spread of the initial factors (default 0.01)")
  .option("--init-distribution <d>", "ALS: uniform (implicit's) or normal (Rendle et al.'s) initial factors")
  .option("--learning-rate <lr>", "BPR and MF: SGD learning rate (bpr 0.01, mf 0.01)")
  .option("--sampling <how>", "BPR: negatives drawn uniform or by popularity (default uniform)")
  .option("--sample-order <order>", "BPR: liked pairs in user-blocks (default, faster) or random order (implicit's)")
  .option("--optimizer <name>", "BPR: sgd or adagrad (default sgd)")
  .option("--neighbours <k>", "cosine, bm25, tfidf: neighbours kept per item (default 20)")
  .option("--no-loss", "ALS: skip the training loss in the progress display")
  .option("--no-low-memory", "ALS: copy the values into the items x users copy too: ~3 bytes more per interaction, the same model");

const optional = (value, parse) => (value === undefined ? undefined : parse(value));
const modelOptions = (o) => ({
  factors: optional(o.factors, (v) => integer(v, "--factors", 1)),
  regularization: optional(o.regularization, (v) => number(v, "--regularization")),
  iterations: optional(o.iterations, (v) => integer(v, "--iterations", 0)),
  seed: integer(o.seed, "--seed", 0),
  alpha: optional(o.alpha, (v) => number(v, "--alpha")),
  solver: optional(o.solver, String),
  cgSteps: optional(o.cgSteps, (v) => integer(v, "--cg-steps", 1)),
  unobservedWeight: optional(o.unobservedWeight, (v) => number(v, "--unobserved-weight")),
  regularizationExponent: optional(o.regularizationExponent, (v) => number(v, "--regularization-exponent")),
  initScale: optional(o.initScale, (v) => number(v, "--init-scale")),
  threads: optional(o.threads, (v) => integer(v, "--threads", 1)),
  initDistribution: optional(o.initDistribution, String),
  learningRate: optional(o.learningRate, (v) => number(v, "--learning-rate")),
  sampling: optional(o.sampling, String),
  sampleOrder: optional(o.sampleOrder, (v) => (String(v) === "user-blocks" ? "userBlocks" : String(v))),
  optimizer: optional(o.optimizer, String),
  neighbours: optional(o.neighbours, (v) => integer(v, "--neighbours", 1)),
  loss: o.loss !== false,
  lowMemory: o.lowMemory !== false,
});

modelFlags(loadingOptions(cli.command("fit <file>", "Train a model on an interaction file (plain, .gz or archive.zip:member)")))
  .option("-o, --output <file>", "Model file to write", { default: "model.edgerec" })
  .option("--quiet", "No progress output")
  .option("--json", "Print the summary as JSON")
  .action(async (file, o) => {
    const modelName = String(o.model);
    if (modelName === "popular") throw new Error("fit --model popular: a popularity ranking has nothing to save; use it in `edgerec evaluate --model popular`");
    const result = await fitModel(file, {
      dataset: datasetOptions(file, o), prepare: (format) => prepareOptions(o, format),
      modelName, model: modelOptions(o), quiet: Boolean(o.quiet) || Boolean(o.json),
    });
    const bytes = await saveModel(result.model, String(o.output));
    const summary = {
      output: String(o.output), model: modelName, bytes, users: result.model.nUsers, items: result.model.nItems, interactions: result.interactions,
      seconds: Number(result.seconds.toFixed(2)), finalLoss: result.finalLoss, curve: result.curve, steps: result.reports,
    };
    if (o.json) return printJson(summary);
    print(table(["step", "rows before", "rows after", "removed", "changed", "detail"],
      result.reports.map((r) => [r.transform, r.rowsBefore, r.rowsAfter, r.removedRows, r.changedRows, r.detail])));
    print(`\nTrained ${modelName} on ${summary.users} users × ${summary.items} items, ${summary.interactions} interactions in ${summary.seconds}s${summary.finalLoss !== undefined ? `, final loss ${summary.finalLoss.toPrecision(5)}` : ""}.`);
    print(`Wrote ${summary.output} (${(bytes / 1e6).toFixed(1)} MB).`);
  });

modelFlags(loadingOptions(cli.command("evaluate <file>", "Hold out part of the data, train on the rest, and score the model on what was held out")))
  .option("--split <name>", "leave-latest (each user's latest by timestamp), last-fraction, leave-k-out (random), random", { default: "leave-latest" })
  .option("--hold-out <k>", "Interactions held out per user (leave-latest, leave-k-out)", { default: 1 })
  .option("--test-fraction <f>", "Share held out (random: of all interactions; last-fraction: of each user's latest)", { default: 0.1 })
  .option("--protocol <name>", "sampled (held-out item among --candidates unseen items) or full (rank every item)", { default: "sampled" })
  .option("--candidates <n>", "Sampled: unseen items drawn per user", { default: 100 })
  .option("--candidate-sampling <how>", "Sampled: uniform or popularity", { default: "uniform" })
  .option("--candidates-file <file>", "Sampled: read candidates from an NCF benchmark file ((user,item) then negatives, tab-separated)")
  .option("--metrics <list>", "Comma-separated: hr, ndcg, precision, implicit-precision, recall, map, auc", { default: "hr,ndcg" })
  .option("-k, --k <k>", "Cut-off of the metrics", { default: 10 })
  .option("--curve", "Draw the training curve in the terminal")
  .option("--svg <file>", "Write the training curve as SVG")
  .option("--quiet", "No progress output")
  .option("--json", "Print JSON")
  .action(async (file, o) => {
    const seed = integer(o.seed, "--seed", 0);
    const result = await runEvaluate(String(file), {
      dataset: datasetOptions(file, o), prepare: (format) => prepareOptions(o, format),
      modelName: String(o.model), model: modelOptions(o),
      split: { split: String(o.split), holdOut: integer(o.holdOut, "--hold-out", 1), testFraction: number(o.testFraction, "--test-fraction"), seed },
      protocol: String(o.protocol), metrics: parseMetrics(o.metrics), k: integer(o.k, "-k", 1),
      candidates: integer(o.candidates, "--candidates", 1), sampling: String(o.candidateSampling), candidatesFile: o.candidatesFile, seed,
      quiet: Boolean(o.quiet) || Boolean(o.json),
    });
    if (o.svg) await showCurve(result, { print: o.json ? () => {} : print, svg: String(o.svg) });
    if (o.json) return printJson(result);
    print(`${result.model}: ${result.split.detail ?? ""}`.trim());
    print(result.detail);
    print(table(["metric", "value"], Object.entries(result.metrics).map(([name, value]) => [`${name}@${result.k}`, value.toFixed(4)])));
    if (o.curve) await showCurve(result, { print });
  });

cli.command("recommend", "Recommend items for a user of the model, or for a new user from liked items")
  .option("-m, --model <file>", "Model file (edgerec's, or implicit's .npz)", { default: "model.edgerec" })
  .option("--user <id>", "A user id of the training data")
  .option("--liked <names>", "Comma-separated names of liked items (a new user, folded in without retraining); repeatable")
  .option("-n, --n <n>", "How many", { default: 10 })
  .option("--no-filter", "Include items the user already has")
  .option("--explain", "Show the liked items behind each recommendation")
  .option("--json", "Print JSON")
  .action(async (o) => {
    const queries = new NamedQueries(await loadModel(String(o.model)));
    const n = integer(o.n, "-n", 1);
    let result;
    if (o.user !== undefined && o.liked !== undefined) throw new Error("recommend: give either --user or --liked, not both");
    if (o.user !== undefined) result = queries.recommendForUser(String(o.user), { n, filter: o.filter !== false, explain: Boolean(o.explain) });
    else if (o.liked !== undefined) result = queries.recommendForLiked([o.liked].flat().map(String), { n, filter: o.filter !== false, explain: Boolean(o.explain) });
    else throw new Error("recommend: give --user ID or --liked \"name1,name2,…\"");
    if (o.json) return printJson(result);
    for (const note of result.notes) print(note);
    print(table(["rank", "item", "score", ...(result.hasInfo ? ["info"] : []), ...(o.explain ? ["because you liked"] : [])],
      result.items.map((r, j) => [j + 1, r.label, score(r.score, 4), ...(result.hasInfo ? [r.info] : []), ...(o.explain ? [r.because.map((b) => b.label).join("; ")] : [])])));
  });

cli.command("similar", "Items most similar to an item (cosine of factors)")
  .option("-m, --model <file>", "Model file (edgerec's, or implicit's .npz)", { default: "model.edgerec" })
  .option("--item <name>", "The item, by name or id")
  .option("-n, --n <n>", "How many", { default: 10 })
  .option("--json", "Print JSON")
  .action(async (o) => {
    if (o.item === undefined) throw new Error("similar: give --item NAME");
    const queries = new NamedQueries(await loadModel(String(o.model)));
    const result = queries.similar(String(o.item), { n: integer(o.n, "-n", 1) });
    if (o.json) return printJson(result);
    for (const note of result.notes) print(note);
    print(table(["rank", "item", "similarity", ...(result.hasInfo ? ["info"] : [])],
      result.items.map((r, j) => [j + 1, r.label, score(r.score, 4), ...(result.hasInfo ? [r.info] : [])])));
  });

cli.command("explain", "Why an item is recommended to a user: each liked item's share of the score")
  .option("-m, --model <file>", "Model file (edgerec's, or implicit's .npz)", { default: "model.edgerec" })
  .option("--user <id>", "A user id of the training data")
  .option("--item <name>", "The item, by name or id")
  .option("-n, --n <n>", "How many contributions", { default: 10 })
  .option("--json", "Print JSON")
  .action(async (o) => {
    if (o.user === undefined || o.item === undefined) throw new Error("explain: give --user ID and --item NAME");
    const queries = new NamedQueries(await loadModel(String(o.model)));
    const result = queries.explain(String(o.user), String(o.item), { n: integer(o.n, "-n", 1) });
    if (o.json) return printJson(result);
    for (const note of result.notes) print(note);
    print(`Score of ${result.item} for user ${result.user}: ${result.score.toFixed(4)} = the sum of ${result.likedCount} liked items' contributions; the largest:`);
    print(table(["liked item", "contribution"], result.contributions.map((c) => [c.label, score(c.score, 4)])));
  });

cli.command("export <model>", "Write a model's factors for other tools: implicit's .npz, .npy, .csv or .json, with the user and item id maps")
  .option("--format <format>", `npz (implicit's model file), npy (a folder of user_factors.npy and item_factors.npy), csv (a folder, ids in the first column) or json (one file)`, { default: "npz" })
  .option("-o, --output <path>", "File (npz, json) or folder (npy, csv) to write; default model.npz, factors-npy, factors-csv or factors.json")
  .option("--json", "Print the files written as JSON")
  .action(async (modelPath, o) => {
    const format = String(o.format);
    if (!EXPORT_FORMATS.includes(format)) throw new Error(`export: unknown format '${format}': choose one of ${EXPORT_FORMATS.join(", ")}`);
    const model = await loadModel(String(modelPath));
    const output = o.output !== undefined ? String(o.output) : defaultExportPath(format);
    const files = await exportModel(model, format, output);
    if (o.json) return printJson({ format, output, users: model.nUsers, items: model.nItems, factors: model.factors, files });
    print(`Exported ${model.nUsers} users and ${model.nItems} items × ${model.factors} factors as ${format}:`);
    for (const file of files) print(`  ${file}`);
  });

loadingOptions(cli.command("stats <file>", "Describe an interaction file: sizes, density, popular items, per-user distributions"))
  .option("--top <n>", "How many popular items", { default: 10 })
  .option("--json", "Print JSON")
  .action(async (file, o) => {
    const dataset = await loadDataset(String(file), datasetOptions(file, o));
    const stats = datasetStats(dataset, { top: integer(o.top, "--top", 1) });
    if (o.json) return printJson(stats);
    print(formatStats(stats));
  });

cli.command("import-spark <folder>", "Import a Spark MLlib ALSModel (the folder ALSModel.save wrote) as an edgerec model")
  .option("-o, --output <file>", "Model file to write", { default: "model.edgerec" })
  .option("--reg-param <lambda>", "Spark's regParam, for folding in new users (an ALSModel's metadata does not keep it; default 0.1)")
  .option("--alpha <a>", "Spark's alpha: confidence 1 + alpha * value (default 1)")
  .option("--explicit", "The model was trained with implicitPrefs=false (new users cannot be folded in)")
  .option("--json", "Print the summary as JSON")
  .action(async (folder, o) => {
    const { model, report } = await importSparkAlsModel(String(folder), {
      regParam: optional(o.regParam, (v) => number(v, "--reg-param")),
      alpha: optional(o.alpha, (v) => number(v, "--alpha")),
      implicitPrefs: o.explicit ? false : undefined,
    });
    const bytes = await saveModel(model, String(o.output));
    const summary = { output: String(o.output), bytes, ...report };
    if (o.json) return printJson(summary);
    print(`Imported ${report.sparkClass ?? "a Spark ALS model"} of rank ${report.rank}: ${report.users} users × ${report.items} items.`);
    for (const [key, source] of Object.entries(report.sources)) {
      print(`  ${key} = ${report.params[key]}${source === "default" ? " (Spark's default: not in the model's metadata)" : source === "given" ? "" : " (from the metadata)"}`);
    }
    print(`Wrote ${summary.output} (${(bytes / 1e6).toFixed(1)} MB). Users and items keep their Spark ids.`);
  });

cli.command("demo", "Train on the built-in MovieLens data and show similar movies, recommendations and explanations")
  .option("--json", "Print JSON")
  .option("--quiet", "No progress output")
  .action(async (o) => {
    const result = await runDemo({ quiet: Boolean(o.quiet) || Boolean(o.json), print: o.json ? () => {} : print });
    if (o.json) printJson(result);
  });

cli.help();
cli.version(packageJson.version);

function number(value, flag) {
  const parsed = Number(value);
  if (value === true || value === "" || !Number.isFinite(parsed)) throw new Error(`${flag}: '${value}' is not a number`);
  return parsed;
}

function integer(value, flag, min) {
  const parsed = number(value, flag);
  if (!Number.isInteger(parsed) || parsed < min) throw new Error(`${flag}: '${value}' is not an integer ≥ ${min}`);
  return parsed;
}

try {
  cli.parse(process.argv, { run: false });
  if (!cli.matchedCommand && !cli.options.help && !cli.options.version) {
    if (cli.args.length) throw new Error(`unknown command '${cli.args[0]}': see edgerec --help`);
    cli.outputHelp();
  } else {
    await cli.runMatchedCommand();
  }
} catch (error) {
  const message = error instanceof DataError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`edgerec: ${message}\n`);
  if (process.env.EDGEREC_DEBUG) process.stderr.write(`${error?.stack}\n`);
  process.exitCode = 1;
}
