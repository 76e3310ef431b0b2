/**
 * Training arguments: one typed, commented block of defaults (the names follow Hugging Face's TrainingArguments
 * where one exists). A run's resolved arguments are saved in run.json.
 */
import { ArgumentError } from "../util/errors.js";

export type ScheduleName = "linear" | "cosine" | "constant" | "slanted_triangular" | "one_cycle";
export type OptimizerName = "adamw" | "adam" | "sgd";

export interface TrainingArgs {
  /** Passes over the training data (ignored when maxSteps is set). */
  epochs: number;
  /** Stop after this many optimizer steps (0 = run all epochs). */
  maxSteps: number;
  /** Examples per forward pass. */
  batchSize: number;
  /** Micro-batches whose gradients add up before each optimizer step. */
  gradAccumSteps: number;
  /** Peak learning rate. */
  lr: number;
  /** Weight decay, applied to matrices only — never to biases or LayerNorm weights. */
  weightDecay: number;
  optimizer: OptimizerName;
  betas: [number, number];
  eps: number;
  /** SGD momentum. */
  momentum: number;
  schedule: ScheduleName;
  /** Warmup as a fraction of all steps (used when warmupSteps is 0). */
  warmupRatio: number;
  warmupSteps: number;
  /** Clip the global gradient norm to this (0 = no clipping). */
  maxGradNorm: number;
  /** Evaluate every N optimizer steps, or at the end of each epoch. */
  evalEvery: number | "epoch";
  /** Log the running training loss every N optimizer steps. */
  logEvery: number;
  /** Write a checkpoint every N steps, each epoch, or never. */
  saveEvery: number | "epoch" | "none";
  /** Keep only the newest K checkpoints (best/ is kept separately). */
  saveTotalLimit: number;
  /** Seeds initialization of new weights, dropout and data order. */
  seed: number;
  /** The evaluation metric that decides the best model (e.g. "loss", "accuracy", "f1_macro"). */
  metricForBest: string;
  /** Whether larger is better for metricForBest (default: false for losses, true otherwise). */
  greaterIsBetter: boolean | null;
  /** Stop after this many evaluations without improvement (0 = never stop early). */
  earlyStoppingPatience: number;
  /** The least change that counts as an improvement. */
  earlyStoppingMinDelta: number;
  /** Load the best weights into the model when training ends. */
  loadBestAtEnd: boolean;
}

export const DEFAULT_ARGS: TrainingArgs = {
  epochs: 3,
  maxSteps: 0,
  batchSize: 16,
  gradAccumSteps: 1,
  lr: 5e-5,
  weightDecay: 0.01,
  optimizer: "adamw",
  betas: [0.9, 0.999],
  eps: 1e-8,
  momentum: 0.9,
  schedule: "linear",
  warmupRatio: 0.1,
  warmupSteps: 0,
  maxGradNorm: 1.0,
  evalEvery: "epoch",
  logEvery: 10,
  saveEvery: "epoch",
  saveTotalLimit: 2,
  seed: 42,
  metricForBest: "loss",
  greaterIsBetter: null,
  earlyStoppingPatience: 0,
  earlyStoppingMinDelta: 0,
  loadBestAtEnd: true,
};

/** Defaults overridden by `over`, validated. */
export function resolveArgs(over: Partial<TrainingArgs> = {}): TrainingArgs {
  const a: TrainingArgs = {
    ...DEFAULT_ARGS,
    ...Object.fromEntries(Object.entries(over).filter(([, v]) => v !== undefined)),
  };
  const posInt = (name: keyof TrainingArgs, v: unknown, allowZero = false) => {
    if (!Number.isInteger(v) || (v as number) < (allowZero ? 0 : 1))
      throw new ArgumentError(
        `training argument ${name} must be a ${allowZero ? "non-negative" : "positive"} integer, got ${JSON.stringify(v)}`,
      );
  };
  posInt("epochs", a.epochs, a.maxSteps > 0);
  posInt("maxSteps", a.maxSteps, true);
  posInt("batchSize", a.batchSize);
  posInt("gradAccumSteps", a.gradAccumSteps);
  posInt("logEvery", a.logEvery);
  posInt("saveTotalLimit", a.saveTotalLimit);
  posInt("earlyStoppingPatience", a.earlyStoppingPatience, true);
  posInt("warmupSteps", a.warmupSteps, true);
  if (!(a.lr > 0)) throw new ArgumentError(`training argument lr must be positive, got ${a.lr}`);
  if (!(a.weightDecay >= 0))
    throw new ArgumentError(`training argument weightDecay must be >= 0, got ${a.weightDecay}`);
  if (!(a.warmupRatio >= 0 && a.warmupRatio < 1))
    throw new ArgumentError(`training argument warmupRatio must be in [0, 1), got ${a.warmupRatio}`);
  if (!(a.maxGradNorm >= 0))
    throw new ArgumentError(`training argument maxGradNorm must be >= 0, got ${a.maxGradNorm}`);
  if (a.evalEvery !== "epoch") posInt("evalEvery", a.evalEvery);
  if (a.saveEvery !== "epoch" && a.saveEvery !== "none") posInt("saveEvery", a.saveEvery);
  if (!["adamw", "adam", "sgd"].includes(a.optimizer))
    throw new ArgumentError(`training argument optimizer must be adamw, adam or sgd, got "${a.optimizer}"`);
  if (!["linear", "cosine", "constant", "slanted_triangular", "one_cycle"].includes(a.schedule)) {
    throw new ArgumentError(
      `training argument schedule must be linear, cosine, constant, slanted_triangular or one_cycle, got "${a.schedule}"`,
    );
  }
  return a;
}

/** Whether a larger value of the metric is better: explicit, else false for anything named like a loss. */
export function greaterIsBetter(args: TrainingArgs): boolean {
  if (args.greaterIsBetter !== null) return args.greaterIsBetter;
  return !/loss|perplexity|error|mse|mae|rmse/i.test(args.metricForBest);
}
