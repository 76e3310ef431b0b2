/**
 * The Backend interface: every numerical kernel graft runs, over raw typed arrays and sizes.
 *
 * Conventions: every kernel takes its inputs first, then its output buffers, then sizes or a params object
 * (one dimension vocabulary throughout: rows/cols, m/n/k, outer/dim/inner). Buffers are dense, row-major and
 * exactly as long as the sizes say. Kernels that produce gradients of parameters ACCUMULATE (+=) into them, so
 * gradients from several uses of one weight add up; every other output is overwritten.
 *
 * The TypeScript implementation in js/ is the specification; the native addon must agree with it.
 */

export type F32 = Float32Array;
export type I32 = Int32Array;

export const UNARY_OPS = [
  "neg",
  "exp",
  "log",
  "sqrt",
  "rsqrt",
  "tanh",
  "sigmoid",
  "relu",
  "gelu",
  "gelu_tanh",
  "silu",
  "abs",
  "square",
  "reciprocal",
  "pow",
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

export const BINARY_OPS = ["add", "sub", "mul", "div", "max", "min", "pow", "eq", "gt", "lt"] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

export type ReduceOp = "sum" | "max" | "min";

/** Activations a bias can be fused with (biasActivation); "identity" adds the bias only. */
export const ACTIVATIONS = ["identity", "relu", "gelu", "gelu_tanh", "silu", "tanh", "sigmoid"] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** A reduction over the middle axis of a [outer, dim, inner] view. */
export interface AxisSizes {
  outer: number;
  dim: number;
  inner: number;
}

export interface MatmulParams {
  /** Number of independent products. */
  batch: number;
  /** out is [batch, m, n]; op(A) is [m, k]; op(B) is [k, n]. */
  m: number;
  n: number;
  k: number;
  /** A is stored [k, m] (transposed) instead of [m, k]. */
  transA: boolean;
  /** B is stored [n, k] (transposed) instead of [k, n]. */
  transB: boolean;
  /** Elements between consecutive batch items of A (default m*k; 0 reuses one A for the whole batch). */
  strideA?: number;
  /** Elements between consecutive batch items of B (default k*n; 0 reuses one B for the whole batch). */
  strideB?: number;
  /** Add into out instead of overwriting it (out += A·B). */
  accumulate?: boolean;
}

/** A strided view for copies: the element at index (i0, i1, ...) lives at offset + Σ i_d * strides[d]. */
export interface StridedView {
  offset: number;
  strides: readonly number[];
}

export interface CrossEntropyParams {
  rows: number;
  classes: number;
  /** Rows whose target equals this contribute 0 loss and 0 gradient. */
  ignoreIndex: number;
  /** Label smoothing ε: the target distribution is (1-ε)·onehot + ε/C. */
  smoothing: number;
}

export interface AttentionSoftmaxParams {
  /** x and out are [batch, heads, queries, keys]; the softmax runs over keys. */
  batch: number;
  heads: number;
  queries: number;
  keys: number;
  /** Multiplies the scores before the softmax (1/sqrt(headDim) for scaled dot-product attention). */
  scale: number;
  /** Hides key k from query q when k > q + (keys - queries) (the last query sees every key). */
  causal: boolean;
}

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** true: AdamW (decoupled decay, p -= lr·wd·p); false: Adam (L2 added to the gradient). */
  decoupled: boolean;
  /** 1-based step count after this update, for bias correction. */
  step: number;
}

export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  /** The momentum buffer has no history yet (PyTorch initializes it to the first gradient). */
  firstStep: boolean;
}

export interface Backend {
  readonly name: string;

  // ---- memory helpers
  fill(out: F32, value: number): void;
  /** y += alpha * x */
  axpy(x: F32, y: F32, alpha: number): void;
  /** out = alpha * x + beta */
  affine(x: F32, out: F32, alpha: number, beta: number): void;
  /** Σ x² over several buffers (for gradient norms), accumulated in double precision. */
  sumSquares(xs: readonly F32[]): number;

  // ---- linear algebra
  matmul(a: F32, b: F32, out: F32, p: MatmulParams): void;

  // ---- elementwise
  /** out = op(x) (for "pow", x ** param). */
  unary(op: UnaryOp, x: F32, out: F32, param: number): void;
  /** dx (overwritten) = dy * op'(x), given x and y = op(x). */
  unaryBackward(op: UnaryOp, x: F32, y: F32, dy: F32, dx: F32, param: number): void;
  /** out[i...] = a[...] op b[...] over `shape` with broadcast strides (0 on broadcast axes). */
  binary(
    op: BinaryOp,
    a: F32,
    b: F32,
    out: F32,
    shape: readonly number[],
    aStrides: readonly number[],
    bStrides: readonly number[],
  ): void;
  /** out = cond != 0 ? a : b with broadcast strides. */
  where(
    cond: F32,
    a: F32,
    b: F32,
    out: F32,
    shape: readonly number[],
    cStrides: readonly number[],
    aStrides: readonly number[],
    bStrides: readonly number[],
  ): void;

  // ---- layout
  /** dst[view] (=|+=) src[view] for every index of `shape`. */
  stridedCopy(
    src: F32 | I32,
    from: StridedView,
    dst: F32 | I32,
    to: StridedView,
    shape: readonly number[],
    accumulate: boolean,
  ): void;

  // ---- reductions over the middle axis of [outer, dim, inner]
  reduce(op: ReduceOp, x: F32, out: F32, s: AxisSizes): void;
  argReduce(op: "argmax" | "argmin", x: F32, out: I32, s: AxisSizes): void;
  /** out[o, i] = x[o, idx[o, i], i] */
  gatherAxis(x: F32, idx: I32, out: F32, s: AxisSizes): void;
  /** dx[o, idx[o, i], i] += dy[o, i] */
  scatterAddAxis(dy: F32, idx: I32, dx: F32, s: AxisSizes): void;

  // ---- neural-network kernels
  /** Row-wise softmax (or log-softmax) of a [rows, cols] matrix. */
  softmax(x: F32, out: F32, rows: number, cols: number, log: boolean): void;
  /** dx = softmax'(y)·dy (or log-softmax') given the forward output y. */
  softmaxBackward(y: F32, dy: F32, dx: F32, rows: number, cols: number, log: boolean): void;
  /**
   * Fused attention softmax: out = softmax over keys of scale·x, where keys with keep[b, k] == 0 (keep is
   * [batch, keys], e.g. an attention mask; null keeps all) and, when causal, future keys get probability exactly 0.
   * A row with every key hidden is all zeros.
   */
  attentionSoftmax(x: F32, keep: F32 | null, out: F32, p: AttentionSoftmaxParams): void;
  /** dx = scale · y·(dy − Σ y·dy) row-wise: the gradient of attentionSoftmax with respect to x. */
  attentionSoftmaxBackward(y: F32, dy: F32, dx: F32, rows: number, cols: number, scale: number): void;
  /** Layer norm over the last axis; mean and rstd (rows) are saved for backward. */
  layerNorm(
    x: F32,
    gamma: F32,
    beta: F32,
    out: F32,
    mean: F32,
    rstd: F32,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  /** dx is overwritten; dgamma and dbeta accumulate. */
  layerNormBackward(
    dy: F32,
    x: F32,
    gamma: F32,
    mean: F32,
    rstd: F32,
    dx: F32,
    dgamma: F32,
    dbeta: F32,
    rows: number,
    cols: number,
  ): void;
  /** out[r, :] = table[ids[r], :]; ids out of range throw. */
  embedding(table: F32, ids: I32, out: F32, rows: number, dim: number, vocab: number): void;
  /** dTable[ids[r], :] += dy[r, :] */
  embeddingBackward(dy: F32, ids: I32, dTable: F32, rows: number, dim: number): void;
  /** Inverted dropout: mask[i] = keep ? 1/(1-p) : 0 from a counter-based hash of (seed, i); out = x * mask. */
  dropout(x: F32, out: F32, mask: F32, p: number, seed: number): void;
  /** Per-row loss of softmax cross-entropy (0 for ignored rows), optionally weighted per class. */
  crossEntropy(logits: F32, targets: I32, weights: F32 | null, losses: F32, p: CrossEntropyParams): void;
  /** dlogits (overwritten) = dlosses[r] * ∂loss_r/∂logits. */
  crossEntropyBackward(
    logits: F32,
    targets: I32,
    weights: F32 | null,
    dlosses: F32,
    dlogits: F32,
    p: CrossEntropyParams,
  ): void;

  /** out[r, c] = act(x[r, c] + bias[c]): a linear layer's bias and activation in one pass. */
  biasActivation(act: Activation, x: F32, bias: F32, out: F32, rows: number, cols: number): void;
  /** dx (overwritten) = dy · act'(x + bias); dbias[c] += Σ_r dx[r, c]. x is the input before the bias. */
  biasActivationBackward(
    act: Activation,
    x: F32,
    bias: F32,
    dy: F32,
    dx: F32,
    dbias: F32,
    rows: number,
    cols: number,
  ): void;

  // ---- optimizers, over many parameters in one call
  adam(params: readonly F32[], grads: readonly F32[], m: readonly F32[], v: readonly F32[], h: AdamHyper): void;
  sgd(params: readonly F32[], grads: readonly F32[], momentum: readonly (F32 | null)[], h: SgdHyper): void;
}

/** The method names of Backend, used to check that a backend (e.g. the native addon) implements all of them. */
export const BACKEND_METHODS = [
  "fill",
  "axpy",
  "affine",
  "sumSquares",
  "matmul",
  "unary",
  "unaryBackward",
  "binary",
  "where",
  "stridedCopy",
  "reduce",
  "argReduce",
  "gatherAxis",
  "scatterAddAxis",
  "softmax",
  "softmaxBackward",
  "attentionSoftmax",
  "attentionSoftmaxBackward",
  "layerNorm",
  "layerNormBackward",
  "embedding",
  "embeddingBackward",
  "dropout",
  "crossEntropy",
  "crossEntropyBackward",
  "biasActivation",
  "biasActivationBackward",
  "adam",
  "sgd",
] as const satisfies readonly Exclude<keyof Backend, "name">[];

/** A kernel's name: one of BACKEND_METHODS. */
export type BackendMethod = (typeof BACKEND_METHODS)[number];

// Compile-time check that BACKEND_METHODS lists every method: a missing one makes this type `never`-assign fail.
type MissingMethods = Exclude<Exclude<keyof Backend, "name">, (typeof BACKEND_METHODS)[number]>;
const _allListed: [MissingMethods] extends [never] ? true : MissingMethods = true;
void _allListed;
