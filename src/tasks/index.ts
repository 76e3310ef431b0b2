/**
 * Application recipes built on the trainer: fine-tuning of every registered task kind (classification of texts
 * and text pairs, multi-label, regression, NER) through one run lifecycle, evaluation of saved models, the Predictor.
 */
export { finetune, resolveRun, type FinetuneResult, type FinetuneHooks } from "./finetune.js";
export { readTaskInfo, TASK_FILE, type TaskInfo } from "./task-info.js";
export { registerTaskKind, taskSpec, taskSpecFor, taskKindNames } from "./registry.js";
export type {
  TaskSpec,
  TaskData,
  Split,
  TaskSettings,
  PrepareContext,
  LabelledContext,
  PredictContext,
  DecodeContext,
  HeadBuilder,
  PredictorInput,
  TaskPrediction,
  ClassPrediction,
  MultiLabelPrediction,
  ValuePrediction,
  EntitiesPrediction,
  Entity,
} from "./spec.js";
export { inputText } from "./spec.js";
export { bestF1Threshold } from "./kinds/classification/index.js";
export {
  loadPredictor,
  MODEL_FORMATS,
  type Predictor,
  type PredictorOptions,
  type EmbedOptions,
} from "./predictor.js";
export { resolveFinetuneConfig } from "./resolve.js";
export {
  FINETUNE_DEFAULTS,
  LORA_DEFAULTS,
  type FinetuneConfig,
  type LoraSettings,
} from "./config.js";
export { splitMultiLabel, labelIndex, unseenLabel, type TaskKind } from "./labels.js";
export { classifierForward, forEachBatch, MeanLoss, type ForwardFn, type EvalBatch } from "./evaluate.js";
export { balancedClassWeights, classificationLoss } from "./losses.js";
export {
  encodeTexts,
  encodeWords,
  padRows,
  type EncodedRow,
  type EncodedTokens,
  type PaddedBatch,
} from "./encode.js";
export { loadFinetuned, evaluateFile, type SavedModel } from "./saved.js";
export {
  multitaskFinetune,
  loadMultitaskTask,
  readMultitaskManifest,
  multitaskTaskNames,
  isMultitaskDir,
  taskProbabilities,
  taskSchedule,
  MULTITASK_FILE,
  TASK_SAMPLINGS,
  type MultitaskConfig,
  type MultitaskTask,
  type MultitaskResult,
  type MultitaskTaskResult,
  type MultitaskManifest,
  type TaskSampling,
} from "./multitask.js";
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
