/**
 * graft's public API: one explicit export list. Nothing inside src/ imports this file, and it never exports cli/.
 */
export { GraftError, ShapeError, ArgumentError, DataError, FormatError } from "./util/errors.js";
export { Rng, type RngState } from "./util/rng.js";
export { writeFileAtomic, writeJsonAtomic } from "./util/atomic.js";
export { backend, setBackend, withBackend, jsBackend, type Backend } from "./backend/index.js";
export * from "./tensor/index.js";
/** Data reading and validation, splits, text preparation, TF-IDF and the classical baselines: `data.readExamples(...)`, `new data.TfidfVectorizer(...)`. */
export * as data from "./data/index.js";
export {
  loadSafetensors, saveSafetensors, serializeSafetensors, parseSafetensors, readSafetensorsHeader, SafetensorsFile,
  loadCheckpoint, saveCheckpoint, readConfig, writeConfig, parseConfig, makeConfig, withLabels, numLabels,
  resolveModelDir, downloadModel, hubFile,
  type SafeDType, type TensorInfo, type SaveOptions, type SaveCheckpointOptions, type ModelConfig, type ModelType, type ConfigOf,
  type BertConfig, type RobertaConfig, type DistilBertConfig, type Gpt2Config, type GraftLstmConfig, type HubOptions, type ResolveOptions,
} from "./io/index.js";
export {
  AutoTokenizer, loadTokenizer, Tokenizer, batchToTensors,
  type Encoding, type BatchEncoding, type EncodeOptions, type BatchOptions, type DecodeOptions, type SpecialRole,
} from "./tokenizers/index.js";
export {
  writeReport, compareRuns, reportCallback, readRun, writePredictions, readPredictions, REPORT_FILE, PREDICTIONS_FILE,
  type ReportOptions, type ReportResult, type RunData, type Predictions, type PredictionsMeta, type PredictionExample,
} from "./report/index.js";
