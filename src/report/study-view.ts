/** The tuning-study sections: leaderboard, optimization history, parameter slices and intermediate values. */
import { existsSync } from "node:fs";
import { join, sep } from "node:path";
import { cards, duration, esc, figure, figures, fmt, table, type Cell, type Section } from "./html.js";
import type { Study, Trial } from "./study.js";
import { plot, type Axis, type Point, type Series } from "./svg.js";

const MAX_ROWS = 100;
const MAX_SLICES = 8;

/** Trials best first: complete by value, then pruned, running, failed (each by number). */
export function rankTrials(study: Study): Trial[] {
  const order = { complete: 0, pruned: 1, running: 2, waiting: 3, failed: 4 } as const;
  const sign = study.direction === "maximize" ? -1 : 1;
  return [...study.trials].sort((a, b) => {
    const sa = a.state === "complete" && a.value !== null ? 0 : order[a.state] + 1;
    const sb = b.state === "complete" && b.value !== null ? 0 : order[b.state] + 1;
    if (sa !== sb) return sa - sb;
    if (sa === 0) return sign * (a.value! - b.value!) || a.number - b.number;
    return a.number - b.number;
  });
}

/** Best value after each complete trial, in trial order (a step line). */
export function bestSoFar(study: Study): Point[] {
  const out: Point[] = [];
  let best: number | null = null;
  for (const t of study.trials) {
    if (t.state !== "complete" || t.value === null) continue;
    if (best === null || (study.direction === "maximize" ? t.value > best : t.value < best)) best = t.value;
    out.push([t.number, best]);
  }
  return out;
}

function sliceChart(study: Study, param: string, done: Trial[]): string | null {
  const withParam = done.filter((t) => t.params[param] !== undefined);
  if (!withParam.length) return null;
  const vals = withParam.map((t) => t.params[param]);
  let x: Axis, xs: number[], show: (v: unknown) => string;
  if (vals.every((v) => typeof v === "number")) {
    const nums = vals as number[];
    const lo = Math.min(...nums),
      hi = Math.max(...nums);
    // learning rates and the like are searched on a log scale, and read best on one
    x = { label: param, log: lo > 0 && hi / lo >= 10 };
    xs = nums;
    show = (v) => fmt(v as number);
  } else {
    const cats = [...new Set(vals.map(String))].sort();
    x = { label: param, categories: cats };
    xs = vals.map((v) => cats.indexOf(String(v)));
    show = String;
  }
  return plot({
    title: `${study.metric} vs ${param}`,
    x,
    y: { label: study.metric },
    width: 420,
    height: 300,
    series: [
      {
        name: param,
        points: withParam.map((t, i) => [xs[i]!, t.value!] as const),
        kind: "markers",
        labels: withParam.map(
          (t) => `trial ${t.number}: ${param} = ${show(t.params[param])}, ${study.metric} = ${fmt(t.value)}`,
        ),
      },
    ],
  });
}

export function studySections(study: Study, studyDir: string): Section[] {
  const counts = { complete: 0, pruned: 0, running: 0, waiting: 0, failed: 0 };
  for (const t of study.trials) counts[t.state]++;
  const items: [string, string, string?][] = [
    [
      "trials",
      String(study.trials.length),
      Object.entries(counts)
        .filter(([, n]) => n)
        .map(([s, n]) => `${n} ${s}`)
        .join(", "),
    ],
    ["objective", study.metric, study.direction],
  ];
  if (study.best) items.push([`best ${study.metric}`, fmt(study.best.value), `trial ${study.best.number}`]);
  const totalS = study.trials.reduce((a, t) => a + (t.durationS ?? 0), 0);
  if (totalS > 0) items.push(["trial time", duration(totalS), "sum over trials"]);

  const ranked = rankTrials(study);
  const params = [...new Set(study.trials.flatMap((t) => Object.keys(t.params)))].sort();
  const link = (t: Trial): Cell => {
    // tune/ keeps each trial in trials/trial-NNNN
    const runDir = t.runDir ?? join("trials", `trial-${String(t.number).padStart(4, "0")}`);
    const rel = join(runDir, "report.html");
    if (existsSync(join(studyDir, rel)))
      return { html: `<a href="${esc(rel.split(sep).join("/"))}">${esc(runDir)}</a>` };
    return t.runDir;
  };
  const anyError = study.trials.some((t) => t.error !== null);
  const rows: Cell[][] = ranked
    .slice(0, MAX_ROWS)
    .map((t, i) => [
      t.state === "complete" && t.value !== null ? String(i + 1) : "",
      String(t.number),
      t.value,
      t.state,
      t.durationS === null ? null : duration(t.durationS),
      ...params.map((p) =>
        t.params[p] === undefined
          ? null
          : typeof t.params[p] === "number"
            ? fmt(t.params[p] as number)
            : String(t.params[p]),
      ),
      link(t),
      ...(anyError ? [t.error === null ? "" : t.error.length > 80 ? `${t.error.slice(0, 79)}…` : t.error] : []),
    ]);
  const more = ranked.length > MAX_ROWS ? `<p class="sub">${ranked.length - MAX_ROWS} more trials not shown.</p>` : "";
  const board = table(
    ["rank", "trial", study.metric, "state", "duration", ...params, "run", ...(anyError ? ["error"] : [])],
    rows,
    {
      numeric: [0, 1, 2],
      rowClass: (i) => (ranked[i] === study.best ? "best" : undefined),
    },
  );

  const done = study.trials.filter((t) => t.state === "complete" && t.value !== null);
  const figs: string[] = [];
  if (done.length) {
    const series: Series[] = [
      {
        name: `${study.metric} per trial`,
        points: done.map((t) => [t.number, t.value!] as const),
        kind: "markers",
        labels: done.map((t) => `trial ${t.number}: ${fmt(t.value)}`),
      },
      { name: "best so far", points: bestSoFar(study), kind: "step", color: "#e15759" },
    ];
    // a pruned trial's value is its last intermediate one: shown, but never the best
    const pruned = study.trials.filter((t) => t.state === "pruned" && t.value !== null);
    if (pruned.length)
      series.push({
        name: "pruned (last reported value)",
        points: pruned.map((t) => [t.number, t.value!] as const),
        kind: "markers",
        color: "#bab0ac",
        labels: pruned.map((t) => `trial ${t.number} (pruned): ${fmt(t.value)}`),
      });
    figs.push(
      figure(
        plot({
          title: "Optimization history",
          x: { label: "trial" },
          y: { label: study.metric },
          series,
          legend: true,
        }),
        `${study.direction === "maximize" ? "Higher" : "Lower"} is better.`,
      ),
    );
  }
  const withCurves = study.trials.filter((t) => t.intermediate.length);
  if (withCurves.length) {
    const series: Series[] = withCurves.map((t) => ({
      name: `trial ${t.number}${t.state !== "complete" ? ` (${t.state})` : ""}`,
      points: t.intermediate,
      dashed: t.state === "pruned",
    }));
    figs.push(
      figure(
        plot({
          title: "Intermediate values",
          x: { label: "step" },
          y: { label: study.metric },
          series,
          legend: series.length <= 12,
        }),
        "The objective reported during each trial; pruned trials are dashed.",
      ),
    );
  }
  const slices = params
    .slice(0, MAX_SLICES)
    .map((p) => sliceChart(study, p, done))
    .filter((s): s is string => s !== null);
  const sections: Section[] = [
    { id: "study", title: "Tuning study", body: cards(items) + `<h3>Leaderboard</h3>` + board + more },
  ];
  if (figs.length || slices.length) {
    sections.push({
      id: "optimization",
      title: "Optimization plots",
      body: figures(figs) + (slices.length ? `<h3>Parameters</h3>` + figures(slices.map((s) => figure(s))) : ""),
    });
  }
  return sections;
}
