/** Basic layers: Linear, Embedding, LayerNorm, Dropout. Modules hold parameters; the ops compute. */
import { ArgumentError } from "../util/errors.js";
import { defaultRng, type Rng } from "../util/rng.js";
import {
  checkpoint,
  fill_,
  type Tensor,
  dropout,
  embedding,
  gelu,
  geluTanh,
  layerNorm,
  linear,
  relu,
  sigmoid,
  silu,
  tanh,
} from "../tensor/index.js";
import type { Activation } from "../backend/index.js";
import { Module, Parameter } from "./module.js";
import { constant_, initSkipped, linearDefault_, normal_ } from "./init.js";

function positiveInt(layer: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new ArgumentError(`${layer}: ${name} must be a positive integer, got ${v}`);
}

export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean; rng?: Rng } = {},
  ) {
    super();
    positiveInt("Linear", "inFeatures", inFeatures);
    positiveInt("Linear", "outFeatures", outFeatures);
    this.weight = Parameter.zeros([outFeatures, inFeatures]);
    this.bias = opts.bias === false ? null : Parameter.zeros([outFeatures]);
    if (!initSkipped()) this.resetParameters(opts.rng);
  }

  resetParameters(rng: Rng = defaultRng()): void {
    linearDefault_(this.weight, this.inFeatures, rng);
    if (this.bias) linearDefault_(this.bias, this.inFeatures, rng);
  }

  /** act(x·Wᵀ + b); an activation given here runs fused with the bias (one pass instead of two). */
  forward(x: Tensor, act: Activation = "identity"): Tensor {
    return linear(x, this.weight, this.bias, act);
  }
}

/** A kernel activation as its own op (for when it cannot be fused into a Linear layer). */
export function activate(x: Tensor, act: Activation): Tensor {
  switch (act) {
    case "identity":
      return x;
    case "relu":
      return relu(x);
    case "gelu":
      return gelu(x);
    case "gelu_tanh":
      return geluTanh(x);
    case "silu":
      return silu(x);
    case "tanh":
      return tanh(x);
    case "sigmoid":
      return sigmoid(x);
  }
}

export class Embedding extends Module {
  weight: Parameter;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: { paddingIdx?: number; rng?: Rng } = {},
  ) {
    super();
    positiveInt("Embedding", "numEmbeddings", numEmbeddings);
    positiveInt("Embedding", "embeddingDim", embeddingDim);
    this.weight = Parameter.zeros([numEmbeddings, embeddingDim]);
    this._paddingIdx = opts.paddingIdx ?? null;
    if (!initSkipped()) this.resetParameters(opts.rng);
  }

  private readonly _paddingIdx: number | null;

  resetParameters(rng: Rng = defaultRng()): void {
    normal_(this.weight, 1, rng);
    if (this._paddingIdx !== null)
      fill_(this.weight, 0, this._paddingIdx * this.embeddingDim, (this._paddingIdx + 1) * this.embeddingDim);
  }

  /** ids: i32 tensor of any shape → [...ids.shape, embeddingDim]. */
  forward(ids: Tensor): Tensor {
    return embedding(ids, this.weight);
  }
}

export class LayerNorm extends Module {
  weight: Parameter;
  bias: Parameter;

  constructor(
    readonly normalizedShape: number,
    readonly eps = 1e-5,
  ) {
    super();
    positiveInt("LayerNorm", "normalizedShape", normalizedShape);
    this.weight = Parameter.zeros([normalizedShape]);
    this.bias = Parameter.zeros([normalizedShape]);
    this.resetParameters();
  }

  resetParameters(): void {
    constant_(this.weight, 1);
    constant_(this.bias, 0);
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** Inverted dropout, active only in training mode; each call draws a fresh mask seed from the generator. */
/** The dropout seeds drawn inside a checkpointed call, recorded the first time and replayed when it is recomputed. */
interface SeedTape {
  seeds: number[];
  replay: boolean;
  next: number;
}
let seedTape: SeedTape | null = null;

/** A dropout mask's seed: drawn from rng, except while a checkpointed call is recomputed (then the recorded one). */
export function dropoutSeed(rng: Rng): number {
  const tape = seedTape;
  if (tape?.replay) {
    if (tape.next >= tape.seeds.length)
      throw new Error("checkpointed: the recomputed layer drew more dropout masks than its first forward");
    return tape.seeds[tape.next++];
  }
  const seed = rng.nextU32();
  tape?.seeds.push(seed);
  return seed;
}

/**
 * tensor's checkpoint() for a layer with dropout: fn's first run records the seeds its Dropout modules draw, the
 * recomputation in the backward replays them, so both see the same masks and the random stream advances once (as
 * without checkpointing).
 */
export function checkpointed(fn: () => Tensor): Tensor {
  const seeds: number[] = [];
  let runs = 0;
  return checkpoint(() => {
    const prev = seedTape;
    seedTape = { seeds, replay: runs++ > 0, next: 0 };
    try {
      return fn();
    } finally {
      seedTape = prev;
    }
  });
}

export class Dropout extends Module {
  constructor(
    public p: number,
    private readonly _rng?: Rng,
  ) {
    super();
    if (!(p >= 0 && p < 1)) throw new ArgumentError(`Dropout: p must be in [0, 1), got ${p}`);
  }

  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    return dropout(x, this.p, dropoutSeed(this._rng ?? defaultRng()));
  }
}
