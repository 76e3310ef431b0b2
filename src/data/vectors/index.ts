/** Vector algorithms on plain typed arrays: k-means, HDBSCAN, c-TF-IDF keywords, exact and HNSW search. */
export {
  matrixFromRows,
  checkMatrix,
  normalizeRows,
  row,
  type Matrix,
  type Values,
} from "./matrix.js";
export { kmeans, kmeansPlusPlus, kmeansPredict, type KMeansOptions, type KMeansResult } from "./kmeans.js";
export { hdbscan, coreDistances, type HdbscanOptions, type HdbscanResult } from "./hdbscan.js";
export { clusterKeywords, type CtfidfOptions, type ClusterKeywords } from "./ctfidf.js";
export { ExactIndex, TopK, nearDuplicates, SEARCH_METRICS, type SearchMetric, type Hit } from "./search.js";
export { HnswIndex, type HnswOptions, type HnswGraph } from "./hnsw.js";
