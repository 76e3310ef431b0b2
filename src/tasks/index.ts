/** Application recipes built on the trainer: fine-tuning for classification, regression, multi-label and NER. */
export {
  finetune,
  readTaskInfo,
  bestF1Threshold,
  TASK_FILE,
  type FinetuneResult,
  type FinetuneHooks,
  type TaskInfo,
} from "./finetune.js";
export {
  resolveFinetuneConfig,
  FINETUNE_DEFAULTS,
  LORA_DEFAULTS,
  type FinetuneConfig,
  type LoraSettings,
} from "./config.js";
export { discoverLabels, discoverTags, type LabelSpace, type TaskKind } from "./labels.js";
export { computeMetrics, predictRows, type Predictions } from "./evaluate.js";
export { balancedClassWeights, classificationLoss } from "./losses.js";
export { encodeTexts, encodeWords, padRows } from "./encode.js";
export { loadFinetuned, evaluateFile, type SavedModel } from "./saved.js";
export {
  pretrain,
  corpusFiles,
  BlockFile,
  SIZE_PRESETS,
  PRETRAIN_DEFAULTS,
  type PretrainConfig,
  type PretrainResult,
  type SizePreset,
} from "./pretrain.js";
export {
  finetuneObjective,
  registerFinetuneObjective,
  applyParams,
  type FinetuneObjectiveOptions,
} from "./tune-objective.js";
