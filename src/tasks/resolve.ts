/**
 * A fine-tuning configuration resolved once, for every caller (the run lifecycle, the tuning objective, the CLI's
 * run.json): the schema's defaults and checks (tasks/config.ts), then what depends on the task kind, read from the
 * task registry — an unknown kind is an error listing the registered ones, and the best model is picked by the
 * kind's own metric unless one is named. Kept apart from config.ts because the kinds import config.ts's types.
 */
import { ArgumentError } from "../util/errors.js";
import { type OptionSource, resolveOptions } from "../util/options.js";
import { checkTrainingArgs } from "../train/args.js";
import { FINETUNE_SCHEMA, type FinetuneOptions, type ResolvedFinetuneConfig } from "./config.js";
import { taskSpec } from "./registry.js";

/** The configuration validated and completed: every default filled in, the training arguments included. */
export function resolveFinetuneConfig(
  c: FinetuneOptions & { model: string; data: string },
  from: OptionSource = {},
): ResolvedFinetuneConfig {
  const r = resolveOptions(FINETUNE_SCHEMA, c, from);
  const spec = taskSpec(r.task);
  if (c.training?.metricForBest === undefined) r.training.metricForBest = spec.defaultMetric;
  checkTrainingArgs(r.training, "training.");
  if (!(r.validationFraction + r.testFraction < 1))
    throw new ArgumentError("testFraction must be in [0, 1) with validationFraction + testFraction < 1");
  if (r.lora && r.gradualUnfreezing)
    throw new ArgumentError("LoRA and gradual unfreezing cannot be combined: LoRA already freezes the base model");
  return r;
}
