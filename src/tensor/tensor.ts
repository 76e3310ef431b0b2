/**
 * Tensor and the define-by-run autograd tape.
 *
 * A Tensor is a dense row-major buffer (Float32Array for f32, Int32Array for i32) plus a shape. Ops that need
 * gradients record a GradNode: the op name, its inputs and a backward closure that maps the output gradient to
 * input gradients (raw buffers, computed with backend kernels). backward() walks the recorded graph in reverse
 * topological order, accumulates into leaves' `.grad` (as PyTorch does) and frees the graph behind it.
 */
import { ShapeError, fmtShape } from "../util/errors.js";
import type { Rng } from "../util/rng.js";
import { backend, type F32, type I32 } from "../backend/index.js";
import { checkShape, sizeOf, type Shape } from "./shape.js";
import type { Primitive } from "./primitives.js";

export type DType = "f32" | "i32";
export type TensorData = F32 | I32;

export interface GradNode {
  readonly op: Primitive;
  readonly inputs: readonly Tensor[];
  /** Given dL/d(output), returns dL/d(input) for each input (null where an input needs none). */
  readonly backward: (grad: F32) => readonly (F32 | null)[];
}

export class Tensor {
  readonly data: TensorData;
  readonly shape: Shape;
  readonly dtype: DType;
  requiresGrad: boolean;
  grad: Tensor | null = null;
  /** The op that produced this tensor, while the graph is alive. Leaves have none. */
  node: GradNode | null = null;

  constructor(data: TensorData, shape: Shape, requiresGrad = false) {
    checkShape("Tensor", shape);
    const n = sizeOf(shape);
    if (data.length !== n)
      throw new ShapeError(
        `Tensor: buffer of ${data.length} elements does not fit shape ${fmtShape(shape)} (${n} elements)`,
      );
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.dtype = data instanceof Int32Array ? "i32" : "f32";
    if (requiresGrad && this.dtype !== "f32") throw new ShapeError("Tensor: only f32 tensors can require gradients");
    this.requiresGrad = requiresGrad;
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The f32 buffer; throws for i32 tensors. */
  get f32(): F32 {
    if (!(this.data instanceof Float32Array))
      throw new ShapeError(`expected an f32 tensor, got i32 of shape ${fmtShape(this.shape)}`);
    return this.data;
  }

  /** The i32 buffer; throws for f32 tensors. */
  get i32(): I32 {
    if (!(this.data instanceof Int32Array))
      throw new ShapeError(`expected an i32 tensor, got f32 of shape ${fmtShape(this.shape)}`);
    return this.data;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1)
      throw new ShapeError(`item(): tensor of shape ${fmtShape(this.shape)} has ${this.size} elements, not 1`);
    return this.data[0];
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  /** A tensor sharing this buffer, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** A copy of the data, cut from the graph. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** Runs backpropagation from this tensor (a scalar unless `grad` is given). */
  backward(grad?: Tensor, opts: { retainGraph?: boolean } = {}): void {
    runBackward(this, grad, opts.retainGraph ?? false);
  }

  toString(): string {
    const head = Array.from(this.data.subarray(0, 8)).map((v) => +v.toFixed(4));
    return `Tensor(${this.dtype}${fmtShape(this.shape)} ${head.join(", ")}${this.size > 8 ? ", ..." : ""})`;
  }
}

// ---- creation

export function tensor(
  values: ArrayLike<number>,
  shape?: Shape,
  opts: { dtype?: DType; requiresGrad?: boolean } = {},
): Tensor {
  const data = opts.dtype === "i32" ? Int32Array.from(values) : Float32Array.from(values);
  return new Tensor(data, shape ?? [data.length], opts.requiresGrad ?? false);
}

export function zeros(shape: Shape, dtype: DType = "f32"): Tensor {
  checkShape("zeros", shape);
  return new Tensor(dtype === "i32" ? new Int32Array(sizeOf(shape)) : new Float32Array(sizeOf(shape)), shape);
}

export function full(shape: Shape, value: number): Tensor {
  const t = zeros(shape);
  t.f32.fill(value);
  return t;
}

export function ones(shape: Shape): Tensor {
  return full(shape, 1);
}

export function scalar(value: number): Tensor {
  return new Tensor(Float32Array.of(value), []);
}

export function arange(n: number, dtype: DType = "i32"): Tensor {
  const t = zeros([n], dtype);
  for (let i = 0; i < n; i++) t.data[i] = i;
  return t;
}

export function randn(shape: Shape, rng: Rng, std = 1): Tensor {
  const t = zeros(shape);
  const d = t.f32;
  for (let i = 0; i < d.length; i++) d[i] = rng.normal(0, std);
  return t;
}

export function rand(shape: Shape, rng: Rng, lo = 0, hi = 1): Tensor {
  const t = zeros(shape);
  const d = t.f32;
  for (let i = 0; i < d.length; i++) d[i] = rng.range(lo, hi);
  return t;
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
  backwardFn: (grad: F32) => readonly (F32 | null)[],
): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward: backwardFn };
  }
  return out;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
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
  const grads = new Map<Tensor, F32>();
  grads.set(root, grad ? Float32Array.from(grad.f32) : new Float32Array(root.size).fill(1));
  const order = topoOrder(root);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const g = grads.get(t);
    if (!g) continue;
    grads.delete(t);
    const node = t.node;
    if (!node) {
      // a leaf: accumulate into .grad
      if (t.grad) b.axpy(g, t.grad.f32, 1);
      else t.grad = new Tensor(g.slice(), t.shape); // a copy: g may be shared with another input
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
        const sum = prev.slice();
        b.axpy(gx, sum, 1);
        grads.set(x, sum);
      }
    }
    if (!retainGraph) t.node = null;
  }
}
