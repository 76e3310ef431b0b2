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
/** Evaluation metrics matching scikit-learn, seqeval and sacrebleu: `metrics.f1(yTrue, yPred)`, `metrics.corpusBleu(hyps, [refs])`, `metrics.rocAuc(y, scores)`. */
export * as metrics from "./metrics/index.js";
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
  AutoConfig, AutoModel, AutoModelForSequenceClassification, AutoModelForTokenClassification, AutoModelForMaskedLM, AutoModelForCausalLM,
  PreTrainedModel, fromPretrained, fromPretrainedDir, savePretrained, loadPretrainedWeights, describeLoadingInfo, MODEL_CLASSES,
  BertModel, BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification,
  RobertaModel, RobertaForMaskedLM, RobertaForSequenceClassification, RobertaForTokenClassification,
  DistilBertModel, DistilBertForMaskedLM, DistilBertForSequenceClassification, DistilBertForTokenClassification,
  GPT2Model, GPT2LMHeadModel, GPT2ForSequenceClassification, GPT2ForTokenClassification,
  GraftLstmModel, GraftLstmForCausalLM, GraftLstmForSequenceClassification,
  generate, padBatch, predictLabels,
  type ModelOptions, type FromPretrainedOptions, type SavePretrainedOptions, type LoadingInfo, type ModelInputs, type BaseModelOutput,
  type ClassifierOutput, type LMOutput, type CausalLMOutput, type GenerateOptions, type GenerateOutput, type KVCache, type LstmState,
  type EncoderModel, type ClassificationModel, type MaskedLMModel, type CausalLMModel, type LabelPrediction,
} from "./models/index.js";
export {
  writeReport, compareRuns, reportCallback, readRun, writePredictions, readPredictions, REPORT_FILE, PREDICTIONS_FILE,
  type ReportOptions, type ReportResult, type RunData, type Predictions, type PredictionsMeta, type PredictionExample,
} from "./report/index.js";
/** word2vec: train, save, load and query word vectors, and start an nn.Embedding from them: `word2vec.trainWord2Vec(files, { dim: 100 })`. */
export * as word2vec from "./train/word2vec.js";
/** Hyperparameter tuning: studies, search spaces, samplers (TPE, random, grid, differential evolution), pruners (ASHA, median), PBT, cross-validation, local and BullMQ executors: `await tune.Study.create({ space })`. */
export * as tune from "./tune/index.js";
export {
  Module, Parameter, Linear, Embedding, LayerNorm, Dropout, MultiHeadSelfAttention, scaledDotProductAttention, attentionBias,
  FeedForward, TransformerBlock, LSTM, GRU, init, type LoadResult, type NamePattern, type TransformerBlockOptions, type RecurrentOutput,
} from "./nn/index.js";
export { Optimizer, SGD, Adam, AdamW, LRScheduler, clipGradNorm, constant, linearWarmupDecay, cosine, slantedTriangular, oneCycle, type ParamGroup, type Schedule } from "./optim/index.js";
export {
  Trainer, RunDir, DEFAULT_ARGS, resolveArgs, BestModelPolicy, applyFreeze, gradualUnfreeze, parameterGroups,
  injectLora, mergeLora, mergedStateDict, saveLoraAdapter, loadLoraAdapter, LoraLinear, maskTokens, maskWholeWords, BlockPacker,
  type TrainingArgs, type TrainerOptions, type TrainerCallback, type TrainSummary, type FreezeSpec, type LoraConfig,
} from "./train/index.js";
export {
  finetune, pretrain, evaluateFile, loadFinetuned, readTaskInfo, resolveFinetuneConfig, SIZE_PRESETS,
  type FinetuneConfig, type FinetuneResult, type PretrainConfig, type PretrainResult, type TaskInfo,
} from "./tasks/index.js";
export { trainTokenizer, type TrainTokenizerOptions } from "./tokenizers/index.js";
