/**
 * Threshold curves of a binary scorer: the ROC curve, the precision-recall curve and the trapezoid
 * area under a curve, as sklearn.metrics computes them. Thresholds are the distinct scores in
 * decreasing order; tied scores form one point, so ties cost nothing and gain nothing.
 */
import { ArgumentError, ShapeError } from "../../util/errors.js";
import { assertFinite, checkSampleWeight, pairwiseSum, type NumericArray } from "../numeric.js";
import { warn } from "../warnings.js";
import { checkLabelKinds, fmtLabel, normLabel, uniqueLabels, type Label, type Labels } from "./labels.js";

/** Cumulative false/true positives at each distinct threshold (sklearn's _binary_clf_curve). */
export interface ClfCurve {
  fps: Float64Array;
  tps: Float64Array;
  thresholds: Float64Array;
}

/** Binarizes yTrue: posLabel if given, else 1 when the labels are {0,1}, {-1,1} or a single one of them. */
export function positives(what: string, yTrue: Labels, posLabel: Label | undefined): Uint8Array {
  const kind = checkLabelKinds(what, "yTrue", yTrue);
  const classes = uniqueLabels(yTrue);
  let pos: number | string;
  if (posLabel === undefined) {
    const ok =
      kind !== "string" &&
      classes.every((c) => c === 0 || c === 1 || c === -1) &&
      !(classes.includes(0) && classes.includes(-1));
    if (!ok) {
      throw new ArgumentError(
        `${what}: yTrue takes values in {${classes.map(fmtLabel).join(", ")}} and posLabel is not given`,
        "make yTrue take values in {0, 1} or {-1, 1}, or pass posLabel",
      );
    }
    pos = 1;
  } else {
    pos = normLabel(posLabel);
    if (classes.length > 2)
      throw new ArgumentError(`${what}: yTrue has ${classes.length} classes; a binary curve needs at most 2`);
  }
  const out = new Uint8Array(yTrue.length);
  for (let i = 0; i < yTrue.length; i++) out[i] = normLabel(yTrue[i]!) === pos ? 1 : 0;
  return out;
}

/** Core of every threshold metric, on a 0/1 truth vector. */
export function binaryClfCurve(isPos: Uint8Array, score: NumericArray, weight?: NumericArray): ClfCurve {
  const n = isPos.length;
  if (weight === undefined) {
    // Sort the positive and negative scores apart (native typed-array sorts) and merge from the top.
    let np = 0;
    for (let i = 0; i < n; i++) np += isPos[i]!;
    const P = new Float64Array(np),
      N = new Float64Array(n - np);
    for (let i = 0, a = 0, b = 0; i < n; i++) {
      if (isPos[i]) P[a++] = score[i]!;
      else N[b++] = score[i]!;
    }
    P.sort();
    N.sort();
    // Preallocated outputs, trimmed at the end (one entry per distinct score).
    const fps = new Float64Array(n),
      tps = new Float64Array(n),
      th = new Float64Array(n);
    let i = P.length - 1,
      j = N.length - 1,
      tp = 0,
      fp = 0,
      m = 0;
    while (i >= 0 || j >= 0) {
      const v = i < 0 ? N[j]! : j < 0 ? P[i]! : Math.max(P[i]!, N[j]!);
      while (i >= 0 && P[i] === v) {
        tp++;
        i--;
      }
      while (j >= 0 && N[j] === v) {
        fp++;
        j--;
      }
      fps[m] = fp;
      tps[m] = tp;
      th[m++] = v === 0 ? 0 : v;
    }
    return { fps: fps.slice(0, m), tps: tps.slice(0, m), thresholds: th.slice(0, m) };
  }
  // Weighted: keep sklearn's accumulation order (descending score, ties by descending index).
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (weight[i] !== 0) idx.push(i);
  if (idx.length === 0) throw new ArgumentError("every sample weight is zero: there is no curve to compute");
  idx.sort((a, b) => score[b]! - score[a]! || b - a);
  const fps: number[] = [],
    tps: number[] = [],
    th: number[] = [];
  let tp = 0,
    fp = 0;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    tp += isPos[i]! * weight[i]!;
    fp += (1 - isPos[i]!) * weight[i]!;
    if (k === idx.length - 1 || score[idx[k + 1]!] !== score[i]) {
      fps.push(fp);
      tps.push(tp);
      th.push(score[i]!);
    }
  }
  return { fps: Float64Array.from(fps), tps: Float64Array.from(tps), thresholds: Float64Array.from(th) };
}

function prepare(
  what: string,
  yTrue: Labels,
  yScore: NumericArray,
  posLabel: Label | undefined,
  sampleWeight: NumericArray | undefined,
) {
  if (yTrue.length !== yScore.length)
    throw new ShapeError(`${what}: yTrue has ${yTrue.length} samples but yScore has ${yScore.length}`);
  if (yTrue.length > 0 && Array.isArray((yScore as unknown as unknown[])[0])) {
    throw new ShapeError(
      `${what}: yScore must hold one score per sample`,
      "for a probability matrix pass the positive class's column",
    );
  }
  assertFinite(what, "yScore", yScore);
  const w = checkSampleWeight(what, sampleWeight, yTrue.length);
  return { isPos: positives(what, yTrue, posLabel), w };
}

export interface CurveOptions {
  posLabel?: Label;
  sampleWeight?: NumericArray;
}

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /** thresholds[0] is Infinity: the point (0, 0) where nothing is predicted positive. */
  thresholds: number[];
}

/** Internal ROC on a 0/1 vector; dropIntermediate removes collinear points as sklearn does. */
export function rocFromCurve(
  c: ClfCurve,
  dropIntermediate: boolean,
): { fpr: Float64Array; tpr: Float64Array; thresholds: Float64Array } {
  let { fps, tps, thresholds } = c;
  if (dropIntermediate && fps.length > 2) {
    // Keep the ends and every point where the curve bends (non-zero second difference).
    const L = fps.length;
    const kf = new Float64Array(L),
      kt = new Float64Array(L),
      kth = new Float64Array(L);
    let m = 0;
    for (let i = 0; i < L; i++) {
      if (i > 0 && i < L - 1) {
        const d2f = fps[i + 1]! - fps[i]! - (fps[i]! - fps[i - 1]!);
        const d2t = tps[i + 1]! - tps[i]! - (tps[i]! - tps[i - 1]!);
        if (d2f === 0 && d2t === 0) continue;
      }
      kf[m] = fps[i]!;
      kt[m] = tps[i]!;
      kth[m++] = thresholds[i]!;
    }
    fps = kf.subarray(0, m);
    tps = kt.subarray(0, m);
    thresholds = kth.subarray(0, m);
  }
  const m = fps.length + 1;
  const fpr = new Float64Array(m),
    tpr = new Float64Array(m),
    th = new Float64Array(m);
  th[0] = Infinity;
  th.set(thresholds, 1);
  const lastF = fps.length ? fps[fps.length - 1]! : 0,
    lastT = tps.length ? tps[tps.length - 1]! : 0;
  if (lastF <= 0) {
    warn("No negative samples in yTrue, false positive value should be meaningless");
    fpr.fill(NaN);
  } else for (let i = 1; i < m; i++) fpr[i] = fps[i - 1]! / lastF;
  if (lastT <= 0) {
    warn("No positive samples in yTrue, true positive value should be meaningless");
    tpr.fill(NaN);
  } else for (let i = 1; i < m; i++) tpr[i] = tps[i - 1]! / lastT;
  return { fpr, tpr, thresholds: th };
}

/** Receiver operating characteristic (sklearn.metrics.roc_curve). */
export function rocCurve(
  yTrue: Labels,
  yScore: NumericArray,
  options: CurveOptions & { dropIntermediate?: boolean } = {},
): RocCurve {
  const { isPos, w } = prepare("rocCurve", yTrue, yScore, options.posLabel, options.sampleWeight);
  const r = rocFromCurve(binaryClfCurve(isPos, yScore, w), options.dropIntermediate ?? true);
  return { fpr: Array.from(r.fpr), tpr: Array.from(r.tpr), thresholds: Array.from(r.thresholds) };
}

export interface PrCurve {
  /** Decreasing-recall order; the last point is (recall 0, precision 1) with no threshold. */
  precision: number[];
  recall: number[];
  thresholds: number[];
}

export function prFromCurve(
  c: ClfCurve,
  dropIntermediate: boolean,
): { precision: Float64Array; recall: Float64Array; thresholds: Float64Array } {
  let { fps, tps, thresholds } = c;
  if (dropIntermediate && fps.length > 2) {
    // Keep only the first and last point of each run of equal tps (a vertical segment).
    const keep: number[] = [0];
    for (let i = 1; i < tps.length - 1; i++) if (tps[i] !== tps[i - 1] || tps[i + 1] !== tps[i]) keep.push(i);
    keep.push(tps.length - 1);
    fps = Float64Array.from(keep, (i) => c.fps[i]!);
    tps = Float64Array.from(keep, (i) => c.tps[i]!);
    thresholds = Float64Array.from(keep, (i) => c.thresholds[i]!);
  }
  const m = tps.length;
  const last = m ? tps[m - 1]! : 0;
  if (last === 0) warn("No positive class found in yTrue, recall is set to one for all thresholds.");
  const precision = new Float64Array(m + 1),
    recall = new Float64Array(m + 1),
    th = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const i = m - 1 - k;
    const ps = tps[i]! + fps[i]!;
    precision[k] = ps !== 0 ? tps[i]! / ps : 0;
    recall[k] = last === 0 ? 1 : tps[i]! / last;
    th[k] = thresholds[i]!;
  }
  precision[m] = 1;
  recall[m] = 0;
  return { precision, recall, thresholds: th };
}

/** Precision-recall pairs for every threshold (sklearn.metrics.precision_recall_curve). */
export function precisionRecallCurve(
  yTrue: Labels,
  yScore: NumericArray,
  options: CurveOptions & { dropIntermediate?: boolean } = {},
): PrCurve {
  const { isPos, w } = prepare("precisionRecallCurve", yTrue, yScore, options.posLabel, options.sampleWeight);
  const r = prFromCurve(binaryClfCurve(isPos, yScore, w), options.dropIntermediate ?? false);
  return { precision: Array.from(r.precision), recall: Array.from(r.recall), thresholds: Array.from(r.thresholds) };
}

/** Area under a curve by the trapezoidal rule; x must be monotonic (either direction). */
export function auc(x: NumericArray, y: NumericArray): number {
  if (x.length !== y.length) throw new ShapeError(`auc: x has ${x.length} points but y has ${y.length}`);
  if (x.length < 2)
    throw new ArgumentError(`auc: at least 2 points are needed to compute the area under a curve, got ${x.length}`);
  let anyNeg = false,
    allNonPos = true;
  for (let i = 1; i < x.length; i++) {
    const d = x[i]! - x[i - 1]!;
    if (d < 0) anyNeg = true;
    if (d > 0) allNonPos = false;
  }
  let direction = 1;
  if (anyNeg) {
    if (allNonPos) direction = -1;
    else throw new ArgumentError("auc: x is neither increasing nor decreasing");
  }
  const parts = new Float64Array(x.length - 1);
  for (let i = 0; i < parts.length; i++) parts[i] = ((x[i + 1]! - x[i]!) * (y[i + 1]! + y[i]!)) / 2.0;
  return direction * pairwiseSum(parts);
}

/** Step-function area under the precision-recall curve (sklearn's average precision), from a curve. */
export function averagePrecisionFromCurve(c: ClfCurve): number {
  const { precision, recall } = prFromCurve(c, false);
  const parts = new Float64Array(recall.length - 1);
  for (let i = 0; i < parts.length; i++) parts[i] = (recall[i + 1]! - recall[i]!) * precision[i]!;
  return -pairwiseSum(parts);
}
