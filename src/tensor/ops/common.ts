/** Helpers shared by the op files: argument checks, output allocation and gradient reduction over broadcast axes. */
import { ShapeError, fmtShape } from "../../util/errors.js";
import { backend, type Storage } from "../../backend/index.js";
import { Tensor } from "../tensor.js";
import { broadcastStrides, sameShape, sizeOf, stridesOf, type Shape } from "../shape.js";

/** Kernels run in f32 (bf16/int8 kernels come later): other float dtypes must be cast first. */
export function requireF32(op: string, ...ts: Tensor[]): void {
  for (const t of ts)
    if (t.dtype !== "f32")
      throw new ShapeError(
        `${op}: expected f32 tensors, got ${t.dtype} of shape ${fmtShape(t.shape)}${t.dtype === "i32" || t.dtype === "i8" ? "" : ' (cast it with .to("f32") first)'}`,
      );
}

/** An index argument (ids, targets): i32. */
export function requireI32(op: string, what: string, t: Tensor): void {
  if (t.dtype !== "i32")
    throw new ShapeError(`${op}: ${what} must be an i32 tensor, got ${t.dtype} of shape ${fmtShape(t.shape)}`);
}

export function requireRank(op: string, t: Tensor, min: number, what = "input"): void {
  if (t.rank < min) throw new ShapeError(`${op}: ${what} must have rank >= ${min}, got shape ${fmtShape(t.shape)}`);
}

/** Sums a gradient of shape `from` down to `to` (the inverse of broadcasting). Returns g itself when shapes agree. */
export function reduceToShape(g: Storage, from: Shape, to: Shape): Storage {
  if (sameShape(from, to)) return g;
  const out = f32(sizeOf(to));
  backend().stridedCopy(
    g,
    { offset: 0, strides: stridesOf(from) },
    out,
    { offset: 0, strides: broadcastStrides(to, from) },
    from,
    true,
  );
  return out;
}

/** A zero-filled f32 storage of n elements. */
export function f32(n: number): Storage {
  return backend().allocate("f32", n);
}

/** A zero-filled f32 tensor. */
export function out(shape: Shape, dtype: "f32" | "i32" = "f32"): Tensor {
  return new Tensor(backend().allocate(dtype, sizeOf(shape)), shape);
}

/**
 * An output tensor whose memory need not be zero-filled, for kernels that overwrite every element (a product, a
 * softmax, an activation, a copy). Large activations are allocated on every op, and clearing them first was ~10%
 * of a forward pass.
 */
export function outUninit(shape: Shape, dtype: Tensor["dtype"] = "f32"): Tensor {
  return new Tensor(backend().allocate(dtype, sizeOf(shape), false), shape);
}

/** The values of a small storage on the host (for the few ops that finish a computation there). */
export function hostF32(s: Storage): Float32Array {
  return backend().download(s) as Float32Array;
}
