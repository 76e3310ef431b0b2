/**
 * Pruners stop unpromising trials early from their intermediate values. Each is asked after every report, with the
 * trial's values so far and every other trial of the study, and is stateless: what it decides follows from the
 * stored intermediate values, so a resumed study prunes exactly as before.
 *
 * - median (percentile): stop a trial whose best value so far is worse than the median (percentile) of the
 *   complete trials' values at the same step.
 * - asha: asynchronous successive halving (Li et al. 2020), as Optuna's SuccessiveHalvingPruner. Rung k sits at
 *   step minResource·η^(minEarlyStoppingRate+k); a trial's value at a rung is its value at the first report at or
 *   past that step; a trial passes a rung only if that value is among the best 1/η of all values recorded at that
 *   rung so far (while fewer than η trials have reached it, only the best one passes).
 */
import { ArgumentError } from "../util/errors.js";
import { lossSign, type Direction, type Trial } from "./types.js";

export interface Pruner {
  readonly name: string;
  /** Whether `trial` (its intermediate values include the newest report) should stop now. */
  shouldPrune(trial: Trial, trials: readonly Trial[], direction: Direction): boolean;
  config(): PrunerConfig;
}

export interface PrunerConfig {
  name: string;
  [option: string]: unknown;
}

export interface PercentileOptions {
  percentile?: number;
  /** Complete trials needed before anything is pruned. */
  nStartupTrials?: number;
  /** Reports before this step never prune. */
  nWarmupSteps?: number;
}

export class PercentilePruner implements Pruner {
  readonly name: string;
  readonly percentile: number;
  readonly nStartupTrials: number;
  readonly nWarmupSteps: number;

  constructor(opts: PercentileOptions = {}, name = "percentile") {
    this.name = name;
    this.percentile = opts.percentile ?? 50;
    this.nStartupTrials = opts.nStartupTrials ?? 5;
    this.nWarmupSteps = opts.nWarmupSteps ?? 0;
    if (!(this.percentile >= 0 && this.percentile <= 100))
      throw new ArgumentError(`percentile pruner: percentile must be in [0, 100], got ${this.percentile}`);
    if (!Number.isInteger(this.nStartupTrials) || this.nStartupTrials < 0)
      throw new ArgumentError(`pruner: nStartupTrials must be a non-negative integer, got ${this.nStartupTrials}`);
  }

  shouldPrune(trial: Trial, trials: readonly Trial[], direction: Direction): boolean {
    const iv = trial.intermediate;
    if (iv.length === 0) return false;
    const step = iv[iv.length - 1]!.step;
    if (step < this.nWarmupSteps) return false;
    const complete = trials.filter((t) => t.state === "complete" && t.number !== trial.number);
    if (complete.length < this.nStartupTrials) return false;
    const s = lossSign(direction);
    const best = Math.min(...iv.map((v) => s * v.value));
    if (Number.isNaN(best)) return true;
    const others = complete
      .map((t) => t.intermediate.find((v) => v.step === step))
      .filter((v) => v !== undefined)
      .map((v) => s * v.value);
    if (others.length === 0) return false;
    // in loss terms, the percentile is always taken from the good end
    return best > percentile(others, this.percentile);
  }

  config(): PrunerConfig {
    return {
      name: this.name,
      percentile: this.percentile,
      nStartupTrials: this.nStartupTrials,
      nWarmupSteps: this.nWarmupSteps,
    };
  }
}

export class MedianPruner extends PercentilePruner {
  constructor(opts: Omit<PercentileOptions, "percentile"> = {}) {
    super({ ...opts, percentile: 50 }, "median");
  }

  override config(): PrunerConfig {
    return { name: this.name, nStartupTrials: this.nStartupTrials, nWarmupSteps: this.nWarmupSteps };
  }
}

export interface AshaOptions {
  /** Step of the first rung. */
  minResource?: number;
  /** η: a rung keeps the best 1/η. */
  reductionFactor?: number;
  /** s: the first rung is at minResource·η^s. */
  minEarlyStoppingRate?: number;
}

export class AshaPruner implements Pruner {
  readonly name = "asha";
  readonly minResource: number;
  readonly reductionFactor: number;
  readonly minEarlyStoppingRate: number;

  constructor(opts: AshaOptions = {}) {
    this.minResource = opts.minResource ?? 1;
    this.reductionFactor = opts.reductionFactor ?? 3;
    this.minEarlyStoppingRate = opts.minEarlyStoppingRate ?? 0;
    if (!(this.minResource > 0)) throw new ArgumentError(`ASHA: minResource must be positive, got ${this.minResource}`);
    if (!(this.reductionFactor >= 2))
      throw new ArgumentError(`ASHA: reductionFactor must be at least 2, got ${this.reductionFactor}`);
    if (!Number.isInteger(this.minEarlyStoppingRate) || this.minEarlyStoppingRate < 0)
      throw new ArgumentError(
        `ASHA: minEarlyStoppingRate must be a non-negative integer, got ${this.minEarlyStoppingRate}`,
      );
  }

  rungStep(k: number): number {
    return this.minResource * this.reductionFactor ** (this.minEarlyStoppingRate + k);
  }

  /** The trial's value at rung k (its first report at or past the rung's step), if it got there. */
  rungValue(t: Trial, k: number): number | undefined {
    const step = this.rungStep(k);
    return t.intermediate.find((v) => v.step >= step)?.value;
  }

  shouldPrune(trial: Trial, trials: readonly Trial[], direction: Direction): boolean {
    const iv = trial.intermediate;
    if (iv.length === 0) return false;
    const { step, value } = iv[iv.length - 1]!;
    const prevStep = iv.length > 1 ? iv[iv.length - 2]!.step : -Infinity;
    const s = lossSign(direction);
    for (let k = 0; this.rungStep(k) <= step; k++) {
      if (this.rungStep(k) <= prevStep) continue; // this rung was judged at an earlier report
      if (Number.isNaN(value)) return true;
      const competing = trials
        .filter((t) => t.number !== trial.number)
        .map((t) => this.rungValue(t, k))
        .filter((v): v is number => v !== undefined && !Number.isNaN(v));
      competing.push(value);
      const losses = competing.map((v) => s * v).sort((a, b) => a - b);
      const keep = Math.max(1, Math.floor(losses.length / this.reductionFactor));
      if (s * value > losses[keep - 1]!) return true;
    }
    return false;
  }

  config(): PrunerConfig {
    return {
      name: this.name,
      minResource: this.minResource,
      reductionFactor: this.reductionFactor,
      minEarlyStoppingRate: this.minEarlyStoppingRate,
    };
  }
}

export class NopPruner implements Pruner {
  readonly name = "none";
  shouldPrune(): boolean {
    return false;
  }
  config(): PrunerConfig {
    return { name: this.name };
  }
}

export const PRUNERS = ["none", "median", "percentile", "asha"] as const;

export function createPruner(config: PrunerConfig | string | null | undefined): Pruner {
  if (!config) return new NopPruner();
  const c: PrunerConfig = typeof config === "string" ? { name: config } : config;
  const { name, ...opts } = c;
  switch (name) {
    case "none":
      return new NopPruner();
    case "median":
      return new MedianPruner(opts);
    case "percentile":
      return new PercentilePruner(opts);
    case "asha":
    case "successive-halving":
      return new AshaPruner(opts);
    default:
      throw new ArgumentError(`unknown pruner "${name}"`, `use one of ${PRUNERS.join(", ")}`);
  }
}

/** Linear-interpolated percentile (numpy's default), p in [0, 100]. */
export function percentile(xs: readonly number[], p: number): number {
  const a = [...xs].sort((x, y) => x - y);
  const pos = ((a.length - 1) * p) / 100;
  const lo = Math.floor(pos),
    hi = Math.ceil(pos);
  return a[lo]! + (a[hi]! - a[lo]!) * (pos - lo);
}
