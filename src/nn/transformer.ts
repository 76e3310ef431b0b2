/** Feed-forward and transformer blocks, post-LN (BERT) or pre-LN (GPT-2). */
import type { Rng } from "../util/rng.js";
import { ArgumentError } from "../util/errors.js";
import { type Tensor, add } from "../tensor/index.js";
import type { Activation as KernelActivation } from "../backend/index.js";
import { Module } from "./module.js";
import { Dropout, LayerNorm, Linear, activate } from "./layers.js";
import { MultiHeadSelfAttention } from "./attention.js";

/** A Hugging Face `hidden_act` name (the kernels' own activations are backend's `Activation`). */
export type HiddenAct = "gelu" | "gelu_new" | "gelu_pytorch_tanh" | "relu" | "silu" | "tanh";

/** The kernel activation for a Hugging Face `hidden_act` name: what a Linear layer fuses with its bias. */
export function fusedActivation(name: HiddenAct | string): KernelActivation {
  switch (name) {
    case "gelu":
      return "gelu";
    case "gelu_new":
    case "gelu_pytorch_tanh":
      return "gelu_tanh";
    case "relu":
      return "relu";
    case "silu":
    case "swish":
      return "silu";
    case "tanh":
      return "tanh";
    default:
      throw new ArgumentError(
        `unknown activation "${name}" (known: gelu, gelu_new, gelu_pytorch_tanh, relu, silu, tanh)`,
      );
  }
}

/** Activation by Hugging Face's `hidden_act` names. */
export function activation(name: HiddenAct | string): (x: Tensor) => Tensor {
  const kind = fusedActivation(name);
  return (x) => activate(x, kind);
}

export class FeedForward extends Module {
  fc1: Linear;
  fc2: Linear;
  dropout: Dropout;
  private readonly _act: KernelActivation;

  constructor(dim: number, hidden: number, opts: { activation?: HiddenAct; dropout?: number; rng?: Rng } = {}) {
    super();
    this.fc1 = new Linear(dim, hidden, { rng: opts.rng });
    this.fc2 = new Linear(hidden, dim, { rng: opts.rng });
    this.dropout = new Dropout(opts.dropout ?? 0, opts.rng);
    this._act = fusedActivation(opts.activation ?? "gelu");
  }

  forward(x: Tensor): Tensor {
    return this.dropout.forward(this.fc2.forward(this.fc1.forward(x, this._act)));
  }
}

export interface TransformerBlockOptions {
  dim: number;
  heads: number;
  ffDim: number;
  /** Pre-LN (GPT-2: x + f(LN(x))) instead of post-LN (BERT: LN(x + f(x))). */
  preNorm?: boolean;
  causal?: boolean;
  dropout?: number;
  attentionDropout?: number;
  activation?: HiddenAct;
  eps?: number;
  rng?: Rng;
}

export class TransformerBlock extends Module {
  attention: MultiHeadSelfAttention;
  norm1: LayerNorm;
  ff: FeedForward;
  norm2: LayerNorm;
  dropout: Dropout;
  readonly preNorm: boolean;

  constructor(o: TransformerBlockOptions) {
    super();
    this.preNorm = o.preNorm ?? false;
    this.attention = new MultiHeadSelfAttention({
      dim: o.dim,
      heads: o.heads,
      dropout: o.attentionDropout ?? o.dropout ?? 0,
      causal: o.causal,
      rng: o.rng,
    });
    this.norm1 = new LayerNorm(o.dim, o.eps ?? 1e-5);
    this.ff = new FeedForward(o.dim, o.ffDim, { activation: o.activation, dropout: o.dropout, rng: o.rng });
    this.norm2 = new LayerNorm(o.dim, o.eps ?? 1e-5);
    this.dropout = new Dropout(o.dropout ?? 0, o.rng);
  }

  /** x [B, T, D]; paddingMask [B, T] with 1 for real tokens. */
  forward(x: Tensor, paddingMask: Tensor | null = null): Tensor {
    if (this.preNorm) {
      const h = add(x, this.dropout.forward(this.attention.forward(this.norm1.forward(x), paddingMask)));
      return add(h, this.ff.forward(this.norm2.forward(h)));
    }
    const h = this.norm1.forward(add(x, this.dropout.forward(this.attention.forward(x, paddingMask))));
    return this.norm2.forward(add(h, this.ff.forward(h)));
  }
}
