// Ranking metrics at k for one user: a ranked list of item ids (best first) against the
// set of items the user actually interacted with in the held-out data ("relevant").
// Relevance is binary. Every function reads only the first k entries of the list; a list
// shorter than k counts its missing places as misses. With no relevant item the metrics
// are undefined and return NaN: leave such a user out of the averages (the protocols do).
//
// Two precisions, on purpose, with different names:
//   precisionAtK          hits / k                 the textbook precision@k
//   implicitPrecisionAtK  hits / min(k, |relevant|) implicit's precision_at_k, per user
// The second reaches 1 for a user with fewer than k relevant items who gets them all
// (the first cannot). implicit pools it over users (Σ hits / Σ min(k, |relevant|)); the
// protocols in protocols.ts report it pooled that way too, to match implicit's numbers.

/** The held-out items of a user: a Set, or any list of ids (repeats count once). */
export type Relevant = ReadonlySet<number> | ArrayLike<number>;

/** The metrics computed from a ranked top-k list. */
export type RankingMetric = "precision" | "implicitPrecision" | "recall" | "map" | "ndcg" | "hitRatio";
/** Every metric the protocols report; `auc` needs the scores of all candidates. */
export type Metric = RankingMetric | "auc";

export const RANKING_METRICS: readonly RankingMetric[] = ["precision", "implicitPrecision", "recall", "map", "ndcg", "hitRatio"];
export const METRICS: readonly Metric[] = [...RANKING_METRICS, "auc"];

/** Classic precision@k: relevant items among the first k, divided by k. */
export function precisionAtK(ranked: ArrayLike<number>, relevant: Relevant, k: number): number {
  return rankingMetricsAtK(ranked, relevant, k).precision;
}

/**
 * implicit's precision@k for one user: relevant items among the first k, divided by
 * min(k, |relevant|), so a user with 3 held-out items who gets all 3 in a top 10 scores 1
 * (classic precision@10 would be 0.3). Not the textbook precision: see precisionAtK.
 */
export function implicitPrecisionAtK(ranked: ArrayLike<number>, relevant: Relevant, k: number): number {
  return rankingMetricsAtK(ranked, relevant, k).implicitPrecision;
}

/** Recall@k: relevant items among the first k, divided by |relevant|. */
export function recallAtK(ranked: ArrayLike<number>, relevant: Relevant, k: number): number {
  return rankingMetricsAtK(ranked, relevant, k).recall;
}

/**
 * Average precision@k as implicit defines it (mean_average_precision_at_k, per user):
 * Σ over hits at 0-based position i < k of (hits so far, this one included) / (i + 1),
 * divided by min(k, |relevant|). MAP is its mean over users.
 */
export function mapAtK(ranked: ArrayLike<number>, relevant: Relevant, k: number): number {
  return rankingMetricsAtK(ranked, relevant, k).map;
}

/**
 * NDCG@k, binary relevance: DCG = Σ over hits at 0-based position i < k of 1 / log2(i + 2),
 * divided by the ideal DCG, that of min(k, |relevant|) hits in the first places (as
 * implicit's ndcg_at_k).
 */
export function ndcgAtK(ranked: ArrayLike<number>, relevant: Relevant, k: number): number {
  return rankingMetricsAtK(ranked, relevant, k).ndcg;
}

/** Hit ratio@k: 1 if any relevant item is among the first k, else 0. */
export function hitRatioAtK(ranked: ArrayLike<number>, relevant: Relevant, k: number): number {
  return rankingMetricsAtK(ranked, relevant, k).hitRatio;
}

/** Per-user values of every ranking metric, from one pass over the list; `hits` is the count they come from. */
export interface RankingValues extends Record<RankingMetric, number> {
  hits: number;
  /** min(k, |relevant|): implicit's precision denominator. */
  idealHits: number;
}

/** All ranking metrics of one user at once (what the single-metric functions read from). */
export function rankingMetricsAtK(ranked: ArrayLike<number>, relevant: Relevant, k: number): RankingValues {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  const wanted = asSet(relevant);
  const size = wanted.size;
  if (size === 0) return { precision: NaN, implicitPrecision: NaN, recall: NaN, map: NaN, ndcg: NaN, hitRatio: NaN, hits: 0, idealHits: 0 };
  const found = new Set<number>();
  let hits = 0, ap = 0, dcg = 0;
  const depth = Math.min(k, ranked.length);
  for (let i = 0; i < depth; i++) {
    const id = ranked[i];
    // An item listed twice is one recommendation: only its first place counts.
    if (!wanted.has(id) || found.has(id)) continue;
    found.add(id);
    hits++;
    ap += hits / (i + 1);
    dcg += 1 / Math.log2(i + 2);
  }
  const idealHits = Math.min(k, size);
  let idcg = 0;
  for (let i = 0; i < idealHits; i++) idcg += 1 / Math.log2(i + 2);
  return {
    precision: hits / k,
    implicitPrecision: hits / idealHits,
    recall: hits / size,
    map: ap / idealHits,
    ndcg: dcg / idcg,
    hitRatio: hits > 0 ? 1 : 0,
    hits, idealHits,
  };
}

export interface AucOptions {
  /**
   * How a (positive, negative) pair with equal scores counts: 'against' (0, the default:
   * ties go against the held-out item, so a model that scores everything alike has AUC 0,
   * never a flattering 0.5) or 'half' (0.5, the Mann–Whitney convention).
   */
  ties?: "against" | "half";
}

/**
 * AUC for one user: the share of (positive, negative) score pairs ranked correctly
 * (positive strictly above), a tie counting as set by `ties` (default against the
 * positive). A NaN score counts as -Infinity, the lowest possible.
 * NaN when either side is empty. Unlike implicit's AUC_at_k, which reads only the top k,
 * this compares every candidate the caller scores.
 */
export function auc(positiveScores: ArrayLike<number>, negativeScores: ArrayLike<number>, { ties = "against" }: AucOptions = {}): number {
  if (ties !== "against" && ties !== "half") throw new RangeError(`auc: ties must be 'against' or 'half', not ${String(ties)}`);
  const nPos = positiveScores.length, nNeg = negativeScores.length;
  if (nPos === 0 || nNeg === 0) return NaN;
  // Negatives ascending (NaN as -Infinity); per positive, count the negatives
  // strictly below and those equal by binary search.
  const negatives = new Float64Array(nNeg);
  for (let j = 0; j < nNeg; j++) negatives[j] = orderable(negativeScores[j]);
  negatives.sort();
  let correct = 0;
  for (let j = 0; j < nPos; j++) {
    const s = orderable(positiveScores[j]);
    const below = lowerBound(negatives, s);
    correct += below;
    if (ties === "half") correct += (upperBound(negatives, s) - below) / 2;
  }
  return correct / (nPos * nNeg);
}

/** @internal A score as compared: NaN counts as -Infinity, the lowest possible. */
export function orderable(score: number): number {
  return Number.isNaN(score) ? -Infinity : score;
}

function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) { const mid = (lo + hi) >>> 1; if (sorted[mid] < x) lo = mid + 1; else hi = mid; }
  return lo;
}

function upperBound(sorted: Float64Array, x: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) { const mid = (lo + hi) >>> 1; if (sorted[mid] <= x) lo = mid + 1; else hi = mid; }
  return lo;
}

/** @internal */
export function asSet(relevant: Relevant): ReadonlySet<number> {
  if (relevant instanceof Set) return relevant;
  const set = new Set<number>();
  const list = relevant as ArrayLike<number>;
  for (let j = 0; j < list.length; j++) set.add(list[j]);
  return set;
}
