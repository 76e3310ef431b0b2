/** Neural-network ops on the fused backend kernels: softmax, layer norm, embedding, dropout, cross-entropy. */
import { ShapeError, fmtShape } from "../../util/errors.js";
import { backend, type Storage } from "../../backend/index.js";
import { Tensor, cast, record } from "../tensor.js";
import { normAxis } from "../shape.js";
import { f32, hostF32, outUninit, requireF32, requireI32, requireRank } from "./common.js";

function lastAxisOnly(op: string, x: Tensor, axis: number): void {
  if (normAxis(op, axis, x.rank) !== x.rank - 1)
    throw new ShapeError(
      `${op}: only the last axis is supported (got axis ${axis} of ${fmtShape(x.shape)}); permute first`,
    );
}

function softmaxOp(log: boolean, x: Tensor, axis: number): Tensor {
  const name = log ? "logSoftmax" : "softmax";
  requireF32(name, x);
  requireRank(name, x, 1);
  lastAxisOnly(name, x, axis);
  const cols = x.shape[x.rank - 1];
  const rows = x.size / Math.max(cols, 1);
  const y = outUninit(x.shape);
  backend().softmax(x.storage, y.storage, rows, cols, log);
  return record(name, y, [x], (g) => {
    const dx = f32(x.size);
    backend().softmaxBackward(y.storage, g, dx, rows, cols, log);
    return [dx];
  });
}

export const softmax = (x: Tensor, axis = -1): Tensor => softmaxOp(false, x, axis);
export const logSoftmax = (x: Tensor, axis = -1): Tensor => softmaxOp(true, x, axis);

export interface AttentionSoftmaxOptions {
  /** [batch, keys]: 0 hides a key (padding) from every query of its sequence; null shows all. */
  keep?: Tensor | null;
  /** Hide key k from query q when k > q + (keys - queries): a decoder's causal mask, KV cache included. */
  causal?: boolean;
  /** Multiplies the scores first (1/√head_dim). */
  scale?: number;
  /**
   * [batch, keys] i32: key k is hidden from query q unless both have the same segment id (query q is key
   * q + keys - queries, so queries <= keys): packed samples never see each other.
   */
  segments?: Tensor | null;
}

/**
 * softmax over keys of scale·scores [batch, heads, queries, keys] with hidden keys at probability exactly 0, in one
 * fused pass (instead of scale, add a mask bias, softmax: three passes and two temporaries of the largest tensor in
 * attention). A query that sees no key gets all zeros, as PyTorch's scaled_dot_product_attention gives it.
 */
export function attentionSoftmax(scores: Tensor, opts: AttentionSoftmaxOptions = {}): Tensor {
  requireF32("attentionSoftmax", scores);
  if (scores.rank !== 4)
    throw new ShapeError(
      `attentionSoftmax: scores must be [batch, heads, queries, keys], got ${fmtShape(scores.shape)}`,
    );
  const [batch, heads, queries, keys] = scores.shape;
  const keep = opts.keep ?? null;
  if (keep) {
    if (keep.rank !== 2 || keep.shape[0] !== batch || keep.shape[1] !== keys) {
      throw new ShapeError(
        `attentionSoftmax: keep must be [${batch}, ${keys}] for scores ${fmtShape(scores.shape)}, got ${fmtShape(keep.shape)}`,
      );
    }
  }
  const segments = opts.segments ?? null;
  if (segments) {
    requireI32("attentionSoftmax", "segments", segments);
    if (segments.rank !== 2 || segments.shape[0] !== batch || segments.shape[1] !== keys || queries > keys) {
      throw new ShapeError(
        `attentionSoftmax: segments must be i32 [${batch}, ${keys}] with no more queries than keys for scores ${fmtShape(scores.shape)}, got ${fmtShape(segments.shape)}`,
      );
    }
  }
  const scale = opts.scale ?? 1;
  const y = outUninit(scores.shape);
  const keepF = keep === null ? null : cast(keep.detach(), "f32").storage;
  backend().attentionSoftmax(
    scores.storage,
    keepF,
    y.storage,
    { batch, heads, queries, keys, scale, causal: opts.causal ?? false },
    segments?.storage ?? null,
  );
  return record("attentionSoftmax", y, [scores], (g) => {
    const dx = f32(scores.size);
    backend().attentionSoftmaxBackward(y.storage, g, dx, batch * heads * queries, keys, scale);
    return [dx];
  });
}

/** Layer normalization over the last axis with affine parameters of that size. */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  requireF32("layerNorm", x, gamma, beta);
  requireRank("layerNorm", x, 1);
  const cols = x.shape[x.rank - 1];
  if (gamma.size !== cols || beta.size !== cols) {
    throw new ShapeError(
      `layerNorm: weight ${fmtShape(gamma.shape)} and bias ${fmtShape(beta.shape)} must both have ${cols} elements to normalize ${fmtShape(x.shape)}`,
    );
  }
  const rows = x.size / Math.max(cols, 1);
  const y = outUninit(x.shape);
  const mu = f32(rows);
  const rstd = f32(rows);
  backend().layerNorm(x.storage, gamma.storage, beta.storage, y.storage, mu, rstd, rows, cols, eps);
  return record("layerNorm", y, [x, gamma, beta], (g) => {
    const dx = f32(x.size);
    const dg = f32(cols);
    const db = f32(cols);
    backend().layerNormBackward(g, x.storage, gamma.storage, mu, rstd, dx, dg, db, rows, cols);
    return [x.requiresGrad ? dx : null, gamma.requiresGrad ? dg : null, beta.requiresGrad ? db : null];
  });
}

/** Rows of `table` ([vocab, dim]) picked by i32 `ids` of any shape; out has shape [...ids.shape, dim]. */
export function embedding(ids: Tensor, table: Tensor): Tensor {
  requireF32("embedding", table);
  requireI32("embedding", "ids", ids);
  if (table.rank !== 2) throw new ShapeError(`embedding: table must be [vocab, dim], got ${fmtShape(table.shape)}`);
  const [vocab, dim] = table.shape;
  const y = outUninit([...ids.shape, dim]);
  backend().embedding(table.storage, ids.storage, y.storage, ids.size, dim, vocab);
  return record("embedding", y, [table], (g) => {
    const dt = f32(table.size);
    backend().embeddingBackward(g, ids.storage, dt, ids.size, dim);
    return [dt];
  });
}

/** Inverted dropout with a mask drawn from `seed`; identity when p = 0. */
export function dropout(x: Tensor, p: number, seed: number): Tensor {
  requireF32("dropout", x);
  if (!(p >= 0 && p < 1)) throw new ShapeError(`dropout: p must be in [0, 1), got ${p}`);
  if (p === 0) return x;
  const y = outUninit(x.shape);
  const mask = f32(x.size);
  backend().dropout(x.storage, y.storage, mask, p, seed >>> 0);
  return record("dropout", y, [x], (g) => {
    const dx = f32(x.size);
    backend().binary("mul", g, mask, dx, [x.size], [1], [1]);
    return [dx];
  });
}

export interface CrossEntropyOptions {
  /** Targets equal to this are skipped (PyTorch's default -100). */
  ignoreIndex?: number;
  /** Label smoothing ε in [0, 1). */
  labelSmoothing?: number;
  /** Per-class weights [C]; the mean divides by the summed weights of the counted targets, as PyTorch does. */
  weight?: Tensor | null;
  reduction?: "mean" | "sum" | "none";
}

/** Softmax cross-entropy of logits [N, C] against i32 class targets [N], as torch.nn.functional.cross_entropy. */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  requireF32("crossEntropy", logits);
  if (logits.rank !== 2)
    throw new ShapeError(`crossEntropy: logits must be [N, C], got ${fmtShape(logits.shape)}; reshape first`);
  const [rows, classes] = logits.shape;
  if (targets.dtype !== "i32" || targets.size !== rows) {
    throw new ShapeError(
      `crossEntropy: targets must be an i32 tensor of ${rows} elements for logits ${fmtShape(logits.shape)}, got ${targets.dtype}${fmtShape(targets.shape)}`,
    );
  }
  const smoothing = opts.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing < 1))
    throw new ShapeError(`crossEntropy: labelSmoothing must be in [0, 1), got ${smoothing}`);
  const weight = opts.weight ?? null;
  if (weight) requireF32("crossEntropy", weight);
  if (weight && weight.size !== classes)
    throw new ShapeError(`crossEntropy: weight has ${weight.size} elements for ${classes} classes`);
  const p = { rows, classes, ignoreIndex: opts.ignoreIndex ?? -100, smoothing };
  const w = weight ? weight.storage : null;
  const losses = f32(rows);
  const k = backend();
  k.crossEntropy(logits.storage, targets.storage, w, losses, p);
  const reduction = opts.reduction ?? "mean";
  if (reduction === "none") {
    const y = new Tensor(losses, [rows]);
    return record("crossEntropy", y, [logits], (g) => {
      const dl = f32(logits.size);
      k.crossEntropyBackward(logits.storage, targets.storage, w, g, dl, p);
      return [dl];
    });
  }
  // the mean's denominator and the total finish on the host: one value per row
  let denom = 1;
  if (reduction === "mean") {
    denom = 0;
    const ts = k.download(targets.storage);
    const ws = w ? hostF32(w) : null;
    for (let r = 0; r < rows; r++) {
      const t = ts[r];
      if (t !== p.ignoreIndex) denom += ws ? ws[t] : 1;
    }
  }
  let total = 0;
  const ls = hostF32(losses);
  for (let r = 0; r < rows; r++) total += ls[r];
  const y = new Tensor(Float32Array.of(total / denom), []);
  return record("crossEntropy", y, [logits], (g) => {
    const dlosses: Storage = f32(rows);
    k.fill(dlosses, hostF32(g)[0] / denom);
    const dl = f32(logits.size);
    k.crossEntropyBackward(logits.storage, targets.storage, w, dlosses, dl, p);
    return [dl];
  });
}
