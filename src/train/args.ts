/**
 * Training arguments: one typed, commented block of defaults (the names follow Hugging Face's TrainingArguments
 * where one exists). A run's resolved arguments are saved in run.json.
 */
import { ArgumentError } from "../util/errors.js";
import { type Resolved, opt, resolveOptions } from "../util/options.js";

const REPORT_CHOICES: unknown[] = ["tensorboard", "mlflow", "none"];
const isPositiveInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 1;

/** Every training argument: type, default, checks, flag and help, declared once (util/options.ts). */
export const TRAINING_SCHEMA = {
  /** Passes over the training data (ignored when maxSteps is set). */
  epochs: opt.integer({
    default: 3,
    min: 0,
    help: "passes over the training data",
    aliases: ["numTrainEpochs", "numEpochs"],
  }),
  /** Stop after this many optimizer steps (0 = run all epochs). */
  maxSteps: opt.integer({ default: 0, min: 0, help: "stop after this many optimizer steps (0 = all epochs)" }),
  /** Examples per forward pass. */
  batchSize: opt.integer({ default: 16, min: 1, help: "examples per step", aliases: ["perDeviceTrainBatchSize"] }),
  /** Micro-batches whose gradients add up before each optimizer step. */
  gradAccumSteps: opt.integer({
    default: 1,
    min: 1,
    flag: "--grad-accum <n>",
    help: "micro-batches per optimizer step",
    aliases: ["gradientAccumulationSteps", "gradAccum"],
  }),
  /** Peak learning rate. */
  lr: opt.number({ default: 5e-5, gt: 0, help: "peak learning rate", aliases: ["learningRate"] }),
  /** Weight decay, applied to matrices only — never to biases or LayerNorm weights. */
  weightDecay: opt.number({ default: 0.01, min: 0, help: "AdamW weight decay on matrices" }),
  optimizer: opt.enum(["adamw", "adam", "sgd"], { default: "adamw", help: "adamw | adam | sgd" }),
  betas: opt.value<[number, number]>({
    default: [0.9, 0.999],
    flag: false,
    describe: "two numbers [beta1, beta2]",
    check: (v) => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === "number" && Number.isFinite(x)),
  }),
  eps: opt.number({ default: 1e-8, gt: 0, flag: false }),
  /** SGD momentum. */
  momentum: opt.number({ default: 0.9, min: 0, flag: false }),
  schedule: opt.enum(["linear", "cosine", "constant", "slanted_triangular", "one_cycle"], {
    default: "linear",
    help: "linear | cosine | constant | slanted_triangular | one_cycle",
    aliases: ["lrScheduler", "lrSchedulerType", "scheduler"],
  }),
  /** Warmup as a fraction of all steps (used when warmupSteps is 0). */
  warmupRatio: opt.number({
    default: 0.1,
    min: 0,
    lt: 1,
    flag: "--warmup-ratio <f>",
    help: "warmup as a fraction of all steps",
  }),
  warmupSteps: opt.integer({ default: 0, min: 0, flag: false }),
  /**
   * Activation checkpointing per transformer layer: the forward keeps only each layer's output and the backward
   * recomputes the layer (less memory, about one more forward's time), as transformers' gradient_checkpointing.
   */
  gradientCheckpointing: opt.boolean({
    default: false,
    help: "recompute each layer in the backward instead of keeping its activations",
  }),
  /**
   * Precision of matrix products (Linear layers, attention, the LM head; forward and backward): fp32, or bf16
   * mixed precision as torch.autocast on CPU (weights, optimizer state, norms, softmax and losses stay fp32).
   */
  precision: opt.enum(["fp32", "bf16"], {
    default: "fp32",
    help: "fp32 | bf16 (mixed precision: matrix products in bfloat16)",
  }),
  /** Clip the global gradient norm to this (0 = no clipping). */
  maxGradNorm: opt.number({ default: 1.0, min: 0, help: "clip the gradient norm (0 = off)" }),
  /** Evaluate every N optimizer steps, or at the end of each epoch. */
  evalEvery: opt.value<number | "epoch">({
    default: "epoch",
    flag: "--eval-every <n|epoch>",
    help: "evaluate every N steps or each epoch",
    describe: 'a positive integer or "epoch"',
    check: (v) => v === "epoch" || isPositiveInt(v),
    aliases: ["evalSteps", "evaluationStrategy"],
  }),
  /** Log the running training loss every N optimizer steps. */
  logEvery: opt.integer({ default: 10, min: 1, flag: false, aliases: ["loggingSteps"] }),
  /** Write a checkpoint every N steps, each epoch, or never. */
  saveEvery: opt.value<number | "epoch" | "none">({
    default: "epoch",
    flag: "--save-every <n|epoch|none>",
    help: "checkpoint every N steps, each epoch, or never",
    describe: 'a positive integer, "epoch" or "none"',
    check: (v) => v === "epoch" || v === "none" || isPositiveInt(v),
    aliases: ["saveSteps", "saveStrategy"],
  }),
  /** Keep only the newest K checkpoints (best/ is kept separately). */
  saveTotalLimit: opt.integer({ default: 2, min: 1, help: "checkpoints kept" }),
  /** Seeds initialization of new weights, dropout and data order. */
  seed: opt.integer({ default: 42, help: "seed for the head, dropout and data order" }),
  /** The evaluation metric that decides the best model (e.g. "loss", "accuracy", "f1_macro"). */
  metricForBest: opt.string({
    default: "loss",
    nonEmpty: true,
    flag: "--metric <name>",
    help: "validation metric that picks the best model",
    aliases: ["metricForBestModel", "metric"],
  }),
  /** Whether larger is better for metricForBest (default: false for losses, true otherwise). */
  greaterIsBetter: opt.value<boolean | null>({
    default: null,
    flag: false,
    describe: "true, false or null",
    check: (v) => v === null || typeof v === "boolean",
  }),
  /** Stop after this many evaluations without improvement (0 = never stop early). */
  earlyStoppingPatience: opt.integer({ default: 0, min: 0, help: "stop after N evaluations without improvement" }),
  /** The least change that counts as an improvement. */
  earlyStoppingMinDelta: opt.number({ default: 0, min: 0, help: "least change that counts as improvement" }),
  /** Tools the run reports to as it trains, besides metrics.jsonl: TensorBoard event files, an MLflow server. */
  reportTo: opt.value<string[]>({
    default: [],
    flag: "--report-to <list>",
    help: "report the run to tensorboard and/or mlflow (comma-separated; none: neither)",
    describe: 'a list of "tensorboard", "mlflow" or "none"',
    parse: (s) =>
      s
        .split(",")
        .map((x) => x.trim())
        .filter((x) => x !== ""),
    coerce: (v) => (typeof v === "string" ? [v] : (v as string[])),
    check: (v) => (typeof v === "string" ? [v] : Array.isArray(v) ? v : [0]).every((x) => REPORT_CHOICES.includes(x)),
    aliases: ["report_to"],
  }),
  /** With tensorboard reporting: a histogram of every parameter at each evaluation. */
  reportHistograms: opt.boolean({ default: false, help: "tensorboard: weight histograms at each evaluation" }),
  /** Load the best weights into the model when training ends. */
  loadBestAtEnd: opt.boolean({ default: true, flag: false, aliases: ["loadBestModelAtEnd"] }),
};

/** Resolved training arguments (the type follows from TRAINING_SCHEMA). */
export type TrainingArgs = Resolved<typeof TRAINING_SCHEMA>;
export type ScheduleName = TrainingArgs["schedule"];
export type OptimizerName = TrainingArgs["optimizer"];

/** The defaults, as one object. */
export const DEFAULT_ARGS: TrainingArgs = resolveOptions(TRAINING_SCHEMA, {});

/** Defaults overridden by `over`, validated (an unknown argument is an error naming the closest known one). */
export function resolveArgs(over: Partial<TrainingArgs> = {}): TrainingArgs {
  const a = resolveOptions(TRAINING_SCHEMA, over, { source: "the training arguments" });
  checkTrainingArgs(a, "");
  return a;
}

/** Checks across arguments: epochs may be 0 only when maxSteps bounds the run. `at` prefixes the key in messages. */
export function checkTrainingArgs(a: TrainingArgs, at: string): void {
  if (a.epochs < 1 && a.maxSteps === 0)
    throw new ArgumentError(`${at}epochs must be a positive integer (or set maxSteps), got ${a.epochs}`);
}

/** Whether a larger value of the metric is better: explicit, else false for anything named like a loss. */
export function greaterIsBetter(args: TrainingArgs): boolean {
  if (args.greaterIsBetter !== null) return args.greaterIsBetter;
  return !/loss|perplexity|error|mse|mae|rmse/i.test(args.metricForBest);
}
