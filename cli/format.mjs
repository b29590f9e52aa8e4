// Terminal output for the CLI: aligned tables and a progress bar. Plain text, no colours,
// so output is identical on every runtime and in a pipe.

/** Renders rows (arrays of cells) under a header as aligned columns; numeric columns right-aligned. */
export function table(header, rows) {
  const cells = [header, ...rows].map((row) => row.map((cell) => (cell === undefined || cell === null ? "" : String(cell))));
  const looksNumeric = (cell) => typeof cell === "number" || /^[-+]?\d[\d,]*(\.\d+)?(e[-+]?\d+)?%?$/i.test(String(cell));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((row) => looksNumeric(row[c])));
  const widths = header.map((_, c) => Math.max(...cells.map((row) => [...row[c]].length)));
  const line = (row) => row.map((cell, c) => (numeric[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ").trimEnd();
  return [line(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

/** Seconds as "1m 05s" or "3.2s". */
export function duration(seconds) {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m ${String(Math.round(seconds - minutes * 60)).padStart(2, "0")}s`;
}

/**
 * A progress display on stderr: a redrawn bar on a terminal, one line per update
 * otherwise (logs and CI), silent when quiet.
 */
export function progress(stream, { quiet = false } = {}) {
  const interactive = Boolean(stream.isTTY);
  let lastLength = 0;
  let lastLine = 0;
  return {
    /** `milestone` lines (an ALS iteration) always print; others at most every 2 s off a terminal. */
    update(text, fraction, milestone = false) {
      if (quiet) return;
      if (!interactive) {
        const now = performance.now();
        if (!milestone && now - lastLine < 2000) return;
        lastLine = now;
        stream.write(`${text}\n`);
        return;
      }
      const width = 24;
      const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
      const line = `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${text}`;
      stream.write(`\r${line.padEnd(lastLength)}`);
      lastLength = line.length;
    },
    done() {
      if (!quiet && interactive && lastLength) stream.write("\n");
      lastLength = 0;
    },
  };
}

/** A score with a fixed number of decimals, so a column of them lines up. */
export function score(value, decimals = 3) {
  return Number(value).toFixed(decimals);
}
