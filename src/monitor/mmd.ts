/**
 * Maximum mean discrepancy with a Gaussian RBF kernel and a permutation test, as alibi-detect's MMDDrift does it:
 * - bandwidth by the median heuristic on the reference (configure_kernel_from_x_ref): σ = √(½·median ‖x−x'‖²), the
 *   median taken as alibi's sigma_median does over the n² reference pairs with the n zero self-distances left in
 *   and counted from just past them;
 * - MMD² unbiased (the kernel matrix of the pooled sample [reference; current] with its diagonal zeroed);
 * - p-value = the share of `permutations` (default 100) pooled relabellings whose MMD² is ≥ the observed one, with
 *   graft's seeded generator, so a given seed always gives the same answer.
 */
import { ArgumentError } from "../util/errors.js";
import { Rng } from "../util/rng.js";

export interface MmdOptions {
  permutations?: number;
  seed?: number;
  /** A fixed bandwidth instead of the median heuristic. */
  sigma?: number;
  /** Significance level (default 0.05): drift when p < α, as alibi-detect. */
  alpha?: number;
}

export interface MmdResult {
  mmd2: number;
  pValue: number;
  sigma: number;
  /** The MMD² above which the permutation distribution puts less than α: alibi's distance_threshold. */
  threshold: number;
  alpha: number;
  drift: boolean;
}

function checkRows(what: string, rows: readonly ArrayLike<number>[]): number {
  if (rows.length < 2)
    throw new ArgumentError(`mmdTest: the ${what} sample needs at least 2 vectors, got ${rows.length}`);
  const d = rows[0]!.length;
  rows.forEach((r, i) => {
    if (r.length !== d)
      throw new ArgumentError(`mmdTest: ${what} vector ${i} has ${r.length} dimensions, the first has ${d}`);
  });
  return d;
}

/** The rows packed into one row-major Float64Array (n × d). */
function pack(rows: readonly ArrayLike<number>[], d: number): Float64Array {
  const out = new Float64Array(rows.length * d);
  rows.forEach((r, i) => {
    for (let k = 0; k < d; k++) out[i * d + k] = r[k]!;
  });
  return out;
}

/** Squared Euclidean distances between all rows of a packed n × d matrix, as a flat n × n matrix. */
function squaredDistances(x: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const a = i * d;
    for (let j = i + 1; j < n; j++) {
      const b = j * d;
      let s = 0;
      for (let k = 0; k < d; k++) {
        const t = x[a + k]! - x[b + k]!;
        s += t * t;
      }
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}

/** alibi-detect's sigma_median from the n × n squared distances of the reference: √(½ · sorted(D²)[n + (n² − n)/2 − 1]). */
function sigmaOf(dist: Float64Array, n: number): number {
  const sorted = Float64Array.from(dist).sort();
  return Math.sqrt(0.5 * sorted[n + Math.floor((n * n - n) / 2) - 1]!);
}

/** The median-heuristic bandwidth of a reference sample (alibi-detect's sigma_median on the reference alone). */
export function medianSigma(reference: readonly ArrayLike<number>[]): number {
  const d = checkRows("reference", reference);
  return sigmaOf(squaredDistances(pack(reference, d), reference.length, d), reference.length);
}

/** Unbiased MMD² of the pooled kernel matrix `k` (diagonal zeroed) with the first `n` rows the reference, under `perm`. */
function mmd2Of(k: Float64Array, total: number, n: number, perm: Int32Array): number {
  const m = total - n;
  let sxx = 0,
    syy = 0,
    sxy = 0;
  for (let a = 0; a < total; a++) {
    const row = perm[a]! * total;
    const ax = a < n;
    for (let b = a + 1; b < total; b++) {
      const v = k[row + perm[b]!]!;
      const bx = b < n;
      if (ax && bx) sxx += v;
      else if (!ax && !bx) syy += v;
      else sxy += v;
    }
  }
  return (2 * sxx) / (n * (n - 1)) + (2 * syy) / (m * (m - 1)) - (2 * sxy) / (n * m);
}

/** MMD permutation test of `current` against `reference` (each a list of equal-length vectors). */
export function mmdTest(
  reference: readonly ArrayLike<number>[],
  current: readonly ArrayLike<number>[],
  o: MmdOptions = {},
): MmdResult {
  const d = checkRows("reference", reference);
  if (checkRows("current", current) !== d)
    throw new ArgumentError(`mmdTest: current vectors have ${current[0]!.length} dimensions, the reference ${d}`);
  const permutations = o.permutations ?? 100;
  const alpha = o.alpha ?? 0.05;
  if (!Number.isInteger(permutations) || permutations < 1)
    throw new ArgumentError(`mmdTest: permutations must be a positive integer, got ${permutations}`);
  const total = reference.length + current.length,
    n = reference.length;
  const k = squaredDistances(pack([...reference, ...current], d), total, d);
  let sigma = o.sigma;
  if (sigma === undefined) {
    const refDist = new Float64Array(n * n);
    for (let i = 0; i < n; i++) refDist.set(k.subarray(i * total, i * total + n), i * n);
    sigma = sigmaOf(refDist, n);
  }
  if (!(sigma > 0))
    throw new ArgumentError("mmdTest: the reference vectors are all equal, so the median bandwidth is 0; pass sigma");
  const gamma = 1 / (2 * sigma * sigma);
  for (let i = 0; i < k.length; i++) k[i] = Math.exp(-gamma * k[i]!);
  const identity = Int32Array.from({ length: total }, (_, i) => i);
  const observed = mmd2Of(k, total, n, identity);
  const rng = new Rng(o.seed ?? 0);
  const permuted = new Float64Array(permutations);
  for (let p = 0; p < permutations; p++) permuted[p] = mmd2Of(k, total, n, rng.permutation(total));
  let ge = 0;
  for (const v of permuted) if (v >= observed) ge++;
  const pValue = ge / permutations;
  const desc = Float64Array.from(permuted).sort().reverse();
  const threshold = desc[Math.min(Math.floor(alpha * permutations), permutations - 1)]!;
  return { mmd2: observed, pValue, sigma, threshold, alpha, drift: pValue < alpha };
}
