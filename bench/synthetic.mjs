// Deterministic synthetic interaction data shaped like Last.fm-360K.
//
// The real dataset cannot be redistributed with the benchmarks, so this
// reproduces the properties that drive the cost and quality of ALS/BPR
// training: the matrix shape, the per-user row lengths, the heavy-tailed item
// popularity (which sets the length of the longest item columns) and the
// spread of play counts (which sets the confidence weights).
//
// Every random number comes from the seeded generator below, never from
// Math.random, so the same seed and scale give bit-identical output on every
// run and machine.
//
//   node bench/synthetic.mjs [out.tsv] [--scale x] [--seed n]

import { openSync, writeSync, closeSync } from 'node:fs';

/** Shape and statistics of Last.fm-360K that the generator targets. */
const LASTFM_USERS = 358868;
const LASTFM_ITEMS = 291346;
/** Users of the most played artist; kept as a share so scaled-down data keeps the same skew. */
const TOP_ITEM_USER_SHARE = 77000 / LASTFM_USERS;

const SHORT_USER_SHARE = 0.08; // listened to fewer than 50 artists: uniform in [1, 49]
const LONG_USER_SHARE = 0.10; // 51 + a geometric tail; everyone else has exactly 50
const SHORT_USER_MAX_ITEMS = 49;
const TYPICAL_USER_ITEMS = 50;
const LONG_USER_MIN_ITEMS = 51;
const LONG_TAIL_MEAN = 8;
const MAX_ITEMS_PER_USER = 166;

const PLAYS_LOG_MEDIAN = Math.log(83);
const PLAYS_LOG_SIGMA = 1.35;

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

// ---------------------------------------------------------------------------
// Seeded PRNG: xoshiro128** seeded through splitmix32. Both work on 32-bit
// integers with Math.imul, so results do not depend on floating-point
// rounding, and xoshiro is fast enough for the ~40M draws a full run needs.

function splitmix32(seed) {
  let state = seed | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
}

function createRng(seed) {
  const seeder = splitmix32(seed);
  let s0 = seeder(), s1 = seeder(), s2 = seeder(), s3 = seeder();
  // xoshiro must never have an all-zero state.
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;

  const nextU32 = () => {
    const scrambled = Math.imul(s1, 5);
    const result = Math.imul((scrambled << 7) | (scrambled >>> 25), 9) >>> 0;
    const shifted = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= shifted;
    s3 = (s3 << 11) | (s3 >>> 21);
    return result;
  };

  /** Uniform in [0, 1) with full 53-bit resolution, for the alias table's column and coin. */
  const nextFloat53 = () => ((nextU32() >>> 5) * 67108864 + (nextU32() >>> 6)) / TWO_POW_53;

  /** Uniform in (0, 1]: safe to take the log of. */
  const nextOpenFloat = () => (nextU32() + 1) / TWO_POW_32;

  /** Uniform integer in [0, n) for n <= 2^32 (bias below 2^-32 * n, irrelevant here). */
  const nextInt = (n) => Math.floor((nextU32() / TWO_POW_32) * n);

  // Box-Muller yields normals in pairs; keep the second instead of wasting it.
  let spareNormal = 0;
  let hasSpareNormal = false;
  const nextNormal = () => {
    if (hasSpareNormal) {
      hasSpareNormal = false;
      return spareNormal;
    }
    const radius = Math.sqrt(-2 * Math.log(nextOpenFloat()));
    const angle = 2 * Math.PI * (nextU32() / TWO_POW_32);
    spareNormal = radius * Math.sin(angle);
    hasSpareNormal = true;
    return radius * Math.cos(angle);
  };

  return { nextU32, nextFloat53, nextOpenFloat, nextInt, nextNormal };
}

// ---------------------------------------------------------------------------
// Per-user row lengths.

function drawItemsPerUser(rng, userCount, itemCount) {
  const itemsPerUser = new Int32Array(userCount);
  // Geometric on {0, 1, ...} with the given mean, sampled by inversion.
  const logTailContinue = Math.log(LONG_TAIL_MEAN / (LONG_TAIL_MEAN + 1));
  // A tiny scaled catalogue cannot give a user more distinct items than exist.
  const cap = Math.min(MAX_ITEMS_PER_USER, itemCount);
  for (let user = 0; user < userCount; user++) {
    const kind = rng.nextU32() / TWO_POW_32;
    let count;
    if (kind < SHORT_USER_SHARE) {
      count = 1 + rng.nextInt(SHORT_USER_MAX_ITEMS);
    } else if (kind < SHORT_USER_SHARE + LONG_USER_SHARE) {
      count = LONG_USER_MIN_ITEMS + Math.floor(Math.log(rng.nextOpenFloat()) / logTailContinue);
    } else {
      count = TYPICAL_USER_ITEMS;
    }
    itemsPerUser[user] = Math.min(count, cap);
  }
  return itemsPerUser;
}

// ---------------------------------------------------------------------------
// Item popularity: weight(rank) ∝ 1 / (rank + offset), rank = 1, 2, ...
//
// The offset flattens the head of the Zipf curve; with offset 0 the top artist
// would be in almost every user's list. It is fitted so the expected number of
// users holding the top item matches the target share.

/** Probability of the top item and the summed squared probabilities of the rest. */
function popularityMoments(itemCount, offset) {
  let total = 0;
  let totalSquared = 0;
  for (let rank = 1; rank <= itemCount; rank++) {
    const weight = 1 / (rank + offset);
    total += weight;
    totalSquared += weight * weight;
  }
  const topWeight = 1 / (1 + offset);
  return {
    topProbability: topWeight / total,
    othersSquaredSum: (totalSquared - topWeight * topWeight) / (total * total),
  };
}

/**
 * Expected number of users whose list contains the top item.
 *
 * Items are drawn with replacement and duplicates rejected, so once a user
 * holds some items the remaining draws concentrate on what is left, raising
 * the chance of the top item above the naive 1 - (1 - p)^k. First-order model:
 * each earlier pick (not the top item) removes on average
 * sum_{i>0} p_i^2 / (1 - p_0) of probability mass.
 */
function expectedTopItemUsers(countHistogram, topProbability, othersSquaredSum) {
  const massPerPick = othersSquaredSum / (1 - topProbability);
  let expectedUsers = 0;
  let probabilityStillMissing = 1;
  for (let picks = 1; picks < countHistogram.length; picks++) {
    const removedMass = Math.min((picks - 1) * massPerPick, 1 - topProbability);
    probabilityStillMissing *= 1 - topProbability / (1 - removedMass);
    expectedUsers += countHistogram[picks] * (1 - probabilityStillMissing);
  }
  return expectedUsers;
}

function fitPopularityOffset(itemsPerUser, itemCount, targetTopUsers) {
  const countHistogram = new Float64Array(MAX_ITEMS_PER_USER + 1);
  for (let user = 0; user < itemsPerUser.length; user++) countHistogram[itemsPerUser[user]]++;

  const topUsersAt = (offset) => {
    const { topProbability, othersSquaredSum } = popularityMoments(itemCount, offset);
    return expectedTopItemUsers(countHistogram, topProbability, othersSquaredSum);
  };

  // Top-item reach falls as the offset grows, so bisect; in log space because
  // plausible offsets span many orders of magnitude across scales.
  let logLow = Math.log(1e-6);
  let logHigh = Math.log(1e9);
  // Even a flat distribution overshoots on tiny catalogues: flattest is the best we can do.
  if (topUsersAt(Math.exp(logHigh)) >= targetTopUsers) return Math.exp(logHigh);
  for (let iteration = 0; iteration < 60; iteration++) {
    const logMid = 0.5 * (logLow + logHigh);
    if (topUsersAt(Math.exp(logMid)) > targetTopUsers) logLow = logMid;
    else logHigh = logMid;
  }
  return Math.exp(0.5 * (logLow + logHigh));
}

/**
 * Vose alias table over popularity ranks: O(1) per draw, against ~18 cache-
 * missing steps of a binary search over a 291K-entry CDF.
 */
function buildAliasTable(itemCount, offset) {
  const scaled = new Float64Array(itemCount);
  let total = 0;
  for (let rank = 0; rank < itemCount; rank++) total += 1 / (rank + 1 + offset);
  for (let rank = 0; rank < itemCount; rank++) scaled[rank] = (itemCount / (rank + 1 + offset)) / total;

  const keepProbability = new Float64Array(itemCount);
  const alias = new Int32Array(itemCount);
  const small = new Int32Array(itemCount);
  const large = new Int32Array(itemCount);
  let smallCount = 0;
  let largeCount = 0;
  for (let rank = itemCount - 1; rank >= 0; rank--) {
    if (scaled[rank] < 1) small[smallCount++] = rank;
    else large[largeCount++] = rank;
  }
  while (smallCount > 0 && largeCount > 0) {
    const lighter = small[--smallCount];
    const heavier = large[largeCount - 1];
    keepProbability[lighter] = scaled[lighter];
    alias[lighter] = heavier;
    scaled[heavier] = scaled[heavier] + scaled[lighter] - 1;
    if (scaled[heavier] < 1) {
      largeCount--;
      small[smallCount++] = heavier;
    }
  }
  // Whatever is left is 1 up to rounding error.
  while (largeCount > 0) keepProbability[large[--largeCount]] = 1;
  while (smallCount > 0) keepProbability[small[--smallCount]] = 1;
  return { keepProbability, alias };
}

// ---------------------------------------------------------------------------

/**
 * Generate the dataset. Returns typed arrays in COO form, rows sorted by user
 * (and columns ascending within each user), and the shape.
 *
 * `scale` (0 < scale <= 1) shrinks users and items proportionally while
 * keeping the per-user count distribution and the top item's share of users,
 * so tests can build a small version quickly.
 *
 * @returns {{ rows: Int32Array, cols: Int32Array, values: Float32Array,
 *             shape: [number, number], nnz: number }}
 */
export function generateLastfm360kLike({
  seed = 42,
  users = LASTFM_USERS,
  items = LASTFM_ITEMS,
  scale = 1,
} = {}) {
  if (!(scale > 0 && scale <= 1)) throw new RangeError(`scale must be in (0, 1], got ${scale}`);
  const userCount = Math.max(1, Math.round(users * scale));
  const itemCount = Math.max(1, Math.round(items * scale));
  const rng = createRng(seed);

  // All counts first, so the output can be allocated once at its exact size.
  const itemsPerUser = drawItemsPerUser(rng, userCount, itemCount);
  let nnz = 0;
  for (let user = 0; user < userCount; user++) nnz += itemsPerUser[user];

  // Decouple id from popularity, so nothing downstream can exploit
  // "low id = popular" (e.g. in partitioning or cache behaviour).
  const itemIdOfRank = new Int32Array(itemCount);
  for (let rank = 0; rank < itemCount; rank++) itemIdOfRank[rank] = rank;
  for (let rank = itemCount - 1; rank > 0; rank--) {
    const other = rng.nextInt(rank + 1);
    const swap = itemIdOfRank[rank];
    itemIdOfRank[rank] = itemIdOfRank[other];
    itemIdOfRank[other] = swap;
  }

  const offset = fitPopularityOffset(itemsPerUser, itemCount, TOP_ITEM_USER_SHARE * userCount);
  const { keepProbability, alias } = buildAliasTable(itemCount, offset);

  const rows = new Int32Array(nnz);
  const cols = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  // lastUserOfItem[id] === user + 1 means the item is already in this user's
  // list; stamping avoids clearing a set for every user.
  const lastUserOfItem = new Int32Array(itemCount);

  let entry = 0;
  for (let user = 0; user < userCount; user++) {
    const rowStart = entry;
    const rowEnd = entry + itemsPerUser[user];
    const stamp = user + 1;
    while (entry < rowEnd) {
      const position = rng.nextFloat53() * itemCount;
      const column = Math.floor(position);
      const rank = position - column < keepProbability[column] ? column : alias[column];
      const itemId = itemIdOfRank[rank];
      if (lastUserOfItem[itemId] === stamp) continue;
      lastUserOfItem[itemId] = stamp;
      rows[entry] = user;
      cols[entry] = itemId;
      entry++;
    }
    // Sorted columns let consumers build CSR or merge rows without re-sorting.
    cols.subarray(rowStart, rowEnd).sort();
  }

  // Plays are drawn after the structure so they do not depend on how many
  // duplicate draws were rejected above.
  for (let index = 0; index < nnz; index++) {
    const plays = Math.round(Math.exp(PLAYS_LOG_MEDIAN + PLAYS_LOG_SIGMA * rng.nextNormal()));
    values[index] = plays < 1 ? 1 : plays;
  }

  return { rows, cols, values, shape: [userCount, itemCount], nnz };
}

/**
 * Write "user\titem\tplays" lines. Streams in chunks: the full dataset is
 * ~300 MB of text, past V8's maximum string length.
 */
export function writeTsv(path, data) {
  const { rows, cols, values, nnz } = data;
  const linesPerChunk = 65536;
  const fd = openSync(path, 'w');
  try {
    for (let chunkStart = 0; chunkStart < nnz; chunkStart += linesPerChunk) {
      const chunkEnd = Math.min(nnz, chunkStart + linesPerChunk);
      const lines = new Array(chunkEnd - chunkStart);
      for (let index = chunkStart; index < chunkEnd; index++) {
        lines[index - chunkStart] = `${rows[index]}\t${cols[index]}\t${values[index]}\n`;
      }
      writeSync(fd, lines.join(''));
    }
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------
// CLI

function summarize(data) {
  const { rows, cols, values, shape, nnz } = data;
  const [userCount, itemCount] = shape;

  const itemsPerUser = new Int32Array(userCount);
  const usersPerItem = new Int32Array(itemCount);
  for (let index = 0; index < nnz; index++) {
    itemsPerUser[rows[index]]++;
    usersPerItem[cols[index]]++;
  }
  let sum = 0;
  let sumSquares = 0;
  for (let user = 0; user < userCount; user++) {
    sum += itemsPerUser[user];
    sumSquares += itemsPerUser[user] * itemsPerUser[user];
  }
  const mean = sum / userCount;
  const std = Math.sqrt(Math.max(0, sumSquares / userCount - mean * mean));

  let topItemUsers = 0;
  for (let item = 0; item < itemCount; item++) {
    if (usersPerItem[item] > topItemUsers) topItemUsers = usersPerItem[item];
  }

  // Plays are integers, so a clamped histogram gives the exact median
  // without sorting 17M values.
  const histogramSize = 1 << 20;
  const playsHistogram = new Int32Array(histogramSize);
  for (let index = 0; index < nnz; index++) {
    playsHistogram[Math.min(values[index], histogramSize - 1)]++;
  }
  let medianPlays = 0;
  for (let seen = 0; medianPlays < histogramSize; medianPlays++) {
    seen += playsHistogram[medianPlays];
    if (seen * 2 >= nnz) break;
  }

  return { users: userCount, items: itemCount, nnz, mean, std, topItemUsers, medianPlays };
}

function parseCliArgs(argv) {
  const options = { seed: 42, scale: 1, outPath: null };
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--scale') options.scale = Number(argv[++index]);
    else if (arg === '--seed') options.seed = Number(argv[++index]);
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else options.outPath = arg;
  }
  if (!Number.isInteger(options.seed)) throw new Error('--seed must be an integer');
  return options;
}

const thisFile = import.meta.filename ?? decodeURIComponent(new URL(import.meta.url).pathname);
if (process.argv[1] === thisFile) {
  const { seed, scale, outPath } = parseCliArgs(process.argv.slice(2));
  const started = performance.now();
  const data = generateLastfm360kLike({ seed, scale });
  const generationSeconds = (performance.now() - started) / 1000;
  const summary = summarize(data);

  console.log(`seed ${seed}, scale ${scale}`);
  console.log(`users              ${summary.users}`);
  console.log(`items              ${summary.items}`);
  console.log(`nnz                ${summary.nnz}`);
  console.log(`items per user     mean ${summary.mean.toFixed(2)}, std ${summary.std.toFixed(2)}`);
  console.log(
    `top item users     ${summary.topItemUsers} ` +
      `(${((100 * summary.topItemUsers) / summary.users).toFixed(2)}% of users)`,
  );
  console.log(`median plays       ${summary.medianPlays}`);
  console.log(`generated in       ${generationSeconds.toFixed(2)} s`);

  if (outPath) {
    const writeStarted = performance.now();
    writeTsv(outPath, data);
    console.log(`wrote ${outPath} in ${((performance.now() - writeStarted) / 1000).toFixed(2)} s`);
  }
}

/**
 * Collects garbage now, for memory measurements (node --expose-gc): V8 frees the backing
 * stores of dead typed arrays on a later task, so a single gc() leaves them resident.
 */
export async function collectGarbage() {
  if (!globalThis.gc) return;
  globalThis.gc();
  await new Promise((resolve) => setTimeout(resolve, 100));
  globalThis.gc();
}
