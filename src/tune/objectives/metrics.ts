/**
 * Objective metrics are named through the metric registry (metrics/registry.ts): "eval_f1_macro", "bleu",
 * "test_roc_auc" or "loss" resolve to a registry entry, which says whether larger is better. A name the registry
 * does not know (a measured "latency_ms", a typo) has no direction: the study must state it.
 */
import { METRICS, metricDirection } from "../../metrics/index.js";
import { ArgumentError } from "../../util/errors.js";
import { didYouMean } from "../../util/suggest.js";
import type { Direction } from "../types.js";

/** The direction of an objective metric, from the registry; an unknown name is an error with a did-you-mean hint. */
export function objectiveDirection(metric: string): Direction {
  const d = metricDirection(metric);
  if (d) return d;
  const bare = metric.replace(/^(eval|test|validation|val)_/, "").replace(/_/g, "-");
  const names = METRICS.flatMap((e) => [e.name, ...e.aliases]);
  const guess = didYouMean(bare.toLowerCase(), names);
  throw new ArgumentError(
    `no metric "${metric}" in the metric registry, so whether to minimize or maximize it is unknown`,
    `${guess ? `did you mean "${guess}"? ` : ""}name a registry metric, or give the study's directions explicitly`,
  );
}

/** One direction per objective metric: the given ones when there are any, otherwise the registry's. */
export function objectiveDirections(metrics: readonly string[], given?: readonly Direction[]): Direction[] {
  if (given && given.length > 0) {
    if (given.length !== metrics.length)
      throw new ArgumentError(
        `${metrics.length} objective metrics (${metrics.join(", ")}) but ${given.length} directions`,
      );
    return [...given];
  }
  return metrics.map(objectiveDirection);
}

/** The registry's directions when it knows every metric, else undefined (the study's own setting applies). */
export function knownDirections(metrics: readonly string[]): Direction[] | undefined {
  const ds = metrics.map(metricDirection);
  return ds.every((d) => d !== undefined) ? (ds as Direction[]) : undefined;
}
