/**
 * Multi-head attention. The functional core (scaledDotProductAttention) is shared by every architecture;
 * MultiHeadSelfAttention is a generic module for models that don't need Hugging Face's exact field names.
 */
import { ArgumentError, ShapeError, fmtShape } from "../util/errors.js";
import { attentionChoice } from "../util/env.js";
import type { Rng } from "../util/rng.js";
import {
  Tensor,
  add,
  attentionSoftmax,
  flashAttention,
  isGradEnabled,
  matmul,
  permute,
  reshape,
  scale,
  softmax,
} from "../tensor/index.js";
import { Module } from "./module.js";
import { Dropout, Linear } from "./layers.js";

/** The value masked scores get, as Hugging Face uses (the most negative f32) rather than -inf. */
export const MASK_VALUE = -3.4028234663852886e38;

/**
 * Additive attention bias of shape [B, 1, 1, T] from a padding mask [B, T] (1 = attend, 0 = padding),
 * optionally combined with a causal mask into [B, 1, T, T].
 */
export function attentionBias(opts: {
  batch: number;
  queryLen: number;
  keyLen: number;
  paddingMask?: Tensor | null;
  causal?: boolean;
}): Tensor | null {
  const { batch, queryLen: tq, keyLen: tk } = opts;
  const pad = opts.paddingMask ?? null;
  if (pad && (pad.rank !== 2 || pad.shape[0] !== batch || pad.shape[1] !== tk)) {
    throw new ShapeError(`attention: padding mask must be [${batch}, ${tk}], got ${fmtShape(pad.shape)}`);
  }
  if (!pad && !opts.causal) return null;
  const keep = pad ? pad.toArray() : null; // [B, T] on the host: built once per forward
  if (!opts.causal) {
    const b = new Float32Array(batch * tk);
    for (let i = 0; i < b.length; i++) b[i] = keep![i] ? 0 : MASK_VALUE;
    return new Tensor(b, [batch, 1, 1, tk]);
  }
  // causal: query i (at absolute position tk - tq + i) sees keys j <= that position
  const nb = pad ? batch : 1;
  const b = new Float32Array(nb * tq * tk);
  for (let bi = 0; bi < nb; bi++) {
    for (let i = 0; i < tq; i++) {
      for (let j = 0; j < tk; j++) {
        const visible = j <= tk - tq + i && keep?.[bi * tk + j] !== 0;
        b[(bi * tq + i) * tk + j] = visible ? 0 : MASK_VALUE;
      }
    }
  }
  return new Tensor(b, [nb, 1, tq, tk]);
}

export interface AttentionMasking {
  /** [B, Tk] padding mask (1 = token, 0 = padding): hidden keys get probability exactly 0. */
  keep?: Tensor | null;
  /** A decoder's causal mask: query i sees keys up to its own position (KV cache included). */
  causal?: boolean;
  /** [B, Tk] i32 segment ids (packed samples): a query sees only keys of its own segment (query i is key Tk - Tq + i). */
  segments?: Tensor | null;
  /** A general additive bias broadcasting to [B, H, Tq, Tk] (e.g. from attentionBias or relative positions). */
  bias?: Tensor | null;
  scale?: number;
  dropout?: Dropout | null;
  /**
   * Which implementation runs: "fused" (flashAttention: blocks of keys with an online softmax, the [Tq, Tk] score
   * matrix never exists), "unfused" (scores, attentionSoftmax, product), or "auto" (fused where useFusedAttention
   * says it is faster). The default is GRAFT_ATTENTION's (auto when unset). A `bias` or an active attention dropout
   * always takes the unfused path.
   */
  impl?: AttentionImpl;
}

export type AttentionImpl = "auto" | "fused" | "unfused";

/**
 * softmax(q·kᵀ·scale, masked)·v for q [B, H, Tq, dh], k and v [B, H, Tk, dh]. Padding (`keep`), causal and
 * segment masks run inside the fused attention softmax; an additive `bias` takes the unfused path (scale, add, softmax), with
 * `keep`/`causal` applied on top. `dropout` is applied to the attention probabilities (a module, so it follows
 * train/eval). A query that sees no key gets a zero context.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionMasking = {}): Tensor {
  const dh = q.shape[q.rank - 1];
  const s = opts.scale ?? 1 / Math.sqrt(dh);
  const dropping = !!opts.dropout && opts.dropout.training && opts.dropout.p > 0;
  const impl = opts.impl ?? envImpl();
  if (
    impl !== "unfused" &&
    !opts.bias &&
    !dropping &&
    q.rank === 4 &&
    (impl === "fused" ||
      useFusedAttention({
        queries: q.shape[2],
        keys: k.shape[2],
        heads: q.shape[0] * q.shape[1],
        dim: dh,
        causal: !!opts.causal,
        backward: isGradEnabled() && (q.requiresGrad || k.requiresGrad || v.requiresGrad),
      }))
  ) {
    return flashAttention(q, k, v, { keep: opts.keep, causal: opts.causal, segments: opts.segments, scale: s });
  }
  let scores = matmul(q, k, { transB: true }); // [B, H, Tq, Tk]
  let probs: Tensor;
  if (opts.bias) {
    scores = add(scale(scores, s), opts.bias);
    probs =
      opts.keep || opts.causal || opts.segments
        ? attentionSoftmax(scores, { keep: opts.keep, causal: opts.causal, segments: opts.segments })
        : softmax(scores);
  } else {
    probs = attentionSoftmax(scores, { keep: opts.keep, causal: opts.causal, segments: opts.segments, scale: s });
  }
  if (opts.dropout) probs = opts.dropout.forward(probs);
  return matmul(probs, v); // [B, H, Tq, dh]
}

/** [B, T, H·dh] → [B, H, T, dh] */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const [b, t, d] = x.shape;
  return permute(reshape(x, [b, t, heads, d / heads]), [0, 2, 1, 3]);
}

/** [B, H, T, dh] → [B, T, H·dh] */
export function mergeHeads(x: Tensor): Tensor {
  const [b, h, t, dh] = x.shape;
  return reshape(permute(x, [0, 2, 1, 3]), [b, t, h * dh]);
}

export interface AttentionOptions {
  dim: number;
  heads: number;
  dropout?: number;
  causal?: boolean;
  rng?: Rng;
}

export class MultiHeadSelfAttention extends Module {
  query: Linear;
  key: Linear;
  value: Linear;
  out: Linear;
  dropout: Dropout;
  readonly heads: number;
  readonly causal: boolean;

  constructor(opts: AttentionOptions) {
    super();
    if (opts.dim % opts.heads !== 0)
      throw new ArgumentError(`MultiHeadSelfAttention: dim ${opts.dim} is not divisible by ${opts.heads} heads`);
    this.heads = opts.heads;
    this.causal = opts.causal ?? false;
    this.query = new Linear(opts.dim, opts.dim, { rng: opts.rng });
    this.key = new Linear(opts.dim, opts.dim, { rng: opts.rng });
    this.value = new Linear(opts.dim, opts.dim, { rng: opts.rng });
    this.out = new Linear(opts.dim, opts.dim, { rng: opts.rng });
    this.dropout = new Dropout(opts.dropout ?? 0, opts.rng);
  }

  /** x [B, T, D]; paddingMask [B, T] with 1 for real tokens. */
  forward(x: Tensor, paddingMask: Tensor | null = null): Tensor {
    if (x.rank !== 3)
      throw new ShapeError(`MultiHeadSelfAttention: input must be [batch, seq, dim], got ${fmtShape(x.shape)}`);
    const [b, t] = x.shape;
    const q = splitHeads(this.query.forward(x), this.heads);
    const k = splitHeads(this.key.forward(x), this.heads);
    const v = splitHeads(this.value.forward(x), this.heads);
    if (paddingMask && (paddingMask.rank !== 2 || paddingMask.shape[0] !== b || paddingMask.shape[1] !== t)) {
      throw new ShapeError(`attention: padding mask must be [${b}, ${t}], got ${fmtShape(paddingMask.shape)}`);
    }
    return this.out.forward(
      mergeHeads(scaledDotProductAttention(q, k, v, { keep: paddingMask, causal: this.causal, dropout: this.dropout })),
    );
  }
}

let envChoice: AttentionImpl | null = null;
function envImpl(): AttentionImpl {
  return (envChoice ??= attentionChoice());
}

/** The sizes the fused/unfused choice looks at. */
export interface AttentionSizes {
  queries: number;
  keys: number;
  /** batch × heads: independent attention problems. */
  heads: number;
  dim: number;
  causal: boolean;
  /** Whether a backward pass will follow (training). */
  backward: boolean;
}

/**
 * Whether the fused attention kernel is expected to be faster than the unfused path (two GEMMs around the
 * attention softmax) for these sizes. Measured on an AMD EPYC Zen 3 (AVX2, one thread, CPU time; see
 * docs/attention.md): the fused kernel wins when decoding (a few queries against a cache: one pass over the keys,
 * no score tensor, 1.1–2.3×), on causal attention from 512 keys in inference and 1024 in training (it skips the
 * blocks above the diagonal, ~2×), and without a causal mask from 1024 keys in inference (1.1–1.25×); it loses
 * below head size 64 and in non-causal training (its backward recomputes the scores: 0.9×).
 */
export function useFusedAttention(s: AttentionSizes): boolean {
  if (s.dim < 64) return false;
  if (!s.backward && s.queries <= 8) return true;
  if (s.backward) return s.causal && s.keys >= 1024;
  return s.keys >= (s.causal ? 512 : 1024);
}
