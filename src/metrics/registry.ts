/**
 * The metric registry: one entry per metric, read by `graft score`, task evaluation and tuning objectives.
 * An entry says what it scores (the kind of a prediction and of a reference, how many references), which options
 * it takes, how it computes, whether resampling (confidence intervals, paired tests) applies, which direction is
 * better and how its score reads. Adding a metric is adding one entry to METRICS.
 */
import { ArgumentError } from "../util/errors.js";
import { didYouMean } from "../util/suggest.js";
import { pyFixed, type ScoreFormat } from "./format.js";
import {
  accuracy,
  averagePrecision,
  balancedAccuracy,
  brierScore,
  classificationReport,
  cohenKappa,
  confusionMatrix,
  expectedCalibrationError,
  f1,
  fbeta,
  hammingLoss,
  logLoss,
  matthewsCorrcoef,
  precision,
  recall,
  rocAuc,
  topKAccuracy,
  type Average,
  type Label,
  type Labels,
  type PrfOptions,
  type ScoreAverage,
  type ZeroDivision,
} from "./classification/index.js";
import {
  BLEU,
  CHRF,
  TER,
  exactMatch,
  rouge,
  type BleuTokenizerName,
  type CorpusScore,
  type SmoothMethod,
} from "./generation/index.js";
import { LossAccumulator } from "./language-model.js";
import {
  hitRateAtK,
  meanAveragePrecision,
  meanReciprocalRank,
  ndcgAtK,
  precisionAtK,
  recallAtK,
  type ItemId,
  type RankingOptions,
  type Relevance,
} from "./ranking.js";
import { meanAbsoluteError, meanSquaredError, pearson, r2Score, rootMeanSquaredError, spearman } from "./regression.js";
import {
  entityPrecisionRecallF1,
  entityReport,
  tokenAccuracy,
  type EntityAverage,
  type Scheme,
} from "./sequence-labelling/index.js";

/** What one prediction or reference is (data/readers' prediction files convert to these kinds). */
export interface InputKinds {
  text: string;
  number: number;
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

function entry<P, R>(e: MetricEntry<P, R>): MetricEntry {
  return e as unknown as MetricEntry;
}

const num = (x: number | undefined, fallback: number) => x ?? fallback;

// ---- generation: sacrebleu's BLEU, chrF, TER; ROUGE; exact match ----

type CorpusKind = "bleu" | "chrf" | "chrf++" | "ter";

function corpusMetric(o: MetricOptions, kind: CorpusKind) {
  if (kind === "bleu")
    return new BLEU({
      tokenize: o.tokenize,
      lowercase: o.lowercase,
      smoothMethod: o.smoothMethod,
      smoothValue: o.smoothValue,
      force: o.force,
    });
  if (kind === "ter")
    return new TER({
      caseSensitive: o.terCaseSensitive,
      normalized: o.terNormalized,
      noPunct: o.terNoPunct,
      asianSupport: o.terAsianSupport,
    });
  return new CHRF({
    charOrder: o.chrfCharOrder,
    wordOrder: kind === "chrf++" ? 2 : o.chrfWordOrder,
    beta: o.chrfBeta,
    lowercase: o.lowercase,
    whitespace: o.chrfWhitespace,
    epsSmoothing: o.chrfEpsSmoothing,
  });
}

const CORPUS_OPTIONS: Record<CorpusKind, (keyof MetricOptions)[]> = {
  bleu: ["tokenize", "lowercase", "smoothMethod", "smoothValue", "force"],
  chrf: ["chrfCharOrder", "chrfWordOrder", "chrfBeta", "lowercase", "chrfWhitespace", "chrfEpsSmoothing"],
  "chrf++": ["chrfCharOrder", "chrfBeta", "lowercase", "chrfWhitespace", "chrfEpsSmoothing"],
  ter: ["terCaseSensitive", "terNormalized", "terNoPunct", "terAsianSupport"],
};

function corpusEntry(
  kind: CorpusKind,
  aliases: string[],
  description: string,
  direction: "higher" | "lower",
): MetricEntry {
  return entry<string, string>({
    name: kind,
    aliases,
    description,
    prediction: "text",
    reference: "text",
    references: "many",
    options: CORPUS_OPTIONS[kind],
    direction,
    format: "points",
    bootstrap: "stats",
    compute({ predictions, references }, o) {
      const metric = corpusMetric(o, kind);
      const s = metric.corpusScore(predictions, references) as CorpusScore & { format(w?: number): string };
      const signature = metric.signature();
      const details = s.format(2).replace(/^\S+ = \S+ ?/, "");
      return [{ metric: s.name, score: s.score, details: details || undefined, signature }];
    },
    itemStats({ predictions, references }, o) {
      const metric = corpusMetric(o, kind);
      return {
        stats: metric.segmentStats(predictions, references),
        score: (s) => metric.scoreFromStats(s).score,
      };
    },
    sentences({ predictions, references }, o) {
      return predictions.map((h, i) => {
        const s = corpusMetric(o, kind).corpusScore(
          [h],
          references.map((r) => [r[i]!]),
        );
        return { metric: `${s.name}[${i + 1}]`, score: s.score };
      });
    },
  });
}

// ---- classification: scikit-learn's definitions ----

/** Text labels that all read as numbers become numbers, so "1" is the positive class as in sklearn (copies). */
function unifyLabels<T>(...lists: readonly (readonly T[])[]): T[][] {
  const flat = lists.flat().filter((l) => !Array.isArray(l));
  const numeric =
    flat.length > 0 &&
    flat.every(
      (l) => typeof l === "number" || (typeof l === "string" && l.trim() !== "" && Number.isFinite(Number(l))),
    );
  return lists.map((list) => (numeric ? list.map((l) => (Array.isArray(l) ? l : (Number(l) as T))) : [...list]));
}

type LabelInput = MetricInput<Label | number[], Label | number[]>;

function labelsOf(input: LabelInput): { yTrue: Labels; yPred: Labels } {
  const [yTrue, yPred] = unifyLabels(input.references[0]!, input.predictions);
  return { yTrue: yTrue as Labels, yPred: yPred as Labels };
}

function zeroDivisionOf(v: string | number | undefined): ZeroDivision {
  const s = String(v ?? "warn");
  const zd = s === "warn" ? "warn" : s === "nan" ? NaN : Number(s);
  if (zd !== "warn" && zd !== 0 && zd !== 1 && !Number.isNaN(zd))
    throw new ArgumentError(`--zero-division must be warn, 0, 1 or nan, got "${s}"`);
  return zd as ZeroDivision;
}

/** Labels and the positive label given as text match numeric classes when the references are numbers. */
function labelOptions(o: MetricOptions, yTrue: readonly unknown[]) {
  const numeric = yTrue.every((l) => typeof l === "number");
  const conv = (s: Label): Label => (numeric && typeof s === "string" && Number.isFinite(Number(s)) ? Number(s) : s);
  return {
    labels: o.labels?.map(conv),
    posLabel: o.posLabel === undefined ? undefined : conv(o.posLabel),
    zeroDivision: zeroDivisionOf(o.zeroDivision),
    average: o.average as Average | undefined,
  };
}

function labelEntry(
  name: string,
  aliases: string[],
  description: string,
  direction: "higher" | "lower" | null,
  options: (keyof MetricOptions)[],
  compute: (yTrue: Labels, yPred: Labels, o: MetricOptions) => MetricResult[],
  format: ScoreFormat = "fraction",
): MetricEntry {
  return entry<Label | number[], Label | number[]>({
    name,
    aliases,
    description,
    prediction: "label",
    reference: "label",
    references: "one",
    options,
    direction,
    format: direction === null ? "table" : format,
    bootstrap: "none",
    compute(input, o) {
      const { yTrue, yPred } = labelsOf(input);
      return compute(yTrue, yPred, o);
    },
  });
}

const one = (metric: string, score: number, rest: Partial<MetricResult> = {}): MetricResult[] => [
  { metric, score, ...rest },
];

function prfEntry(which: "precision" | "recall" | "f1" | "fbeta", aliases: string[], description: string): MetricEntry {
  return labelEntry(
    which,
    aliases,
    description,
    "higher",
    ["average", "posLabel", "zeroDivision", "labels", ...(which === "fbeta" ? (["beta"] as const) : [])],
    (yTrue, yPred, opts) => {
      const o = labelOptions(opts, yTrue);
      const beta = which === "fbeta" ? num(opts.beta, 1) : which === "f1" ? 1 : undefined;
      // scikit-learn's default: binary (a multiclass or multilabel target then asks for an average).
      const average = o.average ?? "binary";
      const po: PrfOptions & { average: Average } = { ...o, average: average as Average };
      const v =
        which === "precision"
          ? precision(yTrue, yPred, po)
          : which === "recall"
            ? recall(yTrue, yPred, po)
            : which === "f1"
              ? f1(yTrue, yPred, po)
              : fbeta(yTrue, yPred, beta!, po);
      const name = which === "fbeta" ? `F${beta}` : which === "f1" ? "F1" : which[0]!.toUpperCase() + which.slice(1);
      return one(`${name} (${average})`, v);
    },
  );
}

type ScoreInput = MetricInput<number | number[], Label | number[]>;

function scoresOf(input: ScoreInput): { yTrue: Labels; yScore: number[] | number[][] } {
  const refs = input.references[0]!;
  if (refs.some((l) => Array.isArray(l))) return { yTrue: refs as Labels, yScore: input.predictions as number[][] };
  const [yTrue] = unifyLabels(refs);
  const raw = input.predictions;
  const rows = raw.some((r) => Array.isArray(r));
  return {
    yTrue: yTrue as Labels,
    yScore: rows ? raw.map((r) => (Array.isArray(r) ? r : [r])) : (raw as number[]),
  };
}

function scoreEntry(
  name: string,
  aliases: string[],
  description: string,
  direction: "higher" | "lower",
  options: (keyof MetricOptions)[],
  compute: (yTrue: Labels, yScore: number[] | number[][], o: MetricOptions) => MetricResult[],
): MetricEntry {
  return entry<number | number[], Label | number[]>({
    name,
    aliases,
    description,
    prediction: "scores",
    reference: "label",
    references: "one",
    options,
    direction,
    format: direction === "higher" ? "fraction" : "value",
    bootstrap: "none",
    compute(input, o) {
      const { yTrue, yScore } = scoresOf(input);
      return compute(yTrue, yScore, o);
    },
  });
}

function confusionTable(yTrue: Labels, yPred: Labels, o: MetricOptions): MetricResult[] {
  const cm = confusionMatrix(yTrue, yPred, { labels: labelOptions(o, yTrue).labels });
  const names = cm.labels.map(String),
    w = Math.max(6, ...names.map((n) => n.length), ...cm.matrix.flat().map((v) => String(v).length)) + 1;
  const text = [
    `${"true\\pred".padEnd(w)}${names.map((n) => n.padStart(w)).join("")}`,
    ...cm.matrix.map((row, i) => names[i]!.padEnd(w) + row.map((v) => String(v).padStart(w)).join("")),
  ].join("\n");
  return one("confusion matrix", NaN, { text, extra: { labels: cm.labels, matrix: cm.matrix } });
}

// ---- sequence labelling: seqeval's entity scores ----

function entityOptions(o: MetricOptions) {
  const zd = String(o.zeroDivision ?? "warn");
  if (zd !== "warn" && zd !== "0" && zd !== "1")
    throw new ArgumentError(`--zero-division for entity scores must be warn, 0 or 1, got "${zd}"`);
  const zeroDivision: "warn" | 0 | 1 = zd === "warn" ? "warn" : zd === "1" ? 1 : 0;
  return { mode: o.mode ?? "default", scheme: o.scheme, suffix: o.suffix, zeroDivision };
}

function tagEntry(
  name: string,
  aliases: string[],
  description: string,
  direction: "higher" | null,
  options: (keyof MetricOptions)[],
  compute: (yTrue: string[][], yPred: string[][], o: MetricOptions) => MetricResult[],
): MetricEntry {
  return entry<string[], string[]>({
    name,
    aliases,
    description,
    prediction: "tags",
    reference: "tags",
    references: "one",
    options,
    direction,
    format: direction === null ? "table" : "fraction",
    bootstrap: "none",
    compute: (input, o) => compute(input.references[0]! as string[][], input.predictions as string[][], o),
  });
}

// ---- regression, ranking, language models ----

function regressionEntry(
  name: string,
  label: string,
  fn: (yTrue: number[], yPred: number[]) => number,
  direction: "higher" | "lower",
  description: string,
): MetricEntry {
  return entry<number, number>({
    name,
    aliases: [],
    description,
    prediction: "number",
    reference: "number",
    references: "one",
    options: [],
    direction,
    format: "value",
    bootstrap: "none",
    compute: (input, _o) => one(label, fn(input.references[0]! as number[], input.predictions as number[])),
  });
}

function rankingEntry(
  name: string,
  aliases: string[],
  label: string,
  fn: (recs: ItemId[][], rel: Relevance[], o: RankingOptions) => number,
  description: string,
): MetricEntry {
  return entry<ItemId[], Relevance>({
    name,
    aliases,
    description,
    prediction: "items",
    reference: "relevance",
    references: "one",
    options: ["k"],
    direction: "higher",
    format: "fraction",
    bootstrap: "none",
    compute(input, o) {
      const score = fn(input.predictions as ItemId[][], input.references[0]! as Relevance[], { k: o.k });
      return one(o.k === undefined ? label : `${label}@${o.k}`, score);
    },
  });
}

function lmEntry(
  name: string,
  aliases: string[],
  what: "perplexity" | "bits per token" | "bits per character",
  description: string,
): MetricEntry {
  return entry<InputKinds["losses"], never>({
    name,
    aliases,
    description,
    prediction: "losses",
    reference: null,
    references: "none",
    options: what === "bits per character" ? ["lossField", "tokensField", "charsField"] : ["lossField", "tokensField"],
    direction: "lower",
    format: "value",
    bootstrap: "none",
    compute(input) {
      const acc = new LossAccumulator();
      for (const r of input.predictions) acc.add(r.loss, r.tokens, r.characters ?? 0);
      const score =
        what === "perplexity"
          ? acc.perplexity()
          : what === "bits per token"
            ? acc.bitsPerToken()
            : acc.bitsPerCharacter();
      return one(what, score, { details: `${acc.tokens} tokens, loss ${pyFixed(acc.lossSum, 4)} nats` });
    },
  });
}

/** Every metric, in the order `graft score` lists them. */
export const METRICS: readonly MetricEntry[] = [
  corpusEntry("bleu", [], "BLEU as sacrebleu computes it (corpus-level, one or more references)", "higher"),
  corpusEntry("chrf", [], "chrF, character n-gram F-score (sacrebleu)", "higher"),
  corpusEntry("chrf++", ["chrfpp", "chrf+"], "chrF++: chrF with word bigrams (sacrebleu)", "higher"),
  corpusEntry("ter", [], "translation edit rate (sacrebleu)", "lower"),
  entry<string, string>({
    name: "rouge",
    aliases: [],
    description: "ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum F-measures (rouge-score), best over the references",
    prediction: "text",
    reference: "text",
    references: "many",
    options: [],
    direction: "higher",
    format: "fraction",
    bootstrap: "none",
    compute(input) {
      const r = rouge(input.predictions, input.references, ["rouge1", "rouge2", "rougeL", "rougeLsum"]);
      return Object.entries(r).map(([k, v]) => ({
        metric: k,
        score: v.fmeasure,
        details: `P = ${pyFixed(v.precision, 4)} R = ${pyFixed(v.recall, 4)}`,
        values: { precision: v.precision, recall: v.recall, fmeasure: v.fmeasure },
      }));
    },
  }),
  entry<string, string>({
    name: "exact-match",
    aliases: ["em", "exact_match"],
    description: "fraction of predictions equal to one of their references (SQuAD normalization)",
    prediction: "text",
    reference: "text",
    references: "many",
    options: ["lowercase"],
    direction: "higher",
    format: "fraction",
    bootstrap: "none",
    compute: (input, o) =>
      one("exact match", exactMatch(input.predictions, input.references, { ignoreCase: o.lowercase })),
  }),
  labelEntry(
    "accuracy",
    ["acc", "subset-accuracy"],
    "fraction of exact predictions (subset accuracy for multilabel)",
    "higher",
    [],
    (t, p) => one("accuracy", accuracy(t, p)),
  ),
  labelEntry("balanced-accuracy", [], "mean per-class recall", "higher", [], (t, p) =>
    one("balanced accuracy", balancedAccuracy(t, p)),
  ),
  prfEntry("precision", [], "precision (binary by default; --average for multiclass or multilabel)"),
  prfEntry("recall", [], "recall (binary by default; --average for multiclass or multilabel)"),
  prfEntry("f1", [], "F1 (binary by default; --average for multiclass or multilabel)"),
  prfEntry("fbeta", [], "F-beta (recall weighted beta times precision)"),
  labelEntry("mcc", ["matthews"], "Matthews correlation coefficient", "higher", [], (t, p) =>
    one("MCC", matthewsCorrcoef(t, p)),
  ),
  labelEntry("kappa", ["cohen-kappa"], "Cohen's kappa", "higher", ["labels"], (t, p, o) =>
    one("Cohen's kappa", cohenKappa(t, p, { labels: labelOptions(o, t).labels })),
  ),
  labelEntry("hamming-loss", [], "fraction of wrong labels (per label cell for multilabel)", "lower", [], (t, p) =>
    one("Hamming loss", hammingLoss(t, p)),
  ),
  labelEntry(
    "confusion-matrix",
    [],
    "confusion matrix (rows: true class, columns: predicted)",
    null,
    ["labels"],
    confusionTable,
  ),
  labelEntry(
    "classification-report",
    ["report"],
    "scikit-learn's classification report",
    null,
    ["labels", "zeroDivision", "digits"],
    (yTrue, yPred, opts) => {
      const o = labelOptions(opts, yTrue);
      const r = classificationReport(yTrue, yPred, {
        labels: o.labels,
        zeroDivision: o.zeroDivision,
        digits: opts.digits,
      });
      return one("classification report", NaN, {
        text: r.text.replace(/\n$/, ""),
        extra: { classes: Object.fromEntries(r.classes), averages: Object.fromEntries(r.averages) },
      });
    },
  ),
  scoreEntry(
    "roc-auc",
    ["auc"],
    "area under the ROC curve (binary, multiclass ovr/ovo, multilabel)",
    "higher",
    ["average", "multiClass", "labels"],
    (yTrue, yScore, o) => {
      const multiclass = Array.isArray(yScore[0]) && (yScore[0] as number[]).length > 2 && !Array.isArray(yTrue[0]);
      const multiClass = o.multiClass ?? "ovr";
      const v = rocAuc(yTrue as never, yScore, {
        average: (o.average as ScoreAverage | undefined) ?? "macro",
        multiClass: multiclass ? multiClass : undefined,
        labels: multiclass ? labelOptions(o, yTrue).labels : undefined,
      });
      return one(multiclass ? `ROC AUC (${multiClass}, ${o.average ?? "macro"})` : "ROC AUC", v as number);
    },
  ),
  scoreEntry(
    "pr-auc",
    ["average-precision", "ap"],
    "average precision (area under the precision-recall curve)",
    "higher",
    ["average", "posLabel"],
    (yTrue, yScore, o) =>
      one(
        "average precision",
        averagePrecision(yTrue as never, yScore, {
          average: (o.average as ScoreAverage | undefined) ?? "macro",
          posLabel: labelOptions(o, yTrue).posLabel,
        }) as number,
      ),
  ),
  scoreEntry("log-loss", [], "cross-entropy of the predicted probabilities", "lower", ["labels"], (yTrue, yScore, o) =>
    one("log loss", logLoss(yTrue, yScore, { labels: labelOptions(o, yTrue).labels })),
  ),
  scoreEntry(
    "brier",
    [],
    "Brier score (mean squared error of the positive-class probability)",
    "lower",
    ["posLabel"],
    (yTrue, yScore, o) =>
      one("Brier score", brierScore(yTrue, yScore as number[], { posLabel: labelOptions(o, yTrue).posLabel })),
  ),
  scoreEntry(
    "ece",
    [],
    "expected calibration error",
    "lower",
    ["bins", "posLabel", "labels"],
    (yTrue, yScore, opts) => {
      const o = labelOptions(opts, yTrue);
      return one(
        "expected calibration error",
        expectedCalibrationError(yTrue, yScore, { nBins: opts.bins, posLabel: o.posLabel, labels: o.labels }),
      );
    },
  ),
  scoreEntry(
    "top-k-accuracy",
    ["top-k"],
    "fraction of items whose true class is among the k best scores",
    "higher",
    ["k", "labels"],
    (yTrue, yScore, o) => {
      const k = num(o.k, 2);
      return one(`top-${k} accuracy`, topKAccuracy(yTrue, yScore, { k, labels: labelOptions(o, yTrue).labels }));
    },
  ),
  tagEntry(
    "entity-f1",
    ["ner", "seqeval", "entity-precision", "entity-recall"],
    "entity-level F1 (seqeval; conlleval decoding or a strict scheme)",
    "higher",
    ["average", "zeroDivision", "mode", "scheme", "suffix"],
    (yTrue, yPred, opts) => {
      const o = entityOptions(opts);
      const average = (opts.average as EntityAverage | undefined) ?? "micro";
      const r = entityPrecisionRecallF1(yTrue, yPred, { ...o, average });
      return one(`entity F1 (${average}${o.mode === "strict" ? `, strict ${o.scheme}` : ""})`, r.fscore, {
        details: `P = ${pyFixed(r.precision, 4)} R = ${pyFixed(r.recall, 4)} support = ${r.support}`,
        values: { precision: r.precision, recall: r.recall, f1: r.fscore, support: r.support },
      });
    },
  ),
  tagEntry(
    "entity-report",
    [],
    "seqeval's classification report of entity types",
    null,
    ["zeroDivision", "mode", "scheme", "suffix", "digits"],
    (yTrue, yPred, opts) => {
      const r = entityReport(yTrue, yPred, { ...entityOptions(opts), digits: opts.digits });
      return one("entity report", NaN, {
        text: r.text.replace(/\n$/, ""),
        extra: { types: Object.fromEntries(r.rows), averages: Object.fromEntries(r.averages) },
      });
    },
  ),
  tagEntry("token-accuracy", [], "fraction of tags predicted exactly", "higher", [], (t, p) =>
    one("token accuracy", tokenAccuracy(t, p)),
  ),
  regressionEntry("mse", "MSE", meanSquaredError, "lower", "mean squared error"),
  regressionEntry("rmse", "RMSE", rootMeanSquaredError, "lower", "root mean squared error"),
  regressionEntry("mae", "MAE", meanAbsoluteError, "lower", "mean absolute error"),
  regressionEntry("r2", "R²", r2Score, "higher", "coefficient of determination"),
  regressionEntry("pearson", "Pearson r", pearson, "higher", "Pearson correlation"),
  regressionEntry("spearman", "Spearman ρ", spearman, "higher", "Spearman rank correlation"),
  rankingEntry("precision@k", ["p@k"], "precision", precisionAtK, "fraction of the top k that is relevant"),
  rankingEntry("recall@k", ["r@k"], "recall", recallAtK, "fraction of the relevant items in the top k"),
  rankingEntry(
    "hit-rate@k",
    ["hit-rate", "hitrate"],
    "hit rate",
    hitRateAtK,
    "fraction of lists with a relevant item in the top k",
  ),
  rankingEntry("mrr", [], "MRR", meanReciprocalRank, "mean reciprocal rank of the first relevant item"),
  rankingEntry("map", [], "MAP", meanAveragePrecision, "mean average precision"),
  rankingEntry("ndcg@k", ["ndcg"], "NDCG", ndcgAtK, "normalized discounted cumulative gain"),
  lmEntry("perplexity", ["ppl"], "perplexity", "exp of the mean loss per token"),
  lmEntry("bits-per-token", ["bpt"], "bits per token", "mean loss per token in bits"),
  lmEntry("bits-per-char", ["bpc"], "bits per character", "loss per character in bits"),
];

const BY_NAME = new Map<string, MetricEntry>();
for (const e of METRICS) for (const n of [e.name, ...e.aliases]) BY_NAME.set(n, e);

/** The entry of a name or alias (any case; "ndcg@10" names ndcg@k with k = 10), or undefined. */
export function findMetric(spec: string): { entry: MetricEntry; k?: number } | undefined {
  const lower = spec.toLowerCase();
  const key = lower.replace(/@\d+$/, "@k");
  const e = BY_NAME.get(key);
  if (!e) return undefined;
  const k = /@(\d+)$/.exec(lower)?.[1];
  return { entry: e, k: k === undefined ? undefined : Number(k) };
}

/** Like findMetric, but an unknown name is an error with a did-you-mean hint. */
export function resolveMetric(spec: string): { entry: MetricEntry; k?: number } {
  const found = findMetric(spec);
  if (found) return found;
  const names = [...BY_NAME.keys()];
  const guess = didYouMean(spec.toLowerCase().replace(/@\d+$/, "@k"), names);
  const known = `known metrics: ${METRICS.map((e) => e.name).join(", ")}`;
  throw new ArgumentError(`unknown metric "${spec}"`, guess ? `did you mean "${guess}"? ${known}` : known);
}

/**
 * Which way is better for a metric as runs and evaluations name it: "bleu", "eval_f1_macro", "test_roc_auc",
 * "token_accuracy", "loss"; undefined when no metric has that name.
 */
export function metricDirection(name: string): "maximize" | "minimize" | undefined {
  const bare = name.replace(/^(eval|test|validation|val)_/, "");
  if (bare === "loss" || /_loss$/.test(bare)) return "minimize";
  for (const candidate of [bare, bare.replace(/_(micro|macro|weighted|samples|binary)$/, "")]) {
    const found = findMetric(candidate) ?? findMetric(candidate.replace(/_/g, "-"));
    if (found?.entry.direction) return found.entry.direction === "higher" ? "maximize" : "minimize";
  }
  return undefined;
}
