/**
 * What the sequence-level kinds (classification, multi-label, regression) share: one text per example, with an
 * optional second text (a pair: the tokenizer joins them with its separator and token types), and one target per
 * example. A kind says how its labels are discovered and encoded; the reading, splitting and tokenizing are here.
 * Logits are [B, C].
 */
import { ArgumentError } from "../../util/errors.js";
import { loadSplits, readExamples, readOptionsFrom, type Example, type ExampleReadOptions } from "../../data/index.js";
import type { ModelConfig } from "../../models/index.js";
import type { Tokenizer } from "../../tokenizers/index.js";
import { encodeTexts, type EncodedRow } from "../encode.js";
import type { FinetuneConfig } from "../config.js";
import {
  inputText,
  type LabelledContext,
  type PrepareContext,
  type PredictorInput,
  type Split,
  type TaskData,
  type TaskSettings,
} from "../spec.js";

export interface SequenceLabels<Target> {
  /** Read the label column as numbers (regression) rather than strings. */
  labelType?: "float";
  /** Label names from the training examples (validated: errors name the file and line). */
  discover(train: readonly Example[], file: string, sep: string): string[];
  /** An example's target; a label outside `labels` is an error naming the file, line and field. */
  encode(labels: readonly string[], e: Example, file: string, sep: string): Target;
}

async function encodeExamples<Target>(
  tok: Tokenizer,
  examples: readonly Example[],
  maxLength: number,
  target: (e: Example) => Target,
): Promise<Split<Target>> {
  const pairs = examples.some((e) => e.textPair !== undefined) ? examples.map((e) => e.textPair ?? "") : undefined;
  return {
    rows: await encodeTexts(
      tok,
      examples.map((e) => e.text),
      pairs,
      maxLength,
    ),
    targets: examples.map(target),
    inputs: examples.map((e) => (e.textPair !== undefined ? `${e.text}\n${e.textPair}` : e.text)),
  };
}

/**
 * How fine-tuning reads its training, validation and test files: the shared reading settings (format, delimiter,
 * quote, header, columns, bad-row policy) of the run's configuration, with the label type of the task kind.
 */
export function finetuneReadOptions(
  c: Pick<
    FinetuneConfig,
    "format" | "delimiter" | "quote" | "header" | "textColumn" | "textPairColumn" | "labelColumn" | "onBadRow"
  >,
  labelType?: "float",
): ExampleReadOptions {
  if (c.format === "conll") throw new ArgumentError("--format conll is for --task ner (token-level tags)");
  return readOptionsFrom({ ...c, labelType: labelType ?? "string" });
}

/** Train/validation/test from the configured files or held-out fractions, labelled and tokenized. */
export async function prepareSequences<Target>(
  { config: c, tokenizer, seed }: PrepareContext,
  kind: SequenceLabels<Target>,
): Promise<TaskData<Target>> {
  const splits = await loadSplits({
    train: c.data,
    validation: c.validation,
    test: c.test,
    read: finetuneReadOptions(c, kind.labelType),
    validationFraction: c.validation ? undefined : c.validationFraction,
    testFraction: c.test ? undefined : c.testFraction,
    seed,
    dedupe: c.dedupe,
  });
  if (splits.validation.length === 0)
    throw new ArgumentError("no validation data: give --validation FILE or a validation fraction > 0");
  const labels = kind.discover(splits.train, c.data, c.labelSeparator);
  const fileOf = (role: "train" | "validation" | "test") =>
    splits.summary.files.find((f) => f.role === role)?.file ?? c.data;
  const encode = (examples: Example[], role: "train" | "validation" | "test") =>
    encodeExamples(tokenizer, examples, c.maxLength, (e) => kind.encode(labels, e, fileOf(role), c.labelSeparator));
  const testSplit = splits.test.length > 0 ? "test" : "validation";
  return {
    labels,
    train: await encode(splits.train, "train"),
    validation: await encode(splits.validation, "validation"),
    test: await encode(testSplit === "test" ? splits.test : splits.validation, testSplit),
    testSplit,
    summary: splits.summary,
  };
}

/** A labelled file for a saved model, read with the given column options. */
export async function readLabelledSequences<Target>(
  file: string,
  ctx: LabelledContext,
  kind: SequenceLabels<Target>,
): Promise<Split<Target>> {
  const { examples } = await readExamples(file, {
    ...(ctx.read ?? {}),
    ...(kind.labelType ? { labelType: kind.labelType } : {}),
  });
  return encodeExamples(ctx.tokenizer, examples, ctx.maxLength, (e) =>
    kind.encode(ctx.labels, e, file, ctx.labelSeparator),
  );
}

/** New texts (and pairs) for the Predictor. */
export function encodeSequenceInputs(
  tok: Tokenizer,
  inputs: readonly PredictorInput[],
  maxLength?: number,
): Promise<EncodedRow[]> {
  const items = inputs.map(inputText);
  const pairs = items.some((x) => x.textPair !== undefined) ? items.map((x) => x.textPair ?? "") : undefined;
  return encodeTexts(
    tok,
    items.map((x) => x.text),
    pairs,
    maxLength,
  );
}

/** Whether a transformers sequence classifier's config.json says it solves `problemType`. */
export function isSequenceClassifier(config: ModelConfig, architecture: string, problemType: string): boolean {
  return architecture.endsWith("ForSequenceClassification") && config.problem_type === problemType;
}

/**
 * Settings of a kind without class-imbalance options (label smoothing passes through: a kind whose loss has none
 * ignores it); the imbalance options are refused rather than ignored.
 */
export function plainSettings(c: FinetuneConfig, kind: string): TaskSettings {
  const unsupported = [
    c.classWeights ? "class weights" : "",
    c.sampler === "weighted" ? "the weighted sampler" : "",
    c.focalGamma > 0 ? "focal loss" : "",
    c.tuneThreshold ? "threshold tuning" : "",
  ].filter(Boolean);
  if (unsupported.length)
    throw new ArgumentError(`${unsupported.join(", ")} apply to single-label classification, not ${kind}`);
  return { weights: null, labelSmoothing: c.labelSmoothing, focalGamma: 0, threshold: null };
}
