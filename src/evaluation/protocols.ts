// The two evaluation protocols over a trained model:
// - full ranking: every item the user did not train on is ranked, the top k scored
//   against the user's held-out items (implicit's ranking_metrics_at_k);
// - sampled: the held-out items ranked among n items the user never touched, drawn with
//   a seeded generator or read from an NCF benchmark file (He et al. 2017; Rendle's
//   iALS revisited), ties broken against the held-out items.
// Models are seen through a small scoring interface, so anything that scores items
// (factor models, item-item neighbours, popularity) can be evaluated the same way.

import type { CsrMatrix } from "../csr.js";
import type { FactorModel, RecommendOptions, TopN } from "../factorization.js";
import { groupRowsBy, type Interactions } from "../dataset/transforms.js";
import { DataError } from "../io/errors.js";
import type { SourceInput } from "../io/source.js";
import { auc, METRICS, orderable, rankingMetricsAtK, RANKING_METRICS, type Metric, type RankingMetric } from "./metrics.js";
import { readNcfNegatives, resolveNcfCases } from "./ncf.js";
import { SeededRandom } from "./splits.js";

/** Anything that scores items for a user: higher is better. */
export interface Scorer {
  /** One score per item of `items`, in their order (a Float32Array, or any array of numbers). */
  scoreItems(user: number, items: Int32Array): ArrayLike<number>;
}

/**
 * A Scorer over a factor model's stored factors: the inner product of the user's and the
 * item's rows, as recommend ranks them (computed in JavaScript in float64 from the
 * float32 factors, so the last bits can differ from recommend's float32 SIMD sums).
 * Reads the factors afresh at every call, so it follows the model if it is refitted.
 */
export function factorScorer(model: FactorModel): Scorer {
  return {
    scoreItems(user: number, items: Int32Array): Float32Array {
      const k = model.factors, nItems = model.nItems;
      if (!Number.isInteger(user) || user < 0 || user >= model.nUsers) throw new RangeError(`factorScorer: user ${user} is outside [0, ${model.nUsers})`);
      const x = Float64Array.from(model.userFactors.subarray(user * k, (user + 1) * k));
      const y = model.itemFactors;
      const out = new Float32Array(items.length);
      for (let j = 0; j < items.length; j++) {
        const item = items[j];
        if (!(item >= 0 && item < nItems)) throw new RangeError(`factorScorer: item ${item} is outside [0, ${nItems})`);
        const base = item * k;
        let s = 0;
        for (let f = 0; f < k; f++) s += x[f] * y[base + f];
        out[j] = s;
      }
      return out;
    },
  };
}

/** Anything with implicit's recommend(user, userItems, { items, n, filterAlreadyLikedItems }). */
export interface Recommends {
  recommend(user: number, userItems: CsrMatrix, options: RecommendOptions): TopN;
}

/**
 * A Scorer over any model's recommend (factor models, the item-item recommenders,
 * popularity): the items are ranked with `{ items, n: items.length,
 * filterAlreadyLikedItems: false }` and each gets the score recommend returns for it; an
 * item recommend leaves out scores -Infinity. One recommend call per user: for the
 * sampled protocol; full ranking of a FactorModel is faster given the model itself.
 */
export function recommendScorer(model: Recommends, userItems: CsrMatrix): Scorer {
  return {
    scoreItems(user: number, items: Int32Array): Float32Array {
      const out = new Float32Array(items.length).fill(-Infinity);
      if (items.length === 0) return out;
      const { ids, scores } = model.recommend(user, userItems, { items, n: items.length, filterAlreadyLikedItems: false });
      const score = new Map<number, number>();
      for (let j = 0; j < ids.length; j++) score.set(ids[j], scores[j]);
      for (let j = 0; j < items.length; j++) { const s = score.get(items[j]); if (s !== undefined) out[j] = s; }
      return out;
    },
  };
}

/** The popularity baseline: an item's score is the number of users who have it in `train`. */
export function popularityScorer(train: CsrMatrix): Scorer {
  const counts = columnCounts(train.indices, train.nCols);
  return {
    scoreItems(_user: number, items: Int32Array): Float32Array {
      const out = new Float32Array(items.length);
      for (let j = 0; j < items.length; j++) out[j] = counts[items[j]];
      return out;
    },
  };
}

export interface EvaluationOptions {
  /** The cut-off of every metric. Default 10. */
  k?: number;
  /**
   * Which metrics to report (see metrics.ts). Default: precision, implicitPrecision,
   * recall, map, ndcg, hitRatio. 'auc' on request: per user over every candidate (full
   * ranking: all items not in train; sampled: held-out and sampled items), ties against
   * the held-out items; under full ranking it needs every item's score.
   */
  metrics?: readonly Metric[];
  /** Also return each evaluated user's values. Default false. */
  perUser?: boolean;
}

export interface FullRankingOptions extends EvaluationOptions {
  /** Worker threads ranking a FactorModel's users (default every core; the same answers for any number). */
  threads?: number;
}

export interface SampledOptions extends EvaluationOptions {
  /** Negatives drawn per user. Default 100. */
  candidates?: number;
  /**
   * How negatives are drawn, without replacement, among items the user has in neither
   * train nor test: 'uniform' (default), or 'popularity', in proportion to the number of
   * users who have the item in train (items nobody trained on are never drawn).
   */
  sampling?: "uniform" | "popularity";
  /** Seed of the draws. Default 0. */
  seed?: number;
  /**
   * Read the cases from a file in the NCF benchmark format instead of drawing them: one
   * line per test user, `(user,item)` then its negatives, tab-separated. The file's pair
   * is the held-out item (if `test` has rows, it must be one of them; test users the file
   * does not list are skipped), and its negatives are ranked as listed.
   */
  candidatesFile?: SourceInput;
  /** How the file's ids read: the data's own keys (default, via test's key arrays) or 0-based indices. */
  ids?: "keys" | "indices";
}

/** Users with held-out items that were not evaluated, by reason. */
export interface SkippedUsers {
  /** No row in train: the model knows nothing of them (cold start is not measured). */
  noTrainInteractions: number;
  /** Every held-out item of theirs is also in their train row, where it can never be recommended. */
  allTestItemsInTrain: number;
  /** Sampled with a candidates file that has no line for them. */
  noCandidatesLine: number;
}

export interface EvaluationResult {
  protocol: "full-ranking" | "sampled";
  k: number;
  /**
   * Each asked-for metric's mean over the evaluated users, except implicitPrecision,
   * pooled as implicit pools it: Σ hits / Σ min(k, |held-out|).
   */
  metrics: Partial<Record<Metric, number>>;
  usersEvaluated: number;
  usersSkipped: number;
  skipped: SkippedUsers;
  /** Held-out (user, item) pairs left out because the user also has the item in train. */
  testPairsInTrain: number;
  /** Sampled: users given fewer negatives than asked (too few items left to draw from). */
  usersWithFewerCandidates?: number;
  /** Sampled from a file: listed negatives the user in fact has in train or test (ranked as listed anyway). */
  touchedNegatives?: number;
  /** With `perUser`: the evaluated users, and each metric's value for each (implicitPrecision per user). */
  perUser?: { users: Int32Array; metrics: Partial<Record<Metric, Float64Array>> };
  /** A one-line summary for a person. */
  detail: string;
}

/**
 * Full-ranking evaluation: for each user with held-out items in `test`, every item not in
 * their `train` row is ranked and the first k are scored against the held-out items
 * (those also in train are dropped: they can never be recommended).
 *
 * A FactorModel is ranked with model.recommendAsync(users, train, { n: k }), in batches,
 * in wasm on worker threads; exact score ties then fall as recommend breaks them. A Scorer (or a FactorModel
 * when 'auc' is asked for, through factorScorer) has every item scored, and ties go
 * against the held-out items. `train` is the users × items matrix the model was trained
 * on, `test` the held-out interactions with the same key arrays (see splits.ts).
 */
export async function evaluateFullRanking(model: Scorer | FactorModel, train: CsrMatrix, test: Interactions, options: FullRankingOptions = {}): Promise<EvaluationResult> {
  const name = "evaluateFullRanking";
  const { k, metrics, perUser } = checkOptions(options, name);
  const context = prepare(name, model, train, test);
  const tally = new Tally(metrics, k, perUser);
  const cases = heldOut(context, tally);
  const wantAuc = metrics.includes("auc");

  if (!isScorer(model) && !wantAuc) {
    // Batches big enough to keep every worker busy, small enough to bound the result rows.
    const BATCH = 16384;
    for (let first = 0; first < cases.users.length; first += BATCH) {
      const users = cases.users.subarray(first, first + BATCH);
      const top = await model.recommendAsync(users, train, { n: k, threads: options.threads });
      for (let q = 0; q < users.length; q++) tally.add(users[q], top.ids[q], cases.relevant[first + q]);
    }
  } else {
    const scorer = isScorer(model) ? model : factorScorer(model);
    const { nItems, trainIndptr, trainIndices } = context;
    const allItems = new Int32Array(nItems);
    for (let i = 0; i < nItems; i++) allItems[i] = i;
    const inTrain = new Uint8Array(nItems), positive = new Uint8Array(nItems);
    const top = new TopK(k);
    for (let c = 0; c < cases.users.length; c++) {
      const u = cases.users[c], relevant = cases.relevant[c];
      const scores = checkScores(scorer.scoreItems(u, allItems), nItems, u, name);
      for (let e = trainIndptr[u]; e < trainIndptr[u + 1]; e++) inTrain[trainIndices[e]] = 1;
      for (const i of relevant) positive[i] = 1;
      top.clear();
      for (let i = 0; i < nItems; i++) if (inTrain[i] === 0) top.offer(i, orderable(scores[i]), positive[i]);
      let aucValue: number | undefined;
      if (wantAuc) {
        const pos: number[] = [], neg = new Float64Array(nItems);
        let nNeg = 0;
        for (let i = 0; i < nItems; i++) {
          if (inTrain[i] === 1) continue;
          if (positive[i] === 1) pos.push(scores[i]); else neg[nNeg++] = scores[i];
        }
        aucValue = auc(pos, neg.subarray(0, nNeg));
      }
      tally.add(u, top.ids(), relevant, aucValue);
      for (let e = trainIndptr[u]; e < trainIndptr[u + 1]; e++) inTrain[trainIndices[e]] = 0;
      for (const i of relevant) positive[i] = 0;
    }
  }
  const how = !isScorer(model) && !wantAuc ? "all items not in train ranked by recommend" : "all items not in train scored, ties against the held-out items";
  return tally.result("full-ranking", `full ranking (${how})`, { testPairsInTrain: cases.testPairsInTrain });
}

/**
 * Sampled evaluation: each user's held-out items are ranked among `candidates` items the
 * user never touched (in train or test), drawn without replacement with the seeded
 * generator, or read from an NCF candidates file; exact score ties go against the
 * held-out items (a model that scores everything alike has hit ratio 0, not 10/101).
 * Metrics are computed on the ranking of held-out + sampled items; with one held-out item
 * per user (leave-one-out, the NCF files) that is the usual HR@k and NDCG@k of the
 * literature. The same seed draws the same negatives on every runtime.
 */
export async function evaluateSampled(model: Scorer | FactorModel, train: CsrMatrix, test: Interactions, options: SampledOptions = {}): Promise<EvaluationResult> {
  const name = "evaluateSampled";
  const { k, metrics, perUser } = checkOptions(options, name);
  const { candidates = 100, sampling = "uniform", seed = 0, candidatesFile, ids = "keys" } = options;
  if (!Number.isInteger(candidates) || candidates < 1) throw new RangeError(`${name}: candidates ${candidates} is not a positive integer`);
  if (sampling !== "uniform" && sampling !== "popularity") throw new RangeError(`${name}: sampling must be 'uniform' or 'popularity', not ${String(sampling)}`);
  const context = prepare(name, model, train, test);
  const scorer = isScorer(model) ? model : factorScorer(model);
  const tally = new Tally(metrics, k, perUser);
  const { nItems, trainIndptr, trainIndices } = context;
  const wantAuc = metrics.includes("auc");

  const rank = (u: number, positives: Int32Array, negatives: Int32Array) => {
    const items = new Int32Array(positives.length + negatives.length);
    items.set(positives);
    items.set(negatives, positives.length);
    const raw = checkScores(scorer.scoreItems(u, items), items.length, u, name);
    const scores = new Float64Array(items.length);
    for (let j = 0; j < items.length; j++) scores[j] = orderable(raw[j]);
    const nPos = positives.length;
    // Best first; equal scores: negatives (j ≥ nPos) before positives, then list order.
    const order = Int32Array.from({ length: items.length }, (_, j) => j);
    order.sort((a, b) => (scores[b] - scores[a]) || (a < nPos ? 1 : 0) - (b < nPos ? 1 : 0) || a - b);
    const ranked = new Int32Array(Math.min(k, items.length));
    for (let j = 0; j < ranked.length; j++) ranked[j] = items[order[j]];
    const aucValue = wantAuc ? auc(scores.subarray(0, nPos), scores.subarray(nPos)) : undefined;
    tally.add(u, ranked, new Set(positives), aucValue);
  };

  let testPairsInTrain = 0, fewer = 0, touchedNegatives = 0;
  let how: string;
  if (candidatesFile === undefined) {
    const cases = heldOut(context, tally);
    testPairsInTrain = cases.testPairsInTrain;
    const weights = sampling === "popularity" ? columnCounts(trainIndices, nItems) : null;
    const sampler = new NegativeSampler(weights, nItems, new SeededRandom(seed));
    for (let c = 0; c < cases.users.length; c++) {
      const u = cases.users[c];
      const touched = new Int32Array(trainIndices.subarray(trainIndptr[u], trainIndptr[u + 1]));
      const positives = Int32Array.from(cases.relevant[c]);
      const negatives = sampler.sample([touched, cases.testItems[c]], candidates);
      if (negatives.length < candidates) fewer++;
      rank(u, positives, negatives);
    }
    how = `${candidates} ${sampling === "popularity" ? "popularity-weighted" : "uniform"} negatives per user (seed ${seed})`;
  } else {
    const fileName = typeof candidatesFile === "string" ? candidatesFile : candidatesFile.name;
    const cases = resolveNcfCases(await readNcfNegatives(candidatesFile), test, fileName, ids);
    const byUser = testByUser(context);
    const hasTest = test.user.length > 0;
    const listed = new Uint8Array(context.nUsers);
    const mark = new Uint8Array(nItems);
    // In user order, as the generated cases, whatever the file's order.
    const order = Int32Array.from({ length: cases.user.length }, (_, c) => c).sort((a, b) => cases.user[a] - cases.user[b]);
    for (const c of order) {
      const u = cases.user[c], item = cases.item[c];
      const testItems = byUser.items.subarray(byUser.start[u], byUser.start[u + 1]);
      if (hasTest && !testItems.includes(item)) {
        throw new DataError(`(${test.userKeys[u]}, ${test.itemKeys[item]}) is not a held-out pair of the test data`, { file: fileName, line: cases.line[c] });
      }
      listed[u] = 1;
      const trainRow = trainIndices.subarray(trainIndptr[u], trainIndptr[u + 1]);
      if (trainRow.length === 0) { tally.skipped.noTrainInteractions++; continue; }
      if (includesSorted(trainRow, item)) { testPairsInTrain++; tally.skipped.allTestItemsInTrain++; continue; }
      for (const i of trainRow) mark[i] = 1;
      for (const i of testItems) mark[i] = 1;
      mark[item] = 1;
      for (const i of cases.negatives[c]) touchedNegatives += mark[i];
      for (const i of trainRow) mark[i] = 0;
      for (const i of testItems) mark[i] = 0;
      mark[item] = 0;
      rank(u, Int32Array.of(item), cases.negatives[c]);
    }
    if (hasTest) {
      for (let u = 0; u < context.nUsers; u++) if (byUser.start[u + 1] > byUser.start[u] && listed[u] === 0) tally.skipped.noCandidatesLine++;
    }
    how = `negatives from ${fileName}`;
  }
  const extra = candidatesFile === undefined ? { usersWithFewerCandidates: fewer } : { touchedNegatives };
  return tally.result("sampled", `sampled (${how}, ties against the held-out item)`, { testPairsInTrain, ...extra });
}

// ---------------------------------------------------------------------------------------
// Machinery.

interface Context {
  nUsers: number;
  nItems: number;
  /** Copies: wasm views go stale when a model call grows memory. */
  trainIndptr: Int32Array;
  trainIndices: Int32Array;
  test: Interactions;
}

function isScorer(model: Scorer | FactorModel): model is Scorer {
  return typeof (model as Scorer).scoreItems === "function";
}

function checkOptions(options: EvaluationOptions, name: string): { k: number; metrics: Metric[]; perUser: boolean } {
  const { k = 10, metrics = RANKING_METRICS, perUser = false } = options;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`${name}: k ${k} is not a positive integer`);
  for (const metric of metrics) {
    if (!METRICS.includes(metric)) throw new RangeError(`${name}: unknown metric ${String(metric)}; known: ${METRICS.join(", ")}`);
  }
  if (metrics.length === 0) throw new RangeError(`${name}: no metrics asked for`);
  return { k, metrics: [...new Set(metrics)], perUser };
}

function prepare(name: string, model: Scorer | FactorModel, train: CsrMatrix, test: Interactions): Context {
  if (!train || typeof train.nnz !== "number") throw new TypeError(`${name}: train must be the users × items CsrMatrix the model was trained on`);
  const nUsers = test.userKeys.length, nItems = test.itemKeys.length;
  if (train.nRows !== nUsers || train.nCols !== nItems) {
    throw new RangeError(`${name}: train is ${train.nRows} × ${train.nCols} but test has ${nUsers} user keys and ${nItems} item keys: build both from one split (toUserItems(split.train), split.test)`);
  }
  if (!isScorer(model)) {
    if (typeof model?.recommend !== "function") throw new TypeError(`${name}: the model must be a FactorModel or have scoreItems(user, items)`);
    if (model.nUsers !== nUsers || model.nItems !== nItems) {
      throw new RangeError(`${name}: the model has ${model.nUsers} users and ${model.nItems} items but train is ${nUsers} × ${nItems}`);
    }
  }
  const n = test.user.length;
  if (test.item.length !== n) throw new RangeError(`${name}: test has ${n} users but ${test.item.length} items`);
  for (let r = 0; r < n; r++) {
    if ((test.user[r] >>> 0) >= nUsers || (test.item[r] >>> 0) >= nItems) {
      throw new RangeError(`${name}: test row ${r} has user ${test.user[r]} and item ${test.item[r]}, but there are ${nUsers} user keys and ${nItems} item keys`);
    }
  }
  return { nUsers, nItems, trainIndptr: train.indptr.slice(), trainIndices: train.indices.slice(), test };
}

/** Test items grouped by user: user u's are items[start[u] .. start[u + 1]), in row order. */
function testByUser(context: Context): { start: Int32Array; items: Int32Array } {
  const { start, carried } = groupRowsBy(context.test.user, context.nUsers, context.test.item);
  return { start, items: carried };
}

/** The users to evaluate (ascending) with their held-out items not in train; counts the skipped. */
function heldOut(context: Context, tally: Tally): { users: Int32Array; relevant: Set<number>[]; testItems: Int32Array[]; testPairsInTrain: number } {
  const { nUsers, trainIndptr, trainIndices } = context;
  const byUser = testByUser(context);
  const users: number[] = [], relevant: Set<number>[] = [], testItems: Int32Array[] = [];
  let testPairsInTrain = 0;
  for (let u = 0; u < nUsers; u++) {
    const from = byUser.start[u], to = byUser.start[u + 1];
    if (from === to) continue;
    const row = trainIndices.subarray(trainIndptr[u], trainIndptr[u + 1]);
    if (row.length === 0) { tally.skipped.noTrainInteractions++; continue; }
    const items = byUser.items.subarray(from, to);
    const wanted = new Set<number>(), alsoInTrain = new Set<number>();
    for (const i of items) {
      if (includesSorted(row, i)) alsoInTrain.add(i);
      else wanted.add(i);
    }
    testPairsInTrain += alsoInTrain.size;
    if (wanted.size === 0) { tally.skipped.allTestItemsInTrain++; continue; }
    users.push(u); relevant.push(wanted); testItems.push(items);
  }
  return { users: Int32Array.from(users), relevant, testItems, testPairsInTrain };
}

/** Whether a CSR row (sorted column indices) holds `value`. */
function includesSorted(row: Int32Array, value: number): boolean {
  let lo = 0, hi = row.length;
  while (lo < hi) { const mid = (lo + hi) >>> 1; if (row[mid] < value) lo = mid + 1; else hi = mid; }
  return lo < row.length && row[lo] === value;
}

function checkScores(scores: ArrayLike<number>, expected: number, user: number, name: string): ArrayLike<number> {
  if (!scores || scores.length !== expected) throw new RangeError(`${name}: scoreItems(${user}, …) returned ${scores?.length} scores for ${expected} items`);
  return scores;
}

function columnCounts(indices: Int32Array, nCols: number): Float64Array {
  const counts = new Float64Array(nCols);
  for (let e = 0; e < indices.length; e++) counts[indices[e]]++;
  return counts;
}

/** Keeps the k best (score, item) offers: higher score first, then negatives before positives, then earlier offers. */
class TopK {
  private readonly itemIds: Int32Array;
  private readonly scores: Float64Array;
  private readonly positive: Uint8Array;
  private count = 0;

  constructor(private readonly k: number) {
    this.itemIds = new Int32Array(k);
    this.scores = new Float64Array(k);
    this.positive = new Uint8Array(k);
  }

  clear(): void { this.count = 0; }

  offer(item: number, score: number, positive: number): void {
    const { k, scores, itemIds } = this;
    const better = (j: number) => score > scores[j] || (score === scores[j] && positive < this.positive[j]);
    if (this.count === k && !better(k - 1)) return;
    let j = this.count < k ? this.count++ : k - 1;
    while (j > 0 && better(j - 1)) {
      itemIds[j] = itemIds[j - 1]; scores[j] = scores[j - 1]; this.positive[j] = this.positive[j - 1];
      j--;
    }
    itemIds[j] = item; scores[j] = score; this.positive[j] = positive;
  }

  ids(): Int32Array { return this.itemIds.slice(0, this.count); }
}

/**
 * Draws distinct items a user has not touched, uniformly or in proportion to integer
 * weights, by rejection from cumulative weights (integer arithmetic only, so the same
 * seed gives the same items on every runtime). When the blocked items (touched or already
 * drawn) hold half the mass of the list drawn from, the list is rebuilt without them, so a
 * draw never takes more than two tries on average. @internal (exported for the tests).
 */
export class NegativeSampler {
  private readonly weight: Float64Array | null;
  private readonly baseCumulative: Float64Array | null;
  private readonly baseTotal: number;
  private readonly drawable: number;
  private readonly blocked: Uint8Array;

  constructor(weights: Float64Array | null, private readonly nItems: number, private readonly random: SeededRandom) {
    this.weight = weights;
    this.blocked = new Uint8Array(nItems);
    if (weights) {
      this.baseCumulative = new Float64Array(nItems);
      let total = 0, drawable = 0;
      for (let i = 0; i < nItems; i++) { total += weights[i]; this.baseCumulative[i] = total; if (weights[i] > 0) drawable++; }
      this.baseTotal = total;
      this.drawable = drawable;
    } else {
      this.baseCumulative = null; // uniform: item i covers [i, i + 1)
      this.baseTotal = nItems;
      this.drawable = nItems;
    }
  }

  private w(item: number): number { return this.weight ? this.weight[item] : 1; }

  /** Up to n distinct drawable items outside every list in `touched`, in draw order (fewer if fewer are left). */
  sample(touched: Int32Array[], n: number): Int32Array {
    const { blocked } = this;
    const marked: number[] = [];
    let blockedMass = 0, blockedDrawable = 0;
    for (const list of touched) {
      for (const i of list) {
        if (blocked[i] === 1) continue;
        blocked[i] = 1; marked.push(i);
        const w = this.w(i);
        blockedMass += w;
        if (w > 0) blockedDrawable++;
      }
    }
    const out: number[] = [];
    if (this.drawable - blockedDrawable <= n) {
      for (let i = 0; i < this.nItems; i++) if (blocked[i] === 0 && this.w(i) > 0) out.push(i);
    } else {
      let items: Int32Array | null = null, cumulative = this.baseCumulative, total = this.baseTotal, massInList = blockedMass;
      const rebuild = () => {
        const kept: number[] = [];
        for (let i = 0; i < this.nItems; i++) if (blocked[i] === 0 && this.w(i) > 0) kept.push(i);
        items = Int32Array.from(kept);
        cumulative = new Float64Array(kept.length);
        let sum = 0;
        for (let j = 0; j < kept.length; j++) { sum += this.w(kept[j]); cumulative[j] = sum; }
        total = sum;
        massInList = 0;
      };
      if (massInList * 2 > total) rebuild();
      while (out.length < n) {
        const r = this.random.below(total);
        const at = cumulative ? firstAbove(cumulative, r) : r;
        const item: number = items ? (items as Int32Array)[at] : at;
        if (blocked[item] === 1) continue;
        blocked[item] = 1; marked.push(item); out.push(item);
        massInList += this.w(item);
        if (massInList * 2 > total && out.length < n) rebuild();
      }
    }
    for (const i of marked) blocked[i] = 0;
    return Int32Array.from(out);
  }
}

/** First index whose cumulative weight exceeds r: the item whose interval holds r. */
function firstAbove(cumulative: Float64Array, r: number): number {
  let lo = 0, hi = cumulative.length;
  while (lo < hi) { const mid = (lo + hi) >>> 1; if (cumulative[mid] <= r) lo = mid + 1; else hi = mid; }
  return lo;
}

const LABELS: Record<Metric, string> = {
  precision: "P", implicitPrecision: "P (implicit)", recall: "R", map: "MAP", ndcg: "NDCG", hitRatio: "HR", auc: "AUC",
};

/** Sums per-user values into the result. */
class Tally {
  readonly skipped: SkippedUsers = { noTrainInteractions: 0, allTestItemsInTrain: 0, noCandidatesLine: 0 };
  private readonly sums = new Map<Metric, number>();
  private hits = 0;
  private idealHits = 0;
  private readonly users: number[] = [];
  private readonly values = new Map<Metric, number[]>();

  constructor(private readonly metrics: Metric[], private readonly k: number, private readonly perUser: boolean) {
    for (const metric of metrics) { this.sums.set(metric, 0); if (perUser) this.values.set(metric, []); }
  }

  add(user: number, ranked: ArrayLike<number>, relevant: Set<number>, aucValue?: number): void {
    const values = rankingMetricsAtK(ranked, relevant, this.k);
    this.hits += values.hits;
    this.idealHits += values.idealHits;
    this.users.push(user);
    for (const metric of this.metrics) {
      const value = metric === "auc" ? (aucValue as number) : values[metric as RankingMetric];
      this.sums.set(metric, (this.sums.get(metric) as number) + value);
      if (this.perUser) (this.values.get(metric) as number[]).push(value);
    }
  }

  result(protocol: EvaluationResult["protocol"], how: string, extra: Partial<EvaluationResult>): EvaluationResult {
    const n = this.users.length;
    const metrics: Partial<Record<Metric, number>> = {};
    for (const metric of this.metrics) {
      metrics[metric] = metric === "implicitPrecision" ? this.hits / this.idealHits : (this.sums.get(metric) as number) / n;
    }
    const skipped = this.skipped;
    const usersSkipped = skipped.noTrainInteractions + skipped.allTestItemsInTrain + skipped.noCandidatesLine;
    const shown = this.metrics.map((m) => `${LABELS[m]}${m === "auc" ? "" : `@${this.k}`} ${n ? (metrics[m] as number).toFixed(4) : "n/a"}`).join(", ");
    const reasons = [
      skipped.noTrainInteractions && `${skipped.noTrainInteractions} without train interactions`,
      skipped.allTestItemsInTrain && `${skipped.allTestItemsInTrain} whose held-out items are all in train`,
      skipped.noCandidatesLine && `${skipped.noCandidatesLine} with no line in the candidates file`,
    ].filter(Boolean);
    const result: EvaluationResult = {
      protocol, k: this.k, metrics, usersEvaluated: n, usersSkipped, skipped: { ...skipped }, testPairsInTrain: 0, ...extra,
      detail: `${how}: ${shown} over ${n} user${n === 1 ? "" : "s"}${usersSkipped ? `; skipped ${usersSkipped}: ${reasons.join(", ")}` : ""}`,
    };
    if (this.perUser) {
      const values: Partial<Record<Metric, Float64Array>> = {};
      for (const metric of this.metrics) values[metric] = Float64Array.from(this.values.get(metric) as number[]);
      result.perUser = { users: Int32Array.from(this.users), metrics: values };
    }
    return result;
  }
}
