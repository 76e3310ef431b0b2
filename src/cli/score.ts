/**
 * `graft score <metric...>`: scores predictions against references read from files, like
 * sacrebleu's command line (`graft score bleu ter chrf --hyp hyp.txt --ref ref.txt --ref ref2.txt`)
 * but for every metric in metrics/. Files are plain text (one item per line) or JSONL with the
 * value in a field. Mismatched line counts, unparsable values and undefined scores are errors
 * or warnings that name the file and line; nothing is scored silently wrong.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { ArgumentError, DataError } from "../util/errors.js";
import * as M from "../metrics/index.js";
import { pyRstrip } from "../metrics/generation/text.js";
import { pyFixed } from "../metrics/format.js";

interface Flags {
  hyp: string[];
  ref: string[];
  format?: "text" | "jsonl";
  hypField: string;
  refField: string;
  json?: boolean;
  digits: string;
  sentenceLevel?: boolean;
  confidence?: string | boolean;
  pairedBs?: string | boolean;
  pairedAr?: string | boolean;
  seed: string;
  // generation
  tokenize: M.BleuTokenizerName;
  lowercase?: boolean;
  smoothMethod: M.SmoothMethod;
  smoothValue?: string;
  force?: boolean;
  chrfCharOrder: string;
  chrfWordOrder: string;
  chrfBeta: string;
  chrfWhitespace?: boolean;
  chrfEpsSmoothing?: boolean;
  terCaseSensitive?: boolean;
  terNormalized?: boolean;
  terNoPunct?: boolean;
  terAsianSupport?: boolean;
  // classification and friends
  average?: string;
  posLabel?: string;
  zeroDivision: string;
  beta?: string;
  k?: string;
  labels?: string;
  multiClass?: "ovr" | "ovo";
  bins: string;
  scheme?: M.Scheme;
  mode: "default" | "strict";
  suffix?: boolean;
  lossField: string;
  tokensField: string;
  charsField: string;
}

/** One line (or JSONL record) of an input file, with where it came from. */
interface Item {
  value: unknown;
  file: string;
  line: number;
}

function readItems(path: string, field: string, format: Flags["format"], keepRaw: boolean): Item[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ArgumentError(`cannot read ${path}: ${(e as Error).message}`);
  }
  const fmt = format ?? (/\.(jsonl|ndjson)$/i.test(path) ? "jsonl" : "text");
  const lines = text.split("\n");
  // A final newline ends the last line rather than starting an empty one (as Python reads files).
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  if (fmt === "text")
    return lines.map((l, i) => ({ value: keepRaw ? pyRstrip(l) : l.trim(), file: path, line: i + 1 }));
  const out: Item[] = [];
  lines.forEach((l, i) => {
    if (l.trim() === "") return;
    let rec: unknown;
    try {
      rec = JSON.parse(l);
    } catch (e) {
      throw new DataError(`not valid JSON (${(e as Error).message})`, { file: path, line: i + 1 });
    }
    let v: unknown = rec;
    for (const part of field.split(".")) {
      if (v === null || typeof v !== "object" || !(part in (v as Record<string, unknown>))) {
        throw new DataError(
          `no field "${field}" in this record`,
          { file: path, line: i + 1, field },
          "choose the field with --hyp-field / --ref-field",
        );
      }
      v = (v as Record<string, unknown>)[part];
    }
    out.push({ value: v, file: path, line: i + 1 });
  });
  return out;
}

const where = (it: Item) => ({ file: it.file, line: it.line });

function asText(it: Item): string {
  if (typeof it.value !== "string")
    throw new DataError(`expected a string, got ${JSON.stringify(it.value)}`, where(it));
  return it.value;
}

function asNumber(it: Item): number {
  const v = typeof it.value === "string" && it.value.trim() !== "" ? Number(it.value) : it.value;
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new DataError(`expected a finite number, got ${JSON.stringify(it.value)}`, where(it));
  return v;
}

/** A score, or a row of class scores: a JSON array or whitespace-separated numbers. */
function asScores(it: Item): number | number[] {
  let v = it.value;
  if (typeof v === "string") {
    const s = v.trim();
    if (s.startsWith("[")) {
      try {
        v = JSON.parse(s);
      } catch {
        throw new DataError(`not a JSON array of numbers: ${s}`, where(it));
      }
    } else {
      const parts = s.split(/\s+/).map((x) => (x === "" ? NaN : Number(x)));
      v = parts.length === 1 ? parts[0] : parts;
    }
  }
  const arr = Array.isArray(v) ? v : [v];
  if (arr.length === 0 || arr.some((x) => typeof x !== "number" || !Number.isFinite(x))) {
    throw new DataError(
      `expected finite scores, got ${JSON.stringify(it.value)}`,
      where(it),
      "NaN and infinite scores cannot be ranked; fix the model output",
    );
  }
  return Array.isArray(v) ? (arr as number[]) : (arr[0] as number);
}

/** A class label, or a multilabel 0/1 row (JSON array). */
function asLabel(it: Item): M.Label | number[] {
  const v = it.value;
  if (typeof v === "string") {
    const s = v.trim();
    if (s === "") throw new DataError("empty label", where(it));
    if (s.startsWith("[")) return asScores({ ...it, value: s }) as number[];
    return s;
  }
  if (typeof v === "number" || typeof v === "boolean") return v;
  if (Array.isArray(v)) return asScores(it) as number[];
  throw new DataError(`expected a label, got ${JSON.stringify(v)}`, where(it));
}

function asTags(it: Item): string[] {
  const v = it.value;
  if (typeof v === "string") return v.trim() === "" ? [] : v.trim().split(/\s+/);
  if (Array.isArray(v) && v.every((t) => typeof t === "string")) return v as string[];
  throw new DataError(
    `expected tags (space-separated, or a JSON array of strings), got ${JSON.stringify(v)}`,
    where(it),
  );
}

function asItems(it: Item, allowGrades: boolean): M.ItemId[] | Record<string, number> {
  let v = it.value;
  if (typeof v === "string") {
    const s = v.trim();
    if (s.startsWith("[") || s.startsWith("{")) {
      try {
        v = JSON.parse(s);
      } catch {
        throw new DataError(`not valid JSON: ${s}`, where(it));
      }
    } else v = s === "" ? [] : s.split(/\s+/);
  }
  if (Array.isArray(v) && v.every((x) => typeof x === "string" || typeof x === "number")) return v as M.ItemId[];
  if (allowGrades && v !== null && typeof v === "object" && !Array.isArray(v)) return v as Record<string, number>;
  throw new DataError(
    `expected a list of item ids${allowGrades ? " (or an object of relevance grades)" : ""}, got ${JSON.stringify(it.value)}`,
    where(it),
  );
}

/** Text labels that all read as numbers become numbers, so "1" is the positive class as in sklearn. */
function unifyLabels(...lists: (M.Label | number[])[][]): void {
  const flat = lists.flat().filter((l) => !Array.isArray(l));
  if (
    flat.length &&
    flat.every((l) => typeof l === "number" || (typeof l === "string" && l.trim() !== "" && Number.isFinite(Number(l))))
  ) {
    for (const list of lists) list.forEach((l, i) => !Array.isArray(l) && (list[i] = Number(l)));
  }
}

interface Row {
  metric: string;
  system?: string;
  score: number;
  details?: string;
  signature?: string;
  text?: string;
  extra?: Record<string, unknown>;
}

interface Inputs {
  hyps: Item[][];
  refs: Item[][];
  flags: Flags;
}

type Runner = (hyp: Item[], inputs: Inputs) => Row[];

/** Statistics-based metrics support confidence intervals and paired tests. */
interface StatsMetric {
  stats(hyp: Item[], inputs: Inputs): { stats: ArrayLike<number>[]; score: (s: Float64Array) => number };
}

function num(s: string | undefined, name: string, fallback?: number): number | undefined {
  if (s === undefined) return fallback;
  const v = Number(s);
  if (!Number.isFinite(v)) throw new ArgumentError(`--${name} must be a number, got "${s}"`);
  return v;
}

function refStreams(inputs: Inputs): string[][] {
  return inputs.refs.map((r) => r.map(asText));
}

function generationMetric(
  f: Flags,
  kind: "bleu" | "chrf" | "chrf++" | "ter",
): M.CorpusMetric & {
  corpusScore(
    h: readonly string[],
    r: readonly (readonly string[])[],
  ): M.CorpusScore & { format(w?: number, s?: string): string };
} {
  if (kind === "bleu")
    return new M.BLEU({
      tokenize: f.tokenize,
      lowercase: f.lowercase,
      smoothMethod: f.smoothMethod,
      smoothValue: num(f.smoothValue, "smooth-value"),
      force: f.force,
    });
  if (kind === "ter")
    return new M.TER({
      caseSensitive: f.terCaseSensitive,
      normalized: f.terNormalized,
      noPunct: f.terNoPunct,
      asianSupport: f.terAsianSupport,
    });
  return new M.CHRF({
    charOrder: num(f.chrfCharOrder, "chrf-char-order"),
    wordOrder: kind === "chrf++" ? 2 : num(f.chrfWordOrder, "chrf-word-order"),
    beta: num(f.chrfBeta, "chrf-beta"),
    lowercase: f.lowercase,
    whitespace: f.chrfWhitespace,
    epsSmoothing: f.chrfEpsSmoothing,
  });
}

function corpusRunner(kind: "bleu" | "chrf" | "chrf++" | "ter"): Runner & StatsMetric {
  const run: Runner = (hyp, inputs) => {
    const metric = generationMetric(inputs.flags, kind);
    const hyps = hyp.map(asText);
    if (inputs.flags.sentenceLevel) {
      const refs = refStreams(inputs);
      return hyps.map((h, i) => {
        const m = generationMetric(inputs.flags, kind);
        const s = m.corpusScore(
          [h],
          refs.map((r) => [r[i]!]),
        );
        return { metric: `${s.name}[${i + 1}]`, score: s.score };
      });
    }
    const s = metric.corpusScore(hyps, refStreams(inputs));
    const sig = metric.signature();
    const details = s.format(2).replace(/^\S+ = \S+ ?/, "");
    return [{ metric: s.name, score: s.score, details: details || undefined, signature: sig }];
  };
  return Object.assign(run, {
    stats(hyp: Item[], inputs: Inputs) {
      const metric = generationMetric(inputs.flags, kind);
      return {
        stats: metric.segmentStats(hyp.map(asText), refStreams(inputs)),
        score: (s: Float64Array) => metric.scoreFromStats(s).score,
      };
    },
  });
}

function labelsOf(hyp: Item[], inputs: Inputs): { yTrue: (M.Label | number[])[]; yPred: (M.Label | number[])[] } {
  const yTrue = inputs.refs[0]!.map(asLabel),
    yPred = hyp.map(asLabel);
  unifyLabels(yTrue, yPred);
  return { yTrue, yPred };
}

function labelOptions(f: Flags, yTrue: unknown[]) {
  const numeric = yTrue.every((l) => typeof l === "number");
  const conv = (s: string) => (numeric && Number.isFinite(Number(s)) ? Number(s) : s);
  const zd = f.zeroDivision === "warn" ? "warn" : f.zeroDivision === "nan" ? NaN : Number(f.zeroDivision);
  if (zd !== "warn" && zd !== 0 && zd !== 1 && !Number.isNaN(zd))
    throw new ArgumentError(`--zero-division must be warn, 0, 1 or nan, got "${f.zeroDivision}"`);
  return {
    labels: f.labels?.split(",").map(conv),
    posLabel: f.posLabel === undefined ? undefined : conv(f.posLabel),
    zeroDivision: zd as M.ZeroDivision,
    average: f.average as M.Average | undefined,
  };
}

function prfRunner(which: "precision" | "recall" | "f1" | "fbeta"): Runner {
  return (hyp, inputs) => {
    const { yTrue, yPred } = labelsOf(hyp, inputs);
    const o = labelOptions(inputs.flags, yTrue);
    const beta = which === "fbeta" ? num(inputs.flags.beta, "beta", 1)! : which === "f1" ? 1 : undefined;
    const fn =
      which === "precision"
        ? M.precision
        : which === "recall"
          ? M.recall
          : which === "f1"
            ? M.f1
            : (t: never, p: never, opt: M.PrfOptions) => M.fbeta(t, p, beta!, opt as never);
    // scikit-learn's default: binary (a multiclass or multilabel target then asks for --average).
    const average = o.average ?? "binary";
    const v = (fn as (t: unknown, p: unknown, opt: M.PrfOptions) => number)(yTrue, yPred, {
      ...o,
      average,
      ...(which === "fbeta" ? { beta } : {}),
    });
    const name = which === "fbeta" ? `F${beta}` : which === "f1" ? "F1" : which[0]!.toUpperCase() + which.slice(1);
    return [{ metric: `${name} (${average})`, score: v }];
  };
}

function scoresOf(hyp: Item[], inputs: Inputs): { yTrue: M.Label[]; yScore: number[] | number[][] } {
  const yTrue = inputs.refs[0]!.map(asLabel) as M.Label[];
  if (yTrue.some((l) => Array.isArray(l))) {
    return { yTrue, yScore: hyp.map((h) => asScores(h)) as number[][] };
  }
  unifyLabels(yTrue);
  const raw = hyp.map(asScores);
  const rows = raw.some((r) => Array.isArray(r));
  return { yTrue, yScore: rows ? (raw.map((r) => (Array.isArray(r) ? r : [r])) as number[][]) : (raw as number[]) };
}

const RUNNERS: Record<string, Runner> = {
  bleu: corpusRunner("bleu"),
  chrf: corpusRunner("chrf"),
  "chrf++": corpusRunner("chrf++"),
  ter: corpusRunner("ter"),
  rouge: (hyp, inputs) => {
    const r = M.rouge(hyp.map(asText), refStreams(inputs), ["rouge1", "rouge2", "rougeL", "rougeLsum"]);
    return Object.entries(r).map(([k, v]) => ({
      metric: k,
      score: v.fmeasure,
      details: `P = ${pyFixed(v.precision, 4)} R = ${pyFixed(v.recall, 4)}`,
    }));
  },
  "exact-match": (hyp, inputs) => [
    {
      metric: "exact match",
      score: M.exactMatch(hyp.map(asText), refStreams(inputs), { ignoreCase: inputs.flags.lowercase }),
    },
  ],
  accuracy: (hyp, inputs) => {
    const { yTrue, yPred } = labelsOf(hyp, inputs);
    return [{ metric: "accuracy", score: M.accuracy(yTrue as M.Labels, yPred as M.Labels) }];
  },
  "balanced-accuracy": (hyp, inputs) => {
    const { yTrue, yPred } = labelsOf(hyp, inputs);
    return [{ metric: "balanced accuracy", score: M.balancedAccuracy(yTrue as M.Labels, yPred as M.Labels) }];
  },
  precision: prfRunner("precision"),
  recall: prfRunner("recall"),
  f1: prfRunner("f1"),
  fbeta: prfRunner("fbeta"),
  mcc: (hyp, inputs) => {
    const { yTrue, yPred } = labelsOf(hyp, inputs);
    return [{ metric: "MCC", score: M.matthewsCorrcoef(yTrue as M.Labels, yPred as M.Labels) }];
  },
  kappa: (hyp, inputs) => {
    const { yTrue, yPred } = labelsOf(hyp, inputs);
    return [
      {
        metric: "Cohen's kappa",
        score: M.cohenKappa(yTrue as M.Labels, yPred as M.Labels, { labels: labelOptions(inputs.flags, yTrue).labels }),
      },
    ];
  },
  "hamming-loss": (hyp, inputs) => {
    const { yTrue, yPred } = labelsOf(hyp, inputs);
    return [{ metric: "Hamming loss", score: M.hammingLoss(yTrue as M.Labels, yPred as M.Labels) }];
  },
  "confusion-matrix": (hyp, inputs) => {
    const { yTrue, yPred } = labelsOf(hyp, inputs);
    const cm = M.confusionMatrix(yTrue as M.Labels, yPred as M.Labels, {
      labels: labelOptions(inputs.flags, yTrue).labels,
    });
    const names = cm.labels.map(String),
      w = Math.max(6, ...names.map((n) => n.length), ...cm.matrix.flat().map((v) => String(v).length)) + 1;
    const text = [
      `${"true\\pred".padEnd(w)}${names.map((n) => n.padStart(w)).join("")}`,
      ...cm.matrix.map((row, i) => names[i]!.padEnd(w) + row.map((v) => String(v).padStart(w)).join("")),
    ].join("\n");
    return [{ metric: "confusion matrix", score: NaN, text, extra: { labels: cm.labels, matrix: cm.matrix } }];
  },
  "classification-report": (hyp, inputs) => {
    const { yTrue, yPred } = labelsOf(hyp, inputs);
    const o = labelOptions(inputs.flags, yTrue);
    const r = M.classificationReport(yTrue as M.Labels, yPred as M.Labels, {
      labels: o.labels,
      zeroDivision: o.zeroDivision,
      digits: Number(inputs.flags.digits),
    });
    return [
      {
        metric: "classification report",
        score: NaN,
        text: r.text.replace(/\n$/, ""),
        extra: { classes: Object.fromEntries(r.classes), averages: Object.fromEntries(r.averages) },
      },
    ];
  },
  "roc-auc": (hyp, inputs) => {
    const { yTrue, yScore } = scoresOf(hyp, inputs);
    const f = inputs.flags;
    const multiclass = Array.isArray(yScore[0]) && (yScore[0] as number[]).length > 2 && !Array.isArray(yTrue[0]);
    const v = M.rocAuc(yTrue as never, yScore, {
      average: (f.average as M.ScoreAverage | undefined) ?? "macro",
      multiClass: multiclass ? (f.multiClass ?? "ovr") : undefined,
      labels: multiclass ? labelOptions(f, yTrue).labels : undefined,
    });
    return [
      {
        metric: multiclass ? `ROC AUC (${f.multiClass ?? "ovr"}, ${f.average ?? "macro"})` : "ROC AUC",
        score: v as number,
      },
    ];
  },
  "pr-auc": (hyp, inputs) => {
    const { yTrue, yScore } = scoresOf(hyp, inputs);
    const o = labelOptions(inputs.flags, yTrue);
    return [
      {
        metric: "average precision",
        score: M.averagePrecision(yTrue as never, yScore, {
          average: (inputs.flags.average as M.ScoreAverage) ?? "macro",
          posLabel: o.posLabel,
        }) as number,
      },
    ];
  },
  "log-loss": (hyp, inputs) => {
    const { yTrue, yScore } = scoresOf(hyp, inputs);
    return [
      { metric: "log loss", score: M.logLoss(yTrue, yScore, { labels: labelOptions(inputs.flags, yTrue).labels }) },
    ];
  },
  brier: (hyp, inputs) => {
    const { yTrue, yScore } = scoresOf(hyp, inputs);
    return [
      {
        metric: "Brier score",
        score: M.brierScore(yTrue, yScore as number[], { posLabel: labelOptions(inputs.flags, yTrue).posLabel }),
      },
    ];
  },
  ece: (hyp, inputs) => {
    const { yTrue, yScore } = scoresOf(hyp, inputs);
    const o = labelOptions(inputs.flags, yTrue);
    return [
      {
        metric: "expected calibration error",
        score: M.expectedCalibrationError(yTrue, yScore, {
          nBins: num(inputs.flags.bins, "bins"),
          posLabel: o.posLabel,
          labels: o.labels,
        }),
      },
    ];
  },
  "top-k-accuracy": (hyp, inputs) => {
    const { yTrue, yScore } = scoresOf(hyp, inputs);
    const k = num(inputs.flags.k, "k", 2)!;
    return [
      {
        metric: `top-${k} accuracy`,
        score: M.topKAccuracy(yTrue, yScore, { k, labels: labelOptions(inputs.flags, yTrue).labels }),
      },
    ];
  },
  "entity-f1": (hyp, inputs) => entityRows(hyp, inputs, "f1"),
  "entity-report": (hyp, inputs) => entityRows(hyp, inputs, "report"),
  "token-accuracy": (hyp, inputs) => [
    { metric: "token accuracy", score: M.tokenAccuracy(inputs.refs[0]!.map(asTags), hyp.map(asTags)) },
  ],
  mse: regression("MSE", M.meanSquaredError),
  rmse: regression("RMSE", M.rootMeanSquaredError),
  mae: regression("MAE", M.meanAbsoluteError),
  r2: regression("R²", M.r2Score),
  pearson: regression("Pearson r", M.pearson),
  spearman: regression("Spearman ρ", M.spearman),
  "precision@k": ranking("precision", M.precisionAtK),
  "recall@k": ranking("recall", M.recallAtK),
  "hit-rate@k": ranking("hit rate", M.hitRateAtK),
  mrr: ranking("MRR", M.meanReciprocalRank),
  map: ranking("MAP", M.meanAveragePrecision),
  "ndcg@k": ranking("NDCG", M.ndcgAtK),
  perplexity: (hyp, inputs) => lmRows(hyp, inputs, "perplexity"),
  "bits-per-token": (hyp, inputs) => lmRows(hyp, inputs, "bits per token"),
  "bits-per-char": (hyp, inputs) => lmRows(hyp, inputs, "bits per character"),
};

const ALIASES: Record<string, string> = {
  chrfpp: "chrf++",
  "chrf+": "chrf++",
  em: "exact-match",
  exact_match: "exact-match",
  acc: "accuracy",
  "average-precision": "pr-auc",
  ap: "pr-auc",
  auc: "roc-auc",
  matthews: "mcc",
  "cohen-kappa": "kappa",
  report: "classification-report",
  ner: "entity-f1",
  seqeval: "entity-f1",
  "entity-precision": "entity-f1",
  "entity-recall": "entity-f1",
  "hit-rate": "hit-rate@k",
  hitrate: "hit-rate@k",
  ndcg: "ndcg@k",
  "p@k": "precision@k",
  "r@k": "recall@k",
  ppl: "perplexity",
  bpt: "bits-per-token",
  bpc: "bits-per-char",
  "top-k": "top-k-accuracy",
};

/** Generation metrics take every --ref; LM metrics need none; the rest exactly one. */
const MULTI_REF = new Set(["bleu", "chrf", "chrf++", "ter", "rouge", "exact-match"]);
const NO_REF = new Set(["perplexity", "bits-per-token", "bits-per-char"]);

function entityRows(hyp: Item[], inputs: Inputs, what: "f1" | "report"): Row[] {
  const f = inputs.flags;
  const yTrue = inputs.refs[0]!.map(asTags),
    yPred = hyp.map(asTags);
  const zd: "warn" | 0 | 1 =
    f.zeroDivision === "warn"
      ? "warn"
      : f.zeroDivision === "1"
        ? 1
        : f.zeroDivision === "0"
          ? 0
          : badZero(f.zeroDivision);
  const o = { mode: f.mode, scheme: f.scheme, suffix: f.suffix, zeroDivision: zd };
  if (what === "report") {
    const r = M.entityReport(yTrue, yPred, { ...o, digits: Number(f.digits) });
    return [
      {
        metric: "entity report",
        score: NaN,
        text: r.text.replace(/\n$/, ""),
        extra: { types: Object.fromEntries(r.rows), averages: Object.fromEntries(r.averages) },
      },
    ];
  }
  const average = (f.average as M.EntityAverage | undefined) ?? "micro";
  const r = M.entityPrecisionRecallF1(yTrue, yPred, { ...o, average });
  return [
    {
      metric: `entity F1 (${average}${f.mode === "strict" ? `, strict ${f.scheme}` : ""})`,
      score: r.fscore,
      details: `P = ${pyFixed(r.precision, 4)} R = ${pyFixed(r.recall, 4)} support = ${r.support}`,
    },
  ];
}

function badZero(v: string): never {
  throw new ArgumentError(`--zero-division for entity scores must be warn, 0 or 1, got "${v}"`);
}

function regression(name: string, fn: (t: number[], p: number[]) => number): Runner {
  return (hyp, inputs) => [{ metric: name, score: fn(inputs.refs[0]!.map(asNumber), hyp.map(asNumber)) }];
}

function ranking(name: string, fn: (recs: M.ItemId[][], rel: M.Relevance[], o: { k?: number }) => number): Runner {
  return (hyp, inputs) => {
    const k = num(inputs.flags.k, "k");
    const recs = hyp.map((h) => asItems(h, false) as M.ItemId[]);
    const rel = inputs.refs[0]!.map((r) => asItems(r, true));
    return [{ metric: k === undefined ? name : `${name}@${k}`, score: fn(recs, rel, { k }) }];
  };
}

function lmRows(hyp: Item[], inputs: Inputs, what: string): Row[] {
  const f = inputs.flags;
  const acc = new M.LossAccumulator();
  for (const it of hyp) {
    const v = it.value;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      const rec = v as Record<string, unknown>;
      const get = (key: string, required: boolean): number => {
        if (!(key in rec)) {
          if (required)
            throw new DataError(
              `no field "${key}" in this record`,
              { ...where(it), field: key },
              "set --loss-field / --tokens-field / --chars-field",
            );
          return 0;
        }
        return asNumber({ ...it, value: rec[key] });
      };
      acc.add(get(f.lossField, true), get(f.tokensField, true), get(f.charsField, what === "bits per character"));
    } else acc.add(asNumber(it), 1);
  }
  const score =
    what === "perplexity" ? acc.perplexity() : what === "bits per token" ? acc.bitsPerToken() : acc.bitsPerCharacter();
  return [{ metric: what, score, details: `${acc.tokens} tokens, loss ${pyFixed(acc.lossSum, 4)} nats` }];
}

/** Reads every input once: JSONL records stay whole for LM metrics (the fields are read there). */
function loadInputs(f: Flags, needsRecords: boolean): Inputs {
  const field = (name: string) => (needsRecords ? "" : name);
  const read = (path: string, fieldName: string) => {
    if (needsRecords && (f.format ?? (/\.(jsonl|ndjson)$/i.test(path) ? "jsonl" : "text")) === "jsonl") {
      return readItems(path, "", "text", false)
        .filter((it) => String(it.value).trim() !== "")
        .map((it) => {
          try {
            return { ...it, value: JSON.parse(String(it.value)) as unknown };
          } catch (e) {
            throw new DataError(`not valid JSON (${(e as Error).message})`, where(it));
          }
        });
    }
    return readItems(path, field(fieldName), f.format, true);
  };
  return { hyps: f.hyp.map((p) => read(p, f.hypField)), refs: f.ref.map((p) => read(p, f.refField)), flags: f };
}

function checkCounts(inputs: Inputs, metric: string): void {
  const hyp0 = inputs.hyps[0]!;
  if (hyp0.length === 0) throw new DataError("no predictions", { file: hyp0[0]?.file ?? inputs.flags.hyp[0] });
  for (const [i, h] of inputs.hyps.entries()) {
    if (h.length !== hyp0.length)
      throw new DataError(
        `${h.length} predictions, but ${inputs.flags.hyp[0]} has ${hyp0.length}`,
        { file: inputs.flags.hyp[i] },
        "systems in a paired comparison must cover the same items",
      );
  }
  for (const [i, r] of inputs.refs.entries()) {
    if (r.length !== hyp0.length) {
      throw new DataError(
        `${r.length} references, but ${inputs.flags.hyp[0]} has ${hyp0.length} predictions`,
        { file: inputs.flags.ref[i] },
        `${metric} needs exactly one reference line per prediction line`,
      );
    }
  }
}

function resampleCount(v: string | boolean | undefined, fallback: number): number | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`resample count must be a positive integer, got "${v}"`);
  return n;
}

export function scoreCommand(metricNames: string[], f: Flags): { rows: Row[]; warnings: string[] } {
  const names = metricNames.map((m) => {
    const key = m.toLowerCase().replace(/@\d+$/, "@k");
    const canon = ALIASES[key] ?? key;
    if (!(canon in RUNNERS))
      throw new ArgumentError(`unknown metric "${m}"`, `known metrics: ${Object.keys(RUNNERS).join(", ")}`);
    // "ndcg@10" carries its own cut-off; otherwise --k applies.
    const k = /@(\d+)$/.exec(m)?.[1] ?? f.k;
    return { name: canon, k };
  });
  if (!f.hyp?.length) throw new ArgumentError("no predictions: pass --hyp <file>");
  const needsRecords = names.some((n) => NO_REF.has(n.name));
  if (needsRecords && names.some((n) => !NO_REF.has(n.name)))
    throw new ArgumentError(
      "language-model metrics (perplexity, bits-per-token, bits-per-char) read loss files; score them separately",
    );
  if (!needsRecords && !f.ref?.length) throw new ArgumentError("no references: pass --ref <file>");
  const inputs = loadInputs(f, needsRecords);
  const bs = resampleCount(f.pairedBs, 1000),
    ar = resampleCount(f.pairedAr, 10000),
    ci = resampleCount(f.confidence, 1000);
  if (bs && ar) throw new ArgumentError("choose one of --paired-bs and --paired-ar");
  if ((bs || ar) && f.hyp.length < 2)
    throw new ArgumentError("paired tests compare systems: pass two or more --hyp files (the first is the baseline)");
  const seed = num(f.seed, "seed", 12345)!;
  const { value: rows, warnings } = M.captureWarnings(() => {
    const out: Row[] = [];
    for (const { name, k } of names) {
      const metricInputs: Inputs = { ...inputs, flags: { ...f, k } };
      if (!MULTI_REF.has(name) && !NO_REF.has(name) && f.ref.length > 1)
        throw new ArgumentError(`${name} takes exactly one --ref file, got ${f.ref.length}`);
      if (!needsRecords) checkCounts(inputs, name);
      const runner = RUNNERS[name]!;
      const stats = (runner as Partial<StatsMetric>).stats;
      if (f.sentenceLevel && !stats)
        throw new ArgumentError(`${name}: --sentence-level is available for bleu, chrf, chrf++ and ter`);
      if (f.sentenceLevel && (bs || ar || ci))
        throw new ArgumentError("--sentence-level cannot be combined with confidence intervals or paired tests");
      if ((bs || ar || ci) && !stats)
        throw new ArgumentError(
          `${name}: confidence intervals and paired tests are available for bleu, chrf, chrf++ and ter`,
        );
      const base = stats && (bs || ar) ? stats(inputs.hyps[0]!, metricInputs) : undefined;
      inputs.hyps.forEach((hyp, s) => {
        const system = f.hyp.length > 1 ? f.hyp[s] : undefined;
        for (const row of runner(hyp, metricInputs)) {
          row.system = system;
          if (stats && ci && !(bs || ar)) {
            const st = stats(hyp, metricInputs);
            const r = M.bootstrapStatsInterval(st.stats, st.score, { samples: ci, seed });
            row.extra = { ...row.extra, confidence: r };
            row.signature = row.signature?.replace(/^(nrefs:[^|]+)/, `$1|bs:${ci}|rs:${seed}`);
            row.details = `(μ = ${pyFixed(r.mean, 2)} ± ${pyFixed(r.halfWidth, 2)}) ${row.details ?? ""}`.trim();
          }
          if (base && s > 0) {
            const st = stats!(hyp, metricInputs);
            const t = bs
              ? M.pairedBootstrapTest(base.stats, st.stats, st.score, { samples: bs, seed })
              : M.approximateRandomizationTest(base.stats, st.stats, st.score, { samples: ar!, seed });
            row.extra = {
              ...row.extra,
              pairedTest: { method: bs ? "paired bootstrap" : "approximate randomization", ...t },
            };
            row.signature = row.signature?.replace(
              /^(nrefs:[^|]+)/,
              bs ? `$1|bs:${bs}|rs:${seed}` : `$1|ar:${ar}|rs:${seed}`,
            );
            row.details =
              `(p = ${pyFixed(t.pValue, 4)}${t.interval ? `, μ = ${pyFixed(t.interval.mean, 2)} ± ${pyFixed(t.interval.halfWidth, 2)}` : ""}) ${row.details ?? ""}`.trim();
          }
          out.push(row);
        }
      });
    }
    return out;
  });
  for (const r of rows)
    if (Number.isNaN(r.score) && r.text === undefined && warnings.length === 0)
      warnings.push(`${r.metric} is undefined (NaN) for these inputs`);
  return { rows, warnings };
}

function printRows(rows: Row[], json: boolean, digits: number): void {
  if (json) {
    const out = rows.map((r) => ({
      metric: r.metric,
      ...(r.system ? { system: r.system } : {}),
      score: Number.isNaN(r.score) ? null : r.score,
      ...(r.details ? { details: r.details } : {}),
      ...(r.signature ? { signature: r.signature } : {}),
      ...(r.extra ?? {}),
    }));
    process.stdout.write(JSON.stringify(out.length === 1 ? out[0] : out, null, 1) + "\n");
    return;
  }
  const label = (r: Row) => (r.system ? `${r.system}: ${r.metric}` : r.metric);
  const w = Math.max(...rows.filter((r) => r.text === undefined).map((r) => label(r).length), 6);
  for (const r of rows) {
    if (r.text !== undefined) {
      process.stdout.write(`${r.system ? `${r.system}\n` : ""}${r.text}\n`);
      continue;
    }
    const score = Number.isNaN(r.score) ? "nan" : pyFixed(r.score, digits);
    process.stdout.write(`${label(r).padEnd(w)}  ${score}${r.details ? `  ${r.details}` : ""}\n`);
    if (r.signature) process.stdout.write(`${" ".repeat(w)}  ${r.signature}\n`);
  }
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

let pipeGuarded = false;
/** `graft score ... --sentence-level | head` closes the pipe early: stop quietly, as sacrebleu does. */
function guardPipe(): void {
  if (pipeGuarded) return;
  pipeGuarded = true;
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
}

export function register(program: Command): void {
  program
    .command("score")
    .description(
      "score predictions against references with any graft metric (BLEU/chrF/TER as sacrebleu, classification as scikit-learn, entities as seqeval)",
    )
    .argument("<metric...>", `metrics: ${Object.keys(RUNNERS).join(", ")}`)
    .option(
      "--hyp <file>",
      "predictions, one per line (text) or per record (JSONL); repeat to compare systems",
      collect,
    )
    .option("--ref <file>", "references; repeat for several references (generation metrics)", collect)
    .option("--format <text|jsonl>", "input format (default: jsonl for .jsonl/.ndjson files, else text)")
    .option("--hyp-field <name>", "JSONL field with the prediction", "prediction")
    .option("--ref-field <name>", "JSONL field with the reference", "reference")
    .option("--json", "print JSON")
    .option("--digits <n>", "decimals in the table", "4")
    .option("--sentence-level", "generation metrics: one score per line")
    .option("--confidence [n]", "bootstrap 95% confidence interval (n resamples, default 1000)")
    .option("--paired-bs [n]", "paired bootstrap test of each --hyp against the first (default 1000 resamples)")
    .option("--paired-ar [n]", "paired approximate randomization test (default 10000 trials)")
    .option("--seed <n>", "seed for resampling", "12345")
    .option("--tokenize <tok>", "BLEU tokenizer: 13a, intl, char, none", "13a")
    .option("--lowercase", "BLEU/chrF: case-insensitive; exact-match: ignore case")
    .option("--smooth-method <m>", "BLEU smoothing: exp, floor, add-k, none", "exp")
    .option("--smooth-value <v>", "BLEU smoothing value (floor: 0.1, add-k: 1)")
    .option("--force", "BLEU: do not warn about tokenized-looking input")
    .option("--chrf-char-order <n>", "chrF character n-gram order", "6")
    .option("--chrf-word-order <n>", "chrF word n-gram order (2 = chrF++)", "0")
    .option("--chrf-beta <n>", "chrF recall weight", "2")
    .option("--chrf-whitespace", "chrF: keep whitespace in character n-grams")
    .option("--chrf-eps-smoothing", "chrF: epsilon smoothing instead of effective order")
    .option("--ter-case-sensitive", "TER: do not lowercase")
    .option("--ter-normalized", "TER: Tercom normalization")
    .option("--ter-no-punct", "TER: remove punctuation")
    .option("--ter-asian-support", "TER: split CJK characters")
    .option(
      "--average <avg>",
      "binary, micro, macro, weighted, samples (classification; micro/macro/weighted for entities)",
    )
    .option("--pos-label <label>", "positive class for binary scores")
    .option("--zero-division <v>", "value for 0/0: warn (0 with a warning), 0, 1, nan", "warn")
    .option("--beta <b>", "F-beta weight of recall")
    .option("--k <k>", "cut-off for ranking metrics and top-k accuracy")
    .option("--labels <list>", "comma-separated labels (order of rows/columns, class set)")
    .option("--multi-class <ovr|ovo>", "multiclass ROC AUC strategy", "ovr")
    .option("--bins <n>", "calibration bins", "15")
    .option("--scheme <scheme>", "entity scheme for strict mode: IOB1, IOB2, IOE1, IOE2, IOBES, BILOU")
    .option("--mode <mode>", "entity decoding: default (conlleval) or strict", "default")
    .option("--suffix", "entity tags are TYPE-PREFIX")
    .option("--loss-field <name>", "LM metrics: summed loss (nats) field", "loss")
    .option("--tokens-field <name>", "LM metrics: token count field", "tokens")
    .option("--chars-field <name>", "LM metrics: character count field", "characters")
    .addHelpText(
      "after",
      [
        "",
        "Inputs: text files hold one item per line (a sentence, a label, a score or space-separated scores, space-separated tags,",
        "space-separated item ids); JSONL files hold one record per line with the value in --hyp-field / --ref-field.",
        "",
        "Examples:",
        "  graft score bleu ter chrf --hyp hyp.txt --ref ref.txt --ref ref2.txt",
        "  graft score bleu --hyp base.txt --hyp new.txt --ref ref.txt --paired-bs",
        "  graft score f1 classification-report --hyp preds.jsonl --ref gold.jsonl --hyp-field label --ref-field label --average macro",
        "  graft score roc-auc pr-auc --hyp scores.txt --ref labels.txt",
        "  graft score entity-f1 entity-report --hyp pred.tags --ref gold.tags --mode strict --scheme IOB2",
        "  graft score ndcg@10 mrr --hyp recs.jsonl --ref relevant.jsonl --hyp-field items --ref-field items",
        "  graft score perplexity --hyp losses.jsonl",
        "",
      ].join("\n"),
    )
    .action((metrics: string[], f: Flags) => {
      f.hyp ??= [];
      f.ref ??= [];
      if (f.format !== undefined && f.format !== "text" && f.format !== "jsonl")
        throw new ArgumentError(`--format must be text or jsonl, got "${f.format}"`);
      guardPipe();
      const { rows, warnings } = scoreCommand(metrics, f);
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      printRows(rows, f.json === true, Number(f.digits));
    });
}
