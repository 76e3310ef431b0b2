/**
 * In-place updates outside the graph, PyTorch's trailing-underscore methods: initialization and loading write
 * parameters, optimizers update them, gradient clipping scales gradients. None records a gradient; each is one
 * backend call (the optimizers one call for a whole list of parameters).
 */
import { ShapeError, fmtShape } from "../../util/errors.js";
import { type AdamHyper, type SgdHyper, backend } from "../../backend/index.js";
import type { Tensor } from "../tensor.js";
import { requireF32 } from "./common.js";

function sameSize(op: string, a: Tensor, b: Tensor): void {
  if (a.size !== b.size)
    throw new ShapeError(
      `${op}: ${fmtShape(a.shape)} and ${fmtShape(b.shape)} differ in size (${a.size} vs ${b.size})`,
    );
}

/** dst ← src, element by element (converted to dst's dtype); the shapes may differ if the sizes agree. */
export function copy_(dst: Tensor, src: Tensor): Tensor {
  sameSize("copy_", dst, src);
  backend().cast(src.storage, dst.storage);
  return dst;
}

/** Sets elements [start, end) of t's row-major order (all of them by default) to value. */
export function fill_(t: Tensor, value: number, start = 0, end = t.size): Tensor {
  requireF32("fill_", t);
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= t.size))
    throw new ShapeError(`fill_: range [${start}, ${end}) is outside a tensor of ${t.size} elements`);
  const b = backend();
  b.fill(start === 0 && end === t.size ? t.storage : b.view(t.storage, start, end - start), value);
  return t;
}

/** y ← y + alpha·x */
export function addScaled_(y: Tensor, x: Tensor, alpha: number): Tensor {
  requireF32("addScaled_", y, x);
  sameSize("addScaled_", y, x);
  backend().axpy(x.storage, y.storage, alpha);
  return y;
}

/** t ← alpha·t */
export function scale_(t: Tensor, alpha: number): Tensor {
  requireF32("scale_", t);
  backend().affine(t.storage, t.storage, alpha, 0);
  return t;
}

/** Σ x² over every element of every tensor (a gradient norm's square), accumulated in double precision. */
export function sumOfSquares(ts: readonly Tensor[]): number {
  requireF32("sumOfSquares", ...ts);
  return backend().sumSquares(ts.map((t) => t.storage));
}

/** One Adam/AdamW step for many parameters at once: params, exp_avg m and exp_avg_sq v updated in place. */
export function adamStep_(
  params: readonly Tensor[],
  grads: readonly Tensor[],
  m: readonly Tensor[],
  v: readonly Tensor[],
  h: AdamHyper,
): void {
  requireF32("adamStep_", ...params, ...grads, ...m, ...v);
  const s = (ts: readonly Tensor[]) => ts.map((t) => t.storage);
  backend().adam(s(params), s(grads), s(m), s(v), h);
}

/** One SGD step for many parameters at once; momentum buffers (null without momentum) updated in place. */
export function sgdStep_(
  params: readonly Tensor[],
  grads: readonly Tensor[],
  momentum: readonly (Tensor | null)[],
  h: SgdHyper,
): void {
  requireF32("sgdStep_", ...params, ...grads);
  backend().sgd(
    params.map((t) => t.storage),
    grads.map((t) => t.storage),
    momentum.map((t) => (t === null ? null : t.storage)),
    h,
  );
}

/**
 * dst[..., dstStart : dstStart + count, ...] ← src[..., srcStart : srcStart + count, ...] along `axis`, the other
 * axes equal (one strided copy, no graph): how a preallocated KV cache takes each step's keys in place.
 */
export function copyRows_(
  dst: Tensor,
  axis: number,
  dstStart: number,
  src: Tensor,
  srcStart = 0,
  count?: number,
): Tensor {
  const n = count ?? src.shape[axis] - srcStart;
  if (
    dst.dtype !== src.dtype ||
    dst.rank !== src.rank ||
    !(axis >= 0 && axis < dst.rank) ||
    dst.shape.some((d, i) => i !== axis && d !== src.shape[i]) ||
    !(Number.isInteger(n) && n >= 0 && srcStart >= 0 && dstStart >= 0) ||
    srcStart + n > src.shape[axis] ||
    dstStart + n > dst.shape[axis]
  )
    throw new ShapeError(
      `copyRows_: cannot copy ${n} rows from ${src.dtype}${fmtShape(src.shape)} at ${srcStart} into ${dst.dtype}${fmtShape(dst.shape)} at ${dstStart} along axis ${axis}`,
    );
  if (n === 0) return dst;
  const strides = (shape: readonly number[]) => {
    const s = new Array<number>(shape.length);
    let acc = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      s[d] = acc;
      acc *= shape[d];
    }
    return s;
  };
  const ss = strides(src.shape);
  const ds = strides(dst.shape);
  const shape = src.shape.map((d, i) => (i === axis ? n : d));
  backend().stridedCopy(
    src.storage,
    { offset: srcStart * ss[axis], strides: ss },
    dst.storage,
    { offset: dstStart * ds[axis], strides: ds },
    shape,
    false,
  );
  return dst;
}
