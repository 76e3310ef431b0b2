export { type Label, type Labels, type Indicator, type TargetType, uniqueLabels, typeOfTarget } from "./labels.js";
export {
  confusionMatrix,
  multilabelConfusionMatrix,
  type ConfusionMatrix,
  type ConfusionMatrixOptions,
  type MultilabelConfusionMatrixOptions,
} from "./confusion.js";
export {
  accuracy,
  balancedAccuracy,
  hammingLoss,
  matthewsCorrcoef,
  cohenKappa,
  topKAccuracy,
  type AccuracyOptions,
  type TopKOptions,
} from "./accuracy.js";
export {
  precisionRecallFscoreSupport,
  precision,
  recall,
  f1,
  fbeta,
  type Average,
  type ZeroDivision,
  type PrfOptions,
  type PerLabelPrf,
  type AveragedPrf,
} from "./prf.js";
export { classificationReport, type ClassificationReport, type ReportRow, type ReportOptions } from "./report.js";
export { rocCurve, precisionRecallCurve, auc, type RocCurve, type PrCurve, type CurveOptions } from "./curves.js";
export {
  rocAuc,
  averagePrecision,
  type RocAucOptions,
  type AveragePrecisionOptions,
  type ScoreAverage,
} from "./auc.js";
export {
  logLoss,
  brierScore,
  calibrationError,
  expectedCalibrationError,
  type LogLossOptions,
  type CalibrationOptions,
  type CalibrationResult,
} from "./probability.js";
