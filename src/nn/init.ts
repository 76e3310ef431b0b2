/** Standard initializations, drawing from a given generator (default: the process-wide one). */
import { defaultRng, type Rng } from "../util/rng.js";
import { Tensor, copy_, fill_ } from "../tensor/index.js";
import type { Parameter } from "./module.js";

/** Draws every element on the host (the generator's order is the element order) and writes them into p. */
function draw(p: Parameter, sample: () => number): void {
  const d = new Float32Array(p.size);
  for (let i = 0; i < d.length; i++) d[i] = sample();
  copy_(p, new Tensor(d, p.shape));
}

export function uniform_(p: Parameter, lo: number, hi: number, rng: Rng = defaultRng()): void {
  draw(p, () => rng.range(lo, hi));
}

export function normal_(p: Parameter, std: number, rng: Rng = defaultRng(), mean = 0): void {
  draw(p, () => rng.normal(mean, std));
}

export function constant_(p: Parameter, value: number): void {
  fill_(p, value);
}

/** Xavier/Glorot uniform for a [out, in] matrix. */
export function xavierUniform_(p: Parameter, rng: Rng = defaultRng(), gain = 1): void {
  const [fanOut, fanIn] = p.shape;
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  uniform_(p, -a, a, rng);
}

/** torch.nn.Linear's default: kaiming_uniform(a=√5) on the weight, i.e. U(-1/√fan_in, 1/√fan_in). */
export function linearDefault_(p: Parameter, fanIn: number, rng: Rng = defaultRng()): void {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  uniform_(p, -bound, bound, rng);
}

let skipDepth = 0;

/**
 * Builds modules without drawing initial weights (they stay zero): for loading a checkpoint, which overwrites
 * them anyway — random initialization of a 110M-parameter model costs seconds. Whatever the checkpoint lacks
 * must then be initialized explicitly (the model loader does).
 */
export function skipInit<T>(build: () => T): T {
  skipDepth++;
  try {
    return build();
  } finally {
    skipDepth--;
  }
}

export function initSkipped(): boolean {
  return skipDepth > 0;
}
