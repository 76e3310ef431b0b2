/**
 * The op table: test cases for every differentiable primitive, listed once. The mapped type makes a primitive
 * without an entry a compile error; the gradient checks (gradcheck.test.ts) and the backend-parity tests run over
 * this table, so adding an op is adding one entry here.
 */
import type { Rng } from "../../src/util/rng.js";
import * as T from "../../src/tensor/index.js";
import type { Primitive, Tensor } from "../../src/tensor/index.js";

export interface OpCase {
  /** What this case exercises (shown in test names). */
  label: string;
  /** Fresh inputs for the case. f32 inputs are differentiated unless listed in `constant`. */
  make: (rng: Rng) => Tensor[];
  fn: (...xs: Tensor[]) => Tensor;
  /** Indices of f32 inputs that get no gradient check (masks, targets). */
  constant?: number[];
  /** Finite-difference step and tolerances (defaults: 1e-2, atol 2e-3, rtol 2e-2 — f32 central differences). */
  eps?: number;
  atol?: number;
  rtol?: number;
}

const randn =
  (shape: number[], std = 1) =>
  (rng: Rng) =>
    T.randn(shape, rng, std);
/** Values in ±[lo, hi]: away from zero, for ops with a kink or pole there. */
function awayFromZero(shape: number[], rng: Rng, lo = 0.2, hi = 1.5): Tensor {
  const v = T.rand(shape, rng, lo, hi).toArray();
  for (let i = 0; i < v.length; i++) if (rng.uniform() < 0.5) v[i] = -v[i];
  return T.tensor(v, shape);
}
const positive =
  (shape: number[], lo = 0.3, hi = 2) =>
  (rng: Rng) =>
    T.rand(shape, rng, lo, hi);
/** A permutation of well-separated values, so max/min/maximum have no near-ties. */
function distinct(shape: number[], rng: Rng): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const p = rng.permutation(n);
  return T.tensor(
    Array.from(p, (v) => (v - n / 2) * 0.1),
    shape,
  );
}
const ids = (values: number[], shape: number[]) => T.tensor(values, shape, { dtype: "i32" });

export const OP_TABLE: { [P in Primitive]: OpCase[] } = {
  add: [
    { label: "[2,3] + [3]", make: (r) => [randn([2, 3])(r), randn([3])(r)], fn: T.add },
    { label: "[2,1,3] + [4,1]", make: (r) => [randn([2, 1, 3])(r), randn([4, 1])(r)], fn: T.add },
  ],
  sub: [{ label: "[2,3] - [2,1]", make: (r) => [randn([2, 3])(r), randn([2, 1])(r)], fn: T.sub }],
  mul: [{ label: "[2,3,4] * [4]", make: (r) => [randn([2, 3, 4])(r), randn([4])(r)], fn: T.mul }],
  div: [{ label: "[2,3] / [3]", make: (r) => [randn([2, 3])(r), awayFromZero([3], r, 0.5, 2)], fn: T.div }],
  pow: [{ label: "[2,3] ** [3]", make: (r) => [positive([2, 3], 0.5, 2)(r), T.rand([3], r, -1, 2)], fn: T.pow }],
  maximum: [{ label: "maximum [3,4], [4]", make: (r) => [distinct([3, 4], r), distinct([4], r)], fn: T.maximum }],
  minimum: [{ label: "minimum [3,4], [3,1]", make: (r) => [distinct([3, 4], r), distinct([3, 1], r)], fn: T.minimum }],
  where: [
    {
      label: "where(mask[2,3], [2,3], [3])",
      make: (r) => [T.tensor([1, 0, 1, 0, 0, 1], [2, 3]), randn([2, 3])(r), randn([3])(r)],
      fn: (c, a, b) => T.where(c, a, b),
      constant: [0],
    },
  ],
  neg: [{ label: "[3,5]", make: (r) => [randn([3, 5])(r)], fn: T.neg }],
  exp: [{ label: "[3,5]", make: (r) => [randn([3, 5])(r)], fn: T.exp }],
  log: [{ label: "[3,5]", make: (r) => [positive([3, 5])(r)], fn: T.log }],
  sqrt: [{ label: "[3,5]", make: (r) => [positive([3, 5])(r)], fn: T.sqrt }],
  rsqrt: [{ label: "[3,5]", make: (r) => [positive([3, 5], 0.5, 2)(r)], fn: T.rsqrt }],
  tanh: [{ label: "[3,5]", make: (r) => [randn([3, 5])(r)], fn: T.tanh }],
  sigmoid: [{ label: "[3,5]", make: (r) => [randn([3, 5], 2)(r)], fn: T.sigmoid }],
  relu: [{ label: "[3,5]", make: (r) => [awayFromZero([3, 5], r)], fn: T.relu }],
  gelu: [{ label: "[3,5]", make: (r) => [randn([3, 5], 2)(r)], fn: T.gelu }],
  gelu_tanh: [{ label: "[3,5]", make: (r) => [randn([3, 5], 2)(r)], fn: T.geluTanh }],
  silu: [{ label: "[3,5]", make: (r) => [randn([3, 5], 2)(r)], fn: T.silu }],
  abs: [{ label: "[3,5]", make: (r) => [awayFromZero([3, 5], r)], fn: T.abs }],
  square: [{ label: "[3,5]", make: (r) => [randn([3, 5])(r)], fn: T.square }],
  reciprocal: [{ label: "[3,5]", make: (r) => [awayFromZero([3, 5], r, 0.5, 2)], fn: T.reciprocal }],
  powScalar: [
    { label: "x^2.5", make: (r) => [positive([3, 4])(r)], fn: (x) => T.powScalar(x, 2.5) },
    { label: "x^-1.5", make: (r) => [positive([3, 4], 0.5, 2)(r)], fn: (x) => T.powScalar(x, -1.5) },
  ],
  affine: [{ label: "-1.7x + 0.3", make: (r) => [randn([3, 4])(r)], fn: (x) => T.affine(x, -1.7, 0.3) }],
  matmul: [
    { label: "[3,4]·[4,5]", make: (r) => [randn([3, 4])(r), randn([4, 5])(r)], fn: (a, b) => T.matmul(a, b) },
    {
      label: "[4,3]ᵀ·[4,5]",
      make: (r) => [randn([4, 3])(r), randn([4, 5])(r)],
      fn: (a, b) => T.matmul(a, b, { transA: true }),
    },
    {
      label: "[3,4]·[5,4]ᵀ",
      make: (r) => [randn([3, 4])(r), randn([5, 4])(r)],
      fn: (a, b) => T.matmul(a, b, { transB: true }),
    },
    {
      label: "[4,3]ᵀ·[5,4]ᵀ",
      make: (r) => [randn([4, 3])(r), randn([5, 4])(r)],
      fn: (a, b) => T.matmul(a, b, { transA: true, transB: true }),
    },
    {
      label: "batched [2,3,4]·[2,4,5]",
      make: (r) => [randn([2, 3, 4])(r), randn([2, 4, 5])(r)],
      fn: (a, b) => T.matmul(a, b),
    },
    {
      label: "folded [2,2,3,4]·[5,4]ᵀ",
      make: (r) => [randn([2, 2, 3, 4])(r), randn([5, 4])(r)],
      fn: (a, b) => T.matmul(a, b, { transB: true }),
    },
    {
      label: "shared b [2,4,3]ᵀ·[1,4,5]",
      make: (r) => [randn([2, 4, 3])(r), randn([1, 4, 5])(r)],
      fn: (a, b) => T.matmul(a, b, { transA: true }),
    },
    {
      label: "shared a [3,4]·[2,5,4]ᵀ",
      make: (r) => [randn([3, 4])(r), randn([2, 5, 4])(r)],
      fn: (a, b) => T.matmul(a, b, { transB: true }),
    },
    {
      label: "shared a, both transposed [4,3]ᵀ·[2,5,4]ᵀ",
      make: (r) => [randn([4, 3])(r), randn([2, 5, 4])(r)],
      fn: (a, b) => T.matmul(a, b, { transA: true, transB: true }),
    },
  ],
  linear: [
    {
      label: "[2,3,4]·[5,4]ᵀ + [5]",
      make: (r) => [randn([2, 3, 4])(r), randn([5, 4])(r), randn([5])(r)],
      fn: (x, w, b) => T.linear(x, w, b),
    },
    { label: "no bias [3,4]", make: (r) => [randn([3, 4])(r), randn([2, 4])(r)], fn: (x, w) => T.linear(x, w) },
    {
      label: "fused bias + gelu [2,3,4]·[5,4]ᵀ",
      make: (r) => [randn([2, 3, 4])(r), randn([5, 4])(r), randn([5])(r)],
      fn: (x, w, b) => T.linear(x, w, b, "gelu"),
    },
    {
      label: "fused bias + tanh [3,5]·[7,5]ᵀ",
      make: (r) => [randn([3, 5])(r), randn([7, 5])(r), randn([7])(r)],
      fn: (x, w, b) => T.linear(x, w, b, "tanh"),
    },
    {
      label: "no bias, fused silu [3,4]",
      make: (r) => [randn([3, 4])(r), randn([2, 4])(r)],
      fn: (x, w) => T.linear(x, w, null, "silu"),
    },
  ],
  sum: [
    { label: "axis 1 of [2,3,4]", make: (r) => [randn([2, 3, 4])(r)], fn: (x) => T.sum(x, 1) },
    { label: "all, keepDim", make: (r) => [randn([2, 3])(r)], fn: (x) => T.sum(x, undefined, { keepDim: true }) },
    { label: "mean over axis -1", make: (r) => [randn([3, 4])(r)], fn: (x) => T.mean(x, -1) },
  ],
  max: [
    { label: "axis 0 of [3,4]", make: (r) => [distinct([3, 4], r)], fn: (x) => T.max(x, 0) },
    { label: "all", make: (r) => [distinct([2, 5], r)], fn: (x) => T.max(x) },
  ],
  min: [{ label: "axis -1 keepDim", make: (r) => [distinct([3, 4], r)], fn: (x) => T.min(x, -1, { keepDim: true }) }],
  takeAlong: [
    { label: "[3,4] along 1", make: (r) => [randn([3, 4])(r)], fn: (x) => T.takeAlong(x, 1, ids([2, 0, 3], [3])) },
  ],
  cast: [
    {
      label: "f32 → f16 → f32",
      make: (r) => [awayFromZero([3, 4], r)],
      fn: (x) => T.cast(T.cast(x, "f16"), "f32"),
      eps: 0.1,
    },
    {
      label: "f32 → bf16 → f32 (bf16 steps of up to 2^-7 need a wide step)",
      make: (r) => [awayFromZero([2, 3], r)],
      fn: (x) => T.cast(x, "bf16").to("f32"),
      eps: 0.25,
      atol: 2e-2,
    },
    {
      label: "bf16 reshaped and sliced, then f32",
      make: (r) => [randn([2, 6])(r)],
      fn: (x) => T.slice(T.permute(T.reshape(x.to("bf16"), [3, 4]), [1, 0]), 0, 1, 3).to("f32"),
      eps: 0.25,
      atol: 2e-2,
    },
  ],
  reshape: [
    {
      label: "[2,6] → [3,-1]",
      make: (r) => [randn([2, 6])(r)],
      fn: (x) => T.mul(T.reshape(x, [3, -1]), T.tensor([1, 2, 3, 4], [4])),
    },
  ],
  permute: [{ label: "[2,3,4] by [2,0,1]", make: (r) => [randn([2, 3, 4])(r)], fn: (x) => T.permute(x, [2, 0, 1]) }],
  slice: [{ label: "[3,5][:, 1:4]", make: (r) => [randn([3, 5])(r)], fn: (x) => T.slice(x, 1, 1, 4) }],
  concat: [
    {
      label: "[2,3] ⧺ [2,2] on axis 1",
      make: (r) => [randn([2, 3])(r), randn([2, 2])(r)],
      fn: (a, b) => T.concat([a, b], 1),
    },
  ],
  broadcastTo: [{ label: "[3,1] → [2,3,4]", make: (r) => [randn([3, 1])(r)], fn: (x) => T.broadcastTo(x, [2, 3, 4]) }],
  softmax: [{ label: "[3,5]", make: (r) => [randn([3, 5])(r)], fn: (x) => T.softmax(x) }],
  attentionSoftmax: [
    {
      label: "[2,3,4,5] scaled, padding keys hidden",
      make: (r) => [randn([2, 3, 4, 5])(r)],
      fn: (x) => T.attentionSoftmax(x, { keep: T.tensor([1, 1, 0, 1, 1, 1, 1, 1, 0, 0], [2, 5]), scale: 0.7 }),
    },
    {
      label: "[1,2,3,5] causal, 2 cached keys",
      make: (r) => [randn([1, 2, 3, 5])(r)],
      fn: (x) => T.attentionSoftmax(x, { causal: true, scale: 1.3 }),
    },
    {
      label: "[2,1,3,3] causal + padding, a sequence all padding",
      make: (r) => [randn([2, 1, 3, 3])(r)],
      fn: (x) => T.attentionSoftmax(x, { keep: T.tensor([0, 1, 1, 0, 0, 0], [2, 3]), causal: true }),
    },
    {
      label: "[2,2,5,5] causal, packed segments",
      make: (r) => [randn([2, 2, 5, 5])(r)],
      fn: (x) =>
        T.attentionSoftmax(x, {
          causal: true,
          segments: T.tensor([1, 1, 2, 2, 2, 1, 2, 3, 3, 0], [2, 5], { dtype: "i32" }),
          scale: 0.9,
        }),
    },
    {
      label: "[1,1,3,7] segments, 4 cached keys, padding",
      make: (r) => [randn([1, 1, 3, 7])(r)],
      fn: (x) =>
        T.attentionSoftmax(x, {
          keep: T.tensor([1, 1, 1, 1, 1, 1, 0], [1, 7]),
          segments: T.tensor([1, 1, 2, 2, 2, 3, 3], [1, 7], { dtype: "i32" }),
        }),
    },
  ],
  logSoftmax: [{ label: "[3,5]", make: (r) => [randn([3, 5])(r)], fn: (x) => T.logSoftmax(x) }],
  layerNorm: [
    {
      label: "[3,6]",
      make: (r) => [randn([3, 6])(r), randn([6])(r), randn([6])(r)],
      fn: (x, g, b) => T.layerNorm(x, g, b, 1e-5),
    },
  ],
  embedding: [
    {
      label: "table [5,3], ids [2,3]",
      make: (r) => [randn([5, 3])(r)],
      fn: (t) => T.embedding(ids([0, 4, 4, 2, 1, 4], [2, 3]), t),
    },
  ],
  dropout: [{ label: "p=0.3", make: (r) => [randn([4, 5])(r)], fn: (x) => T.dropout(x, 0.3, 7) }],
  crossEntropy: [
    { label: "mean", make: (r) => [randn([4, 5])(r)], fn: (x) => T.crossEntropy(x, ids([1, 0, 4, 2], [4])) },
    {
      label: "ignore_index + smoothing 0.1",
      make: (r) => [randn([4, 5])(r)],
      fn: (x) => T.crossEntropy(x, ids([1, -100, 4, 2], [4]), { labelSmoothing: 0.1 }),
    },
    {
      label: "class weights, smoothing, sum",
      make: (r) => [randn([4, 3])(r), T.tensor([0.2, 1, 3])],
      fn: (x, w) => T.crossEntropy(x, ids([2, 0, 1, 2], [4]), { weight: w, labelSmoothing: 0.2, reduction: "sum" }),
      constant: [1],
    },
    {
      label: "none",
      make: (r) => [randn([3, 4])(r)],
      fn: (x) => T.crossEntropy(x, ids([3, 1, -100], [3]), { reduction: "none" }),
    },
  ],
  checkpoint: [
    {
      label: "tanh(x·w) + x recomputed in the backward",
      make: (r) => [randn([3, 4])(r), randn([4, 4])(r)],
      fn: (x, w) => T.checkpoint(() => T.add(T.tanh(T.matmul(x, w)), x)),
    },
    {
      label: "an earlier activation read inside, used outside too, with dropout",
      make: (r) => [randn([2, 5])(r), randn([5])(r)],
      fn: (x, b) => {
        const h = T.mul(x, x);
        const inner = T.checkpoint(() => T.dropout(T.mul(T.sigmoid(T.add(h, b)), x), 0.3, 11));
        return T.add(inner, h);
      },
    },
  ],
  flashAttention: [
    {
      label: "q [2,2,5,3], k/v [2,2,7,3], padding keys, scale 0.7",
      make: (r) => [randn([2, 2, 5, 3])(r), randn([2, 2, 7, 3])(r), randn([2, 2, 7, 3])(r)],
      fn: (q, k, v) =>
        T.flashAttention(q, k, v, { keep: T.tensor([1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0], [2, 7]), scale: 0.7 }),
    },
    {
      label: "causal, 3 queries after 2 cached keys, dim 1",
      make: (r) => [randn([1, 2, 3, 1])(r), randn([1, 2, 5, 1])(r), randn([1, 2, 5, 1])(r)],
      fn: (q, k, v) => T.flashAttention(q, k, v, { causal: true, scale: 1.3 }),
    },
    {
      label: "causal, packed segments, padding, a query that sees nothing",
      make: (r) => [randn([2, 1, 5, 2])(r), randn([2, 1, 5, 2])(r), randn([2, 1, 5, 2])(r)],
      fn: (q, k, v) =>
        T.flashAttention(q, k, v, {
          causal: true,
          keep: T.tensor([1, 1, 1, 1, 1, 0, 1, 1, 1, 1], [2, 5]),
          segments: T.tensor([1, 1, 2, 2, 2, 1, 2, 3, 3, 0], [2, 5], { dtype: "i32" }),
        }),
    },
    {
      label: "a KV cache of 6 rows with 4 filled, causal",
      make: (r) => [randn([1, 1, 2, 3])(r), randn([1, 1, 6, 3])(r), randn([1, 1, 6, 3])(r)],
      fn: (q, k, v) => T.flashAttention(q, k, v, { causal: true, keyLength: 4 }),
    },
    {
      label: "grouped-query: 4 query heads on 2 kv heads, padding",
      make: (r) => [randn([2, 4, 3, 2])(r), randn([2, 2, 4, 2])(r), randn([2, 2, 4, 2])(r)],
      fn: (q, k, v) => T.flashAttention(q, k, v, { keep: T.tensor([1, 1, 1, 0, 0, 1, 1, 1], [2, 4]) }),
    },
  ],
};
