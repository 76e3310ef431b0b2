/**
 * The tree-structured Parzen estimator (Bergstra et al. 2011), graft's default sampler, following Optuna's
 * independent TPE: finished trials are split into the best γ(n) = min(⌈0.1·n⌉, 25) and the rest; each parameter
 * gets a Parzen density from each group (l for the good, g for the rest, each with a prior component spanning the
 * whole range); 24 candidates are drawn from l and the one with the largest l/g wins.
 *
 * Details: densities live on the unit scale of each parameter (so log-uniform ranges are handled in log space);
 * integers and choices use the probability of their cell instead of a density; bandwidths are the distance to the
 * farther sorted neighbour, clipped to [1/min(100, n+1), 1] (hyperopt's "magic clip"); older trials weigh less once
 * there are more than 25. Pruned trials rank after complete ones (further-reaching first), and trials still running
 * count as bad ("constant liar"), so parallel workers do not all sample the same spot. With several objectives
 * the split ranks trials by non-dominated front, then crowding distance. A conditional parameter is modelled only
 * from the trials where it exists.
 *
 * A warm-started study (tune/warm.ts) passes a `prior`: weighted parameter sets of earlier studies, added to the
 * good (l) and bad (g) densities as observations of their own weight; with a prior the model proposes from the
 * first trial on, without random start-up trials.
 */
import { ArgumentError } from "../../util/errors.js";
import { normCdf } from "../../util/math.js";
import type { Rng } from "../../util/rng.js";
import { crowdingDistance, losses, nondominatedFronts } from "../pareto.js";
import type { ParamDef } from "../space.js";
import { lossSign, type Direction, type ParamValue, type Params, type Trial } from "../types.js";
import {
  RandomSampler,
  trialRng,
  type Sampler,
  type SamplerConfig,
  type SamplerContext,
  type Suggestion,
} from "./sampler.js";

export interface TPEOptions {
  seed?: number;
  /** Random trials before the model takes over. */
  nStartupTrials?: number;
  /** Candidates drawn from the good density per parameter. */
  nEiCandidates?: number;
  /** Weight of the prior component relative to one observation. */
  priorWeight?: number;
  /** Treat running trials as bad ones. */
  constantLiar?: boolean;
  /** Observations of earlier studies (warm start): extra good and bad points, each with its weight. */
  prior?: TPEPrior | null;
}

/** A parameter set (possibly partial) with the weight it has in a density, relative to one trial of the study. */
export interface WeightedParams {
  params: Params;
  weight: number;
}

export interface TPEPrior {
  good: WeightedParams[];
  bad: WeightedParams[];
}

export class TPESampler implements Sampler {
  readonly name = "tpe";
  readonly seed: number;
  readonly nStartupTrials: number;
  readonly nEiCandidates: number;
  readonly priorWeight: number;
  readonly constantLiar: boolean;
  readonly prior: TPEPrior | null;
  private readonly random: RandomSampler;

  constructor(opts: TPEOptions = {}) {
    this.seed = opts.seed ?? 0;
    this.nStartupTrials = opts.nStartupTrials ?? 10;
    this.nEiCandidates = opts.nEiCandidates ?? 24;
    this.priorWeight = opts.priorWeight ?? 1;
    this.constantLiar = opts.constantLiar ?? true;
    this.prior = opts.prior && (opts.prior.good.length || opts.prior.bad.length) ? opts.prior : null;
    for (const w of [...(this.prior?.good ?? []), ...(this.prior?.bad ?? [])])
      if (!(w.weight >= 0) || typeof w.params !== "object" || w.params === null)
        throw new ArgumentError(
          `TPE: a prior observation needs params and a non-negative weight, got ${JSON.stringify(w)}`,
        );
    if (!Number.isInteger(this.nStartupTrials) || this.nStartupTrials < 0)
      throw new ArgumentError(`TPE: nStartupTrials must be a non-negative integer, got ${this.nStartupTrials}`);
    if (!Number.isInteger(this.nEiCandidates) || this.nEiCandidates < 1)
      throw new ArgumentError(`TPE: nEiCandidates must be a positive integer, got ${this.nEiCandidates}`);
    if (!(this.priorWeight > 0)) throw new ArgumentError(`TPE: priorWeight must be positive, got ${this.priorWeight}`);
    this.random = new RandomSampler(this.seed);
  }

  suggest(ctx: SamplerContext): Suggestion {
    const finished = ctx.trials.filter(
      (t) => (t.state === "complete" && t.values) || (t.state === "pruned" && t.intermediate.length > 0),
    );
    const warm = this.prior !== null && this.prior.good.length > 0;
    if (!warm && finished.length < Math.max(1, this.nStartupTrials)) return this.random.suggest(ctx);
    const running = this.constantLiar ? ctx.trials.filter((t) => t.state === "running") : [];
    const ordered = [...orderFinished(finished, ctx.directions), ...running];
    const nBelow = Math.min(Math.ceil(0.1 * ordered.length), 25);
    const below = ordered.slice(0, nBelow).sort(byNumber);
    const above = ordered.slice(nBelow).sort(byNumber);
    const rng = trialRng(this.seed, ctx.number, 3);
    const params: Params = {};
    for (const def of ctx.space.params) {
      if (!ctx.space.isActive(def, params)) continue;
      params[def.name] = this.sampleParam(def, below, above, rng);
    }
    return { params };
  }

  private sampleParam(def: ParamDef, below: Trial[], above: Trial[], rng: Rng): ParamValue {
    // the study's own trials (Optuna's weights) and the prior's observations (their own weights) that set `def`
    const obs = (group: Trial[], prior: readonly WeightedParams[]) => {
      const own = group.filter((t) => def.name in t.params);
      const extra = prior.filter((p) => def.name in p.params && def.contains(p.params[def.name]!));
      return {
        values: [...own.map((t) => t.params[def.name]!), ...extra.map((p) => p.params[def.name]!)],
        weights: [...weights(own.length), ...extra.map((p) => p.weight)],
      };
    };
    const lo = obs(below, this.prior?.good ?? []),
      hi = obs(above, this.prior?.bad ?? []);
    if (def.spec.type === "categorical") {
      const choices = def.spec.choices;
      const l = this.categorical(choices, lo),
        g = this.categorical(choices, hi);
      let best = 0,
        bestScore = -Infinity;
      for (let c = 0; c < this.nEiCandidates; c++) {
        const i = drawIndex(l, rng);
        const score = Math.log(l[i]!) - Math.log(g[i]!);
        if (score > bestScore) {
          bestScore = score;
          best = i;
        }
      }
      return choices[best]!;
    }
    const cells = Number.isFinite(def.cardinality) ? def.cardinality : 0;
    const l = this.parzen(
      lo.values.map((v) => def.encode(v)),
      lo.weights,
      cells,
    );
    const g = this.parzen(
      hi.values.map((v) => def.encode(v)),
      hi.weights,
      cells,
    );
    let best = 0.5,
      bestScore = -Infinity;
    for (let c = 0; c < this.nEiCandidates; c++) {
      let x = l.sample(rng);
      if (cells) x = (Math.min(cells - 1, Math.floor(x * cells)) + 0.5) / cells;
      const score = l.logDensity(x) - g.logDensity(x);
      if (score > bestScore) {
        bestScore = score;
        best = x;
      }
    }
    return def.decode(best);
  }

  private categorical(choices: readonly ParamValue[], obs: { values: ParamValue[]; weights: number[] }): number[] {
    const p = choices.map(() => this.priorWeight / choices.length);
    obs.values.forEach((v, i) => {
      p[choices.indexOf(v)]! += obs.weights[i]!;
    });
    const sum = p.reduce((a, b) => a + b, 0);
    return p.map((x) => x / sum);
  }

  /** A truncated Gaussian mixture on [0, 1]: the observations plus a wide prior at the centre. */
  private parzen(xs: number[], ws: number[], cells: number): Parzen {
    const mus = [...xs, 0.5];
    const wts = [...ws, this.priorWeight];
    const n = mus.length;
    const order = [...mus.keys()].sort((a, b) => mus[a]! - mus[b]!);
    const sigmas = new Array<number>(n);
    const minSigma = Math.max(1 / Math.min(100, n + 1), cells ? 0.5 / cells : 0);
    order.forEach((idx, k) => {
      const left = k > 0 ? mus[order[k - 1]!]! : 0;
      const right = k < n - 1 ? mus[order[k + 1]!]! : 1;
      const s = Math.max(mus[idx]! - left, right - mus[idx]!);
      sigmas[idx] = Math.min(1, Math.max(minSigma, s));
    });
    sigmas[n - 1] = 1; // the prior spans the whole range
    return new Parzen(mus, sigmas, wts, cells);
  }

  config(): SamplerConfig {
    return {
      name: this.name,
      seed: this.seed,
      nStartupTrials: this.nStartupTrials,
      nEiCandidates: this.nEiCandidates,
      priorWeight: this.priorWeight,
      constantLiar: this.constantLiar,
      ...(this.prior ? { prior: this.prior } : {}),
    };
  }
}

const byNumber = (a: Trial, b: Trial) => a.number - b.number;

/** Complete trials best first, then pruned ones (those that got further first, then by their last value). */
function orderFinished(trials: Trial[], directions: readonly Direction[]): Trial[] {
  const complete = trials.filter((t) => t.state === "complete");
  const pruned = trials.filter((t) => t.state === "pruned");
  let ranked: Trial[];
  if (directions.length === 1) {
    const s = lossSign(directions[0]!);
    ranked = complete.sort((a, b) => s * (a.values![0]! - b.values![0]!) || a.number - b.number);
  } else {
    const pts = complete.map((t) => losses(t.values!, directions));
    ranked = nondominatedFronts(pts).flatMap((front) => {
      const cd = crowdingDistance(front.map((i) => pts[i]!));
      return front
        .map((i, j) => ({ i, cd: cd[j]! }))
        .sort((a, b) => b.cd - a.cd || a.i - b.i)
        .map(({ i }) => complete[i]!);
    });
  }
  const s = lossSign(directions[0]!);
  const last = (t: Trial) => t.intermediate[t.intermediate.length - 1]!;
  pruned.sort((a, b) => last(b).step - last(a).step || s * (last(a).value - last(b).value) || a.number - b.number);
  return [...ranked, ...pruned];
}

/** Optuna's default weights: flat for the newest 25 observations, a ramp from 1/n up to 1 for older ones. */
function weights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = n - 25;
  return Array.from({ length: n }, (_, i) => (i < ramp ? 1 / n + ((1 - 1 / n) * i) / Math.max(1, ramp - 1) : 1));
}

function drawIndex(p: readonly number[], rng: Rng): number {
  let u = rng.uniform();
  for (let i = 0; i < p.length; i++) {
    u -= p[i]!;
    if (u < 0) return i;
  }
  return p.length - 1;
}

class Parzen {
  private readonly w: number[];
  private readonly z: number[];

  constructor(
    private readonly mus: number[],
    private readonly sigmas: number[],
    ws: number[],
    private readonly cells: number,
  ) {
    const sum = ws.reduce((a, b) => a + b, 0);
    this.w = ws.map((x) => x / sum);
    this.z = mus.map((m, i) => normCdf((1 - m) / sigmas[i]!) - normCdf((0 - m) / sigmas[i]!));
  }

  sample(rng: Rng): number {
    const i = drawIndex(this.w, rng);
    for (let tries = 0; tries < 1000; tries++) {
      const x = rng.normal(this.mus[i]!, this.sigmas[i]!);
      if (x >= 0 && x <= 1) return x;
    }
    return rng.uniform();
  }

  /** Log density at x, or log probability of x's cell for discrete parameters. */
  logDensity(x: number): number {
    let p = 0;
    for (let i = 0; i < this.mus.length; i++) {
      const m = this.mus[i]!,
        s = this.sigmas[i]!;
      if (this.cells) {
        const c = Math.min(this.cells - 1, Math.floor(x * this.cells));
        p += (this.w[i]! * (normCdf(((c + 1) / this.cells - m) / s) - normCdf((c / this.cells - m) / s))) / this.z[i]!;
      } else {
        const t = (x - m) / s;
        p += (this.w[i]! * Math.exp(-0.5 * t * t)) / (s * Math.sqrt(2 * Math.PI) * this.z[i]!);
      }
    }
    return Math.log(Math.max(p, 1e-300));
  }
}
