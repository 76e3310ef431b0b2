/**
 * Regression errors and correlations: MSE, RMSE, MAE and R² as scikit-learn computes them (sums
 * in numpy's pairwise order), Pearson's r and Spearman's ρ as scipy.stats computes them (NaN with
 * a warning for constant input, where the correlation is undefined).
 */
import { ArgumentError, ShapeError } from "../util/errors.js";
import {
  assertFinite,
  checkSampleWeight,
  pairwiseSum,
  rankAverage,
  weightedMean,
  type NumericArray,
} from "./numeric.js";
import { warn } from "./warnings.js";

function check(what: string, yTrue: NumericArray, yPred: NumericArray, min = 1): void {
  if (yTrue.length !== yPred.length)
    throw new ShapeError(`${what}: yTrue has ${yTrue.length} values but yPred has ${yPred.length}`);
  if (yTrue.length < min)
    throw new ArgumentError(`${what}: needs at least ${min} value${min === 1 ? "" : "s"}, got ${yTrue.length}`);
  assertFinite(what, "yTrue", yTrue);
  assertFinite(what, "yPred", yPred);
}

export interface RegressionOptions {
  sampleWeight?: NumericArray;
}

export function meanSquaredError(yTrue: NumericArray, yPred: NumericArray, options: RegressionOptions = {}): number {
  check("meanSquaredError", yTrue, yPred);
  const w = checkSampleWeight("meanSquaredError", options.sampleWeight, yTrue.length);
  return weightedMean(
    Float64Array.from(yTrue, (t, i) => (t - yPred[i]!) ** 2),
    w,
  );
}

export function rootMeanSquaredError(
  yTrue: NumericArray,
  yPred: NumericArray,
  options: RegressionOptions = {},
): number {
  return Math.sqrt(meanSquaredError(yTrue, yPred, options));
}

export function meanAbsoluteError(yTrue: NumericArray, yPred: NumericArray, options: RegressionOptions = {}): number {
  check("meanAbsoluteError", yTrue, yPred);
  const w = checkSampleWeight("meanAbsoluteError", options.sampleWeight, yTrue.length);
  return weightedMean(
    Float64Array.from(yTrue, (t, i) => Math.abs(t - yPred[i]!)),
    w,
  );
}

/**
 * Coefficient of determination 1 − SS_res/SS_tot. For constant yTrue (SS_tot = 0) it is 1 when
 * the prediction is perfect and 0 otherwise (sklearn's force_finite); NaN with fewer than 2 samples.
 */
export function r2Score(yTrue: NumericArray, yPred: NumericArray, options: RegressionOptions = {}): number {
  check("r2Score", yTrue, yPred);
  const w = checkSampleWeight("r2Score", options.sampleWeight, yTrue.length);
  if (yTrue.length < 2) {
    warn("R^2 score is not well-defined with less than two samples.");
    return NaN;
  }
  const mean = weightedMean(yTrue, w);
  const num = pairwiseSum(Float64Array.from(yTrue, (t, i) => (w ? w[i]! : 1) * (t - yPred[i]!) ** 2));
  const den = pairwiseSum(Float64Array.from(yTrue, (t, i) => (w ? w[i]! : 1) * (t - mean) ** 2));
  if (num === 0) return 1;
  if (den === 0) return 0;
  return 1 - num / den;
}

/** Euclidean norm, scaled against overflow (like BLAS nrm2). */
function norm(v: Float64Array): number {
  let scale = 0;
  for (const x of v) scale = Math.max(scale, Math.abs(x));
  if (scale === 0) return 0;
  let s = 0;
  for (const x of v) s += (x / scale) ** 2;
  return scale * Math.sqrt(s);
}

function correlation(what: string, x: NumericArray, y: NumericArray): number {
  const n = x.length;
  let constX = true,
    constY = true;
  for (let i = 1; i < n; i++) {
    if (x[i] !== x[0]) constX = false;
    if (y[i] !== y[0]) constY = false;
  }
  if (constX || constY) {
    warn(`${what}: an input array is constant; the correlation coefficient is not defined (NaN)`);
    return NaN;
  }
  if (n === 2) return Math.sign(x[1]! - x[0]!) * Math.sign(y[1]! - y[0]!);
  const mx = pairwiseSum(x) / n,
    my = pairwiseSum(y) / n;
  const xm = Float64Array.from(x, (v) => v - mx),
    ym = Float64Array.from(y, (v) => v - my);
  const nx = norm(xm),
    ny = norm(ym);
  if (nx < 1e-13 * Math.abs(mx) || ny < 1e-13 * Math.abs(my)) {
    warn(`${what}: an input array is nearly constant; the computed correlation may be inaccurate`);
  }
  let r = 0;
  for (let i = 0; i < n; i++) r += (xm[i]! / nx) * (ym[i]! / ny);
  return Math.max(Math.min(r, 1), -1);
}

/** Pearson's product-moment correlation coefficient. */
export function pearson(x: NumericArray, y: NumericArray): number {
  check("pearson", x, y, 2);
  return correlation("pearson", x, y);
}

/** Spearman's rank correlation (Pearson's r of the ranks, ties given their average rank). */
export function spearman(x: NumericArray, y: NumericArray): number {
  check("spearman", x, y, 2);
  return correlation("spearman", rankAverage(x), rankAverage(y));
}
