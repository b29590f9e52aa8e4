// Dataset transforms: pure functions from one set of interaction columns to another, each
// with a report of what it did, so that a CLI can tell its user exactly what was dropped,
// merged or rewritten. They run on tens of millions of rows (Last.fm-360K has 17.5M), so
// row work is typed arrays and counting sorts only; strings are touched once per key,
// never once per row.

/** Interactions as parallel columns; user/item index into the key arrays. */
import type { InteractionTable } from "../io/interactions.js";
import { log1p } from "../math.js";
import { bm25Values, tfidfValues } from "../weighting.js";

export type Interactions = Pick<InteractionTable, "user" | "item" | "value" | "timestamp" | "userKeys" | "itemKeys" | "itemLabels">;

/** What a transform did, for the user to read: nothing is dropped silently. */
export interface TransformReport {
  transform: string;
  rowsBefore: number;
  rowsAfter: number;
  removedRows: number;
  changedRows: number;
  detail: string;
}

/** A transform's output: a new dataset (the input is never modified) and its report. */
export interface TransformResult<Report extends TransformReport = TransformReport> {
  data: Interactions;
  report: Report;
}

/** kCore's report: how many passes removed someone, and who went. */
export interface KCoreReport extends TransformReport {
  /** Passes that removed something; each drops, at once, everyone below threshold at its start. */
  passes: number;
  /** Users (items) that had rows before and have none after. */
  usersRemoved: number;
  itemsRemoved: number;
}

/** compactIds' report: how many keys no row used and were dropped. */
export interface CompactReport extends TransformReport {
  usersDropped: number;
  itemsDropped: number;
}

/**
 * Lowercases item keys (and labels) and, if asked, user keys, merging keys that become
 * equal ("Maroon 5" and "maroon 5"): a merged key keeps the place in key order and the
 * label of its first spelling. Rows of the later spellings are remapped and counted as changed; the
 * (user, item) pairs this may duplicate are left for sumDuplicates and counted in the detail.
 */
export function lowercaseNames(data: Interactions, { users = false, items = true }: { users?: boolean; items?: boolean } = {}): TransformResult {
  const transform = "lowercaseNames";
  checkInteractions(data, transform);
  const n = data.user.length;
  const userFold = users ? foldLowercase(data.userKeys) : undefined;
  const itemFold = items ? foldLowercase(data.itemKeys, data.itemLabels) : undefined;

  const user = userFold ? remap(data.user, userFold.newIndex) : data.user.slice();
  const item = itemFold ? remap(data.item, itemFold.newIndex) : data.item.slice();
  // A row changed if either of its keys was folded into another spelling.
  let changedRows = 0;
  if (userFold?.absorbedCount || itemFold?.absorbedCount) {
    const userAbsorbed = userFold?.absorbed ?? new Uint8Array(data.userKeys.length);
    const itemAbsorbed = itemFold?.absorbed ?? new Uint8Array(data.itemKeys.length);
    for (let r = 0; r < n; r++) if (userAbsorbed[data.user[r]] === 1 || itemAbsorbed[data.item[r]] === 1) changedRows++;
  }
  const result: Interactions = {
    user, item,
    value: data.value.slice(),
    ...(data.timestamp && { timestamp: data.timestamp.slice() }),
    userKeys: userFold ? userFold.keys : data.userKeys.slice(),
    itemKeys: itemFold ? itemFold.keys : data.itemKeys.slice(),
    ...(data.itemLabels && { itemLabels: itemFold?.labels ?? data.itemLabels.slice() }),
  };

  const parts: string[] = [];
  for (const [what, fold] of [["user", userFold], ["item", itemFold]] as const) {
    if (!fold) continue;
    parts.push(fold.absorbedCount === 0
      ? `no ${what} keys collided`
      : `merged ${fold.absorbedCount} ${what} key${plural(fold.absorbedCount)} into another spelling (${fold.examples.join(", ")}${fold.absorbedCount > fold.examples.length ? ", …" : ""})`);
  }
  if (!userFold && !itemFold) parts.push("nothing to lowercase (users and items both off)");
  if (changedRows > 0) {
    // Only a merge can make two rows share a pair, so the count is skipped otherwise.
    const created = duplicateRowCount(result) - duplicateRowCount(data);
    parts.push(`${changedRows} row${plural(changedRows)} remapped`);
    if (created > 0) parts.push(`${created} row${created === 1 ? " now repeats" : "s now repeat"} an earlier (user, item) pair: sumDuplicates merges them`);
  }
  return { data: result, report: { transform, rowsBefore: n, rowsAfter: n, removedRows: 0, changedRows, detail: parts.join("; ") } };
}

/** Keeps rows whose value is at least `threshold` (e.g. ratings ≥ 3); NaN values are dropped too. */
export function keepValueAtLeast(data: Interactions, threshold: number): TransformResult {
  const transform = "keepValueAtLeast";
  checkInteractions(data, transform);
  if (typeof threshold !== "number" || Number.isNaN(threshold)) throw new RangeError(`${transform}: threshold ${threshold} is not a number`);
  const n = data.user.length, value = data.value;
  const keep = new Uint8Array(n);
  let kept = 0;
  // Written as !(v < t) would keep NaN; a NaN rating is no evidence of liking anything.
  for (let r = 0; r < n; r++) if (value[r] >= threshold) { keep[r] = 1; kept++; }
  const removed = n - kept;
  return {
    data: { ...selectRows(data, keep, kept), ...copyKeys(data) },
    report: {
      transform, rowsBefore: n, rowsAfter: kept, removedRows: removed, changedRows: 0,
      detail: `kept rows with value ≥ ${threshold}: dropped ${removed} of ${n} (${percent(removed, n)})`,
    },
  };
}

/**
 * Merges rows with the same (user, item) into one at the position of the first: values
 * summed (as scipy and CsrMatrix.fromCoo do), timestamp the latest. removedRows counts
 * the rows merged away, changedRows the surviving rows that absorbed others.
 */
export function sumDuplicates(data: Interactions): TransformResult {
  const transform = "sumDuplicates";
  checkInteractions(data, transform);
  const { data: summed, mergedRows, absorbingRows } = summedCopy(data);
  const n = data.user.length;
  return {
    data: summed,
    report: {
      transform, rowsBefore: n, rowsAfter: n - mergedRows, removedRows: mergedRows, changedRows: absorbingRows,
      detail: mergedRows === 0
        ? "no (user, item) pair appears twice"
        : `merged ${mergedRows} repeated row${plural(mergedRows)} into ${absorbingRows} (user, item) pair${plural(absorbingRows)}: values summed, latest timestamp kept`,
    },
  };
}

/**
 * Keeps the (userK, itemK)-core: repeatedly drops the rows of users with fewer than userK
 * distinct items and of items with fewer than itemK distinct users, until every user and
 * item left meets its threshold (the largest such subset, so the result does not depend
 * on the order of removals). Keys stay: compactIds drops the emptied ones.
 */
export function kCore(data: Interactions, k: number, { userK = k, itemK = k }: { userK?: number; itemK?: number } = {}): TransformResult<KCoreReport> {
  const transform = "kCore";
  checkInteractions(data, transform);
  for (const [name, t] of [["userK", userK], ["itemK", itemK]] as const) {
    if (!Number.isInteger(t) || t < 0) throw new RangeError(`${transform}: ${name} ${t} is not a non-negative integer`);
  }
  const n = data.user.length, nUsers = data.userKeys.length, nItems = data.itemKeys.length;
  // Degrees count distinct partners, so repeated rows collapse into one pair first.
  const groups = duplicateGroups(data);
  let live = groups ? groups.count : n;
  const pairUser = new Int32Array(live), pairItem = new Int32Array(live);
  if (groups) {
    for (let r = 0; r < n; r++) { const g = groups.groupOf[r]; pairUser[g] = data.user[r]; pairItem[g] = data.item[r]; }
  } else {
    pairUser.set(data.user); pairItem.set(data.item);
  }

  // Whole passes over the surviving pairs, compacted as they shrink, so later passes cost
  // less; a pair survives while neither end has been removed.
  const userDegree = new Int32Array(nUsers), itemDegree = new Int32Array(nItems);
  const userGone = new Uint8Array(nUsers), itemGone = new Uint8Array(nItems);
  let passes = 0;
  for (;;) {
    userDegree.fill(0); itemDegree.fill(0);
    for (let p = 0; p < live; p++) { userDegree[pairUser[p]]++; itemDegree[pairItem[p]]++; }
    let removedThisPass = 0;
    for (let u = 0; u < nUsers; u++) if (userDegree[u] > 0 && userDegree[u] < userK) { userGone[u] = 1; removedThisPass++; }
    for (let i = 0; i < nItems; i++) if (itemDegree[i] > 0 && itemDegree[i] < itemK) { itemGone[i] = 1; removedThisPass++; }
    if (removedThisPass === 0) break;
    passes++;
    let kept = 0;
    for (let p = 0; p < live; p++) {
      if (userGone[pairUser[p]] === 0 && itemGone[pairItem[p]] === 0) { pairUser[kept] = pairUser[p]; pairItem[kept] = pairItem[p]; kept++; }
    }
    live = kept;
  }

  // Removed means had rows and has none: a user can also lose all its rows to removed
  // items without ever falling below userK itself.
  const keep = new Uint8Array(n);
  const userBefore = new Uint8Array(nUsers), itemBefore = new Uint8Array(nItems);
  const userAfter = new Uint8Array(nUsers), itemAfter = new Uint8Array(nItems);
  let kept = 0;
  for (let r = 0; r < n; r++) {
    const u = data.user[r], i = data.item[r];
    userBefore[u] = 1; itemBefore[i] = 1;
    if (userGone[u] === 0 && itemGone[i] === 0) { keep[r] = 1; kept++; userAfter[u] = 1; itemAfter[i] = 1; }
  }
  let usersRemoved = 0, itemsRemoved = 0;
  for (let u = 0; u < nUsers; u++) usersRemoved += userBefore[u] - userAfter[u];
  for (let i = 0; i < nItems; i++) itemsRemoved += itemBefore[i] - itemAfter[i];
  const removed = n - kept;
  const thresholds = userK === itemK ? `k = ${userK}` : `userK = ${userK}, itemK = ${itemK}`;
  return {
    data: { ...selectRows(data, keep, kept), ...copyKeys(data) },
    report: {
      transform, rowsBefore: n, rowsAfter: kept, removedRows: removed, changedRows: 0, passes, usersRemoved, itemsRemoved,
      detail: `${thresholds}: stable after ${passes} pass${passes === 1 ? "" : "es"}; removed ${usersRemoved} user${plural(usersRemoved)} and ${itemsRemoved} item${plural(itemsRemoved)} with ${removed} row${plural(removed)} (${percent(removed, n)})` +
        (usersRemoved + itemsRemoved > 0 ? "; compactIds drops their keys" : ""),
    },
  };
}

/**
 * Drops the keys no row uses and renumbers users and items densely, keeping key order.
 * changedRows counts rows whose user or item index moved.
 */
export function compactIds(data: Interactions): TransformResult<CompactReport> {
  const transform = "compactIds";
  checkInteractions(data, transform);
  const n = data.user.length;
  const users = denseRenumbering(data.user, data.userKeys.length);
  const items = denseRenumbering(data.item, data.itemKeys.length);
  const user = new Int32Array(n), item = new Int32Array(n);
  let changedRows = 0;
  for (let r = 0; r < n; r++) {
    const u = data.user[r], i = data.item[r];
    user[r] = users.newIndex[u];
    item[r] = items.newIndex[i];
    if (user[r] !== u || item[r] !== i) changedRows++;
  }
  const pick = (keys: string[], newIndex: Int32Array, kept: number): string[] => {
    const out = new Array<string>(kept);
    for (let k = 0; k < keys.length; k++) if (newIndex[k] >= 0) out[newIndex[k]] = keys[k];
    return out;
  };
  const usersDropped = data.userKeys.length - users.kept, itemsDropped = data.itemKeys.length - items.kept;
  return {
    data: {
      user, item,
      value: data.value.slice(),
      ...(data.timestamp && { timestamp: data.timestamp.slice() }),
      userKeys: pick(data.userKeys, users.newIndex, users.kept),
      itemKeys: pick(data.itemKeys, items.newIndex, items.kept),
      ...(data.itemLabels && { itemLabels: pick(data.itemLabels, items.newIndex, items.kept) }),
    },
    report: {
      transform, rowsBefore: n, rowsAfter: n, removedRows: 0, changedRows, usersDropped, itemsDropped,
      detail: `dropped ${usersDropped} unused user key${plural(usersDropped)} (${users.kept} left) and ${itemsDropped} unused item key${plural(itemsDropped)} (${items.kept} left); ${changedRows} row${plural(changedRows)} renumbered`,
    },
  };
}

/** How confidence turns values into the weights ALS fits. */
export type ConfidenceScheme = "raw" | "binary" | "log" | "bm25" | "tfidf";

/** Parameters of the confidence schemes; each scheme reads only its own. */
export interface ConfidenceOptions {
  /** log: the scale α in 1 + α·ln(1 + value/ε). Default 1. */
  alpha?: number;
  /** log: the unit ε in 1 + α·ln(1 + value/ε). Default 1. */
  epsilon?: number;
  /** bm25: term-frequency saturation, implicit's K1. Default 100. */
  K1?: number;
  /** bm25: length normalisation, implicit's B. Default 0.8. */
  B?: number;
  /**
   * bm25 and tfidf: which side plays the documents (the other is the terms). Default
   * 'items', the items × users matrix implicit's Last.fm example weights.
   */
  documents?: "items" | "users";
}

/**
 * Rewrites values as confidences, after summing repeated (user, item) rows (reported):
 * - raw: the summed value;
 * - binary: 1;
 * - log: 1 + α·ln(1 + value/ε), Hu, Koren and Volinsky's log scaling (α = ε = 1 by default;
 *   ALS multiplies values by its own alpha, which should then stay 1 to fit their confidence);
 * - bm25: implicit's bm25_weight(X, K1=100, B=0.8): value·(K1+1)/(K1·norm_d + value)·idf_t,
 *   norm_d = (1 − B) + B·rowSum_d/mean(rowSum), idf_t = ln(N) − ln(1 + df_t);
 * - tfidf: implicit's tfidf_weight(X): √value·idf_t.
 * For bm25 and tfidf, X's rows d are the documents (items unless `documents: 'users'`) and
 * its columns t the terms; N and the mean row sum count every key, as implicit counts the
 * matrix's rows whether empty or not (compactIds first to count only keys with rows).
 */
export function confidence(data: Interactions, scheme: ConfidenceScheme, options: ConfidenceOptions = {}): TransformResult {
  const transform = "confidence";
  checkInteractions(data, transform);
  const { alpha = 1, epsilon = 1, K1 = 100, B = 0.8, documents = "items" } = options;
  if (documents !== "items" && documents !== "users") throw new RangeError(`${transform}: documents must be 'items' or 'users', not ${String(documents)}`);
  const n = data.user.length;
  const { data: summed, mergedRows, absorbingRows, absorbed } = summedCopy(data);
  const rows = summed.user.length, before = summed.value;
  // Computed in float64, stored in float32 as the model reads it.
  const value = new Float32Array(rows);
  let description: string;

  switch (scheme) {
    case "raw":
      value.set(before);
      description = "raw values";
      break;
    case "binary":
      value.fill(1);
      description = "binary (every value set to 1)";
      break;
    case "log": {
      if (!Number.isFinite(alpha)) throw new RangeError(`${transform}: alpha ${alpha} is not a finite number`);
      if (!(epsilon > 0) || !Number.isFinite(epsilon)) throw new RangeError(`${transform}: epsilon ${epsilon} is not a finite positive number`);
      for (let r = 0; r < rows; r++) {
        const ratio = before[r] / epsilon;
        if (!(ratio > -1)) throw new RangeError(`${transform}: log needs value > −epsilon, but row ${r} (after summing duplicates) has value ${before[r]}`);
        value[r] = 1 + alpha * log1p(ratio);
      }
      description = `log: 1 + ${alpha}·ln(1 + value/${epsilon})`;
      break;
    }
    case "bm25":
    case "tfidf": {
      const byItems = documents === "items";
      const doc = byItems ? summed.item : summed.user, term = byItems ? summed.user : summed.item;
      const nDocs = byItems ? summed.itemKeys.length : summed.userKeys.length;
      const nTerms = byItems ? summed.userKeys.length : summed.itemKeys.length;
      const roles = `documents = ${documents}, terms = ${byItems ? "users" : "items"}`;
      // Rows are distinct pairs by now, as the shared weighting maths expects.
      if (scheme === "tfidf") {
        for (let r = 0; r < rows; r++) {
          if (before[r] < 0) throw new RangeError(`${transform}: tfidf takes √value, but row ${r} (after summing duplicates) has value ${before[r]}`);
        }
        value.set(tfidfValues(term, before, nDocs, nTerms));
        description = `tfidf (${roles})`;
      } else {
        if (!Number.isFinite(K1) || !Number.isFinite(B)) throw new RangeError(`${transform}: K1 ${K1} and B ${B} must be finite numbers`);
        value.set(bm25Values(doc, term, before, nDocs, nTerms, K1, B));
        description = `bm25 (K1 = ${K1}, B = ${B}, ${roles})`;
      }
      break;
    }
    default:
      throw new RangeError(`${transform}: unknown scheme ${String(scheme)}; expected raw, binary, log, bm25 or tfidf`);
  }

  let changedRows = 0;
  if (absorbed) for (let r = 0; r < rows; r++) { if (value[r] !== before[r] || absorbed[r] === 1) changedRows++; }
  else for (let r = 0; r < rows; r++) if (value[r] !== before[r]) changedRows++;
  const summing = mergedRows === 0 ? "" : `; summed ${mergedRows} repeated row${plural(mergedRows)} into ${absorbingRows} (user, item) pair${plural(absorbingRows)} first`;
  return {
    data: { ...summed, value },
    report: {
      transform, rowsBefore: n, rowsAfter: rows, removedRows: n - rows, changedRows,
      detail: `${description}${summing}; ${changedRows} of ${rows} row${plural(rows)} changed value`,
    },
  };
}

// ---------------------------------------------------------------------------------------
// Shared machinery (also used by stats.ts).

/**
 * @internal Throws unless the columns have one length and every index points at a key:
 * typed arrays ignore out-of-range writes, so a bad index would otherwise corrupt counts
 * silently.
 */
export function checkInteractions(data: Interactions, transform: string): void {
  const n = data.user.length;
  if (data.item.length !== n || data.value.length !== n || (data.timestamp !== undefined && data.timestamp.length !== n)) {
    throw new RangeError(`${transform}: columns differ in length (user ${n}, item ${data.item.length}, value ${data.value.length}${data.timestamp ? `, timestamp ${data.timestamp.length}` : ""})`);
  }
  if (data.itemLabels !== undefined && data.itemLabels.length !== data.itemKeys.length) {
    throw new RangeError(`${transform}: ${data.itemLabels.length} item labels for ${data.itemKeys.length} item keys`);
  }
  const nUsers = data.userKeys.length, nItems = data.itemKeys.length, user = data.user, item = data.item;
  for (let r = 0; r < n; r++) {
    // Unsigned comparison also rejects negative indices.
    if ((user[r] >>> 0) >= nUsers || (item[r] >>> 0) >= nItems) {
      throw new RangeError(`${transform}: row ${r} has user ${user[r]} and item ${item[r]}, but there are ${nUsers} user keys and ${nItems} item keys`);
    }
  }
}

/**
 * @internal Rows grouped by key, stably (a counting sort): key k's rows are
 * order[start[k] .. start[k + 1]), in their original order, and carried[j] is
 * carry[order[j]]. When the rows already come grouped (keys never decrease, as in most
 * files) order is null, meaning the identity, and carried is carry itself: read it only.
 */
export function groupRowsBy<Carry extends Int32Array | Float32Array>(key: Int32Array, nKeys: number, carry: Carry): { order: Int32Array | null; start: Int32Array; carried: Carry } {
  const n = key.length;
  const start = new Int32Array(nKeys + 1);
  let grouped = true;
  for (let r = 0; r < n; r++) {
    start[key[r] + 1]++;
    if (r > 0 && key[r] < key[r - 1]) grouped = false;
  }
  for (let k = 0; k < nKeys; k++) start[k + 1] += start[k];
  if (grouped) return { order: null, start, carried: carry };
  // The companion column moves with its row here, where rows are read in sequence;
  // fetching carry[order[j]] afterwards would cost a cache miss per row.
  const order = new Int32Array(n);
  const carried = new (carry.constructor as { new (length: number): Carry })(n);
  const cursor = start.slice(0, nKeys);
  for (let r = 0; r < n; r++) {
    const at = cursor[key[r]]++;
    order[at] = r;
    carried[at] = carry[r];
  }
  return { order, start, carried };
}

/**
 * @internal Groups rows by (user, item): groupOf[row] numbers the distinct pairs in order
 * of first appearance. Null when no pair repeats, which is the common case.
 */
export function duplicateGroups(data: Interactions): { groupOf: Int32Array; count: number } | null {
  const n = data.user.length, user = data.user, item = data.item;
  // Rows already strictly ascending by (user, item), as a CSR export is, cannot repeat a pair.
  let ascending = true;
  for (let r = 1; r < n && ascending; r++) ascending = user[r] > user[r - 1] || (user[r] === user[r - 1] && item[r] > item[r - 1]);
  if (ascending) return null;

  // One user's rows at a time (in original order, the grouping being stable), with a mark
  // per item saying which user saw it last: scipy's sum_duplicates, without sorting items.
  const nUsers = data.userKeys.length, nItems = data.itemKeys.length;
  const { order, start, carried: itemOf } = groupRowsBy(user, nUsers, item);
  const lastUser = new Int32Array(nItems).fill(-1), firstRow = new Int32Array(nItems);
  const groupOf = new Int32Array(n);
  let repeats = 0;
  for (let u = 0; u < nUsers; u++) {
    for (let j = start[u], end = start[u + 1]; j < end; j++) {
      const r = order === null ? j : order[j], i = itemOf[j];
      if (lastUser[i] !== u) { lastUser[i] = u; firstRow[i] = r; groupOf[r] = r; }
      else { groupOf[r] = firstRow[i]; repeats++; }
    }
  }
  if (repeats === 0) return null;
  // groupOf holds each row's first row; renumber in place: a first row is never after its
  // group's other rows, so its new number is in place before they read it.
  let count = 0;
  for (let r = 0; r < n; r++) groupOf[r] = groupOf[r] === r ? count++ : groupOf[groupOf[r]];
  return { groupOf, count };
}

/** Rows that repeat an earlier (user, item) pair. */
function duplicateRowCount(data: Interactions): number {
  const groups = duplicateGroups(data);
  return groups ? data.user.length - groups.count : 0;
}

/** The summed dataset; absorbed[row] marks output rows that took in repeats (undefined if none). */
function summedCopy(data: Interactions): { data: Interactions; mergedRows: number; absorbingRows: number; absorbed?: Uint8Array } {
  const groups = duplicateGroups(data);
  const n = data.user.length;
  if (!groups) {
    return {
      data: { user: data.user.slice(), item: data.item.slice(), value: data.value.slice(), ...(data.timestamp && { timestamp: data.timestamp.slice() }), ...copyKeys(data) },
      mergedRows: 0, absorbingRows: 0,
    };
  }
  const { groupOf, count } = groups;
  const user = new Int32Array(count), item = new Int32Array(count);
  // Summed in float64 so that long runs of small counts do not lose precision.
  const sum = new Float64Array(count), size = new Int32Array(count);
  const inTime = data.timestamp, timestamp = inTime ? new Float64Array(count).fill(NaN) : undefined;
  for (let r = 0; r < n; r++) {
    const g = groupOf[r];
    user[g] = data.user[r]; item[g] = data.item[r];
    sum[g] += data.value[r];
    size[g]++;
    // A missing (NaN) timestamp never hides a known one.
    if (timestamp && inTime && (inTime[r] > timestamp[g] || Number.isNaN(timestamp[g]))) timestamp[g] = inTime[r];
  }
  const absorbed = new Uint8Array(count);
  let absorbingRows = 0;
  for (let g = 0; g < count; g++) if (size[g] > 1) { absorbed[g] = 1; absorbingRows++; }
  return {
    data: { user, item, value: Float32Array.from(sum), ...(timestamp && { timestamp }), ...copyKeys(data) },
    mergedRows: n - count, absorbingRows, absorbed,
  };
}

/** Lowercased keys with equal ones merged; absorbed[k] marks keys folded into an earlier spelling. */
function foldLowercase(keys: string[], labels?: string[]): { keys: string[]; labels?: string[]; newIndex: Int32Array; absorbed: Uint8Array; absorbedCount: number; examples: string[] } {
  const position = new Map<string, number>();
  const folded: string[] = [], foldedLabels: string[] = [], firstSpelling: string[] = [];
  const newIndex = new Int32Array(keys.length), absorbed = new Uint8Array(keys.length);
  const examples: string[] = [];
  let absorbedCount = 0;
  for (let k = 0; k < keys.length; k++) {
    // toLowerCase, not toLocaleLowerCase: the same keys must merge on every runtime and locale.
    const lower = keys[k].toLowerCase();
    const at = position.get(lower);
    if (at === undefined) {
      position.set(lower, folded.length);
      newIndex[k] = folded.length;
      folded.push(lower);
      firstSpelling.push(keys[k]);
      // Display names keep their first spelling: only matching ignores case.
      if (labels) foldedLabels.push(labels[k]);
    } else {
      newIndex[k] = at;
      absorbed[k] = 1;
      absorbedCount++;
      if (examples.length < 3) examples.push(`${JSON.stringify(keys[k])} + ${JSON.stringify(firstSpelling[at])} → ${JSON.stringify(lower)}`);
    }
  }
  return { keys: folded, ...(labels && { labels: foldedLabels }), newIndex, absorbed, absorbedCount, examples };
}

/** index mapped through newIndex, as a new column. */
function remap(index: Int32Array, newIndex: Int32Array): Int32Array {
  const out = new Int32Array(index.length);
  for (let r = 0; r < index.length; r++) out[r] = newIndex[index[r]];
  return out;
}

/** New index of each key in key order among the used ones, −1 for keys no row uses. */
function denseRenumbering(index: Int32Array, nKeys: number): { newIndex: Int32Array; kept: number } {
  const used = new Uint8Array(nKeys);
  for (let r = 0; r < index.length; r++) used[index[r]] = 1;
  const newIndex = new Int32Array(nKeys);
  let kept = 0;
  for (let k = 0; k < nKeys; k++) newIndex[k] = used[k] ? kept++ : -1;
  return { newIndex, kept };
}

/** The columns of the rows marked in keep (kept of them), in their order. */
function selectRows(data: Interactions, keep: Uint8Array, kept: number): Pick<Interactions, "user" | "item" | "value" | "timestamp"> {
  const user = new Int32Array(kept), item = new Int32Array(kept), value = new Float32Array(kept);
  const inTime = data.timestamp, timestamp = inTime ? new Float64Array(kept) : undefined;
  for (let r = 0, w = 0; r < keep.length; r++) {
    if (keep[r] === 0) continue;
    user[w] = data.user[r]; item[w] = data.item[r]; value[w] = data.value[r];
    if (timestamp && inTime) timestamp[w] = inTime[r];
    w++;
  }
  return { user, item, value, ...(timestamp && { timestamp }) };
}

/** Copies of the key arrays, so that no output shares mutable state with its input. */
function copyKeys(data: Interactions): Pick<Interactions, "userKeys" | "itemKeys" | "itemLabels"> {
  return { userKeys: data.userKeys.slice(), itemKeys: data.itemKeys.slice(), ...(data.itemLabels && { itemLabels: data.itemLabels.slice() }) };
}

function plural(count: number): string {
  return count === 1 ? "" : "s";
}

function percent(part: number, whole: number): string {
  return whole === 0 ? "0%" : `${((100 * part) / whole).toFixed(1)}%`;
}
