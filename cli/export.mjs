// `edgerec export`: a model's factors for other tools. npz is implicit's own model file;
// npy, csv and json are plain factor matrices. Every format comes with the id maps (row →
// the data's own user id; row → item id and name), so rows can be joined back to the data.
// Every file is written to a temporary name and renamed: no half files.

import { mkdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { writeImplicitNpz } from "../dist/interop/implicit-npz.js";
import { writeNpy } from "../dist/interop/npy.js";
import { AlternatingLeastSquares, BayesianPersonalizedRanking } from "../dist/index.js";
import { writeFileAtomic } from "./files.mjs";

export const EXPORT_FORMATS = ["npz", "npy", "csv", "json"];

/** Where each format goes when -o is not given: a file for npz and json, a folder for npy and csv. */
export function defaultExportPath(format) {
  return { npz: "model.npz", npy: "factors-npy", csv: "factors-csv", json: "factors.json" }[format];
}

/** Writes `model`'s factors as `format` to `out`; returns the paths written. */
export async function exportModel(model, format, out) {
  if (!EXPORT_FORMATS.includes(format)) throw new Error(`export: unknown format '${format}': choose one of ${EXPORT_FORMATS.join(", ")}`);
  if (!model.userFactors || !model.itemFactors) throw new Error("export: this kind of model has no factors to export (item-item models hold similarities)");
  const ids = idMaps(model);
  const written = [];
  const write = async (path, bytes) => {
    try {
      await writeFileAtomic(path, bytes);
    } catch (error) {
      throw new Error(`export: cannot write ${path}: ${error.message}`);
    }
    written.push(path);
  };

  if (format === "npz") {
    if (!(model instanceof AlternatingLeastSquares || model instanceof BayesianPersonalizedRanking)) {
      throw new Error("export --format npz: implicit's format holds ALS and BPR models; use npy, csv or json for this one");
    }
    await write(out, writeImplicitNpz(model));
    // implicit's file has no place for ids: they go beside it, model.npz → model.user_ids.csv.
    const stem = join(dirname(out), basename(out).replace(/\.npz$/i, ""));
    await write(`${stem}.user_ids.csv`, userIdsCsv(ids));
    await write(`${stem}.item_ids.csv`, itemIdsCsv(ids));
    return written;
  }
  if (format === "json") {
    await write(out, JSON.stringify(factorsJson(model, ids)) + "\n");
    return written;
  }
  // npy and csv: one folder holding both matrices and both id maps.
  await mkdir(out, { recursive: true }).catch((error) => { throw new Error(`export: cannot create the folder ${out}: ${error.message}`); });
  if (format === "npy") {
    await write(join(out, "user_factors.npy"), writeNpy({ descr: "<f4", shape: [model.nUsers, model.factors], data: Float32Array.from(model.userFactors) }, "user_factors.npy"));
    await write(join(out, "item_factors.npy"), writeNpy({ descr: "<f4", shape: [model.nItems, model.factors], data: Float32Array.from(model.itemFactors) }, "item_factors.npy"));
  } else {
    const columns = factorColumns(model);
    await write(join(out, "user_factors.csv"), factorsCsv("user_id", columns, ids.users, model.userFactors, model.factors));
    await write(join(out, "item_factors.csv"), factorsCsv("item_id", columns, ids.items, model.itemFactors, model.factors));
  }
  await write(join(out, "user_ids.csv"), userIdsCsv(ids));
  await write(join(out, "item_ids.csv"), itemIdsCsv(ids));
  return written;
}

// Row → id (and name) from the model's catalog; a model without one (an implicit .npz) is
// known by row numbers only.
function idMaps(model) {
  const rows = (n) => Array.from({ length: n }, (_, i) => String(i));
  const catalog = model.catalog;
  return {
    users: catalog?.userKeys ?? rows(model.nUsers),
    items: catalog?.itemKeys ?? rows(model.nItems),
    names: catalog?.itemLabels ?? catalog?.itemKeys ?? rows(model.nItems),
  };
}

// BPR rows end with the item bias (users hold 1 there): name that column for what it is.
function factorColumns(model) {
  const names = Array.from({ length: model.factors }, (_, f) => `f${f}`);
  if (model instanceof BayesianPersonalizedRanking) names[model.factors - 1] = "bias";
  return names;
}

function factorsCsv(idColumn, columns, ids, values, width) {
  const lines = [[idColumn, ...columns].join(",")];
  for (let r = 0; r < ids.length; r++) {
    const row = [csvField(ids[r])];
    for (let f = 0; f < width; f++) row.push(float32Text(values[r * width + f]));
    lines.push(row.join(","));
  }
  return lines.join("\n") + "\n";
}

function userIdsCsv(ids) {
  return ["row,user_id", ...ids.users.map((id, r) => `${r},${csvField(id)}`)].join("\n") + "\n";
}

function itemIdsCsv(ids) {
  return ["row,item_id,name", ...ids.items.map((id, r) => `${r},${csvField(id)},${csvField(ids.names[r])}`)].join("\n") + "\n";
}

function factorsJson(model, ids) {
  const rows = (values, n) => Array.from({ length: n }, (_, r) => Array.from(values.subarray(r * model.factors, (r + 1) * model.factors), (v) => Number(float32Text(v))));
  return {
    model: model instanceof BayesianPersonalizedRanking ? "bpr" : model instanceof AlternatingLeastSquares ? "als" : model.constructor.name,
    options: modelProperties(model.options),
    columns: factorColumns(model),
    users: { ids: ids.users, factors: rows(model.userFactors, model.nUsers) },
    items: { ids: ids.items, names: ids.names, factors: rows(model.itemFactors, model.nItems) },
  };
}

// Drops options about how this machine runs the model (threads), which are not the model's.
function modelProperties(options) {
  const { threads: _runtimeOnly, ...kept } = options ?? {};
  return kept;
}

/** RFC 4180: quote a field holding a comma, quote or line break, doubling its quotes. */
function csvField(text) {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The shortest decimal that reads back as the same float32 (at most 9 significant digits). */
export function float32Text(value) {
  if (!Number.isFinite(value)) return String(value);
  for (let digits = 1; digits < 9; digits++) {
    const text = value.toPrecision(digits);
    if (Math.fround(Number(text)) === value) return String(Number(text));
  }
  return String(Number(value.toPrecision(9)));
}
