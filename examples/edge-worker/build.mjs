#!/usr/bin/env node
// Builds the edge worker example into examples/edge-worker/dist/: trains the demo model
// (MovieLens latest-small, the settings of `edgerec demo`) unless a model trained with the
// same settings is already there, bundles worker.mjs with esbuild, and writes what workerd
// needs beside it: edgerec.wasm, the model file and config.capnp.
//
//   npm run build:edge            (after `npm run build`, which makes dist/ and build/)
//   node examples/edge-worker/build.mjs --retrain
//
// Also imported by test/edge-worker.test.ts, which builds before starting workerd.

import { copyFile, mkdir, readFile, rename, stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import process from "node:process";
import { writeFileAtomic } from "../../cli/files.mjs";

const here = new URL("./", import.meta.url);
const root = new URL("../../", import.meta.url);
const path = (url) => fileURLToPath(url);

/** Where the build goes (gitignored), and the module names worker.mjs imports. */
export const outDir = path(new URL("dist/", here));
export const MODEL_NAME = "movielens-small.edgerec";
export const WASM_NAME = "edgerec.wasm";
/** The default listening address in config.capnp (workerd's --socket-addr http=HOST:PORT overrides it). */
export const DEFAULT_ADDRESS = "127.0.0.1:8787";
// Dates the worker's behaviour to a release of the Workers runtime; must not be newer than
// the workerd binary (the workerd package says which date it supports).
const COMPATIBILITY_DATE = "2025-09-01";

const ratingsFile = path(new URL("demo-data/ml-latest-small/ratings.csv.gz", root));
// The demo's model (cli/demo.mjs): 5-core, confidence = rating, ALS 64 factors, λ 0.05,
// 15 iterations, seed 1. The model is the same bits for any number of threads.
const trainingSettings = {
  dataset: { format: "movielens" },
  prepare: { confidence: "raw", kCore: 5 },
  modelName: "als",
  model: { factors: 64, regularization: 0.05, iterations: 15, seed: 1 },
};

/**
 * Builds the example. Returns the output folder, the config file, whether the model was
 * (re)trained, and the size of each file written.
 */
export async function buildEdgeWorker({ retrain = false, log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const started = performance.now();
  const libraryEntry = path(new URL("dist/core.js", root));
  const wasmFile = path(new URL(`build/${WASM_NAME}`, root));
  for (const file of [libraryEntry, wasmFile]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first (it compiles the wasm and the TypeScript)`);
  }
  await mkdir(outDir, { recursive: true });

  const trained = await ensureModel({ retrain, log });
  await copyAtomically(wasmFile, `${outDir}${WASM_NAME}`);
  await bundleWorker();
  await writeFileAtomic(`${outDir}config.capnp`, workerdConfig());

  const sizes = {};
  for (const name of ["worker.js", WASM_NAME, MODEL_NAME, "config.capnp"]) sizes[name] = (await stat(`${outDir}${name}`)).size;
  const seconds = (performance.now() - started) / 1000;
  log(`edge worker built in ${seconds.toFixed(1)}s${trained ? " (model trained)" : " (model reused)"}: ${outDir}`);
  for (const [name, bytes] of Object.entries(sizes)) log(`  ${name.padEnd(24)} ${(bytes / 1024).toFixed(0).padStart(6)} KiB`);
  return { outDir, configFile: `${outDir}config.capnp`, trained, sizes, seconds };
}

// Trains the model unless the one in dist/ was trained with these settings, from this
// ratings file, in this model-file format version, and still loads. Returns whether it trained.
async function ensureModel({ retrain, log }) {
  // Imported here, not at the top: the CLI's modules load the engine (dist/index.js),
  // which only a build that trains needs.
  const { FORMAT_VERSION } = await import("../../dist/model-file.js");
  const ratings = await stat(ratingsFile);
  const stamp = JSON.stringify({ ...trainingSettings, formatVersion: FORMAT_VERSION, ratings: { bytes: ratings.size, modified: ratings.mtimeMs } });
  const modelFile = `${outDir}${MODEL_NAME}`;
  const stampFile = `${modelFile}.settings.json`;
  if (!retrain && existsSync(modelFile) && existsSync(stampFile) && (await readFile(stampFile, "utf8")) === stamp) {
    try {
      const { loadModel } = await import("../../cli/model-io.mjs");
      (await loadModel(modelFile)).dispose?.();
      return false;
    } catch (error) {
      log(`retraining: the model in ${outDir} does not load (${error.message})`);
    }
  }
  const { fitModel, saveModel } = await import("../../cli/model-io.mjs");
  const { model, seconds } = await fitModel(ratingsFile, { ...trainingSettings, prepare: () => trainingSettings.prepare, quiet: true });
  log(`trained ALS on MovieLens latest-small in ${seconds.toFixed(1)}s: ${model.nUsers} users × ${model.nItems} movies`);
  await saveModel(model, modelFile); // writes a temporary file and renames it
  model.dispose?.();
  await writeFileAtomic(stampFile, stamp);
  return true;
}

async function bundleWorker() {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [path(new URL("worker.mjs", here))],
    bundle: true,
    format: "esm",
    // Workers are a browser-like platform: take packages' browser builds (fflate's node
    // build would import worker_threads).
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    target: "es2022",
    minify: true,
    // The engine and the model stay separate modules of the worker, with these names.
    external: [`./${WASM_NAME}`, `./${MODEL_NAME}`],
    // "edgerec/core" is this repository's own package: resolve it to the built library,
    // as npm would resolve it from node_modules in a project that depends on edgerec.
    alias: { "edgerec/core": path(new URL("dist/core.js", root)) },
    write: false,
    logLevel: "silent",
  });
  for (const warning of result.warnings) process.stderr.write(`esbuild: ${warning.text}\n`);
  await writeFileAtomic(`${outDir}worker.js`, result.outputFiles[0].contents);
}

function workerdConfig() {
  return `# workerd configuration of the edgerec example (written by examples/edge-worker/build.mjs).
#   npx workerd serve examples/edge-worker/dist/config.capnp
#   npx workerd serve examples/edge-worker/dist/config.capnp --socket-addr http=127.0.0.1:9000
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .edgerecWorker) ],
  sockets = [ (name = "http", address = "${DEFAULT_ADDRESS}", http = (), service = "main") ],
);

const edgerecWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    # Imported by the worker as a compiled WebAssembly.Module (Workers cannot compile bytes).
    (name = "${WASM_NAME}", wasm = embed "${WASM_NAME}"),
    # Imported as an ArrayBuffer: the model file written by AlternatingLeastSquares.save().
    (name = "${MODEL_NAME}", data = embed "${MODEL_NAME}"),
  ],
  compatibilityDate = "${COMPATIBILITY_DATE}",
);
`;
}

async function copyAtomically(from, to) {
  const temporary = `${to}.partial-${process.pid}`;
  await copyFile(from, temporary);
  await rename(temporary, to);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const retrain = process.argv.includes("--retrain");
  buildEdgeWorker({ retrain }).then(
    () => process.exit(0), // the engine's worker threads (training) must not hold the process
    (error) => { process.stderr.write(`build:edge failed: ${error.message}\n`); process.exit(1); },
  );
}
