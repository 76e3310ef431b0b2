/**
 * Tensor and the define-by-run autograd tape.
 *
 * A Tensor is a shape over a backend Storage (dense, row-major) of one dtype: f32, bf16, f16, i32 or i8. Code above
 * tensor/ never sees the storage's contents: it uses ops, toArray()/item(), or the explicit toFloat32Array() copy.
 * Ops that need gradients record a GradNode: the op name, its inputs and a backward closure that maps the output
 * gradient to input gradients (f32 storages, computed with backend kernels). backward() walks the recorded graph in
 * reverse topological order, accumulates into leaves' `.grad` (as PyTorch does) and frees the graph behind it.
 */
import { ShapeError, fmtShape } from "../util/errors.js";
import type { Rng } from "../util/rng.js";
import { backend, type DType, type Storage } from "../backend/index.js";
import { checkShape, sizeOf, type Shape } from "./shape.js";
import type { Primitive } from "./primitives.js";

export type { DType } from "../backend/index.js";

/** Floating-point dtypes (the ones that can carry gradients). */
export const isFloatDType = (d: DType): boolean => d === "f32" || d === "bf16" || d === "f16";

export interface GradNode {
  readonly op: Primitive;
  readonly inputs: readonly Tensor[];
  /**
   * Given dL/d(output) (an f32 storage), returns dL/d(input) for each input (null where an input needs none),
   * as f32 storages; the tape casts them to an input's own dtype where that differs.
   */
  readonly backward: (grad: Storage) => readonly (Storage | null)[];
}

/** Host arrays a Tensor can be built from directly: Float32Array → f32, Int32Array → i32 (handed over, no copy). */
export type HostValues = Float32Array | Int32Array;

/** Creation order of tensors: checkpoint() tells the tensors made inside a call from those it found. */
let nextTensorId = 0;

export class Tensor {
  /** Creation order (increasing): internal to tensor/ (checkpoint's graph boundary). */
  readonly id = nextTensorId++;
  /** The backend buffer. Internal to tensor/: code above reads values with toArray(), item() or ops. */
  readonly storage: Storage;
  readonly shape: Shape;
  requiresGrad: boolean;
  grad: Tensor | null = null;
  /** The op that produced this tensor, while the graph is alive. Leaves have none. */
  node: GradNode | null = null;

  /**
   * A tensor over a storage, or over host values uploaded to the active backend (a Float32Array or Int32Array is
   * handed over: the CPU backends keep it as the storage, so do not change it afterwards).
   */
  constructor(data: Storage | HostValues, shape: Shape, requiresGrad = false) {
    checkShape("Tensor", shape);
    const storage = ArrayBuffer.isView(data)
      ? backend().upload(data instanceof Int32Array ? "i32" : "f32", data)
      : (data as Storage);
    const n = sizeOf(shape);
    if (storage.length !== n)
      throw new ShapeError(
        `Tensor: buffer of ${storage.length} elements does not fit shape ${fmtShape(shape)} (${n} elements)`,
      );
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    if (requiresGrad && !isFloatDType(storage.dtype))
      throw new ShapeError(`Tensor: only floating-point tensors can require gradients, got ${storage.dtype}`);
    this.requiresGrad = requiresGrad;
  }

  get dtype(): DType {
    return this.storage.dtype;
  }

  get size(): number {
    return this.storage.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1)
      throw new ShapeError(`item(): tensor of shape ${fmtShape(this.shape)} has ${this.size} elements, not 1`);
    return this.toArray()[0];
  }

  /** The values as numbers (a host copy; bf16/f16 decoded exactly). */
  toArray(): number[] {
    return Array.from(hostNumbers(this.storage));
  }

  /** The values as rows along the last axis ([..., n] → rows of n numbers), e.g. one row per example of [B, C]. */
  toRows(): number[][] {
    const flat = this.toArray();
    const n = this.shape[this.shape.length - 1] ?? 1;
    const out: number[][] = [];
    for (let o = 0; o < flat.length; o += n) out.push(flat.slice(o, o + n));
    return out;
  }

  /**
   * The values as a new Float32Array: the one bulk download for code above tensor/ that needs a typed copy
   * (a copy: writing to it never changes the tensor).
   */
  toFloat32Array(): Float32Array {
    if (this.dtype === "f32") return backend().download(this.storage) as Float32Array;
    const s = backend().allocate("f32", this.size, false);
    backend().cast(this.storage, s);
    return backend().download(s) as Float32Array;
  }

  /** This tensor in another dtype (a differentiable cast; the same tensor when the dtype agrees). */
  to(dtype: DType): Tensor {
    return cast(this, dtype);
  }

  /** A tensor sharing this storage, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape);
  }

  /** A copy of the data, cut from the graph. */
  clone(): Tensor {
    return new Tensor(copyStorage(this.storage), this.shape);
  }

  /** Runs backpropagation from this tensor (a scalar unless `grad` is given). */
  backward(grad?: Tensor, opts: { retainGraph?: boolean } = {}): void {
    runBackward(this, grad, opts.retainGraph ?? false);
  }

  toString(): string {
    const head = hostNumbers(backend().view(this.storage, 0, Math.min(this.size, 8)));
    const shown = Array.from(head, (v) => +v.toFixed(4));
    return `Tensor(${this.dtype}${fmtShape(this.shape)} ${shown.join(", ")}${this.size > 8 ? ", ..." : ""})`;
  }
}

/** A storage's values as host numbers (f32 for the float dtypes, so bf16/f16 come out decoded). */
function hostNumbers(s: Storage): Float32Array | Int32Array | Int8Array {
  const b = backend();
  if (s.dtype === "bf16" || s.dtype === "f16") {
    const w = b.allocate("f32", s.length, false);
    b.cast(s, w);
    return b.download(w) as Float32Array;
  }
  return b.download(s) as Float32Array | Int32Array | Int8Array;
}

/** A new storage with the same dtype and elements. */
export function copyStorage(s: Storage): Storage {
  const c = backend().allocate(s.dtype, s.length, false);
  backend().cast(s, c);
  return c;
}

// ---- creation

/** A tensor of `values` (copied), f32 unless opts.dtype says otherwise (bf16/f16 round to nearest even). */
export function tensor(
  values: ArrayLike<number>,
  shape?: Shape,
  opts: { dtype?: DType; requiresGrad?: boolean } = {},
): Tensor {
  const dtype = opts.dtype ?? "f32";
  const own = dtype === "f32" ? Float32Array : dtype === "i32" ? Int32Array : null;
  // a copy, so the caller's array stays theirs (upload may keep a typed array of its own type)
  const s = backend().upload(dtype, own && values instanceof own ? values.slice() : values);
  return new Tensor(s, shape ?? [s.length], opts.requiresGrad ?? false);
}

export function zeros(shape: Shape, dtype: DType = "f32"): Tensor {
  checkShape("zeros", shape);
  return new Tensor(backend().allocate(dtype, sizeOf(shape)), shape);
}

export function full(shape: Shape, value: number): Tensor {
  const t = zeros(shape);
  backend().fill(t.storage, value);
  return t;
}

export function ones(shape: Shape): Tensor {
  return full(shape, 1);
}

export function scalar(value: number): Tensor {
  return new Tensor(Float32Array.of(value), []);
}

export function arange(n: number, dtype: DType = "i32"): Tensor {
  return tensor(
    Array.from({ length: n }, (_, i) => i),
    [n],
    { dtype },
  );
}

export function randn(shape: Shape, rng: Rng, std = 1): Tensor {
  checkShape("randn", shape);
  const d = new Float32Array(sizeOf(shape));
  for (let i = 0; i < d.length; i++) d[i] = rng.normal(0, std);
  return new Tensor(d, shape);
}

export function rand(shape: Shape, rng: Rng, lo = 0, hi = 1): Tensor {
  checkShape("rand", shape);
  const d = new Float32Array(sizeOf(shape));
  for (let i = 0; i < d.length; i++) d[i] = rng.range(lo, hi);
  return new Tensor(d, shape);
}

// ---- grad mode

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording a graph (inference, optimizer updates, evaluation). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Attaches a GradNode to `out` when gradients are on and any input needs one.
 * Ops call this right after computing their output.
 */
export function record(
  op: Primitive,
  out: Tensor,
  inputs: readonly Tensor[],
  backwardFn: (grad: Storage) => readonly (Storage | null)[],
): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward: backwardFn };
  }
  return out;
}

// ---- the cast op (here rather than in ops/: Tensor.to() needs it, and ops/ import this file)

const INT_RANGE: Partial<Record<DType, [number, number]>> = { i32: [-2147483648, 2147483647], i8: [-128, 127] };

/**
 * x converted to `dtype`, differentiable between float dtypes: f32 → bf16/f16 round to nearest even (as torch;
 * NaN stays NaN, f16 overflows to ±Inf), back to f32 is exact. The gradient is the output's gradient cast to x's
 * dtype. Casting to an integer dtype needs integer values in range (checked) and carries no gradient.
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const b = backend();
  const range = INT_RANGE[dtype];
  if (range) {
    const values = hostNumbers(x.storage);
    for (const v of values)
      if (!Number.isInteger(v) || v < range[0] || v > range[1])
        throw new ShapeError(`cast: value ${v} of a ${x.dtype}${fmtShape(x.shape)} tensor does not fit ${dtype}`);
  }
  const out = b.allocate(dtype, x.size, false);
  b.cast(x.storage, out);
  const y = new Tensor(out, x.shape);
  if (!isFloatDType(dtype)) return y;
  return record("cast", y, [x], (g) => [x.dtype === "f32" ? g : roundTo(x.dtype, g)]);
}

/** g (f32) rounded to a lower-precision float dtype, kept in f32. */
function roundTo(dtype: DType, g: Storage): Storage {
  const b = backend();
  const low = b.allocate(dtype, g.length, false);
  b.cast(g, low);
  const back = b.allocate("f32", g.length, false);
  b.cast(low, back);
  return back;
}

function topoOrder(root: Tensor, stopBefore = -1): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    // tensors made before `stopBefore` are a checkpoint's boundary: their own graph is not walked
    const inputs = t.id < stopBefore ? [] : (t.node?.inputs ?? []);
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i];
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order; // inputs before the tensors that use them
}

/**
 * The graph of fn's result is dropped after its forward and rebuilt in the backward pass (activation
 * checkpointing): only the result and the tensors fn read from outside (its boundary: inputs, parameters, earlier
 * activations) are kept. fn runs once here, recording as usual, so the boundary — every tensor made before the call
 * that its graph reaches and that needs a gradient — is found; the result keeps its values but gets one node over
 * the boundary whose backward calls fn again and back-propagates through that fresh graph down to the boundary.
 * fn must compute the same values both times (a caller with dropout replays its seeds, as nn's checkpointed()
 * does). Without gradients it is fn().
 */
export function checkpoint(fn: () => Tensor): Tensor {
  if (!gradEnabled) return fn();
  const mark = nextTensorId;
  const inner = fn();
  if (!inner.node || inner.id < mark) return inner;
  const boundary: Tensor[] = [];
  const seen = new Set<Tensor>([inner]);
  const stack = [inner];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (t.id < mark) {
      boundary.push(t);
      continue;
    }
    for (const x of t.node?.inputs ?? [])
      if (x.requiresGrad && !seen.has(x)) {
        seen.add(x);
        stack.push(x);
      }
  }
  boundary.sort((a, b) => a.id - b.id);
  const out = new Tensor(inner.storage, inner.shape);
  inner.node = null; // the layer's activations go with its graph
  return record("checkpoint", out, boundary, (g) => {
    const prev = gradEnabled;
    gradEnabled = true;
    let again: Tensor;
    const remark = nextTensorId;
    try {
      again = fn();
    } finally {
      gradEnabled = prev;
    }
    if (again.size !== out.size)
      throw new ShapeError(
        `checkpoint: the recomputed result has shape ${fmtShape(again.shape)}, the first ${fmtShape(out.shape)}`,
      );
    if (!again.requiresGrad) return boundary.map(() => null);
    const grads = backwardTo(again, g, remark);
    return boundary.map((t) => grads.get(t) ?? null);
  });
}

/**
 * Back-propagates `seed` from root through the graph made since tensor id `mark`, and returns the gradients that
 * reach the older tensors it stops at (leaves made inside accumulate into .grad as usual). The walked graph is freed.
 */
function backwardTo(root: Tensor, seed: Storage, mark: number): Map<Tensor, Storage> {
  const b = backend();
  const grads = new Map<Tensor, Storage>([[root, seed]]);
  const reached = new Map<Tensor, Storage>();
  const order = topoOrder(root, mark);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const g = grads.get(t);
    if (!g) continue;
    grads.delete(t);
    if (t.id < mark) {
      reached.set(t, g);
      continue;
    }
    const node = t.node;
    if (!node) {
      if (t.grad) b.axpy(g, t.grad.storage, 1);
      else t.grad = new Tensor(copyStorage(g), t.shape);
      continue;
    }
    const inGrads = node.backward(g);
    for (let j = 0; j < node.inputs.length; j++) {
      const x = node.inputs[j];
      const gx = inGrads[j];
      if (!x.requiresGrad || !gx) continue;
      const prev = grads.get(x);
      if (!prev) grads.set(x, gx);
      else {
        const sum = copyStorage(prev);
        b.axpy(gx, sum, 1);
        grads.set(x, sum);
      }
    }
    t.node = null;
  }
  return reached;
}

let gradReadyHook: ((leaf: Tensor) => void) | null = null;

/**
 * Sets the function backward() calls as soon as a leaf's gradient of the pass is final (every consumer of the leaf
 * has added its part): data parallelism starts a gradient bucket's all-reduce from it while the rest of the
 * backward runs. Returns the previous hook (null: none).
 */
export function setGradReadyHook(hook: ((leaf: Tensor) => void) | null): ((leaf: Tensor) => void) | null {
  const prev = gradReadyHook;
  gradReadyHook = hook;
  return prev;
}

function runBackward(root: Tensor, grad: Tensor | undefined, retainGraph: boolean): void {
  if (!root.requiresGrad)
    throw new ShapeError(
      "backward(): this tensor does not require gradients (no input required grad, or it was computed under noGrad)",
    );
  if (!grad && root.size !== 1)
    throw new ShapeError(
      `backward(): a gradient must be given for a non-scalar tensor of shape ${fmtShape(root.shape)}`,
    );
  if (grad && grad.size !== root.size)
    throw new ShapeError(
      `backward(): gradient of shape ${fmtShape(grad.shape)} does not match tensor shape ${fmtShape(root.shape)}`,
    );
  const b = backend();
  const grads = new Map<Tensor, Storage>();
  let seed: Storage;
  if (grad) {
    seed = b.allocate("f32", root.size, false);
    b.cast(grad.storage, seed);
  } else {
    seed = b.allocate("f32", root.size, false);
    b.fill(seed, 1);
  }
  grads.set(root, seed);
  const order = topoOrder(root);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const g = grads.get(t);
    if (!g) continue;
    grads.delete(t);
    const node = t.node;
    if (!node) {
      // a leaf: accumulate into .grad, in the leaf's own dtype
      if (t.dtype !== "f32") {
        const gt = b.allocate(t.dtype, g.length, false);
        b.cast(g, gt);
        if (t.grad) t.grad = new Tensor(addInDType(t.grad.storage, gt), t.shape);
        else t.grad = new Tensor(gt, t.shape);
      } else if (t.grad) b.axpy(g, t.grad.storage, 1);
      else t.grad = new Tensor(copyStorage(g), t.shape); // a copy: g may be shared with another input
      gradReadyHook?.(t);
      continue;
    }
    const inGrads = node.backward(g);
    for (let j = 0; j < node.inputs.length; j++) {
      const x = node.inputs[j];
      const gx = inGrads[j];
      if (!x.requiresGrad || !gx) continue;
      if (gx.length !== x.size)
        throw new Error(
          `internal: backward of ${node.op} returned ${gx.length} gradient values for an input of ${x.size}`,
        );
      const prev = grads.get(x);
      if (!prev) grads.set(x, gx);
      else {
        // never add in place: a backward may hand the same buffer to two inputs
        const sum = copyStorage(prev);
        b.axpy(gx, sum, 1);
        grads.set(x, sum);
      }
    }
    if (!retainGraph) t.node = null;
  }
}

/** a + b for two storages of a low-precision float dtype, summed in f32 and rounded once. */
function addInDType(a: Storage, bb: Storage): Storage {
  const b = backend();
  const fa = b.allocate("f32", a.length, false);
  const fb = b.allocate("f32", a.length, false);
  b.cast(a, fa);
  b.cast(bb, fb);
  b.axpy(fb, fa, 1);
  const out = b.allocate(a.dtype, a.length, false);
  b.cast(fa, out);
  return out;
}
