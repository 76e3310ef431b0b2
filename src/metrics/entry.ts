/**
 * What a metric registry entry is: the kinds of its inputs, its options (with the `graft score` flags that set
 * them), its results, and the entry itself. The entries live in entries/ (one file per family); registry.ts
 * lists them and looks them up.
 */
import type { ScoreFormat } from "./format.js";
import type { BleuTokenizerName, SmoothMethod } from "./generation/index.js";
import type { Label } from "./classification/index.js";
import type { ItemId, Relevance } from "./ranking.js";
import type { Scheme } from "./sequence-labelling/index.js";

/** What one prediction or reference is (data/readers' prediction files convert to these kinds). */
export interface InputKinds {
  text: string;
  /** A value, or a row of values (a regression with several outputs). */
  number: number | number[];
  /** A score, or a row of class scores. */
  scores: number | number[];
  /** A class label, or a multilabel 0/1 row. */
  label: Label | number[];
  tags: string[];
  items: ItemId[];
  relevance: Relevance;
  /** Summed loss (nats) over a count of tokens (and characters). */
  losses: { loss: number; tokens: number; characters?: number };
}
export type InputKind = keyof InputKinds;

/** Options of the metrics (each entry lists those it reads); flags of `graft score` in METRIC_OPTIONS. */
export interface MetricOptions {
  tokenize?: BleuTokenizerName;
  lowercase?: boolean;
  smoothMethod?: SmoothMethod;
  smoothValue?: number;
  force?: boolean;
  chrfCharOrder?: number;
  chrfWordOrder?: number;
  chrfBeta?: number;
  chrfWhitespace?: boolean;
  chrfEpsSmoothing?: boolean;
  terCaseSensitive?: boolean;
  terNormalized?: boolean;
  terNoPunct?: boolean;
  terAsianSupport?: boolean;
  average?: string;
  posLabel?: Label;
  /** warn (0 with a warning), 0, 1 or nan. */
  zeroDivision?: string | number;
  beta?: number;
  k?: number;
  /** Class labels (order of rows/columns, class set); labels that read as numbers match numeric classes. */
  labels?: readonly Label[];
  multiClass?: "ovr" | "ovo";
  bins?: number;
  scheme?: Scheme;
  mode?: "default" | "strict";
  suffix?: boolean;
  lossField?: string;
  tokensField?: string;
  charsField?: string;
  /** Regression with several outputs: raw_values, uniform_average or variance_weighted (sklearn's multioutput). */
  multioutput?: "raw_values" | "uniform_average" | "variance_weighted";
  /** R² and explained variance: constant targets score 1 or 0 instead of NaN or -Infinity (sklearn's default). */
  forceFinite?: boolean;
  /** Decimals of text reports. */
  digits?: number;
}

export interface MetricOptionSpec {
  key: keyof MetricOptions;
  /** The `graft score` flag, with its value placeholder. */
  flag: string;
  type: "string" | "number" | "boolean" | "list";
  description: string;
  /** The flag's default (as the command line writes it). */
  default?: string;
}

/** Every metric option, in the order `graft score --help` lists them. */
export const METRIC_OPTIONS: readonly MetricOptionSpec[] = [
  {
    key: "tokenize",
    flag: "--tokenize <tok>",
    type: "string",
    description: "BLEU tokenizer: 13a, intl, char, none",
    default: "13a",
  },
  {
    key: "lowercase",
    flag: "--lowercase",
    type: "boolean",
    description: "BLEU/chrF: case-insensitive; exact-match: ignore case",
  },
  {
    key: "smoothMethod",
    flag: "--smooth-method <m>",
    type: "string",
    description: "BLEU smoothing: exp, floor, add-k, none",
    default: "exp",
  },
  {
    key: "smoothValue",
    flag: "--smooth-value <v>",
    type: "number",
    description: "BLEU smoothing value (floor: 0.1, add-k: 1)",
  },
  { key: "force", flag: "--force", type: "boolean", description: "BLEU: do not warn about tokenized-looking input" },
  {
    key: "chrfCharOrder",
    flag: "--chrf-char-order <n>",
    type: "number",
    description: "chrF character n-gram order",
    default: "6",
  },
  {
    key: "chrfWordOrder",
    flag: "--chrf-word-order <n>",
    type: "number",
    description: "chrF word n-gram order (2 = chrF++)",
    default: "0",
  },
  { key: "chrfBeta", flag: "--chrf-beta <n>", type: "number", description: "chrF recall weight", default: "2" },
  {
    key: "chrfWhitespace",
    flag: "--chrf-whitespace",
    type: "boolean",
    description: "chrF: keep whitespace in character n-grams",
  },
  {
    key: "chrfEpsSmoothing",
    flag: "--chrf-eps-smoothing",
    type: "boolean",
    description: "chrF: epsilon smoothing instead of effective order",
  },
  { key: "terCaseSensitive", flag: "--ter-case-sensitive", type: "boolean", description: "TER: do not lowercase" },
  { key: "terNormalized", flag: "--ter-normalized", type: "boolean", description: "TER: Tercom normalization" },
  { key: "terNoPunct", flag: "--ter-no-punct", type: "boolean", description: "TER: remove punctuation" },
  { key: "terAsianSupport", flag: "--ter-asian-support", type: "boolean", description: "TER: split CJK characters" },
  {
    key: "average",
    flag: "--average <avg>",
    type: "string",
    description: "binary, micro, macro, weighted, samples (classification; micro/macro/weighted for entities)",
  },
  { key: "posLabel", flag: "--pos-label <label>", type: "string", description: "positive class for binary scores" },
  {
    key: "zeroDivision",
    flag: "--zero-division <v>",
    type: "string",
    description: "value for 0/0: warn (0 with a warning), 0, 1, nan",
    default: "warn",
  },
  { key: "beta", flag: "--beta <b>", type: "number", description: "F-beta weight of recall" },
  { key: "k", flag: "--k <k>", type: "number", description: "cut-off for ranking metrics and top-k accuracy" },
  {
    key: "labels",
    flag: "--labels <list>",
    type: "list",
    description: "comma-separated labels (order of rows/columns, class set)",
  },
  {
    key: "multiClass",
    flag: "--multi-class <ovr|ovo>",
    type: "string",
    description: "multiclass ROC AUC strategy",
    default: "ovr",
  },
  { key: "bins", flag: "--bins <n>", type: "number", description: "calibration bins", default: "15" },
  {
    key: "scheme",
    flag: "--scheme <scheme>",
    type: "string",
    description: "entity scheme for strict mode: IOB1, IOB2, IOE1, IOE2, IOBES, BILOU",
  },
  {
    key: "mode",
    flag: "--mode <mode>",
    type: "string",
    description: "entity decoding: default (conlleval) or strict",
    default: "default",
  },
  { key: "suffix", flag: "--suffix", type: "boolean", description: "entity tags are TYPE-PREFIX" },
  {
    key: "lossField",
    flag: "--loss-field <name>",
    type: "string",
    description: "LM metrics: summed loss (nats) field",
    default: "loss",
  },
  {
    key: "tokensField",
    flag: "--tokens-field <name>",
    type: "string",
    description: "LM metrics: token count field",
    default: "tokens",
  },
  {
    key: "charsField",
    flag: "--chars-field <name>",
    type: "string",
    description: "LM metrics: character count field",
    default: "characters",
  },
  {
    key: "multioutput",
    flag: "--multioutput <m>",
    type: "string",
    description:
      "regression rows of several outputs: raw_values, uniform_average, variance_weighted (r2, explained-variance)",
    default: "uniform_average",
  },
  {
    key: "forceFinite",
    flag: "--no-force-finite",
    type: "boolean",
    description: "r2, explained-variance: NaN or -inf for a constant reference instead of 1 or 0",
    default: "true",
  },
];

/** One line of results: a score with its details, or (score NaN) a text table such as a report. */
export interface MetricResult {
  /** The score's label, e.g. "BLEU", "F1 (macro)", "ndcg@10". */
  metric: string;
  score: number;
  /** Secondary numbers in words ("P = 0.5 R = 0.4"). */
  details?: string;
  /** sacrebleu-style reproducibility signature. */
  signature?: string;
  /** A table printed as is (reports, confusion matrices). */
  text?: string;
  /** Structured data for JSON output. */
  extra?: Record<string, unknown>;
  /** Named component values (precision and recall beside an F1), for callers that want them as numbers. */
  values?: Record<string, number>;
}

/** Predictions and references of one system: references[k][i] is the k-th reference of item i. */
export interface MetricInput<P = unknown, R = unknown> {
  predictions: readonly P[];
  references: readonly (readonly R[])[];
}

/** Per-item statistics whose sums determine the score: what resampling needs. */
export interface ItemStats {
  stats: ArrayLike<number>[];
  score(summed: Float64Array): number;
}

export interface MetricEntry<P = unknown, R = unknown> {
  name: string;
  aliases: readonly string[];
  description: string;
  /** What a prediction is, and what a reference is (null: the metric reads predictions only). */
  prediction: InputKind;
  reference: InputKind | null;
  /** "one" reference per item, "many" (one or more reference streams), or "none". */
  references: "one" | "many" | "none";
  /** The options it reads. */
  options: readonly (keyof MetricOptions)[];
  /** Which way is better, for tuning and best-model selection; null for tables (reports, matrices). */
  direction: "higher" | "lower" | null;
  /** How the score reads: a fraction, points out of 100, an unbounded value, or a text table. */
  format: ScoreFormat;
  /**
   * How resampling applies: "stats" (bootstrap confidence intervals and paired tests over summed per-item
   * statistics, and sentence-level scores), or "none".
   */
  bootstrap: "stats" | "none";
  compute(input: MetricInput<P, R>, options: MetricOptions): MetricResult[];
  /** Present when bootstrap is "stats". */
  itemStats?(input: MetricInput<P, R>, options: MetricOptions): ItemStats;
  /** One score per item (sentence-level), when bootstrap is "stats". */
  sentences?(input: MetricInput<P, R>, options: MetricOptions): MetricResult[];
}

export function entry<P, R>(e: MetricEntry<P, R>): MetricEntry {
  return e as unknown as MetricEntry;
}

/** One result line. */
export const one = (metric: string, score: number, rest: Partial<MetricResult> = {}): MetricResult[] => [
  { metric, score, ...rest },
];

/** An option value, or its default. */
export const num = (x: number | undefined, fallback: number) => x ?? fallback;
