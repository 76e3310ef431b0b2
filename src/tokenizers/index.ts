/** The tokenizers layer's public surface. */
export { AutoTokenizer, loadTokenizer } from "./auto.js";
export {
  Tokenizer,
  batchToTensors,
  cleanUpTokenization,
  type Encoding,
  type BatchEncoding,
  type EncodeOptions,
  type BatchOptions,
  type DecodeOptions,
  type Padding,
  type Truncation,
} from "./tokenizer.js";
export { SPECIAL_ROLES, type SpecialRole, type TokenizerSettings } from "./settings.js";
export { wordPieceTokenizerJson, byteLevelBpeTokenizerJson, readVocabTxt, readBpeFiles } from "./convert.js";
export { trainTokenizer, bertWords, byteLevelWords, bytesToUnicode, type TrainTokenizerOptions } from "./train.js";
export { sentinelIds, sentinelToken } from "./sentinels.js";
