/**
 * Using a fine-tuned model directory (best/ of a run): scoring a labelled file with the task's metrics
 * (`graft eval`). The directory's graft_task.json says which task, labels, length limit and threshold it was
 * trained with; labels unknown to the model are an error naming the file and line.
 */
import { ArgumentError } from "../util/errors.js";
import { readExamples, readConll, type ExampleReadOptions } from "../data/index.js";
import {
  AutoModelForSequenceClassification,
  AutoModelForTokenClassification,
  type ClassificationModel,
} from "../models/index.js";
import { AutoTokenizer } from "../tokenizers/index.js";
import type { Module } from "../nn/index.js";
import type { Tensor } from "../tensor/index.js";
import { readTaskInfo, type TaskInfo } from "./finetune.js";
import { encodeLabel, encodeTags, type LabelSpace } from "./labels.js";
import { encodeTexts, encodeWords, type PaddedBatch } from "./encode.js";
import { classifierForward, computeMetrics, predictRows } from "./evaluate.js";

export interface SavedModel {
  model: ClassificationModel;
  info: TaskInfo;
  space: LabelSpace;
  forward: (m: Module, b: PaddedBatch) => Tensor;
  padId: number;
}

export async function loadFinetuned(
  dir: string,
): Promise<SavedModel & { tokenizer: Awaited<ReturnType<typeof AutoTokenizer.fromPretrained>> }> {
  const info = readTaskInfo(dir);
  if (!info)
    throw new ArgumentError(
      `${dir} is not a fine-tuned graft model (graft_task.json is missing)`,
      "use the best/ directory of a graft finetune run",
    );
  const model = (
    info.task === "ner" ? AutoModelForTokenClassification : AutoModelForSequenceClassification
  ).fromPretrainedDir(dir);
  const tokenizer = await AutoTokenizer.fromPretrained(dir);
  const forward = classifierForward(model.config.model_type);
  const padId = tokenizer.padTokenId ?? (model.config.pad_token_id as number | null) ?? 0;
  return { model, info, space: { kind: info.task, names: info.labels }, forward, padId, tokenizer };
}

/** Metrics of a fine-tuned model on a labelled file. */
export async function evaluateFile(
  dir: string,
  file: string,
  opts: { read?: ExampleReadOptions; batchSize?: number } = {},
): Promise<{ metrics: Record<string, number>; examples: number }> {
  const m = await loadFinetuned(dir);
  const batchSize = opts.batchSize ?? 32;
  if (m.info.task === "ner") {
    const { sentences } = await readConll(file, { onBadRow: opts.read?.onBadRow });
    const tags = sentences.map((s) => encodeTags(m.space, s, file));
    const rows = await encodeWords(
      m.tokenizer,
      sentences.map((s) => s.tokens),
      tags,
      m.info.maxLength,
    );
    return {
      metrics: computeMetrics(
        m.space,
        predictRows(m.model, m.forward, m.space, rows, tags, { batchSize, padId: m.padId }),
      ),
      examples: sentences.length,
    };
  }
  const { examples } = await readExamples(file, {
    ...(opts.read ?? {}),
    ...(m.info.task === "regression" ? { labelType: "float" as const } : {}),
  });
  const targets = examples.map((e) => encodeLabel(m.space, e, file, m.info.labelSeparator));
  const pairs = examples.some((e) => e.textPair !== undefined) ? examples.map((e) => e.textPair ?? "") : undefined;
  const rows = await encodeTexts(
    m.tokenizer,
    examples.map((e) => e.text),
    pairs,
    m.info.maxLength,
  );
  const preds = predictRows(m.model, m.forward, m.space, rows, targets, {
    batchSize,
    padId: m.padId,
    ...(m.info.threshold !== null ? { threshold: m.info.threshold } : {}),
  });
  return { metrics: computeMetrics(m.space, preds), examples: examples.length };
}
