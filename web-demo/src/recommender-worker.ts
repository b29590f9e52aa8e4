// The demo's engine room, in a Web Worker so the page stays responsive while it reads,
// trains and evaluates. It imports edgerec as any app would (the browser entry carries
// the wasm inside the bundle); on a cross-origin isolated page the engine uses shared
// memory and ALS trains on every core, otherwise on one.

import {
  AlternatingLeastSquares, BayesianPersonalizedRanking, DataError, NameIndex, findFormat, getEngine,
  evaluateSampled, listArchiveMembers, loadDataset, popularityScorer, prepareDataset, previewTable,
  splitChronological, splitLeaveKOut, toUserItems,
  type CsrMatrix, type Dataset, type Scorer,
} from "edgerec";
import type {
  Candidate, ColumnChoice, Evaluated, EvaluationRow, Inspected, Loaded, NamedBytes, Recommendation, Reply, Request,
  Runtime, Scored, Step, TitlesChoice, Trained, TrainSettings,
} from "./messages.js";

const scope = globalThis as unknown as {
  postMessage(message: Reply, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<{ id: number } & Request>) => void) | null;
  crossOriginIsolated?: boolean;
  navigator: { hardwareConcurrency?: number };
};

// The evaluation's protocol: the held-out item ranked among this many sampled negatives,
// scored on the first K. These are the numbers the NCF paper made common for MovieLens.
const SAMPLED_NEGATIVES = 100;
const CUTOFF = 10;
// BPR for the comparison: one epoch is one pass of nnz samples; a higher learning rate
// than implicit's 0.01 gets it within reach of ALS in 50 epochs (a few seconds here).
const BPR_EPOCHS = 50;
const BPR_LEARNING_RATE = 0.05;
const SEED = 1;

/** Everything the worker holds between requests. */
const state: {
  files: Map<string, Uint8Array>;
  loaded?: Dataset;
  prepared?: Dataset;
  userItems?: CsrMatrix;
  model?: AlternatingLeastSquares;
  names?: NameIndex;
  popularity?: Int32Array;
  typicalValue: number;
} = { files: new Map(), typicalValue: 1 };

function runtime(): Runtime {
  const cores = Math.max(1, scope.navigator.hardwareConcurrency ?? 1);
  const shared = getEngine().shared;
  return {
    isolated: scope.crossOriginIsolated === true, shared, threads: shared ? cores : 1, cores,
    evaluation: { negatives: SAMPLED_NEGATIVES, cutoff: CUTOFF },
  };
}

// ---------------------------------------------------------------------------------------
// Data

function steps(data: Dataset): Step[] {
  return data.reports.map((r) => ({ transform: r.transform, detail: r.detail }));
}

function summary(data: Dataset, seconds: number): Loaded {
  return {
    source: data.source, rows: data.user.length, users: data.userKeys.length, items: data.itemKeys.length,
    named: data.itemLabels !== undefined, steps: steps(data), seconds,
  };
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not fetch ${url}: HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function loadBuiltin(ratingsUrl: string, titlesUrl: string): Promise<Loaded> {
  const started = performance.now();
  const [ratings, titles] = await Promise.all([fetchBytes(ratingsUrl), fetchBytes(titlesUrl)]);
  const data = await loadDataset({ name: "ml-latest-small/ratings.csv.gz", bytes: ratings }, {
    format: "movielens", companions: [{ name: "ml-latest-small/movies.csv.gz", bytes: titles }],
  });
  state.loaded = data;
  return summary(data, (performance.now() - started) / 1000);
}

// A dropped file, or one member of a dropped zip archive, named as the readers name it.
function sourceOf(name: string): NamedBytes {
  const direct = state.files.get(name);
  if (direct) return { name, bytes: direct };
  const zip = name.slice(0, name.toLowerCase().indexOf(".zip:") + 4);
  const bytes = state.files.get(zip);
  if (!bytes) throw new Error(`${name}: the file is no longer there: drop it again`);
  return { name, bytes };
}

const columnPatterns: Record<keyof ColumnChoice, RegExp> = {
  user: /user|customer|member|session|visitor/i,
  item: /item|movie|film|artist|product|song|track|book|article|sku/i,
  value: /rating|score|value|count|plays|weight|quantity|clicks/i,
  timestamp: /time|date|when/i,
};

// Positions of the columns a format names (by header name or position) in this file.
function positionsOf<T extends Record<string, number | string | undefined>>(columns: T, header: string[] | undefined): { [K in keyof T]?: number } {
  const out: Record<string, number> = {};
  for (const [role, column] of Object.entries(columns)) {
    if (column === undefined) continue;
    const at = typeof column === "number" ? column : header?.findIndex((h) => h.toLowerCase() === column.toLowerCase()) ?? -1;
    if (at >= 0) out[role] = at;
  }
  return out as { [K in keyof T]?: number };
}

// For a file of no known format: columns by their header names, else the usual order
// (user, item, then a numeric value and a timestamp when the file has them).
function guessColumns(header: string[] | undefined, rows: string[][], fieldCount: number): ColumnChoice {
  const numeric = (k: number) => rows.length > 0 && rows.every((row) => row[k] !== "" && Number.isFinite(Number(row[k])));
  if (header) {
    const taken = new Set<number>();
    const find = (role: keyof ColumnChoice) => {
      const at = header.findIndex((h, k) => !taken.has(k) && columnPatterns[role].test(h));
      if (at >= 0) taken.add(at);
      return at >= 0 ? at : undefined;
    };
    const user = find("user"), item = find("item"), value = find("value"), timestamp = find("timestamp");
    if (user !== undefined && item !== undefined) return { user, item, value, timestamp };
  }
  const choice: ColumnChoice = { user: 0, item: Math.min(1, fieldCount - 1) };
  if (fieldCount > 2 && numeric(2)) choice.value = 2;
  if (fieldCount > 3 && numeric(3)) choice.timestamp = 3;
  return choice;
}

const baseName = (name: string) => name.slice(Math.max(name.lastIndexOf("/"), name.lastIndexOf(":")) + 1).toLowerCase().replace(/\.gz$/, "");
const folderOf = (name: string) => name.slice(0, Math.max(name.lastIndexOf("/"), name.lastIndexOf(":")) + 1);

// A table's dialect, first rows and likely columns; `header` overrides the sniffed one.
async function describe(name: string, header?: boolean): Promise<Candidate> {
  const candidate: Candidate = { name };
  try {
    const preview = await previewTable(sourceOf(name), { header: header ?? "auto" }, 6);
    Object.assign(candidate, { separator: preview.dialect.separator, header: preview.header, rows: preview.rows, fieldCount: preview.fieldCount });
    const format = findFormat(name);
    if (format) {
      candidate.format = format.name;
      const at = positionsOf(format.columns as unknown as Record<string, number | string | undefined>, preview.header);
      if (at.user !== undefined && at.item !== undefined) candidate.columns = { user: at.user, item: at.item, value: at.value, timestamp: at.timestamp };
    }
    candidate.columns ??= guessColumns(preview.header, preview.rows, preview.fieldCount);
  } catch (error) {
    candidate.error = (error as Error).message;
  }
  return candidate;
}

async function inspect(files: NamedBytes[]): Promise<Inspected> {
  for (const file of files) state.files.set(file.name, file.bytes);
  const names: string[] = [];
  for (const file of files) {
    const members = await listArchiveMembers(file);
    if (members.length === 0) names.push(file.name);
    else for (const member of members) names.push(`${file.name}:${member}`);
  }
  const candidates: Candidate[] = [];
  for (const name of names) candidates.push(await describe(name));
  const readable = candidates.filter((c) => !c.error && (c.fieldCount ?? 0) >= 2);
  const interactions = readable.find((c) => c.format) ?? readable.find((c) => !/^(movies|items|artists|links|tags|readme)/.test(baseName(c.name))) ?? readable[0];
  let titles: Candidate | undefined;
  const titlesFormat = interactions?.format ? findFormat(interactions.name)?.items : undefined;
  if (interactions && titlesFormat) {
    titles = readable.find((c) => c !== interactions && baseName(c.name) === titlesFormat.file && folderOf(c.name) === folderOf(interactions.name))
      ?? readable.find((c) => c !== interactions && baseName(c.name) === titlesFormat.file);
    if (titles) {
      const at = positionsOf({ key: titlesFormat.key, label: titlesFormat.label, info: titlesFormat.info }, titles.header);
      if (at.key !== undefined && at.label !== undefined) titles.titleColumns = { key: at.key, label: at.label, info: at.info };
    }
  }
  for (const c of readable) {
    if (!c.titleColumns) c.titleColumns = { key: 0, label: Math.min(1, (c.fieldCount ?? 2) - 1), info: (c.fieldCount ?? 0) > 2 ? 2 : undefined };
  }
  return { candidates, interactions: interactions?.name, titles: titles?.name };
}

async function load(name: string, header: boolean, columns: ColumnChoice, titles: TitlesChoice | undefined): Promise<Loaded> {
  const started = performance.now();
  const data = await loadDataset(sourceOf(name), {
    columns,
    header,
    items: titles ? sourceOf(titles.name) : false,
    itemColumns: titles ? { key: titles.key, label: titles.label, info: titles.info } : undefined,
  });
  state.loaded = data;
  return summary(data, (performance.now() - started) / 1000);
}

// ---------------------------------------------------------------------------------------
// Training

function prepare(settings: TrainSettings): Dataset {
  if (!state.loaded) throw new Error("no data loaded yet");
  const data = prepareDataset(state.loaded, { confidence: "raw", kCore: settings.minCount });
  if (data.user.length === 0) {
    throw new Error(`nothing is left after keeping users and items with at least ${settings.minCount} interactions: lower "Minimum ratings per person and movie" in the training settings`);
  }
  return data;
}

// The median training value: what each liked item counts as for someone new, as
// NamedQueries does (a liked movie is an ordinary rating, neither a 5 nor a 0.5).
function median(values: Float32Array): number {
  if (values.length === 0) return 1;
  const sorted = Float32Array.from(values).sort();
  return sorted[sorted.length >> 1] || 1;
}

async function train(settings: TrainSettings, progress: (p: unknown) => void): Promise<Trained> {
  const data = prepare(settings);
  state.model?.dispose();
  state.userItems?.dispose();
  state.model = undefined;
  const userItems = toUserItems(data);
  state.prepared = data;
  state.userItems = userItems;
  const { threads } = runtime();
  const model = new AlternatingLeastSquares({
    factors: settings.factors, regularization: settings.regularization, iterations: settings.iterations,
    seed: SEED, calculateTrainingLoss: true, threads,
  });
  const losses: number[] = [];
  const started = performance.now();
  await model.fit(userItems, {
    onIteration: (info) => {
      losses.push(info.loss ?? NaN);
      progress({ iteration: info.iteration, iterations: info.iterations, loss: info.loss, elapsed: info.elapsed });
    },
  });
  const seconds = (performance.now() - started) / 1000;
  state.model = model;
  const popularity = new Int32Array(userItems.nCols);
  for (const item of userItems.indices) popularity[item]++;
  state.popularity = popularity;
  state.typicalValue = median(userItems.data);
  const labels = data.itemLabels ?? data.itemKeys;
  state.names = new NameIndex(labels, popularity);
  return {
    users: userItems.nRows, items: userItems.nCols, interactions: userItems.nnz, seconds, threads, losses,
    catalog: { labels, info: data.itemInfo, popularity: Array.from(popularity) },
    steps: steps(data),
  };
}

// ---------------------------------------------------------------------------------------
// Queries

function trainedModel(): AlternatingLeastSquares {
  if (!state.model) throw new Error("the model is not trained yet");
  return state.model;
}

function similar(item: number, n: number): Scored[] {
  const model = trainedModel();
  const { ids, scores } = model.similarItems(item, { n: n + 1 }) as { ids: Int32Array; scores: Float32Array };
  const out: Scored[] = [];
  for (let j = 0; j < ids.length && out.length < n; j++) if (ids[j] !== item) out.push({ item: ids[j], score: scores[j] });
  return out;
}

// Someone new, folded into the trained model from the items they like (no retraining),
// with each recommendation's largest contributions from those liked items.
function recommend(liked: number[], n: number): Recommendation[] {
  const model = trainedModel();
  const items = [...new Set(liked)];
  if (items.length === 0) return [];
  const likedItems = { items, values: items.map(() => state.typicalValue) };
  const { ids, scores } = model.recommend(model.recalculateUser(likedItems), items, { n, filterAlreadyLikedItems: true });
  return Array.from(ids, (id, j) => {
    const { topContributions } = model.explain(0, likedItems, id, { n: 3 });
    const because = Array.from(topContributions.ids, (c, k) => ({ item: c, score: topContributions.scores[k] })).filter((b) => b.score > 0);
    return { item: id, score: scores[j], because };
  });
}

function resolve(names: string[]): number[] {
  if (!state.names) throw new Error("the model is not trained yet");
  return names.map((name) => state.names!.lookup(name)).filter((m) => m.found).map((m) => (m as { id: number }).id);
}

// ---------------------------------------------------------------------------------------
// Evaluation: leave-one-out with sampled negatives, ALS against BPR and popularity.

async function evaluate(settings: TrainSettings, progress: (p: unknown) => void): Promise<Evaluated> {
  const started = performance.now();
  const data = state.prepared ?? prepare(settings);
  // Stages weighted by their rough share of the time, for one honest progress bar.
  const stages = [
    { name: "Holding out each person's latest rating", weight: 0.02 },
    { name: "Training ALS on the rest", weight: 0.25 },
    { name: "Ranking held-out movies with ALS", weight: 0.05 },
    { name: "Training BPR on the rest", weight: 0.55 },
    { name: "Ranking held-out movies with BPR", weight: 0.05 },
    { name: "Ranking held-out movies by popularity", weight: 0.05 },
    { name: "Done", weight: 0.03 },
  ];
  const total = stages.reduce((s, x) => s + x.weight, 0);
  let stage = 0;
  const report = (within: number) => {
    const before = stages.slice(0, stage).reduce((s, x) => s + x.weight, 0);
    progress({ stage: stages[stage].name, fraction: (before + stages[stage].weight * within) / total });
  };
  const next = () => { stage++; report(0); };
  report(0);
  const hasTime = data.timestamp !== undefined;
  const { train: trainData, test } = hasTime ? splitChronological(data, { lastK: 1 }) : splitLeaveKOut(data, { k: 1, seed: SEED });
  const train = toUserItems(trainData);
  const options = { k: CUTOFF, metrics: ["hitRatio", "ndcg"] as const, candidates: SAMPLED_NEGATIVES, seed: SEED };
  const rows: EvaluationRow[] = [];
  const score = async (model: string, description: string, scorer: Scorer | AlternatingLeastSquares | BayesianPersonalizedRanking, trainSeconds: number) => {
    const result = await evaluateSampled(scorer, train, test, { ...options, metrics: [...options.metrics] });
    rows.push({ model, description, hitRatio: result.metrics.hitRatio ?? NaN, ndcg: result.metrics.ndcg ?? NaN, trainSeconds });
    return result;
  };
  const als = new AlternatingLeastSquares({
    factors: settings.factors, regularization: settings.regularization, iterations: settings.iterations, seed: SEED, threads: runtime().threads,
  });
  const bpr = new BayesianPersonalizedRanking({ factors: settings.factors, iterations: BPR_EPOCHS, learningRate: BPR_LEARNING_RATE, seed: SEED });
  try {
    next();
    let t = performance.now();
    await als.fit(train, { onIteration: (i) => report(i.iteration / i.iterations) });
    const alsSeconds = (performance.now() - t) / 1000;
    next();
    const first = await score("ALS", `alternating least squares, ${settings.factors} factors, ${settings.iterations} iterations`, als, alsSeconds);
    next();
    t = performance.now();
    await bpr.fit(train, { onEpoch: (e) => report(e.epoch / e.epochs) });
    const bprSeconds = (performance.now() - t) / 1000;
    next();
    await score("BPR", `Bayesian personalized ranking, ${settings.factors} factors, ${BPR_EPOCHS} epochs`, bpr, bprSeconds);
    next();
    await score("Popularity", "the most-rated movies, the same for everyone", popularityScorer(train), 0);
    next();
    return {
      split: hasTime ? "each person's latest rating held out" : "one random rating per person held out (the data has no timestamps)",
      usersEvaluated: first.usersEvaluated, candidates: SAMPLED_NEGATIVES, k: CUTOFF, rows, seconds: (performance.now() - started) / 1000,
    };
  } finally {
    als.dispose();
    bpr.dispose();
    train.dispose();
  }
}

// ---------------------------------------------------------------------------------------

async function handle(request: Request, progress: (p: unknown) => void): Promise<unknown> {
  switch (request.type) {
    case "hello": return runtime();
    case "load-builtin": return loadBuiltin(request.ratingsUrl, request.titlesUrl);
    case "inspect": return inspect(request.files);
    case "describe": return describe(request.name, request.header);
    case "load": return load(request.name, request.header, request.columns, request.titles);
    case "train": return train(request.settings, progress);
    case "similar": return similar(request.item, request.n);
    case "recommend": return recommend(request.liked, request.n);
    case "resolve": return resolve(request.names);
    case "evaluate": return evaluate(request.settings, progress);
  }
}

// One request at a time, in order: training and queries share the model and the memory.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (event) => {
  const { id, ...request } = event.data;
  queue = queue.then(async () => {
    try {
      const result = await handle(request as Request, (progress) => scope.postMessage({ id, progress }));
      scope.postMessage({ id, result });
    } catch (error) {
      const data = error instanceof DataError;
      scope.postMessage({
        id,
        error: data
          ? { message: error.message, file: error.file, line: error.line, field: error.field, data: true }
          : { message: (error as Error)?.message ?? String(error), data: false },
      });
    }
  });
};

// The page waits for this before its first request: this module's imports load the
// engine first (top-level await), and a message arriving before onmessage is set is lost.
scope.postMessage({ id: 0, result: "ready" });
