/**
 * Recommendation on plain arrays: interaction and item-text readers, evaluation splits, the classic baselines
 * (most popular, ItemKNN, BPR-MF, implicit ALS), exact top-k and the one evaluation harness. A leaf helper: it
 * imports only util/ and metrics/. The two-tower model with a pre-trained text tower is in src/recommend/.
 */
export {
  readInteractions,
  readItemTexts,
  readNames,
  type Interactions,
  type InteractionReadOptions,
  type ItemTextOptions,
  type DuplicateRule,
} from "./data.js";
export {
  splitInteractions,
  coldStartSplit,
  coldUserSplit,
  userItems,
  transpose,
  itemsOf,
  type Split,
  type Protocol as SplitProtocol,
  type UserItems,
} from "./split.js";
export {
  MostPopular,
  ItemKnn,
  BprMf,
  ImplicitAls,
  choleskySolve,
  type Recommender,
  type Factors,
  type FitOptions,
  type ItemKnnOptions,
  type FactorOptions,
} from "./baselines.js";
export { topKRow, type TopK } from "./topk.js";
export {
  makeProtocol,
  recommendAll,
  evaluateRanking,
  type Protocol,
  type BlockScorer,
  type RankingResult,
} from "./evaluate.js";
