/**
 * Ranking quality of scores: ROC AUC (binary; multiclass one-vs-rest and one-vs-one; multilabel)
 * and average precision (PR AUC), with scikit-learn's averaging rules.
 */
import { ArgumentError, ShapeError } from "../../util/errors.js";
import { assertFinite, checkSampleWeight, pairwiseSum, weightedMean, type NumericArray } from "../numeric.js";
import { auc, averagePrecisionFromCurve, binaryClfCurve, positives, rocFromCurve } from "./curves.js";
import {
  checkColumnLabels,
  checkIndicator,
  checkLabelKinds,
  fmtLabel,
  isIndicator,
  labelIndex,
  normLabel,
  uniqueLabels,
  type Indicator,
  type Label,
  type Labels,
} from "./labels.js";

export type ScoreAverage = "micro" | "macro" | "weighted" | "samples";
type Matrix = readonly (readonly number[])[];

function isMatrix(s: NumericArray | Matrix): s is Matrix {
  return s.length > 0 && Array.isArray((s as Matrix)[0]);
}

function checkMatrix(what: string, name: string, m: Matrix): number {
  const width = m[0]!.length;
  m.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== width)
      throw new ShapeError(
        `${what}: ${name}[${i}] has ${Array.isArray(row) ? row.length : "no"} columns, ${name}[0] has ${width}`,
      );
    assertFinite(what, `${name}[${i}]`, row);
  });
  return width;
}

/** ROC AUC of one 0/1 column; throws when only one class is present, as sklearn does. */
function binaryRocAuc(
  what: string,
  isPos: Uint8Array,
  score: NumericArray,
  weight: NumericArray | undefined,
  maxFpr: number | undefined,
): number {
  // Like sklearn, both classes must occur (whatever their weights); zero weights may still
  // empty a class, and then the curve is NaN with a warning.
  let np = 0,
    nn = 0;
  for (let i = 0; i < isPos.length; i++) {
    if (isPos[i]) np++;
    else nn++;
  }
  if (np === 0 || nn === 0) {
    throw new ArgumentError(
      `${what}: only one class is present in yTrue (${np === 0 ? "no positives" : "no negatives"} among ${isPos.length} samples); ROC AUC is not defined in that case`,
      "evaluate on data containing both classes, or report another metric",
    );
  }
  const { fpr, tpr } = rocFromCurve(binaryClfCurve(isPos, score, weight), true);
  if (maxFpr === undefined || maxFpr === 1) return auc(fpr, tpr);
  if (!(maxFpr > 0 && maxFpr <= 1)) throw new ArgumentError(`${what}: maxFpr must be in (0, 1], got ${maxFpr}`);
  // Partial AUC up to maxFpr, interpolating one point, then the McClish standardisation.
  let stop = 0;
  while (stop < fpr.length && fpr[stop]! <= maxFpr) stop++;
  const x0 = fpr[stop - 1]!,
    x1 = fpr[stop]!,
    y0 = tpr[stop - 1]!,
    y1 = tpr[stop]!;
  const yi = ((y1 - y0) / (x1 - x0)) * (maxFpr - x0) + y0; // np.interp's order of operations
  const xs = Float64Array.from([...fpr.subarray(0, stop), maxFpr]);
  const ys = Float64Array.from([...tpr.subarray(0, stop), yi]);
  const partial = auc(xs, ys);
  const minArea = 0.5 * maxFpr * maxFpr;
  return 0.5 * (1 + (partial - minArea) / (maxFpr - minArea));
}

/** sklearn's _average_binary_score over the columns (or rows, for "samples") of indicator targets. */
function averageBinary(
  _what: string,
  metric: (isPos: Uint8Array, score: NumericArray, weight: NumericArray | undefined) => number,
  yTrue: Indicator,
  yScore: Matrix,
  average: ScoreAverage | null,
  sampleWeight: NumericArray | undefined,
): number | number[] {
  const n = yTrue.length,
    k = yTrue[0]!.length;
  if (average === "micro") {
    const t = new Uint8Array(n * k),
      s = new Float64Array(n * k);
    const w = sampleWeight ? new Float64Array(n * k) : undefined;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < k; j++) {
        t[i * k + j] = yTrue[i]![j]!;
        s[i * k + j] = yScore[i]![j]!;
        if (w) w[i * k + j] = sampleWeight![i]!;
      }
    return metric(t, s, w);
  }
  let averageWeight: Float64Array | NumericArray | undefined;
  if (average === "weighted") {
    const aw = new Float64Array(k);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < k; j++) aw[j] += yTrue[i]![j]! * (sampleWeight ? sampleWeight[i]! : 1);
    if (Math.abs(pairwiseSum(aw)) <= 1e-8) return 0;
    averageWeight = aw;
  }
  const scores: number[] = [];
  if (average === "samples") {
    for (let i = 0; i < n; i++) scores.push(metric(Uint8Array.from(yTrue[i]!), yScore[i]!, undefined));
    averageWeight = sampleWeight;
  } else {
    for (let j = 0; j < k; j++) {
      const t = Uint8Array.from(yTrue, (r) => r[j]!);
      const s = Float64Array.from(yScore, (r) => r[j]!);
      scores.push(metric(t, s, sampleWeight));
    }
  }
  if (average === null) return scores;
  if (averageWeight) {
    const aw = averageWeight;
    // Zero-weight entries are forced to 0 so that a NaN there cannot poison the average.
    const sc = scores.map((v, i) => (aw[i] === 0 ? 0 : v));
    return weightedMean(sc, aw);
  }
  return weightedMean(scores);
}

/** label_binarize: one 0/1 column per class. */
function binarize(yTrue: Labels, classes: readonly (number | string)[]): number[][] {
  const index = labelIndex(classes);
  return yTrue.map((l) => {
    const row = new Array<number>(classes.length).fill(0);
    const c = index.get(normLabel(l));
    if (c !== undefined) row[c] = 1;
    return row;
  });
}

type BinaryMetric = (isPos: Uint8Array, score: NumericArray, weight: NumericArray | undefined) => number;

/** The checks rocAuc and averagePrecision share: one score (row) per sample, some samples, valid weights. */
function checkScores(
  what: string,
  yTrue: Labels | Indicator,
  yScore: NumericArray | Matrix,
  sampleWeight: NumericArray | undefined,
): NumericArray | undefined {
  if (yTrue.length !== yScore.length)
    throw new ShapeError(`${what}: yTrue has ${yTrue.length} samples but yScore has ${yScore.length}`);
  if (yTrue.length === 0) throw new ArgumentError(`${what}: no samples`);
  return checkSampleWeight(what, sampleWeight, yTrue.length);
}

/** A multilabel target scored column by column (or row by row for "samples"). */
function scoreMultilabel(
  what: string,
  metric: BinaryMetric,
  yTrue: Indicator,
  yScore: NumericArray | Matrix,
  average: ScoreAverage | null,
  sw: NumericArray | undefined,
): number | number[] {
  checkIndicator(what, "yTrue", yTrue);
  if (!isMatrix(yScore) || checkMatrix(what, "yScore", yScore) !== yTrue[0]!.length)
    throw new ShapeError(`${what}: a multilabel yTrue needs a yScore matrix of the same shape`);
  return averageBinary(what, metric, yTrue, yScore, average, sw);
}

export interface RocAucOptions {
  /** Multiclass/multilabel averaging; null returns one score per class. Default "macro". */
  average?: ScoreAverage | null;
  sampleWeight?: NumericArray;
  /** Standardised partial AUC over FPR ∈ [0, maxFpr] (binary only). */
  maxFpr?: number;
  /** Required for multiclass targets: one-vs-rest or one-vs-one (Hand & Till). */
  multiClass?: "ovr" | "ovo";
  /** Multiclass: all classes, sorted, in score-column order (default: the classes in yTrue). */
  labels?: readonly Label[];
}

/**
 * Area under the ROC curve. Binary: yScore is the score of the greater label (e.g. 1, or "spam"
 * over "ham"). Multiclass: yScore rows are class probabilities. Multilabel: yTrue and yScore are
 * matrices. Throws when a class needed for the curve is absent (AUC undefined), like sklearn.
 */
export function rocAuc(
  yTrue: Labels | Indicator,
  yScore: NumericArray | Matrix,
  options: RocAucOptions = {},
): number | number[] {
  const what = "rocAuc";
  const average = options.average === undefined ? "macro" : options.average;
  const metric: BinaryMetric = (t, s, w) => binaryRocAuc(what, t, s, w, options.maxFpr);
  const sw = checkScores(what, yTrue, yScore, options.sampleWeight);
  if (isIndicator(yTrue)) return scoreMultilabel(what, metric, yTrue, yScore, average, sw);
  checkLabelKinds(what, "yTrue", yTrue);
  const present = uniqueLabels(yTrue);
  const width = isMatrix(yScore) ? checkMatrix(what, "yScore", yScore) : 1;
  if (present.length > 2 || (isMatrix(yScore) && width > 2)) {
    if (options.maxFpr !== undefined && options.maxFpr !== 1)
      throw new ArgumentError(`${what}: partial AUC (maxFpr) is not available for multiclass targets`);
    if (!isMatrix(yScore))
      throw new ShapeError(
        `${what}: yTrue has ${present.length} classes; yScore must hold one row of class probabilities per sample`,
      );
    return multiclassRocAuc(what, yTrue, yScore, options, average, sw);
  }
  if (isMatrix(yScore))
    throw new ShapeError(
      `${what}: binary yTrue needs one score per sample, got rows of ${width}`,
      "pass the positive class's column",
    );
  assertFinite(what, "yScore", yScore);
  if (present.length < 2) {
    throw new ArgumentError(
      `${what}: only one class (${fmtLabel(present[0]!)}) is present in yTrue; ROC AUC is not defined in that case`,
      "evaluate on data containing both classes, or report another metric",
    );
  }
  // Binary: the positive class is the greater of the two labels.
  const pos = present[present.length - 1]!;
  const isPos = new Uint8Array(yTrue.length);
  for (let i = 0; i < yTrue.length; i++) isPos[i] = normLabel(yTrue[i]!) === pos ? 1 : 0;
  return metric(isPos, yScore, sw);
}

function multiclassRocAuc(
  what: string,
  yTrue: Labels,
  yScore: Matrix,
  options: RocAucOptions,
  average: ScoreAverage | null,
  sw: NumericArray | undefined,
): number | number[] {
  for (let i = 0; i < yScore.length; i++) {
    const s = yScore[i]!.reduce((a, b) => a + b, 0);
    if (!(Math.abs(1 - s) <= 1e-8 + 1e-5 * Math.abs(s))) {
      throw new ArgumentError(
        `${what}: yScore[${i}] sums to ${s}; multiclass ROC AUC needs class probabilities that sum to 1`,
        "apply softmax to the logits first",
      );
    }
  }
  const multiClass = options.multiClass;
  if (multiClass === undefined) throw new ArgumentError(`${what}: multiclass targets need multiClass: "ovr" or "ovo"`);
  if (multiClass !== "ovr" && multiClass !== "ovo")
    throw new ArgumentError(`${what}: multiClass must be "ovr" or "ovo", got ${String(multiClass)}`);
  const allowed: (ScoreAverage | null)[] =
    multiClass === "ovr" ? ["micro", "macro", "weighted", null] : ["macro", "weighted"];
  if (!allowed.includes(average))
    throw new ArgumentError(
      `${what}: average must be one of ${allowed.map(String).join(", ")} for multiClass "${multiClass}"`,
    );
  const width = yScore[0]!.length;
  let classes: (number | string)[];
  if (options.labels !== undefined) {
    classes = checkColumnLabels(what, options.labels, width);
    const known = new Set(classes);
    yTrue.forEach((l, i) => {
      if (!known.has(normLabel(l)))
        throw new ArgumentError(`${what}: yTrue[${i}] = ${fmtLabel(l)} is not one of the labels`);
    });
  } else {
    classes = uniqueLabels(yTrue);
    if (classes.length !== width)
      throw new ShapeError(
        `${what}: yTrue has ${classes.length} classes but yScore has ${width} columns`,
        "pass labels listing every class in score-column order",
      );
  }
  const metric = (t: Uint8Array, s: NumericArray, w: NumericArray | undefined) =>
    binaryRocAuc(what, t, s, w, undefined);
  if (multiClass === "ovr") return averageBinary(what, metric, binarize(yTrue, classes), yScore, average, sw);
  if (sw) throw new ArgumentError(`${what}: sampleWeight is not supported for one-vs-one ROC AUC`);
  // Hand & Till: mean over class pairs of the two directed AUCs, on the samples of the pair.
  const index = labelIndex(classes);
  const enc = yTrue.map((l) => index.get(normLabel(l))!);
  const presentCodes = [...new Set(enc)].sort((a, b) => a - b);
  const pairScores: number[] = [],
    prevalence: number[] = [];
  for (let x = 0; x < presentCodes.length; x++)
    for (let y = x + 1; y < presentCodes.length; y++) {
      const a = presentCodes[x]!,
        b = presentCodes[y]!;
      const rows: number[] = [];
      enc.forEach((c, i) => (c === a || c === b) && rows.push(i));
      const aTrue = Uint8Array.from(rows, (i) => (enc[i] === a ? 1 : 0));
      const bTrue = Uint8Array.from(rows, (i) => (enc[i] === b ? 1 : 0));
      const sa = Float64Array.from(rows, (i) => yScore[i]![a]!);
      const sb = Float64Array.from(rows, (i) => yScore[i]![b]!);
      pairScores.push((metric(aTrue, sa, undefined) + metric(bTrue, sb, undefined)) / 2);
      prevalence.push(rows.length / enc.length);
    }
  return weightedMean(pairScores, average === "weighted" ? prevalence : undefined);
}

export interface AveragePrecisionOptions {
  average?: ScoreAverage | null;
  /** Binary targets: the positive class (default 1). */
  posLabel?: Label;
  sampleWeight?: NumericArray;
}

/**
 * Average precision: Σ (R_n − R_{n−1}) P_n over thresholds, the step-wise area under the
 * precision-recall curve (no interpolation). Multiclass targets are scored one-vs-rest.
 */
export function averagePrecision(
  yTrue: Labels | Indicator,
  yScore: NumericArray | Matrix,
  options: AveragePrecisionOptions = {},
): number | number[] {
  const what = "averagePrecision";
  const average = options.average === undefined ? "macro" : options.average;
  const metric: BinaryMetric = (t, s, w) => averagePrecisionFromCurve(binaryClfCurve(t, s, w));
  const posLabel = normLabel(options.posLabel ?? 1);
  const sw = checkScores(what, yTrue, yScore, options.sampleWeight);
  if (isIndicator(yTrue)) {
    if (posLabel !== 1) throw new ArgumentError(`${what}: posLabel is fixed to 1 for multilabel targets`);
    return scoreMultilabel(what, metric, yTrue, yScore, average, sw);
  }
  checkLabelKinds(what, "yTrue", yTrue);
  const present = uniqueLabels(yTrue);
  if (present.length > 2) {
    if (posLabel !== 1)
      throw new ArgumentError(`${what}: posLabel is fixed to 1 for multiclass targets (scored one-vs-rest)`);
    if (!isMatrix(yScore))
      throw new ShapeError(
        `${what}: yTrue has ${present.length} classes; yScore must hold one row of class scores per sample`,
      );
    const width = checkMatrix(what, "yScore", yScore);
    if (width !== present.length)
      throw new ShapeError(`${what}: yTrue has ${present.length} classes but yScore has ${width} columns`);
    return averageBinary(what, metric, binarize(yTrue, present), yScore, average, sw);
  }
  if (present.length === 2 && !present.includes(posLabel)) {
    throw new ArgumentError(
      `${what}: posLabel=${fmtLabel(posLabel)} is not a valid label; it should be one of ${present.map(fmtLabel).join(", ")}`,
    );
  }
  if (isMatrix(yScore))
    throw new ShapeError(`${what}: binary yTrue needs one score per sample`, "pass the positive class's column");
  assertFinite(what, "yScore", yScore);
  return metric(positives(what, yTrue, posLabel), yScore, sw);
}
