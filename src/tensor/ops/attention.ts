/** Fused (flash-style) attention as one differentiable op over the backend's blocked kernels. */
import { ShapeError, fmtShape } from "../../util/errors.js";
import { backend } from "../../backend/index.js";
import { type Tensor, cast, record } from "../tensor.js";
import { f32, outUninit, requireF32, requireI32 } from "./common.js";

export interface FlashAttentionOptions {
  /** [batch, keys]: 0 hides a key (padding) from every query; null shows all. */
  keep?: Tensor | null;
  /** Hide key k from query q when k > q + (keys - queries): a decoder's causal mask, cached keys included. */
  causal?: boolean;
  /** [batch, keys] i32 segment ids of packed samples (query q is key q + keys - queries, so queries <= keys). */
  segments?: Tensor | null;
  /** Multiplies the scores (default 1/√dim). */
  scale?: number;
  /**
   * How many rows of k and v (along axis 2) are keys (default all): k and v may be a preallocated KV cache
   * [batch, heads, capacity, dim] of which the first keyLength rows are filled, read in place.
   */
  keyLength?: number;
}

/**
 * softmax(scale·q·kᵀ, masked)·v for q [batch, heads, queries, dim], k and v [batch, kvHeads, keys, dim] (kvHeads
 * dividing heads: query head h reads kv head h / (heads / kvHeads), grouped-query attention without repeating k and v), computed
 * block by block with an online softmax: the [queries, keys] matrix never exists, the forward saves only a
 * logsumexp per query, and the backward recomputes the probabilities. The masks are attentionSoftmax's; a query
 * that sees no key gets a zero output.
 */
export function flashAttention(q: Tensor, k: Tensor, v: Tensor, opts: FlashAttentionOptions = {}): Tensor {
  requireF32("flashAttention", q, k, v);
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4)
    throw new ShapeError(
      `flashAttention: q, k and v must be [batch, heads, seq, dim], got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`,
    );
  const [batch, heads, queries, dim] = q.shape;
  const kvRows = k.shape[2];
  const kvHeads = k.shape[1];
  if (
    k.shape[0] !== batch ||
    kvHeads < 1 ||
    heads % kvHeads !== 0 ||
    k.shape[3] !== dim ||
    v.shape.some((n, i) => n !== k.shape[i])
  )
    throw new ShapeError(
      `flashAttention: k and v must both be [${batch}, kvHeads, keys, ${dim}] with kvHeads dividing ${heads} for q ${fmtShape(q.shape)}, got ${fmtShape(k.shape)} and ${fmtShape(v.shape)}`,
    );
  const keys = opts.keyLength ?? kvRows;
  if (!(Number.isInteger(keys) && keys >= 0 && keys <= kvRows))
    throw new ShapeError(`flashAttention: keyLength ${keys} is outside [0, ${kvRows}] (rows of k)`);
  const keep = opts.keep ?? null;
  if (keep && (keep.rank !== 2 || keep.shape[0] !== batch || keep.shape[1] !== keys))
    throw new ShapeError(`flashAttention: keep must be [${batch}, ${keys}], got ${fmtShape(keep.shape)}`);
  const segments = opts.segments ?? null;
  if (segments) {
    requireI32("flashAttention", "segments", segments);
    if (segments.rank !== 2 || segments.shape[0] !== batch || segments.shape[1] !== keys || queries > keys)
      throw new ShapeError(
        `flashAttention: segments must be i32 [${batch}, ${keys}] with no more queries (${queries}) than keys, got ${fmtShape(segments.shape)}`,
      );
  }
  const p = {
    batch,
    heads,
    queries,
    keys,
    dim,
    kvRows,
    kvHeads,
    scale: opts.scale ?? 1 / Math.sqrt(dim),
    causal: !!opts.causal,
  };
  const keepF = keep === null ? null : cast(keep.detach(), "f32").storage;
  const segS = segments?.storage ?? null;
  const y = outUninit(q.shape);
  const lse = f32(batch * heads * queries);
  backend().flashAttention(q.storage, k.storage, v.storage, keepF, segS, y.storage, lse, p);
  return record("flashAttention", y, [q, k, v], (g) => {
    const dq = f32(q.size);
    const dk = f32(k.size);
    const dv = f32(v.size);
    backend().flashAttentionBackward(q.storage, k.storage, v.storage, keepF, segS, y.storage, lse, g, dq, dk, dv, p);
    return [q.requiresGrad ? dq : null, k.requiresGrad ? dk : null, v.requiresGrad ? dv : null];
  });
}
