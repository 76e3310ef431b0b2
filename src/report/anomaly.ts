/**
 * The page of `graft anomaly score --report`: per detector, its metrics (where labels exist), the distribution of
 * its scores (a histogram of 30 bins, normal and anomalous records apart when labelled, the calibrated threshold
 * marked) and its top-scored records.
 */
import { figure, page, table, type Section } from "./html.js";
import { plot } from "./svg.js";

export interface AnomalyReportInput {
  title: string;
  detectors: Record<string, Record<string, number>>;
  scores: Record<string, readonly number[]>;
  thresholds: Record<string, number>;
  items: readonly string[];
  /** 1 for a known anomaly, 0 for normal, per record (absent: unlabelled). */
  gold?: readonly number[];
  top?: number;
}

function histogram(values: readonly number[], lo: number, hi: number, bins: number): [number, number][] {
  const counts = new Array<number>(bins).fill(0);
  const w = (hi - lo) / bins || 1;
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / w)))]++;
  return counts.map((c, i) => [lo + i * w, c]);
}

export function anomalyReportHtml(o: AnomalyReportInput): string {
  const names = Object.keys(o.scores);
  const metricKeys = [...new Set(Object.values(o.detectors).flatMap((m) => Object.keys(m)))];
  const sections: Section[] = [
    {
      id: "detectors",
      title: "Detectors",
      body: table(
        ["detector", ...metricKeys],
        names.map((n) => [n, ...metricKeys.map((k) => o.detectors[n]?.[k] ?? null)]),
        { numeric: metricKeys.map((_, i) => i + 1) },
      ),
    },
  ];
  for (const n of names) {
    const s = o.scores[n];
    const lo = Math.min(...s),
      hi = Math.max(...s);
    const groups = o.gold
      ? [
          { name: "normal", values: s.filter((_, i) => o.gold![i] === 0) },
          { name: "anomalous", values: s.filter((_, i) => o.gold![i] === 1) },
        ]
      : [{ name: "records", values: [...s] }];
    const svg = plot({
      title: `${n}: score distribution`,
      x: { label: "score" },
      y: { label: "records", includeZero: true },
      series: groups.map((g) => ({ name: g.name, points: histogram(g.values, lo, hi, 30), kind: "step" as const })),
      ...(o.thresholds[n] !== undefined ? { vlines: [{ x: o.thresholds[n], label: "threshold" }] } : {}),
    });
    const order = Array.from(s.keys())
      .sort((a, b) => s[b] - s[a])
      .slice(0, o.top ?? 10);
    sections.push({
      id: `detector-${n}`,
      title: n,
      body:
        figure(svg) +
        table(
          ["rank", "record", "score", ...(o.gold ? ["anomalous"] : []), "item"],
          order.map((i, r) => [
            r + 1,
            i + 1,
            s[i],
            ...(o.gold ? [o.gold[i] ? "yes" : "no"] : []),
            o.items[i].length > 160 ? `${o.items[i].slice(0, 160)}…` : o.items[i],
          ]),
          { numeric: [0, 1, 2] },
        ),
    });
  }
  return page({ title: o.title, sections });
}
