/**
 * The fine-tuning run configuration: every knob of a run in one typed object, so a ULMFiT-style recipe is a few
 * lines of JSON/YAML. `graft finetune` builds it from flags and --config; the resolved object is saved in run.json.
 */
import { ArgumentError } from "../util/errors.js";
import type { BadRowPolicy } from "../data/index.js";
import type { TrainingArgs } from "../train/index.js";
import type { TaskKind } from "./labels.js";

export interface LoraSettings {
  r: number;
  alpha: number;
  dropout: number;
  /** Module names to adapt (PEFT's target_modules), e.g. ["query", "value"]. */
  targetModules: string[];
}

export interface FinetuneConfig {
  task: TaskKind;
  /** Pre-trained model directory or hub id. */
  model: string;
  /** Training file (CSV/TSV/JSONL/text, or CoNLL for NER). */
  data: string;
  validation?: string;
  test?: string;
  /** Held out of the training file when no validation file is given. */
  validationFraction: number;
  /** Held out of the training file when no test file is given (0: report on the validation set). */
  testFraction: number;
  textColumn?: string;
  textPairColumn?: string;
  labelColumn?: string;
  /** Separator of several labels in one field (multi-label). */
  labelSeparator: string;
  onBadRow: BadRowPolicy;
  /** Tokens per example, special tokens included. */
  maxLength: number;
  /** Run directory (default: runs/finetune-<time>). */
  output?: string;
  /** Training-loop settings (epochs, lr, batch size, schedule, ...). */
  training: Partial<TrainingArgs>;
  /** Freezing: the whole backbone (linear probing), the embeddings, the first N layers, or name patterns. */
  freeze: { backbone?: boolean; embeddings?: boolean; firstLayers?: number; patterns?: string[] };
  /** ULMFiT gradual unfreezing: train the head first, then one more layer group each epoch. */
  gradualUnfreezing: boolean;
  /** Layer-wise learning-rate decay factor (1 = off). */
  layerDecay: number;
  lora: LoraSettings | null;
  /** "auto" = n / (C · count_c); or one weight per class in label order. */
  classWeights: "auto" | number[] | null;
  /** "weighted" draws examples with probability ∝ 1/class frequency (with replacement). */
  sampler: "random" | "weighted";
  focalGamma: number;
  labelSmoothing: number;
  /** Binary tasks: pick the decision threshold maximizing F1 on the validation precision-recall curve. */
  tuneThreshold: boolean;
  /** Overrides the model's dropout (hidden, attention and classifier). */
  dropout: number | null;
  /** Remove duplicate texts from the training file. */
  dedupe: boolean;
}

export const FINETUNE_DEFAULTS: Omit<FinetuneConfig, "model" | "data"> = {
  task: "classification",
  validationFraction: 0.1,
  testFraction: 0,
  labelSeparator: "|",
  onBadRow: "fail",
  maxLength: 128,
  training: {},
  freeze: {},
  gradualUnfreezing: false,
  layerDecay: 1,
  lora: null,
  classWeights: null,
  sampler: "random",
  focalGamma: 0,
  labelSmoothing: 0,
  tuneThreshold: false,
  dropout: null,
  dedupe: false,
};

export const LORA_DEFAULTS: LoraSettings = { r: 8, alpha: 16, dropout: 0.1, targetModules: ["query", "value"] };

export function resolveFinetuneConfig(c: Partial<FinetuneConfig> & { model: string; data: string }): FinetuneConfig {
  const r: FinetuneConfig = {
    ...FINETUNE_DEFAULTS,
    ...Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)),
  } as FinetuneConfig;
  if (!["classification", "multilabel", "regression", "ner"].includes(r.task))
    throw new ArgumentError(`task must be classification, multilabel, regression or ner, got "${r.task}"`);
  if (!(r.validationFraction >= 0 && r.validationFraction < 1))
    throw new ArgumentError(`validationFraction must be in [0, 1), got ${r.validationFraction}`);
  if (!(r.testFraction >= 0 && r.testFraction < 1 && r.validationFraction + r.testFraction < 1))
    throw new ArgumentError(`testFraction must be in [0, 1) with validationFraction + testFraction < 1`);
  if (!Number.isInteger(r.maxLength) || r.maxLength < 8)
    throw new ArgumentError(`maxLength must be an integer >= 8, got ${r.maxLength}`);
  if (!(r.layerDecay > 0 && r.layerDecay <= 1))
    throw new ArgumentError(`layerDecay must be in (0, 1], got ${r.layerDecay}`);
  if (!(r.focalGamma >= 0)) throw new ArgumentError(`focalGamma must be >= 0, got ${r.focalGamma}`);
  if (!(r.labelSmoothing >= 0 && r.labelSmoothing < 1))
    throw new ArgumentError(`labelSmoothing must be in [0, 1), got ${r.labelSmoothing}`);
  if (r.dropout !== null && !(r.dropout >= 0 && r.dropout < 1))
    throw new ArgumentError(`dropout must be in [0, 1), got ${r.dropout}`);
  if (!["random", "weighted"].includes(r.sampler))
    throw new ArgumentError(`sampler must be random or weighted, got "${r.sampler}"`);
  if (r.lora) r.lora = { ...LORA_DEFAULTS, ...r.lora };
  if (r.lora && r.gradualUnfreezing)
    throw new ArgumentError("LoRA and gradual unfreezing cannot be combined: LoRA already freezes the base model");
  if (
    (r.task === "regression" || r.task === "ner") &&
    (r.classWeights || r.sampler === "weighted" || r.focalGamma > 0 || r.tuneThreshold)
  ) {
    throw new ArgumentError(
      `class weights, the weighted sampler, focal loss and threshold tuning apply to classification, not ${r.task}`,
    );
  }
  return r;
}
