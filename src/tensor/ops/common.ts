/** Helpers shared by the op files: argument checks and gradient reduction over broadcast axes. */
import { ShapeError, fmtShape } from "../../util/errors.js";
import { backend, type F32 } from "../../backend/index.js";
import { Tensor } from "../tensor.js";
import { broadcastStrides, sameShape, sizeOf, stridesOf, type Shape } from "../shape.js";

export function requireF32(op: string, ...ts: Tensor[]): void {
  for (const t of ts)
    if (t.dtype !== "f32") throw new ShapeError(`${op}: expected f32 tensors, got i32 of shape ${fmtShape(t.shape)}`);
}

export function requireRank(op: string, t: Tensor, min: number, what = "input"): void {
  if (t.rank < min) throw new ShapeError(`${op}: ${what} must have rank >= ${min}, got shape ${fmtShape(t.shape)}`);
}

/** Sums a gradient of shape `from` down to `to` (the inverse of broadcasting). Returns g itself when shapes agree. */
export function reduceToShape(g: F32, from: Shape, to: Shape): F32 {
  if (sameShape(from, to)) return g;
  const out = new Float32Array(sizeOf(to));
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

export function f32(n: number): F32 {
  return new Float32Array(n);
}

export function out(shape: Shape): Tensor {
  return new Tensor(new Float32Array(sizeOf(shape)), shape);
}

/** Below this many elements zero-filling costs nothing worth avoiding. */
const UNINIT_MIN = 4096;

/**
 * An output tensor whose memory is not zero-filled, for kernels that overwrite every element (a product, a
 * softmax, an activation). Large activations are allocated on every op, and clearing them first was ~10% of a
 * forward pass. allocUnsafeSlow gives each tensor its own ArrayBuffer (never a slice of Node's shared pool).
 */
export function outUninit(shape: Shape): Tensor {
  const n = sizeOf(shape);
  if (n < UNINIT_MIN) return out(shape);
  const buf = Buffer.allocUnsafeSlow(n * 4);
  return new Tensor(new Float32Array(buf.buffer, buf.byteOffset, n), shape);
}
