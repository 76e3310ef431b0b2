/**
 * Differential evolution (Storn & Price 1997) on the unit hypercube of the search space, so it works on mixed
 * spaces: floats and integers are positions on [0, 1], categoricals are cells of it.
 *
 * The population has `populationSize` slots; the first trials fill them (Latin hypercube), and every later trial
 * is a candidate for slot `index mod populationSize`: mutant = base + F·(x_r1 − x_r2) (base is a random member for
 * rand/1, the best member for best/1), binomial crossover with the slot's member at rate CR (one coordinate always
 * from the mutant), and a slot's member is the best trial it has seen — the candidate replaces it when no worse.
 * Replacement is immediate (scipy's updating="immediate"): a candidate sees every result so far, which is also
 * what makes the sampler asynchronous-safe under parallel executors. Everything is rebuilt from the stored trials
 * (slot and unit vector in `system.de`), so a resumed study continues the same run.
 *
 * With several objectives a candidate replaces its slot's member unless the member dominates it.
 */
import { ArgumentError } from "../../util/errors.js";
import { Rng } from "../../util/rng.js";
import { dominates, losses } from "../pareto.js";
import type { Direction, Trial } from "../types.js";
import { trialRng, type Sampler, type SamplerConfig, type SamplerContext, type Suggestion } from "./sampler.js";

export type DEStrategy = "rand/1/bin" | "best/1/bin";
export type BoundsHandling = "reflect" | "clip" | "resample";

export interface DEOptions {
  /** Members (default 10 per dimension, between 10 and 50). */
  populationSize?: number;
  /** Differential weight, or a [low, high] range drawn per candidate (dither). */
  F?: number | [number, number];
  /** Crossover rate. */
  CR?: number;
  strategy?: DEStrategy;
  /** What happens to a coordinate the mutation pushes outside [0, 1]. */
  bounds?: BoundsHandling;
  seed?: number;
}

interface DEInfo {
  index: number;
  slot: number;
  vector: number[];
}

interface Member {
  vector: number[];
  loss: number[];
}

export class DESampler implements Sampler {
  readonly name = "de";
  readonly F: number | [number, number];
  readonly CR: number;
  readonly strategy: DEStrategy;
  readonly bounds: BoundsHandling;
  readonly seed: number;
  private readonly fixedPopulation: number | undefined;
  private lhs: { n: number; d: number; rows: Float64Array[] } | null = null;
  private cache: {
    np: number;
    directions: Direction[];
    trials: readonly Trial[];
    seen: Set<number>;
    members: (Member | null)[];
  } | null = null;

  constructor(opts: DEOptions = {}) {
    this.fixedPopulation = opts.populationSize;
    this.F = opts.F ?? 0.5;
    this.CR = opts.CR ?? 0.9;
    this.strategy = opts.strategy ?? "rand/1/bin";
    this.bounds = opts.bounds ?? "reflect";
    this.seed = opts.seed ?? 0;
    if (this.fixedPopulation !== undefined && (!Number.isInteger(this.fixedPopulation) || this.fixedPopulation < 4)) {
      throw new ArgumentError(
        `differential evolution: populationSize must be an integer >= 4, got ${this.fixedPopulation}`,
      );
    }
    const fs = Array.isArray(this.F) ? this.F : [this.F];
    if (fs.some((f) => !(f > 0 && f <= 2)))
      throw new ArgumentError(`differential evolution: F must be in (0, 2], got ${JSON.stringify(this.F)}`);
    if (!(this.CR >= 0 && this.CR <= 1))
      throw new ArgumentError(`differential evolution: CR must be in [0, 1], got ${this.CR}`);
    if (!["rand/1/bin", "best/1/bin"].includes(this.strategy))
      throw new ArgumentError(
        `differential evolution: strategy must be "rand/1/bin" or "best/1/bin", got "${this.strategy}"`,
      );
    if (!["reflect", "clip", "resample"].includes(this.bounds))
      throw new ArgumentError(
        `differential evolution: bounds must be "reflect", "clip" or "resample", got "${this.bounds}"`,
      );
  }

  populationSize(dims: number): number {
    return this.fixedPopulation ?? Math.max(10, Math.min(50, 10 * dims));
  }

  suggest(ctx: SamplerContext): Suggestion {
    const d = ctx.space.dims;
    const np = this.populationSize(d);
    const index = ctx.trials.filter((t) => t.system.de !== undefined).length;
    const slot = index % np;
    const rng = trialRng(this.seed, index, 7);
    let vector: Float64Array;
    if (index < np) vector = this.initial(np, d)[index]!;
    else
      vector =
        this.candidate(slot, this.members(ctx.trials, np, ctx.directions), rng, d) ??
        Float64Array.from({ length: d }, () => rng.uniform());
    const info: DEInfo = { index, slot, vector: Array.from(vector) };
    return { params: ctx.space.fromUnit(vector), system: { de: info } };
  }

  /**
   * Each slot's member: the best complete trial proposed for it (or null). Folded in incrementally: trials only
   * ever finish, so the members of the previous call stay valid and only newly complete trials are looked at.
   */
  members(trials: readonly Trial[], np: number, directions: readonly Direction[]): (Member | null)[] {
    if (
      !this.cache ||
      this.cache.np !== np ||
      this.cache.directions.join() !== directions.join() ||
      this.cache.trials !== trials
    ) {
      this.cache = { np, directions: [...directions], trials, seen: new Set(), members: new Array(np).fill(null) };
    }
    const { seen, members: out } = this.cache;
    const fresh = trials
      .filter((t) => t.state === "complete" && t.values && t.system.de !== undefined && !seen.has(t.number))
      .sort((a, b) => a.number - b.number);
    for (const t of fresh) {
      seen.add(t.number);
      const info = t.system.de as DEInfo;
      const cand: Member = { vector: info.vector, loss: losses(t.values!, directions) };
      const cur = out[info.slot % np];
      const better =
        !cur || (directions.length === 1 ? cand.loss[0]! <= cur.loss[0]! : !dominates(cur.loss, cand.loss));
      if (better) out[info.slot % np] = cand;
    }
    return out;
  }

  private candidate(slot: number, members: (Member | null)[], rng: Rng, d: number): Float64Array | null {
    const target = members[slot];
    const others = members
      .map((m, i) => ({ m, i }))
      .filter((x) => x.m !== null && x.i !== slot)
      .map((x) => x.m!);
    if (!target || others.length < 3) return null;
    const pick = (k: number): Member[] => {
      const idx = rng.permutation(others.length).subarray(0, k);
      return Array.from(idx, (i) => others[i]!);
    };
    let base: number[], r1: number[], r2: number[];
    if (this.strategy === "best/1/bin") {
      const all = members.filter((m): m is Member => m !== null);
      base = all.reduce((a, b) => (lexLess(b.loss, a.loss) ? b : a)).vector;
      [r1, r2] = pick(2).map((m) => m.vector) as [number[], number[]];
    } else {
      [base, r1, r2] = pick(3).map((m) => m.vector) as [number[], number[], number[]];
    }
    const F = Array.isArray(this.F) ? rng.range(this.F[0], this.F[1]) : this.F;
    const jrand = rng.int(d);
    const out = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      const cross = j === jrand || rng.uniform() < this.CR;
      out[j] = cross ? this.keepInBounds(base[j]! + F * (r1[j]! - r2[j]!), rng) : target.vector[j]!;
    }
    return out;
  }

  private keepInBounds(u: number, rng: Rng): number {
    if (u >= 0 && u <= 1) return u;
    switch (this.bounds) {
      case "clip":
        return u < 0 ? 0 : 1;
      case "resample":
        return rng.uniform();
      case "reflect": {
        const r = u < 0 ? -u : 2 - u;
        return r < 0 ? 0 : r > 1 ? 1 : r;
      }
    }
  }

  /** A Latin hypercube of the initial population: each dimension's np strata hold one member each. */
  private initial(np: number, d: number): Float64Array[] {
    if (this.lhs && this.lhs.n === np && this.lhs.d === d) return this.lhs.rows;
    const rng = new Rng(this.seed * 31 + 17);
    const rows = Array.from({ length: np }, () => new Float64Array(d));
    for (let j = 0; j < d; j++) {
      const perm = rng.permutation(np);
      for (let i = 0; i < np; i++) rows[i]![j] = (perm[i]! + rng.uniform()) / np;
    }
    this.lhs = { n: np, d, rows };
    return rows;
  }

  config(): SamplerConfig {
    return {
      name: this.name,
      seed: this.seed,
      populationSize: this.fixedPopulation,
      F: this.F,
      CR: this.CR,
      strategy: this.strategy,
      bounds: this.bounds,
    };
  }
}

function lexLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}
