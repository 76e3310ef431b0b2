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
  loadSafetensors,
  saveSafetensors,
  serializeSafetensors,
  parseSafetensors,
  readSafetensorsHeader,
  SafetensorsFile,
  loadCheckpoint,
  saveCheckpoint,
  withLabels,
  numLabels,
  defineConfig,
  field,
  checks,
  headsDivide,
  resolveModelDir,
  downloadModel,
  hubFile,
  type SafeDType,
  type TensorInfo,
  type SaveOptions,
  type SaveCheckpointOptions,
  type BaseConfig,
  type ConfigSchema,
  type ConfigOfSchema,
  type HubOptions,
  type ResolveOptions,
} from "./io/index.js";
export {
  AutoTokenizer,
  loadTokenizer,
  Tokenizer,
  batchToTensors,
  type Encoding,
  type BatchEncoding,
  type EncodeOptions,
  type BatchOptions,
  type DecodeOptions,
  type SpecialRole,
} from "./tokenizers/index.js";
export {
  AutoConfig,
  AutoModel,
  AutoModelForSequenceClassification,
  AutoModelForTokenClassification,
  AutoModelForMaskedLM,
  AutoModelForCausalLM,
  AutoModelForSeq2SeqLM,
  shiftTokensRight,
  PreTrainedModel,
  fromPretrained,
  fromPretrainedDir,
  savePretrained,
  loadPretrainedWeights,
  describeLoadingInfo,
  MODEL_CLASSES,
  readConfig,
  writeConfig,
  parseConfig,
  makeConfig,
  registerArchitecture,
  defineArchitecture,
  architecture,
  modelTypes,
  BertModel,
  BertForMaskedLM,
  BertForSequenceClassification,
  BertForTokenClassification,
  RobertaModel,
  RobertaForMaskedLM,
  RobertaForSequenceClassification,
  RobertaForTokenClassification,
  DistilBertModel,
  DistilBertForMaskedLM,
  DistilBertForSequenceClassification,
  DistilBertForTokenClassification,
  GPT2Model,
  GPT2LMHeadModel,
  GPT2ForSequenceClassification,
  GPT2ForTokenClassification,
  GraftLstmModel,
  GraftLstmForCausalLM,
  GraftLstmForSequenceClassification,
  generate,
  generateStream,
  readGenerationConfig,
  writeGenerationConfig,
  type GenerationConfig,
  type StreamChunk,
  padBatch,
  predictLabels,
  type ModelOptions,
  type FromPretrainedOptions,
  type SavePretrainedOptions,
  type LoadingInfo,
  type ModelConfig,
  type ModelType,
  type ConfigOf,
  type BertConfig,
  type RobertaConfig,
  type DistilBertConfig,
  type Gpt2Config,
  type GraftLstmConfig,
  type ArchitectureSpec,
  type Head,
  type ModelInputs,
  type LayerOutputs,
  type BaseModelOutput,
  type ClassifierOutput,
  type LMOutput,
  type CausalLMOutput,
  type GenerateOptions,
  type GenerateOutput,
  type KVCache,
  type LstmState,
  type EncoderModel,
  type ClassificationModel,
  type MaskedLMModel,
  type CausalLMModel,
  type LabelPrediction,
} from "./models/index.js";
export {
  T5Model,
  T5ForConditionalGeneration,
  T5EncoderModel,
  type T5Config,
  type T5Cache,
} from "./models/index.js";
export {
  BartModel,
  BartForConditionalGeneration,
  BartForSequenceClassification,
  type BartConfig,
  type BartCache,
} from "./models/index.js";
export {
  LlamaModel,
  LlamaForCausalLM,
  LlamaForSequenceClassification,
  Qwen2Model,
  Qwen2ForCausalLM,
  Qwen2ForSequenceClassification,
  type LlamaConfig,
  type Qwen2Config,
  type RopeParameters,
} from "./models/index.js";
export {
  writeReport,
  compareRuns,
  reportCallback,
  readRun,
  writePredictions,
  readPredictions,
  REPORT_FILE,
  PREDICTIONS_FILE,
  type ReportOptions,
  type ReportResult,
  type RunData,
  type EvalPredictions,
  type PredictionsMeta,
  type PredictionExample,
} from "./report/index.js";
/** word2vec: train, save, load and query word vectors, and start an nn.Embedding from them: `word2vec.trainWord2Vec(files, { dim: 100 })`. */
export * as word2vec from "./train/word2vec.js";
/** Drift monitoring of served predictions: the sample log, `driftStatus(reference, log)`, PSI, KS, Jensen–Shannon, MMD: `monitor.ksTwoSample(a, b)`. */
export * as monitor from "./monitor/index.js";
/** Hyperparameter tuning: studies, search spaces, samplers (TPE, random, grid, differential evolution), pruners (ASHA, median), PBT, cross-validation, local and BullMQ executors: `await tune.Study.create({ space })`. */
export * as tune from "./tune/index.js";
/** Methods over fine-tuned models: base-model selection (LogME, LEEP, kNN and linear probes), model soups and SWA, ensembles: `await methods.selectModels({ models, data })`. */
export * as methods from "./methods/index.js";
/** Recommendation on plain arrays: readers, splits, popularity / ItemKNN / BPR / ALS, top-k, the evaluation harness. */
export * as recsys from "./recsys/index.js";
/** The two-tower recommender with a pre-trained text tower, blocked top-k serving and the RecommendPredictor. */
export * as recommend from "./recommend/index.js";
/** Vector algorithms on plain arrays: k-means, HDBSCAN, c-TF-IDF keywords, exact and HNSW search: `vectors.kmeans(x, { k: 4 })`. */
export * as vectors from "./data/vectors/index.js";
export {
  Module,
  Parameter,
  Linear,
  Embedding,
  LayerNorm,
  Dropout,
  MultiHeadSelfAttention,
  scaledDotProductAttention,
  useFusedAttention,
  checkpointed,
  attentionBias,
  FeedForward,
  TransformerBlock,
  LSTM,
  GRU,
  init,
  type LoadResult,
  type NamePattern,
  type TransformerBlockOptions,
  type RecurrentOutput,
} from "./nn/index.js";
/** Int8 inference: `quantizeModelDir(fp32Dir, outDir)` (what `graft quantize` runs), or swap a model's layers in place. */
export { QuantizedLinear, quantizeLinears, type QuantizeOptions } from "./nn/index.js";
export { quantizeModelDir, type QuantizeResult } from "./models/index.js";
export {
  Optimizer,
  SGD,
  Adam,
  AdamW,
  LRScheduler,
  clipGradNorm,
  constant,
  linearWarmupDecay,
  cosine,
  slantedTriangular,
  oneCycle,
  type ParamGroup,
  type Schedule,
} from "./optim/index.js";
export {
  Trainer,
  RunDir,
  DEFAULT_ARGS,
  resolveArgs,
  BestModelPolicy,
  applyFreeze,
  gradualUnfreeze,
  parameterGroups,
  injectLora,
  mergeLora,
  mergedStateDict,
  saveLoraAdapter,
  loadLoraAdapter,
  LoraLinear,
  maskTokens,
  maskWholeWords,
  BlockPacker,
  type TrainingArgs,
  type TrainerOptions,
  type TrainerCallback,
  type TrainSummary,
  type FreezeSpec,
  type LoraConfig,
  createReporters,
  EventFileWriter,
  MlflowReporter,
  REPORT_TARGETS,
  TensorBoardReporter,
  type Reporter,
} from "./train/index.js";
// data-parallel training on MPI (docs/distributed.md)
export { world, isMainRank, GradientReducer, type World, type ReducerStats } from "./train/index.js";
export {
  finetune,
  pretrain,
  evaluateFile,
  loadFinetuned,
  readTaskInfo,
  resolveFinetuneConfig,
  SIZE_PRESETS,
  loadPredictor,
  multitaskFinetune,
  loadMultitaskTask,
  taskProbabilities,
  type MultitaskConfig,
  type MultitaskResult,
  registerTaskKind,
  taskSpec,
  type FinetuneConfig,
  type FinetuneResult,
  type PretrainConfig,
  type PretrainResult,
  type TaskInfo,
  type TaskSpec,
  type Predictor,
  type PredictorInput,
  type TaskPrediction,
} from "./tasks/index.js";
export { trainTokenizer, type TrainTokenizerOptions } from "./tokenizers/index.js";
export { sentinelIds, sentinelToken } from "./tokenizers/index.js";
// chat templates (transformers' apply_chat_template) and assistant masks found by rendering
export {
  ChatTemplateError,
  checkConversation,
  loadChatTemplate,
  renderChat,
  renderWithAssistantSpans,
  tokenizeChat,
  type ChatMessage,
  type ChatTemplate,
  type RenderOptions,
  type TokenizedChat,
} from "./chat/index.js";
// option schemas: each command's settings declared once (types, defaults, checks, flags)
export {
  opt,
  resolveOptions,
  validateOptions,
  mergeOptions,
  optionDefaults,
  type Resolved,
  type Schema,
} from "./util/options.js";
export { TRAINING_SCHEMA } from "./train/args.js";
export {
  FINETUNE_SCHEMA,
  validateFinetuneOptions,
  type ResolvedFinetuneConfig,
  type FinetuneOptions,
} from "./tasks/config.js";
export { PRETRAIN_SCHEMA, resolvePretrainConfig, type ResolvedPretrainConfig } from "./tasks/pretrain.js";
// the inference server (graft serve) for embedding in an application
export { createServer, ServeError, type ServeOptions, type ModelInfo, type ModelSource } from "./serve/index.js";
// text to text (docs/text-to-text.md): T5's span corruption, and what the seq2seq task kind predicts and scores
export {
  randomSpansNoiseMask,
  computeInputAndTargetLengths,
  corruptSpans,
  uncorruptSpans,
  spanCorruptBatch,
  type SpanCorruptionOptions,
  type SpanCorruptionBatch,
} from "./data/index.js";
export { generationMetrics, type GeneratedPrediction, type Seq2SeqTarget } from "./tasks/kinds/seq2seq/index.js";
