/**
 * Synthetic objectives for trying the tuner (and for its tests and benchmarks): no data, no model, instant.
 *
 *   sphere           Σ xᵢ²                         minimum 0 at the origin
 *   rosenbrock       Σ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)²   minimum 0 at (1, …, 1), a curved narrow valley
 *   noisy-quadratic  SGD with learning rate `lr` on ½Σ aᵢwᵢ² from noisy gradients: a toy training run whose best
 *                    learning rate falls over time (large to make progress, small to settle below the noise)
 *
 * sphere and rosenbrock take every numeric parameter (in name order). With `steps`, a trial pretends to train: it
 * reports f·(1 + 2/s) at steps s = 1..steps (waiting `stepMs` between reports) and stops when pruned, so pruners
 * and executors can be watched at work. noisy-quadratic supports population-based training (its state — weights
 * and noise generator — is checkpointed as JSON).
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { writeJsonAtomic } from "../../util/atomic.js";
import { ArgumentError, FormatError } from "../../util/errors.js";
import { Rng, type RngState } from "../../util/rng.js";
import { TrialPruned, type Objective, type TrialContext } from "../context.js";
import type { SpaceSpec } from "../space.js";
import type { Params } from "../types.js";

export interface BuiltinOptions extends NoisyQuadraticOptions {
  name: string;
  /** Dimensions of the default space. */
  dims?: number;
  /** Synthetic training steps (0: report nothing). */
  steps?: number;
  stepMs?: number;
}

type Fn = (x: number[]) => number;

const FUNCTIONS: Record<string, { fn: Fn; dims: number; low: number; high: number; about: string }> = {
  sphere: {
    fn: (x) => x.reduce((a, v) => a + v * v, 0),
    dims: 4,
    low: -5,
    high: 5,
    about: "sum of squares, minimum 0 at the origin",
  },
  rosenbrock: {
    fn: (x) => {
      let s = 0;
      for (let i = 0; i + 1 < x.length; i++) s += 100 * (x[i + 1]! - x[i]! ** 2) ** 2 + (1 - x[i]!) ** 2;
      return s;
    },
    dims: 2,
    low: -2,
    high: 2,
    about: "Rosenbrock's banana valley, minimum 0 at (1, ..., 1)",
  },
};

export const BUILTIN_NAMES = [...Object.keys(FUNCTIONS), "noisy-quadratic"];

export function describeBuiltins(): string[] {
  return [
    ...Object.entries(FUNCTIONS).map(
      ([name, f]) => `builtin:${name}  ${f.about} (default space: x0..x${f.dims - 1} in [${f.low}, ${f.high}])`,
    ),
    "builtin:noisy-quadratic  SGD on a noisy ill-conditioned quadratic, a toy training run for PBT and pruners (default space: lr in [1e-3, 1], log)",
  ];
}

function lookup(name: string) {
  const f = FUNCTIONS[name];
  if (!f)
    throw new ArgumentError(
      `unknown builtin objective "${name}"`,
      `builtins are for trying the tuner: ${BUILTIN_NAMES.map((n) => `builtin:${n}`).join(", ")}`,
    );
  return f;
}

/** The default search space of a builtin: x0..x{dims-1}, uniform over the function's usual domain. */
export function builtinSpace(opts: BuiltinOptions): SpaceSpec {
  if (opts.name === "noisy-quadratic") return { lr: { type: "loguniform", low: 1e-3, high: 1 } };
  const f = lookup(opts.name);
  const dims = opts.dims ?? f.dims;
  if (!Number.isInteger(dims) || dims < 1 || (opts.name === "rosenbrock" && dims < 2))
    throw new ArgumentError(
      `builtin:${opts.name}: dims must be an integer >= ${opts.name === "rosenbrock" ? 2 : 1}, got ${dims}`,
    );
  return Object.fromEntries(
    Array.from({ length: dims }, (_, i) => [`x${i}`, { type: "uniform", low: f.low, high: f.high }]),
  );
}

export function evaluateBuiltin(name: string, params: Params): number {
  const x = Object.keys(params)
    .filter((k) => typeof params[k] === "number")
    .sort(naturalOrder)
    .map((k) => params[k] as number);
  return lookup(name).fn(x);
}

/** The objective factory (loaded by name in executors: "graft:tune/objectives/builtins.js#builtinObjective"). */
export function builtinObjective(opts: BuiltinOptions): Objective {
  if (opts.name === "noisy-quadratic") return noisyQuadratic(opts);
  lookup(opts.name);
  const steps = opts.steps ?? 0;
  const stepMs = opts.stepMs ?? 0;
  return async (trial) => {
    const f = evaluateBuiltin(opts.name, trial.params);
    for (let s = 1; s <= steps; s++) {
      if (stepMs > 0) await sleep(stepMs);
      await trial.report(s, f * (1 + 2 / s));
      if (trial.shouldPrune()) throw new TrialPruned(`pruned at step ${s}`);
    }
    return f;
  };
}

function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

export interface NoisyQuadraticOptions {
  dims?: number;
  /** Gradient noise. */
  sigma?: number;
  /** Steps of a trial outside PBT. */
  steps?: number;
  /** Report the loss every this many steps. */
  reportEvery?: number;
  /** Seeds the noise of a trial outside PBT (PBT members are seeded by member). */
  seed?: number;
  /** Every weight starts here. */
  start?: number;
  /** The smallest curvature (the largest is 1). */
  minCurvature?: number;
}

interface QuadraticState {
  w: number[];
  rng: RngState;
  step: number;
}

/**
 * SGD on f(w) = ½Σ aᵢwᵢ² (50 weights, curvatures aᵢ from 0.5 to 1) with gradient noise σ, from w = 100·1. A large
 * learning rate gets down from the start quickly but leaves w jittering at a floor ∝ lr·σ²; a small one would settle
 * lower but takes too long to get there — so a decreasing schedule beats every constant one. The score is f(w).
 */
export function noisyQuadratic(opts: NoisyQuadraticOptions = {}): Objective {
  const d = opts.dims ?? 50;
  const sigma = opts.sigma ?? 1;
  const start = opts.start ?? 100;
  const amin = opts.minCurvature ?? 0.5;
  const a = Array.from({ length: d }, (_, i) => amin * (1 / amin) ** (i / Math.max(1, d - 1)));
  const loss = (w: number[]) => 0.5 * w.reduce((acc, x, i) => acc + a[i]! * x * x, 0);
  return async (trial: TrialContext) => {
    const lr = trial.params.lr;
    if (typeof lr !== "number" || !(lr > 0))
      throw new ArgumentError(`noisy-quadratic needs a positive numeric parameter "lr", got ${JSON.stringify(lr)}`);
    const seg = trial.segment;
    let state: QuadraticState;
    if (seg?.restoreFrom) {
      const p = join(seg.restoreFrom, "state.json");
      if (!existsSync(p)) throw new FormatError(`noisy-quadratic: no state to continue from in ${seg.restoreFrom}`);
      state = JSON.parse(readFileSync(p, "utf8")) as QuadraticState;
    } else {
      state = {
        w: new Array<number>(d).fill(start),
        rng: new Rng(seg ? 1000 + seg.member : (opts.seed ?? 0) * 7919 + trial.number).getState(),
        step: 0,
      };
    }
    const rng = new Rng(0);
    rng.setState(state.rng);
    const end = seg ? seg.endStep : (opts.steps ?? 200);
    const every = opts.reportEvery ?? 10;
    const w = state.w;
    for (let step = state.step + 1; step <= end; step++) {
      for (let i = 0; i < d; i++) w[i]! -= lr * (a[i]! * w[i]! + sigma * rng.normal());
      if (!Number.isFinite(w[0]!)) throw new ArgumentError(`noisy-quadratic diverged at step ${step} with lr ${lr}`);
      if (!seg && step % every === 0) {
        await trial.report(step, loss(w));
        if (trial.shouldPrune()) throw new TrialPruned(`pruned at step ${step}`);
      }
    }
    if (seg) {
      mkdirSync(trial.checkpointDir, { recursive: true });
      writeJsonAtomic(join(trial.checkpointDir, "state.json"), {
        w,
        rng: rng.getState(),
        step: end,
      } satisfies QuadraticState);
      await trial.report(end, loss(w));
    }
    return loss(w);
  };
}
