/**
 * data/: reading users' files (CSV/TSV, JSONL, plain text, CoNLL, parallel text) with validation, splits,
 * text preparation, TF-IDF features and the classical baselines. A leaf layer: plain and typed arrays, no tensors.
 */
export type { Example, TaggedSentence, ParallelPair, BadRow, BadRowPolicy, ReadReport } from "./types.js";
export { BadRowLog, summarizeBadRows } from "./badrows.js";
export { readLines, firstInvalidUtf8, type Line, type LineOptions } from "./readers/lines.js";
export {
  resolveDelimited,
  sniffDelimiter,
  readDelimited,
  type DelimitedOptions,
  type RawRecord,
} from "./readers/delimited.js";
export { TEXT_COLUMNS, LABEL_COLUMNS, parseLabel, type ColumnOptions, type LabelType } from "./readers/fields.js";
export {
  readExamples,
  streamExamples,
  detectFormat,
  DATA_FORMATS,
  type DataFormat,
  type ExampleReadOptions,
} from "./readers/examples.js";
export {
  readSchema,
  fileFormatSchema,
  COLUMN_SCHEMA,
  LABEL_TYPE_SCHEMA,
  badRowSchema,
  readOptionsFrom,
  type ReadFlags,
} from "./readers/schema.js";
export {
  corpusFiles,
  readCorpus,
  readCorpusFile,
  isJsonlCorpus,
  CORPUS_FILE,
  type CorpusLine,
  type CorpusReadOptions,
} from "./readers/corpus.js";
export { readConll, streamConll, type ConllOptions } from "./readers/conll.js";
export { readParallel, streamParallel, streamParallelColumns, type ParallelOptions } from "./readers/parallel.js";
export {
  readValueFile,
  parseValues,
  valueFormatOf,
  type ValueFile,
  type ValueFileOptions,
  type ValueFormat,
  type ValueKind,
  type ValueKinds,
  type LossFields,
  type LossRecord,
} from "./readers/predictions.js";
export {
  holdoutSplit,
  kFold,
  reproduceSplit,
  dedupe,
  dedupeKey,
  fingerprint,
  type Holdout,
  type Fold,
  type SplitRecord,
  type DedupeResult,
} from "./split.js";
export { loadSplits, type SplitSources, type LoadedSplits, type DataSummary, type DataFileSummary } from "./dataset.js";
export { inspectFile, percentiles, percentile, type InspectReport, type Percentiles } from "./inspect.js";
export { TextPreparer, MASKS, type PrepareOptions } from "./prep/prepare.js";
export {
  stopWords,
  stopWordLanguages,
  resolveStopWords,
  readStopWordFile,
  STOP_WORD_SOURCE,
} from "./prep/stopwords.js";
export { Lexicon, type LexiconKind, type LexiconState } from "./prep/lexicon.js";
export { stripAccentsUnicode, stripAccentsAscii, compareCodePoints } from "./prep/unicode.js";
export { CsrMatrix } from "./features/sparse.js";
export { TfidfVectorizer, TFIDF_DEFAULTS, type TfidfOptions, type TfidfState } from "./features/tfidf.js";
export { DEFAULT_TOKEN_PATTERN, type Analyzer, type StripAccents } from "./features/analyze.js";
export { lbfgs, type LbfgsOptions, type LbfgsResult } from "./classical/lbfgs.js";
export { LogisticRegression, type LogisticOptions } from "./classical/logistic.js";
export { MultinomialNB, type NaiveBayesOptions } from "./classical/naive_bayes.js";
export { LinearSVM, type LinearSvmOptions } from "./classical/linear_svm.js";
export {
  makeClassifier,
  classifierFromJSON,
  CLASSIFIER_KINDS,
  type Classifier,
  type ClassifierKind,
  type ClassifierOptions,
} from "./classical/model.js";
export {
  TextClassifier,
  BASELINE_FILE,
  exampleText,
  sortLabels,
  type BaselineConfig,
  type BaselineState,
  type Prediction,
} from "./classical/pipeline.js";
export {
  randomSpansNoiseMask,
  noiseSpanCounts,
  computeInputAndTargetLengths,
  corruptSpans,
  uncorruptSpans,
  spanCorruptBatch,
  roundHalfEven,
  type SpanCorruptionOptions,
  type SpanCorruptionBatch,
} from "./span-corruption.js";
export { GradientBoostedTrees, type GbdtOptions, type GbdtState } from "./classical/gbdt.js";
export * as tabular from "./tabular/index.js";
export * as anomaly from "./anomaly/index.js";
export {
  buildCorpus,
  checkCorpusSpec,
  sourcesTable,
  CORPUS_FORMATS,
  type CorpusFormat,
  type CorpusManifest,
  type CorpusSource,
  type CorpusSpec,
  type SourceManifest,
} from "./corpus-builder.js";
