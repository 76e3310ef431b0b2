/** Confusion matrices (sklearn.metrics.confusion_matrix and multilabel_confusion_matrix). */
import { ArgumentError } from "../../util/errors.js";
import { checkSampleWeight, type NumericArray } from "../numeric.js";
import {
  checkTargets,
  fmtLabel,
  labelIndex,
  normLabel,
  uniqueLabels,
  type Indicator,
  type Label,
  type Labels,
} from "./labels.js";

export interface ConfusionMatrixOptions {
  /** Row/column order; samples whose labels are not listed are ignored. Default: sorted labels present. */
  labels?: readonly Label[];
  sampleWeight?: NumericArray;
  /** Divide by row sums ("true"), column sums ("pred") or the total ("all"); 0/0 becomes 0. */
  normalize?: "true" | "pred" | "all";
}

export interface ConfusionMatrix {
  labels: (number | string)[];
  /** matrix[i][j]: samples of true class labels[i] predicted as labels[j]. */
  matrix: number[][];
}

export function confusionMatrix(yTrue: Labels, yPred: Labels, options: ConfusionMatrixOptions = {}): ConfusionMatrix {
  const what = "confusionMatrix";
  const { type } = checkTargets(what, yTrue, yPred);
  if (type === "multilabel-indicator")
    throw new ArgumentError(`${what}: multilabel targets are not supported; use multilabelConfusionMatrix`);
  const w = checkSampleWeight(what, options.sampleWeight, yTrue.length);
  let labels: (number | string)[];
  if (options.labels === undefined) labels = uniqueLabels(yTrue, yPred);
  else {
    labels = options.labels.map(normLabel);
    if (labels.length === 0) throw new ArgumentError(`${what}: labels is empty; give at least one label`);
    if (new Set(labels).size !== labels.length) throw new ArgumentError(`${what}: labels contains duplicates`);
    if (yTrue.length > 0 && !yTrue.some((l) => labels.includes(normLabel(l)))) {
      throw new ArgumentError(`${what}: none of the labels [${labels.map(fmtLabel).join(", ")}] occurs in yTrue`);
    }
  }
  const index = labelIndex(labels);
  const k = labels.length;
  const m: number[][] = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const a = index.get(normLabel(yTrue[i]!)),
      b = index.get(normLabel(yPred[i]!));
    if (a === undefined || b === undefined) continue;
    m[a]![b]! += w ? w[i]! : 1;
  }
  if (options.normalize) normalizeInPlace(m, options.normalize);
  return { labels, matrix: m };
}

function normalizeInPlace(m: number[][], how: "true" | "pred" | "all"): void {
  const k = m.length;
  const fix = (x: number) => (Number.isFinite(x) ? x : 0);
  if (how === "all") {
    let t = 0;
    for (const row of m) for (const v of row) t += v;
    for (const row of m) for (let j = 0; j < k; j++) row[j] = fix(row[j]! / t);
  } else if (how === "true") {
    for (const row of m) {
      const s = row.reduce((a, b) => a + b, 0);
      for (let j = 0; j < k; j++) row[j] = fix(row[j]! / s);
    }
  } else {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += m[i]![j]!;
      for (let i = 0; i < k; i++) m[i]![j] = fix(m[i]![j]! / s);
    }
  }
}

/** Per-label counts: true positives, predicted positives, actual positives (one entry per label or per sample). */
export interface LabelCounts {
  tp: Float64Array;
  pred: Float64Array;
  true: Float64Array;
  /** Sample count (weighted); tn = total - pred - true + tp. */
  total: number;
}

/**
 * Counts for each label (or, with samplewise, for each sample of a multilabel target).
 * For 1-d targets `labels` may name classes absent from the data; for indicator matrices
 * `labels` are column indices.
 */
export function labelCounts(
  what: string,
  yTrue: Labels | Indicator,
  yPred: Labels | Indicator,
  labels: readonly (number | string)[],
  multilabel: boolean,
  sampleWeight: NumericArray | undefined,
  samplewise = false,
): LabelCounts {
  const n = yTrue.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += sampleWeight ? sampleWeight[i]! : 1;
  if (!multilabel) {
    const k = labels.length;
    const tp = new Float64Array(k),
      pred = new Float64Array(k),
      tru = new Float64Array(k);
    const index = labelIndex(labels);
    for (let i = 0; i < n; i++) {
      const w = sampleWeight ? sampleWeight[i]! : 1;
      const a = index.get(normLabel((yTrue as Labels)[i]!)),
        b = index.get(normLabel((yPred as Labels)[i]!));
      if (a !== undefined) tru[a] += w;
      if (b !== undefined) pred[b] += w;
      if (a !== undefined && a === b) tp[a] += w;
    }
    return { tp, pred, true: tru, total };
  }
  const cols = labels.map((l) => {
    if (typeof l !== "number" || !Number.isInteger(l))
      throw new ArgumentError(`${what}: multilabel labels must be column indices, got ${fmtLabel(l)}`);
    return l;
  });
  const width = n > 0 ? (yTrue as Indicator)[0]!.length : 0;
  for (const c of cols)
    if (c < 0 || c >= width)
      throw new ArgumentError(`${what}: label ${c} is not a column of the ${width}-column indicator matrix`);
  const size = samplewise ? n : cols.length;
  const tp = new Float64Array(size),
    pred = new Float64Array(size),
    tru = new Float64Array(size);
  for (let i = 0; i < n; i++) {
    const rt = (yTrue as Indicator)[i]!,
      rp = (yPred as Indicator)[i]!;
    const w = samplewise ? 1 : sampleWeight ? sampleWeight[i]! : 1;
    for (let c = 0; c < cols.length; c++) {
      const t = rt[cols[c]!]!,
        p = rp[cols[c]!]!;
      const slot = samplewise ? i : c;
      tru[slot] += t * w;
      pred[slot] += p * w;
      tp[slot] += t * p * w;
    }
  }
  return { tp, pred, true: tru, total };
}

export interface MultilabelConfusionMatrixOptions {
  labels?: readonly Label[];
  sampleWeight?: NumericArray;
  /** One 2×2 matrix per sample instead of per label (multilabel targets only). */
  samplewise?: boolean;
}

/** One [[tn, fp], [fn, tp]] matrix per label (or per sample), as sklearn's multilabel_confusion_matrix. */
export function multilabelConfusionMatrix(
  yTrue: Labels | Indicator,
  yPred: Labels | Indicator,
  options: MultilabelConfusionMatrixOptions = {},
): { labels: (number | string)[]; matrices: [[number, number], [number, number]][] } {
  const what = "multilabelConfusionMatrix";
  const { type, width } = checkTargets(what, yTrue, yPred);
  const multilabel = type === "multilabel-indicator";
  const w = checkSampleWeight(what, options.sampleWeight, yTrue.length);
  if (options.samplewise && !multilabel) throw new ArgumentError(`${what}: samplewise needs multilabel targets`);
  const labels = options.labels
    ? options.labels.map(normLabel)
    : multilabel
      ? Array.from({ length: width }, (_, i) => i)
      : uniqueLabels(yTrue as Labels, yPred as Labels);
  const c = labelCounts(what, yTrue, yPred, labels, multilabel, w, options.samplewise);
  const matrices: [[number, number], [number, number]][] = [];
  for (let i = 0; i < c.tp.length; i++) {
    const tp = c.tp[i]!,
      fp = c.pred[i]! - tp,
      fn = c.true[i]! - tp;
    const total = options.samplewise ? labels.length : c.total;
    matrices.push([
      [total - tp - fp - fn, fp],
      [fn, tp],
    ]);
  }
  return { labels: options.samplewise ? [] : labels, matrices };
}
