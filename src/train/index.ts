/** The train layer's public surface. */
export {
  Trainer,
  TRAINER_STATE,
  type TrainerOptions,
  type TrainerCallback,
  type TrainSummary,
  type LogRecord,
} from "./trainer.js";
export {
  DEFAULT_ARGS,
  resolveArgs,
  greaterIsBetter,
  type TrainingArgs,
  type ScheduleName,
  type OptimizerName,
} from "./args.js";
export { BestModelPolicy, type PolicyState } from "./policy.js";
export {
  RunDir,
  readRunJson,
  openNewRun,
  dataSources,
  changedSources,
  checkResumeData,
  type DataSource,
} from "./run-dir.js";
export {
  applyFreeze,
  gradualUnfreeze,
  parameterGroups,
  countLayers,
  depthOf,
  type FreezeSpec,
  type GroupOptions,
} from "./adaptation.js";
export {
  LoraLinear,
  injectLora,
  mergeLora,
  baseStateDict,
  mergedStateDict,
  saveLoraAdapter,
  loadLoraAdapter,
  loadLoraWeights,
  readLoraConfig,
  type LoraConfig,
} from "./lora.js";
export {
  maskTokens,
  maskWholeWords,
  BlockPacker,
  IGNORE_INDEX,
  type MaskingOptions,
  type MaskedBatch,
} from "./objectives.js";
export {
  trainWord2Vec,
  buildWord2VecVocab,
  WordVectors,
  loadWordVectors,
  saveWordVectors,
  embeddingFromVectors,
  fillEmbedding,
  fileSource,
  memorySource,
  type Word2VecOptions,
  type Word2VecResult,
  type Word2VecStats,
  type Neighbor,
  type TextSource,
} from "./word2vec.js";
export {
  createReporters,
  EventFileWriter,
  MlflowReporter,
  REPORT_TARGETS,
  TensorBoardReporter,
  type Reporter,
  type ReporterContext,
} from "./reporters/index.js";
export {
  DISCRIMINATOR_WEIGHT,
  ElectraPretrainingModel,
  electraFromBert,
  electraStep,
  generatorConfig,
  replacedTokenLabels,
  sampleRows,
  type ElectraStep,
} from "./electra.js";
export { lengthGroupedOrder } from "./order.js";
export {
  world,
  isMainRank,
  loadMpi,
  mpiUnavailable,
  mpiAddonPath,
  launchedRanks,
  collectiveTimeout,
  hasMpirun,
  mpirunArgs,
  mpirunEnv,
  type MpirunOptions,
  type World,
  type MpiAddon,
} from "./distributed.js";
export {
  GradientReducer,
  BUCKET_BYTES,
  broadcastParameters,
  shardOf,
  rankSeed,
  type ReducerStats,
} from "./data-parallel.js";
