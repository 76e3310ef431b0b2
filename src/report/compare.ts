/** Several runs side by side: a summary table, the settings that differ, and overlaid learning curves. */
import { existsSync } from "node:fs";
import { basename, dirname, join, relative, sep } from "node:path";
import { accuracy } from "../metrics/classification/index.js";
import { duration, esc, figure, figures, fmt, page, table, type Cell, type Section } from "./html.js";
import type { RunData } from "./run.js";
import { estimateTrainSeconds, flatten } from "./sections.js";
import { PALETTE, plot, type Point, type Series } from "./svg.js";

/** Short unique names: the directory name, or parent/name where two runs share one. */
export function runNames(runs: readonly RunData[]): string[] {
  const base = runs.map((r) => r.name);
  return runs.map((r, i) =>
    base.filter((b) => b === base[i]).length > 1 ? `${basename(dirname(r.dir))}/${r.name}` : base[i]!,
  );
}

/** Settings whose values are not the same in every run (a setting absent from a run counts as different). */
export function configDiff(runs: readonly RunData[]): { key: string; values: (string | null)[] }[] {
  const flat = runs.map((r) => new Map(flatten(r.config ?? {})));
  const keys = [...new Set(flat.flatMap((m) => [...m.keys()]))].sort();
  return keys
    .map((key) => ({ key, values: flat.map((m) => m.get(key) ?? null) }))
    .filter(({ values }) => values.some((v) => v !== values[0]));
}

function overlay(
  runs: readonly RunData[],
  names: string[],
  title: string,
  yLabel: string,
  get: (r: RunData) => Point[],
  markers = false,
): string | null {
  const series: Series[] = runs.map((r, i) => ({
    name: names[i]!,
    points: get(r),
    color: PALETTE[i % PALETTE.length],
    kind: markers ? "line+markers" : "line",
  }));
  if (!series.some((s) => s.points.length)) return null;
  return figure(
    plot({
      title,
      x: { label: "step" },
      y: { label: yLabel },
      series: series.filter((s) => s.points.length),
      legend: true,
    }),
  );
}

export function renderComparison(runs: readonly RunData[], outFile: string, generatedAt?: Date): string {
  const names = runNames(runs);
  const link = (r: RunData, i: number): Cell => {
    const rep = join(r.dir, "report.html");
    if (!existsSync(rep)) return names[i]!;
    return { html: `<a href="${esc(relative(dirname(outFile), rep).split(sep).join("/"))}">${esc(names[i]!)}</a>` };
  };
  const anyPred = runs.some((r) => r.predictions?.task === "classification");
  const rows: Cell[][] = runs.map((r, i) => {
    const lastLoss = [...r.train].reverse().find((t) => t.loss !== null)?.loss ?? null;
    const lastEval = r.evals.at(-1);
    const args = (r.config?.args ?? {}) as Record<string, unknown>;
    const secs =
      r.summary?.trainSeconds ??
      estimateTrainSeconds(r.train, Number(args.batchSize) * (Number(args.gradAccumSteps) || 1));
    const p = r.predictions;
    return [
      link(r, i),
      r.train.at(-1)?.step ?? lastEval?.step ?? null,
      lastLoss,
      lastEval?.metrics.loss ?? null,
      r.best ? `${r.best.metric} ${fmt(r.best.value)} @ ${r.best.step}` : null,
      secs === null ? null : duration(secs),
      ...(anyPred ? [p?.task === "classification" ? accuracy(p.labels, p.preds) : null] : []),
    ];
  });
  const summary = table(
    [
      "run",
      "steps",
      "final training loss",
      "final validation loss",
      "best",
      "training time",
      ...(anyPred ? ["accuracy"] : []),
    ],
    rows,
    { numeric: [1, 2, 3, 6] },
  );
  const diff = configDiff(runs);
  const diffBody = diff.length
    ? table(
        ["setting", ...names],
        diff.map((d) => [{ html: `<code>${esc(d.key)}</code>` }, ...d.values]),
      )
    : `<p>All runs share the same configuration.</p>`;

  const figs: string[] = [];
  const add = (f: string | null) => {
    if (f) figs.push(f);
  };
  add(
    overlay(runs, names, "Training loss", "loss", (r) =>
      r.train.flatMap((t) => (t.loss === null ? [] : [[t.step, t.loss] as Point])),
    ),
  );
  add(
    overlay(
      runs,
      names,
      "Validation loss",
      "loss",
      (r) => r.evals.flatMap((e) => (e.metrics.loss === undefined ? [] : [[e.step, e.metrics.loss] as Point])),
      true,
    ),
  );
  const metrics = [...new Set(runs.flatMap((r) => r.evals.flatMap((e) => Object.keys(e.metrics))))]
    .filter((m) => m !== "loss")
    .sort();
  for (const m of metrics.slice(0, 8)) {
    add(
      overlay(
        runs,
        names,
        `Validation ${m}`,
        m,
        (r) => r.evals.flatMap((e) => (e.metrics[m] === undefined ? [] : [[e.step, e.metrics[m]!] as Point])),
        true,
      ),
    );
  }
  add(
    overlay(runs, names, "Learning rate", "learning rate", (r) =>
      r.train.flatMap((t) => (t.lr === null ? [] : [[t.step, t.lr] as Point])),
    ),
  );

  const sections: Section[] = [
    {
      id: "runs",
      title: "Runs",
      body:
        summary +
        `<p class="sub">${runs.map((r, i) => `${esc(names[i]!)}: <code>${esc(r.dir)}</code>`).join("<br>")}</p>`,
    },
    { id: "differences", title: "Configuration differences", body: diffBody },
  ];
  if (figs.length) sections.push({ id: "curves", title: "Learning curves", body: figures(figs) });
  const missing = runs.flatMap((r, i) => r.missing.map((m) => `${names[i]}: ${m}`));
  const notes = runs.flatMap((r, i) => r.notes.map((m) => `${names[i]}: ${m}`));
  return page({
    title: `graft comparison: ${names.join(" vs ")}`,
    subtitle: `${runs.length} runs`,
    sections,
    missing,
    notes,
    generatedAt,
  });
}
