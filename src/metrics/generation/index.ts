export { SACREBLEU_VERSION, type CorpusMetric, type CorpusScore } from "./corpus.js";
export { tokenize13a, tokenizeIntl, tokenizeChar, bleuTokenizer, type BleuTokenizerName } from "./tokenizers.js";
export {
  BLEU,
  corpusBleu,
  sentenceBleu,
  computeBleu,
  type BleuOptions,
  type BleuScore,
  type SmoothMethod,
} from "./bleu.js";
export { CHRF, corpusChrf, sentenceChrf, type ChrfOptions, type ChrfScore } from "./chrf.js";
export { TER, corpusTer, sentenceTer, type TerOptions, type TerScore } from "./ter.js";
export { tercomTokenize, type TercomOptions } from "./ter-tokenizer.js";
export { translationEditRate } from "./ter-lib.js";
export { rouge, rougeScore, rougeTokenize, type RougeType, type RougeTriple } from "./rouge.js";
export { exactMatch, squadNormalize, type ExactMatchOptions } from "./exact-match.js";
export { distinctN } from "./distinct.js";
