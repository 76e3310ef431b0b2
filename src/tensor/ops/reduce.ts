/** Reductions over one axis or all of them, and picking one element per row along an axis. */
import { ShapeError, fmtShape } from "../../util/errors.js";
import { backend } from "../../backend/index.js";
import { type Tensor, record } from "../tensor.js";
import { axisSizes, normAxis, sizeOf } from "../shape.js";
import { f32, out, outUninit, requireF32 } from "./common.js";
import { affine } from "./elementwise.js";

export interface ReduceOptions {
  /** Keep the reduced axis with size 1. */
  keepDim?: boolean;
}

function reducedShape(shape: readonly number[], axis: number, keepDim: boolean): number[] {
  const s = [...shape];
  if (keepDim) s[axis] = 1;
  else s.splice(axis, 1);
  return s;
}

/** Sum over `axis`, or over everything when axis is omitted (a scalar). */
export function sum(x: Tensor, axis?: number, opts: ReduceOptions = {}): Tensor {
  requireF32("sum", x);
  const flat = axis === undefined;
  const ax = flat ? 0 : normAxis("sum", axis, x.rank);
  const sizes = flat ? { outer: 1, dim: x.size, inner: 1 } : axisSizes(x.shape, ax);
  const shape = flat ? (opts.keepDim ? x.shape.map(() => 1) : []) : reducedShape(x.shape, ax, opts.keepDim ?? false);
  const y = out(shape);
  backend().reduce("sum", x.storage, y.storage, sizes);
  return record("sum", y, [x], (g) => {
    // broadcast g back along the reduced axis
    const dx = f32(x.size);
    backend().stridedCopy(
      g,
      { offset: 0, strides: [sizes.inner, 0, 1] },
      dx,
      { offset: 0, strides: [sizes.dim * sizes.inner, sizes.inner, 1] },
      [sizes.outer, sizes.dim, sizes.inner],
      false,
    );
    return [dx];
  });
}

export function mean(x: Tensor, axis?: number, opts: ReduceOptions = {}): Tensor {
  const n = axis === undefined ? x.size : x.shape[normAxis("mean", axis, x.rank)];
  return affine(sum(x, axis, opts), 1 / n);
}

function extreme(kind: "max" | "min", x: Tensor, axis: number | undefined, opts: ReduceOptions): Tensor {
  requireF32(kind, x);
  if (x.size === 0) throw new ShapeError(`${kind}: cannot reduce an empty tensor of shape ${fmtShape(x.shape)}`);
  const flat = axis === undefined;
  const ax = flat ? 0 : normAxis(kind, axis, x.rank);
  const sizes = flat ? { outer: 1, dim: x.size, inner: 1 } : axisSizes(x.shape, ax);
  const shape = flat ? (opts.keepDim ? x.shape.map(() => 1) : []) : reducedShape(x.shape, ax, opts.keepDim ?? false);
  const y = out(shape);
  const k = backend();
  k.reduce(kind, x.storage, y.storage, sizes);
  return record(kind, y, [x], (g) => {
    // the gradient goes to the first extreme element, as argmax picks it
    const idx = k.allocate("i32", sizes.outer * sizes.inner, false);
    k.argReduce(kind === "max" ? "argmax" : "argmin", x.storage, idx, sizes);
    const dx = f32(x.size);
    k.scatterAddAxis(g, idx, dx, sizes);
    return [dx];
  });
}

export const max = (x: Tensor, axis?: number, opts: ReduceOptions = {}): Tensor => extreme("max", x, axis, opts);
export const min = (x: Tensor, axis?: number, opts: ReduceOptions = {}): Tensor => extreme("min", x, axis, opts);

function argExtreme(kind: "argmax" | "argmin", x: Tensor, axis: number | undefined): Tensor {
  requireF32(kind, x);
  if (x.size === 0) throw new ShapeError(`${kind}: empty tensor of shape ${fmtShape(x.shape)}`);
  const flat = axis === undefined;
  const ax = flat ? 0 : normAxis(kind, axis, x.rank);
  const sizes = flat ? { outer: 1, dim: x.size, inner: 1 } : axisSizes(x.shape, ax);
  const shape = flat ? [] : reducedShape(x.shape, ax, false);
  const y = outUninit(shape, "i32");
  backend().argReduce(kind, x.storage, y.storage, sizes);
  return y;
}

/** Index of the largest element along axis (the first on ties), as an i32 tensor. */
export const argmax = (x: Tensor, axis?: number): Tensor => argExtreme("argmax", x, axis);
export const argmin = (x: Tensor, axis?: number): Tensor => argExtreme("argmin", x, axis);

/**
 * out[..., ...] = x[..., idx[...], ...]: one element along `axis` for every other position
 * (numpy's take_along_axis with a single index). idx has x's shape without that axis.
 */
export function takeAlong(x: Tensor, axis: number, idx: Tensor): Tensor {
  requireF32("takeAlong", x);
  const ax = normAxis("takeAlong", axis, x.rank);
  const shape = reducedShape(x.shape, ax, false);
  if (idx.dtype !== "i32" || idx.size !== sizeOf(shape))
    throw new ShapeError(
      `takeAlong: index must be an i32 tensor of shape ${fmtShape(shape)}, got ${idx.dtype}${fmtShape(idx.shape)}`,
    );
  const sizes = axisSizes(x.shape, ax);
  const y = out(shape);
  backend().gatherAxis(x.storage, idx.storage, y.storage, sizes);
  return record("takeAlong", y, [x], (g) => {
    const dx = f32(x.size);
    backend().scatterAddAxis(g, idx.storage, dx, sizes);
    return [dx];
  });
}
