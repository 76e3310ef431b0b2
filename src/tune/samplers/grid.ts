/**
 * Grid search: every combination of every choice, every integer (thinned to `points` when there are more) and
 * `points` evenly spaced floats (in log space for loguniform); a conditional parameter multiplies only the
 * branches where it exists. The study ends when the grid is exhausted.
 */
import { ArgumentError } from "../../util/errors.js";
import { Rng } from "../../util/rng.js";
import type { SearchSpace } from "../space.js";
import type { Params } from "../types.js";
import type { Sampler, SamplerConfig, SamplerContext, Suggestion } from "./sampler.js";

const MAX_GRID = 1_000_000;

export interface GridOptions {
  /** Values per float parameter (and the most per integer parameter). */
  points?: number;
  /** Visit the grid in a seeded random order (useful when the budget is smaller than the grid). */
  shuffle?: boolean;
  seed?: number;
}

export class GridSampler implements Sampler {
  readonly name = "grid";
  private cache: { space: SearchSpace; grid: Params[] } | null = null;
  readonly points: number;
  readonly shuffle: boolean;
  readonly seed: number;

  constructor(opts: GridOptions = {}) {
    this.points = opts.points ?? 5;
    this.shuffle = opts.shuffle ?? false;
    this.seed = opts.seed ?? 0;
    if (!Number.isInteger(this.points) || this.points < 1)
      throw new ArgumentError(`grid sampler: points must be a positive integer, got ${opts.points}`);
  }

  grid(space: SearchSpace): Params[] {
    if (this.cache?.space === space) return this.cache.grid;
    let partial: Params[] = [{}];
    for (const def of space.params) {
      const values = space.gridValues(def, this.points);
      const next: Params[] = [];
      for (const p of partial) {
        if (!space.isActive(def, p)) next.push(p);
        else for (const v of values) next.push({ ...p, [def.name]: v });
      }
      if (next.length > MAX_GRID)
        throw new ArgumentError(
          `the grid has more than ${MAX_GRID} points`,
          "use fewer points per float, or the random or TPE sampler",
        );
      partial = next;
    }
    if (this.shuffle) new Rng(this.seed).shuffle(partial);
    this.cache = { space, grid: partial };
    return partial;
  }

  suggest(ctx: SamplerContext): Suggestion | null {
    const grid = this.grid(ctx.space);
    const used = ctx.trials.filter((t) => typeof t.system.grid === "number").length;
    if (used >= grid.length) return null;
    return { params: { ...grid[used]! }, system: { grid: used } };
  }

  config(): SamplerConfig {
    return { name: this.name, points: this.points, shuffle: this.shuffle, seed: this.seed };
  }
}
