/**
 * Active learning (pool-based: query strategies, a simulation on a labelled pool, a resumable annotation loop) and
 * self-training with pseudo-labels, on the frozen features of a checkpoint with a small trained head.
 */
export {
  STRATEGIES,
  leastConfidence,
  marginScore,
  entropy,
  baldScore,
  itemUncertainty,
  itemBald,
  kCenterGreedy,
  diverseBatch,
  selectBatch,
  needs,
  type Strategy,
  type Aggregate,
  type UnitProbs,
  type PoolView,
} from "./strategies.js";
export {
  HeadLearner,
  symmetricKl,
  unitAccuracy,
  itemFeatures,
  argmax,
  type Items,
  type ItemTarget,
  type HeadOptions,
  type Learner,
} from "./learner.js";
export { FinetuneLearner, type FinetuneLearnerOptions, type PoolInput } from "./finetune-learner.js";
export {
  readPoolAndTest,
  subsetData,
  itemTargets,
  remapLabels,
  itemInputs,
  type LabelledItems,
  type ReadPoolOptions,
} from "./pool.js";
export {
  simulate,
  mergeSimulations,
  runCurve,
  curvesChart,
  curvesTable,
  entityF1Score,
  type TestScore,
  type SimulateOptions,
  type SimulateResult,
  type CurvePoint,
  type SimulationTargets,
} from "./simulate.js";
export {
  selectPseudoLabels,
  selfTrain,
  type PseudoLabelRule,
  type PseudoLabel,
  type SelfTrainOptions,
  type SelfTrainResult,
  type SelfTrainRun,
  type SelfTrainSummary,
} from "./selftrain.js";
export {
  annotateRound,
  readLabelledBatch,
  readPool,
  STATE_FILE,
  type AnnotateOptions,
  type AnnotateResult,
  type AnnotateState,
} from "./annotate.js";
