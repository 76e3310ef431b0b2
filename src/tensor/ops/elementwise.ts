/** Broadcasting binary ops, unary ops and where, each with its backward beside its forward. */
import { backend, type BinaryOp, type Storage, type UnaryOp } from "../../backend/index.js";
import { type Tensor, cast, record, scalar } from "../tensor.js";
import { broadcastShapes, broadcastStrides, sizeOf, stridesOf } from "../shape.js";
import { f32, hostF32, outUninit, reduceToShape, requireF32 } from "./common.js";

type Operand = Tensor | number;

function asTensor(x: Operand): Tensor {
  return typeof x === "number" ? scalar(x) : x;
}

/** out = op(a, b) with broadcasting; returns the output and the broadcast geometry. */
function broadcastBinary(op: BinaryOp, name: string, a: Tensor, b: Tensor) {
  requireF32(name, a, b);
  const shape = broadcastShapes(name, a.shape, b.shape);
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const y = outUninit(shape);
  backend().binary(op, a.storage, b.storage, y.storage, shape, sa, sb);
  return { y, shape, sa, sb };
}

/** Elementwise product of g (full shape) with x broadcast to it. */
function timesBroadcast(g: Storage, x: Tensor, shape: readonly number[], sx: readonly number[]): Storage {
  const r = f32(g.length);
  backend().binary("mul", g, x.storage, r, shape, stridesOf(shape), sx);
  return r;
}

export function add(a: Operand, b: Operand): Tensor {
  const [ta, tb] = [asTensor(a), asTensor(b)];
  const { y, shape } = broadcastBinary("add", "add", ta, tb);
  return record("add", y, [ta, tb], (g) => [
    ta.requiresGrad ? reduceToShape(g, shape, ta.shape) : null,
    tb.requiresGrad ? reduceToShape(g, shape, tb.shape) : null,
  ]);
}

export function sub(a: Operand, b: Operand): Tensor {
  const [ta, tb] = [asTensor(a), asTensor(b)];
  const { y, shape } = broadcastBinary("sub", "sub", ta, tb);
  return record("sub", y, [ta, tb], (g) => {
    let gb: Storage | null = null;
    if (tb.requiresGrad) {
      const neg = f32(g.length);
      backend().affine(g, neg, -1, 0);
      gb = reduceToShape(neg, shape, tb.shape);
    }
    return [ta.requiresGrad ? reduceToShape(g, shape, ta.shape) : null, gb];
  });
}

export function mul(a: Operand, b: Operand): Tensor {
  const [ta, tb] = [asTensor(a), asTensor(b)];
  const { y, shape, sa, sb } = broadcastBinary("mul", "mul", ta, tb);
  return record("mul", y, [ta, tb], (g) => [
    ta.requiresGrad ? reduceToShape(timesBroadcast(g, tb, shape, sb), shape, ta.shape) : null,
    tb.requiresGrad ? reduceToShape(timesBroadcast(g, ta, shape, sa), shape, tb.shape) : null,
  ]);
}

export function div(a: Operand, b: Operand): Tensor {
  const [ta, tb] = [asTensor(a), asTensor(b)];
  const { y, shape, sb } = broadcastBinary("div", "div", ta, tb);
  return record("div", y, [ta, tb], (g) => {
    const k = backend();
    const full = stridesOf(shape);
    let ga: Storage | null = null;
    let gb: Storage | null = null;
    if (ta.requiresGrad) {
      const r = f32(g.length);
      k.binary("div", g, tb.storage, r, shape, full, sb);
      ga = reduceToShape(r, shape, ta.shape);
    }
    if (tb.requiresGrad) {
      // d(a/b)/db = -y / b
      const r = f32(g.length);
      k.binary("mul", g, y.storage, r, shape, full, full);
      k.binary("div", r, tb.storage, r, shape, full, sb);
      k.affine(r, r, -1, 0);
      gb = reduceToShape(r, shape, tb.shape);
    }
    return [ga, gb];
  });
}

export function pow(a: Operand, b: Operand): Tensor {
  const [ta, tb] = [asTensor(a), asTensor(b)];
  const { y, shape, sa, sb } = broadcastBinary("pow", "pow", ta, tb);
  return record("pow", y, [ta, tb], (g) => {
    // rare op: a direct loop on the host over the broadcast geometry is clearer than a kernel chain
    const A = hostF32(ta.storage),
      B = hostF32(tb.storage),
      Y = hostF32(y.storage),
      G = hostF32(g);
    const n = sizeOf(shape);
    const ga = ta.requiresGrad ? new Float32Array(n) : null;
    const gb = tb.requiresGrad ? new Float32Array(n) : null;
    const idxA = expandIndex(shape, sa),
      idxB = expandIndex(shape, sb);
    for (let i = 0; i < n; i++) {
      const av = A[idxA[i]],
        bv = B[idxB[i]];
      if (ga) ga[i] = G[i] * (bv === 0 ? 0 : bv * Math.pow(av, bv - 1));
      if (gb) gb[i] = av > 0 ? G[i] * Y[i] * Math.log(av) : 0;
    }
    const up = (h: Float32Array | null, t: Tensor) => h && reduceToShape(backend().upload("f32", h), shape, t.shape);
    return [up(ga, ta), up(gb, tb)];
  });
}

/** Flat source offsets of every output element for a broadcast operand. */
function expandIndex(shape: readonly number[], strides: readonly number[]): Int32Array {
  const n = sizeOf(shape);
  const idx = new Int32Array(n);
  let i = 0;
  const rec = (d: number, off: number): void => {
    if (d === shape.length) {
      idx[i++] = off;
      return;
    }
    for (let j = 0; j < shape[d]; j++) rec(d + 1, off + j * strides[d]);
  };
  rec(0, 0);
  return idx;
}

function minMax(kind: "maximum" | "minimum", a: Operand, b: Operand): Tensor {
  const [ta, tb] = [asTensor(a), asTensor(b)];
  const { y, shape, sa, sb } = broadcastBinary(kind === "maximum" ? "max" : "min", kind, ta, tb);
  return record(kind, y, [ta, tb], (g) => {
    // as PyTorch: the winner takes the gradient, ties split it in half (a host loop: a rare op)
    const n = g.length;
    const idxA = expandIndex(shape, sa),
      idxB = expandIndex(shape, sb);
    const A = hostF32(ta.storage),
      B = hostF32(tb.storage),
      G = hostF32(g);
    const ga = new Float32Array(n),
      gb = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const av = A[idxA[i]],
        bv = B[idxB[i]];
      const aWins = kind === "maximum" ? av > bv : av < bv;
      if (av === bv) {
        ga[i] = G[i] / 2;
        gb[i] = G[i] / 2;
      } else if (aWins) ga[i] = G[i];
      else gb[i] = G[i];
    }
    return [
      ta.requiresGrad ? reduceToShape(backend().upload("f32", ga), shape, ta.shape) : null,
      tb.requiresGrad ? reduceToShape(backend().upload("f32", gb), shape, tb.shape) : null,
    ];
  });
}

export const maximum = (a: Operand, b: Operand): Tensor => minMax("maximum", a, b);
export const minimum = (a: Operand, b: Operand): Tensor => minMax("minimum", a, b);

/** Comparisons give 0/1 f32 tensors and carry no gradient. */
function compare(op: "eq" | "gt" | "lt", a: Operand, b: Operand): Tensor {
  return broadcastBinary(op, op, asTensor(a), asTensor(b)).y;
}
export const eq = (a: Operand, b: Operand): Tensor => compare("eq", a, b);
export const gt = (a: Operand, b: Operand): Tensor => compare("gt", a, b);
export const lt = (a: Operand, b: Operand): Tensor => compare("lt", a, b);

/** out = cond ? a : b, broadcasting all three; cond is any tensor (non-zero = true) and gets no gradient. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const [ta, tb] = [asTensor(a), asTensor(b)];
  requireF32("where", ta, tb);
  const c = cast(cond.detach(), "f32");
  const shape = broadcastShapes("where", broadcastShapes("where", c.shape, ta.shape), tb.shape);
  const sc = broadcastStrides(c.shape, shape);
  const y = outUninit(shape);
  backend().where(
    c.storage,
    ta.storage,
    tb.storage,
    y.storage,
    shape,
    sc,
    broadcastStrides(ta.shape, shape),
    broadcastStrides(tb.shape, shape),
  );
  return record("where", y, [ta, tb], (g) => {
    const k = backend();
    const full = stridesOf(shape);
    const zero = k.upload("f32", [0]);
    const zeroStrides = shape.map(() => 0);
    const pick = (t: Tensor, first: boolean): Storage | null => {
      if (!t.requiresGrad) return null;
      const r = f32(g.length);
      if (first) k.where(c.storage, g, zero, r, shape, sc, full, zeroStrides);
      else k.where(c.storage, zero, g, r, shape, sc, zeroStrides, full);
      return reduceToShape(r, shape, t.shape);
    };
    return [pick(ta, true), pick(tb, false)];
  });
}

/** Fills positions where mask is non-zero with `value` (e.g. -inf for attention). */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  return where(mask, value, x);
}

function unaryOp(
  primitive:
    | "neg"
    | "exp"
    | "log"
    | "sqrt"
    | "rsqrt"
    | "tanh"
    | "sigmoid"
    | "relu"
    | "gelu"
    | "gelu_tanh"
    | "silu"
    | "abs"
    | "square"
    | "reciprocal"
    | "powScalar",
  op: UnaryOp,
  x: Tensor,
  param = 0,
): Tensor {
  requireF32(primitive, x);
  const y = outUninit(x.shape);
  backend().unary(op, x.storage, y.storage, param);
  return record(primitive, y, [x], (g) => {
    const dx = f32(g.length);
    backend().unaryBackward(op, x.storage, y.storage, g, dx, param);
    return [dx];
  });
}

export const neg = (x: Tensor): Tensor => unaryOp("neg", "neg", x);
export const exp = (x: Tensor): Tensor => unaryOp("exp", "exp", x);
export const log = (x: Tensor): Tensor => unaryOp("log", "log", x);
export const sqrt = (x: Tensor): Tensor => unaryOp("sqrt", "sqrt", x);
export const rsqrt = (x: Tensor): Tensor => unaryOp("rsqrt", "rsqrt", x);
export const tanh = (x: Tensor): Tensor => unaryOp("tanh", "tanh", x);
export const sigmoid = (x: Tensor): Tensor => unaryOp("sigmoid", "sigmoid", x);
export const relu = (x: Tensor): Tensor => unaryOp("relu", "relu", x);
/** GELU, exact erf form (BERT's "gelu"). */
export const gelu = (x: Tensor): Tensor => unaryOp("gelu", "gelu", x);
/** GELU, tanh approximation (GPT-2's "gelu_new"). */
export const geluTanh = (x: Tensor): Tensor => unaryOp("gelu_tanh", "gelu_tanh", x);
export const silu = (x: Tensor): Tensor => unaryOp("silu", "silu", x);
export const abs = (x: Tensor): Tensor => unaryOp("abs", "abs", x);
export const square = (x: Tensor): Tensor => unaryOp("square", "square", x);
export const reciprocal = (x: Tensor): Tensor => unaryOp("reciprocal", "reciprocal", x);
export const powScalar = (x: Tensor, p: number): Tensor => unaryOp("powScalar", "pow", x, p);

/** alpha * x + beta, one pass (scaling and shifting by constants). */
export function affine(x: Tensor, alpha: number, beta = 0): Tensor {
  requireF32("affine", x);
  const y = outUninit(x.shape);
  backend().affine(x.storage, y.storage, alpha, beta);
  return record("affine", y, [x], (g) => {
    const dx = f32(g.length);
    backend().affine(g, dx, alpha, 0);
    return [dx];
  });
}

export const scale = (x: Tensor, alpha: number): Tensor => affine(x, alpha, 0);
