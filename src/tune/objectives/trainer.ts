/**
 * A training run as an objective. The caller's `setup(params)` builds what a Trainer needs (model, data access,
 * loss, evaluate, training arguments) for a trial's hyperparameters; the adapter trains in the trial's directory
 * (a normal run directory: run.json, metrics.jsonl, checkpoints/, best/), reports the first objective's metric at
 * every evaluation, stops the Trainer with requestStop() when the trial is pruned, and returns the requested metrics
 * (evaluation metrics, or numbers from `measure(model)` such as latency or size for multi-objective studies).
 *
 * A retried trial continues from its own newest checkpoint. Under PBT a trial is one segment: it resumes from the
 * segment's checkpoint (weights, optimizer, schedule position, RNG, data position — its own or the exploited
 * member's), re-applies the segment's learning rate and weight decay, trains to the segment's end step, and leaves
 * that checkpoint in `<trial dir>/checkpoint`.
 */
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError, FormatError } from "../../util/errors.js";
import { didYouMean } from "../../util/suggest.js";
import {
  RunDir,
  TRAINER_STATE,
  Trainer,
  type TrainerCallback,
  type TrainerOptions,
  type TrainingArgs,
  type TrainSummary,
} from "../../train/index.js";
import type { Module } from "../../nn/index.js";
import { TrialPruned, type Objective, type PbtSegment, type TrialContext } from "../context.js";
import type { Params } from "../types.js";

export interface TrainerSetup<B> extends Omit<TrainerOptions<B>, "runDir"> {
  /** Extra numbers measured on the trained model (e.g. latency_ms, size_mb), usable as objectives. */
  measure?: (model: Module) => Record<string, number> | Promise<Record<string, number>>;
}

export interface TrainerObjectiveOptions<B> {
  setup: (params: Params, trial: TrialContext) => TrainerSetup<B> | Promise<TrainerSetup<B>>;
  /** One metric per study direction; the first is the one reported for pruning (and PBT's score). */
  objectives: string | string[];
  /** For the first objective: its best evaluation (as the Trainer's best-model policy tracks it) or the last one. */
  use?: "best" | "last";
}

const ARG_KEYS = new Set<string>([
  "epochs",
  "maxSteps",
  "batchSize",
  "gradAccumSteps",
  "lr",
  "weightDecay",
  "optimizer",
  "betas",
  "eps",
  "momentum",
  "schedule",
  "warmupRatio",
  "warmupSteps",
  "maxGradNorm",
  "precision",
  "evalEvery",
  "logEvery",
  "saveEvery",
  "saveTotalLimit",
  "seed",
  "metricForBest",
  "greaterIsBetter",
  "earlyStoppingPatience",
  "earlyStoppingMinDelta",
  "loadBestAtEnd",
]);

/** The training arguments among a trial's parameters: "lr" or "args.lr" style names. */
export function trainingArgsFrom(params: Params): Partial<TrainingArgs> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    const key = k.startsWith("args.") ? k.slice(5) : k;
    if (ARG_KEYS.has(key)) out[key] = v;
  }
  return out as Partial<TrainingArgs>;
}

/** Arguments a checkpoint fixes: an exact resume needs the same values. */
const FIXED_BY_CHECKPOINT = ["batchSize", "gradAccumSteps", "seed", "epochs", "maxSteps"] as const;

export function trainerObjective<B>(opts: TrainerObjectiveOptions<B>): Objective {
  const names = Array.isArray(opts.objectives) ? opts.objectives : [opts.objectives];
  if (names.length === 0) throw new ArgumentError("trainerObjective: name at least one objective metric");
  const metric = names[0]!;
  return async (trial) => {
    const setup = await opts.setup(trial.params, trial);
    const seg = trial.segment;
    let args: Partial<TrainingArgs> = { ...(setup.args ?? {}) };
    const callbacks: TrainerCallback[] = [...(setup.callbacks ?? [])];
    let resume: boolean | string = false;
    if (seg) {
      const plan = pbtSegmentPlan(seg, args);
      args = plan.args;
      callbacks.push(...plan.callbacks);
      resume = plan.resume;
    } else if (trial.attempt > 1 && new RunDir(trial.dir).latestCheckpoint()) {
      resume = true;
    }
    callbacks.push({
      onEvaluate: (t, metrics) => {
        const v = metrics[metric];
        if (v === undefined) return;
        void trial.report(t.globalStep, v).then(() => {
          if (trial.shouldPrune()) t.requestStop();
        });
        if (trial.shouldPrune()) t.requestStop();
      },
    });
    const trainer = new Trainer<B>({ ...setup, args, callbacks, runDir: trial.dir });
    const summary = await trainer.train({ resume });
    if (summary.interrupted && trial.shouldPrune()) throw new TrialPruned(`pruned at step ${summary.globalStep}`);
    if (seg) keepSegmentCheckpoint(trainer.run, trial.checkpointDir, seg);
    const measured = setup.measure ? await setup.measure(trainer.model) : {};
    return names.map((name, i) => pick(name, i === 0 && !seg ? opts.use : "last", trainer, summary, measured));
  };
}

function pick<B>(
  name: string,
  use: "best" | "last" | undefined,
  trainer: Trainer<B>,
  summary: TrainSummary,
  measured: Record<string, number>,
): number {
  if (name in measured) return measured[name]!;
  const wantBest = (use ?? "best") === "best" && name === trainer.args.metricForBest && summary.best !== null;
  if (wantBest) return summary.best!;
  const v = summary.lastMetrics?.[name];
  if (v === undefined) {
    const known = [...Object.keys(summary.lastMetrics ?? {}), ...Object.keys(measured)];
    const guess = didYouMean(name, known);
    throw new ArgumentError(
      `objective metric "${name}" was not produced`,
      known.length
        ? `${guess ? `did you mean "${guess}"? ` : ""}the run produced: ${known.join(", ")}`
        : "the run evaluated nothing: give the setup an evaluate function",
    );
  }
  return v;
}

function readCheckpointArgs(dir: string): TrainingArgs {
  const p = join(dir, TRAINER_STATE);
  if (!existsSync(p)) throw new FormatError(`PBT: ${dir} is not a complete checkpoint (${TRAINER_STATE} is missing)`);
  const state = JSON.parse(readFileSync(p, "utf8")) as { args?: TrainingArgs };
  if (!state.args) throw new FormatError(`PBT: ${p} records no training arguments`);
  return state.args;
}

/**
 * Restoring a checkpoint brings back the donor's learning rate and weight decay with its optimizer state; the
 * segment's own values go back in before the first step (layer-wise ratios between groups are kept).
 */
function reapplyHyperparameters(args: Partial<TrainingArgs>, saved: TrainingArgs): TrainerCallback {
  return {
    onTrainBegin: (t) => {
      const lrScale = args.lr !== undefined ? args.lr / saved.lr : 1;
      for (const g of t.optimizer.groups) {
        g.initialLr = (g.initialLr ?? g.lr) * lrScale;
        if (args.weightDecay !== undefined && g.weightDecay > 0) g.weightDecay = args.weightDecay;
      }
      t.scheduler.setStep(t.scheduler.currentStep);
    },
  };
}

/** Moves the checkpoint at the segment's end to `<trial dir>/checkpoint`, where the next segment looks. */
export function keepSegmentCheckpoint(run: RunDir | null, checkpointDir: string, seg: PbtSegment): void {
  const latest = run?.latestCheckpoint();
  if (!latest || latest.step < seg.endStep)
    throw new FormatError(
      `PBT: the segment ended at step ${latest?.step ?? 0} without a checkpoint at step ${seg.endStep}`,
    );
  rmSync(checkpointDir, { recursive: true, force: true });
  renameSync(latest.dir, checkpointDir);
}

/**
 * How a Trainer runs one PBT segment: train to the population's total steps, evaluating once per segment and
 * stopping (with a checkpoint) at the segment's end; from the donor's or its own checkpoint when there is one,
 * with the arguments that checkpoint fixes and this segment's learning rate and weight decay put back in.
 */
export function pbtSegmentPlan(
  seg: PbtSegment,
  base: Partial<TrainingArgs>,
): { args: Partial<TrainingArgs>; callbacks: TrainerCallback[]; resume: string | false } {
  const args: Partial<TrainingArgs> = {
    ...base,
    maxSteps: seg.totalSteps,
    evalEvery: seg.endStep - seg.startStep,
    saveEvery: "none",
    saveTotalLimit: 1,
    loadBestAtEnd: false,
  };
  const callbacks: TrainerCallback[] = [];
  if (seg.restoreFrom) {
    const saved = readCheckpointArgs(seg.restoreFrom);
    for (const k of FIXED_BY_CHECKPOINT) (args as Record<string, unknown>)[k] = saved[k];
    callbacks.push(reapplyHyperparameters(args, saved));
  }
  callbacks.push({
    onEvaluate: (t) => {
      if (t.globalStep >= seg.endStep) t.requestStop();
    },
  });
  return { args, callbacks, resume: seg.restoreFrom ?? false };
}
