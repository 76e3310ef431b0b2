/**
 * Sequence-to-sequence fine-tuning (translation, summarization, any text → text) of an encoder-decoder (T5, BART:
 * models/seq2seq.ts). Training is teacher forcing: the decoder reads the target shifted right and the loss is
 * cross-entropy over target tokens with optional label smoothing (as torch's CrossEntropyLoss(label_smoothing),
 * padding -100 ignored). Evaluation generates (greedy or beam search, models/generation) and scores the text with
 * the metric registry: BLEU, chrF and TER as sacrebleu, ROUGE as rouge-score, and the loss; the best checkpoint
 * is the one with the best BLEU unless training.metricForBest says otherwise.
 */
import { ArgumentError } from "../../../util/errors.js";
import { Tensor, crossEntropy, noGrad, reshape } from "../../../tensor/index.js";
import type { Module } from "../../../nn/index.js";
import { computeMetrics } from "../../../metrics/index.js";
import {
  AutoModelForSeq2SeqLM,
  generate,
  isSeq2SeqLM,
  type ModelConfig,
  type Seq2SeqLM,
} from "../../../models/index.js";
import type { Tokenizer } from "../../../tokenizers/index.js";
import { IGNORE_INDEX } from "../../../train/index.js";
import { MeanLoss } from "../../evaluate.js";
import { padRows, type EncodedRow, type PaddedBatch } from "../../encode.js";
import type { TaskInfo } from "../../task-info.js";
import {
  inputText,
  type GenerationSettings,
  type HeadBuilder,
  type PredictContext,
  type PredictorInput,
  type Split,
  type TaskPrediction,
  type TaskSpec,
} from "../../spec.js";
import {
  encodeAll,
  encodePairs,
  fit,
  holdOut,
  parallelFiles,
  readPairs,
  truncationWarning,
  type PairFile,
  type Seq2SeqTarget,
  type Truncation,
} from "./data.js";

export type { Seq2SeqTarget } from "./data.js";

/** Generated and reference texts of a split, with the mean loss per target token. */
export interface Seq2SeqOutput {
  predictions: string[];
  references: string[];
  meanLoss: number;
}

/** What the Predictor returns for a seq2seq model: the generated text. */
export type GeneratedPrediction = {
  task: "seq2seq";
  generated: string;
};

interface Summary {
  files: Record<string, string>;
  sizes: Record<string, number>;
  truncated: { split: string; sources: Truncation; targets: Truncation }[];
}

/** Decoding settings: graft_task.json's, overridden by the caller's. */
interface Decoding {
  sourcePrefix: string;
  maxTargetLength: number;
  numBeams: number;
}

function decodingOf(info: TaskInfo | null | undefined, over: GenerationSettings = {}): Decoding {
  return {
    sourcePrefix: info?.sourcePrefix ?? "",
    maxTargetLength: over.maxNewTokens ?? info?.maxTargetLength ?? 128,
    numBeams: over.numBeams ?? info?.numBeams ?? 1,
  };
}

/** The targets of a batch as labels [B, T] (T = the longest target), -100 after each target's end. */
export function targetLabels(targets: readonly Seq2SeqTarget[]): Tensor {
  const t = Math.max(1, ...targets.map((x) => x.ids.length));
  const labels = new Int32Array(targets.length * t).fill(IGNORE_INDEX);
  targets.forEach((x, i) => labels.set(x.ids, i * t));
  return new Tensor(labels, [targets.length, t]);
}

/** Token-level cross-entropy of logits [B, T, V] against labels [B, T] (-100 ignored), with label smoothing. */
export function seq2seqLoss(logits: Tensor, labels: Tensor, labelSmoothing = 0): Tensor {
  const [b, t, v] = logits.shape;
  if (labels.shape[0] !== b || labels.shape[1] !== t)
    throw new ArgumentError(`seq2seq loss: labels [${labels.shape}] for logits [${logits.shape}]`);
  return crossEntropy(reshape(logits, [b * t, v]), reshape(labels, [b * t]), { labelSmoothing });
}

function asSeq2Seq(model: Module | Seq2SeqLM): Seq2SeqLM {
  if (!isSeq2SeqLM(model))
    throw new ArgumentError("the seq2seq task needs an encoder-decoder model (T5, BART: AutoModelForSeq2SeqLM)");
  return model;
}

/** Generated texts for encoded sources, `batchSize` at a time (EOS and padding dropped). */
export function generateTexts(
  model: Seq2SeqLM,
  tokenizer: Tokenizer,
  sources: readonly EncodedRow[],
  d: Decoding,
  batchSize: number,
): string[] {
  const eos = tokenizer.eosTokenId ?? model.config.eos_token_id;
  const pad = tokenizer.padTokenId ?? model.config.pad_token_id;
  const out: string[] = [];
  for (let start = 0; start < sources.length; start += batchSize) {
    const prompts = sources.slice(start, start + batchSize).map((r) => r.ids);
    const g = generate(model, prompts, {
      maxNewTokens: d.maxTargetLength,
      numBeams: d.numBeams,
      ...(eos !== null ? { eosTokenId: eos } : {}),
      ...(pad !== null ? { padTokenId: pad } : {}),
    });
    for (const ids of g.newTokens) {
      const end = eos === null ? -1 : ids.indexOf(eos);
      out.push(tokenizer.decodeSync(end >= 0 ? ids.slice(0, end) : ids, { skipSpecialTokens: true }).trim());
    }
  }
  return out;
}

/** Mean loss per target token over rows, without gradients. */
function evaluationLoss(
  model: Seq2SeqLM,
  rows: readonly EncodedRow[],
  targets: readonly Seq2SeqTarget[],
  ctx: PredictContext,
) {
  const loss = new MeanLoss();
  for (let start = 0; start < rows.length; start += ctx.batchSize) {
    const n = Math.min(ctx.batchSize, rows.length - start);
    const batch = padRows(
      rows,
      Int32Array.from({ length: n }, (_, i) => start + i),
      ctx.padId,
    );
    const tg = targets.slice(start, start + n);
    const labels = targetLabels(tg);
    const out = model.forward({ inputIds: batch.inputIds, attentionMask: batch.attentionMask, labels });
    const tokens = tg.reduce((s, x) => s + x.ids.length, 0);
    loss.add(seq2seqLoss(out.logits, labels).item() * tokens, tokens);
  }
  return loss.value;
}

/** The metrics graft reports for generated text (names as the metric registry's). */
export function generationMetrics(
  predictions: readonly string[],
  references: readonly string[],
): Record<string, number> {
  if (predictions.length === 0) return {};
  return computeMetrics(
    {
      bleu: "bleu",
      chrf: "chrf",
      ter: "ter",
      rouge1: { metric: "rouge", value: "rouge1" },
      rouge2: { metric: "rouge", value: "rouge2" },
      rougeL: { metric: "rouge", value: "rougeL" },
    },
    { text: predictions },
    references,
  );
}

async function readSplit(
  tokenizer: Tokenizer,
  file: PairFile,
  pairs: PairFile["pairs"],
  d: Decoding & { maxLength: number },
): Promise<Split<Seq2SeqTarget> & { truncated: { sources: Truncation; targets: Truncation } }> {
  return encodePairs(tokenizer, { ...file, pairs }, d);
}

export const seq2seq: TaskSpec<Seq2SeqTarget, Seq2SeqOutput> = {
  name: "seq2seq",
  auto: AutoModelForSeq2SeqLM as unknown as HeadBuilder,
  peftTaskType: "SEQ_2_SEQ_LM",
  defaultMetric: "bleu",

  recognizes: (_config: ModelConfig, architecture: string) =>
    architecture.endsWith("ForConditionalGeneration") && !/Vision|Speech|Whisper|Blip/.test(architecture),

  dataFiles: (path, c) => parallelFiles(path, c) ?? [path],

  async prepare({ config: c, tokenizer, seed }) {
    const d = {
      sourcePrefix: c.sourcePrefix,
      maxTargetLength: c.maxTargetLength,
      numBeams: c.numBeams,
      maxLength: c.maxLength,
    };
    const train = await readPairs(c.data, c);
    let trainPairs = train.pairs;
    let validation: PairFile;
    if (c.validation) validation = await readPairs(c.validation, c);
    else {
      if (!(c.validationFraction > 0))
        throw new ArgumentError("no validation data: give --validation FILE or a validation fraction > 0");
      const split = holdOut(trainPairs, c.validationFraction, seed);
      trainPairs = split.train;
      validation = { ...train, pairs: split.held };
    }
    let test: PairFile | null = c.test ? await readPairs(c.test, c) : null;
    if (!test && !c.validation && c.testFraction > 0) {
      const split = holdOut(trainPairs, c.testFraction / (1 - c.validationFraction), seed + 1);
      trainPairs = split.train;
      test = { ...train, pairs: split.held };
    }
    if (trainPairs.length === 0) throw new ArgumentError(`no training pairs left in ${train.name}`);
    if (validation.pairs.length === 0)
      throw new ArgumentError("no validation pairs: give --validation FILE or a larger validation fraction");
    const splits = {
      train: await readSplit(tokenizer, train, trainPairs, d),
      validation: await readSplit(tokenizer, validation, validation.pairs, d),
      test: test ? await readSplit(tokenizer, test, test.pairs, d) : null,
    };
    const summary: Summary = {
      files: { train: train.name, validation: validation.name, ...(test ? { test: test.name } : {}) },
      sizes: {
        train: splits.train.rows.length,
        validation: splits.validation.rows.length,
        ...(splits.test ? { test: splits.test.rows.length } : {}),
      },
      truncated: (["train", "validation", "test"] as const).flatMap((s) =>
        splits[s] ? [{ split: s, ...splits[s]!.truncated }] : [],
      ),
    };
    const strip = ({ rows, targets, inputs }: Split<Seq2SeqTarget>) => ({ rows, targets, inputs });
    return {
      labels: [],
      train: strip(splits.train),
      validation: strip(splits.validation),
      test: strip(splits.test ?? splits.validation),
      testSplit: splits.test ? "test" : "validation",
      summary,
    };
  },

  async readLabelled(file, ctx) {
    const d = decodingOf(ctx.info);
    const c = { ...(ctx.read ?? {}), sourceLang: undefined, targetLang: undefined, onBadRow: "fail" as const };
    const pairs = await readPairs(file, c as Parameters<typeof readPairs>[1]);
    const s = await readSplit(ctx.tokenizer, pairs, pairs.pairs, { ...d, maxLength: ctx.maxLength });
    return { rows: s.rows, targets: s.targets, inputs: s.inputs };
  },

  headOptions: () => ({}),
  settings: (c) => ({ weights: null, labelSmoothing: c.labelSmoothing, focalGamma: 0, threshold: null }),
  // the encoder reads the source and the decoder the target: both pad
  exampleLength: (row, target) => row.ids.length + target.ids.length,

  loss: (logits, _batch, targets, s) => seq2seqLoss(logits, targetLabels(targets), s.labelSmoothing),

  trainLoss(model: Module, batch: PaddedBatch, targets, s) {
    const labels = targetLabels(targets);
    const out = asSeq2Seq(model).forward({ inputIds: batch.inputIds, attentionMask: batch.attentionMask, labels });
    return seq2seqLoss(out.logits, labels, s.labelSmoothing);
  },

  taskInfo: (c) => ({ sourcePrefix: c.sourcePrefix, maxTargetLength: c.maxTargetLength, numBeams: c.numBeams }),

  predict(ctx, rows, targets) {
    if (!ctx.tokenizer) throw new ArgumentError("seq2seq evaluation needs the tokenizer to decode what it generates");
    const model = asSeq2Seq(ctx.model);
    const wasTraining = model.training;
    model.eval();
    try {
      return noGrad(() => ({
        predictions: generateTexts(model, ctx.tokenizer!, rows, decodingOf(ctx.info), ctx.batchSize),
        references: targets ? targets.map((t) => t.text) : [],
        meanLoss: targets ? evaluationLoss(model, rows, targets, ctx) : Number.NaN,
      }));
    } finally {
      model.train(wasTraining);
    }
  },

  metrics: (p) => ({
    loss: p.meanLoss,
    ...(p.references.length ? generationMetrics(p.predictions, p.references) : {}),
  }),

  predictionRecords: (p, inputs) =>
    p.predictions.map((prediction, i) => ({
      source: inputs[i],
      prediction,
      ...(p.references.length ? { reference: p.references[i] } : {}),
    })),

  dataWarnings(data) {
    const s = data.summary as Summary;
    return s.truncated.flatMap((t) =>
      [
        truncationWarning(t.sources, "sources", "--max-length"),
        truncationWarning(t.targets, "targets", "--max-target-length"),
      ].filter((w): w is string => w !== null),
    );
  },

  predictionWarnings(p) {
    const empty = p.predictions.filter((x) => x === "").length;
    return empty > p.predictions.length / 2
      ? [`${empty} of ${p.predictions.length} generated texts are empty: the model ends at once (train longer?)`]
      : [];
  },

  encodeInputs: (tokenizer, inputs, maxLength) =>
    encodeSources(
      tokenizer,
      inputs.map((x) => inputText(x).text),
      maxLength,
    ),

  decode() {
    throw new ArgumentError("a seq2seq model generates its predictions (generateInputs), it does not decode logits");
  },

  async generateInputs(model, tokenizer, inputs: readonly PredictorInput[], ctx): Promise<TaskPrediction[]> {
    const d = decodingOf(ctx.info, ctx.generation);
    const texts = inputs.map((x) => d.sourcePrefix + inputText(x).text);
    const limit = ctx.info?.maxLength ?? tokenizer.modelMaxLength ?? undefined;
    const rows = await encodeSources(tokenizer, texts, limit);
    const s2s = asSeq2Seq(model);
    const out = noGrad(() => generateTexts(s2s, tokenizer, rows, d, 32));
    return out.map((text): GeneratedPrediction => ({ task: "seq2seq", generated: text }));
  },
};

/** New sources (their prefix already in the text), EOS last, cut to maxLength. */
async function encodeSources(
  tokenizer: Tokenizer,
  texts: readonly string[],
  maxLength: number | undefined,
): Promise<EncodedRow[]> {
  return (await encodeAll(tokenizer, texts)).map((ids) => {
    const row = maxLength === undefined ? ids : fit(ids, maxLength, tokenizer.eosTokenId);
    return { ids: row, typeIds: new Array<number>(row.length).fill(0) };
  });
}
