/** The models layer's public surface: architectures with their heads, Auto classes, loading, saving, generation. */
import type { BaseConfig } from "../io/config.js";
import { PreTrainedModel as PreTrainedModelClassValue } from "./pretrained.js";
import type { ModelConfig } from "./registry.js";

/** The base class of every model; as a type, its config defaults to any built-in architecture's. */
export const PreTrainedModel = PreTrainedModelClassValue;
export type PreTrainedModel<C extends BaseConfig = ModelConfig> = PreTrainedModelClassValue<C>;
export {
  loadPretrainedWeights,
  readModelWeights,
  fromPretrained,
  fromPretrainedDir,
  savePretrained,
  describeLoadingInfo,
  configFor,
  type ModelOptions,
  type PreTrainedModelClass,
  type LoadingInfo,
  type LoadWeightsOptions,
  type FromPretrainedOptions,
  type SavePretrainedOptions,
  type SavesPretrained,
} from "./pretrained.js";
export {
  padBatch,
  type ModelInputs,
  type LayerOutputs,
  type BaseModelOutput,
  type ClassifierOutput,
  type LMOutput,
  type CausalLM,
  type CausalLMInputs,
  type CausalLMOutput,
} from "./interfaces.js";
export { sequenceClassificationLoss, tokenLoss, causalLmLoss, mseLoss, bceWithLogitsLoss } from "./losses.js";
export {
  type ArchitectureSpec,
  type Head,
  type DropoutFields,
  type ModelSize,
  defineArchitecture,
} from "./architecture.js";
export {
  registerArchitecture,
  architecture,
  architectureOf,
  modelTypes,
  makeConfig,
  parseConfig,
  readConfig,
  writeConfig,
  configToJson,
  maxSequenceLength,
  isHeadClass,
  configOfSize,
  sizedModelTypes,
  usesTokenTypes,
  dropoutOverrides,
  maskedLogitsAt,
  MODEL_CLASSES,
  modelClassFor,
  modelClassForArchitecture,
  type ModelConfig,
  type ModelType,
  type ConfigOf,
} from "./registry.js";
export {
  BERT,
  BERT_CONFIG,
  BertModel,
  BertForMaskedLM,
  BertForSequenceClassification,
  BertForTokenClassification,
  type BertConfig,
} from "./bert.js";
export {
  ROBERTA,
  ROBERTA_CONFIG,
  RobertaModel,
  RobertaForMaskedLM,
  RobertaForSequenceClassification,
  RobertaForTokenClassification,
  createPositionIdsFromInputIds,
  type RobertaConfig,
} from "./roberta.js";
export {
  ELECTRA,
  ELECTRA_CONFIG,
  ElectraModel,
  ElectraForPreTraining,
  ElectraForMaskedLM,
  ElectraForSequenceClassification,
  ElectraForTokenClassification,
  activePositions,
  replacedTokenLoss,
  type ElectraConfig,
  type ReplacedTokenOutput,
} from "./electra.js";
export {
  DISTILBERT,
  DISTILBERT_CONFIG,
  DistilBertModel,
  DistilBertForMaskedLM,
  DistilBertForSequenceClassification,
  DistilBertForTokenClassification,
  type DistilBertConfig,
} from "./distilbert.js";
export {
  GPT2,
  GPT2_CONFIG,
  GPT2Model,
  GPT2LMHeadModel,
  GPT2ForSequenceClassification,
  GPT2ForTokenClassification,
  Conv1D,
  type KVCache,
  type LayerKV,
  type Gpt2Config,
} from "./gpt2.js";
export {
  BART,
  BART_CONFIG,
  BartModel,
  BartForConditionalGeneration,
  BartForSequenceClassification,
  BartAttention,
  BartEncoder,
  BartDecoder,
  type BartConfig,
  type BartCache,
  type BartLayerCache,
} from "./bart.js";
export {
  LLAMA,
  LLAMA_CONFIG,
  QWEN2,
  QWEN2_CONFIG,
  LlamaModel,
  LlamaForCausalLM,
  LlamaForSequenceClassification,
  Qwen2Model,
  Qwen2ForCausalLM,
  Qwen2ForSequenceClassification,
  LlamaRMSNorm,
  ropeInverseFrequencies,
  type LlamaCache,
  type LlamaLayerKV,
  type LlamaConfig,
  type Qwen2Config,
  type RopeParameters,
} from "./llama.js";
export {
  GRAFT_LSTM,
  GRAFT_LSTM_CONFIG,
  GraftLstmModel,
  GraftLstmForCausalLM,
  GraftLstmForSequenceClassification,
  concatPool,
  type LstmState,
  type GraftLstmConfig,
} from "./lstm.js";
export {
  T5,
  T5_CONFIG,
  T5Model,
  T5ForConditionalGeneration,
  T5EncoderModel,
  T5Stack,
  T5Attention,
  T5LayerNorm,
  relativePositionBucket,
  reorderT5Cache,
  type T5Cache,
  type T5LayerCache,
  type T5Config,
} from "./t5.js";
export { predictLabels, scoreFunction, type LabelPrediction, type ScoreFunction } from "./predict.js";
export {
  generate,
  decodeSteps,
  generateStream,
  applyTemperature,
  applyTopK,
  applyTopP,
  applyMinP,
  applyRepetitionPenalty,
  applyNoRepeatNgram,
  GENERATION_CONFIG_NAME,
  parseGenerationConfig,
  readGenerationConfig,
  writeGenerationConfig,
  optionsFromGenerationConfig,
  generationConfigFromOptions,
  type GenerationConfig,
  type GenerateOptions,
  type GenerateOutput,
  type GenerativeModel,
  type Prompts,
  type StepEvent,
  type StreamOptions,
  type StreamChunk,
} from "./generation.js";
export { ContinuousBatcher, type ContinuousOptions, type ContinuousStats } from "./generation.js";
export {
  AutoConfig,
  AutoModel,
  AutoModelForSequenceClassification,
  AutoModelForTokenClassification,
  AutoModelForMaskedLM,
  AutoModelForCausalLM,
  AutoModelForSeq2SeqLM,
  type Task,
  type EncoderModel,
  type ClassificationModel,
  type MaskedLMModel,
  type CausalLMModel,
  type Seq2SeqLMModel,
} from "./auto.js";
export {
  shiftTokensRight,
  isSeq2SeqLM,
  type Seq2SeqLM,
  type Seq2SeqLMInputs,
  type Seq2SeqLMOutput,
  type EncoderOutput,
} from "./seq2seq.js";
export { quantizeModelDir, type QuantizeResult } from "./quantize.js";
export {
  QUANTIZATION_KEY,
  parseQuantizationConfig,
  loadQuantizedLayers,
  type QuantizationConfig,
} from "./quantized.js";
