/**
 * Confidence intervals and significance tests by resampling, as sacrebleu offers them:
 * a percentile bootstrap of any statistic over items; for corpus metrics defined by summed
 * per-item statistics (BLEU, chrF, TER, accuracy, F1 counts) the fast path resamples the
 * statistics; a paired bootstrap test (Koehn 2004, sacrebleu's p-value formula) and a paired
 * approximate randomization test (Riezler & Maxwell 2005) compare two systems on the same items.
 * Draws come from graft's seeded Rng (default seed 12345, sacrebleu's default), so results are
 * reproducible but not draw-for-draw identical to numpy's.
 */
import { ArgumentError, ShapeError } from "../util/errors.js";
import { Rng } from "../util/rng.js";

export interface ResampleOptions {
  /** Number of bootstrap resamples (default 1000) or randomization trials (default 10000). */
  samples?: number;
  /** Coverage of the interval (default 0.95). */
  confidence?: number;
  seed?: number;
}

export interface ConfidenceInterval {
  /** The statistic on the original items. */
  score: number;
  /** Mean of the resampled statistics. */
  mean: number;
  lower: number;
  upper: number;
  /** (upper − lower) / 2: sacrebleu's "μ ± x" half-width. */
  halfWidth: number;
  samples: number;
  confidence: number;
  seed: number;
}

function settings(o: ResampleOptions, defaultSamples: number) {
  const samples = o.samples ?? defaultSamples;
  const confidence = o.confidence ?? 0.95;
  const seed = o.seed ?? 12345;
  if (!Number.isInteger(samples) || samples < 1)
    throw new ArgumentError(`resampling: samples must be a positive integer, got ${samples}`);
  if (!(confidence > 0 && confidence < 1))
    throw new ArgumentError(`resampling: confidence must be in (0, 1), got ${confidence}`);
  return { samples, confidence, seed };
}

/** Percentile interval of resampled values (sacrebleu: sorted[n//40], sorted[n − n//40 − 1] at 95%). */
function interval(score: number, values: Float64Array, confidence: number, seed: number): ConfidenceInterval {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const lo = Math.floor((n * (1 - confidence)) / 2 + 1e-9);
  const lower = sorted[lo]!,
    upper = sorted[n - lo - 1]!;
  let mean = 0;
  for (const v of sorted) mean += v;
  mean /= n;
  return { score, mean, lower, upper, halfWidth: (upper - lower) / 2, samples: n, confidence, seed };
}

function sumRows(
  stats: readonly ArrayLike<number>[],
  idx: Int32Array | null,
  width: number,
  out: Float64Array,
): Float64Array {
  out.fill(0);
  const n = idx ? idx.length : stats.length;
  for (let i = 0; i < n; i++) {
    const row = stats[idx ? idx[i]! : i]!;
    for (let j = 0; j < width; j++) out[j] += row[j]!;
  }
  return out;
}

function checkStats(what: string, stats: readonly ArrayLike<number>[]): number {
  if (stats.length === 0) throw new ArgumentError(`${what}: no items`);
  const width = stats[0]!.length;
  stats.forEach((s, i) => {
    if (s.length !== width) throw new ShapeError(`${what}: item ${i} has ${s.length} statistics, item 0 has ${width}`);
  });
  return width;
}

/** Two systems' statistics on the same items: the statistics width and the item count. */
function checkPaired(
  what: string,
  baselineStats: readonly ArrayLike<number>[],
  systemStats: readonly ArrayLike<number>[],
): { width: number; n: number } {
  const width = checkStats(what, baselineStats);
  if (systemStats.length !== baselineStats.length)
    throw new ShapeError(
      `${what}: the baseline has ${baselineStats.length} items but the system has ${systemStats.length}`,
    );
  checkStats(what, systemStats);
  return { width, n: baselineStats.length };
}

/**
 * Bootstrap interval of any statistic: `statistic(indices)` scores the items at those indices
 * (with repeats). Use it for metrics that are not sums of per-item statistics, like ROC AUC.
 */
export function bootstrapInterval(
  n: number,
  statistic: (indices: Int32Array) => number,
  options: ResampleOptions = {},
): ConfidenceInterval {
  const { samples, confidence, seed } = settings(options, 1000);
  if (!Number.isInteger(n) || n < 1)
    throw new ArgumentError(`bootstrapInterval: n must be a positive integer, got ${n}`);
  const rng = new Rng(seed);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const values = new Float64Array(samples);
  const idx = new Int32Array(n);
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    values[s] = statistic(idx);
  }
  return interval(statistic(all), values, confidence, seed);
}

/** Bootstrap interval of a corpus score computed from summed per-item statistics. */
export function bootstrapStatsInterval(
  stats: readonly ArrayLike<number>[],
  score: (summed: Float64Array) => number,
  options: ResampleOptions = {},
): ConfidenceInterval {
  const width = checkStats("bootstrapStatsInterval", stats);
  const buf = new Float64Array(width);
  return bootstrapInterval(stats.length, (idx) => score(sumRows(stats, idx, width, buf)), options);
}

export interface PairedTestResult {
  baseline: number;
  system: number;
  /** |system − baseline| on the original items. */
  difference: number;
  /** (count of resampled differences beyond the observed one + 1) / (samples + 1). */
  pValue: number;
  samples: number;
  seed: number;
  /** Bootstrap mean and interval of the system (paired bootstrap only). */
  interval?: ConfidenceInterval;
}

/**
 * Paired bootstrap resampling test: both systems are scored on the same resampled items; the
 * p-value counts resamples whose centred absolute difference exceeds the observed difference.
 */
export function pairedBootstrapTest(
  baselineStats: readonly ArrayLike<number>[],
  systemStats: readonly ArrayLike<number>[],
  score: (summed: Float64Array) => number,
  options: ResampleOptions = {},
): PairedTestResult {
  const { samples, confidence, seed } = settings(options, 1000);
  const { width, n } = checkPaired("pairedBootstrapTest", baselineStats, systemStats);
  const buf = new Float64Array(width);
  const baseline = score(sumRows(baselineStats, null, width, buf));
  const system = score(sumRows(systemStats, null, width, buf));
  const rng = new Rng(seed);
  const idx = new Int32Array(n);
  const diffs = new Float64Array(samples),
    sys = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    const b = score(sumRows(baselineStats, idx, width, buf));
    sys[s] = score(sumRows(systemStats, idx, width, buf));
    diffs[s] = Math.abs(sys[s]! - b);
  }
  const difference = Math.abs(system - baseline);
  let meanDiff = 0;
  for (const d of diffs) meanDiff += d;
  meanDiff /= samples;
  let beyond = 0;
  for (const d of diffs) if (d - meanDiff > difference) beyond++;
  return {
    baseline,
    system,
    difference,
    pValue: (beyond + 1) / (samples + 1),
    samples,
    seed,
    interval: interval(system, sys, confidence, seed),
  };
}

/**
 * Paired approximate randomization test: each trial swaps the two systems' outputs on a random
 * half of the items; the p-value counts trials whose absolute score difference exceeds the observed one.
 */
export function approximateRandomizationTest(
  baselineStats: readonly ArrayLike<number>[],
  systemStats: readonly ArrayLike<number>[],
  score: (summed: Float64Array) => number,
  options: ResampleOptions = {},
): PairedTestResult {
  const { samples, seed } = settings(options, 10000);
  const { width, n } = checkPaired("approximateRandomizationTest", baselineStats, systemStats);
  const a = new Float64Array(width),
    b = new Float64Array(width);
  const baseline = score(sumRows(baselineStats, null, width, a));
  const system = score(sumRows(systemStats, null, width, b));
  const difference = Math.abs(system - baseline);
  const rng = new Rng(seed);
  let beyond = 0;
  for (let s = 0; s < samples; s++) {
    a.fill(0);
    b.fill(0);
    for (let i = 0; i < n; i++) {
      const swap = rng.nextU32() & 1;
      const x = swap ? systemStats[i]! : baselineStats[i]!,
        y = swap ? baselineStats[i]! : systemStats[i]!;
      for (let j = 0; j < width; j++) {
        a[j] += x[j]!;
        b[j] += y[j]!;
      }
    }
    if (Math.abs(score(a) - score(b)) > difference) beyond++;
  }
  return { baseline, system, difference, pValue: (beyond + 1) / (samples + 1), samples, seed };
}
