/** Anomaly detectors on dense rows: shrinkage covariance + Mahalanobis, kNN distance, isolation forest, calibration. */
export { ledoitWolf, mahalanobis, spdInverse, columnMeans, type ShrunkCovariance } from "./covariance.js";
export * from "./detectors.js";
