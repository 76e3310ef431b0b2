/**
 * The metric registry: one entry per metric, read by `graft score`, task evaluation and tuning objectives.
 * An entry (entry.ts) says what it scores (the kind of a prediction and of a reference, how many references),
 * which options it takes, how it computes, whether resampling (confidence intervals, paired tests) applies,
 * which direction is better and how its score reads. Adding a metric is adding one entry to a family in entries/.
 */
import { ArgumentError } from "../util/errors.js";
import { didYouMean } from "../util/suggest.js";
import { CLASSIFICATION_METRICS } from "./entries/classification.js";
import { CLUSTERING_METRICS } from "./entries/clustering.js";
import { GENERATION_METRICS } from "./entries/generation.js";
import { SEQUENCE_LABELLING_METRICS } from "./entries/sequence-labelling.js";
import { VALUE_METRICS } from "./entries/values.js";
import type { MetricEntry } from "./entry.js";

/** Every metric, in the order `graft score` lists them. */
export const METRICS: readonly MetricEntry[] = [
  ...GENERATION_METRICS,
  ...CLASSIFICATION_METRICS,
  ...CLUSTERING_METRICS,
  ...SEQUENCE_LABELLING_METRICS,
  ...VALUE_METRICS,
];

const BY_NAME = new Map<string, MetricEntry>();
for (const e of METRICS) for (const n of [e.name, ...e.aliases]) BY_NAME.set(n, e);

/** The entry of a name or alias (any case; "ndcg@10" names ndcg@k with k = 10), or undefined. */
export function findMetric(spec: string): { entry: MetricEntry; k?: number } | undefined {
  const lower = spec.toLowerCase();
  const key = lower.replace(/@\d+$/, "@k");
  const e = BY_NAME.get(key);
  if (!e) return undefined;
  const k = /@(\d+)$/.exec(lower)?.[1];
  return { entry: e, k: k === undefined ? undefined : Number(k) };
}

/** Like findMetric, but an unknown name is an error with a did-you-mean hint. */
export function resolveMetric(spec: string): { entry: MetricEntry; k?: number } {
  const found = findMetric(spec);
  if (found) return found;
  const names = [...BY_NAME.keys()];
  const guess = didYouMean(spec.toLowerCase().replace(/@\d+$/, "@k"), names);
  const known = `known metrics: ${METRICS.map((e) => e.name).join(", ")}`;
  throw new ArgumentError(`unknown metric "${spec}"`, guess ? `did you mean "${guess}"? ${known}` : known);
}

/**
 * Which way is better for a metric as runs and evaluations name it: "bleu", "eval_f1_macro", "test_roc_auc",
 * "token_accuracy", "loss"; undefined when no metric has that name.
 */
export function metricDirection(name: string): "maximize" | "minimize" | undefined {
  const bare = name.replace(/^(eval|test|validation|val)_/, "");
  if (bare === "loss" || /_loss$/.test(bare)) return "minimize";
  for (const candidate of [bare, bare.replace(/_(micro|macro|weighted|samples|binary)$/, "")]) {
    const found = findMetric(candidate) ?? findMetric(candidate.replace(/_/g, "-"));
    if (found?.entry.direction) return found.entry.direction === "higher" ? "maximize" : "minimize";
  }
  return undefined;
}
