/** The models layer's public surface: architectures with their heads, Auto classes, loading, saving, generation. */
export {
  PreTrainedModel,
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
  type BaseModelOutput,
  type ClassifierOutput,
  type LMOutput,
  type CausalLM,
  type CausalLMInputs,
  type CausalLMOutput,
} from "./interfaces.js";
export { sequenceClassificationLoss, tokenLoss, causalLmLoss, mseLoss, bceWithLogitsLoss } from "./losses.js";
export { BertModel, BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification } from "./bert.js";
export {
  RobertaModel,
  RobertaForMaskedLM,
  RobertaForSequenceClassification,
  RobertaForTokenClassification,
  createPositionIdsFromInputIds,
} from "./roberta.js";
export {
  DistilBertModel,
  DistilBertForMaskedLM,
  DistilBertForSequenceClassification,
  DistilBertForTokenClassification,
} from "./distilbert.js";
export {
  GPT2Model,
  GPT2LMHeadModel,
  GPT2ForSequenceClassification,
  GPT2ForTokenClassification,
  Conv1D,
  type KVCache,
  type LayerKV,
} from "./gpt2.js";
export {
  GraftLstmModel,
  GraftLstmForCausalLM,
  GraftLstmForSequenceClassification,
  concatPool,
  type LstmState,
} from "./lstm.js";
export { predictLabels, scoreFunction, type LabelPrediction, type ScoreFunction } from "./predict.js";
export {
  generate,
  applyTemperature,
  applyTopK,
  applyTopP,
  type GenerateOptions,
  type GenerateOutput,
} from "./generation.js";
export {
  AutoConfig,
  AutoModel,
  AutoModelForSequenceClassification,
  AutoModelForTokenClassification,
  AutoModelForMaskedLM,
  AutoModelForCausalLM,
  MODEL_CLASSES,
  modelClassFor,
  modelClassForArchitecture,
  type Task,
  type EncoderModel,
  type ClassificationModel,
  type MaskedLMModel,
  type CausalLMModel,
} from "./auto.js";
