/**
 * The drift report as one self-contained HTML page (report/'s page, tables and inline SVG): the status and why,
 * a table of every score and label with its test, and per score the reference's and the served histogram.
 */
import { cards, esc, figure, figures, fmt, page, type Section, table } from "../report/html.js";
import { plot } from "../report/svg.js";
import type { DriftReport } from "./drift.js";
import type { ServedSample } from "./log.js";
import type { DriftReference } from "./reference.js";
import { evidentlyBins } from "./stats.js";

const TEST_NAMES: Record<string, string> = {
  ks: "Kolmogorov–Smirnov",
  chisquare: "χ²",
  z: "Z-test (proportions)",
  wasserstein: "Wasserstein (normed)",
  jensenshannon: "Jensen–Shannon distance",
};

function histogram(name: string, ref: number[], cur: number[]): string {
  const b = evidentlyBins(ref, cur, "num");
  if (typeof b.bins[0] !== "number") {
    // few distinct values: one bar per value, drawn as points
    const keys = b.bins as string[];
    return plot({
      title: name,
      x: { label: name, categories: keys },
      y: { label: "share", includeZero: true },
      series: [
        { name: "reference", points: b.reference.map((v, i) => [i, v]), kind: "line+markers" },
        { name: "served", points: b.current.map((v, i) => [i, v]), kind: "line+markers" },
      ],
      legend: true,
      width: 420,
      height: 240,
    });
  }
  const edges = b.bins as number[];
  const steps = (shares: number[]): [number, number][] => [
    ...shares.map((s, i): [number, number] => [edges[i]!, s]),
    [edges[edges.length - 1]!, shares[shares.length - 1]!],
  ];
  return plot({
    title: name,
    x: { label: name },
    y: { label: "share per bin", includeZero: true },
    series: [
      { name: "reference", points: steps(b.reference), kind: "step" },
      { name: "served", points: steps(b.current), kind: "step" },
    ],
    legend: true,
    width: 420,
    height: 240,
  });
}

/** The HTML page of a drift report; `served` are the samples it compared (for the histograms). */
export function driftHtml(
  report: DriftReport,
  reference: DriftReference,
  served: readonly ServedSample[],
  o: { title?: string; model?: string; log?: string; generatedAt?: Date } = {},
): string {
  const sections: Section[] = [];
  const tested = report.features.length;
  sections.push({
    id: "status",
    title: "Status",
    body:
      cards([
        [
          "status",
          report.status,
          report.status === "ok" ? "no drift past the thresholds" : "drift past the thresholds",
        ],
        ["served samples", String(report.samples), `newest ${report.options.window} compared`],
        ["reference", String(reference.count), reference.source],
        [
          "drifted",
          `${report.features.filter((f) => f.drift).length} / ${tested}`,
          `degraded at a share ≥ ${report.options.driftShare}`,
        ],
      ]) + `<ul>${report.reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul>`,
  });
  if (tested) {
    sections.push({
      id: "features",
      title: "Scores and labels",
      body: table(
        [
          "feature",
          "test",
          "statistic",
          "p-value",
          "threshold",
          "drift",
          "PSI",
          "JS distance",
          "reference n",
          "served n",
        ],
        report.features.map((f) => [
          f.feature,
          TEST_NAMES[f.test] ?? f.test,
          f.statistic,
          f.pValue,
          f.threshold,
          f.drift ? "yes" : "no",
          f.psi,
          f.jensenShannon,
          f.referenceCount,
          f.currentCount,
        ]),
        { numeric: [2, 3, 4, 6, 7, 8, 9] },
      ),
    });
    const charts: string[] = [];
    for (const f of report.features) {
      if (f.kind !== "num") continue;
      const name = f.feature.replace(/^score:/, "");
      const ref = reference.scores[name] ?? [];
      const cur = served.map((s) => s.scores?.[name]).filter((v): v is number => Number.isFinite(v));
      charts.push(figure(histogram(name, ref, cur), `${name}: ${TEST_NAMES[f.test]} ${fmt(f.statistic)}`));
    }
    const labels = report.features.find((f) => f.feature === "label");
    let labelTable = "";
    if (labels) {
      const refTotal = Object.values(reference.labels).reduce((a, b) => a + b, 0);
      const counts = new Map<string, number>();
      let curTotal = 0;
      for (const s of served)
        if (typeof s.label === "string") {
          counts.set(s.label, (counts.get(s.label) ?? 0) + 1);
          curTotal++;
        }
      const keys = [...new Set([...Object.keys(reference.labels), ...counts.keys()])].sort();
      labelTable =
        "<h3>Predicted labels</h3>" +
        table(
          ["label", "reference share", "served share"],
          keys.map((k) => [
            k,
            (reference.labels[k] ?? 0) / refTotal,
            curTotal ? (counts.get(k) ?? 0) / curTotal : null,
          ]),
          { numeric: [1, 2] },
        );
    }
    sections.push({ id: "distributions", title: "Distributions", body: figures(charts) + labelTable });
  }
  if (report.embeddings) {
    const e = report.embeddings;
    sections.push({
      id: "embeddings",
      title: "Input embeddings",
      body: table(
        ["test", "MMD²", "threshold (MMD²)", "p-value", "α", "bandwidth σ", "reference n", "served n", "drift"],
        [
          [
            "MMD, RBF kernel, permutation test",
            e.mmd2,
            e.threshold,
            e.pValue,
            e.alpha,
            e.sigma,
            e.referenceCount,
            e.currentCount,
            e.drift ? "yes" : "no",
          ],
        ],
        { numeric: [1, 2, 3, 4, 5, 6, 7] },
      ),
    });
  }
  return page({
    title: o.title ?? "Drift report",
    subtitle: esc([o.model && `model ${o.model}`, o.log && `log ${o.log}`].filter(Boolean).join(" · ")),
    sections,
    notes: report.notes,
    generatedAt: o.generatedAt,
  });
}
