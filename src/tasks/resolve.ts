/**
 * A fine-tuning configuration resolved once, for every caller (the run lifecycle, the tuning objective, the CLI's
 * run.json): the schema's defaults and checks (tasks/config.ts), then what depends on the task kind, read from the
 * task registry — an unknown kind is an error listing the registered ones, and the best model is picked by the
 * kind's own metric unless one is named. Kept apart from config.ts because the kinds import config.ts's types.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError, FormatError } from "../util/errors.js";
import { type OptionSource, resolveOptions } from "../util/options.js";
import { checkTrainingArgs } from "../train/args.js";
import {
  FINETUNE_SCHEMA,
  type FinetuneOptions,
  type ResolvedFinetuneConfig,
  validateFinetuneOptions,
} from "./config.js";
import { taskSpec } from "./registry.js";

/**
 * A model directory's recommended fine-tuning settings: graft's own file beside config.json, in the run
 * configuration's shape (usually training.lr / batchSize / epochs and maxLength), measured for that model (the
 * bundled model's come from a grid on small data, see its README). Null when the model is not a local directory or
 * has none.
 */
export const MODEL_DEFAULTS_FILE = "finetune_defaults.json";

export function modelFinetuneDefaults(model: string): { file: string; settings: FinetuneOptions } | null {
  const file = join(model, MODEL_DEFAULTS_FILE);
  if (!existsSync(file) || !statSync(model).isDirectory()) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new FormatError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const settings = validateFinetuneOptions(raw, { source: file });
  for (const key of ["model", "data", "validation", "test", "output"] as const)
    if (settings[key] !== undefined)
      throw new ArgumentError(`${file}: "${key}" names a file of the run, not a setting a model can recommend`);
  return { file, settings };
}

/** The model's recommended settings under the given ones (what is given wins), and the dotted keys they filled. */
export function withModelDefaults<C extends FinetuneOptions & { model: string }>(
  c: C,
): { config: C; filled: string[] } {
  const defaults = modelFinetuneDefaults(c.model);
  if (!defaults) return { config: c, filled: [] };
  const filled: string[] = [];
  const merged: Record<string, unknown> = { ...c };
  for (const [key, value] of Object.entries(defaults.settings)) {
    const given = merged[key];
    if (key === "training" && value && typeof value === "object") {
      const training: Record<string, unknown> = { ...(given as object | undefined) };
      for (const [k, v] of Object.entries(value))
        if (training[k] === undefined) {
          training[k] = v;
          filled.push(`training.${k}`);
        }
      merged.training = training;
    } else if (given === undefined) {
      merged[key] = value;
      filled.push(key);
    }
  }
  return { config: merged as C, filled };
}

/**
 * The configuration validated and completed: the model directory's recommended settings (finetune_defaults.json)
 * under what was given, then every remaining default filled in, the training arguments included.
 */
export function resolveFinetuneConfig(
  given: FinetuneOptions & { model: string; data: string },
  from: OptionSource = {},
): ResolvedFinetuneConfig {
  return resolveWithModelDefaults(given, from).config;
}

/** resolveFinetuneConfig, also saying which settings the model's finetune_defaults.json filled (dotted keys). */
export function resolveWithModelDefaults(
  given: FinetuneOptions & { model: string; data: string },
  from: OptionSource = {},
): { config: ResolvedFinetuneConfig; filled: string[] } {
  const { config: c, filled } = withModelDefaults(given);
  const r = resolveOptions(FINETUNE_SCHEMA, c, from);
  const spec = taskSpec(r.task);
  if (c.training?.metricForBest === undefined) r.training.metricForBest = spec.defaultMetric;
  checkTrainingArgs(r.training, "training.");
  if (!(r.validationFraction + r.testFraction < 1))
    throw new ArgumentError("testFraction must be in [0, 1) with validationFraction + testFraction < 1");
  if (r.lora && r.gradualUnfreezing)
    throw new ArgumentError("LoRA and gradual unfreezing cannot be combined: LoRA already freezes the base model");
  return { config: r, filled };
}
