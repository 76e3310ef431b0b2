/** The report sections drawn from the training log and configuration: curves, schedule, timing, config. */
import { cards, duration, esc, figure, figures, fmt, table, type Section } from "./html.js";
import type { EvalRecord, RunData, TrainRecord } from "./run.js";
import { plot, type Point, type Series } from "./svg.js";

const pts = <T>(rows: readonly T[], x: (r: T) => number, y: (r: T) => number | null): Point[] =>
  rows.flatMap((r) => {
    const v = y(r);
    return v === null ? [] : [[x(r), v] as Point];
  });

function bestLine(run: RunData): { x: number; label: string }[] {
  return run.best ? [{ x: run.best.step, label: `best (${run.best.metric}) at step ${run.best.step}` }] : [];
}

/** Eval metric names other than loss, grouped so that metrics sharing a [0, 1] scale share a chart. */
export function metricGroups(evals: readonly EvalRecord[]): string[][] {
  const names = [...new Set(evals.flatMap((e) => Object.keys(e.metrics)))].filter((n) => n !== "loss");
  const unit: string[] = [],
    other: string[][] = [];
  for (const n of names) {
    const vals = evals.map((e) => e.metrics[n]).filter((v): v is number => v !== undefined);
    if (vals.every((v) => v >= 0 && v <= 1)) unit.push(n);
    else other.push([n]);
  }
  return [...(unit.length ? [unit] : []), ...other];
}

export function curvesSection(run: RunData): Section | null {
  const { train, evals } = run;
  const trainLoss = pts(
    train,
    (r) => r.step,
    (r) => r.loss,
  );
  const evalLoss = pts(
    evals,
    (r) => r.step,
    (r) => r.metrics.loss ?? null,
  );
  if (!trainLoss.length && !evals.length) return null;
  const figs: string[] = [];
  if (trainLoss.length || evalLoss.length) {
    const series: Series[] = [];
    if (trainLoss.length) series.push({ name: "training loss", points: trainLoss });
    if (evalLoss.length) series.push({ name: "validation loss", points: evalLoss, kind: "line+markers" });
    figs.push(
      figure(
        plot({
          title: "Loss",
          x: { label: "step" },
          y: { label: "loss" },
          series,
          vlines: bestLine(run),
          legend: true,
        }),
        trainLoss.length
          ? "Training loss is the mean over each logging window; validation loss is measured at each evaluation."
          : undefined,
      ),
    );
  }
  for (const group of metricGroups(evals).slice(0, 8)) {
    const series: Series[] = group.map((n) => ({
      name: `validation ${n}`,
      points: pts(
        evals,
        (r) => r.step,
        (r) => r.metrics[n] ?? null,
      ),
      kind: "line+markers",
    }));
    const title = group.length === 1 ? `Validation ${group[0]}` : "Validation metrics";
    figs.push(
      figure(
        plot({
          title,
          x: { label: "step" },
          y: { label: group.length === 1 ? group[0] : "value" },
          series,
          vlines: bestLine(run),
          legend: true,
        }),
      ),
    );
  }
  let body = figures(figs);
  if (evals.length) {
    const names = [...new Set(evals.flatMap((e) => Object.keys(e.metrics)))];
    const best = run.best?.step;
    body +=
      `<h3>Evaluations</h3>` +
      table(
        ["step", "epoch", ...names],
        evals.map((e) => [e.step, e.epoch, ...names.map((n) => e.metrics[n] ?? null)]),
        {
          numeric: names.map((_, i) => i + 2).concat([0, 1]),
          rowClass: (i) => (evals[i]!.step === best ? "best" : undefined),
        },
      );
  }
  return { id: "curves", title: "Learning curves", body };
}

export function scheduleSection(run: RunData): Section | null {
  const lr = pts(
    run.train,
    (r) => r.step,
    (r) => r.lr,
  );
  const gn = pts(
    run.train,
    (r) => r.step,
    (r) => r.gradNorm,
  );
  if (!lr.length && !gn.length) return null;
  const figs: string[] = [];
  const args = (run.config?.args ?? {}) as Record<string, unknown>;
  if (lr.length) {
    const cap = [
      args.schedule && `schedule ${args.schedule}`,
      args.lr !== undefined && `peak ${fmt(Number(args.lr))}`,
      args.warmupSteps
        ? `warmup ${args.warmupSteps} steps`
        : args.warmupRatio
          ? `warmup ${fmt(Number(args.warmupRatio))} of the steps`
          : null,
    ]
      .filter(Boolean)
      .join(", ");
    figs.push(
      figure(
        plot({
          title: "Learning rate",
          x: { label: "step" },
          y: { label: "learning rate" },
          series: [{ name: "learning rate", points: lr }],
        }),
        cap || undefined,
      ),
    );
  }
  if (gn.length) {
    const clip = Number(args.maxGradNorm);
    figs.push(
      figure(
        plot({
          title: "Gradient norm (before clipping)",
          x: { label: "step" },
          y: { label: "global L2 norm" },
          series: [{ name: "gradient norm", points: gn }],
          refLines:
            clip > 0
              ? [{ from: [gn[0]![0], clip], to: [gn[gn.length - 1]![0], clip], label: `clip at ${fmt(clip)}` }]
              : [],
        }),
      ),
    );
  }
  return { id: "schedule", title: "Learning-rate schedule", body: figures(figs) };
}

function median(a: number[]): number | null {
  if (!a.length) return null;
  const s = [...a].sort((x, y) => x - y),
    m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Training seconds estimated from the log when the run has no train_summary.json: each window's examples
 * (steps × batch size × accumulation) divided by its logged rate. Evaluation time is not included.
 */
export function estimateTrainSeconds(train: readonly TrainRecord[], examplesPerStep: number): number | null {
  if (!(examplesPerStep > 0)) return null;
  let prev = 0,
    total = 0,
    any = false;
  for (const r of train) {
    if (r.examplesPerS !== null && r.examplesPerS > 0) {
      total += ((r.step - prev) * examplesPerStep) / r.examplesPerS;
      any = true;
    }
    prev = r.step;
  }
  return any ? total : null;
}

export function timingSection(run: RunData): Section | null {
  const rates = run.train.map((r) => r.examplesPerS).filter((v): v is number => v !== null);
  const s = run.summary;
  if (!rates.length && !s) return null;
  const args = (run.config?.args ?? {}) as Record<string, unknown>;
  const perStep = Number(args.batchSize) * (Number(args.gradAccumSteps) || 1);
  const items: [string, string, string?][] = [];
  const lastStep = run.train.at(-1)?.step ?? run.evals.at(-1)?.step;
  const steps = s?.globalStep ?? lastStep;
  if (steps !== undefined)
    items.push([
      "optimizer steps",
      String(steps),
      run.config?.totalSteps !== undefined ? `of ${run.config.totalSteps} planned` : undefined,
    ]);
  let secs: number | null = null;
  if (typeof s?.trainSeconds === "number") {
    secs = s.trainSeconds;
    items.push(["training time", duration(secs), "wall clock, including evaluation"]);
  } else {
    secs = estimateTrainSeconds(run.train, perStep);
    if (secs !== null)
      items.push(["training time", `≈ ${duration(secs)}`, "estimated from logged throughput; excludes evaluation"]);
  }
  if (typeof s?.examplesPerSecond === "number")
    items.push(["throughput", `${fmt(s.examplesPerSecond, 3)} ex/s`, "over the whole run"]);
  const med = median(rates);
  if (med !== null)
    items.push([
      "median logged throughput",
      `${fmt(med, 3)} ex/s`,
      `min ${fmt(Math.min(...rates), 3)}, max ${fmt(Math.max(...rates), 3)}`,
    ]);
  if (secs && steps) items.push(["steps per second", fmt(steps / secs, 3)]);
  if (s?.stoppedEarly) items.push(["stopped", "early", "no improvement within the patience"]);
  if (s?.interrupted) items.push(["stopped", "interrupted", "resume with --resume"]);
  const pointsEps = pts(
    run.train,
    (r) => r.step,
    (r) => r.examplesPerS,
  );
  const fig =
    pointsEps.length > 1
      ? figures([
          figure(
            plot({
              title: "Throughput",
              x: { label: "step" },
              y: { label: "examples / s", includeZero: true },
              series: [{ name: "examples per second", points: pointsEps }],
            }),
          ),
        ])
      : "";
  return { id: "timing", title: "Timing and throughput", body: cards(items) + fig };
}

/** Nested configuration flattened to dotted keys (arrays stay JSON). */
export function flatten(v: unknown, prefix = "", out: [string, string][] = []): [string, string][] {
  if (typeof v === "object" && v !== null && !Array.isArray(v)) {
    const entries = Object.entries(v);
    if (!entries.length && prefix) out.push([prefix, "{}"]);
    for (const [k, x] of entries) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else out.push([prefix, typeof v === "string" ? v : (JSON.stringify(v) ?? "undefined")]);
  return out;
}

export function configSection(run: RunData): Section | null {
  if (!run.config) return null;
  const rows = flatten(run.config);
  const raw = `<details><summary>run.json</summary><pre>${esc(JSON.stringify(run.config, null, 2))}</pre></details>`;
  return {
    id: "config",
    title: "Configuration",
    body:
      table(
        ["setting", "value"],
        rows.map(([k, v]) => [{ html: `<code>${esc(k)}</code>` }, v]),
      ) + raw,
  };
}

export function summaryCards(run: RunData): string {
  const items: [string, string, string?][] = [];
  const lastTrain = [...run.train].reverse().find((r) => r.loss !== null);
  if (lastTrain) items.push(["final training loss", fmt(lastTrain.loss), `step ${lastTrain.step}`]);
  const lastEval = run.evals.at(-1);
  if (lastEval?.metrics.loss !== undefined)
    items.push(["final validation loss", fmt(lastEval.metrics.loss), `step ${lastEval.step}`]);
  if (run.best) items.push([`best ${run.best.metric}`, fmt(run.best.value), `step ${run.best.step}`]);
  const epoch = run.train.at(-1)?.epoch ?? lastEval?.epoch;
  if (epoch !== null && epoch !== undefined) items.push(["epochs", fmt(epoch, 3)]);
  for (const [k, v] of Object.entries(run.test ?? {}).slice(0, 6))
    items.push([`test ${k}`, fmt(v), "best model, held-out split"]);
  return cards(items);
}
