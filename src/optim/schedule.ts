/**
 * Learning-rate schedules as pure functions of the step: each returns the multiplier applied to a group's peak
 * learning rate. LRScheduler applies one to an optimizer; its only state is the step count.
 */
import { ArgumentError } from "../util/errors.js";
import type { Optimizer } from "./optimizer.js";

export type Schedule = (step: number) => number;

function requireSteps(name: string, total: number, warmup = 0): void {
  if (!Number.isInteger(total) || total <= 0)
    throw new ArgumentError(`${name}: totalSteps must be a positive integer, got ${total}`);
  if (!Number.isInteger(warmup) || warmup < 0 || warmup > total)
    throw new ArgumentError(`${name}: warmupSteps must be an integer in [0, ${total}], got ${warmup}`);
}

export const constant = (): Schedule => () => 1;

/** Linear warmup from 0, then linear decay to 0 at totalSteps (transformers' get_linear_schedule_with_warmup). */
export function linearWarmupDecay(opts: { warmupSteps: number; totalSteps: number }): Schedule {
  const { warmupSteps: w, totalSteps: t } = opts;
  requireSteps("linearWarmupDecay", t, w);
  return (s) => (s < w ? s / Math.max(1, w) : Math.max(0, (t - s) / Math.max(1, t - w)));
}

/** Linear warmup, then half a cosine down to minRatio (transformers' get_cosine_schedule_with_warmup when 0). */
export function cosine(opts: { warmupSteps?: number; totalSteps: number; minRatio?: number }): Schedule {
  const w = opts.warmupSteps ?? 0;
  const t = opts.totalSteps;
  const floor = opts.minRatio ?? 0;
  requireSteps("cosine", t, w);
  return (s) => {
    if (s < w) return s / Math.max(1, w);
    const progress = Math.min(1, (s - w) / Math.max(1, t - w));
    return floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}

/**
 * ULMFiT's slanted triangular schedule (Howard & Ruder 2018): a short linear rise over cutFrac of training, then a
 * long linear decay; the lowest rate is 1/ratio of the peak.
 */
export function slantedTriangular(opts: { totalSteps: number; cutFrac?: number; ratio?: number }): Schedule {
  const t = opts.totalSteps;
  const cutFrac = opts.cutFrac ?? 0.1;
  const ratio = opts.ratio ?? 32;
  requireSteps("slantedTriangular", t);
  const cut = Math.max(1, Math.floor(t * cutFrac));
  return (s) => {
    const p = s < cut ? s / cut : Math.max(0, 1 - (s - cut) / Math.max(1, cut * (1 / cutFrac - 1)));
    return (1 + p * (ratio - 1)) / ratio;
  };
}

/**
 * One-cycle (Smith 2018) as torch.optim.lr_scheduler.OneCycleLR with cosine annealing: from peak/divFactor up to
 * the peak over pctStart of training, then down to peak/(divFactor·finalDivFactor).
 */
export function oneCycle(opts: {
  totalSteps: number;
  pctStart?: number;
  divFactor?: number;
  finalDivFactor?: number;
}): Schedule {
  const t = opts.totalSteps;
  requireSteps("oneCycle", t);
  const pct = opts.pctStart ?? 0.3;
  const div = opts.divFactor ?? 25;
  const finalDiv = opts.finalDivFactor ?? 1e4;
  const upEnd = pct * t - 1;
  const downEnd = t - 1;
  const initial = 1 / div;
  const min = initial / finalDiv;
  const cosAnneal = (start: number, end: number, frac: number) =>
    end + ((start - end) / 2) * (1 + Math.cos(Math.PI * frac));
  return (s) => {
    if (s <= upEnd) return cosAnneal(initial, 1, upEnd <= 0 ? 1 : s / upEnd);
    return cosAnneal(1, min, Math.min(1, (s - upEnd) / Math.max(1e-12, downEnd - upEnd)));
  };
}

/** Sets each group's lr to initialLr · schedule(step); call step() after each optimizer step. */
export class LRScheduler {
  private stepCount = 0;

  constructor(
    readonly optimizer: Optimizer,
    readonly schedule: Schedule,
  ) {
    this.apply();
  }

  step(): void {
    this.stepCount++;
    this.apply();
  }

  get currentStep(): number {
    return this.stepCount;
  }

  /** Current learning rate of each group. */
  lrs(): number[] {
    return this.optimizer.groups.map((g) => g.lr);
  }

  /** Jump to a step (resume). */
  setStep(step: number): void {
    this.stepCount = step;
    this.apply();
  }

  private apply(): void {
    const f = this.schedule(this.stepCount);
    for (const g of this.optimizer.groups) g.lr = (g.initialLr ?? g.lr) * f;
  }
}
