/**
 * The one interface a fine-tuning task kind implements. A kind is one folder under tasks/kinds/ exporting a
 * `TaskSpec` and one line in tasks/registry.ts; the run lifecycle (finetune.ts), evaluation of a saved model
 * (saved.ts) and the Predictor (predictor.ts) call only this interface, never a kind by name.
 *
 * The life of an example: `prepare` reads and validates the files (errors name the file, line and field), finds the
 * labels and tokenizes every split once; the Trainer's batches are padded rows (`PaddedBatch`) with their `targets`;
 * the model (built by `auto` with `headOptions`) gives logits, [B, C] for a sequence-level kind or [B, T, C] for a
 * token-level one; `loss` trains on them, `predict` collects what `metrics` and `predictionRecords` need, and for
 * new text `encodeInputs` + `decode` give typed predictions (`TaskPrediction`).
 */
import type { Tensor } from "../tensor/index.js";
import type { Module } from "../nn/index.js";
import type { Tokenizer } from "../tokenizers/index.js";
import type { ModelConfig } from "../models/index.js";
import type { ClassificationModel, FromPretrainedOptions } from "../models/index.js";
import type { ExampleReadOptions } from "../data/index.js";
import type { Section } from "../report/index.js";
import type { FinetuneConfig } from "./config.js";
import type { EncodedRow, PaddedBatch } from "./encode.js";
import type { TaskInfo } from "./task-info.js";

/** Tokenized examples of one split: model rows, their targets, and what predictions.jsonl shows of each. */
export interface Split<Target> {
  rows: EncodedRow[];
  targets: Target[];
  /** The text (or the words) of each example, for predictions.jsonl. */
  inputs: unknown[];
}

/** A kind's data for one run, read and validated. */
export interface TaskData<Target> {
  /** Output names in id order (class names, tags, or one "value" for regression). */
  labels: string[];
  train: Split<Target>;
  validation: Split<Target>;
  /** The test split, or the validation split again when there is no test data (see `testSplit`). */
  test: Split<Target>;
  testSplit: "test" | "validation";
  /** Written to the run's data.json: sizes, files, skipped rows. */
  summary: unknown;
}

export interface PrepareContext {
  config: FinetuneConfig;
  tokenizer: Tokenizer;
  /** Seeds the held-out splits. */
  seed: number;
}

/** What a kind needs to read a labelled file for a saved model (graft eval): the model's labels and length limit. */
export interface LabelledContext {
  tokenizer: Tokenizer;
  labels: string[];
  maxLength: number;
  labelSeparator: string;
  read?: ExampleReadOptions;
  /** The saved model's directory (its chat template, for sft conversations). */
  modelDir?: string;
  /** The model's graft_task.json (a kind's own settings, e.g. seq2seq's source prefix). */
  info?: TaskInfo;
}

/**
 * Loss and decision settings of a run, resolved once from the configuration by the kind (`settings`): class
 * weights, label smoothing, focal γ, a decision threshold. A kind reads the ones it supports.
 */
export interface TaskSettings {
  /** One weight per class in label order, or null. */
  weights: number[] | null;
  labelSmoothing: number;
  focalGamma: number;
  /** Decision threshold on a probability (tuned on validation), or null for the kind's default rule. */
  threshold: number | null;
  /** Training order other than the Trainer's shuffle, a pure function of (epoch, seed); e.g. class-balanced draws. */
  order?: (epoch: number, seed: number, size: number) => Int32Array;
}

/** How a kind runs a model over rows: its forward (logits) and the batching of evaluation. */
export interface PredictContext {
  model: Module;
  forward: (model: Module, batch: PaddedBatch) => Tensor;
  batchSize: number;
  padId: number;
  /** The model's output names in id order. */
  labels: string[];
  settings: TaskSettings;
  /** The run's tokenizer and task settings: kinds that generate text decode with them. */
  tokenizer?: Tokenizer;
  info?: TaskInfo;
}

/** Inputs of the Predictor: a text, or a text with its pair (the second segment of a pair classifier). */
export type PredictorInput = string | { text: string; textPair?: string };

/** A single-label decision with a score per label (`kind` says whether the scores are probabilities). */
export interface ClassPrediction {
  task: "classification";
  label: string;
  scores: Record<string, number>;
  kind: "probability" | "decision";
}

/** Every label whose probability reaches the threshold; `label` joins them with "|" ("" for none). */
export interface MultiLabelPrediction {
  task: "multilabel";
  labels: string[];
  label: string;
  scores: Record<string, number>;
  kind: "probability";
}

/** A predicted number; `label` and `scores` carry it in the label-and-scores shape `graft predict` prints. */
export interface ValuePrediction {
  task: "regression";
  value: number;
  label: string;
  scores: Record<string, number>;
  kind: "decision";
}

/** An entity found in a text: its type, the characters [start, end) of the text it covers, and a score in [0, 1]. */
export interface Entity {
  type: string;
  text: string;
  start: number;
  end: number;
  /** Mean probability of the predicted tags of its words. */
  score: number;
}

export interface EntitiesPrediction {
  task: "ner";
  entities: Entity[];
  /** The predicted tag of each whitespace-separated word of the text. */
  tags: string[];
}

/** What the Predictor returns per input; `task` tells the shapes apart. Kinds added later add their own. */
export type TaskPrediction =
  | ClassPrediction
  | MultiLabelPrediction
  | ValuePrediction
  | EntitiesPrediction
  | { task: string; [field: string]: unknown };

/** What `finalMetrics` gets: the trained model, its tokenizer, the run's configuration and data. */
export interface FinalMetricsContext<Target> {
  model: Module;
  tokenizer: Tokenizer;
  config: FinetuneConfig;
  data: TaskData<Target>;
  batchSize: number;
}

/** What `decode` knows of the loaded model. */
export interface DecodeContext {
  labels: string[];
  config: ModelConfig;
  threshold: number | null;
}

/** The model head a kind trains: an Auto class that picks the architecture's class by model_type. */
export interface HeadBuilder {
  fromPretrainedDir(dir: string, opts?: FromPretrainedOptions): ClassificationModel;
}

export interface TaskSpec<Target = unknown, Output = unknown> {
  /** The `task` of a run configuration and of graft_task.json. */
  readonly name: string;
  /** The model class family this kind fine-tunes (AutoModelForSequenceClassification, ...). */
  readonly auto: HeadBuilder;
  /** PEFT's task_type for a LoRA adapter saved with the model. */
  readonly peftTaskType: string;
  /** The validation metric that picks the best checkpoint unless training.metricForBest says otherwise. */
  readonly defaultMetric: string;
  /**
   * The kind trains the checkpoint's own language-model head (sft): no labels, nothing re-initialized, and a LoRA
   * run saves no head module in full.
   */
  readonly generative?: boolean;
  /** How `graft tune` folds the training file for cross-validation (absent: not supported). */
  readonly crossValidation?: "stratified" | "random";

  /** Whether a model directory without graft_task.json (e.g. from transformers) is of this kind. */
  recognizes(config: ModelConfig, architecture: string): boolean;

  /** The files a --data/--validation/--test path stands for, when not that one file (seq2seq: two parallel files). */
  dataFiles?(path: string, config: FinetuneConfig): string[];
  /** Reads the training, validation and test files (validated), finds the labels, tokenizes once. */
  prepare(ctx: PrepareContext): Promise<TaskData<Target>>;
  /** Reads one labelled file against a saved model's labels (a label the model lacks is an error naming the line). */
  readLabelled(file: string, ctx: LabelledContext): Promise<Split<Target>>;

  /** The head's options for these labels (number of outputs, names, problem_type); `data`: the run's prepared data. */
  headOptions(labels: string[], data?: TaskData<Target>): FromPretrainedOptions;
  /** The loss and decision settings the configuration asks for, checked against the data (e.g. class weights). */
  settings(config: FinetuneConfig, data: TaskData<Target>): TaskSettings;

  /**
   * The tokens one training example costs (for --group-by-length); default: its row's length. Kinds whose targets
   * are token sequences too (seq2seq) add the target's.
   */
  exampleLength?(row: EncodedRow, target: Target): number;
  /** Differentiable training loss of a batch's logits against its targets. */
  loss(logits: Tensor, batch: PaddedBatch, targets: readonly Target[], settings: TaskSettings): Tensor;
  /**
   * Kinds whose model reads the targets too (an encoder-decoder under teacher forcing): the training loss of a batch
   * from the model itself, used instead of the classifier forward + `loss`.
   */
  trainLoss?(model: Module, batch: PaddedBatch, targets: readonly Target[], settings: TaskSettings): Tensor;
  /** The kind's own settings kept in graft_task.json (e.g. seq2seq's source prefix and decoding). */
  taskInfo?(config: FinetuneConfig): Partial<TaskInfo>;
  /**
   * Kinds that generate text: predictions for new inputs straight from the model (instead of encodeInputs + one
   * forward + decode). `generation` overrides the decoding settings of graft_task.json.
   */
  generateInputs?(
    model: Module,
    tokenizer: Tokenizer,
    inputs: readonly PredictorInput[],
    ctx: { info: TaskInfo | null; config: ModelConfig; generation?: GenerationSettings },
  ): Promise<TaskPrediction[]>;
  /**
   * Kinds whose inputs are not texts (tabular records, `{ text, record }` inputs): predictions for new inputs
   * straight from the saved model, instead of encodeInputs + one forward + decode.
   */
  predictInputs?(
    model: Module,
    inputs: readonly PredictorInput[],
    ctx: { info: TaskInfo | null; config: ModelConfig; labels: string[] },
  ): Promise<TaskPrediction[]>;
  /** Runs the model over rows (no gradients) and keeps what the metrics need, with the mean loss when targets are given. */
  predict(ctx: PredictContext, rows: readonly EncodedRow[], targets: readonly Target[] | null): Output;
  /** Metric name → value (without the eval_ prefix), "loss" included. */
  metrics(output: Output, labels: string[]): Record<string, number>;
  /** A decision threshold tuned on validation predictions, for kinds that support `tuneThreshold`. */
  tuneThreshold?(validation: Output, labels: string[]): number;
  /** One JSON object per example for the run's predictions.jsonl (the shape report/predictions.ts reads). */
  predictionRecords(output: Output, inputs: readonly unknown[], labels: string[]): object[];
  /** Warnings about the prepared data, logged before training and kept in the run's notes (e.g. a one-class validation split). */
  dataWarnings?(data: TaskData<Target>): string[];
  /** Warnings about the best model's predictions on a split (e.g. a constant classifier), kept in the run's notes. */
  predictionWarnings?(output: Output, labels: string[], split: "validation" | "test"): string[];
  /**
   * The classical baseline a fine-tuned model is measured against (classification: TF-IDF + logistic regression),
   * fitted on the training examples (and validation's, when there is a test split) and scored on the test split
   * (validation when there is none). Metric name → value; null when it cannot be fitted (a single class).
   */
  baseline?(data: TaskData<Target>): Record<string, number> | null;
  /**
   * Metrics of the best model on the test split that need asynchronous work (e.g. generating text and decoding
   * it), merged into the test metrics at the end of a run; `notes` go to the run's notes.
   */
  finalMetrics?(ctx: FinalMetricsContext<Target>): Promise<{ metrics: Record<string, number>; notes?: string[] }>;
  /** Extra sections of the run's report.html (written with the run; `graft report` re-rendering it later has no spec). */
  reportSections?(output: Output, labels: string[]): Section[];

  /** Tokenizes new inputs for the Predictor (maxLength undefined: the tokenizer's own limit). */
  encodeInputs(tokenizer: Tokenizer, inputs: readonly PredictorInput[], maxLength?: number): Promise<EncodedRow[]>;
  /** Typed predictions from the logits of one padded batch of `rows`. */
  decode(
    logits: Tensor,
    rows: readonly EncodedRow[],
    inputs: readonly PredictorInput[],
    ctx: DecodeContext,
  ): TaskPrediction[];
}

/** Decoding settings a caller may override for a kind that generates (graft predict / translate flags). */
export interface GenerationSettings {
  numBeams?: number;
  maxNewTokens?: number;
}

/** The text and pair of a Predictor input. */
export function inputText(input: PredictorInput): { text: string; textPair?: string } {
  return typeof input === "string" ? { text: input } : input;
}
