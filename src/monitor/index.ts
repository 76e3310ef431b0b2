/**
 * src/monitor: drift monitoring of served predictions. DESIGN.md lists drift monitoring under serve/, but nothing
 * here needs a server, a model or a tensor: it works on plain arrays, JSON and an SQLite file and imports only util/
 * and report/. So it is a leaf helper (like report/), below serve/ and cli/: the server (GET /drift, /health), the
 * `graft monitor` command (which must run without a server) and, if wanted, the fine-tuning task (tasks/, to write
 * a reference) all use it, and it knows none of them.
 */
export { type KsMethod, type KsResult, kolmogorovSf, ksStatistic, ksTwoSample, smirnovSf } from "./ks.js";
export { type MmdOptions, type MmdResult, medianSigma, mmdTest } from "./mmd.js";
export {
  type Binned,
  chiSquare,
  chooseTest,
  DEFAULT_THRESHOLDS,
  driftTest,
  evidentlyBins,
  fillZeros,
  jensenShannon,
  jensenShannonDistance,
  type PsiOptions,
  psi,
  quantileBins,
  type TestName,
  type TestResult,
  wasserstein,
  wassersteinNormed,
  zTest,
} from "./stats.js";
export { chi2Sf, gammaQ, lgamma } from "./special.js";
export {
  DEFAULT_LOG_OPTIONS,
  normalizeOutput,
  readSampleLog,
  SampleLog,
  type SampleLogOptions,
  type ServedSample,
} from "./log.js";
export {
  buildReference,
  type DriftReference,
  modelClasses,
  readDriftReference,
  REFERENCE_FILE,
  type ReferenceOptions,
  type ReferenceSample,
  samplesFromPredictions,
  writeDriftReference,
} from "./reference.js";
export {
  DEFAULT_DRIFT_OPTIONS,
  type DriftOptions,
  type DriftReport,
  driftReport,
  driftStatus,
  type EmbeddingDrift,
  type FeatureDrift,
  type SampleSource,
} from "./drift.js";
export { driftHtml } from "./html.js";
