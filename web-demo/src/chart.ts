// The live loss chart: an SVG line over the iterations so far, axes scaled to the data.
// Drawn from scratch on every update (15 points: cheaper than diffing).

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640, HEIGHT = 220;
const MARGIN = { left: 64, right: 16, top: 14, bottom: 34 };

function el<K extends keyof SVGElementTagNameMap>(name: K, attributes: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// "Nice" tick values (1, 2 or 5 × 10^n apart) covering [min, max].
function ticks(min: number, max: number, count: number): number[] {
  if (!(max > min)) return [min];
  const rough = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? rough;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(v);
  return out;
}

function format(value: number, span: number): string {
  const digits = Math.max(0, Math.min(6, Math.ceil(-Math.log10(span || 1)) + 2));
  return value.toFixed(digits);
}

/** Draws `losses` (one per finished iteration) on an x axis of `iterations` rounds. */
export function drawLossChart(svg: SVGSVGElement, losses: number[], iterations: number): void {
  svg.replaceChildren();
  const plotW = WIDTH - MARGIN.left - MARGIN.right, plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const finite = losses.filter(Number.isFinite);
  const lo = finite.length ? Math.min(...finite) : 0, hi = finite.length ? Math.max(...finite) : 1;
  // A little headroom so the line never sits on the frame; a flat line gets a band around it.
  const pad = hi > lo ? (hi - lo) * 0.08 : Math.abs(hi) * 0.05 || 1;
  const yMin = lo - pad, yMax = hi + pad;
  const x = (i: number) => MARGIN.left + (iterations > 1 ? ((i - 1) / (iterations - 1)) * plotW : plotW / 2);
  const y = (v: number) => MARGIN.top + (1 - (v - yMin) / (yMax - yMin)) * plotH;

  svg.append(el("rect", { x: MARGIN.left, y: MARGIN.top, width: plotW, height: plotH, class: "chart-frame" }));
  for (const v of ticks(yMin, yMax, 4)) {
    svg.append(el("line", { x1: MARGIN.left, x2: MARGIN.left + plotW, y1: y(v), y2: y(v), class: "chart-grid" }));
    svg.append(el("text", { x: MARGIN.left - 8, y: y(v) + 4, class: "chart-label", "text-anchor": "end" }, format(v, yMax - yMin)));
  }
  for (const i of ticks(1, iterations, Math.min(iterations, 8)).filter(Number.isInteger)) {
    svg.append(el("text", { x: x(i), y: HEIGHT - MARGIN.bottom + 18, class: "chart-label", "text-anchor": "middle" }, String(i)));
  }
  svg.append(el("text", { x: MARGIN.left + plotW / 2, y: HEIGHT - 4, class: "chart-axis", "text-anchor": "middle" }, "round (iteration)"));
  if (finite.length === 0) return;
  const points = losses.map((v, j) => (Number.isFinite(v) ? `${x(j + 1).toFixed(1)},${y(v).toFixed(1)}` : "")).filter(Boolean).join(" ");
  svg.append(el("polyline", { points, class: "chart-line" }));
  losses.forEach((v, j) => {
    if (!Number.isFinite(v)) return;
    const dot = el("circle", { cx: x(j + 1), cy: y(v), r: 3.5, class: "chart-dot" });
    dot.append(el("title", {}, `round ${j + 1}: loss ${v.toPrecision(5)}`));
    svg.append(dot);
  });
}
