/**
 * Scores of predicted probabilities: log loss (cross-entropy) and the Brier score as scikit-learn
 * computes them, and expected calibration error binned as torchmetrics bins it.
 */
import { ArgumentError, ShapeError } from "../../util/errors.js";
import { assertFinite, checkSampleWeight, pairwiseSum, weightedMean, type NumericArray } from "../numeric.js";
import { warn } from "../warnings.js";
import { positives } from "./curves.js";
import { checkLabelKinds, fmtLabel, labelIndex, normLabel, uniqueLabels, type Label, type Labels } from "./labels.js";

type Matrix = readonly (readonly number[])[];

const EPS = 2.220446049250313e-16; // float64 machine epsilon, sklearn's clipping bound

export interface LogLossOptions {
  /** false: the summed loss instead of the mean. */
  normalize?: boolean;
  sampleWeight?: NumericArray;
  /** All classes (the probability columns are in their sorted order). Default: the labels of yTrue. */
  labels?: readonly Label[];
}

/**
 * Mean negative log-likelihood of the true class. yProb is one row of class probabilities per
 * sample (columns in sorted label order), or for two classes the probability of the greater label.
 * Probabilities are clipped to [eps, 1 − eps]; rows not summing to 1 raise a warning.
 */
export function logLoss(yTrue: Labels, yProb: NumericArray | Matrix, options: LogLossOptions = {}): number {
  const what = "logLoss";
  if (yTrue.length !== yProb.length)
    throw new ShapeError(`${what}: yTrue has ${yTrue.length} samples but yProb has ${yProb.length}`);
  if (yTrue.length === 0) throw new ArgumentError(`${what}: no samples`);
  checkLabelKinds(what, "yTrue", yTrue);
  const classes = options.labels ? uniqueLabels(options.labels) : uniqueLabels(yTrue);
  if (classes.length === 1) {
    throw new ArgumentError(
      options.labels
        ? `${what}: labels needs at least two classes, got ${fmtLabel(classes[0]!)}`
        : `${what}: yTrue contains only one label (${fmtLabel(classes[0]!)})`,
      "pass every class through labels",
    );
  }
  const index = labelIndex(classes);
  const w = checkSampleWeight(what, options.sampleWeight, yTrue.length);
  const twoD = Array.isArray((yProb as Matrix)[0]);
  const width = twoD ? (yProb as Matrix)[0]!.length : 1;
  const nCols = width === 1 ? 2 : width;
  if (nCols !== classes.length) {
    throw new ShapeError(
      `${what}: yProb has ${nCols} classes but there are ${classes.length} (${classes.map(fmtLabel).join(", ")})`,
      options.labels ? undefined : "pass every class through labels",
    );
  }
  const loss = new Float64Array(yTrue.length);
  let unnormalized = false;
  for (let i = 0; i < yTrue.length; i++) {
    const c = index.get(normLabel(yTrue[i]!));
    if (c === undefined)
      throw new ArgumentError(
        `${what}: yTrue[${i}] = ${fmtLabel(yTrue[i]!)} is not one of the labels ${classes.map(fmtLabel).join(", ")}`,
      );
    let row: readonly number[];
    if (twoD) {
      row = (yProb as Matrix)[i]!;
      if (!Array.isArray(row) || row.length !== width)
        throw new ShapeError(
          `${what}: yProb[${i}] has ${Array.isArray(row) ? row.length : "no"} columns, yProb[0] has ${width}`,
        );
    } else row = [(yProb as NumericArray)[i]!];
    assertFinite(what, `yProb[${i}]`, row);
    if (row.length === 1) row = [1 - row[0]!, row[0]!];
    const s = row.reduce((a, b) => a + b, 0);
    if (!(Math.abs(s - 1) <= 1e-8 + Math.sqrt(EPS))) unnormalized = true;
    const p = Math.min(Math.max(row[c]!, EPS), 1 - EPS);
    loss[i] = -Math.log(p);
  }
  if (unnormalized) warn("The yProb values do not sum to one. Make sure to pass probabilities.");
  if (options.normalize ?? true) return weightedMean(loss, w);
  if (!w) return pairwiseSum(loss);
  let s = 0;
  for (let i = 0; i < loss.length; i++) s += loss[i]! * w[i]!;
  return s;
}

/** Mean squared difference between the predicted probability of the positive class and the outcome. */
export function brierScore(
  yTrue: Labels,
  yProb: NumericArray,
  options: { posLabel?: Label; sampleWeight?: NumericArray } = {},
): number {
  const what = "brierScore";
  if (yTrue.length !== yProb.length)
    throw new ShapeError(`${what}: yTrue has ${yTrue.length} samples but yProb has ${yProb.length}`);
  assertFinite(what, "yProb", yProb);
  for (let i = 0; i < yProb.length; i++) {
    if (yProb[i]! < 0 || yProb[i]! > 1) throw new ArgumentError(`${what}: yProb[${i}] = ${yProb[i]} is outside [0, 1]`);
  }
  const isPos = positives(what, yTrue, options.posLabel);
  const w = checkSampleWeight(what, options.sampleWeight, yTrue.length);
  const sq = Float64Array.from(isPos, (t, i) => (t - yProb[i]!) ** 2);
  return weightedMean(sq, w);
}

export interface CalibrationOptions {
  /** Equal-width confidence bins over [0, 1] (default 15). */
  nBins?: number;
  /** "l1": expected calibration error; "l2": root of the weighted squared gaps; "max": maximum gap. */
  norm?: "l1" | "l2" | "max";
}

export interface CalibrationResult {
  value: number;
  /** Per bin [lo, hi): sample count, mean confidence, accuracy. */
  bins: { lo: number; hi: number; count: number; confidence: number; accuracy: number }[];
}

/**
 * Calibration error. Binary (one probability per sample): confidence is the predicted probability
 * of the positive class and the outcome is yTrue === posLabel. Multiclass (rows of probabilities,
 * columns in sorted label order): confidence is the top probability and the outcome is whether
 * the top class is right. Bins are [i/n, (i+1)/n); a confidence of exactly 1 gets its own bin.
 */
export function calibrationError(
  yTrue: Labels,
  yProb: NumericArray | Matrix,
  options: CalibrationOptions & { posLabel?: Label; labels?: readonly Label[] } = {},
): CalibrationResult {
  const what = "calibrationError";
  const nBins = options.nBins ?? 15;
  if (!Number.isInteger(nBins) || nBins < 1)
    throw new ArgumentError(`${what}: nBins must be a positive integer, got ${nBins}`);
  if (yTrue.length !== yProb.length)
    throw new ShapeError(`${what}: yTrue has ${yTrue.length} samples but yProb has ${yProb.length}`);
  if (yTrue.length === 0) throw new ArgumentError(`${what}: no samples`);
  const n = yTrue.length;
  const conf = new Float64Array(n),
    hit = new Float64Array(n);
  if (Array.isArray((yProb as Matrix)[0])) {
    checkLabelKinds(what, "yTrue", yTrue);
    const classes = options.labels ? options.labels.map(normLabel) : uniqueLabels(yTrue);
    const index = labelIndex(classes);
    for (let i = 0; i < n; i++) {
      const row = (yProb as Matrix)[i]!;
      if (row.length !== classes.length)
        throw new ShapeError(
          `${what}: yProb[${i}] has ${row.length} columns for ${classes.length} classes`,
          "pass labels listing every class",
        );
      assertFinite(what, `yProb[${i}]`, row);
      let best = 0;
      for (let j = 1; j < row.length; j++) if (row[j]! > row[best]!) best = j;
      const c = index.get(normLabel(yTrue[i]!));
      if (c === undefined)
        throw new ArgumentError(`${what}: yTrue[${i}] = ${fmtLabel(yTrue[i]!)} is not one of the labels`);
      conf[i] = row[best]!;
      hit[i] = best === c ? 1 : 0;
    }
  } else {
    assertFinite(what, "yProb", yProb as NumericArray);
    const isPos = positives(what, yTrue, options.posLabel);
    for (let i = 0; i < n; i++) {
      conf[i] = (yProb as NumericArray)[i]!;
      hit[i] = isPos[i]!;
    }
  }
  const slots = nBins + 1;
  const count = new Float64Array(slots),
    confSum = new Float64Array(slots),
    hitSum = new Float64Array(slots);
  for (let i = 0; i < n; i++) {
    const c = conf[i]!;
    if (c < 0 || c > 1) throw new ArgumentError(`${what}: probability ${c} (sample ${i}) is outside [0, 1]`);
    let b = Math.floor(c * nBins);
    // Guard the floor against rounding at the bin edges: bin b holds [b/n, (b+1)/n).
    if (b > 0 && c < b / nBins) b--;
    else if (b < nBins && c >= (b + 1) / nBins) b++;
    count[b]++;
    confSum[b] += c;
    hitSum[b] += hit[i]!;
  }
  const bins: CalibrationResult["bins"] = [];
  let l1 = 0,
    l2 = 0,
    max = 0;
  for (let b = 0; b < slots; b++) {
    const cnt = count[b]!;
    const mc = cnt ? confSum[b]! / cnt : 0,
      acc = cnt ? hitSum[b]! / cnt : 0;
    const gap = Math.abs(acc - mc),
      prop = cnt / n;
    l1 += gap * prop;
    l2 += gap * gap * prop;
    if (gap > max) max = gap;
    if (cnt)
      bins.push({ lo: b / nBins, hi: b === nBins ? 1 : (b + 1) / nBins, count: cnt, confidence: mc, accuracy: acc });
  }
  const norm = options.norm ?? "l1";
  const value = norm === "l1" ? l1 : norm === "l2" ? Math.sqrt(l2) : norm === "max" ? max : NaN;
  if (Number.isNaN(value)) throw new ArgumentError(`${what}: norm must be "l1", "l2" or "max", got ${String(norm)}`);
  return { value, bins };
}

/** Expected calibration error (the l1 calibration error, 15 bins by default). */
export function expectedCalibrationError(
  yTrue: Labels,
  yProb: NumericArray | Matrix,
  options: Omit<CalibrationOptions, "norm"> & { posLabel?: Label; labels?: readonly Label[] } = {},
): number {
  return calibrationError(yTrue, yProb, { ...options, norm: "l1" }).value;
}
