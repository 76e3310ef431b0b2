/** The sampler interface, and the random sampler every other one falls back on. */
import { Rng } from "../../util/rng.js";
import type { SearchSpace } from "../space.js";
import type { Direction, Params, Trial } from "../types.js";

export interface SamplerContext {
  space: SearchSpace;
  directions: readonly Direction[];
  /** Every trial of the study so far, in any state (the new one excluded). */
  trials: readonly Trial[];
  /** The number the new trial will get. */
  number: number;
}

export interface Suggestion {
  params: Params;
  /** Bookkeeping stored with the trial, so that a resumed study rebuilds the sampler's state from its trials. */
  system?: Record<string, unknown>;
}

export interface Sampler {
  readonly name: string;
  /** Parameters for the next trial, or null when the sampler has nothing left (a finished grid). */
  suggest(ctx: SamplerContext): Suggestion | null;
  /** The options that recreate this sampler (stored in the study). */
  config(): SamplerConfig;
}

export interface SamplerConfig {
  name: string;
  seed?: number;
  [option: string]: unknown;
}

/**
 * A generator for one trial, a pure function of (seed, trial number, salt): a study sampled in parallel or
 * resumed draws the same numbers as one run start to finish.
 */
export function trialRng(seed: number, number: number, salt = 0): Rng {
  return new Rng((seed >>> 0) * 2654435761 + number * 40503 + salt * 97 + 1);
}

export class RandomSampler implements Sampler {
  readonly name = "random";
  constructor(readonly seed = 0) {}

  suggest(ctx: SamplerContext): Suggestion {
    return { params: ctx.space.sample(trialRng(this.seed, ctx.number)) };
  }

  config(): SamplerConfig {
    return { name: this.name, seed: this.seed };
  }
}
