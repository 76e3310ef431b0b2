/**
 * The fine-tuning run configuration: every knob of a run declared once in FINETUNE_SCHEMA (type, default, checks,
 * flag, help), so a ULMFiT-style recipe is a few lines of JSON/YAML. `graft finetune` builds its flags and --help
 * from the schema; the resolved object is saved in run.json.
 */
import {
  type Input,
  type OptionSource,
  type Resolved,
  type Settings,
  adjustOptions,
  opt,
  optionDefaults,
  resolveOptions,
  validateOptions,
} from "../util/options.js";
import { TRAINING_SCHEMA } from "../train/args.js";
import { badRowSchema, COLUMN_SCHEMA, fileFormatSchema } from "../data/index.js";

export const LORA_SCHEMA = {
  r: opt.integer({ default: 8, min: 1, help: "LoRA rank", aliases: ["rank"] }),
  alpha: opt.number({ default: 16, gt: 0, help: "LoRA alpha", aliases: ["loraAlpha"] }),
  dropout: opt.number({ default: 0.1, min: 0, lt: 1, help: "LoRA dropout", aliases: ["loraDropout"] }),
  /** Module names to adapt (PEFT's target_modules), e.g. ["query", "value"]. */
  targetModules: opt.list("string", {
    default: ["query", "value"],
    minLength: 1,
    separator: ",",
    flag: "--lora-targets <names>",
    help: "comma-separated module names to adapt",
    aliases: ["targets", "target_modules"],
  }),
};

export const FREEZE_SCHEMA = {
  /** The whole backbone (linear probing): only the head trains. */
  backbone: opt.boolean({ default: false, flag: "--freeze-backbone", help: "train only the head (linear probing)" }),
  embeddings: opt.boolean({ default: false, flag: "--freeze-embeddings", help: "freeze the embeddings" }),
  /** The embeddings and the first N layers (0 = none). */
  firstLayers: opt.integer({
    default: 0,
    min: 0,
    flag: "--freeze-layers <n>",
    help: "freeze the embeddings and the first N layers",
    aliases: ["layers"],
  }),
  /** Parameter-name patterns (* and **). */
  patterns: opt.list("string", {
    default: [],
    flag: "--freeze <pattern...>",
    help: "freeze parameters matching these name patterns (* and **)",
  }),
};

/** The seq2seq task kind's settings (tasks/kinds/seq2seq): parallel files or columns, prefix, lengths, decoding. */
export const SEQ2SEQ_SCHEMA = {
  sourceLang: opt.string({
    nonEmpty: true,
    flag: "--source-lang <ext>",
    help: "seq2seq: --data/--validation/--test are file prefixes; the source is <prefix>.<ext> (or the column <ext>)",
  }),
  targetLang: opt.string({
    nonEmpty: true,
    flag: "--target-lang <ext>",
    help: "seq2seq: the target is <prefix>.<ext> (or the column <ext>)",
  }),
  sourcePrefix: opt.string({
    default: "",
    flag: "--source-prefix <text>",
    help: 'seq2seq: text put before every source, e.g. "translate English to German: "',
    defaultHelp: "none",
  }),
  maxTargetLength: opt.integer({
    default: 128,
    min: 2,
    flag: "--max-target-length <n>",
    help: "seq2seq: target tokens (EOS included); longer targets are truncated with a warning; also the generation limit",
  }),
  numBeams: opt.integer({
    default: 1,
    min: 1,
    flag: "--num-beams <n>",
    help: "seq2seq: beams when generating for evaluation",
  }),
};

const isWeights = (v: unknown) =>
  v === null ||
  v === "auto" ||
  (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number" && Number.isFinite(x) && x >= 0));

/** Every setting of `graft finetune`, in --help order. */
export const FINETUNE_SCHEMA = {
  /** Pre-trained model directory or hub id. */
  model: opt.string({
    required: true,
    nonEmpty: true,
    flag: "--model <dir|id>",
    help: "pre-trained model directory or hub id",
    defaultHelp: "the bundled models/graft-base",
    aliases: ["modelNameOrPath", "modelDir"],
  }),
  /** Training file (CSV/TSV/JSONL/text, or CoNLL for NER). */
  data: opt.string({
    required: true,
    nonEmpty: true,
    flag: "--data <file>",
    help: "training file (CSV/TSV/JSONL; CoNLL for --task ner)",
    defaultHelp: "the bundled SMS spam sample",
    aliases: ["train", "trainFile", "dataset"],
  }),
  validation: opt.string({
    flag: "--validation <file>",
    help: "validation file",
    defaultHelp: "a seeded stratified part of --data",
    aliases: ["validationFile", "valid", "dev"],
  }),
  test: opt.string({
    flag: "--test <file>",
    help: "test file scored with the best model",
    defaultHelp: "the validation split",
    aliases: ["testFile"],
  }),
  // checked against the task registry (tasks/registry.ts) when the run is resolved (tasks/resolve.ts)
  task: opt.string({
    default: "classification",
    flag: "--task <task>",
    help: "task kind: classification | multilabel | regression | ner | seq2seq | sft (alias causal-lm) | tabular (or one added with registerTaskKind)",
  }),
  /** How the files are read (format, delimiter, quote, header) and which columns hold text and label: the same
   * entries as `graft data` and `graft baseline`. The label type follows from --task. */
  ...fileFormatSchema(true),
  ...COLUMN_SCHEMA,
  /** tabular: column types that override the inferred ones ("col=type,..."; types numeric, categorical, boolean, text, id). */
  columnTypes: opt.string({
    flag: "--column-types <spec>",
    help: "tabular: override inferred column types, e.g. 'TotalCharges=numeric,customerID=id'",
  }),
  /** Separator of several labels in one field (multi-label). */
  labelSeparator: opt.string({
    default: "|",
    flag: "--label-separator <sep>",
    help: "separator of several labels in one field (multilabel)",
  }),
  ...badRowSchema("fail"),
  /** Held out of the training file when no validation file is given. */
  validationFraction: opt.number({
    default: 0.1,
    min: 0,
    lt: 1,
    flag: "--validation-fraction <f>",
    help: "part of --data held out for validation when no file is given",
  }),
  /** Held out of the training file when no test file is given (0: report on the validation set). */
  testFraction: opt.number({
    default: 0,
    min: 0,
    lt: 1,
    flag: "--test-fraction <f>",
    help: "part of --data held out for testing when no file is given",
  }),
  /** Tokens per example, special tokens included. */
  maxLength: opt.integer({
    default: 128,
    min: 8,
    help: "tokens per example, special tokens included",
    aliases: ["maxSeqLength", "maxSequenceLength", "maxLen"],
  }),
  /** Run directory (default: runs/finetune-<time>). */
  output: opt.string({
    flag: "--output <dir>",
    help: "run directory",
    defaultHelp: "runs/finetune-<time>",
    aliases: ["outputDir", "out"],
  }),
  /** Training-loop settings (epochs, lr, batch size, schedule, ...). */
  training: opt.group(
    adjustOptions(TRAINING_SCHEMA, {
      metricForBest: {
        help: "validation metric that picks the best model",
        defaultHelp: "f1_macro; f1 for ner, f1_micro for multilabel, loss for regression",
      },
    }),
  ),
  /** Freezing: the whole backbone (linear probing), the embeddings, the first N layers, or name patterns. */
  freeze: opt.group(FREEZE_SCHEMA),
  /**
   * Task-adaptive pre-training (Gururangan et al. 2020): continue pre-training on the training file's texts (never
   * the evaluation texts) for this many steps, with the model's own objective, before fine-tuning (0: off).
   */
  taptSteps: opt.integer({
    default: 0,
    min: 0,
    flag: "--tapt-steps <n>",
    help: "task-adaptive pre-training on the training texts for N steps first (0: off)",
  }),
  taptLr: opt.number({
    default: 1e-4,
    gt: 0,
    flag: "--tapt-lr <f>",
    help: "learning rate of task-adaptive pre-training",
  }),
  /** ULMFiT gradual unfreezing: train the head first, then one more layer group each epoch. */
  gradualUnfreezing: opt.boolean({
    default: false,
    help: "ULMFiT: the head first, then one more layer from the top each epoch",
  }),
  /** Layer-wise learning-rate decay factor (1 = off). */
  layerDecay: opt.number({
    default: 1,
    gt: 0,
    max: 1,
    flag: "--layer-decay <f>",
    help: "layer-wise learning-rate decay factor (1 = off)",
  }),
  /** LoRA adapters instead of training all weights (null: off; `true` or an object: on, with the defaults). */
  lora: opt.group(LORA_SCHEMA, {
    nullable: true,
    flag: "--lora",
    flagPrefix: "lora-",
    help: "train LoRA adapters instead of all weights",
  }),
  /** "auto" = n / (C · count_c); or one weight per class in label order. */
  classWeights: opt.value<"auto" | number[] | null>({
    default: null,
    flag: "--class-weights <auto|w,...>",
    help: "class weights for the loss: auto (balanced) or one per label",
    describe: '"auto" or a list of non-negative numbers, one per label',
    check: isWeights,
    parse: (s) => (s === "auto" ? s : s.split(",").map((x) => (x.trim() === "" ? Number.NaN : Number(x)))),
  }),
  /** "weighted" draws examples with probability ∝ 1/class frequency (with replacement). */
  sampler: opt.enum(["random", "weighted"], {
    default: "random",
    help: "random or weighted (oversample rare classes)",
  }),
  /**
   * Batches of similar lengths (transformers' group_by_length): each epoch's shuffle is cut into mega-batches of 50
   * batches, each sorted by length, so a batch pads to a length near its own examples' and not the longest one's.
   */
  groupByLength: opt.boolean({
    default: false,
    help: "draw batches of similar lengths (less padding; the order stays random between mega-batches of 50)",
  }),
  focalGamma: opt.number({ default: 0, min: 0, flag: "--focal-gamma <x>", help: "focal loss γ (0 = cross-entropy)" }),
  labelSmoothing: opt.number({ default: 0, min: 0, lt: 1, flag: "--label-smoothing <x>", help: "label smoothing ε" }),
  /** Binary tasks: pick the decision threshold maximizing F1 on the validation precision-recall curve. */
  tuneThreshold: opt.boolean({
    default: false,
    help: "binary: choose the decision threshold maximizing validation F1",
  }),
  /** Fit the kind's classical baseline (TF-IDF + logistic regression) and report it beside the model's scores. */
  baseline: opt.boolean({
    default: true,
    flag: "--no-baseline",
    help: "skip the TF-IDF + logistic-regression baseline a classification run scores beside the model",
  }),
  /** Overrides the model's dropout (hidden, attention and classifier). */
  dropout: opt.number({
    default: null,
    nullable: true,
    min: 0,
    lt: 1,
    flag: "--dropout <x>",
    help: "override the model's dropout",
  }),
  /** sft: a Jinja chat template file for {messages} records, instead of the model's own. */
  chatTemplate: opt.string({
    flag: "--chat-template <file>",
    help: "sft: chat template (Jinja) for {messages} records",
    defaultHelp: "the model's chat_template",
  }),
  /** sft: pack several short samples into each row (attention never crosses samples). */
  packing: opt.boolean({ default: false, flag: "--packing", help: "sft: pack short samples into full rows" }),
  /** sft: "auto" learns completions and assistant turns only ({text}: every token); "all" learns every token. */
  trainOn: opt.enum(["auto", "all"], {
    default: "auto",
    flag: "--train-on <auto|all>",
    help: "sft: auto = completions and assistant turns only; all = every token",
  }),
  /** sft: a record longer than maxLength tokens is truncated from the left, or rejected. */
  overLength: opt.enum(["truncate", "reject"], {
    default: "truncate",
    flag: "--over-length <truncate|reject>",
    help: "sft: records longer than maxLength: truncate from the left (counted) or reject",
  }),
  /** sft: generate replies for the test split and score BLEU-1/2 and distinct-1/2 at the end of the run. */
  generationMetrics: opt.boolean({
    default: false,
    flag: "--generation-metrics",
    help: "sft: score generated test replies (BLEU-1/2, distinct-1/2)",
  }),
  /** sft: the longest generated reply for --generation-metrics. */
  generationMaxTokens: opt.integer({
    default: 32,
    min: 1,
    flag: "--generation-max-tokens <n>",
    help: "sft: tokens generated per test reply",
  }),
  /** Remove duplicate texts from the training file. */
  dedupe: opt.boolean({ default: false, help: "drop duplicate texts from the training file" }),
  /** seq2seq: each split is two parallel files <prefix>.<sourceLang> and <prefix>.<targetLang> (--data train → train.en, train.de). */
  ...SEQ2SEQ_SCHEMA,
};

/** The resolved run configuration: every setting present, every training argument included. */
export type ResolvedFinetuneConfig = Resolved<typeof FINETUNE_SCHEMA>;
/** A run configuration with its groups (training, freeze, lora) as given: `Partial<FinetuneConfig>` is an input. */
export type FinetuneConfig = Settings<typeof FINETUNE_SCHEMA>;
/** What a config file may hold: every key optional, groups too. */
export type FinetuneOptions = Input<typeof FINETUNE_SCHEMA>;
export type LoraSettings = Resolved<typeof LORA_SCHEMA>;

export const FINETUNE_DEFAULTS = optionDefaults(FINETUNE_SCHEMA) as Omit<ResolvedFinetuneConfig, "model" | "data">;
export const LORA_DEFAULTS: LoraSettings = resolveOptions(LORA_SCHEMA, {});

/**
 * Checks fine-tuning settings as given (a config file, a study's objective config): unknown keys anywhere are
 * errors with a did-you-mean hint, values are checked against their types and ranges; nothing is required.
 */
export function validateFinetuneOptions(raw: unknown, from: OptionSource = {}): FinetuneOptions {
  return validateOptions(FINETUNE_SCHEMA, raw, from);
}
