/**
 * Numeric helpers shared by the metrics. Sums follow numpy's pairwise summation exactly
 * (blocks of 8 accumulators up to 128 elements, then halving on multiples of 8), so a mean or a
 * trapezoid area over the same float64 values comes out bit-for-bit equal to numpy's.
 */
import { ArgumentError, ShapeError } from "../util/errors.js";

export type NumericArray = ArrayLike<number>;

/** numpy's pairwise sum of a[start .. start+n). */
export function pairwiseSum(a: NumericArray, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i]!;
    return res;
  }
  if (n <= 128) {
    let r0 = a[start]!,
      r1 = a[start + 1]!,
      r2 = a[start + 2]!,
      r3 = a[start + 3]!;
    let r4 = a[start + 4]!,
      r5 = a[start + 5]!,
      r6 = a[start + 6]!,
      r7 = a[start + 7]!;
    const end8 = n - (n % 8);
    let i = 8;
    for (; i < end8; i += 8) {
      const p = start + i;
      r0 += a[p]!;
      r1 += a[p + 1]!;
      r2 += a[p + 2]!;
      r3 += a[p + 3]!;
      r4 += a[p + 4]!;
      r5 += a[p + 5]!;
      r6 += a[p + 6]!;
      r7 += a[p + 7]!;
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += a[start + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** numpy's mean: pairwise sum divided by the count (NaN for an empty array). */
export function mean(a: NumericArray): number {
  return a.length === 0 ? NaN : pairwiseSum(a) / a.length;
}

/** numpy's np.average(a, weights=w): sum(a*w)/sum(w); plain mean without weights. */
export function weightedMean(a: NumericArray, weights?: NumericArray): number {
  if (weights === undefined) return mean(a);
  const prod = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) prod[i] = a[i]! * weights[i]!;
  const wsum = pairwiseSum(weights);
  if (wsum === 0) throw new ArgumentError("weights sum to zero, so the weighted average is undefined");
  return pairwiseSum(prod) / wsum;
}

/** Throws on NaN or ±Infinity, naming the first bad index. */
export function assertFinite(what: string, name: string, a: NumericArray): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (!Number.isFinite(v)) throw new ArgumentError(`${what}: ${name}[${i}] is ${v}; scores must be finite numbers`);
  }
}

export function checkSampleWeight(what: string, weight: NumericArray | undefined, n: number): NumericArray | undefined {
  if (weight === undefined) return undefined;
  if (weight.length !== n) throw new ShapeError(`${what}: sampleWeight has ${weight.length} entries for ${n} samples`);
  assertFinite(what, "sampleWeight", weight);
  return weight;
}

/** Ranks (1-based) with ties given their average rank, as scipy.stats.rankdata(method="average"). */
export function rankAverage(a: NumericArray): Float64Array {
  const n = a.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[i]! - a[j]! || i - j);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && a[order[j + 1]!] === a[order[i]!]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = r;
    i = j + 1;
  }
  return ranks;
}
