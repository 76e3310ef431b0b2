/**
 * Methods that compose whole fine-tuned models rather than train one: base-model selection by transferability
 * (LogME, LEEP, kNN and linear probes on frozen features), weight averaging (uniform and greedy model soups, SWA over
 * a run's last checkpoints), prediction ensembles across run directories, distillation of
 * a fine-tuned classifier into a smaller student, and active learning and self-training (active/).
 *
 * Layer: methods/ sits above tasks/ (beside serve/, below cli/). It reads model directories and runs fine-tuning
 * only through tasks/ (finetune(), loadFinetuned(), the Predictor, the kinds' readers and metrics) and models/,
 * so nothing below it needs to know it exists; cli/ is its only importer inside src/.
 */
export { symmetricEigen, gram, outerGram, choleskySolve, type SymmetricEigen } from "./linalg.js";
export {
  logme,
  leep,
  knnScore,
  linearProbeScore,
  kendallTau,
  foldsOf,
  type Features,
  type LogMEClass,
} from "./transferability.js";
export {
  readLabelledData,
  checkpointFeatures,
  type LabelledData,
  type CheckpointFeatures,
  type FeatureOptions,
  type Pooling,
  type SelectTask,
} from "./features.js";
export {
  selectModels,
  verifyRunDir,
  SELECT_SCORES,
  type SelectOptions,
  type SelectResult,
  type CandidateScore,
  type SelectScore,
} from "./select.js";
export {
  modelSoup,
  runModelDir,
  lastCheckpoints,
  WeightAverage,
  type SoupOptions,
  type SoupResult,
  type Ingredient,
} from "./soup.js";
export {
  ensembleEvaluate,
  meanProbabilities,
  majorityVote,
  type EnsembleOptions,
  type EnsembleResult,
  type EnsembleMethod,
  type ProbabilityTable,
} from "./ensemble.js";
export {
  distill,
  distillLoss,
  distillKl,
  everyOtherLayer,
  type DistillOptions,
  type DistillResult,
} from "./distill.js";
export {
  fitAnomaly,
  scoreAnomaly,
  fitAutoencoder,
  scoreAutoencoder,
  precisionAtK,
  ANOMALY_DETECTORS,
  ANOMALY_FILE,
  type AnomalyModel,
  type AnomalyInput,
  type AnomalyDetector,
  type AnomalyFitOptions,
  type AnomalyScoreOptions,
  type AnomalyScores,
  type FittedDetector,
} from "./anomaly.js";
export {
  Embedder,
  embedTexts,
  trainSentenceEncoder,
  multipleNegativesRankingLoss,
  poolHidden,
  labelPairs,
  readPairs,
  readSentenceConfig,
  SENTENCE_CONFIG,
  type SentenceConfig,
  type Embeddings,
  type EmbedTextsOptions,
  type SentenceTrainingOptions,
  type SentenceTrainingResult,
  type TextPair,
} from "./sentence.js";
export {
  clusterDocuments,
  clusterReport,
  tfidfVectors,
  type ClusterOptions,
  type ClusterResult,
  type ClusterSummary,
  type ClusterMethod,
} from "./cluster.js";
export { loadVectors, saveVectors, type VectorFile } from "./vector-files.js";
export {
  SearchIndex,
  searchIndexPredictor,
  searchTexts,
  type SearchIndexConfig,
  type SearchHit,
} from "../tasks/search-index.js";
export { datasetMetaFeatures, type MetaFeatureOptions } from "./metafeatures.js";
export * from "./active/index.js";
