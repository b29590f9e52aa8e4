// Training from a file and reading/writing model files for the CLI.

import process from "node:process";
import { readFile } from "node:fs/promises";
import { catalogOf, loadDataset, prepareDataset, toUserItems } from "../dist/dataset/dataset.js";
import { readImplicitModel } from "../dist/interop/implicit-npz.js";
import { isZipArchive } from "../dist/interop/npz.js";
import { writeFileAtomic } from "./files.mjs";
import { createModel, fitWithCurve, loadAnyModel } from "./models.mjs";
import { duration, progress } from "./format.mjs";

/**
 * Reads, prepares and trains: returns the model (with its catalog and training matrix
 * attached, so the model file answers queries on its own), what each step did, and the
 * training curve.
 */
export async function fitModel(file, { dataset: datasetOptions, prepare, modelName = "als", model: modelOptions, quiet }) {
  const display = progress(process.stderr, { quiet });
  const started = performance.now();
  const data = await loadPrepared(file, datasetOptions, prepare, display);
  const userItems = toUserItems(data);
  const model = createModel(modelName, modelOptions);
  const { curve, series } = await fitWithCurve(modelName, model, userItems, {
    lowMemory: modelOptions.lowMemory,
    onStep: (text, fraction, elapsed) => display.update(`${text}  elapsed ${duration(elapsed)}  ETA ${duration((elapsed / fraction) * (1 - fraction))}`, fraction, true),
  });
  display.done();
  model.catalog = catalogOf(data);
  model.userItems = userItems;
  const last = curve[curve.length - 1];
  return { model, data, reports: data.reports, interactions: userItems.nnz, finalLoss: last?.loss, curve, series, seconds: (performance.now() - started) / 1000 };
}

/** Reads an interaction file with progress, then applies the transforms. */
export async function loadPrepared(file, datasetOptions, prepare, display) {
  const loaded = await loadDataset(file, {
    ...datasetOptions,
    onProgress: (bytes, total, rows) => display.update(`reading ${file}: ${rows.toLocaleString("en-US")} rows${total ? `, ${Math.round((100 * bytes) / total)}%` : ""}`, total ? bytes / total : 0),
  });
  display.done();
  const data = prepareDataset(loaded, prepare(loaded.format));
  if (data.user.length === 0) throw new Error(`${file}: no interactions are left after the filters (see the steps above)`);
  return data;
}

/** Writes the model next to its final name and renames it: a failed write leaves no half file. */
export async function saveModel(model, path) {
  const bytes = model.save();
  try {
    await writeFileAtomic(path, bytes);
  } catch (error) {
    throw new Error(`cannot write the model to ${path}: ${error.message}`);
  }
  return bytes.length;
}

export async function loadModel(path) {
  let bytes;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if (error.code === "ENOENT") throw new Error(`no model file ${path}: train one with \`edgerec fit <file> -o ${path}\`, or pass -m FILE`);
    throw new Error(`cannot read ${path}: ${error.message}`);
  }
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // A zip is an .npz: implicit's model.save() (np.savez). Its errors already name the file.
  if (isZipArchive(view)) return withRowCatalog(await readImplicitModel(view, path));
  try {
    return loadAnyModel(view);
  } catch (error) {
    throw new Error(`${path}: ${error.message}`);
  }
}

/**
 * An implicit model knows no ids: its users and items are row numbers, so those are its
 * catalog (`recommend --user 0`, `similar --item 12`).
 */
function withRowCatalog(model) {
  const rows = (n) => Array.from({ length: n }, (_, i) => String(i));
  model.catalog = { userKeys: rows(model.nUsers), itemKeys: rows(model.nItems) };
  return model;
}
