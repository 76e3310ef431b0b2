/**
 * Regression errors and correlations: MSE, RMSE, MAE, R² and explained variance as scikit-learn computes them
 * (sums in numpy's pairwise order; 1-D targets or n_samples × n_outputs rows, with sklearn's multioutput and
 * force_finite), Pearson's r and Spearman's ρ as scipy.stats computes them (NaN with a warning for constant input,
 * where the correlation is undefined).
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

/** Targets: one value per sample, or (scikit-learn's n_samples × n_outputs) one row of values per sample. */
export type Targets = NumericArray | readonly NumericArray[];

/**
 * How the errors of several outputs combine, as scikit-learn's `multioutput`: each output's own value
 * ("raw_values"), their mean ("uniform_average", the default), their mean weighted by each output's variance
 * ("variance_weighted", R² and explained variance only), or a mean with the given weights (one per output).
 */
export type Multioutput = "raw_values" | "uniform_average" | "variance_weighted" | NumericArray;
export const MULTIOUTPUT_CHOICES = ["raw_values", "uniform_average", "variance_weighted"] as const;

export interface RegressionOptions {
  sampleWeight?: NumericArray;
  multioutput?: Multioutput;
}

export interface ExplainedOptions extends RegressionOptions {
  /**
   * sklearn's force_finite (default true): an output whose yTrue is constant scores 1 when predicted
   * perfectly and 0 otherwise; false gives the plain formula's NaN or -Infinity.
   */
  forceFinite?: boolean;
}

/** A raw_values call returns one value per output; any other returns one number. */
export type RegressionResult<O> = O extends { multioutput: "raw_values" } ? number[] : number;

const isRow = (v: unknown): v is NumericArray => typeof v === "object" && v !== null;

/** Targets as columns (one Float64Array per output), checking shapes and finiteness. */
function columns(what: string, y: Targets, name: string): Float64Array[] {
  if (y.length === 0 || !isRow(y[0])) {
    assertFinite(what, name, y as NumericArray);
    return [Float64Array.from(y as NumericArray)];
  }
  const rows = y as readonly NumericArray[];
  const k = rows[0]!.length;
  if (k === 0) throw new ShapeError(`${what}: ${name} has rows with no values`);
  const cols = Array.from({ length: k }, () => new Float64Array(rows.length));
  rows.forEach((row, i) => {
    if (!isRow(row) || row.length !== k)
      throw new ShapeError(
        `${what}: ${name} row ${i} has ${isRow(row) ? row.length : "a single"} value(s), but row 0 has ${k}`,
        "every sample needs one value per output",
      );
    for (let j = 0; j < k; j++) {
      const v = row[j]!;
      if (!Number.isFinite(v)) throw new ArgumentError(`${what}: ${name}[${i}][${j}] is ${v}; values must be finite`);
      cols[j]![i] = v;
    }
  });
  return cols;
}

/** Both targets as columns of one shape (a 1-D target equals a one-column one, as in sklearn). */
function targets(
  what: string,
  yTrue: Targets,
  yPred: Targets,
  options: RegressionOptions,
  variance: boolean,
): { t: Float64Array[]; p: Float64Array[]; w: NumericArray | undefined } {
  const t = columns(what, yTrue, "yTrue"),
    p = columns(what, yPred, "yPred");
  if (t[0]!.length !== p[0]!.length)
    throw new ShapeError(`${what}: yTrue has ${t[0]!.length} values but yPred has ${p[0]!.length}`);
  if (t[0]!.length < 1) throw new ArgumentError(`${what}: needs at least 1 value, got 0`);
  if (t.length !== p.length) throw new ShapeError(`${what}: yTrue has ${t.length} outputs but yPred has ${p.length}`);
  const m = options.multioutput ?? "uniform_average";
  if (typeof m === "string") {
    if (!(MULTIOUTPUT_CHOICES as readonly string[]).includes(m) || (m === "variance_weighted" && !variance))
      throw new ArgumentError(
        `${what}: multioutput must be raw_values, uniform_average${variance ? ", variance_weighted" : ""} or one weight per output, got "${m}"`,
      );
  } else if (t.length === 1)
    throw new ArgumentError(`${what}: weights for the outputs apply to several outputs; these targets have one`);
  else if (m.length !== t.length)
    throw new ShapeError(`${what}: multioutput has ${m.length} weights for ${t.length} outputs`);
  return { t, p, w: checkSampleWeight(what, options.sampleWeight, t[0]!.length) };
}

/** Combines per-output values as multioutput asks (sklearn's _average over the outputs). */
function combine(
  raw: Float64Array,
  multioutput: Multioutput | undefined,
  varianceWeights?: Float64Array,
): number | number[] {
  const m = multioutput ?? "uniform_average";
  if (m === "raw_values") return Array.from(raw);
  if (m === "uniform_average") return weightedMean(raw);
  if (m === "variance_weighted") {
    // all outputs constant: the weights are all zero, so sklearn falls back to the uniform mean
    return varianceWeights!.some((d) => d !== 0) ? weightedMean(raw, varianceWeights) : weightedMean(raw);
  }
  return weightedMean(raw, m);
}

function perOutput(
  what: string,
  yTrue: Targets,
  yPred: Targets,
  options: RegressionOptions,
  f: (t: Float64Array, p: Float64Array, w: NumericArray | undefined) => number,
): number | number[] {
  const { t, p, w } = targets(what, yTrue, yPred, options, false);
  return combine(
    Float64Array.from(t, (col, j) => f(col, p[j]!, w)),
    options.multioutput,
  );
}

const squaredError = (t: Float64Array, p: Float64Array, w: NumericArray | undefined) =>
  weightedMean(
    Float64Array.from(t, (v, i) => (v - p[i]!) ** 2),
    w,
  );

/** Mean squared error (per output, then combined as multioutput asks). */
export function meanSquaredError<O extends RegressionOptions = RegressionOptions>(
  yTrue: Targets,
  yPred: Targets,
  options?: O,
): RegressionResult<O> {
  return perOutput("meanSquaredError", yTrue, yPred, options ?? {}, squaredError) as RegressionResult<O>;
}

/** Root mean squared error: the square root of each output's MSE, then combined (sklearn ≥ 1.4). */
export function rootMeanSquaredError<O extends RegressionOptions = RegressionOptions>(
  yTrue: Targets,
  yPred: Targets,
  options?: O,
): RegressionResult<O> {
  return perOutput("rootMeanSquaredError", yTrue, yPred, options ?? {}, (t, p, w) =>
    Math.sqrt(squaredError(t, p, w)),
  ) as RegressionResult<O>;
}

export function meanAbsoluteError<O extends RegressionOptions = RegressionOptions>(
  yTrue: Targets,
  yPred: Targets,
  options?: O,
): RegressionResult<O> {
  return perOutput("meanAbsoluteError", yTrue, yPred, options ?? {}, (t, p, w) =>
    weightedMean(
      Float64Array.from(t, (v, i) => Math.abs(v - p[i]!)),
      w,
    ),
  ) as RegressionResult<O>;
}

/** sklearn's _assemble_fraction_of_explained_deviance: 1 − num/den per output, then combined. */
function explained(num: Float64Array, den: Float64Array, options: ExplainedOptions): number | number[] {
  const scores = Float64Array.from(num, (n, j) => {
    const d = den[j]!;
    if (options.forceFinite === false) return 1 - n / d;
    if (n === 0) return 1;
    return d === 0 ? 0 : 1 - n / d;
  });
  return combine(scores, options.multioutput, den);
}

/**
 * Coefficient of determination 1 − SS_res/SS_tot, per output. For constant yTrue (SS_tot = 0) it is 1 when the
 * prediction is perfect and 0 otherwise (forceFinite, the default); NaN with fewer than 2 samples.
 */
export function r2Score<O extends ExplainedOptions = ExplainedOptions>(
  yTrue: Targets,
  yPred: Targets,
  options?: O,
): RegressionResult<O> {
  const o: ExplainedOptions = options ?? {};
  const { t, p, w } = targets("r2Score", yTrue, yPred, o, true);
  if (t[0]!.length < 2) {
    warn("R^2 score is not well-defined with less than two samples.");
    return (o.multioutput === "raw_values" ? t.map(() => NaN) : NaN) as RegressionResult<O>;
  }
  const num = Float64Array.from(t, (col, j) =>
    pairwiseSum(Float64Array.from(col, (v, i) => (w ? w[i]! : 1) * (v - p[j]![i]!) ** 2)),
  );
  const den = Float64Array.from(t, (col) => {
    const mean = weightedMean(col, w);
    return pairwiseSum(Float64Array.from(col, (v, i) => (w ? w[i]! : 1) * (v - mean) ** 2));
  });
  return explained(num, den, o) as RegressionResult<O>;
}

/** Explained variance 1 − Var(yTrue − yPred)/Var(yTrue), per output (sklearn's explained_variance_score). */
export function explainedVarianceScore<O extends ExplainedOptions = ExplainedOptions>(
  yTrue: Targets,
  yPred: Targets,
  options?: O,
): RegressionResult<O> {
  const o: ExplainedOptions = options ?? {};
  const { t, p, w } = targets("explainedVarianceScore", yTrue, yPred, o, true);
  const num = Float64Array.from(t, (col, j) => {
    const diff = Float64Array.from(col, (v, i) => v - p[j]![i]!);
    const avg = weightedMean(diff, w);
    return weightedMean(
      Float64Array.from(diff, (d) => (d - avg) ** 2),
      w,
    );
  });
  const den = Float64Array.from(t, (col) => {
    const avg = weightedMean(col, w);
    return weightedMean(
      Float64Array.from(col, (v) => (v - avg) ** 2),
      w,
    );
  });
  return explained(num, den, o) as RegressionResult<O>;
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
