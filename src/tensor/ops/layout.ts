/** Layout ops: reshape (a view), permute/transpose, slice, concat/stack, broadcastTo. */
import { ShapeError, fmtShape } from "../../util/errors.js";
import { backend, type Storage } from "../../backend/index.js";
import { Tensor, record } from "../tensor.js";
import { broadcastShapes, broadcastStrides, normAxis, sameShape, sizeOf, stridesOf } from "../shape.js";
import { f32, outUninit, reduceToShape } from "./common.js";

/** Same data, new shape (one axis may be -1). Shares the buffer. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const infer = shape.indexOf(-1);
  if (infer !== shape.lastIndexOf(-1)) throw new ShapeError(`reshape: only one axis may be -1 in ${fmtShape(shape)}`);
  const target = [...shape];
  if (infer >= 0) {
    const known = sizeOf(shape.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0)
      throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
    target[infer] = x.size / known;
  }
  if (sizeOf(target) !== x.size || target.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`);
  }
  if (sameShape(target, x.shape)) return x;
  const y = new Tensor(x.storage, target);
  return record("reshape", y, [x], (g) => [g]);
}

export const flatten = (x: Tensor): Tensor => reshape(x, [x.size]);

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const ax = normAxis("unsqueeze", axis, x.rank + 1);
  const s = [...x.shape];
  s.splice(ax, 0, 1);
  return reshape(x, s);
}

export function squeeze(x: Tensor, axis: number): Tensor {
  const ax = normAxis("squeeze", axis, x.rank);
  if (x.shape[ax] !== 1)
    throw new ShapeError(`squeeze: axis ${axis} of ${fmtShape(x.shape)} has size ${x.shape[ax]}, not 1`);
  return reshape(
    x,
    x.shape.filter((_, i) => i !== ax),
  );
}

/** Reorders axes: out.shape[i] = x.shape[perm[i]]. Copies. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new ShapeError(
      `permute: ${fmtShape(perm)} is not a permutation of the ${x.rank} axes of ${fmtShape(x.shape)}`,
    );
  }
  if (perm.every((p, i) => p === i)) return x;
  const src = stridesOf(x.shape);
  const shape = perm.map((p) => x.shape[p]);
  const y = outUninit(shape, x.dtype);
  backend().stridedCopy(
    x.storage,
    { offset: 0, strides: perm.map((p) => src[p]) },
    y.storage,
    { offset: 0, strides: stridesOf(shape) },
    shape,
    false,
  );
  return record("permute", y, [x], (g) => {
    const dx = f32(x.size);
    // write g back through the same mapping, transposed
    backend().stridedCopy(
      g,
      { offset: 0, strides: stridesOf(shape) },
      dx,
      { offset: 0, strides: perm.map((p) => src[p]) },
      shape,
      false,
    );
    return [dx];
  });
}

/** Swaps two axes. */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const ia = normAxis("transpose", a, x.rank);
  const ib = normAxis("transpose", b, x.rank);
  const perm = x.shape.map((_, i) => i);
  perm[ia] = ib;
  perm[ib] = ia;
  return permute(x, perm);
}

/** x[..., start:end, ...] along one axis (end exclusive; negative values count from the end). Copies. */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const ax = normAxis("slice", axis, x.rank);
  const dim = x.shape[ax];
  const s = start < 0 ? start + dim : start;
  const e = end === undefined ? dim : end < 0 ? end + dim : end;
  if (!(Number.isInteger(s) && Number.isInteger(e) && 0 <= s && s <= e && e <= dim)) {
    throw new ShapeError(
      `slice: range [${start}, ${end ?? dim}) is out of bounds for axis ${axis} of size ${dim} in ${fmtShape(x.shape)}`,
    );
  }
  const shape = [...x.shape];
  shape[ax] = e - s;
  const strides = stridesOf(x.shape);
  const from = { offset: s * strides[ax], strides };
  const y = outUninit(shape, x.dtype);
  backend().stridedCopy(x.storage, from, y.storage, { offset: 0, strides: stridesOf(shape) }, shape, false);
  return record("slice", y, [x], (g) => {
    const dx = f32(x.size);
    backend().stridedCopy(g, { offset: 0, strides: stridesOf(shape) }, dx, from, shape, false);
    return [dx];
  });
}

/** Joins tensors along an existing axis. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError("concat: needs at least one tensor");
  const first = xs[0];
  const ax = normAxis("concat", axis, first.rank);
  for (const t of xs) {
    if (t.rank !== first.rank || t.dtype !== first.dtype || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new ShapeError(
        `concat: shapes ${xs.map((u) => u.dtype + fmtShape(u.shape)).join(", ")} differ off axis ${axis}`,
      );
    }
  }
  const shape = [...first.shape];
  shape[ax] = xs.reduce((s, t) => s + t.shape[ax], 0);
  const outStrides = stridesOf(shape);
  const y = outUninit(shape, first.dtype);
  const offsets: number[] = [];
  let at = 0;
  for (const t of xs) {
    offsets.push(at * outStrides[ax]);
    backend().stridedCopy(
      t.storage,
      { offset: 0, strides: stridesOf(t.shape) },
      y.storage,
      { offset: at * outStrides[ax], strides: outStrides },
      t.shape,
      false,
    );
    at += t.shape[ax];
  }
  return record("concat", y, xs, (g) =>
    xs.map((t, i) => {
      if (!t.requiresGrad) return null;
      const dx = f32(t.size);
      backend().stridedCopy(
        g,
        { offset: offsets[i], strides: outStrides },
        dx,
        { offset: 0, strides: stridesOf(t.shape) },
        t.shape,
        false,
      );
      return dx;
    }),
  );
}

/** Joins tensors of equal shape along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError("stack: needs at least one tensor");
  return concat(
    xs.map((t) => unsqueeze(t, axis < 0 ? axis + t.rank + 1 : axis)),
    axis,
  );
}

/** Materializes x broadcast to `shape`. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  const target = broadcastShapes("broadcastTo", x.shape, shape);
  if (!sameShape(target, shape))
    throw new ShapeError(`broadcastTo: ${fmtShape(x.shape)} cannot be broadcast to ${fmtShape(shape)}`);
  if (sameShape(x.shape, shape)) return x;
  const y = outUninit(shape, x.dtype);
  backend().stridedCopy(
    x.storage,
    { offset: 0, strides: broadcastStrides(x.shape, shape) },
    y.storage,
    { offset: 0, strides: stridesOf(shape) },
    shape,
    false,
  );
  return record("broadcastTo", y, [x], (g: Storage) => [reduceToShape(g, shape, x.shape)]);
}
