/**
 * Accuracy-type scores: accuracy (subset accuracy for multilabel), balanced accuracy, top-k accuracy,
 * Hamming loss, Matthews correlation and Cohen's kappa, as scikit-learn defines them.
 */
import { ArgumentError, ShapeError } from "../../util/errors.js";
import { assertFinite, checkSampleWeight, mean, pairwiseSum, weightedMean, type NumericArray } from "../numeric.js";
import { warn } from "../warnings.js";
import { confusionMatrix } from "./confusion.js";
import {
  checkColumnLabels,
  checkLabelKinds,
  checkTargets,
  fmtLabel,
  labelIndex,
  normLabel,
  uniqueLabels,
  type Indicator,
  type Label,
  type Labels,
} from "./labels.js";

export interface AccuracyOptions {
  /** false: the number (or weight) of correct samples instead of the fraction. */
  normalize?: boolean;
  sampleWeight?: NumericArray;
}

function weightedSum(hits: Float64Array, w: NumericArray | undefined, normalize: boolean): number {
  if (normalize) return weightedMean(hits, w);
  if (!w) return pairwiseSum(hits);
  let s = 0;
  for (let i = 0; i < hits.length; i++) s += hits[i]! * w[i]!;
  return s;
}

/** Fraction of samples predicted exactly (for multilabel: every label of the row right). */
export function accuracy(yTrue: Labels | Indicator, yPred: Labels | Indicator, options: AccuracyOptions = {}): number {
  const what = "accuracy";
  const { type } = checkTargets(what, yTrue, yPred);
  const w = checkSampleWeight(what, options.sampleWeight, yTrue.length);
  const hits = new Float64Array(yTrue.length);
  for (let i = 0; i < yTrue.length; i++) {
    if (type === "multilabel-indicator") {
      const a = (yTrue as Indicator)[i]!,
        b = (yPred as Indicator)[i]!;
      hits[i] = a.every((v, j) => v === b[j]) ? 1 : 0;
    } else hits[i] = normLabel((yTrue as Labels)[i]!) === normLabel((yPred as Labels)[i]!) ? 1 : 0;
  }
  return weightedSum(hits, w, options.normalize ?? true);
}

/** Mean per-class recall; `adjusted` rescales so that chance scores 0. */
export function balancedAccuracy(
  yTrue: Labels,
  yPred: Labels,
  options: { sampleWeight?: NumericArray; adjusted?: boolean } = {},
): number {
  const { matrix } = confusionMatrix(yTrue, yPred, { sampleWeight: options.sampleWeight });
  const perClass: number[] = [];
  let missing = false;
  for (let i = 0; i < matrix.length; i++) {
    const row = matrix[i]!;
    const s = row.reduce((a, b) => a + b, 0);
    if (s === 0) missing = true;
    else perClass.push(row[i]! / s);
  }
  if (missing) warn("yPred contains classes not in yTrue");
  let score = mean(perClass);
  if (options.adjusted) {
    const chance = 1 / perClass.length;
    score -= chance;
    score /= 1 - chance;
  }
  return score;
}

/** Fraction of label disagreements (per label cell for multilabel targets). */
export function hammingLoss(
  yTrue: Labels | Indicator,
  yPred: Labels | Indicator,
  options: { sampleWeight?: NumericArray } = {},
): number {
  const what = "hammingLoss";
  const { type, width } = checkTargets(what, yTrue, yPred);
  const w = checkSampleWeight(what, options.sampleWeight, yTrue.length);
  if (type !== "multilabel-indicator") {
    const t = yTrue as Labels,
      p = yPred as Labels;
    return weightedSum(
      Float64Array.from(t, (l, i) => (normLabel(l) === normLabel(p[i]!) ? 0 : 1)),
      w,
      true,
    );
  }
  let diff = 0;
  let wsum = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const a = (yTrue as Indicator)[i]!,
      b = (yPred as Indicator)[i]!;
    let d = 0;
    for (let j = 0; j < width; j++) if (a[j] !== b[j]) d++;
    const wi = w ? w[i]! : 1;
    diff += d * wi;
    wsum += wi;
  }
  const wAvg = w ? wsum / yTrue.length : 1;
  return diff / (yTrue.length * width * wAvg);
}

/** Matthews correlation coefficient (multiclass generalisation R_K); 0 when undefined, as sklearn. */
export function matthewsCorrcoef(yTrue: Labels, yPred: Labels, options: { sampleWeight?: NumericArray } = {}): number {
  const { matrix } = confusionMatrix(yTrue, yPred, { sampleWeight: options.sampleWeight });
  const k = matrix.length;
  const tSum = new Float64Array(k),
    pSum = new Float64Array(k);
  let correct = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      tSum[i] += matrix[i]![j]!;
      pSum[j] += matrix[i]![j]!;
    }
    correct += matrix[i]![i]!;
  }
  const n = pairwiseSum(pSum);
  let tp = 0,
    pp = 0,
    tt = 0;
  for (let i = 0; i < k; i++) {
    tp += tSum[i]! * pSum[i]!;
    pp += pSum[i]! * pSum[i]!;
    tt += tSum[i]! * tSum[i]!;
  }
  const covYtYp = correct * n - tp;
  const covYpYp = n * n - pp;
  const covYtYt = n * n - tt;
  if (covYpYp * covYtYt === 0) return 0;
  return covYtYp / Math.sqrt(covYtYt * covYpYp);
}

/**
 * Cohen's kappa between two annotators (or truth and prediction), optionally with linear or
 * quadratic disagreement weights. NaN with a warning when chance disagreement is zero.
 */
export function cohenKappa(
  y1: Labels,
  y2: Labels,
  options: { labels?: readonly Label[]; weights?: "linear" | "quadratic"; sampleWeight?: NumericArray } = {},
): number {
  const { matrix } = confusionMatrix(y1, y2, { labels: options.labels, sampleWeight: options.sampleWeight });
  const k = matrix.length;
  const sum0 = new Float64Array(k),
    sum1 = new Float64Array(k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      sum0[j] += matrix[i]![j]!;
      sum1[i] += matrix[i]![j]!;
    }
  const total = pairwiseSum(sum0);
  if (options.weights !== undefined && options.weights !== "linear" && options.weights !== "quadratic") {
    throw new ArgumentError(
      `cohenKappa: weights must be "linear", "quadratic" or undefined, got ${String(options.weights)}`,
    );
  }
  const wm = (i: number, j: number) =>
    options.weights === undefined
      ? i === j
        ? 0
        : 1
      : options.weights === "linear"
        ? Math.abs(i - j)
        : (i - j) * (i - j);
  const observed = new Float64Array(k * k),
    expected = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      observed[i * k + j] = wm(i, j) * matrix[i]![j]!;
      expected[i * k + j] = wm(i, j) * ((sum0[i]! * sum1[j]!) / total);
    }
  const den = pairwiseSum(expected);
  if (!(den !== 0) || !Number.isFinite(den)) {
    warn(
      "Cohen's kappa is undefined: the expected disagreement is zero (both raters use a single class); returning NaN",
    );
    return NaN;
  }
  return 1 - pairwiseSum(observed) / den;
}

export interface TopKOptions {
  k?: number;
  normalize?: boolean;
  sampleWeight?: NumericArray;
  /** All classes, in the order of the score columns (sorted). Default: the sorted labels of yTrue. */
  labels?: readonly Label[];
}

/**
 * Fraction of samples whose true class is among the k highest scores. yScore holds one row of
 * class scores per sample (columns in sorted label order), or one score per sample for binary
 * targets. Ties rank the later column first, as scikit-learn's stable argsort reversed does.
 */
export function topKAccuracy(
  yTrue: Labels,
  yScore: readonly (readonly number[])[] | NumericArray,
  options: TopKOptions = {},
): number {
  const what = "topKAccuracy";
  const k = options.k ?? 2;
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`${what}: k must be a positive integer, got ${k}`);
  if (yTrue.length !== yScore.length)
    throw new ShapeError(`${what}: yTrue has ${yTrue.length} samples but yScore has ${yScore.length}`);
  checkLabelKinds(what, "yTrue", yTrue);
  const twoD = yScore.length > 0 && Array.isArray((yScore as readonly unknown[])[0]);
  let type = uniqueLabels(yTrue).length <= 2 ? "binary" : "multiclass";
  if (type === "binary" && options.labels && options.labels.length > 2) type = "multiclass";
  const nScoreClasses = twoD ? (yScore as readonly (readonly number[])[])[0]!.length : 2;
  if (type === "binary" && twoD && nScoreClasses !== 1) {
    throw new ShapeError(
      `${what}: yTrue is binary but yScore has ${nScoreClasses} columns`,
      "if yTrue does not contain every class, pass labels",
    );
  }
  let classes: (number | string)[];
  if (options.labels === undefined) {
    classes = uniqueLabels(yTrue);
    if (classes.length !== nScoreClasses) {
      throw new ShapeError(
        `${what}: yTrue has ${classes.length} classes but yScore has ${nScoreClasses}`,
        "pass labels with every class, in score-column order",
      );
    }
  } else {
    classes = checkColumnLabels(what, options.labels, nScoreClasses);
  }
  const index = labelIndex(classes);
  const enc = yTrue.map((l, i) => {
    const c = index.get(normLabel(l));
    if (c === undefined) throw new ArgumentError(`${what}: yTrue[${i}] = ${fmtLabel(l)} is not one of the labels`);
    return c;
  });
  if (k >= classes.length)
    warn(
      `'k' (${k}) greater than or equal to 'n_classes' (${classes.length}) will result in a perfect score and is therefore meaningless.`,
    );
  const w = checkSampleWeight(what, options.sampleWeight, yTrue.length);
  const hits = new Float64Array(yTrue.length);
  if (type === "binary") {
    const s = twoD ? (yScore as readonly (readonly number[])[]).map((r) => r[0]!) : Array.from(yScore as NumericArray);
    assertFinite(what, "yScore", s);
    if (k === 1) {
      const lo = Math.min(...s),
        hi = Math.max(...s);
      const threshold = lo >= 0 && hi <= 1 ? 0.5 : 0;
      for (let i = 0; i < s.length; i++) hits[i] = (s[i]! > threshold ? 1 : 0) === enc[i] ? 1 : 0;
    } else hits.fill(1);
  } else {
    const rows = yScore as readonly (readonly number[])[];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (row.length !== nScoreClasses)
        throw new ShapeError(`${what}: yScore[${i}] has ${row.length} columns, yScore[0] has ${nScoreClasses}`);
      assertFinite(what, `yScore[${i}]`, row);
      // Rank of the true class: columns scoring higher, plus tied columns after it.
      const t = enc[i]!,
        st = row[t]!;
      let above = 0;
      for (let j = 0; j < row.length; j++) if (row[j]! > st || (row[j] === st && j > t)) above++;
      hits[i] = above < k ? 1 : 0;
    }
  }
  return weightedSum(hits, w, options.normalize ?? true);
}
