/**
 * Classification metrics as scikit-learn defines them: on labels (accuracy, precision / recall / F, MCC, kappa,
 * reports) and on scores (ROC AUC, average precision, log loss, Brier score, calibration error, top-k accuracy).
 */
import { ArgumentError } from "../../util/errors.js";
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
} from "../classification/index.js";
import type { ScoreFormat } from "../format.js";
import {
  entry,
  num,
  one,
  type MetricEntry,
  type MetricInput,
  type MetricOptions,
  type MetricResult,
} from "../entry.js";

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

export const CLASSIFICATION_METRICS: readonly MetricEntry[] = [
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
];
