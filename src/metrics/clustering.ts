/**
 * Clustering agreement as scikit-learn computes it: the adjusted Rand index (adjusted_rand_score, from the pair
 * confusion matrix) and normalized mutual information (normalized_mutual_info_score, arithmetic mean of the two
 * entropies by default). Labels are any strings or numbers; the two labelings are compared up to renaming.
 */
import { ArgumentError } from "../util/errors.js";

type Label = string | number;

/** The contingency table of two labelings: nonzero cells and the row and column sums. */
function contingency(a: readonly Label[], b: readonly Label[]) {
  if (a.length !== b.length)
    throw new ArgumentError(`clustering metrics: ${a.length} true labels but ${b.length} predicted`);
  const ia = new Map<Label, number>(),
    ib = new Map<Label, number>();
  const cells = new Map<string, number>();
  for (let i = 0; i < a.length; i++) {
    if (!ia.has(a[i])) ia.set(a[i], ia.size);
    if (!ib.has(b[i])) ib.set(b[i], ib.size);
    const key = `${ia.get(a[i])},${ib.get(b[i])}`;
    cells.set(key, (cells.get(key) ?? 0) + 1);
  }
  const rows = new Array<number>(ia.size).fill(0),
    cols = new Array<number>(ib.size).fill(0);
  const nz: { r: number; c: number; v: number }[] = [];
  for (const [key, v] of cells) {
    const [r, c] = key.split(",").map(Number);
    rows[r] += v;
    cols[c] += v;
    nz.push({ r, c, v });
  }
  return { rows, cols, nz, n: a.length };
}

/** Adjusted Rand index (1: the same partition; about 0 for chance; as sklearn.metrics.adjusted_rand_score). */
export function adjustedRandScore(labelsTrue: readonly Label[], labelsPred: readonly Label[]): number {
  const { rows, cols, nz, n } = contingency(labelsTrue, labelsPred);
  // sklearn's pair_confusion_matrix
  const sumSquares = nz.reduce((s, c) => s + c.v * c.v, 0);
  const rowsSq = rows.reduce((s, v) => s + v * v, 0);
  const colsSq = cols.reduce((s, v) => s + v * v, 0);
  const tp = sumSquares - n;
  const fp = colsSq - sumSquares;
  const fn = rowsSq - sumSquares;
  const tn = n * n - fp - fn - sumSquares;
  if (fn === 0 && fp === 0) return 1;
  return (2 * (tp * tn - fn * fp)) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
}

function entropy(counts: readonly number[], n: number): number {
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / n) * (Math.log(c) - Math.log(n));
  return h;
}

/** Mutual information of two labelings in nats (as sklearn.metrics.mutual_info_score). */
export function mutualInfoScore(labelsTrue: readonly Label[], labelsPred: readonly Label[]): number {
  const { rows, cols, nz, n } = contingency(labelsTrue, labelsPred);
  // a single cluster on either side has zero entropy, so no information
  if (rows.length === 1 || cols.length === 1) return 0;
  const logN = Math.log(n);
  let mi = 0;
  for (const { r, c, v } of nz) {
    const p = v / n;
    const logOuter = -Math.log(rows[r] * cols[c]) + logN + logN;
    const term = p * (Math.log(v) - logN) + p * logOuter;
    mi += Math.abs(term) < Number.EPSILON ? 0 : term;
  }
  return Math.max(0, mi);
}

export type NmiAverage = "arithmetic" | "geometric" | "min" | "max";

/** Normalized mutual information (as sklearn.metrics.normalized_mutual_info_score). */
export function normalizedMutualInfoScore(
  labelsTrue: readonly Label[],
  labelsPred: readonly Label[],
  average: NmiAverage = "arithmetic",
): number {
  const { rows, cols, n } = contingency(labelsTrue, labelsPred);
  // one cluster on both sides (or no data): a perfect match by sklearn's convention
  if ((rows.length === 1 && cols.length === 1) || (rows.length === 0 && cols.length === 0)) return 1;
  const mi = mutualInfoScore(labelsTrue, labelsPred);
  if (mi === 0) return 0;
  const hT = entropy(rows, n),
    hP = entropy(cols, n);
  const norm =
    average === "arithmetic"
      ? (hT + hP) / 2
      : average === "geometric"
        ? Math.sqrt(hT * hP)
        : average === "min"
          ? Math.min(hT, hP)
          : average === "max"
            ? Math.max(hT, hP)
            : NaN;
  if (Number.isNaN(norm))
    throw new ArgumentError(`NMI average must be arithmetic, geometric, min or max, got "${average}"`);
  return mi / norm;
}
