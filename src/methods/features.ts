/**
 * Frozen features of a checkpoint for a labelled file, what the transferability scores read: each example's
 * last hidden states pooled to one vector (the first token, "cls", or the mean over its tokens, "mean"), or for
 * NER each word's vector at its first sub-token; and, where the checkpoint has a source classification head
 * (a *ForSequenceClassification with its labels), that head's probabilities for LEEP. One forward pass per batch
 * gives both (the classifier returns its hidden states). Values leave the tensors once, through toArray().
 */
import { ArgumentError } from "../util/errors.js";
import { noGrad, softmax } from "../tensor/index.js";
import { readConll, readExamples, sortLabels, type ExampleReadOptions } from "../data/index.js";
import {
  AutoModel,
  AutoModelForSequenceClassification,
  readConfig,
  usesTokenTypes,
  type ClassifierOutput,
  type ModelInputs,
  type BaseModelOutput,
} from "../models/index.js";
import { loadTokenizer } from "../tokenizers/index.js";
import { encodeTexts, encodeWords, padRows, type EncodedRow, type EncodedTokens } from "../tasks/index.js";

export type Pooling = "cls" | "mean";
export type SelectTask = "classification" | "ner";

/** A labelled file read once, before any model's tokenizer sees it. */
export interface LabelledData {
  task: SelectTask;
  /** Class (or tag) names in id order. */
  labels: string[];
  /** classification: one text (and pair) per example. */
  texts?: { text: string; textPair?: string }[];
  /** ner: the words of each sentence. */
  sentences?: string[][];
  /** classification: a class id per example; ner: a tag id per word, sentence after sentence. */
  y: Int32Array;
}

/** Reads a classification file (CSV/TSV/JSONL with text and label) or a CoNLL file (ner), the first `limit` examples. */
export async function readLabelledData(
  file: string,
  task: SelectTask,
  opts: { read?: ExampleReadOptions; limit?: number } = {},
): Promise<LabelledData> {
  const limit = opts.limit ?? Infinity;
  if (task === "ner") {
    const { sentences } = await readConll(file, { onBadRow: opts.read?.onBadRow });
    const kept = sentences.slice(0, limit).filter((s) => s.tokens.length > 0);
    if (kept.length === 0) throw new ArgumentError(`${file}: no tagged sentences`);
    const labels = sortLabels(new Set(kept.flatMap((s) => s.tags)));
    const id = new Map(labels.map((l, i) => [l, i]));
    return {
      task,
      labels,
      sentences: kept.map((s) => s.tokens),
      y: Int32Array.from(kept.flatMap((s) => s.tags.map((t) => id.get(t)!))),
    };
  }
  if (task !== "classification")
    throw new ArgumentError(`--task must be classification or ner, got "${task as string}"`);
  const { examples } = await readExamples(file, opts.read);
  const kept = examples.slice(0, limit);
  kept.forEach((e, i) => {
    if (typeof e.label !== "string" || e.label === "")
      throw new ArgumentError(`${file}: example ${i + 1} has no label`, "the file needs a label column");
  });
  const labels = sortLabels(new Set(kept.map((e) => e.label as string)));
  if (labels.length < 2) throw new ArgumentError(`${file}: needs at least two classes, found ${labels.length}`);
  const id = new Map(labels.map((l, i) => [l, i]));
  return {
    task,
    labels,
    texts: kept.map((e) => (e.textPair !== undefined ? { text: e.text, textPair: e.textPair } : { text: e.text })),
    y: Int32Array.from(kept, (e) => id.get(e.label as string)!),
  };
}

/** A checkpoint's features of the data: n×d, and its source head's probabilities (n×z) when it has one. */
export interface CheckpointFeatures {
  x: Float64Array;
  n: number;
  d: number;
  /** Source classifier probabilities (sequence-level tasks only), or null. */
  theta: Float64Array | null;
  z: number;
  sourceLabels: string[];
}

export interface FeatureOptions {
  pooling?: Pooling;
  batchSize?: number;
  maxLength?: number;
}

/** Runs the frozen checkpoint in `dir` over the data (eval mode, no gradients). */
export async function checkpointFeatures(
  dir: string,
  data: LabelledData,
  opts: FeatureOptions = {},
): Promise<CheckpointFeatures> {
  const config = readConfig(dir);
  const tok = loadTokenizer(dir);
  const pooling = opts.pooling ?? "mean";
  const batchSize = opts.batchSize ?? 32;
  const maxLength = Math.min(opts.maxLength ?? 128, tok.modelMaxLength ?? Infinity);
  const arch = (config.architectures ?? [])[0] ?? "";
  const id2label = (config.id2label ?? {}) as Record<string, string>;
  const headed =
    data.task === "classification" && arch.endsWith("ForSequenceClassification") && Object.keys(id2label).length >= 2;
  const model = headed ? AutoModelForSequenceClassification.fromPretrainedDir(dir) : AutoModel.fromPretrainedDir(dir);
  model.eval();
  const padId = tok.padTokenId ?? (config.pad_token_id as number | null) ?? 0;
  const useTypes = usesTokenTypes(config.model_type);
  let rows: (EncodedRow | EncodedTokens)[];
  if (data.task === "ner") rows = await encodeWords(tok, data.sentences!, null, maxLength);
  else {
    const texts = data.texts!;
    const pairs = texts.some((t) => t.textPair !== undefined) ? texts.map((t) => t.textPair ?? "") : undefined;
    rows = await encodeTexts(
      tok,
      texts.map((t) => t.text),
      pairs,
      maxLength,
    );
  }
  const vectors: number[][] = [];
  const probs: number[][] = [];
  let d = 0;
  noGrad(() => {
    for (let start = 0; start < rows.length; start += batchSize) {
      const idx = Int32Array.from({ length: Math.min(batchSize, rows.length - start) }, (_, i) => start + i);
      const batch = padRows(rows, idx, padId);
      const inputs: ModelInputs = {
        inputIds: batch.inputIds,
        attentionMask: batch.attentionMask,
        ...(useTypes ? { tokenTypeIds: batch.tokenTypeIds } : {}),
        ...(headed ? { outputHiddenStates: true } : {}),
      };
      const out = model.forward(inputs) as ClassifierOutput & BaseModelOutput;
      const hidden = headed ? out.hiddenStates![out.hiddenStates!.length - 1] : out.lastHiddenState;
      const [, t, h] = hidden.shape;
      d = h;
      const flat = hidden.toArray();
      if (headed) probs.push(...softmax(out.logits, -1).toRows());
      idx.forEach((r, b) => {
        const row = rows[r];
        const at = (pos: number) => flat.slice((b * t + pos) * h, (b * t + pos + 1) * h);
        if (data.task === "ner") {
          for (const pos of (row as EncodedTokens).wordStarts) {
            // a word cut off by truncation has no token: its feature is the last kept token's
            vectors.push(at(pos >= 0 ? pos : row.ids.length - 1));
          }
        } else if (pooling === "cls") vectors.push(at(0));
        else {
          const v = new Array<number>(h).fill(0);
          const len = row.ids.length;
          for (let p = 0; p < len; p++) {
            const o = (b * t + p) * h;
            for (let j = 0; j < h; j++) v[j] += flat[o + j] / len;
          }
          vectors.push(v);
        }
      });
    }
  });
  const n = vectors.length;
  if (n !== data.y.length) throw new ArgumentError(`${dir}: ${n} feature rows for ${data.y.length} labels`);
  const x = new Float64Array(n * d);
  vectors.forEach((v, i) => x.set(v, i * d));
  const sourceLabels = headed ? Object.keys(id2label).map((k) => id2label[k]) : [];
  const theta = headed ? Float64Array.from(probs.flat()) : null;
  return { x, n, d, theta, z: sourceLabels.length, sourceLabels };
}
