import { erf } from "../../util/math.js";
import type { BinaryOp, F32, UnaryOp } from "../backend.js";

const SQRT_2_OVER_PI = 0.7978845608028654;
const INV_SQRT_2 = 0.7071067811865476;
const INV_SQRT_2PI = 0.3989422804014327;

export function unaryScalar(op: UnaryOp, x: number, param: number): number {
  switch (op) {
    case "neg":
      return -x;
    case "exp":
      return Math.exp(x);
    case "log":
      return Math.log(x);
    case "sqrt":
      return Math.sqrt(x);
    case "rsqrt":
      return 1 / Math.sqrt(x);
    case "tanh":
      return Math.tanh(x);
    case "sigmoid":
      return 1 / (1 + Math.exp(-x));
    case "relu":
      return x > 0 ? x : 0;
    case "gelu":
      return 0.5 * x * (1 + erf(x * INV_SQRT_2));
    case "gelu_tanh":
      return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
    case "silu":
      return x / (1 + Math.exp(-x));
    case "abs":
      return Math.abs(x);
    case "square":
      return x * x;
    case "reciprocal":
      return 1 / x;
    case "pow":
      return Math.pow(x, param);
  }
}

/** d op(x) / dx, given x and y = op(x). */
export function unaryDerivative(op: UnaryOp, x: number, y: number, param: number): number {
  switch (op) {
    case "neg":
      return -1;
    case "exp":
      return y;
    case "log":
      return 1 / x;
    case "sqrt":
      return 0.5 / y;
    case "rsqrt":
      return -0.5 * y * y * y;
    case "tanh":
      return 1 - y * y;
    case "sigmoid":
      return y * (1 - y);
    case "relu":
      return x > 0 ? 1 : 0;
    case "gelu":
      return 0.5 * (1 + erf(x * INV_SQRT_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    case "gelu_tanh": {
      const u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
      const t = Math.tanh(u);
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
    }
    case "silu": {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 + x * (1 - s));
    }
    case "abs":
      return x > 0 ? 1 : x < 0 ? -1 : 0;
    case "square":
      return 2 * x;
    case "reciprocal":
      return -y * y;
    case "pow":
      return param === 0 ? 0 : param * Math.pow(x, param - 1);
  }
}

export function unary(op: UnaryOp, x: F32, out: F32, param: number): void {
  for (let i = 0; i < x.length; i++) out[i] = unaryScalar(op, x[i], param);
}

export function unaryBackward(op: UnaryOp, x: F32, y: F32, dy: F32, dx: F32, param: number): void {
  for (let i = 0; i < x.length; i++) dx[i] = dy[i] * unaryDerivative(op, x[i], y[i], param);
}

export function binaryScalar(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case "add":
      return a + b;
    case "sub":
      return a - b;
    case "mul":
      return a * b;
    case "div":
      return a / b;
    case "max":
      return a > b ? a : b;
    case "min":
      return a < b ? a : b;
    case "pow":
      return Math.pow(a, b);
    case "eq":
      return a === b ? 1 : 0;
    case "gt":
      return a > b ? 1 : 0;
    case "lt":
      return a < b ? 1 : 0;
  }
}

/**
 * Walks every index of `shape` in row-major order, calling visit(outIndex, offsets...) with the flat offsets
 * into each strided operand. The innermost axis is a tight loop; outer axes advance an odometer.
 */
export function forEachStrided(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  visit: (i: number, offs: Int32Array | number[]) => void,
): void {
  const nd = shape.length;
  const nOps = strides.length;
  const total = shape.reduce((p, d) => p * d, 1);
  if (total === 0) return;
  const offs = new Array<number>(nOps).fill(0);
  if (nd === 0) {
    visit(0, offs);
    return;
  }
  const idx = new Array<number>(nd).fill(0);
  const last = nd - 1;
  const inner = shape[last];
  const innerStrides = strides.map((s) => s[last]);
  let i = 0;
  const cur = new Array<number>(nOps).fill(0);
  while (i < total) {
    for (let t = 0; t < nOps; t++) cur[t] = offs[t];
    for (let j = 0; j < inner; j++) {
      visit(i++, cur);
      for (let t = 0; t < nOps; t++) cur[t] += innerStrides[t];
    }
    // advance the odometer over the outer axes
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      for (let t = 0; t < nOps; t++) offs[t] += strides[t][d];
      if (idx[d] < shape[d]) break;
      for (let t = 0; t < nOps; t++) offs[t] -= strides[t][d] * shape[d];
      idx[d] = 0;
    }
  }
}

export function binary(
  op: BinaryOp,
  a: F32,
  b: F32,
  out: F32,
  shape: readonly number[],
  aStrides: readonly number[],
  bStrides: readonly number[],
): void {
  forEachStrided(shape, [aStrides, bStrides], (i, o) => {
    out[i] = binaryScalar(op, a[o[0]], b[o[1]]);
  });
}

export function where(
  cond: F32,
  a: F32,
  b: F32,
  out: F32,
  shape: readonly number[],
  cStrides: readonly number[],
  aStrides: readonly number[],
  bStrides: readonly number[],
): void {
  forEachStrided(shape, [cStrides, aStrides, bStrides], (i, o) => {
    out[i] = cond[o[0]] !== 0 ? a[o[1]] : b[o[2]];
  });
}
