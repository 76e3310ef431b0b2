/** The nn layer's public surface. */
export { Module, Parameter, toRegExp, type LoadResult, type NamePattern } from "./module.js";
export { Linear, Embedding, LayerNorm, Dropout, activate, checkpointed, dropoutSeed } from "./layers.js";
export {
  MultiHeadSelfAttention,
  scaledDotProductAttention,
  attentionBias,
  splitHeads,
  mergeHeads,
  MASK_VALUE,
  type AttentionOptions,
  useFusedAttention,
  type AttentionImpl,
  type AttentionSizes,
} from "./attention.js";
export {
  FeedForward,
  TransformerBlock,
  activation,
  fusedActivation,
  type HiddenAct,
  type TransformerBlockOptions,
} from "./transformer.js";
export { LSTM, GRU, type RecurrentOptions, type RecurrentInput, type RecurrentOutput } from "./recurrent.js";
export * as init from "./init.js";
export {
  QuantizedLinear,
  quantizeLinears,
  installQuantizedLinear,
  INT8_SCHEME,
  type QuantizeOptions,
} from "./quantized.js";
