/**
 * The Backend interface: memory over an opaque Storage, and every numerical kernel graft runs.
 *
 * Storage: a dense buffer of `length` elements of one dtype, owned by the backend. Code outside backend/ never
 * assumes what is inside (a typed array on the CPU backends, a device buffer on a GPU backend): it allocates,
 * uploads host values, runs kernels and downloads results, nothing else. On the CPU backends a storage holds a typed
 * array at no cost (f32: Float32Array, bf16 and f16: Uint16Array of bit patterns, i32: Int32Array, i8: Int8Array)
 * and kernels reach it without copying.
 *
 * Kernel conventions: every kernel takes its inputs first, then its output buffers, then sizes or a params object
 * (one dimension vocabulary throughout: rows/cols, m/n/k, outer/dim/inner). Buffers are dense, row-major and at
 * least as long as the sizes say; float buffers are f32 and index buffers i32 unless a kernel says otherwise.
 * Kernels that produce gradients of parameters ACCUMULATE (+=) into them, so gradients from several uses of one
 * weight add up; every other output is overwritten.
 *
 * The kernels are declared once, generic over the buffer types (`Kernels<F, I>`): the Backend runs them on
 * storages; the CPU implementations (the TypeScript reference in js/ and the native addon) are `HostKernels` over
 * typed arrays, and host.ts turns one into a Backend. The TypeScript implementation is the specification; the
 * native addon must agree with it.
 */

export type F32 = Float32Array;
export type I32 = Int32Array;

/** Element types of a storage: IEEE single, bfloat16, IEEE half, 32- and 8-bit signed integers. */
export const DTYPES = ["f32", "bf16", "f16", "i32", "i8"] as const;
export type DType = (typeof DTYPES)[number];

/** The host array a CPU backend keeps for each dtype (bf16 and f16 as raw bit patterns). */
export type HostArray = Float32Array | Uint16Array | Int32Array | Int8Array;

/** A backend-owned buffer: only its dtype and length are visible outside backend/. */
export interface Storage {
  readonly dtype: DType;
  readonly length: number;
}

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
  /**
   * Mixed precision: both operands rounded to bfloat16 (round-to-nearest-even, as torch) before the product, which
   * still accumulates and returns fp32 (torch.autocast's bf16 matmul). Default false: fp32 throughout.
   */
  bf16?: boolean;
}

/** The int8 buffer that goes with float buffers F: an Int8Array on the host, a storage (dtype i8) on a Backend. */
export type I8Of<F> = F extends Float32Array ? Int8Array : F;

/** An int8 linear layer's product: out [rows, n] from x [rows, k] and packed int8 weights of W [n, k]. */
export interface QLinearParams {
  rows: number;
  n: number;
  k: number;
}

/**
 * Elements of int8 weights W [n, k] in the packed layout of packInt8: columns in panels of 16, depth in pairs,
 * zero-padded (packed[((jp·k2/2 + p)·2 + h)·16 + c·2 + e] = W[jp·16 + h·8 + c, 2p + e]; see native/kernels/qgemm.h).
 */
export function int8PackedLength(n: number, k: number): number {
  return Math.ceil(n / 16) * 16 * (Math.ceil(k / 2) * 2);
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

export interface FlashAttentionParams {
  /** q and out are [batch, heads, queries, dim]; k and v [batch, kvHeads, kvRows, dim], of which the first `keys` rows per head are used. */
  batch: number;
  heads: number;
  queries: number;
  keys: number;
  dim: number;
  /** Rows per (batch, kv head) in k, v, dk, dv (default keys): a preallocated KV cache read in place. */
  kvRows?: number;
  /**
   * Heads of k and v (default heads; must divide heads): query head h reads kv head h / (heads / kvHeads), as
   * grouped-query attention's repeat_kv; a kv head's gradients sum over the query heads it serves.
   */
  kvHeads?: number;
  /** Multiplies the scores before the softmax. */
  scale: number;
  /** Hides key k from query q when k > q + (keys - queries). */
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

/** Every kernel, over float buffers F and index buffers I (typed arrays on the host, storages on a Backend). */
export interface Kernels<F, I> {
  // ---- memory helpers
  fill(out: F, value: number): void;
  /** y += alpha * x */
  axpy(x: F, y: F, alpha: number): void;
  /** out = alpha * x + beta */
  affine(x: F, out: F, alpha: number, beta: number): void;
  /** Σ x² over several buffers (for gradient norms), accumulated in double precision. */
  sumSquares(xs: readonly F[]): number;

  // ---- linear algebra
  matmul(a: F, b: F, out: F, p: MatmulParams): void;

  // ---- elementwise
  /** out = op(x) (for "pow", x ** param). */
  unary(op: UnaryOp, x: F, out: F, param: number): void;
  /** dx (overwritten) = dy * op'(x), given x and y = op(x). */
  unaryBackward(op: UnaryOp, x: F, y: F, dy: F, dx: F, param: number): void;
  /** out[i...] = a[...] op b[...] over `shape` with broadcast strides (0 on broadcast axes). */
  binary(
    op: BinaryOp,
    a: F,
    b: F,
    out: F,
    shape: readonly number[],
    aStrides: readonly number[],
    bStrides: readonly number[],
  ): void;
  /** out = cond != 0 ? a : b with broadcast strides. */
  where(
    cond: F,
    a: F,
    b: F,
    out: F,
    shape: readonly number[],
    cStrides: readonly number[],
    aStrides: readonly number[],
    bStrides: readonly number[],
  ): void;

  // ---- layout
  /**
   * dst[view] (=|+=) src[view] for every index of `shape`; src and dst have one dtype (any dtype on a Backend,
   * f32 or i32 on host kernels; accumulation needs f32 or i32).
   */
  stridedCopy(
    src: F | I,
    from: StridedView,
    dst: F | I,
    to: StridedView,
    shape: readonly number[],
    accumulate: boolean,
  ): void;

  // ---- reductions over the middle axis of [outer, dim, inner]
  reduce(op: ReduceOp, x: F, out: F, s: AxisSizes): void;
  argReduce(op: "argmax" | "argmin", x: F, out: I, s: AxisSizes): void;
  /** out[o, i] = x[o, idx[o, i], i] */
  gatherAxis(x: F, idx: I, out: F, s: AxisSizes): void;
  /** dx[o, idx[o, i], i] += dy[o, i] */
  scatterAddAxis(dy: F, idx: I, dx: F, s: AxisSizes): void;

  // ---- neural-network kernels
  /** Row-wise softmax (or log-softmax) of a [rows, cols] matrix. */
  softmax(x: F, out: F, rows: number, cols: number, log: boolean): void;
  /** dx = softmax'(y)·dy (or log-softmax') given the forward output y. */
  softmaxBackward(y: F, dy: F, dx: F, rows: number, cols: number, log: boolean): void;
  /**
   * Fused attention softmax: out = softmax over keys of scale·x, where keys with keep[b, k] == 0 (keep is
   * [batch, keys], e.g. an attention mask; null keeps all) and, when causal, future keys get probability exactly 0.
   * A row with every key hidden is all zeros. With `segments` ([batch, keys] i32; needs queries <= keys), key k is
   * also hidden from query q unless segments[b, k] == segments[b, q + keys - queries] (packed samples).
   */
  attentionSoftmax(x: F, keep: F | null, out: F, p: AttentionSoftmaxParams, segments?: I | null): void;
  /** dx = scale · y·(dy − Σ y·dy) row-wise: the gradient of attentionSoftmax with respect to x. */
  attentionSoftmaxBackward(y: F, dy: F, dx: F, rows: number, cols: number, scale: number): void;
  /** Layer norm over the last axis; mean and rstd (rows) are saved for backward. */
  layerNorm(x: F, gamma: F, beta: F, out: F, mean: F, rstd: F, rows: number, cols: number, eps: number): void;
  /** dx is overwritten; dgamma and dbeta accumulate. */
  layerNormBackward(
    dy: F,
    x: F,
    gamma: F,
    mean: F,
    rstd: F,
    dx: F,
    dgamma: F,
    dbeta: F,
    rows: number,
    cols: number,
  ): void;
  /** out[r, :] = table[ids[r], :]; ids out of range throw. */
  embedding(table: F, ids: I, out: F, rows: number, dim: number, vocab: number): void;
  /** dTable[ids[r], :] += dy[r, :] */
  embeddingBackward(dy: F, ids: I, dTable: F, rows: number, dim: number): void;
  /** Inverted dropout: mask[i] = keep ? 1/(1-p) : 0 from a counter-based hash of (seed, i); out = x * mask. */
  dropout(x: F, out: F, mask: F, p: number, seed: number): void;
  /** Per-row loss of softmax cross-entropy (0 for ignored rows), optionally weighted per class. */
  crossEntropy(logits: F, targets: I, weights: F | null, losses: F, p: CrossEntropyParams): void;
  /** dlogits (overwritten) = dlosses[r] * ∂loss_r/∂logits. */
  crossEntropyBackward(logits: F, targets: I, weights: F | null, dlosses: F, dlogits: F, p: CrossEntropyParams): void;

  /** out[r, c] = act(x[r, c] + bias[c]): a linear layer's bias and activation in one pass. */
  biasActivation(act: Activation, x: F, bias: F, out: F, rows: number, cols: number): void;
  /** dx (overwritten) = dy · act'(x + bias); dbias[c] += Σ_r dx[r, c]. x is the input before the bias. */
  biasActivationBackward(act: Activation, x: F, bias: F, dy: F, dx: F, dbias: F, rows: number, cols: number): void;

  // ---- fused attention
  /**
   * out = softmax(scale·q·kᵀ, masked)·v without the [queries, keys] matrix (blocks of keys with an online
   * softmax), and lse [batch, heads, queries] the logsumexp of each row's visible scaled scores (-inf for a query
   * that sees no key; its output is 0). Masks as attentionSoftmax: keep [batch, keys] (null keeps all), causal,
   * segments [batch, keys] i32 (null: none; needs queries <= keys).
   */
  flashAttention(q: F, k: F, v: F, keep: F | null, segments: I | null, out: F, lse: F, p: FlashAttentionParams): void;
  /** dq, dk, dv (overwritten; rows of dk, dv past `keys` are 0) from the forward's out and lse and dout. */
  flashAttentionBackward(
    q: F,
    k: F,
    v: F,
    keep: F | null,
    segments: I | null,
    out: F,
    lse: F,
    dout: F,
    dq: F,
    dk: F,
    dv: F,
    p: FlashAttentionParams,
  ): void;

  // ---- optimizers, over many parameters in one call
  adam(params: readonly F[], grads: readonly F[], m: readonly F[], v: readonly F[], h: AdamHyper): void;
  sgd(params: readonly F[], grads: readonly F[], momentum: readonly (F | null)[], h: SgdHyper): void;

  /**
   * Per-row symmetric int8 quantization of x [rows, cols]: scales[r] = max|x[r,:]| / 127 and
   * q[r, c] = clamp(rne(x[r, c] · (127 / max|x[r,:]|)), -127, 127), every step rounded to fp32, rne = round half
   * to even (a zero row gets scale 0 and zeros). Weights per output channel and activations per row both use it.
   */
  quantizeRows(x: F, q: I8Of<F>, scales: F, rows: number, cols: number): void;
  /** Packs int8 weights q [n, k] into the layout the int8 products read (int8PackedLength(n, k) elements). */
  packInt8(q: I8Of<F>, packed: I8Of<F>, n: number, k: number): void;
  /**
   * Int8 linear layer (dynamic quantization): x quantized per row on the fly (quantizeRows), the exact int32
   * products acc = qx · qWᵀ, then out[r, j] = fp32(fp32(float(acc) · fp32(sx[r] · wScales[j])) + bias[j]).
   * Inference only: there is no backward.
   */
  qlinear(x: F, packed: I8Of<F>, wScales: F, bias: F | null, out: F, p: QLinearParams): void;
}

/** The kernels over host typed arrays: what js/ and the native addon implement. */
export interface HostKernels extends Kernels<F32, I32> {
  readonly name: string;
}

/**
 * A backend: memory over opaque storages plus the kernels on them. Only allocate/upload/download cross between
 * host arrays and storages.
 */
export interface Backend extends Kernels<Storage, Storage> {
  readonly name: string;
  /** A new storage of `length` elements, zero-filled unless `zeroed` is false (for outputs a kernel overwrites). */
  allocate(dtype: DType, length: number, zeroed?: boolean): Storage;
  /**
   * A storage holding `values`. A typed array of the dtype's host type (see HostArray; bf16/f16 as bit patterns)
   * is handed over: the backend may keep it as the storage (the CPU backends do), so the caller must not change it
   * afterwards. Anything else is read as numbers and converted (to bf16/f16 through f32, rounding to nearest even).
   */
  upload(dtype: DType, values: HostArray | ArrayLike<number>): Storage;
  /** A fresh host copy of the storage's elements (its dtype's host type; bf16/f16 as bit patterns). */
  download(s: Storage): HostArray;
  /** A storage sharing elements [offset, offset + length) of s (writes through either are seen by both). */
  view(s: Storage, offset: number, length: number): Storage;
  /**
   * dst = src converted elementwise to dst's dtype: f32 to bf16/f16 round to nearest even (NaN stays NaN,
   * f16 overflows to ±Inf), bf16/f16 to f32 is exact, floats to integers truncate toward zero. Same dtypes copy.
   */
  cast(src: Storage, dst: Storage): void;
  /** What the backend runs on (SIMD level, threads, ...), where it has something to say. */
  info?(): Record<string, string | number>;
}

/** The kernel names, used to check that a backend (e.g. the native addon) implements all of them. */
export const KERNEL_METHODS = [
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
  "flashAttention",
  "flashAttentionBackward",
  "quantizeRows",
  "packInt8",
  "qlinear",
] as const satisfies readonly (keyof HostKernels)[];

/** A kernel's name: one of KERNEL_METHODS. */
export type KernelMethod = (typeof KERNEL_METHODS)[number];

// Compile-time check that KERNEL_METHODS lists every kernel: a missing one makes this assignment fail.
type MissingMethods = Exclude<keyof Kernels<F32, I32>, (typeof KERNEL_METHODS)[number]>;
const _allListed: [MissingMethods] extends [never] ? true : MissingMethods = true;
void _allListed;
