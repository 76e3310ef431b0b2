/**
 * Small, dependency-free SVG charts for the run report: an x/y plot (lines, post-steps, markers, bars, reference
 * lines) and a heatmap. Output is deterministic (coordinates rounded to 0.01 px, fixed palette, no ids or clocks),
 * every text is escaped, and each chart carries an accessible name (`<title>`, aria-label) and a `<desc>`.
 */
import { formatNumber, makeScale, type Scale } from "./scale.js";

export type Point = readonly [number, number];

/** Tableau 10: distinguishable, print-safe, the default of many plotting libraries. */
export const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];

export function escapeXml(s: string): string {
  return (
    s
      .replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!)
      // characters XML 1.0 forbids even when escaped
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "\ufffd")
  );
}

/** Pixel coordinate with two decimals: stable text, sub-pixel precision. */
export function px(v: number): string {
  const r = Math.round(v * 100) / 100;
  return String(Object.is(r, -0) ? 0 : r);
}

export interface Series {
  name: string;
  points: readonly Point[];
  /** line: straight segments; step: horizontal then vertical (steps-post); markers: dots only. */
  kind?: "line" | "step" | "markers" | "line+markers";
  color?: string;
  dashed?: boolean;
  /** Per-point tooltips for markers (default: "name: x, y"). */
  labels?: readonly string[];
}

export interface Bar {
  x0: number;
  x1: number;
  y: number;
  title?: string;
}

export interface RefLine {
  from: Point;
  to: Point;
  label?: string;
}

export interface Axis {
  label?: string;
  log?: boolean;
  domain?: [number, number];
  /** Categorical axis: value i sits at category i. */
  categories?: readonly string[];
  /** Stretch the range to include 0 (rates and counts read honestly from zero). */
  includeZero?: boolean;
}

export interface PlotOptions {
  title: string;
  x: Axis;
  y: Axis;
  series?: readonly Series[];
  /** Bars share one colour (bars' own titles give their values). */
  bars?: readonly Bar[];
  barColor?: string;
  barName?: string;
  refLines?: readonly RefLine[];
  /** Vertical markers, e.g. the best checkpoint's step. */
  vlines?: readonly { x: number; label: string }[];
  width?: number;
  height?: number;
  /** Series longer than this are thinned to min/max per pixel column. */
  maxPoints?: number;
  legend?: boolean;
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif" font-size="12"';
const CHAR_W = 6.6; // average advance of a 12px sans-serif glyph, for layout only

function textWidth(s: string, size = 12): number {
  return s.length * CHAR_W * (size / 12);
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, Math.max(1, max - 1)) + "…";
}

/**
 * Keeps at most about `buckets` × 4 points: per x-bucket the first, minimum, maximum and last point, in x order.
 * Spikes survive (unlike stride sampling), and the output depends only on the input.
 */
export function decimate(points: readonly Point[], buckets: number): Point[] {
  if (points.length <= buckets * 4) return points.slice();
  let x0 = Infinity,
    x1 = -Infinity;
  for (const [x] of points)
    if (Number.isFinite(x)) {
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
    }
  const width = (x1 - x0) / buckets || 1;
  const out: Point[] = [];
  let cur = -1,
    group: number[] = [];
  const flush = () => {
    if (!group.length) return;
    let lo = group[0]!,
      hi = group[0]!;
    for (const i of group) {
      if (points[i]![1] < points[lo]![1]) lo = i;
      if (points[i]![1] > points[hi]![1]) hi = i;
    }
    for (const i of [...new Set([group[0]!, lo, hi, group[group.length - 1]!])].sort((a, b) => a - b))
      out.push(points[i]!);
    group = [];
  };
  points.forEach(([x, y], i) => {
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      flush();
      out.push([x, y]); // keeps the gap in the line
      return;
    }
    const b = Math.min(buckets - 1, Math.floor((x - x0) / width));
    if (b !== cur) {
      flush();
      cur = b;
    }
    group.push(i);
  });
  flush();
  return out;
}

/** An SVG path through the points; non-finite points break the line. */
function pathData(points: readonly Point[], sx: Scale, sy: Scale, step: boolean): string {
  const parts: string[] = [];
  let pen = false;
  for (const [x, y] of points) {
    const ok = Number.isFinite(x) && Number.isFinite(y) && (!sx.log || x > 0) && (!sy.log || y > 0);
    if (!ok) {
      pen = false;
      continue;
    }
    const X = px(sx.map(x)),
      Y = px(sy.map(y));
    if (!pen) parts.push(`M${X} ${Y}`);
    else if (step) parts.push(`H${X}`, `V${Y}`);
    else parts.push(`L${X} ${Y}`);
    pen = true;
  }
  return parts.join("");
}

interface LegendItem {
  name: string;
  color: string;
  kind: "line" | "markers" | "bar" | "ref";
  dashed?: boolean;
}

/** Legend rows under the plot: returns the markup and its height. */
function legend(
  items: readonly LegendItem[],
  left: number,
  top: number,
  width: number,
): { svg: string; height: number } {
  if (!items.length) return { svg: "", height: 0 };
  let x = left,
    y = top + 12,
    rows = 1;
  const out: string[] = [];
  for (const it of items) {
    const label = truncate(it.name, 40);
    const w = 22 + textWidth(label) + 16;
    if (x + w > left + width && x > left) {
      x = left;
      y += 18;
      rows++;
    }
    const sw =
      it.kind === "markers"
        ? `<circle cx="${px(x + 8)}" cy="${px(y - 4)}" r="3.5" fill="${it.color}"/>`
        : it.kind === "bar"
          ? `<rect x="${px(x + 2)}" y="${px(y - 9)}" width="12" height="10" fill="${it.color}" fill-opacity="0.75"/>`
          : `<line x1="${px(x)}" y1="${px(y - 4)}" x2="${px(x + 16)}" y2="${px(y - 4)}" stroke="${it.color}" stroke-width="2"${it.dashed ? ' stroke-dasharray="5 3"' : ""}/>`;
    out.push(
      `<g class="legend-item">${sw}<text x="${px(x + 22)}" y="${px(y)}" fill="#333">${escapeXml(label)}</text></g>`,
    );
    x += w;
  }
  return { svg: `<g class="legend">${out.join("")}</g>`, height: rows * 18 + 6 };
}

function axisValues(axis: Axis, data: number[]): number[] {
  return axis.categories ? [-0.5, axis.categories.length - 0.5] : data;
}

/** The data range widened by 4% on each side (in log space on a log axis), so no dot sits on the frame. */
function padDomain(values: readonly number[], log: boolean): [number, number] | undefined {
  const v = values.filter((x) => Number.isFinite(x) && (!log || x > 0)).map((x) => (log ? Math.log10(x) : x));
  if (!v.length) return undefined;
  const lo = Math.min(...v),
    hi = Math.max(...v);
  const pad = hi > lo ? (hi - lo) * 0.04 : Math.abs(lo) * 0.1 || 1;
  return log ? [10 ** (lo - pad), 10 ** (hi + pad)] : [lo - pad, hi + pad];
}

/** An x/y chart: any mix of series, bars, reference lines and vertical markers, with axes, grid and legend. */
export function plot(o: PlotOptions): string {
  const W = o.width ?? 560,
    H = o.height ?? 300;
  const series = o.series ?? [];
  const maxPoints = o.maxPoints ?? 1200;
  const shown = series.map((s) => ({
    ...s,
    points: s.points.length > maxPoints ? decimate(s.points, Math.ceil(maxPoints / 4)) : s.points,
  }));
  const xs: number[] = [],
    ys: number[] = [];
  for (const s of shown)
    for (const [x, y] of s.points) {
      xs.push(x);
      ys.push(y);
    }
  for (const b of o.bars ?? []) {
    xs.push(b.x0, b.x1);
    ys.push(0, b.y);
  }
  for (const r of o.refLines ?? []) {
    xs.push(r.from[0], r.to[0]);
    ys.push(r.from[1], r.to[1]);
  }
  for (const v of o.vlines ?? []) xs.push(v.x);
  if (o.y.includeZero) ys.push(0);
  if (o.x.includeZero) xs.push(0);

  const yFmtProbe = makeScale(axisValues(o.y, ys), [0, 1], { log: o.y.log, domain: o.y.domain, nice: true });
  const yLabelW = Math.max(...yFmtProbe.ticks.map((t) => textWidth(yFmtProbe.format(t))), 10);
  const left = Math.ceil(yLabelW + (o.y.label ? 30 : 14)),
    right = 18,
    top = 30;
  const plotW = W - left - right;

  const items: LegendItem[] = [];
  shown.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    items.push({ name: s.name, color, kind: s.kind === "markers" ? "markers" : "line", dashed: s.dashed });
  });
  if (o.bars?.length && o.barName) items.push({ name: o.barName, color: o.barColor ?? PALETTE[0]!, kind: "bar" });
  for (const r of o.refLines ?? [])
    if (r.label) items.push({ name: r.label, color: "#888", kind: "ref", dashed: true });
  const showLegend = o.legend ?? items.length > 1;
  const xLabelH = o.x.label ? 18 : 0;
  // measured first, then placed at the bottom edge
  const legH = showLegend ? legend(items, left, 0, plotW).height : 0;
  const leg = showLegend ? legend(items, left, H - legH, plotW) : { svg: "", height: 0 };
  const bottom = 24 + xLabelH + leg.height;
  const plotH = H - top - bottom;
  if (plotH < 40)
    throw new RangeError(`chart "${o.title}": height ${H} leaves no room for the plot; use a larger height`);

  let xDomain = o.x.domain ?? (o.x.categories ? ([-0.5, o.x.categories.length - 0.5] as [number, number]) : undefined);
  if (!xDomain && shown.some((s) => s.kind === "markers") && !o.bars?.length) xDomain = padDomain(xs, o.x.log ?? false);
  const sx = makeScale(axisValues(o.x, xs), [left, left + plotW], { log: o.x.log, domain: xDomain });
  const sy = makeScale(axisValues(o.y, ys), [top + plotH, top], { log: o.y.log, domain: o.y.domain, nice: true });
  const xTicks = o.x.categories ? o.x.categories.map((_, i) => i) : sx.ticks;
  const xFmt = o.x.categories ? (v: number) => truncate(o.x.categories![v] ?? "", 14) : sx.format;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(o.title)}" ${FONT}>`,
  );
  out.push(`<title>${escapeXml(o.title)}</title>`);
  const desc = shown
    .map((s) => `${s.name} (${s.points.length} points)`)
    .concat(o.bars?.length ? [`${o.bars.length} bars`] : []);
  out.push(`<desc>${escapeXml(desc.join("; ") || "no data")}</desc>`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  out.push(
    `<text class="chart-title" x="${px(left)}" y="18" font-size="13" font-weight="600" fill="#222">${escapeXml(truncate(o.title, Math.floor(plotW / 7)))}</text>`,
  );

  // grid and tick labels
  const grid: string[] = [],
    labels: string[] = [];
  for (const t of sy.ticks) {
    const Y = px(sy.map(t));
    grid.push(`<line x1="${px(left)}" y1="${Y}" x2="${px(left + plotW)}" y2="${Y}"/>`);
    labels.push(`<text x="${px(left - 6)}" y="${Y}" dy="0.32em" text-anchor="end">${escapeXml(sy.format(t))}</text>`);
  }
  const xLabelMax = Math.max(20, plotW / Math.max(1, xTicks.length));
  const every = Math.max(1, Math.ceil(Math.max(...xTicks.map((t) => textWidth(xFmt(t)) + 8)) / xLabelMax));
  xTicks.forEach((t, i) => {
    const X = px(sx.map(t));
    grid.push(`<line x1="${X}" y1="${px(top)}" x2="${X}" y2="${px(top + plotH)}"/>`);
    if (i % every === 0)
      labels.push(`<text x="${X}" y="${px(top + plotH + 16)}" text-anchor="middle">${escapeXml(xFmt(t))}</text>`);
  });
  out.push(`<g class="grid" stroke="#e6e6e6" stroke-width="1">${grid.join("")}</g>`);
  out.push(`<g class="ticks" fill="#555" font-size="11">${labels.join("")}</g>`);
  out.push(
    `<rect class="frame" x="${px(left)}" y="${px(top)}" width="${px(plotW)}" height="${px(plotH)}" fill="none" stroke="#999"/>`,
  );
  if (o.x.label)
    out.push(
      `<text class="axis-label" x="${px(left + plotW / 2)}" y="${px(top + plotH + 34)}" text-anchor="middle" fill="#333">${escapeXml(o.x.label)}</text>`,
    );
  if (o.y.label) {
    const cy = px(top + plotH / 2);
    out.push(
      `<text class="axis-label" x="12" y="${cy}" transform="rotate(-90 12 ${cy})" text-anchor="middle" dy="0.32em" fill="#333">${escapeXml(o.y.label)}</text>`,
    );
  }

  // data layers: bars, reference lines, series, markers on top
  if (o.bars?.length) {
    const color = o.barColor ?? PALETTE[0]!;
    const base = sy.log ? sy.domain[0] : Math.max(sy.domain[0], Math.min(0, sy.domain[1]));
    const rects = o.bars
      .filter((b) => Number.isFinite(b.y))
      .map((b) => {
        const X0 = sx.map(b.x0),
          X1 = sx.map(b.x1),
          Y = sy.map(b.y),
          Y0 = sy.map(base);
        const tip = b.title ? `<title>${escapeXml(b.title)}</title>` : "";
        return `<rect x="${px(Math.min(X0, X1) + 0.5)}" y="${px(Math.min(Y, Y0))}" width="${px(Math.max(0, Math.abs(X1 - X0) - 1))}" height="${px(Math.abs(Y0 - Y))}">${tip}</rect>`;
      });
    out.push(`<g class="bars" fill="${color}" fill-opacity="0.75">${rects.join("")}</g>`);
  }
  for (const r of o.refLines ?? []) {
    const tip = r.label ? `<title>${escapeXml(r.label)}</title>` : "";
    out.push(
      `<line class="ref" x1="${px(sx.map(r.from[0]))}" y1="${px(sy.map(r.from[1]))}" x2="${px(sx.map(r.to[0]))}" y2="${px(sy.map(r.to[1]))}" stroke="#888" stroke-width="1.2" stroke-dasharray="5 4">${tip}</line>`,
    );
  }
  for (const v of o.vlines ?? []) {
    const X = px(sx.map(v.x));
    out.push(
      `<g class="vline"><line x1="${X}" y1="${px(top)}" x2="${X}" y2="${px(top + plotH)}" stroke="#555" stroke-dasharray="2 3"><title>${escapeXml(v.label)}</title></line>` +
        // the label sits right of the line, or left of it in the right half so it stays inside the frame
        (sx.map(v.x) > left + plotW / 2
          ? `<text x="${X}" y="${px(top + 11)}" dx="-4" text-anchor="end" font-size="10" fill="#555">${escapeXml(truncate(v.label, 40))}</text></g>`
          : `<text x="${X}" y="${px(top + 11)}" dx="4" font-size="10" fill="#555">${escapeXml(truncate(v.label, 40))}</text></g>`),
    );
  }
  shown.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const kind = s.kind ?? "line";
    const body: string[] = [`<title>${escapeXml(s.name)}</title>`];
    if (kind !== "markers") {
      const d = pathData(s.points, sx, sy, kind === "step");
      if (d)
        body.push(
          `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8" stroke-linejoin="round"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
        );
    }
    if (kind === "markers" || kind === "line+markers") {
      const dots = s.points.map(([x, y], j) => {
        if (!Number.isFinite(x) || !Number.isFinite(y) || (sx.log && x <= 0) || (sy.log && y <= 0)) return "";
        const tip =
          s.points.length <= 400
            ? `<title>${escapeXml(s.labels?.[j] ?? `${s.name}: ${formatNumber(x, 4)}, ${formatNumber(y, 4)}`)}</title>`
            : "";
        return `<circle cx="${px(sx.map(x))}" cy="${px(sy.map(y))}" r="3">${tip}</circle>`;
      });
      body.push(`<g class="markers" fill="${color}" fill-opacity="0.85">${dots.join("")}</g>`);
    }
    out.push(`<g class="series" data-series="${escapeXml(s.name)}">${body.join("")}</g>`);
  });
  if (leg.svg) out.push(leg.svg);
  out.push("</svg>");
  return out.join("");
}

export interface HeatmapOptions {
  title: string;
  rowLabels: readonly string[];
  colLabels: readonly string[];
  /** values[i][j], shown as text. */
  values: readonly (readonly number[])[];
  /** Colour intensity in [0, 1] per cell (default: value / max). */
  intensity?: readonly (readonly number[])[];
  /** Tooltip per cell. */
  cellTitle?: (i: number, j: number) => string;
  rowAxis?: string;
  colAxis?: string;
  format?: (v: number) => string;
  maxWidth?: number;
}

const RAMP: [number, number, number][] = [
  [247, 251, 255],
  [198, 219, 239],
  [107, 174, 214],
  [33, 113, 181],
  [8, 48, 107],
];

/** Sequential white-to-blue colour for t in [0, 1] (matplotlib's Blues, five stops). */
export function rampColor(t: number): string {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(u)),
    f = u - i;
  const c = RAMP[i]!.map((a, k) => Math.round(a + (RAMP[i + 1]![k]! - a) * f));
  return `#${c.map((v) => v.toString(16).padStart(2, "0")).join("")}`;
}

/** A labelled matrix of coloured cells (the confusion matrix). */
export function heatmap(o: HeatmapOptions): string {
  const n = o.rowLabels.length,
    m = o.colLabels.length;
  if (o.values.length !== n || o.values.some((r) => r.length !== m))
    throw new RangeError(`heatmap "${o.title}": values must be ${n} × ${m}`);
  const fmt = o.format ?? ((v: number) => formatNumber(v, 3));
  let max = 0;
  for (const r of o.values) for (const v of r) if (Number.isFinite(v)) max = Math.max(max, v);
  const inten = o.intensity ?? o.values.map((r) => r.map((v) => (max > 0 ? v / max : 0)));
  const rowLab = o.rowLabels.map((s) => truncate(s, 18)),
    colLab = o.colLabels.map((s) => truncate(s, 18));
  const cell = Math.max(14, Math.min(64, Math.floor(((o.maxWidth ?? 560) - 160) / Math.max(1, m))));
  const labelW = Math.max(...rowLab.map((s) => textWidth(s, 11)), 10) + 10;
  const colW = Math.max(...colLab.map((s) => textWidth(s, 11)), 10);
  // column labels wider than a cell are written at 45°, which needs height above and room to the right
  const rotate = colW > cell - 4;
  const colLabH = rotate ? colW * 0.72 + 12 : 18;
  const left = labelW + (o.rowAxis ? 24 : 6),
    top = 30 + colLabH + (o.colAxis ? 16 : 0);
  const W = Math.ceil(left + m * cell + 12 + (rotate ? colW * 0.72 : 0)),
    H = Math.ceil(top + n * cell + 12);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart heatmap" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(o.title)}" ${FONT}>`,
  );
  out.push(`<title>${escapeXml(o.title)}</title><desc>${escapeXml(`${n} × ${m} matrix`)}</desc>`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  out.push(
    `<text class="chart-title" x="6" y="18" font-size="13" font-weight="600" fill="#222">${escapeXml(o.title)}</text>`,
  );
  const showText = cell >= 22;
  const cells: string[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const v = o.values[i]![j]!,
        t = inten[i]?.[j] ?? 0;
      const x = left + j * cell,
        y = top + i * cell;
      const tip = o.cellTitle ? o.cellTitle(i, j) : `${o.rowLabels[i]} / ${o.colLabels[j]}: ${fmt(v)}`;
      const txt = showText
        ? `<text x="${px(x + cell / 2)}" y="${px(y + cell / 2)}" dy="0.35em" text-anchor="middle" font-size="${cell < 34 ? 9 : 11}" fill="${t > 0.55 ? "#fff" : "#222"}">${escapeXml(fmt(v))}</text>`
        : "";
      cells.push(
        `<g class="cell"><rect x="${px(x)}" y="${px(y)}" width="${cell}" height="${cell}" fill="${rampColor(t)}" stroke="#fff"><title>${escapeXml(tip)}</title></rect>${txt}</g>`,
      );
    }
  }
  out.push(`<g class="cells">${cells.join("")}</g>`);
  const lab: string[] = [];
  rowLab.forEach((s, i) =>
    lab.push(
      `<text x="${px(left - 6)}" y="${px(top + i * cell + cell / 2)}" dy="0.35em" text-anchor="end">${escapeXml(s)}</text>`,
    ),
  );
  colLab.forEach((s, j) => {
    const x = px(left + j * cell + cell / 2),
      y = px(top - 6);
    lab.push(
      rotate
        ? `<text x="${x}" y="${y}" transform="rotate(-45 ${x} ${y})" text-anchor="start">${escapeXml(s)}</text>`
        : `<text x="${x}" y="${y}" text-anchor="middle">${escapeXml(s)}</text>`,
    );
  });
  out.push(`<g class="ticks" fill="#444" font-size="11">${lab.join("")}</g>`);
  if (o.colAxis)
    out.push(
      `<text class="axis-label" x="${px(left + (m * cell) / 2)}" y="${px(30 + 4)}" text-anchor="middle" fill="#333">${escapeXml(o.colAxis)}</text>`,
    );
  if (o.rowAxis) {
    const cy = px(top + (n * cell) / 2);
    out.push(
      `<text class="axis-label" x="10" y="${cy}" transform="rotate(-90 10 ${cy})" text-anchor="middle" dy="0.32em" fill="#333">${escapeXml(o.rowAxis)}</text>`,
    );
  }
  out.push("</svg>");
  return out.join("");
}
