// The page: talks to the recommender worker, and turns its answers into the data,
// training, search, favourites and evaluation panels. Plain DOM, no framework.

import { drawLossChart } from "./chart.js";
import type {
  Candidate, CatalogView, ColumnChoice, Evaluated, EvaluationProgress, Inspected, Loaded, NamedBytes, Recommendation,
  Reply, Request, Runtime, Scored, TitlesChoice, Trained, TrainProgress, TrainSettings, WorkerError,
} from "./messages.js";

// ---------------------------------------------------------------------------------------
// The worker, behind promises

class WorkerFailure extends Error {
  constructor(readonly detail: WorkerError) { super(detail.message); }
}

const worker = new Worker(new URL("./recommender-worker.js", import.meta.url), { type: "module" });
const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void; onProgress?(p: unknown): void }>();
let nextId = 1;
const workerReady = new Promise<void>((resolve, reject) => {
  pending.set(0, { resolve: () => resolve(), reject });
});
worker.onmessage = (event: MessageEvent<Reply>) => {
  const reply = event.data;
  const task = pending.get(reply.id);
  if (!task) return;
  if ("progress" in reply) return task.onProgress?.(reply.progress);
  pending.delete(reply.id);
  if ("error" in reply) task.reject(new WorkerFailure(reply.error));
  else task.resolve(reply.result);
};
worker.onerror = (event) => {
  const failure = new Error(`the recommender worker failed: ${event.message || "it could not start (see the browser console)"}`);
  for (const task of pending.values()) task.reject(failure);
  pending.clear();
  showFatal(failure);
};

async function ask<T>(request: Request, onProgress?: (p: never) => void, transfer: Transferable[] = []): Promise<T> {
  await workerReady;
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress: onProgress as ((p: unknown) => void) | undefined });
    worker.postMessage({ id, ...request }, transfer);
  });
}

// ---------------------------------------------------------------------------------------
// Small DOM helpers

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<Record<string, string>> = {}, ...children: (Node | string | null | undefined)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) if (value !== undefined) node.setAttribute(key, value);
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

const count = (n: number) => n.toLocaleString("en-US");
const seconds = (s: number) => (s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`);
const plural = (n: number, one: string, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;

function describeError(error: unknown): HTMLElement {
  const detail = error instanceof WorkerFailure ? error.detail : { message: (error as Error)?.message ?? String(error), data: false };
  const box = h("div");
  if (detail.data) {
    box.append(h("p", {}, h("strong", {}, "This file could not be read. ")));
    const where = h("dl", { class: "where" });
    where.append(h("dt", {}, "File"), h("dd", {}, h("code", {}, detail.file ?? "?")));
    if (detail.line !== undefined) where.append(h("dt", {}, "Line"), h("dd", {}, count(detail.line)));
    if (detail.field !== undefined) where.append(h("dt", {}, "Column"), h("dd", {}, detail.field));
    box.append(where, h("p", { class: "message" }, detail.message));
  } else {
    box.append(h("p", {}, h("strong", {}, "Something went wrong: "), detail.message));
  }
  return box;
}

function showError(target: HTMLElement, error: unknown): void {
  target.replaceChildren(describeError(error));
  target.hidden = false;
}

function showFatal(error: unknown): void {
  showError($("data-error"), error);
}

// ---------------------------------------------------------------------------------------
// State

let runtime: Runtime | undefined;
let catalog: CatalogView | undefined;
let favourites: number[] = [];
let trainedOnce = false;
let busy = false;
const favouriteNamesExample = ["Star Wars: Episode IV - A New Hope", "Matrix, The", "Alien", "Terminator 2: Judgment Day", "Back to the Future"];

function settings(): TrainSettings {
  const number = (id: string, fallback: number) => {
    const value = Number(($(id) as HTMLInputElement).value);
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  return {
    factors: Math.round(number("set-factors", 64)),
    iterations: Math.round(number("set-iterations", 15)),
    regularization: number("set-regularization", 0.05),
    minCount: Math.round(number("set-min-count", 5)),
  };
}

const label = (item: number) => catalog?.labels[item] ?? String(item);
const info = (item: number) => catalog?.info?.[item]?.replaceAll("|", " · ") ?? "";

// ---------------------------------------------------------------------------------------
// 1. Data

function renderLoaded(loaded: Loaded, builtin: boolean): void {
  const what = builtin ? "MovieLens latest-small" : loaded.source;
  $("data-summary").replaceChildren(
    h("strong", {}, what), `: ${plural(loaded.users, "person", "people")} gave ${plural(loaded.rows, "rating")} to ${plural(loaded.items, builtin ? "movie" : "item")}`,
    loaded.named ? "." : " (no names file: items are shown by their ids).",
    h("span", { class: "hint" }, ` Read in ${seconds(loaded.seconds)}.`),
  );
  renderSteps(loaded.steps);
}

function renderSteps(steps: { transform: string; detail: string }[]): void {
  $("data-steps").replaceChildren(...steps.map((s) => h("li", {}, h("strong", {}, `${s.transform}: `), s.detail)));
}

async function loadBuiltin(): Promise<void> {
  $("data-error").hidden = true;
  const base = new URL("data/ml-latest-small/", document.baseURI);
  const loaded = await ask<Loaded>({ type: "load-builtin", ratingsUrl: new URL("ratings.csv.gz", base).href, titlesUrl: new URL("movies.csv.gz", base).href });
  renderLoaded(loaded, true);
}

// Dropping or choosing files: read them, let the worker find the tables, show the mapping form.
async function takeFiles(files: File[]): Promise<void> {
  if (files.length === 0) return;
  $("data-error").hidden = true;
  try {
    const named: NamedBytes[] = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
    const inspected = await ask<Inspected>({ type: "inspect", files: named }, undefined, named.map((f) => f.bytes.buffer));
    showMapping(inspected);
  } catch (error) {
    showError($("data-error"), error);
  }
}

function setupDropzone(): void {
  const zone = $("dropzone");
  const input = $<HTMLInputElement>("file-input");
  zone.addEventListener("click", () => input.click());
  zone.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); }
  });
  input.addEventListener("change", () => { void takeFiles(Array.from(input.files ?? [])); input.value = ""; });
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    void takeFiles(Array.from(event.dataTransfer?.files ?? []));
  });
}

const SEPARATOR_NAMES: Record<string, string> = { ",": "comma-separated", "\t": "tab-separated", "::": "'::'-separated", "|": "pipe-separated", ";": "semicolon-separated", whitespace: "space-separated" };

function columnOptions(candidate: Candidate, optional: boolean, selected: number | undefined): HTMLOptionElement[] {
  const options = optional ? [h("option", { value: "" }, "— none —")] : [];
  for (let k = 0; k < (candidate.fieldCount ?? 0); k++) {
    const name = candidate.header?.[k];
    const sample = candidate.rows?.[0]?.[k];
    const text = `${k + 1}: ${name ?? `column ${k + 1}`}${sample !== undefined ? ` (e.g. ${sample.slice(0, 24)})` : ""}`;
    const option = h("option", { value: String(k) }, text);
    if (k === selected) option.selected = true;
    options.push(option);
  }
  if (optional && selected === undefined) options[0].selected = true;
  return options;
}

function select(id: string, text: string, options: HTMLOptionElement[]): HTMLLabelElement {
  const element = h("select", { id });
  element.append(...options);
  return h("label", {}, text, " ", element);
}

function showMapping(inspected: Inspected): void {
  const readable = inspected.candidates.filter((c) => !c.error && (c.fieldCount ?? 0) >= 2);
  const form = $<HTMLFormElement>("mapping");
  if (readable.length === 0) {
    const first = inspected.candidates.find((c) => c.error);
    showError($("data-error"), new WorkerFailure({ message: first?.error ?? "no table with at least two columns in what was dropped", data: true, file: first?.name }));
    return;
  }
  const fileSelect = $<HTMLSelectElement>("map-file");
  fileSelect.replaceChildren(...readable.map((c) => h("option", { value: c.name }, c.name)));
  fileSelect.value = inspected.interactions ?? readable[0].name;
  const titlesSelect = $<HTMLSelectElement>("map-titles");
  titlesSelect.replaceChildren(h("option", { value: "" }, "— none: show ids —"), ...readable.map((c) => h("option", { value: c.name }, c.name)));
  titlesSelect.value = inspected.titles ?? "";
  const byName = new Map(readable.map((c) => [c.name, c]));

  const headerBox = $<HTMLInputElement>("map-header");
  const renderInteractions = () => {
    const candidate = byName.get(fileSelect.value)!;
    headerBox.checked = candidate.header !== undefined;
    $("mapping-help").textContent = `${candidate.name}: ${SEPARATOR_NAMES[candidate.separator ?? ""] ?? `separated by '${candidate.separator}'`}, ${candidate.header ? "the first row names the columns" : "no header row"}${candidate.format ? `; recognised as ${candidate.format}` : ""}. Check the columns below.`;
    const table = $("map-preview");
    const head = h("tr", {}, ...Array.from({ length: candidate.fieldCount ?? 0 }, (_, k) => h("th", { scope: "col" }, `${k + 1}${candidate.header ? `: ${candidate.header[k]}` : ""}`)));
    table.replaceChildren(h("thead", {}, head), h("tbody", {}, ...(candidate.rows ?? []).map((row) => h("tr", {}, ...row.map((field) => h("td", {}, field))))));
    const columns = candidate.columns ?? { user: 0, item: 1 };
    $("map-columns").replaceChildren(
      select("map-user", "Person (user)", columnOptions(candidate, false, columns.user)),
      select("map-item", "Item", columnOptions(candidate, false, columns.item)),
      select("map-value", "Rating or count", columnOptions(candidate, true, columns.value)),
      select("map-timestamp", "Time", columnOptions(candidate, true, columns.timestamp)),
    );
  };
  // The sniffer can be wrong (a header over a column with a typo looks like data): let
  // the person say, and read the preview again.
  headerBox.onchange = async () => {
    try {
      const described = await ask<Candidate>({ type: "describe", name: fileSelect.value, header: headerBox.checked });
      if (described.error) throw new WorkerFailure({ message: described.error, data: true, file: described.name });
      byName.set(described.name, { ...byName.get(described.name), ...described });
      renderInteractions();
    } catch (error) {
      showError($("data-error"), error);
    }
  };
  const renderTitles = () => {
    const candidate = byName.get(titlesSelect.value);
    const holder = $("map-title-columns");
    if (!candidate) return holder.replaceChildren();
    const at = candidate.titleColumns ?? { key: 0, label: 1 };
    holder.replaceChildren(
      select("map-title-key", "Item id", columnOptions(candidate, false, at.key)),
      select("map-title-label", "Name", columnOptions(candidate, false, at.label)),
      select("map-title-info", "Details", columnOptions(candidate, true, at.info)),
    );
  };
  fileSelect.onchange = renderInteractions;
  titlesSelect.onchange = renderTitles;
  renderInteractions();
  renderTitles();
  form.hidden = false;
  fileSelect.focus();
}

function chosenNumber(id: string): number | undefined {
  const value = ($(id) as HTMLSelectElement | null)?.value;
  return value === undefined || value === "" ? undefined : Number(value);
}

async function loadMapped(): Promise<void> {
  const columns: ColumnChoice = { user: chosenNumber("map-user")!, item: chosenNumber("map-item")!, value: chosenNumber("map-value"), timestamp: chosenNumber("map-timestamp") };
  const titlesName = $<HTMLSelectElement>("map-titles").value;
  const titles: TitlesChoice | undefined = titlesName
    ? { name: titlesName, key: chosenNumber("map-title-key")!, label: chosenNumber("map-title-label")!, info: chosenNumber("map-title-info") }
    : undefined;
  $("data-error").hidden = true;
  try {
    const loaded = await ask<Loaded>({ type: "load", name: $<HTMLSelectElement>("map-file").value, header: $<HTMLInputElement>("map-header").checked, columns, titles });
    $("mapping").hidden = true;
    renderLoaded(loaded, false);
    resetQueries();
    await train();
  } catch (error) {
    showError($("data-error"), error);
  }
}

// ---------------------------------------------------------------------------------------
// 2. Training

function renderRuntime(r: Runtime): void {
  const chips = [
    h("li", { class: `chip ${r.isolated ? "good" : "warn"}`, id: "runtime-isolation" }, r.isolated ? "Cross-origin isolated" : "Not cross-origin isolated"),
    h("li", { class: "chip", id: "runtime-threads" }, `Trains on ${plural(r.threads, "thread")} of ${plural(r.cores, "core")}`),
    h("li", { class: "chip" }, r.shared ? "Shared-memory WebAssembly" : "WebAssembly, one thread"),
  ];
  if (!r.isolated && r.cores > 1) {
    chips.push(h("li", { class: "chip hint-chip" }, "Serve with COOP/COEP headers to use every core"));
  }
  $("runtime").replaceChildren(...chips);
}

function setBusy(value: boolean): void {
  busy = value;
  for (const id of ["run-evaluation", "example-favourites"]) $<HTMLButtonElement>(id).disabled = value || !trainedOnce;
  $("settings").querySelector("button")!.disabled = value;
  $("dropzone").setAttribute("aria-disabled", String(value));
}

async function train(): Promise<void> {
  const s = settings();
  setBusy(true);
  const progress = $<HTMLProgressElement>("train-progress");
  const text = $("train-text");
  const chart = $("loss-chart") as unknown as SVGSVGElement;
  const losses: number[] = [];
  progress.value = 0;
  drawLossChart(chart, losses, s.iterations);
  text.textContent = "Preparing the data…";
  try {
    const trained = await ask<Trained>({ type: "train", settings: s }, (p: TrainProgress) => {
      losses.push(p.loss ?? NaN);
      progress.value = p.iteration / p.iterations;
      text.textContent = `Round ${p.iteration} of ${p.iterations} · ${seconds(p.elapsed)}${p.loss !== undefined ? ` · loss ${p.loss.toPrecision(4)}` : ""}`;
      drawLossChart(chart, losses, p.iterations);
    });
    catalog = trained.catalog;
    trainedOnce = true;
    progress.value = 1;
    drawLossChart(chart, trained.losses, s.iterations);
    text.replaceChildren(
      h("strong", {}, `Trained in ${seconds(trained.seconds)}`),
      ` on ${plural(trained.threads, "thread")}: ${plural(trained.users, "person", "people")} × ${plural(trained.items, "item")}, ${plural(trained.interactions, "rating")} (${s.factors} factors, ${s.iterations} rounds).`,
    );
    text.dataset.seconds = String(trained.seconds);
    text.dataset.threads = String(trained.threads);
    renderSteps(trained.steps);
    $<HTMLInputElement>("search-input").disabled = false;
    $<HTMLButtonElement>("clear-favourites").disabled = favourites.length === 0;
    document.body.dataset.trained = "true";
  } catch (error) {
    text.textContent = "Training failed.";
    showError($("data-error"), error);
  } finally {
    setBusy(false);
  }
  if (trainedOnce) await refreshRecommendations();
}

// ---------------------------------------------------------------------------------------
// 3. Search and similar items

// Titles in the form they are matched in: lowercase words, accents removed; "Matrix, The
// (1999)" also answers to "the matrix".
function words(text: string): string[] {
  return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

let searchIndex: { words: string[]; lead: string[] }[] = [];
function buildSearchIndex(): void {
  searchIndex = (catalog?.labels ?? []).map((title) => {
    const all = words(title);
    const article = /^(.*),\s*(The|A|An|Les|La|Le|Il|Das|Der|Die|El)(\s*\(.*\))?$/i.exec(title);
    return { words: all, lead: article ? [article[2].toLowerCase(), ...words(article[1])] : all };
  });
}

/** Items whose title has a word starting with every typed word; titles starting with the query first, then the most rated. */
function search(query: string, limit = 8): number[] {
  const typed = words(query);
  if (typed.length === 0 || !catalog) return [];
  const popularity = catalog.popularity;
  const hits: { item: number; rank: number }[] = [];
  searchIndex.forEach((entry, item) => {
    if (!typed.every((t) => entry.words.some((w) => w.startsWith(t)))) return;
    const leads = (list: string[]) => typed.every((t, j) => (j < typed.length - 1 ? list[j] === t : list[j]?.startsWith(t)));
    hits.push({ item, rank: (leads(entry.words) || leads(entry.lead) ? 1e9 : 0) + popularity[item] });
  });
  return hits.sort((a, b) => b.rank - a.rank).slice(0, limit).map((hit) => hit.item);
}

function setupSearch(): void {
  const input = $<HTMLInputElement>("search-input");
  const list = $("search-list");
  let options: number[] = [];
  let active = -1;
  const close = () => { list.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); active = -1; };
  const highlight = (index: number) => {
    active = index;
    list.querySelectorAll("[role=option]").forEach((node, j) => node.setAttribute("aria-selected", String(j === index)));
    if (index >= 0) input.setAttribute("aria-activedescendant", `search-option-${index}`);
    else input.removeAttribute("aria-activedescendant");
  };
  const choose = (item: number) => { close(); input.value = label(item); void showSimilar(item); };
  input.addEventListener("input", () => {
    if (searchIndex.length !== (catalog?.labels.length ?? 0)) buildSearchIndex();
    options = search(input.value);
    list.replaceChildren(...options.map((item, j) => {
      const option = h("li", { role: "option", id: `search-option-${j}`, "aria-selected": "false" }, h("span", { class: "title" }, label(item)), h("span", { class: "meta" }, info(item)));
      option.addEventListener("mousedown", (event) => { event.preventDefault(); choose(item); });
      return option;
    }));
    if (options.length === 0 && input.value.trim()) list.replaceChildren(h("li", { class: "empty" }, "No title matches"));
    list.hidden = input.value.trim() === "";
    input.setAttribute("aria-expanded", String(!list.hidden));
    highlight(options.length ? 0 : -1);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && options.length) { event.preventDefault(); list.hidden = false; input.setAttribute("aria-expanded", "true"); highlight((active + 1) % options.length); }
    else if (event.key === "ArrowUp" && options.length) { event.preventDefault(); highlight((active - 1 + options.length) % options.length); }
    else if (event.key === "Enter" && active >= 0 && !list.hidden) { event.preventDefault(); choose(options[active]); }
    else if (event.key === "Escape") close();
  });
  input.addEventListener("blur", close);
}

function scoreBar(score: number, max: number): HTMLElement {
  const fraction = max > 0 ? Math.max(0, Math.min(1, score / max)) : 0;
  return h("span", { class: "bar", style: `--fill: ${(fraction * 100).toFixed(1)}%`, "aria-hidden": "true" });
}

function favouriteButton(item: number): HTMLButtonElement {
  const on = favourites.includes(item);
  const button = h("button", { type: "button", class: `heart${on ? " on" : ""}`, "aria-pressed": String(on), "aria-label": `${on ? "Remove" : "Add"} ${label(item)} ${on ? "from" : "to"} favourites` }, on ? "♥" : "♡");
  button.addEventListener("click", () => toggleFavourite(item));
  return button;
}

let shownSimilar: number | undefined;
async function showSimilar(item: number): Promise<void> {
  shownSimilar = item;
  const target = $("similar");
  try {
    const results = await ask<Scored[]>({ type: "similar", item, n: 10 });
    if (shownSimilar !== item) return;
    const max = results[0]?.score ?? 1;
    target.replaceChildren(
      h("div", { class: "similar-head" }, h("h3", {}, "Movies like ", h("em", {}, label(item))), favouriteButton(item)),
      h("ol", { class: "results", id: "similar-list" }, ...results.map((r) => h("li", {},
        h("div", { class: "result-main" }, h("span", { class: "title" }, label(r.item)), h("span", { class: "meta" }, info(r.item))),
        h("div", { class: "result-score", title: `cosine similarity ${r.score.toFixed(3)}` }, scoreBar(r.score, max), h("span", { class: "score" }, r.score.toFixed(2))),
        favouriteButton(r.item),
      ))),
    );
  } catch (error) {
    showError(target, error);
  }
}

// ---------------------------------------------------------------------------------------
// 4. Favourites and recommendations

function toggleFavourite(item: number): void {
  favourites = favourites.includes(item) ? favourites.filter((f) => f !== item) : [...favourites, item];
  renderFavourites();
  if (shownSimilar !== undefined) refreshHearts();
  void refreshRecommendations();
}

// Hearts elsewhere on the page follow the favourites list.
function refreshHearts(): void {
  document.querySelectorAll<HTMLButtonElement>("#similar .heart").forEach((button) => {
    const row = button.closest("li");
    const title = row?.querySelector(".title")?.textContent ?? button.closest(".similar-head")?.querySelector("em")?.textContent;
    const item = catalog?.labels.indexOf(title ?? "");
    if (item !== undefined && item >= 0) button.replaceWith(favouriteButton(item));
  });
}

function renderFavourites(): void {
  $("favourite-list").replaceChildren(...favourites.map((item) => {
    const remove = h("button", { type: "button", class: "chip-remove", "aria-label": `Remove ${label(item)}` }, "×");
    remove.addEventListener("click", () => toggleFavourite(item));
    return h("li", { class: "chip favourite" }, h("span", {}, label(item)), remove);
  }));
  $<HTMLButtonElement>("clear-favourites").disabled = favourites.length === 0;
}

let recommendationRequest = 0;
async function refreshRecommendations(): Promise<void> {
  const target = $("recommendations");
  const request = ++recommendationRequest;
  if (favourites.length === 0) {
    target.replaceChildren(h("li", { class: "empty" }, "No favourites yet: search for a movie above and press ♡, or try the example."));
    return;
  }
  try {
    const results = await ask<Recommendation[]>({ type: "recommend", liked: favourites, n: 10 });
    if (request !== recommendationRequest) return;
    const max = results[0]?.score ?? 1;
    target.replaceChildren(...results.map((r) => {
      const because = r.because.map((b) => label(b.item));
      return h("li", {},
        h("div", { class: "result-main" },
          h("span", { class: "title" }, label(r.item)),
          h("span", { class: "meta" }, info(r.item)),
          because.length ? h("span", { class: "because" }, "Because you liked ", ...joinNames(because)) : null),
        h("div", { class: "result-score", title: `score ${r.score.toFixed(3)}` }, scoreBar(r.score, max), h("span", { class: "score" }, r.score.toFixed(2))),
        favouriteButton(r.item));
    }));
    document.body.dataset.recommended = String(results.length);
  } catch (error) {
    showError(target, error);
  }
}

function joinNames(names: string[]): (string | HTMLElement)[] {
  const out: (string | HTMLElement)[] = [];
  names.forEach((name, j) => {
    if (j > 0) out.push(j === names.length - 1 ? " and " : ", ");
    out.push(h("em", {}, name));
  });
  return out;
}

function resetQueries(): void {
  favourites = [];
  shownSimilar = undefined;
  renderFavourites();
  $("similar").replaceChildren();
  $("recommendations").replaceChildren();
  $("eval-result").replaceChildren();
  $<HTMLInputElement>("search-input").value = "";
  searchIndex = [];
}

// ---------------------------------------------------------------------------------------
// 5. Evaluation

async function runEvaluation(): Promise<void> {
  setBusy(true);
  const line = $("eval-progress-line");
  const progress = $<HTMLProgressElement>("eval-progress");
  const text = $("eval-text");
  line.hidden = false;
  progress.value = 0;
  try {
    const result = await ask<Evaluated>({ type: "evaluate", settings: settings() }, (p: EvaluationProgress) => {
      progress.value = p.fraction;
      text.textContent = `${p.stage}…`;
    });
    progress.value = 1;
    text.textContent = `Done in ${seconds(result.seconds)}: ${plural(result.usersEvaluated, "person", "people")} evaluated, ${result.split}.`;
    renderEvaluation(result);
  } catch (error) {
    text.textContent = "The evaluation failed.";
    showError($("eval-result"), error);
  } finally {
    setBusy(false);
  }
}

function renderEvaluation(result: Evaluated): void {
  const bestHit = Math.max(...result.rows.map((r) => r.hitRatio));
  const bestNdcg = Math.max(...result.rows.map((r) => r.ndcg));
  const cell = (value: number, best: number) => h("td", { class: value === best ? "best" : "" },
    h("span", { class: "bar", style: `--fill: ${(value * 100).toFixed(1)}%`, "aria-hidden": "true" }), h("span", { class: "score" }, value.toFixed(3)));
  const table = h("table", { class: "evaluation-table", id: "evaluation-table" },
    h("caption", {}, `Each of ${plural(result.usersEvaluated, "person", "people")}: the held-out movie among ${count(result.candidates)} others; higher is better.`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Method"), h("th", { scope: "col" }, `Hit rate @ ${result.k}`), h("th", { scope: "col" }, `NDCG @ ${result.k}`), h("th", { scope: "col" }, "Training time"))),
    h("tbody", {}, ...result.rows.map((r) => h("tr", {},
      h("th", { scope: "row" }, h("strong", {}, r.model), h("span", { class: "meta" }, r.description)),
      cell(r.hitRatio, bestHit), cell(r.ndcg, bestNdcg),
      h("td", {}, r.trainSeconds > 0 ? seconds(r.trainSeconds) : "—"),
    ))),
  );
  const popularity = result.rows.find((r) => r.model === "Popularity");
  const best = [...result.rows].sort((a, b) => b.hitRatio - a.hitRatio)[0];
  const summary = popularity && best !== popularity
    ? `${best.model} puts the hidden movie in its top ${result.k} for ${(best.hitRatio * 100).toFixed(0)}% of people, against ${(popularity.hitRatio * 100).toFixed(0)}% when everyone is shown the most popular movies.`
    : `Popularity is hard to beat on this data: try more rounds or a different regularization.`;
  $("eval-result").replaceChildren(h("div", { class: "table-scroll" }, table), h("p", { class: "explain" }, summary));
}

// ---------------------------------------------------------------------------------------
// Start

async function start(): Promise<void> {
  setupDropzone();
  setupSearch();
  renderFavourites();
  $("mapping").addEventListener("submit", (event) => { event.preventDefault(); void loadMapped(); });
  $("map-cancel").addEventListener("click", async () => {
    $("mapping").hidden = true;
    resetQueries();
    try { await loadBuiltin(); await train(); } catch (error) { showFatal(error); }
  });
  $("settings").addEventListener("submit", (event) => { event.preventDefault(); if (!busy) void train(); });
  $("run-evaluation").addEventListener("click", () => { if (!busy) void runEvaluation(); });
  $("clear-favourites").addEventListener("click", () => { favourites = []; renderFavourites(); refreshHearts(); void refreshRecommendations(); });
  $("example-favourites").addEventListener("click", async () => {
    const ids = await ask<number[]>({ type: "resolve", names: favouriteNamesExample });
    if (ids.length === 0) {
      $("recommendations").replaceChildren(h("li", { class: "empty" }, `None of the example movies (${favouriteNamesExample.join("; ")}) are in this data: search for items above instead.`));
      return;
    }
    favourites = [...new Set([...favourites, ...ids])];
    renderFavourites();
    refreshHearts();
    await refreshRecommendations();
  });
  try {
    runtime = await ask<Runtime>({ type: "hello" });
    renderRuntime(runtime);
    $("eval-negatives").textContent = count(runtime.evaluation.negatives);
    $("eval-k").textContent = count(runtime.evaluation.cutoff);
    document.body.dataset.threads = String(runtime.threads);
    document.body.dataset.isolated = String(runtime.isolated);
    await loadBuiltin();
    await train();
  } catch (error) {
    showFatal(error);
  }
}

void start();
