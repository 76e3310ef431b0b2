/** Matrix products: matmul (batched, with transpose flags) and linear (x·Wᵀ + b, PyTorch's layout). */
import { ArgumentError, ShapeError, fmtShape } from "../../util/errors.js";
import { ACTIVATIONS, backend, type Activation, type Storage, type MatmulParams } from "../../backend/index.js";
import { type Tensor, record } from "../tensor.js";
import { sameShape, sizeOf } from "../shape.js";
import { f32, out, outUninit, requireF32, requireRank } from "./common.js";

/**
 * The precision of matrix products (matmul and linear, forward and backward): "fp32", or "bf16" for mixed
 * precision as torch.autocast('cpu', dtype=torch.bfloat16) runs it: both operands rounded to bfloat16, the product
 * accumulated and returned in fp32. Only the products change: weights, gradients, optimizer state and every other
 * op (layer norm, softmax, losses, reductions) stay fp32. A product records the precision it ran at, so its
 * backward runs at the same one wherever backward() is called.
 */
export type Precision = "fp32" | "bf16";
export const PRECISIONS: readonly Precision[] = ["fp32", "bf16"];

let precision: Precision = "fp32";

/** The precision matrix products run at now. */
export function matmulPrecision(): Precision {
  return precision;
}

/** Runs fn with matrix products at `p` (restored afterwards, also when fn throws). */
export function withPrecision<T>(p: Precision, fn: () => T): T {
  if (!PRECISIONS.includes(p)) throw new ArgumentError(`unknown precision "${p}" (known: ${PRECISIONS.join(", ")})`);
  const prev = precision;
  precision = p;
  try {
    return fn();
  } finally {
    precision = prev;
  }
}

/** The elements of s from offset on (a view). */
const tail = (s: Storage, offset: number): Storage => (offset === 0 ? s : backend().view(s, offset, s.length - offset));

export interface MatmulOptions {
  /** Use the transpose of a's last two axes. */
  transA?: boolean;
  /** Use the transpose of b's last two axes. */
  transB?: boolean;
}

/**
 * op(a) · op(b) over the last two axes. Leading (batch) axes must match, or one side has none (or all ones) and
 * is shared across the batch. When b is a plain matrix and a is not transposed, a's leading axes fold into rows
 * so the whole product is one GEMM.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  requireF32("matmul", a, b);
  requireRank("matmul", a, 2, "a");
  requireRank("matmul", b, 2, "b");
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const m = transA ? ac : ar;
  const k = transA ? ar : ac;
  const kb = transB ? bc : br;
  const n = transB ? br : bc;
  const desc = () => `${fmtShape(a.shape)}${transA ? "ᵀ" : ""} · ${fmtShape(b.shape)}${transB ? "ᵀ" : ""}`;
  if (k !== kb) throw new ShapeError(`matmul: inner dimensions differ in ${desc()} (${k} vs ${kb})`);
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const k_ = backend();
  const bf16 = precision === "bf16";

  if (bBatch.length === 0 && !transA) {
    // fold a's batch axes into rows: one [M, k] · [k, n] GEMM
    const M = sizeOf(aBatch) * m;
    const y = k > 0 ? outUninit([...aBatch, m, n]) : out([...aBatch, m, n]);
    const p: MatmulParams = { batch: 1, m: M, n, k, transA: false, transB, bf16 };
    k_.matmul(a.storage, b.storage, y.storage, p);
    return record("matmul", y, [a, b], (g) => {
      let ga: Storage | null = null;
      let gb: Storage | null = null;
      if (a.requiresGrad) {
        ga = f32(a.size);
        k_.matmul(g, b.storage, ga, { batch: 1, m: M, n: k, k: n, transA: false, transB: !transB, bf16 });
      }
      if (b.requiresGrad) {
        gb = f32(b.size);
        if (!transB) k_.matmul(a.storage, g, gb, { batch: 1, m: k, n, k: M, transA: true, transB: false, bf16 });
        else k_.matmul(g, a.storage, gb, { batch: 1, m: n, n: k, k: M, transA: true, transB: false, bf16 });
      }
      return [ga, gb];
    });
  }

  const aShared = sizeOf(aBatch) === 1;
  const bShared = sizeOf(bBatch) === 1;
  let batchShape: readonly number[];
  if (sameShape(aBatch, bBatch)) batchShape = aBatch;
  else if (bShared) batchShape = aBatch;
  else if (aShared) batchShape = bBatch;
  else throw new ShapeError(`matmul: batch axes of ${desc()} do not match and neither side is a single matrix`);
  const batch = sizeOf(batchShape);
  const strideA = aShared && batch > 1 ? 0 : m * k;
  const strideB = bShared && batch > 1 ? 0 : k * n;
  const y = k > 0 ? outUninit([...batchShape, m, n]) : out([...batchShape, m, n]);
  k_.matmul(a.storage, b.storage, y.storage, { batch, m, n, k, transA, transB, strideA, strideB, bf16 });
  return record("matmul", y, [a, b], (g) => {
    let ga: Storage | null = null;
    let gb: Storage | null = null;
    if (a.requiresGrad) {
      ga = f32(a.size);
      // dA = dC · op(B)ᵀ   (stored transposed when transA: dAᵀ = op(B) · dCᵀ)
      const perItem = (gaOut: Storage, gOff: number, bOff: number, accumulate: boolean, items: number) => {
        const gs = tail(g, gOff),
          bs = tail(b.storage, bOff);
        if (!transA)
          k_.matmul(gs, bs, gaOut, {
            batch: items,
            m,
            n: k,
            k: n,
            transA: false,
            transB: !transB,
            strideA: m * n,
            strideB: strideB,
            accumulate,
            bf16,
          });
        else
          k_.matmul(bs, gs, gaOut, {
            batch: items,
            m: k,
            n: m,
            k: n,
            transA: transB,
            transB: true,
            strideA: strideB,
            strideB: m * n,
            accumulate,
            bf16,
          });
      };
      if (strideA === 0) for (let i = 0; i < batch; i++) perItem(ga, i * m * n, i * strideB, true, 1);
      else perItem(ga, 0, 0, false, batch);
    }
    if (b.requiresGrad) {
      gb = f32(b.size);
      // dB = op(A)ᵀ · dC   (stored transposed when transB: dBᵀ = dCᵀ · op(A))
      const perItem = (gbOut: Storage, gOff: number, aOff: number, accumulate: boolean, items: number) => {
        const gs = tail(g, gOff),
          as = tail(a.storage, aOff);
        if (!transB)
          k_.matmul(as, gs, gbOut, {
            batch: items,
            m: k,
            n,
            k: m,
            transA: !transA,
            transB: false,
            strideA: strideA,
            strideB: m * n,
            accumulate,
            bf16,
          });
        else
          k_.matmul(gs, as, gbOut, {
            batch: items,
            m: n,
            n: k,
            k: m,
            transA: true,
            transB: transA,
            strideA: m * n,
            strideB: strideA,
            accumulate,
            bf16,
          });
      };
      if (strideB === 0) for (let i = 0; i < batch; i++) perItem(gb, i * m * n, i * strideA, true, 1);
      else perItem(gb, 0, 0, false, batch);
    }
    return [ga, gb];
  });
}

/**
 * y = act(x · Wᵀ + b) with W of shape [out, in] (torch.nn.Linear's layout). The bias and the activation run as one
 * fused pass over the product (a transformer's feed-forward layer: bias + GELU); act defaults to "identity".
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null, act: Activation = "identity"): Tensor {
  requireF32("linear", x, weight, ...(bias ? [bias] : []));
  requireRank("linear", x, 1, "x");
  if (weight.rank !== 2) throw new ShapeError(`linear: weight must be [out, in], got ${fmtShape(weight.shape)}`);
  const [nOut, nIn] = weight.shape;
  if (x.shape[x.rank - 1] !== nIn)
    throw new ShapeError(
      `linear: input ${fmtShape(x.shape)} has ${x.shape[x.rank - 1]} features but weight ${fmtShape(weight.shape)} expects ${nIn}`,
    );
  if (bias && (bias.rank !== 1 || bias.shape[0] !== nOut))
    throw new ShapeError(`linear: bias must be [${nOut}], got ${fmtShape(bias.shape)}`);
  if (!ACTIVATIONS.includes(act))
    throw new ShapeError(`linear: unknown activation "${act}" (known: ${ACTIVATIONS.join(", ")})`);
  const rows = x.size / nIn;
  const k_ = backend();
  const bf16 = precision === "bf16";
  const shape = [...x.shape.slice(0, -1), nOut];
  // the product before bias and activation; kept for the activation's backward
  const pre = nIn > 0 ? outUninit(shape) : out(shape);
  k_.matmul(x.storage, weight.storage, pre.storage, {
    batch: 1,
    m: rows,
    n: nOut,
    k: nIn,
    transA: false,
    transB: true,
    bf16,
  });
  const fused = act !== "identity";
  // a fused activation without a bias adds zeros
  const biasData = bias ? bias.storage : fused ? f32(nOut) : null;
  let y = pre;
  if (fused) {
    y = outUninit(shape);
    k_.biasActivation(act, pre.storage, biasData!, y.storage, rows, nOut);
  } else if (biasData) k_.biasActivation("identity", pre.storage, biasData, pre.storage, rows, nOut);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record("linear", y, inputs, (g) => {
    let gx: Storage | null = null;
    let gw: Storage | null = null;
    let gb: Storage | null = null;
    // gradient with respect to the pre-bias product (and, fused, the bias in the same pass)
    let gz = g;
    if (fused) {
      gz = f32(y.size);
      gb = f32(nOut);
      k_.biasActivationBackward(act, pre.storage, biasData!, g, gz, gb, rows, nOut);
    } else if (bias?.requiresGrad) {
      gb = f32(nOut);
      k_.reduce("sum", g, gb, { outer: 1, dim: rows, inner: nOut });
    }
    if (x.requiresGrad) {
      gx = f32(x.size);
      k_.matmul(gz, weight.storage, gx, { batch: 1, m: rows, n: nIn, k: nOut, transA: false, transB: false, bf16 });
    }
    if (weight.requiresGrad) {
      gw = f32(weight.size);
      k_.matmul(gz, x.storage, gw, { batch: 1, m: nOut, n: nIn, k: rows, transA: true, transB: false, bf16 });
    }
    return bias ? [gx, gw, bias.requiresGrad ? gb : null] : [gx, gw];
  });
}
