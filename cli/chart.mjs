// Training curves: drawn in the terminal as text, and written as a small standalone SVG.

/** A text line chart of one or more series over epochs (1-based), `height` rows tall. */
export function textChart(title, series, { width = 60, height = 10 } = {}) {
  const points = series.flatMap((s) => s.values).filter(Number.isFinite);
  if (points.length === 0) return `${title}: no values`;
  let lo = Math.min(...points), hi = Math.max(...points);
  if (hi === lo) { hi += 0.5; lo -= 0.5; }
  const length = Math.max(...series.map((s) => s.values.length));
  const columns = Math.min(width, Math.max(length, 2));
  const grid = Array.from({ length: height }, () => new Array(columns).fill(" "));
  const marks = ["*", "o", "+", "x"];
  series.forEach((s, k) => {
    for (let c = 0; c < columns; c++) {
      const at = Math.round((c * (s.values.length - 1)) / Math.max(columns - 1, 1));
      const v = s.values[at];
      if (!Number.isFinite(v)) continue;
      const row = height - 1 - Math.round(((v - lo) / (hi - lo)) * (height - 1));
      grid[row][c] = marks[k % marks.length];
    }
  });
  const label = (v) => v.toPrecision(4).padStart(10);
  const lines = grid.map((row, r) => `${r === 0 ? label(hi) : r === height - 1 ? label(lo) : " ".repeat(10)} |${row.join("")}`);
  const legend = series.map((s, k) => `${marks[k % marks.length]} ${s.name}`).join("   ");
  return [`${title}   ${legend}`, ...lines, `${" ".repeat(10)} +${"-".repeat(columns)}`, `${" ".repeat(12)}epoch 1${" ".repeat(Math.max(1, columns - 14))}epoch ${length}`].join("\n");
}

const escapeXml = (text) => String(text).replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]);

/** The same curves as an SVG document (a string), axes labelled, one polyline per series. */
export function svgChart(title, series, { width = 640, height = 360 } = {}) {
  const margin = { left: 70, right: 20, top: 40, bottom: 45 };
  const points = series.flatMap((s) => s.values).filter(Number.isFinite);
  let lo = Math.min(...points), hi = Math.max(...points);
  if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
  if (hi === lo) { hi += 0.5; lo -= 0.5; }
  const length = Math.max(...series.map((s) => s.values.length), 2);
  const x = (i) => margin.left + (i / (length - 1)) * (width - margin.left - margin.right);
  const y = (v) => margin.top + (1 - (v - lo) / (hi - lo)) * (height - margin.top - margin.bottom);
  const colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
  const ticks = Array.from({ length: 5 }, (_, t) => lo + ((hi - lo) * t) / 4);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
    `<line x1="${margin.left}" y1="${height - margin.bottom}" x2="${width - margin.right}" y2="${height - margin.bottom}" stroke="black"/>`,
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${height - margin.bottom}" stroke="black"/>`,
    ...ticks.map((v) => `<text x="${margin.left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toPrecision(4)}</text><line x1="${margin.left}" y1="${y(v)}" x2="${width - margin.right}" y2="${y(v)}" stroke="#ddd"/>`),
    `<text x="${margin.left}" y="${height - margin.bottom + 18}" text-anchor="middle">1</text>`,
    `<text x="${width - margin.right}" y="${height - margin.bottom + 18}" text-anchor="middle">${length}</text>`,
    `<text x="${(margin.left + width - margin.right) / 2}" y="${height - 8}" text-anchor="middle">epoch</text>`,
    ...series.map((s, k) => {
      const path = s.values.map((v, i) => (Number.isFinite(v) ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : "")).filter(Boolean).join(" ");
      return `<polyline fill="none" stroke="${colours[k % colours.length]}" stroke-width="2" points="${path}"/>` +
        `<text x="${width - margin.right - 150}" y="${margin.top + 16 * (k + 1)}" fill="${colours[k % colours.length]}">${escapeXml(s.name)}</text>`;
    }),
    "</svg>",
  ];
  return parts.join("\n") + "\n";
}
