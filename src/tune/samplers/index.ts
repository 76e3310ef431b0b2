/** Samplers by name, for configs and resumed studies. */
import { ArgumentError } from "../../util/errors.js";
import { DESampler, type DEOptions } from "./de.js";
import { GridSampler, type GridOptions } from "./grid.js";
import { RandomSampler, type Sampler, type SamplerConfig } from "./sampler.js";
import { TPESampler, type TPEOptions } from "./tpe.js";

export {
  RandomSampler,
  trialRng,
  type Sampler,
  type SamplerConfig,
  type SamplerContext,
  type Suggestion,
} from "./sampler.js";
export { GridSampler, type GridOptions } from "./grid.js";
export { DESampler, type DEOptions, type DEStrategy, type BoundsHandling } from "./de.js";
export { TPESampler, type TPEOptions, type TPEPrior, type WeightedParams } from "./tpe.js";

export const SAMPLERS = ["tpe", "random", "grid", "de"] as const;

export function createSampler(config: SamplerConfig | string): Sampler {
  const c: SamplerConfig = typeof config === "string" ? { name: config } : config;
  const { name, ...opts } = c;
  switch (name) {
    case "tpe":
      return new TPESampler(opts as TPEOptions);
    case "random":
      return new RandomSampler(c.seed ?? 0);
    case "grid":
      return new GridSampler(opts as GridOptions);
    case "de":
    case "differential-evolution":
      return new DESampler(opts as DEOptions);
    default:
      throw new ArgumentError(`unknown sampler "${name}"`, `use one of ${SAMPLERS.join(", ")}`);
  }
}
