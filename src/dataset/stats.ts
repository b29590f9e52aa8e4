// Descriptive statistics of an interaction dataset, the figures one checks before
// training: how many users and items really have data, how sparse it is, how skewed
// activity is, and whether values look like counts, ratings or a binary signal.

import { checkInteractions, duplicateGroups, groupRowsBy, type Interactions } from "./transforms.js";

/** pandas' describe() of a sample: std with n − 1, quartiles interpolated linearly (numpy's default). */
export interface Summary {
  count: number;
  mean: number;
  std: number;
  min: number;
  q25: number;
  median: number;
  q75: number;
  max: number;
}

/** An item and how many distinct users interacted with it. */
export interface TopItem {
  key: string;
  label?: string;
  users: number;
}

/** What datasetStats finds; users and items count only those with at least one row. */
export interface DatasetStats {
  users: number;
  items: number;
  interactions: number;
  /** interactions / (users × items): rows, so sumDuplicates first to count distinct pairs. */
  density: number;
  /** Most popular items by distinct users, ties in key order. */
  topItems: TopItem[];
  /** Rows per user. */
  perUserCount: Summary;
  /** Each user's median value (the mean of the middle two for an even count). */
  perUserMedianValue: Summary;
  /** Fraction of rows whose value is exactly 1: near 1 the data is binary, and bm25 or log weighting adds little. */
  shareOfValueOne: number;
}

/** Describes a dataset; `top` is how many of the most popular items to list. NaN where there is nothing to measure. */
export function datasetStats(data: Interactions, { top = 10 }: { top?: number } = {}): DatasetStats {
  checkInteractions(data, "datasetStats");
  if (!Number.isInteger(top) || top < 0) throw new RangeError(`datasetStats: top ${top} is not a non-negative integer`);
  const n = data.user.length, nUsers = data.userKeys.length, nItems = data.itemKeys.length;
  const { user, item, value } = data;

  const rowsPerUser = new Int32Array(nUsers);
  let valueOne = 0;
  for (let r = 0; r < n; r++) {
    rowsPerUser[user[r]]++;
    if (value[r] === 1) valueOne++;
  }

  // Popularity counts each user once per item, however many rows they have for it.
  const usersPerItem = new Int32Array(nItems);
  const groups = duplicateGroups(data);
  if (groups) {
    const counted = new Uint8Array(groups.count);
    for (let r = 0; r < n; r++) {
      const g = groups.groupOf[r];
      if (counted[g] === 0) { counted[g] = 1; usersPerItem[item[r]]++; }
    }
  } else {
    for (let r = 0; r < n; r++) usersPerItem[item[r]]++;
  }

  const activeUsers: number[] = [];
  for (let u = 0; u < nUsers; u++) if (rowsPerUser[u] > 0) activeUsers.push(u);
  let items = 0;
  for (let i = 0; i < nItems; i++) if (usersPerItem[i] > 0) items++;
  const users = activeUsers.length;

  // Each user's values made contiguous, then sorted in place per user for the median.
  const grouped = groupRowsBy(user, nUsers, value);
  const byUser = grouped.order === null ? value.slice() : grouped.carried;
  const medians = new Float64Array(users);
  for (let a = 0, u = 0; u < nUsers; u++) {
    const count = rowsPerUser[u];
    if (count === 0) continue;
    const own = byUser.subarray(grouped.start[u], grouped.start[u + 1]).sort();
    medians[a++] = count % 2 === 1 ? own[(count - 1) / 2] : (own[count / 2 - 1] + own[count / 2]) / 2;
  }

  return {
    users,
    items,
    interactions: n,
    density: users * items === 0 ? NaN : n / (users * items),
    topItems: mostPopular(usersPerItem, top, data),
    perUserCount: summarize(activeUsers.map((u) => rowsPerUser[u])),
    perUserMedianValue: summarize(medians),
    shareOfValueOne: n === 0 ? NaN : valueOne / n,
  };
}

/** describe() of any sample (see Summary); count 0 and NaN everywhere else for an empty one. */
export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values).sort();
  const count = sorted.length;
  if (count === 0) return { count: 0, mean: NaN, std: NaN, min: NaN, q25: NaN, median: NaN, q75: NaN, max: NaN };
  let sum = 0;
  for (let j = 0; j < count; j++) sum += sorted[j];
  const mean = sum / count;
  // Two passes: the one-pass formula cancels badly when the spread is small next to the mean.
  let squares = 0;
  for (let j = 0; j < count; j++) squares += (sorted[j] - mean) ** 2;
  return {
    count, mean,
    std: count > 1 ? Math.sqrt(squares / (count - 1)) : NaN,
    min: sorted[0],
    q25: quantile(sorted, 0.25),
    median: quantile(sorted, 0.5),
    q75: quantile(sorted, 0.75),
    max: sorted[count - 1],
  };
}

/** numpy's default ('linear') quantile of ascending values: interpolates at position (n − 1)·q. */
function quantile(sorted: Float64Array, q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

function mostPopular(usersPerItem: Int32Array, top: number, data: Interactions): TopItem[] {
  const candidates: number[] = [];
  for (let i = 0; i < usersPerItem.length; i++) if (usersPerItem[i] > 0) candidates.push(i);
  candidates.sort((a, b) => usersPerItem[b] - usersPerItem[a] || a - b);
  return candidates.slice(0, top).map((i) => ({
    key: data.itemKeys[i],
    ...(data.itemLabels && { label: data.itemLabels[i] }),
    users: usersPerItem[i],
  }));
}

/** A plain-text report of datasetStats with aligned columns, as the CLI prints it. */
export function formatStats(stats: DatasetStats): string {
  const lines: string[] = [];
  const overview: string[][] = [
    ["users", formatCount(stats.users)],
    ["items", formatCount(stats.items)],
    ["interactions", formatCount(stats.interactions)],
    ["density", formatPercent(stats.density)],
    ["values equal to 1", formatPercent(stats.shareOfValueOne)],
  ];
  lines.push(...alignColumns(overview, [false, true]));

  lines.push("");
  const header = ["", "count", "mean", "std", "min", "25%", "50%", "75%", "max"];
  const describeRow = (name: string, s: Summary) => [
    name, formatCount(s.count), formatDecimal(s.mean, 2), formatDecimal(s.std, 2),
    formatValue(s.min), formatValue(s.q25), formatValue(s.median), formatValue(s.q75), formatValue(s.max),
  ];
  lines.push(...alignColumns(
    [header, describeRow("interactions per user", stats.perUserCount), describeRow("median value per user", stats.perUserMedianValue)],
    header.map((_, c) => c > 0),
  ));

  if (stats.topItems.length > 0) {
    lines.push("", `top ${stats.topItems.length} item${stats.topItems.length === 1 ? "" : "s"} by users`);
    const table = [["#", "users", "item"], ...stats.topItems.map((entry, rank) => [
      String(rank + 1),
      formatCount(entry.users),
      entry.label !== undefined && entry.label !== entry.key ? `${entry.label} [${entry.key}]` : entry.key,
    ])];
    lines.push(...alignColumns(table, [true, true, false]).map((line) => `  ${line}`));
  }
  return lines.join("\n") + "\n";
}

/** Pads every column to its widest cell; the last column is not padded on the right. */
function alignColumns(rows: string[][], alignRight: boolean[]): string[] {
  const widths = alignRight.map((_, c) => Math.max(...rows.map((row) => [...(row[c] ?? "")].length)));
  return rows.map((row) => row.map((cell, c) => {
    const pad = " ".repeat(widths[c] - [...cell].length);
    if (alignRight[c]) return pad + cell;
    return c === row.length - 1 ? cell : cell + pad;
  }).join("  ").trimEnd());
}

// Formatting by hand, not toLocaleString: the report must read the same on every runtime.
function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function formatCount(x: number): string {
  return Number.isFinite(x) ? groupThousands(String(Math.round(x))) : "n/a";
}

function formatDecimal(x: number, decimals: number): string {
  if (!Number.isFinite(x)) return "n/a";
  const [whole, fraction] = x.toFixed(decimals).split(".");
  return fraction === undefined ? groupThousands(whole) : `${groupThousands(whole)}.${fraction}`;
}

/** Integers as integers, anything else with up to 3 decimals (ratings like 3.5 stay short). */
function formatValue(x: number): string {
  if (!Number.isFinite(x)) return "n/a";
  if (Number.isInteger(x)) return groupThousands(String(x));
  return formatDecimal(x, 3).replace(/0+$/, "");
}

function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return "n/a";
  const percent = 100 * fraction;
  // Three significant digits keep Last.fm's 0.0167% as readable as a dense dataset's 12.5%.
  return `${percent === 0 ? "0" : percent >= 100 ? percent.toFixed(1) : percent.toPrecision(3)}%`;
}
