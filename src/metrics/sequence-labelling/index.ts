export { getEntities, splitTag, type Chunk } from "./chunks.js";
export { strictEntities, SCHEMES, type Scheme } from "./schemes.js";
export {
  entityCounts,
  entityPrecisionRecallF1,
  entityPrecision,
  entityRecall,
  entityF1,
  tokenAccuracy,
  entityReport,
  type Sentences,
  type EntityAverage,
  type EntityOptions,
  type EntityCounts,
  type EntityPrf,
  type EntityAveragedPrf,
  type EntityReport,
} from "./scores.js";
