/**
 * Recommendation with a pre-trained text tower: item texts through the bundled encoder (text.ts), the two-tower
 * model (two-tower.ts), and the serving path: blocked top-k on the backend, saved recommenders and the
 * RecommendPredictor (serving.ts). The baselines, splits and the evaluation harness are in src/recsys/.
 */
export {
  encodeItemTexts,
  ItemEncoder,
  ITEM_ENCODER_MODES,
  ITEM_LORA_TARGETS,
  type ItemEncoderMode,
  type TextVectors,
  type EncodeOptions,
} from "./text.js";
export {
  TwoTower,
  type TwoTowerOptions,
  type TwoTowerInputs,
  type UserTowerExport,
  type ItemHeadExport,
} from "./two-tower.js";
export {
  readUserFeatures,
  alignUserFeatures,
  encodeUserRecord,
  type UserFeatures,
  type UserFeatureFile,
  type UserFeatureSchema,
  type UserFeatureColumn,
  type UserFeatureReadOptions,
  type EncodedUser,
} from "./user-features.js";
export {
  factorScorer,
  topKAll,
  saveRecommender,
  RecommendPredictor,
  type SavedRecommenderInfo,
  type Recommendation,
  type RecommendRequest,
  type SavedItemHead,
} from "./serving.js";
export {
  MODEL_NAMES,
  loadRecommendData,
  makeModel,
  evaluateRecommenders,
  trainRecommender,
  type ModelName,
  type RecommendDataOptions,
  type RecommendData,
  type ModelSettings,
  type EvaluateOptions,
  type EvaluationReport,
  type ModelResult,
} from "./run.js";
export { renderRecommendReport } from "./report.js";
