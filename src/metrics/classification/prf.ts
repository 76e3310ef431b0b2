/**
 * Precision, recall, F-beta and support, following sklearn.metrics.precision_recall_fscore_support
 * (scikit-learn ≥ 1.3 semantics): F = (1+β²)·tp / (β²·(tp+fn) + (tp+fp)); a zero denominator gives
 * `zeroDivision` (0 with a warning by default, or 0, 1, NaN); averages skip NaN entries and fall back
 * to an unweighted mean when all weights are zero.
 */
import { ArgumentError } from "../../util/errors.js";
import { checkSampleWeight, pairwiseSum, weightedMean, type NumericArray } from "../numeric.js";
import { warn } from "../warnings.js";
import { labelCounts } from "./confusion.js";
import { checkTargets, fmtLabel, normLabel, uniqueLabels, type Indicator, type Label, type Labels } from "./labels.js";

export type Average = "binary" | "micro" | "macro" | "weighted" | "samples";
/** "warn": 0 and a warning; otherwise the value (0, 1 or NaN) used where a ratio is 0/0. */
export type ZeroDivision = "warn" | number;
type WarnFor = "precision" | "recall" | "f-score";

export interface PrfOptions {
  beta?: number;
  /** Which labels to report (and their order); for multilabel targets, column indices. */
  labels?: readonly Label[];
  /** The positive class for average "binary" (default 1). */
  posLabel?: Label;
  /** null: per-label values. Default null here, "binary" in precision/recall/f1/fbeta. */
  average?: Average | null;
  sampleWeight?: NumericArray;
  zeroDivision?: ZeroDivision;
}

export interface PerLabelPrf {
  labels: (number | string)[];
  precision: number[];
  recall: number[];
  fscore: number[];
  support: number[];
}

export interface AveragedPrf {
  precision: number;
  recall: number;
  fscore: number;
}

function checkZeroDivision(z: ZeroDivision): number {
  if (z === "warn") return 0;
  if (z === 0 || z === 1 || Number.isNaN(z)) return z;
  throw new ArgumentError(`zeroDivision must be "warn", 0, 1 or NaN, got ${String(z)}`);
}

function divide(
  num: Float64Array,
  den: Float64Array,
  metric: WarnFor,
  modifier: string,
  average: Average | null,
  warnFor: readonly WarnFor[],
  zeroDivision: ZeroDivision,
): Float64Array {
  const out = new Float64Array(num.length);
  const zd = checkZeroDivision(zeroDivision);
  let ill = false;
  for (let i = 0; i < num.length; i++) {
    if (den[i] === 0) {
      out[i] = zd;
      ill = true;
    } else out[i] = num[i]! / den[i]!;
  }
  if (ill && zeroDivision === "warn" && warnFor.includes(metric)) {
    const [axis0, axis1] = average === "samples" ? ["label", "sample"] : ["sample", "label"];
    const where = num.length === 1 ? "due to" : `in ${axis1}s with`;
    const start = metric === "f-score" ? "F-score is" : metric === "precision" ? "Precision is" : "Recall is";
    warn(
      `${start} ill-defined and being set to 0.0 ${where} no ${modifier} ${axis0}s. Use \`zeroDivision\` to control this behavior.`,
    );
  }
  return out;
}

/** sklearn's _nanaverage. */
function nanAverage(a: Float64Array, weights?: NumericArray): number {
  if (a.length === 0) return NaN;
  const keep: number[] = [];
  for (let i = 0; i < a.length; i++) if (!Number.isNaN(a[i]!)) keep.push(i);
  if (keep.length === 0) return NaN;
  if (weights === undefined) {
    // np.nanmean: NaNs count as 0 in the sum, and the divisor is the non-NaN count.
    const z = Float64Array.from(a, (v) => (Number.isNaN(v) ? 0 : v));
    return pairwiseSum(z) / keep.length;
  }
  const av = Float64Array.from(keep, (i) => a[i]!);
  const wv = Float64Array.from(keep, (i) => weights[i]!);
  if (pairwiseSum(wv) === 0) return weightedMean(av);
  return weightedMean(av, wv);
}

interface Resolved {
  labels: (number | string)[];
  multilabel: boolean;
}

function resolveLabels(
  what: string,
  yTrue: Labels | Indicator,
  yPred: Labels | Indicator,
  average: Average | null,
  options: PrfOptions,
): Resolved {
  const valid = [null, "binary", "micro", "macro", "weighted", "samples"];
  if (!valid.includes(average))
    throw new ArgumentError(`${what}: average must be one of ${valid.map(String).join(", ")}, got ${String(average)}`);
  const { type, width } = checkTargets(what, yTrue, yPred);
  const multilabel = type === "multilabel-indicator";
  const present: (number | string)[] = multilabel
    ? Array.from({ length: width }, (_, i) => i)
    : uniqueLabels(yTrue as Labels, yPred as Labels);
  const posLabel = normLabel(options.posLabel ?? 1);
  let labels = options.labels?.map(normLabel);
  if (average === "binary") {
    if (type !== "binary") {
      throw new ArgumentError(
        `${what}: the target is ${type} but average is "binary"`,
        `choose another average: ${multilabel ? "micro, macro, weighted or samples" : "micro, macro or weighted"}`,
      );
    }
    if (!present.includes(posLabel) && present.length >= 2) {
      throw new ArgumentError(
        `${what}: posLabel=${fmtLabel(posLabel)} is not a valid label; it should be one of ${present.map(fmtLabel).join(", ")}`,
      );
    }
    labels = [posLabel];
  } else if (options.posLabel !== undefined && posLabel !== 1) {
    warn(
      `posLabel (set to ${fmtLabel(posLabel)}) is ignored when average is not "binary" (got ${String(average)}); use labels: [posLabel] to pick a single class.`,
    );
  }
  if (average === "samples" && !multilabel) {
    throw new ArgumentError(
      `${what}: sample-averaged scores are only meaningful for multilabel targets`,
      "use accuracy for single-label classification",
    );
  }
  return { labels: labels ?? present, multilabel };
}

function compute(
  what: string,
  yTrue: Labels | Indicator,
  yPred: Labels | Indicator,
  options: PrfOptions,
  defaultAverage: Average | null,
  warnFor: readonly WarnFor[],
): { perLabel?: PerLabelPrf; averaged?: AveragedPrf } {
  const beta = options.beta ?? 1;
  if (!(beta >= 0)) throw new ArgumentError(`${what}: beta must be ≥ 0 for the F-beta score, got ${beta}`);
  const average = options.average === undefined ? defaultAverage : options.average;
  const zeroDivision = options.zeroDivision ?? "warn";
  checkZeroDivision(zeroDivision);
  const { labels, multilabel } = resolveLabels(what, yTrue, yPred, average, options);
  const sw = checkSampleWeight(what, options.sampleWeight, yTrue.length);
  const counts = labelCounts(what, yTrue, yPred, labels, multilabel, sw, average === "samples");
  let { tp, pred, true: tru } = counts;
  if (average === "micro") {
    tp = Float64Array.of(pairwiseSum(tp));
    pred = Float64Array.of(pairwiseSum(pred));
    tru = Float64Array.of(pairwiseSum(tru));
  }
  const beta2 = beta * beta;
  const precision = divide(tp, pred, "precision", "predicted", average, warnFor, zeroDivision);
  const recall = divide(tp, tru, "recall", "true", average, warnFor, zeroDivision);
  let fscore: Float64Array;
  if (beta === Infinity) fscore = recall;
  else if (beta === 0) fscore = precision;
  else {
    const num = tp.map((t) => (1 + beta2) * t);
    const den = tru.map((t, i) => beta2 * t + pred[i]!);
    fscore = divide(num, den, "f-score", "true nor predicted", average, warnFor, zeroDivision);
  }
  if (average === null) {
    return {
      perLabel: {
        labels,
        precision: [...precision],
        recall: [...recall],
        fscore: [...fscore],
        support: [...counts.true],
      },
    };
  }
  const weights = average === "weighted" ? tru : average === "samples" ? sw : undefined;
  return {
    averaged: {
      precision: nanAverage(precision, weights),
      recall: nanAverage(recall, weights),
      fscore: nanAverage(fscore, weights),
    },
  };
}

/** Per-label precision, recall, F-beta and support (average null, the default). */
export function precisionRecallFscoreSupport(
  yTrue: Labels | Indicator,
  yPred: Labels | Indicator,
  options?: PrfOptions & { average?: null },
): PerLabelPrf;
/** Averaged precision, recall and F-beta. */
export function precisionRecallFscoreSupport(
  yTrue: Labels | Indicator,
  yPred: Labels | Indicator,
  options: PrfOptions & { average: Average },
): AveragedPrf;
export function precisionRecallFscoreSupport(
  yTrue: Labels | Indicator,
  yPred: Labels | Indicator,
  options: PrfOptions = {},
): PerLabelPrf | AveragedPrf {
  const r = compute("precisionRecallFscoreSupport", yTrue, yPred, options, null, ["precision", "recall", "f-score"]);
  return (r.perLabel ?? r.averaged)!;
}

function single(what: string, key: "precision" | "recall" | "fscore", warnFor: WarnFor) {
  function f(
    yTrue: Labels | Indicator,
    yPred: Labels | Indicator,
    options?: PrfOptions & { average?: Average },
  ): number;
  function f(yTrue: Labels | Indicator, yPred: Labels | Indicator, options: PrfOptions & { average: null }): number[];
  function f(yTrue: Labels | Indicator, yPred: Labels | Indicator, options: PrfOptions = {}): number | number[] {
    const r = compute(what, yTrue, yPred, options, "binary", [warnFor]);
    return r.perLabel ? r.perLabel[key] : r.averaged![key];
  }
  return f;
}

/** Precision tp / (tp + fp). Default average "binary" with posLabel 1. */
export const precision = single("precision", "precision", "precision");
/** Recall tp / (tp + fn). Default average "binary" with posLabel 1. */
export const recall = single("recall", "recall", "recall");
const fbetaImpl = single("fbeta", "fscore", "f-score");
const f1Impl = single("f1", "fscore", "f-score");

/** F1 = harmonic mean of precision and recall. Default average "binary" with posLabel 1. */
export function f1(
  yTrue: Labels | Indicator,
  yPred: Labels | Indicator,
  options?: Omit<PrfOptions, "beta"> & { average?: Average },
): number;
export function f1(
  yTrue: Labels | Indicator,
  yPred: Labels | Indicator,
  options: Omit<PrfOptions, "beta"> & { average: null },
): number[];
export function f1(
  yTrue: Labels | Indicator,
  yPred: Labels | Indicator,
  options: Omit<PrfOptions, "beta"> = {},
): number | number[] {
  return f1Impl(yTrue, yPred, { ...options, beta: 1 } as PrfOptions & { average: null });
}

/** F-beta: recall weighted beta times as much as precision. */
export function fbeta(
  yTrue: Labels | Indicator,
  yPred: Labels | Indicator,
  beta: number,
  options?: Omit<PrfOptions, "beta"> & { average?: Average },
): number;
export function fbeta(
  yTrue: Labels | Indicator,
  yPred: Labels | Indicator,
  beta: number,
  options: Omit<PrfOptions, "beta"> & { average: null },
): number[];
export function fbeta(
  yTrue: Labels | Indicator,
  yPred: Labels | Indicator,
  beta: number,
  options: Omit<PrfOptions, "beta"> = {},
): number | number[] {
  return fbetaImpl(yTrue, yPred, { ...options, beta } as PrfOptions & { average: null });
}
