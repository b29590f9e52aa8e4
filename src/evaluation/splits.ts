// Seeded train/test splits of interaction columns, for evaluating a model on what it did
// not see. Every split keeps the key arrays (so user and item numbering is the same in
// train, test and the input), works on distinct (user, item) pairs, and draws from a small
// integer-only generator, so the same data and seed give the same split on every runtime:
// no Math.random, and no Math.log/exp/pow anywhere on the split path (their last bit
// differs between JavaScript engines).

import { checkInteractions, groupRowsBy, sumDuplicates, type Interactions } from "../dataset/transforms.js";

// ---------------------------------------------------------------------------------------
// The generator.

const TWO_32 = 4294967296;
const TWO_53 = 9007199254740992;

/**
 * xoshiro128** (Blackman and Vigna), seeded through splitmix32. Integer arithmetic only
 * (Math.imul, shifts, xor), so every JavaScript engine draws the same sequence.
 * @internal Shared by the splits and the sampled protocol; not a public API.
 */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `seed`: any safe integer (negative ones too); its low and high 32 bits both count. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed ${seed} is not an integer`);
    const low = seed >>> 0, high = Math.floor(seed / TWO_32) >>> 0;
    let state = low | 0;
    const next = () => {
      // splitmix32
      state = (state + 0x9e3779b9) | 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    // A bijection of the low half, then the high half folded in: seeds differing in
    // either half start differently.
    state = (next() ^ high) | 0;
    this.s0 = next(); this.s1 = next(); this.s2 = next(); this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the one state xoshiro cannot leave
  }

  /** The next 32 random bits, as an unsigned integer in [0, 2³²). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform integer in [0, n), 1 ≤ n ≤ 2⁵³, without modulo bias (rejection). */
  below(n: number): number {
    if (!(n >= 1) || (!Number.isSafeInteger(n) && n !== TWO_53)) throw new RangeError(`SeededRandom.below: ${n} is not a positive integer`);
    if (n <= TWO_32) {
      const limit = TWO_32 - (TWO_32 % n);
      for (;;) { const x = this.nextUint32(); if (x < limit) return x % n; }
    }
    // 53 bits from two draws; every step is exact in float64.
    const limit = TWO_53 - (TWO_53 % n);
    for (;;) {
      const x = (this.nextUint32() >>> 11) * TWO_32 + this.nextUint32();
      if (x < limit) return x % n;
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

// ---------------------------------------------------------------------------------------
// Splits.

/** What a split did: how many rows went where, and who could not be split. */
export interface SplitReport {
  split: "splitRandom" | "splitLeaveKOut" | "splitChronological";
  /** Rows of the input. */
  rowsBefore: number;
  /** Input rows that repeated a (user, item) pair and were summed into it before splitting. */
  duplicateRowsMerged: number;
  trainRows: number;
  testRows: number;
  /** Users with at least one test row. */
  usersWithTest: number;
  /**
   * Users with interactions none of which were held out (splitLeaveKOut and
   * splitChronological): fewer than k + minTrain pairs, or a fraction that rounds to 0
   * rows. They stay entirely in train. Always 0 for splitRandom.
   */
  usersTooFew: number;
  /** The same, for a person to read. */
  detail: string;
}

/**
 * A split: train and test share one copy of the input's key arrays (`train.userKeys ===
 * test.userKeys`), so a model trained on `toUserItems(train)` scores test users and items
 * by the same numbers. Each (user, item) pair is one row, in train or in test, never both.
 */
export interface Split {
  train: Interactions;
  test: Interactions;
  report: SplitReport;
}

export interface RandomSplitOptions {
  /** Share of the pairs that go to train, in [0, 1]. Default 0.8. */
  trainFraction?: number;
  /** Default 0. */
  seed?: number;
  /**
   * Apply the fraction to each user's pairs (round(trainFraction · n_u) of them train)
   * instead of to all pairs at once. Default false: implicit's train_test_split, by
   * interaction, but with an exact count (round(trainFraction · n) train pairs).
   */
  perUser?: boolean;
}

export interface LeaveKOutOptions {
  /** Pairs held out per user. Default 1. */
  k?: number;
  /** Default 0. */
  seed?: number;
  /**
   * Pairs a user must keep in train to be split at all: users with fewer than k + minTrain
   * pairs stay entirely in train (report.usersTooFew). Default 1. implicit's
   * leave_k_out_split keeps users with more than K + 1 ratings, i.e. minTrain = 2.
   */
  minTrain?: number;
}

export interface ChronologicalOptions {
  /** Hold out each user's latest k pairs. The default (lastK 1) when lastFraction is not given. */
  lastK?: number;
  /** Hold out each user's latest round(lastFraction · n_u) pairs: 0.1 holds out the last 10%. */
  lastFraction?: number;
  /**
   * Pairs a user must keep in train to be split at all: users who would keep fewer stay
   * entirely in train (report.usersTooFew). Default 1.
   */
  minTrain?: number;
}

/**
 * Splits by interaction at random: round(trainFraction · n) of the n distinct pairs go to
 * train, chosen by a seeded shuffle (or per user, with `perUser`).
 *
 * Repeated (user, item) rows are first summed into one (as sumDuplicates: values summed,
 * the latest timestamp kept), so a pair lands wholly in train or wholly in test. The
 * same holds for every split here.
 */
export function splitRandom(data: Interactions, { trainFraction = 0.8, seed = 0, perUser = false }: RandomSplitOptions = {}): Split {
  const name = "splitRandom";
  checkInteractions(data, name);
  if (typeof trainFraction !== "number" || !(trainFraction >= 0 && trainFraction <= 1)) throw new RangeError(`${name}: trainFraction ${trainFraction} is not in [0, 1]`);
  const { pairs, merged } = distinctPairs(data);
  const random = new SeededRandom(seed);
  const n = pairs.user.length;
  const test = new Uint8Array(n);
  if (!perUser) {
    const testCount = n - Math.round(trainFraction * n);
    const rows = new Int32Array(n);
    for (let r = 0; r < n; r++) rows[r] = r;
    markRandomSubset(rows, testCount, random, test);
  } else {
    forEachUser(pairs, (rows) => markRandomSubset(rows, rows.length - Math.round(trainFraction * rows.length), random, test));
  }
  const how = perUser ? `per user, ${trainFraction} of each user's pairs to train` : `${trainFraction} of all pairs to train`;
  return finish(name, data, pairs, merged, test, 0, `random (seed ${seed}), ${how}`);
}

/**
 * Per user, k pairs held out at random (seeded). Users with fewer than k + minTrain
 * distinct pairs stay entirely in train and are counted in report.usersTooFew.
 * Duplicate rows are summed first, as in splitRandom.
 */
export function splitLeaveKOut(data: Interactions, { k = 1, seed = 0, minTrain = 1 }: LeaveKOutOptions = {}): Split {
  const name = "splitLeaveKOut";
  checkInteractions(data, name);
  checkCount(k, "k", name, 1);
  checkCount(minTrain, "minTrain", name, 0);
  const { pairs, merged } = distinctPairs(data);
  const random = new SeededRandom(seed);
  const test = new Uint8Array(pairs.user.length);
  let tooFew = 0;
  forEachUser(pairs, (rows) => {
    if (rows.length < k + minTrain) { tooFew++; return; }
    markRandomSubset(rows, k, random, test);
  });
  return finish(name, data, pairs, merged, test, tooFew, `leave ${k} out at random (seed ${seed}), users with fewer than ${k + minTrain} pairs kept in train`);
}

/**
 * Per user, the latest pairs held out: the last `lastK` (default 1), or the last
 * round(lastFraction · n_u). Pairs are ordered by timestamp, equal timestamps by row order
 * (a later row is later); a pair's timestamp is its latest row's, duplicates being summed
 * first, so every test timestamp of a user is ≥ every train timestamp of that user. Users
 * who would keep fewer than minTrain pairs in train, or whose fraction rounds to no pair,
 * stay entirely in train (report.usersTooFew). Throws without a timestamp column, or on a
 * row whose timestamp is missing (NaN).
 */
export function splitChronological(data: Interactions, { lastK, lastFraction, minTrain = 1 }: ChronologicalOptions = {}): Split {
  const name = "splitChronological";
  checkInteractions(data, name);
  if (!data.timestamp) throw new Error(`${name}: the data has no timestamp column: read it with one (e.g. --columns ...,timestamp=3), or use splitLeaveKOut`);
  if (lastK !== undefined && lastFraction !== undefined) throw new RangeError(`${name}: give lastK or lastFraction, not both`);
  if (lastK !== undefined) checkCount(lastK, "lastK", name, 1);
  if (lastFraction !== undefined && (typeof lastFraction !== "number" || !(lastFraction > 0 && lastFraction <= 1))) {
    throw new RangeError(`${name}: lastFraction ${lastFraction} is not in (0, 1]`);
  }
  checkCount(minTrain, "minTrain", name, 0);
  const { pairs, merged } = distinctPairs(data);
  const timestamp = pairs.timestamp as Float64Array;
  for (let r = 0; r < timestamp.length; r++) {
    if (Number.isNaN(timestamp[r])) throw new RangeError(`${name}: the pair (user ${pairs.userKeys[pairs.user[r]]}, item ${pairs.itemKeys[pairs.item[r]]}) has no timestamp`);
  }
  const byTime = (a: number, b: number) => (timestamp[a] < timestamp[b] ? -1 : timestamp[a] > timestamp[b] ? 1 : a - b);
  const test = new Uint8Array(pairs.user.length);
  let tooFew = 0;
  forEachUser(pairs, (rows) => {
    const n = rows.length;
    const held = lastFraction !== undefined ? Math.round(lastFraction * n) : (lastK ?? 1);
    if (held === 0 || n - held < minTrain) { tooFew++; return; }
    rows.sort(byTime);
    for (let j = n - held; j < n; j++) test[rows[j]] = 1;
  });
  const what = lastFraction !== undefined ? `latest ${lastFraction} of each user's pairs` : `latest ${lastK ?? 1} pair${(lastK ?? 1) === 1 ? "" : "s"} of each user`;
  return finish(name, data, pairs, merged, test, tooFew, `chronological, ${what} held out (ties by row order), users keeping fewer than ${minTrain} in train kept whole`);
}

// ---------------------------------------------------------------------------------------
// Machinery.

function checkCount(value: number, what: string, name: string, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name}: ${what} ${value} is not an integer ≥ ${min}`);
}

/** The input with repeated pairs summed (a copy either way), and how many rows merged. */
function distinctPairs(data: Interactions): { pairs: Interactions; merged: number } {
  const { data: pairs, report } = sumDuplicates(data);
  return { pairs, merged: report.removedRows };
}

/** Calls fn with each user's row indices (a fresh array fn may reorder), users in index order. */
function forEachUser(pairs: Interactions, fn: (rows: Int32Array) => void): void {
  const nUsers = pairs.userKeys.length;
  const { order, start } = groupRowsBy(pairs.user, nUsers, pairs.item);
  for (let u = 0; u < nUsers; u++) {
    const from = start[u], to = start[u + 1];
    if (from === to) continue;
    let rows: Int32Array;
    if (order) rows = order.slice(from, to);
    else { rows = new Int32Array(to - from); for (let j = from; j < to; j++) rows[j - from] = j; }
    fn(rows);
  }
}

/** Marks `count` of `rows` in `marks`, chosen uniformly by a partial Fisher–Yates shuffle of rows. */
function markRandomSubset(rows: Int32Array, count: number, random: SeededRandom, marks: Uint8Array): void {
  const n = rows.length;
  for (let j = 0; j < count; j++) {
    const pick = j + random.below(n - j);
    const row = rows[pick];
    rows[pick] = rows[j];
    rows[j] = row;
    marks[row] = 1;
  }
}

function finish(name: SplitReport["split"], input: Interactions, pairs: Interactions, merged: number, test: Uint8Array, tooFew: number, how: string): Split {
  const n = pairs.user.length;
  let testRows = 0;
  for (let r = 0; r < n; r++) testRows += test[r];
  const trainRows = n - testRows;
  const pick = (inTest: number, count: number): Interactions => {
    const user = new Int32Array(count), item = new Int32Array(count), value = new Float32Array(count);
    const from = pairs.timestamp, timestamp = from ? new Float64Array(count) : undefined;
    for (let r = 0, w = 0; r < n; r++) {
      if (test[r] !== inTest) continue;
      user[w] = pairs.user[r]; item[w] = pairs.item[r]; value[w] = pairs.value[r];
      if (timestamp && from) timestamp[w] = from[r];
      w++;
    }
    return { user, item, value, ...(timestamp && { timestamp }), userKeys: pairs.userKeys, itemKeys: pairs.itemKeys, ...(pairs.itemLabels && { itemLabels: pairs.itemLabels }) };
  };
  const train = pick(0, trainRows), testData = pick(1, testRows);
  const usersWithTest = new Uint8Array(pairs.userKeys.length);
  let withTest = 0;
  for (let r = 0; r < testRows; r++) if (usersWithTest[testData.user[r]] === 0) { usersWithTest[testData.user[r]] = 1; withTest++; }
  const rowsBefore = input.user.length;
  const parts = [`${how}: ${trainRows} train and ${testRows} test rows`, `${withTest} user${withTest === 1 ? "" : "s"} with test rows`];
  if (tooFew > 0) parts.push(`${tooFew} user${tooFew === 1 ? "" : "s"} with too few pairs kept entirely in train`);
  if (merged > 0) parts.push(`${merged} repeated (user, item) row${merged === 1 ? "" : "s"} summed into their pair first`);
  return {
    train, test: testData,
    report: { split: name, rowsBefore, duplicateRowsMerged: merged, trainRows, testRows, usersWithTest: withTest, usersTooFew: tooFew, detail: parts.join("; ") },
  };
}
