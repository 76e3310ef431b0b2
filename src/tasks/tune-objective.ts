/**
 * The fine-tuning objective for `graft tune`: a trial is a `finetune` run whose configuration is the study's base
 * configuration with the trial's parameters written in (dotted paths such as "training.lr" or "freeze.firstLayers";
 * bare training-argument names like "lr" mean "training.lr"). It reports the validation metric at every evaluation
 * (so ASHA / median pruning stop bad runs early) and returns the best model's validation metric, or — with
 * `folds` — the mean over a stratified k-fold split of the training file.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError } from "../util/errors.js";
import { kFold, readExamples, type Example } from "../data/index.js";
import { DEFAULT_ARGS, RunDir, type TrainerCallback } from "../train/index.js";
import {
  TrialPruned,
  crossValidate,
  keepSegmentCheckpoint,
  pbtSegmentPlan,
  registerObjective,
  type Objective,
  type PbtSegment,
  type ResolvedObjective,
  type TrialContext,
} from "../tune/index.js";
import { validateFinetuneOptions, type FinetuneConfig } from "./config.js";
import { resolveFinetuneConfig } from "./resolve.js";
import { finetune } from "./finetune.js";
import { taskSpec } from "./registry.js";
import { finetuneReadOptions } from "./kinds/sequence.js";

export interface FinetuneObjectiveOptions {
  /** The run every trial starts from (model, data, task, ...). */
  config: Partial<FinetuneConfig> & { model: string; data: string };
  /** Validation metric to optimize (default: f1_macro for classification, f1 for NER, loss for regression). */
  metric?: string;
  /** Cross-validate over this many stratified folds of the training file (0 = the usual validation split). */
  folds?: number;
}

const TRAINING_KEYS = new Set(Object.keys(DEFAULT_ARGS));

/** The base configuration with each parameter set at its dotted path. */
export function applyParams(
  base: FinetuneConfig | (Partial<FinetuneConfig> & { model: string; data: string }),
  params: Record<string, unknown>,
): Partial<FinetuneConfig> & { model: string; data: string } {
  const out = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
  for (const [key, value] of Object.entries(params)) {
    const path = (TRAINING_KEYS.has(key) ? `training.${key}` : key).split(".");
    let node = out;
    for (const p of path.slice(0, -1)) {
      if (node[p] === undefined || node[p] === null) node[p] = {};
      if (typeof node[p] !== "object")
        throw new ArgumentError(`parameter "${key}": ${p} is not an object in the finetune configuration`);
      node = node[p] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
  }
  return out as Partial<FinetuneConfig> & { model: string; data: string };
}

/** The metric a task kind picks its best checkpoint by. */
function defaultMetric(config: FinetuneObjectiveOptions["config"]): string {
  return resolveFinetuneConfig(config).training.metricForBest;
}

async function runOnce(
  trial: TrialContext,
  config: Partial<FinetuneConfig> & { model: string; data: string },
  metric: string,
  reportSteps: boolean,
): Promise<number> {
  const result = await finetune(config, {
    overwrite: true, // a retried trial starts its run over
    callbacks: reportSteps
      ? [
          {
            onEvaluate: (t, metrics) => {
              const v = metrics[metric];
              if (typeof v !== "number") return;
              void trial.report(t.globalStep, v).then(() => {
                if (trial.shouldPrune()) t.requestStop();
              });
              if (trial.shouldPrune()) t.requestStop();
            },
          },
        ]
      : [],
  });
  if (result.train.interrupted) throw new TrialPruned(`pruned at step ${result.train.globalStep}`);
  const v = result.validation[metric];
  if (typeof v !== "number")
    throw new ArgumentError(
      `metric "${metric}" is not among the validation metrics (${Object.keys(result.validation).join(", ")})`,
    );
  trial.setAttr("runDir", result.runDir);
  trial.setAttr("test", result.test);
  return v;
}

/**
 * One PBT segment: the finetune run continues from the segment's checkpoint (the member's own, or the donor's after
 * exploitation) with this segment's hyperparameters, stops at the segment's end with a checkpoint, and scores
 * the validation metric of that step's evaluation.
 */
async function runSegment(
  trial: TrialContext,
  seg: PbtSegment,
  config: Partial<FinetuneConfig> & { model: string; data: string },
  metric: string,
): Promise<number> {
  const plan = pbtSegmentPlan(seg, config.training ?? {});
  const output = join(trial.dir, "run");
  let score: number | undefined;
  const capture: TrainerCallback = {
    onEvaluate: (t, metrics) => {
      if (t.globalStep >= seg.endStep && typeof metrics[metric] === "number") score = metrics[metric];
    },
  };
  await finetune(
    { ...config, training: plan.args, output },
    { resume: plan.resume, overwrite: !plan.resume, callbacks: [...plan.callbacks, capture] },
  );
  keepSegmentCheckpoint(new RunDir(output), trial.checkpointDir, seg);
  if (score === undefined) throw new ArgumentError(`metric "${metric}" was not evaluated at step ${seg.endStep}`);
  trial.setAttr("runDir", output);
  return score;
}

function writeJsonl(path: string, examples: readonly Example[], idx: readonly number[]): void {
  writeFileSync(
    path,
    idx
      .map((i) =>
        JSON.stringify({
          text: examples[i].text,
          ...(examples[i].textPair !== undefined ? { text_pair: examples[i].textPair } : {}),
          label: examples[i].label,
        }),
      )
      .join("\n") + "\n",
  );
}

/** The objective factory trial processes load by name ("graft:tasks/tune-objective.js#finetuneObjective"). */
export function finetuneObjective(options: FinetuneObjectiveOptions): Objective {
  const metric = options.metric ?? defaultMetric(options.config);
  const folds = options.folds ?? 0;
  if (folds === 0) {
    return (trial) =>
      trial.segment
        ? runSegment(trial, trial.segment, applyParams(options.config, trial.params), metric)
        : runOnce(
            trial,
            { ...applyParams(options.config, trial.params), output: join(trial.dir, "run") },
            metric,
            true,
          );
  }
  const { task } = resolveFinetuneConfig(options.config);
  const method = taskSpec(task).crossValidation;
  if (!method) throw new ArgumentError(`cross-validation of ${task} runs is not supported; use the validation split`);
  return async (trial) => {
    if (trial.segment)
      throw new ArgumentError(
        "population-based training scores members on the validation split; use folds: 0 with pbt",
      );
    const config = applyParams(options.config, trial.params);
    const resolved = resolveFinetuneConfig(config);
    const { examples } = await readExamples(config.data, finetuneReadOptions(resolved));
    const { folds: split } = kFold(examples, { k: folds, method, seed: resolved.training.seed });
    const cv = crossValidate(
      async (foldTrial, fold) => {
        const train = join(foldTrial.dir, "train.jsonl"),
          valid = join(foldTrial.dir, "valid.jsonl");
        writeJsonl(train, examples, Array.from(fold.train));
        writeJsonl(valid, examples, Array.from(fold.valid));
        // the folds are written as JSONL with text/text_pair/label fields: the reading settings no longer apply
        const {
          textColumn: _t,
          textPairColumn: _p,
          labelColumn: _l,
          validationFraction: _v,
          format: _f,
          delimiter: _d,
          quote: _q,
          header: _h,
          ...rest
        } = config;
        return runOnce(
          foldTrial,
          { ...rest, data: train, validation: valid, test: valid, output: join(foldTrial.dir, "run") },
          metric,
          false,
        );
      },
      { folds: split.map((f) => ({ train: Int32Array.from(f.train), valid: Int32Array.from(f.test) })) },
    );
    return cv(trial);
  };
}

/** Registers "finetune" with the tuner: `"objective": { "name": "finetune", "config": {...}, "metric": "f1_macro", "folds": 3 }`. */
export function registerFinetuneObjective(): void {
  registerObjective("finetune", (options): ResolvedObjective => {
    const o = options as unknown as FinetuneObjectiveOptions;
    if (!o.config || typeof o.config.model !== "string" || typeof o.config.data !== "string") {
      throw new ArgumentError('the finetune objective needs "config" with at least "model" and "data"');
    }
    // the base settings are checked now (unknown keys with a did-you-mean hint), not when the first trial runs
    validateFinetuneOptions(o.config, { at: "objective.config" });
    const metric = o.metric ?? defaultMetric(o.config);
    return {
      ref: { module: "graft:tasks/tune-objective.js", export: "finetuneObjective", options: o },
      metrics: [metric],
      base: o.config as unknown as Record<string, unknown>,
      space: {
        "training.lr": { type: "loguniform", low: 1e-5, high: 1e-3 },
        "training.epochs": { type: "int", low: 1, high: 5 },
        "training.warmupRatio": { type: "uniform", low: 0, high: 0.2 },
      },
    };
  });
}
