/**
 * Per-feature drift statistics between a reference sample and a current one, following Evidently's definitions
 * (its legacy `calculations/stattests`) unless a comment says otherwise:
 * - PSI = Σ (r_i − c_i)·ln(r_i/c_i) over bins. Bins: by default 10 quantile bins of the reference (edges at its
 *   deciles, numpy's linear interpolation, right-closed intervals (e_{i−1}, e_i], the outer ones open to ±∞), the
 *   usual credit-scoring PSI; `binning: "evidently"` uses Evidently's bins instead (below). Empty bins: Evidently's
 *   convention — a zero share becomes 0.0001, or (smallest non-zero share)/10⁶ when that share is ≤ 0.0001.
 * - Jensen–Shannon distance (scipy.spatial.distance.jensenshannon, natural log as Evidently calls it: between 0 and
 *   √ln 2 ≈ 0.83) on Evidently's bins, without zero filling.
 * - Evidently's bins: a numerical feature whose reference has more than 20 distinct values gets numpy's Sturges
 *   histogram over the pooled sample (⌈log₂ n⌉ + 1 equal-width bins); anything else one bin per distinct value.
 * - χ² goodness of fit of the current counts against the reference shares (scipy.stats.chisquare, k − 1 degrees of
 *   freedom); a category the reference never saw makes the statistic infinite (p = 0).
 * - Z-test for two proportions (a binary feature), two-sided.
 * - Wasserstein-1 distance divided by the reference's standard deviation (at least 0.001).
 * - Kolmogorov–Smirnov: ks.ts.
 */
import { ArgumentError } from "../util/errors.js";
import { normCdf } from "../util/math.js";
import { ksTwoSample } from "./ks.js";
import { chi2Sf } from "./special.js";

export type Value = number | string;

/** Shares of each sample per bin, in the same bin order. */
export interface Binned {
  reference: number[];
  current: number[];
  /** Bin edges (numerical bins) or the category of each bin. */
  bins: number[] | string[];
}

function nonEmpty(what: string, a: ArrayLike<unknown>): void {
  if (a.length === 0) throw new ArgumentError(`${what}: a sample is empty`);
}

/** numpy.quantile's default (linear interpolation between order statistics) of a sorted array. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos),
    hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function distinct(a: ArrayLike<Value>): number {
  return new Set(Array.from(a)).size;
}

/** Evidently's epsilon for empty bins (get_binned_data's "feel_zeroes"). */
export function fillZeros(shares: number[]): number[] {
  const nz = shares.filter((s) => s !== 0);
  if (nz.length === 0) return shares;
  const min = Math.min(...nz);
  const eps = min <= 0.0001 ? min / 1e6 : 0.0001;
  return shares.map((s) => (s === 0 ? eps : s));
}

/** Equal-width numpy.histogram over `edges` (last bin closed), counts as shares of the sample size. */
function histogramShares(a: ArrayLike<number>, edges: number[]): number[] {
  const nb = edges.length - 1;
  const lo = edges[0]!,
    hi = edges[nb]!;
  const counts = new Array<number>(nb).fill(0);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (x < lo || x > hi) continue;
    let k = Math.min(Math.floor(((x - lo) / (hi - lo)) * nb), nb - 1);
    if (x < edges[k]!) k--;
    else if (k < nb - 1 && x >= edges[k + 1]!) k++;
    counts[k]!++;
  }
  return counts.map((c) => c / a.length);
}

/** numpy.histogram_bin_edges(pooled, "sturges"). */
export function sturgesEdges(pooled: ArrayLike<number>): number[] {
  let lo = Number.POSITIVE_INFINITY,
    hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < pooled.length; i++) {
    lo = Math.min(lo, pooled[i]!);
    hi = Math.max(hi, pooled[i]!);
  }
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const nb = Math.ceil(Math.log2(pooled.length) + 1);
  return Array.from({ length: nb + 1 }, (_, i) => (i === nb ? hi : lo + ((hi - lo) * i) / nb));
}

function categoryShares(reference: ArrayLike<Value>, current: ArrayLike<Value>): Binned {
  const keys = [...new Set([...Array.from(reference), ...Array.from(current)])].map(String).sort();
  const count = (a: ArrayLike<Value>): number[] => {
    const m = new Map<string, number>();
    for (let i = 0; i < a.length; i++) m.set(String(a[i]), (m.get(String(a[i])) ?? 0) + 1);
    return keys.map((k) => (m.get(k) ?? 0) / a.length);
  };
  return { reference: count(reference), current: count(current), bins: keys };
}

/** Evidently's bins (get_binned_data): Sturges over the pooled sample for a numerical feature with > 20 reference values, else per value. */
export function evidentlyBins(
  reference: ArrayLike<Value>,
  current: ArrayLike<Value>,
  kind: "num" | "cat" = "num",
): Binned {
  nonEmpty("evidentlyBins", reference);
  nonEmpty("evidentlyBins", current);
  if (kind === "num" && distinct(reference) > 20) {
    const ref = Array.from(reference as ArrayLike<number>),
      cur = Array.from(current as ArrayLike<number>);
    const edges = sturgesEdges([...ref, ...cur]);
    return { reference: histogramShares(ref, edges), current: histogramShares(cur, edges), bins: edges };
  }
  return categoryShares(reference, current);
}

/** Quantile bins of the reference: `bins` intervals between its quantiles i/bins, right-closed, outer ones to ±∞. */
export function quantileBins(reference: ArrayLike<number>, current: ArrayLike<number>, bins = 10): Binned {
  nonEmpty("quantileBins", reference);
  nonEmpty("quantileBins", current);
  if (!Number.isInteger(bins) || bins < 2)
    throw new ArgumentError(`quantileBins: bins must be an integer >= 2, got ${bins}`);
  const sorted = Float64Array.from(reference).sort();
  const inner: number[] = [];
  for (let i = 1; i < bins; i++) {
    const e = quantileSorted(sorted, i / bins);
    if (inner.length === 0 || e > inner[inner.length - 1]!) inner.push(e);
  }
  const shares = (a: ArrayLike<number>): number[] => {
    const c = new Array<number>(inner.length + 1).fill(0);
    for (let i = 0; i < a.length; i++) {
      // first edge >= x: the bin (e_{k-1}, e_k] holding x
      let lo = 0,
        hi = inner.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (inner[mid]! >= a[i]!) hi = mid;
        else lo = mid + 1;
      }
      c[lo]!++;
    }
    return c.map((x) => x / a.length);
  };
  return {
    reference: shares(reference),
    current: shares(current),
    bins: [Number.NEGATIVE_INFINITY, ...inner, Number.POSITIVE_INFINITY],
  };
}

export interface PsiOptions {
  /** "quantile" (default): reference quantile bins; "evidently": Evidently's bins; "category": one bin per value. */
  binning?: "quantile" | "evidently" | "category";
  /** Number of quantile bins (default 10). */
  bins?: number;
}

/** The population stability index of `current` against `reference`, with the bins it used (shares zero-filled). */
export function psi(
  reference: ArrayLike<Value>,
  current: ArrayLike<Value>,
  o: PsiOptions = {},
): { value: number; binned: Binned } {
  const binning = o.binning ?? "quantile";
  const b =
    binning === "quantile"
      ? quantileBins(reference as ArrayLike<number>, current as ArrayLike<number>, o.bins ?? 10)
      : binning === "evidently"
        ? evidentlyBins(reference, current, "num")
        : (nonEmpty("psi", reference), nonEmpty("psi", current), categoryShares(reference, current));
  const r = fillZeros(b.reference),
    c = fillZeros(b.current);
  let value = 0;
  for (let i = 0; i < r.length; i++) value += (r[i]! - c[i]!) * Math.log(r[i]! / c[i]!);
  return { value, binned: { reference: r, current: c, bins: b.bins } };
}

/** scipy.spatial.distance.jensenshannon(p, q) with natural logs: √((KL(p‖m) + KL(q‖m))/2), m = (p+q)/2, p and q normalized. */
export function jensenShannonDistance(p: readonly number[], q: readonly number[]): number {
  if (p.length !== q.length) throw new ArgumentError(`jensenShannonDistance: ${p.length} bins against ${q.length}`);
  const sp = p.reduce((a, b) => a + b, 0),
    sq = q.reduce((a, b) => a + b, 0);
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / sp,
      b = q[i]! / sq,
      m = (a + b) / 2;
    if (a > 0) js += a * Math.log(a / m);
    if (b > 0) js += b * Math.log(b / m);
  }
  return Math.sqrt(Math.max(0, js / 2));
}

/** Evidently's Jensen–Shannon drift score: the distance between the two samples' shares on Evidently's bins. */
export function jensenShannon(
  reference: ArrayLike<Value>,
  current: ArrayLike<Value>,
  kind: "num" | "cat" = "num",
): number {
  const b = evidentlyBins(reference, current, kind);
  return jensenShannonDistance(b.reference, b.current);
}

/** Evidently's χ² test of a categorical feature: scipy.stats.chisquare(current counts, reference shares × n_current). */
export function chiSquare(
  reference: ArrayLike<Value>,
  current: ArrayLike<Value>,
): { statistic: number; pValue: number; df: number } {
  nonEmpty("chiSquare", reference);
  nonEmpty("chiSquare", current);
  const b = categoryShares(reference, current);
  const n = current.length;
  let stat = 0;
  for (let i = 0; i < b.bins.length; i++) {
    const exp = b.reference[i]! * n,
      obs = b.current[i]! * n;
    stat += exp === 0 ? (obs === 0 ? Number.NaN : Number.POSITIVE_INFINITY) : (obs - exp) ** 2 / exp;
  }
  const df = b.bins.length - 1;
  if (df === 0) return { statistic: 0, pValue: 1, df };
  return { statistic: stat, pValue: stat === Number.POSITIVE_INFINITY ? 0 : chi2Sf(stat, df), df };
}

/** Evidently's two-proportion Z-test on a binary feature (the share of its first value in sorted order). */
export function zTest(reference: ArrayLike<Value>, current: ArrayLike<Value>): { statistic: number; pValue: number } {
  nonEmpty("zTest", reference);
  nonEmpty("zTest", current);
  const keys = [...new Set([...Array.from(reference), ...Array.from(current)].map(String))].sort();
  if (keys.length === 1) return { statistic: 0, pValue: 1 };
  const share = (a: ArrayLike<Value>) => Array.from(a).filter((v) => String(v) !== keys[0]).length / a.length;
  const n1 = reference.length,
    n2 = current.length;
  const p1 = share(reference),
    p2 = share(current);
  const P = (p1 * n1 + p2 * n2) / (n1 + n2);
  const z = (p1 - p2) / Math.sqrt(P * (1 - P) * (1 / n1 + 1 / n2));
  return { statistic: z, pValue: 2 * (1 - normCdf(Math.abs(z))) };
}

/** scipy.stats.wasserstein_distance: ∫ |F_ref − F_cur| over the pooled sorted values. */
export function wasserstein(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  nonEmpty("wasserstein", reference);
  nonEmpty("wasserstein", current);
  const a = Float64Array.from(reference).sort(),
    b = Float64Array.from(current).sort();
  const all = Float64Array.from([...a, ...b]).sort();
  let i = 0,
    j = 0,
    w = 0;
  for (let k = 0; k < all.length - 1; k++) {
    const x = all[k]!;
    while (i < a.length && a[i]! <= x) i++;
    while (j < b.length && b[j]! <= x) j++;
    w += Math.abs(i / a.length - j / b.length) * (all[k + 1]! - x);
  }
  return w;
}

/** Evidently's normed Wasserstein distance: W1 / max(std(reference), 0.001), std with ddof 0. */
export function wassersteinNormed(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < reference.length; i++) mean += reference[i]!;
  mean /= reference.length;
  let v = 0;
  for (let i = 0; i < reference.length; i++) v += (reference[i]! - mean) ** 2;
  return wasserstein(reference, current) / Math.max(Math.sqrt(v / reference.length), 0.001);
}

export type TestName = "ks" | "chisquare" | "z" | "wasserstein" | "jensenshannon";

export interface TestResult {
  test: TestName;
  /** KS D, χ², z, normed Wasserstein or JS distance. */
  statistic: number;
  /** The p-value of a hypothesis test, null for the distances. */
  pValue: number | null;
  /** α for p-value tests (drift when p ≤ α for KS, p < α for χ² and z, as Evidently), else the distance threshold (drift when ≥). */
  threshold: number;
  drift: boolean;
}

/** Default thresholds: α = 0.05 for the tests, 0.1 for the distances (Evidently's defaults). */
export const DEFAULT_THRESHOLDS: Record<TestName, number> = {
  ks: 0.05,
  chisquare: 0.05,
  z: 0.05,
  wasserstein: 0.1,
  jensenshannon: 0.1,
};

/**
 * Evidently's default test for a feature (registry._get_default_stattest): with at most 1000 reference values, a
 * numerical feature with more than 5 distinct values (pooled) gets KS, one with 3–5 χ², one with ≤ 2 the Z-test, a
 * categorical one χ² (> 2 values) or Z; with more than 1000 reference values, numerical with > 5 distinct values the
 * normed Wasserstein distance, anything else Jensen–Shannon.
 */
export function chooseTest(reference: ArrayLike<Value>, current: ArrayLike<Value>, kind: "num" | "cat"): TestName {
  const nValues = new Set([...Array.from(reference), ...Array.from(current)].map(String)).size;
  if (reference.length <= 1000) {
    if (kind === "num" && nValues > 5) return "ks";
    return nValues > 2 ? "chisquare" : "z";
  }
  return kind === "num" && nValues > 5 ? "wasserstein" : "jensenshannon";
}

/** Runs `test` (default: Evidently's choice) on one feature and says whether it drifted. */
export function driftTest(
  reference: ArrayLike<Value>,
  current: ArrayLike<Value>,
  kind: "num" | "cat",
  o: { test?: TestName; threshold?: number } = {},
): TestResult {
  const test = o.test ?? chooseTest(reference, current, kind);
  const threshold = o.threshold ?? DEFAULT_THRESHOLDS[test];
  const nums = (a: ArrayLike<Value>): number[] => {
    const out = Array.from(a, Number);
    if (out.some((v) => !Number.isFinite(v))) throw new ArgumentError(`the ${test} test needs finite numbers`);
    return out;
  };
  switch (test) {
    case "ks": {
      const r = ksTwoSample(nums(reference), nums(current));
      return { test, statistic: r.statistic, pValue: r.pValue, threshold, drift: r.pValue <= threshold };
    }
    case "chisquare": {
      const r = chiSquare(reference, current);
      return { test, statistic: r.statistic, pValue: r.pValue, threshold, drift: r.pValue < threshold };
    }
    case "z": {
      const r = zTest(reference, current);
      return { test, statistic: r.statistic, pValue: r.pValue, threshold, drift: r.pValue < threshold };
    }
    case "wasserstein": {
      const s = wassersteinNormed(nums(reference), nums(current));
      return { test, statistic: s, pValue: null, threshold, drift: s >= threshold };
    }
    case "jensenshannon": {
      const s = jensenShannon(reference, current, kind);
      return { test, statistic: s, pValue: null, threshold, drift: s >= threshold };
    }
  }
}
