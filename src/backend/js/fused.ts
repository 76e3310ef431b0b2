/**
 * Reference versions of the fused kernels: what the native backend computes in one pass, written as the plain
 * composition of the unfused steps (scale, mask, softmax; bias, activation), so parity tests pin the fusion down.
 */
import type { Activation, AttentionSoftmaxParams, F32, I32 } from "../backend.js";
import { unaryDerivative, unaryScalar } from "./elementwise.js";

export function attentionSoftmax(
  x: F32,
  keep: F32 | null,
  out: F32,
  p: AttentionSoftmaxParams,
  segments: I32 | null = null,
): void {
  const { batch, heads, queries, keys, scale, causal } = p;
  const offset = keys - queries;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let q = 0; q < queries; q++) {
        const o = ((b * heads + h) * queries + q) * keys;
        const own = segments === null ? 0 : segments[b * keys + q + offset];
        const visible = (k: number): boolean =>
          (keep === null || keep[b * keys + k] !== 0) &&
          (!causal || k <= q + offset) &&
          (segments === null || segments[b * keys + k] === own);
        let max = -Infinity;
        for (let k = 0; k < keys; k++) if (visible(k) && scale * x[o + k] > max) max = scale * x[o + k];
        if (max === -Infinity) max = 0;
        let sum = 0;
        for (let k = 0; k < keys; k++) if (visible(k)) sum += Math.exp(scale * x[o + k] - max);
        const inv = sum > 0 ? 1 / sum : 0;
        for (let k = 0; k < keys; k++) out[o + k] = visible(k) ? Math.exp(scale * x[o + k] - max) * inv : 0;
      }
    }
  }
}

export function attentionSoftmaxBackward(y: F32, dy: F32, dx: F32, rows: number, cols: number, scale: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += dy[o + c] * y[o + c];
    for (let c = 0; c < cols; c++) dx[o + c] = scale * y[o + c] * (dy[o + c] - dot);
  }
}

function activate(act: Activation, h: number): number {
  return act === "identity" ? h : unaryScalar(act, h, 0);
}

function activationGrad(act: Activation, h: number): number {
  if (act === "identity") return 1;
  return unaryDerivative(act, h, unaryScalar(act, h, 0), 0);
}

export function biasActivation(act: Activation, x: F32, bias: F32, out: F32, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) out[o + c] = activate(act, x[o + c] + bias[c]);
  }
}

export function biasActivationBackward(
  act: Activation,
  x: F32,
  bias: F32,
  dy: F32,
  dx: F32,
  dbias: F32,
  rows: number,
  cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) {
      const d = dy[o + c] * activationGrad(act, x[o + c] + bias[c]);
      dx[o + c] = d;
      dbias[c] += d;
    }
  }
}
