// Parse throughput of readInteractions on a file shaped like Last.fm-360K's
// usersha1-artmbid-artname-plays.tsv (17,535,655 lines, ~1.6 GB): user sha1, artist mbid
// (empty on ~1% of lines), artist name, plays; ~49 lines per user, grouped by user, ~160K
// artists with Zipf popularity. The file is generated once and cached in the OS temp dir.
//   npm run build && node bench/parse.mjs [--lines 17535655] [--runs 1]
// Prints MB/s, rows/s and the peak RSS of a fresh process that only parses.

import { execFileSync } from "node:child_process";
import { closeSync, existsSync, openSync, renameSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    lines: { type: "string", default: "17535655" },
    runs: { type: "string", default: "1" },
    measure: { type: "string" }, // internal: the child process that parses
  },
});

if (args.measure) {
  await measure(args.measure);
} else {
  const lines = Number(args.lines);
  if (!Number.isInteger(lines) || lines < 1) throw new Error(`--lines: '${args.lines}' is not a positive integer`);
  const path = join(tmpdir(), `edgerec-parse-bench-lastfm360k-v1-${lines}.tsv`);
  if (!existsSync(path)) {
    const started = performance.now();
    process.stdout.write(`generating ${path} (${lines.toLocaleString("en-US")} lines)… `);
    generate(path, lines);
    console.log(`${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const bytes = statSync(path).size;
  console.log(`edgerec parse bench: node ${process.version}, ${path}, ${(bytes / 1e6).toFixed(0)} MB, ${lines.toLocaleString("en-US")} lines`);
  for (let run = 0; run < Number(args.runs); run++) {
    // A fresh process per run, so peak RSS is the parse's alone, not the generator's.
    const output = execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--measure", path], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    const r = JSON.parse(output.trim().split("\n").pop());
    console.log(
      `readInteractions: ${r.seconds.toFixed(2)} s, ${(bytes / 1e6 / r.seconds).toFixed(0)} MB/s, ${(r.rows / r.seconds / 1e6).toFixed(2)}M rows/s; ` +
        `${r.rows.toLocaleString("en-US")} rows, ${r.users.toLocaleString("en-US")} users, ${r.items.toLocaleString("en-US")} items; ` +
        `peak RSS ${(r.peakRss / 1e6).toFixed(0)} MB (columns ${(r.columnBytes / 1e6).toFixed(0)} MB, process at start ${(r.startRss / 1e6).toFixed(0)} MB)`,
    );
  }
}

async function measure(path) {
  const { readInteractions } = await import("../dist/io/interactions.js");
  const startRss = process.memoryUsage().rss;
  const started = performance.now();
  const table = await readInteractions(path, { separator: "\t", header: false, columns: { user: 0, item: 1, value: 3, itemLabel: 2 } });
  const seconds = (performance.now() - started) / 1000;
  const columnBytes = table.user.byteLength + table.item.byteLength + table.value.byteLength;
  console.log(JSON.stringify({
    seconds, rows: table.rows, users: table.userKeys.length, items: table.itemKeys.length,
    peakRss: process.resourceUsage().maxRSS * 1024, startRss, columnBytes,
  }));
}

// Deterministic: the same --lines always writes the same bytes.
function generate(path, lines) {
  let state = 0x9e3779b9;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const hex = (n) => {
    let s = "";
    for (let i = 0; i < n; i++) s += "0123456789abcdef"[(random() * 16) | 0];
    return s;
  };
  const encoder = new TextEncoder();

  // Artists: "\t<mbid>\t<name>\t" (and the mbid-less variant) packed in one arena.
  const nArtists = 160_000;
  const syllables = ["ka", "lo", "ri", "the", "mon", "ster", "blue", "an", "gel", "dead", "sun", "ny", "ré", "ö", "x", "band"];
  const withMbid = [];
  const withoutMbid = [];
  for (let a = 0; a < nArtists; a++) {
    let name = "";
    const target = 3 + ((random() * 10) | 0);
    while (name.length < target) name += (name && random() < 0.2 ? " " : "") + syllables[(random() * syllables.length) | 0];
    const mbid = `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
    withMbid.push(encoder.encode(`\t${mbid}\t${name}\t`));
    withoutMbid.push(encoder.encode(`\t\t${name}\t`));
  }
  // Zipf popularity (s = 1): cumulative weights, sampled by binary search.
  const cdf = new Float64Array(nArtists);
  let total = 0;
  for (let a = 0; a < nArtists; a++) cdf[a] = total += 1 / (a + 1);
  const drawArtist = () => {
    const u = random() * total;
    let lo = 0;
    let hi = nArtists - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  const partial = `${path}.${process.pid}.partial`;
  const fd = openSync(partial, "w");
  const buffer = new Uint8Array(8 << 20);
  let used = 0;
  const flush = () => {
    for (let written = 0; written < used; ) written += writeSync(fd, buffer, written, used - written);
    used = 0;
  };
  let user = encoder.encode(hex(40));
  let userLinesLeft = 0;
  for (let line = 0; line < lines; line++) {
    if (userLinesLeft === 0) {
      user = encoder.encode(hex(40));
      userLinesLeft = 39 + ((random() * 21) | 0); // 39–59, mean 49
    }
    userLinesLeft--;
    if (used > buffer.length - 4096) flush();
    buffer.set(user, used);
    used += 40;
    const artist = drawArtist();
    const middle = random() < 0.01 ? withoutMbid[artist] : withMbid[artist];
    buffer.set(middle, used);
    used += middle.length;
    const plays = 1 + Math.floor(3000 * random() ** 4);
    if (plays >= 1000) buffer[used++] = 48 + ((plays / 1000) | 0);
    if (plays >= 100) buffer[used++] = 48 + (((plays / 100) | 0) % 10);
    if (plays >= 10) buffer[used++] = 48 + (((plays / 10) | 0) % 10);
    buffer[used++] = 48 + (plays % 10);
    buffer[used++] = 10;
  }
  flush();
  closeSync(fd);
  renameSync(partial, path);
}
