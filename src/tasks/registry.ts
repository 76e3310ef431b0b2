/**
 * The task kinds graft fine-tunes, one line each. A new kind is a folder under tasks/kinds/ exporting a TaskSpec
 * (tasks/spec.ts) and one line here; code outside the library registers its own with `registerTaskKind`.
 */
import { ArgumentError } from "../util/errors.js";
import type { TaskSpec } from "./spec.js";
import { classification } from "./kinds/classification/index.js";
import { multilabel } from "./kinds/multilabel/index.js";
import { regression } from "./kinds/regression/index.js";
import { ner } from "./kinds/ner/index.js";
import { causalLm, sft } from "./kinds/sft/index.js";
import { seq2seq } from "./kinds/seq2seq/index.js";
import { tabular } from "./kinds/tabular/index.js";

/** A kind of any target and output types (each kind has its own). */
type AnyTaskSpec = TaskSpec<any, any>;

const TASK_KINDS: AnyTaskSpec[] = [
  classification, // one label per text or text pair
  multilabel,
  regression,
  ner, // token classification
  sft, // supervised fine-tuning of a causal LM: {text}, {prompt, completion} or {messages} JSONL
  causalLm, // the same kind as "causal-lm"
  seq2seq, // text to text with an encoder-decoder (translation, summarization)
  tabular, // records of a CSV (numbers, categories, texts) with a label column
];

/** Adds a task kind (replacing one of the same name). */
export function registerTaskKind(spec: AnyTaskSpec): void {
  const at = TASK_KINDS.findIndex((k) => k.name === spec.name);
  if (at >= 0) TASK_KINDS[at] = spec;
  else TASK_KINDS.push(spec);
}

/** Names of the registered kinds, in registration order. */
export function taskKindNames(): string[] {
  return TASK_KINDS.map((k) => k.name);
}

/** The kind named `name`, or an error listing the known ones. */
export function taskSpec(name: string): AnyTaskSpec {
  const spec = TASK_KINDS.find((k) => k.name === name);
  if (!spec) throw new ArgumentError(`unknown task "${name}"`, `graft knows the tasks ${taskKindNames().join(", ")}`);
  return spec;
}

/** The first kind that says a model directory without graft_task.json is its own (transformers checkpoints). */
export function taskSpecFor(...args: Parameters<AnyTaskSpec["recognizes"]>): AnyTaskSpec | null {
  return TASK_KINDS.find((k) => k.recognizes(...args)) ?? null;
}
