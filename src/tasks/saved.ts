/**
 * Using a fine-tuned model directory (best/ of a run): scoring a labelled file with the task's metrics
 * (`graft eval`). The directory's graft_task.json says which task kind, labels, length limit and threshold it was
 * trained with; labels unknown to the model are an error naming the file and line.
 */
import { ArgumentError } from "../util/errors.js";
import type { ExampleReadOptions } from "../data/index.js";
import type { ClassificationModel } from "../models/index.js";
import { AutoTokenizer, type Tokenizer } from "../tokenizers/index.js";
import { classifierForward, type ForwardFn } from "./evaluate.js";
import { taskSpec } from "./registry.js";
import { readTaskInfo, type TaskInfo } from "./task-info.js";
import type { TaskSpec } from "./spec.js";
import { isMultitaskDir, loadMultitaskTask } from "./multitask.js";

export interface SavedModel {
  model: ClassificationModel;
  info: TaskInfo;
  spec: TaskSpec;
  forward: ForwardFn;
  padId: number;
  tokenizer: Tokenizer;
}

/** A fine-tuned model directory with its task kind, tokenizer and graft_task.json. */
export async function loadFinetuned(
  dir: string,
  opts: { allowNonFinite?: boolean; task?: string } = {},
): Promise<SavedModel> {
  if (isMultitaskDir(dir)) {
    // a multi-task directory (graft multitask): one task's head over the shared encoder
    const { model, info, spec } = loadMultitaskTask(dir, opts.task, { allowNonFinite: opts.allowNonFinite });
    const tokenizer = await AutoTokenizer.fromPretrained(dir);
    const padId = tokenizer.padTokenId ?? (model.config.pad_token_id as number | null) ?? 0;
    return { model, info, spec, forward: classifierForward(model.config.model_type), padId, tokenizer };
  }
  if (opts.task !== undefined)
    throw new ArgumentError(`${dir} is not a multi-task model; a task name is only for graft multitask output`);
  const info = readTaskInfo(dir);
  if (!info)
    throw new ArgumentError(
      `${dir} is not a fine-tuned graft model (graft_task.json is missing)`,
      "use the best/ directory of a graft finetune run",
    );
  const spec = taskSpec(info.task);
  const model = spec.auto.fromPretrainedDir(dir, { allowNonFinite: opts.allowNonFinite });
  const tokenizer = await AutoTokenizer.fromPretrained(dir);
  const forward = classifierForward(model.config.model_type);
  const padId = tokenizer.padTokenId ?? (model.config.pad_token_id as number | null) ?? 0;
  return { model, info, spec, forward, padId, tokenizer };
}

/** Metrics of a fine-tuned model on a labelled file. */
export async function evaluateFile(
  dir: string,
  file: string,
  opts: { read?: ExampleReadOptions; batchSize?: number; allowNonFinite?: boolean; task?: string } = {},
): Promise<{ metrics: Record<string, number>; examples: number }> {
  const m = await loadFinetuned(dir, { allowNonFinite: opts.allowNonFinite, task: opts.task });
  const { spec, info } = m;
  const split = await spec.readLabelled(file, {
    tokenizer: m.tokenizer,
    labels: info.labels,
    maxLength: info.maxLength,
    labelSeparator: info.labelSeparator,
    read: opts.read,
    modelDir: dir,
    info,
  });
  const output = spec.predict(
    {
      model: m.model,
      forward: m.forward,
      batchSize: opts.batchSize ?? 32,
      padId: m.padId,
      labels: info.labels,
      settings: { weights: null, labelSmoothing: 0, focalGamma: 0, threshold: info.threshold },
      tokenizer: m.tokenizer,
      info,
    },
    split.rows,
    split.targets,
  );
  return { metrics: spec.metrics(output, info.labels), examples: split.rows.length };
}
