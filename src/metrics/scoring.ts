/**
 * Scoring through the registry. `scoreSystems` runs one metric for one or more systems on the same references,
 * with bootstrap confidence intervals or a paired significance test where the entry's statistics allow them
 * (what `graft score` prints); `computeMetric` / `computeMetrics` give plain numbers for evaluation and tuning.
 */
import { ArgumentError } from "../util/errors.js";
import { approximateRandomizationTest, bootstrapStatsInterval, pairedBootstrapTest } from "./bootstrap.js";
import { formatInterval, pyFixed } from "./format.js";
import type { InputKind, InputKinds, ItemStats, MetricEntry, MetricOptions, MetricResult } from "./entry.js";
import { resolveMetric } from "./registry.js";

export interface ResampleSettings {
  /** Bootstrap resamples for a 95% confidence interval of each system's score. */
  confidence?: number;
  /** Paired bootstrap resamples, each system against the first. */
  pairedBootstrap?: number;
  /** Approximate randomization trials, each system against the first. */
  pairedRandomization?: number;
  /** Default 12345 (sacrebleu's). */
  seed?: number;
  /** One score per item instead of the corpus score. */
  sentenceLevel?: boolean;
}

export interface SystemResult extends MetricResult {
  /** The system's name, when several are compared. */
  system?: string;
}

/** The signature with the resampling settings after nrefs, as sacrebleu writes it. */
function signed(signature: string | undefined, setting: string): string | undefined {
  return signature?.replace(/^(nrefs:[^|]+)/, `$1|${setting}`);
}

/**
 * Scores each system with one metric. Resampling needs the entry's per-item statistics (bootstrap "stats");
 * a paired test annotates every system but the first (the baseline).
 */
export function scoreSystems(
  entry: MetricEntry,
  systems: readonly { name?: string; predictions: readonly unknown[] }[],
  references: readonly (readonly unknown[])[],
  options: MetricOptions,
  settings: ResampleSettings = {},
): SystemResult[] {
  const { confidence: ci, pairedBootstrap: bs, pairedRandomization: ar, sentenceLevel } = settings;
  const seed = settings.seed ?? 12345;
  const paired = bs !== undefined || ar !== undefined;
  if (bs !== undefined && ar !== undefined) throw new ArgumentError("choose one paired test");
  if ((paired || ci !== undefined || sentenceLevel) && (entry.bootstrap !== "stats" || !entry.itemStats))
    throw new ArgumentError(`${entry.name}: resampling and sentence-level scores need per-item statistics`);
  const statsOf = (predictions: readonly unknown[]): ItemStats =>
    entry.itemStats!({ predictions, references }, options);
  const base = paired ? statsOf(systems[0]!.predictions) : undefined;
  const out: SystemResult[] = [];
  systems.forEach((sys, s) => {
    const input = { predictions: sys.predictions, references };
    const rows: SystemResult[] = sentenceLevel ? entry.sentences!(input, options) : entry.compute(input, options);
    for (const row of rows) {
      row.system = sys.name;
      if (ci !== undefined && !paired) {
        const st = statsOf(sys.predictions);
        const r = bootstrapStatsInterval(st.stats, st.score, { samples: ci, seed });
        row.extra = { ...row.extra, confidence: r };
        row.signature = signed(row.signature, `bs:${ci}|rs:${seed}`);
        row.details = `(${formatInterval(r)}) ${row.details ?? ""}`.trim();
      }
      if (base && s > 0) {
        const st = statsOf(sys.predictions);
        const t = bs
          ? pairedBootstrapTest(base.stats, st.stats, st.score, { samples: bs, seed })
          : approximateRandomizationTest(base.stats, st.stats, st.score, { samples: ar!, seed });
        row.extra = {
          ...row.extra,
          pairedTest: { method: bs ? "paired bootstrap" : "approximate randomization", ...t },
        };
        row.signature = signed(row.signature, bs ? `bs:${bs}|rs:${seed}` : `ar:${ar}|rs:${seed}`);
        row.details =
          `(p = ${pyFixed(t.pValue, 4)}${t.interval ? `, ${formatInterval(t.interval)}` : ""}) ${row.details ?? ""}`.trim();
      }
      out.push(row);
    }
  });
  return out;
}

/** A metric by name, with its options; `value` picks a named component (e.g. "precision" of entity-f1). */
export type MetricSpec = string | { metric: string; options?: MetricOptions; value?: string };

function specOf(spec: MetricSpec): { metric: string; options: MetricOptions; value?: string } {
  return typeof spec === "string" ? { metric: spec, options: {} } : { options: {}, ...spec };
}

/** The number a spec names from an entry's results. */
function pickValue(name: string, rows: MetricResult[], value: string | undefined): number {
  if (value === undefined) return rows[0]!.score;
  const v = rows[0]!.values?.[value] ?? rows.find((r) => r.metric === value)?.score;
  if (v === undefined) throw new ArgumentError(`${name} has no value "${value}"`);
  return v;
}

/**
 * One metric on predictions and references (one reference per item; for metrics that take several, pass them as
 * reference streams with computeMetrics's input). "ndcg@10" sets k.
 */
export function computeMetric(
  spec: MetricSpec,
  predictions: readonly unknown[],
  references: readonly unknown[],
): number {
  const { metric, options, value } = specOf(spec);
  const { entry, k } = resolveMetric(metric);
  const refs = entry.references === "none" ? [] : [references];
  const rows = entry.compute({ predictions, references: refs }, k === undefined ? options : { ...options, k });
  return pickValue(entry.name, rows, value);
}

/** Predictions of each kind a metric may read: a classifier has labels and scores, a tagger tags. */
export type PredictionsByKind = { [K in InputKind]?: readonly InputKinds[K][] };

/**
 * Named metrics over the same items: `specs` maps result names to metrics (with options), each entry reads the
 * predictions of its input kind. For task evaluation, e.g.
 * `computeMetrics({ accuracy: "accuracy", f1_macro: { metric: "f1", options: { average: "macro" } } },
 *   { label: predicted, scores: positiveProbability }, gold)`.
 */
export function computeMetrics(
  specs: Record<string, MetricSpec>,
  predictions: PredictionsByKind,
  references: readonly unknown[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const { metric } = specOf(spec);
    const { entry } = resolveMetric(metric);
    const preds = predictions[entry.prediction];
    if (preds === undefined)
      throw new ArgumentError(`${key}: ${entry.name} reads ${entry.prediction} predictions, and none were given`);
    out[key] = computeMetric(spec, preds, references);
  }
  return out;
}
