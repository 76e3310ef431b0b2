/** The tune layer's public surface: studies, spaces, samplers, pruners, PBT, cross-validation, executors, outputs. */
export { Study, STUDY_FILE, type StudyOptions, type OptimizeOptions } from "./study.js";
export { SearchSpace, applyParams, type SpaceSpec, type ParamSpec, type ParamDef, type Condition } from "./space.js";
export {
  isFinished,
  lossSign,
  type Direction,
  type Params,
  type ParamValue,
  type Trial,
  type TrialState,
  type TrialOutcome,
  type IntermediateValue,
} from "./types.js";
export {
  TrialPruned,
  runObjective,
  type Objective,
  type ObjectiveValue,
  type TrialContext,
  type TrialSpec,
  type PbtSegment,
} from "./context.js";
export {
  createSampler,
  SAMPLERS,
  RandomSampler,
  GridSampler,
  DESampler,
  TPESampler,
  trialRng,
  type Sampler,
  type SamplerConfig,
  type SamplerContext,
  type Suggestion,
  type GridOptions,
  type DEOptions,
  type DEStrategy,
  type BoundsHandling,
  type TPEOptions,
  type TPEPrior,
  type WeightedParams,
} from "./samplers/index.js";
export {
  metaSimilarity,
  mapParams,
  planWarmStart,
  readSourceStudy,
  type MetaFeatures,
  type SourceStudy,
  type WarmStart,
  type WarmStartOptions,
} from "./warm.js";
export {
  createPruner,
  PRUNERS,
  AshaPruner,
  MedianPruner,
  PercentilePruner,
  NopPruner,
  percentile,
  type Pruner,
  type PrunerConfig,
  type AshaOptions,
  type PercentileOptions,
} from "./pruners.js";
export { PbtScheduler, pbtLineage, memberSchedule, replaySchedule, type PbtOptions, type LineageEntry } from "./pbt.js";
export {
  kFold,
  stratifiedKFold,
  crossValidate,
  meanStd,
  type Fold,
  type FoldObjective,
  type CrossValidationOptions,
} from "./cv.js";
export { dominates, nondominatedFronts, crowdingDistance, paretoFront, rankTrials } from "./pareto.js";
export {
  trainerObjective,
  trainingArgsFrom,
  pbtSegmentPlan,
  keepSegmentCheckpoint,
  type TrainerSetup,
  type TrainerObjectiveOptions,
} from "./objectives/trainer.js";
export {
  builtinObjective,
  builtinSpace,
  evaluateBuiltin,
  noisyQuadratic,
  BUILTIN_NAMES,
  type BuiltinOptions,
  type NoisyQuadraticOptions,
} from "./objectives/builtins.js";
export { loadObjective, BUILTINS_MODULE, type ObjectiveRef } from "./objectives/ref.js";
export { objectiveDirection, objectiveDirections, knownDirections } from "./objectives/metrics.js";
export {
  registerObjective,
  resolveObjective,
  registeredObjectives,
  type ObjectiveProvider,
  type ResolvedObjective,
} from "./objectives/registry.js";
export { InlineExecutor } from "./executors/inline.js";
export { PoolExecutor, threadBudget, type PoolOptions } from "./executors/pool.js";
export { RedisExecutor, DEFAULT_QUEUE, type RedisExecutorOptions } from "./executors/redis.js";
export { startRedisWorker, type RedisWorkerOptions, type RunningWorker } from "./executors/redis-worker.js";
export { isExecutor, type Executor, type TrialHooks } from "./executors/executor.js";
export {
  leaderboard,
  formatLeaderboard,
  parameterImportance,
  plotData,
  writeStudyOutputs,
  exportBest,
  exportedTrial,
  trialConfig,
  type LeaderboardRow,
  type WrittenOutputs,
} from "./outputs.js";
export { readConfigFile, resolveTuneConfig, DEFAULT_TUNE, type TuneConfig } from "./config.js";
export { runTune, type TuneRunOptions, type TuneRunResult } from "./run.js";
