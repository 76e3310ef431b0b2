/**
 * Evaluation metrics on plain arrays: classification (scikit-learn's definitions), sequence
 * labelling (seqeval/conlleval), generation (sacrebleu's BLEU/chrF/TER, rouge-score's ROUGE),
 * language modelling, ranking, regression, and bootstrap intervals / paired significance tests; the registry
 * (registry.ts) names every metric once for `graft score`, task evaluation and tuning.
 */
export * from "./classification/index.js";
export * from "./sequence-labelling/index.js";
export * from "./generation/index.js";
export { perplexity, bitsPerToken, bitsPerCharacter, LossAccumulator, type LossTotals } from "./language-model.js";
export {
  precisionAtK,
  recallAtK,
  hitRateAtK,
  meanReciprocalRank,
  meanAveragePrecision,
  ndcgAtK,
  ndcgScore,
  catalogueCoverage,
  type ItemId,
  type Relevance,
  type RankingOptions,
} from "./ranking.js";
export {
  meanSquaredError,
  rootMeanSquaredError,
  meanAbsoluteError,
  r2Score,
  explainedVarianceScore,
  pearson,
  spearman,
  type RegressionOptions,
  type ExplainedOptions,
  type Multioutput,
  type Targets,
} from "./regression.js";
export {
  bootstrapInterval,
  bootstrapStatsInterval,
  pairedBootstrapTest,
  approximateRandomizationTest,
  type ResampleOptions,
  type ConfidenceInterval,
  type PairedTestResult,
} from "./bootstrap.js";
export {
  adjustedRandScore,
  mutualInfoScore,
  normalizedMutualInfoScore,
  type NmiAverage,
} from "./clustering.js";
export { captureWarnings, type MetricWarningHandler } from "./warnings.js";
export { METRICS, findMetric, resolveMetric, metricDirection } from "./registry.js";
export {
  METRIC_OPTIONS,
  type MetricEntry,
  type MetricInput,
  type MetricOptions,
  type MetricOptionSpec,
  type MetricResult,
  type InputKind,
  type InputKinds,
  type ItemStats,
} from "./entry.js";
export {
  scoreSystems,
  computeMetric,
  computeMetrics,
  type MetricSpec,
  type PredictionsByKind,
  type ResampleSettings,
  type SystemResult,
} from "./scoring.js";
export { pyFixed, formatScore, formatInterval, type ScoreFormat } from "./format.js";
