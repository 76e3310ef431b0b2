/**
 * Int8 inference kernels, the reference: per-row symmetric quantization, the packed weight layout and the int8
 * linear layer with exact int32 accumulation (see Kernels.quantizeRows / packInt8 / qlinear and
 * native/kernels/qgemm.h, which must agree with this file bit for bit).
 */
import type { F32, QLinearParams } from "../backend.js";

const fr = Math.fround;
const MAGIC = 12582912; // 1.5 · 2^23: (v + MAGIC) − MAGIC rounds an fp32 |v| <= 2^22 half to even

function quantizeRow(x: F32, off: number, cols: number, q: Int8Array | Int16Array, qOff: number): number {
  let amax = 0;
  for (let c = 0; c < cols; c++) amax = Math.max(amax, Math.abs(x[off + c]));
  const inv = amax > 0 ? fr(127 / amax) : 0;
  for (let c = 0; c < cols; c++) {
    const r = fr(fr(fr(x[off + c] * inv) + MAGIC) - MAGIC);
    q[qOff + c] = Math.min(127, Math.max(-127, r));
  }
  return fr(amax / 127);
}

export function quantizeRows(x: F32, q: Int8Array, scales: F32, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) scales[r] = quantizeRow(x, r * cols, cols, q, r * cols);
}

export function packInt8(q: Int8Array, packed: Int8Array, n: number, k: number): void {
  const kp = Math.ceil(k / 2);
  const panels = Math.ceil(n / 16);
  for (let jp = 0; jp < panels; jp++)
    for (let p = 0; p < kp; p++)
      for (let h = 0; h < 2; h++)
        for (let c = 0; c < 8; c++)
          for (let e = 0; e < 2; e++) {
            const j = jp * 16 + h * 8 + c;
            const kk = 2 * p + e;
            packed[((jp * kp + p) * 2 + h) * 16 + c * 2 + e] = j < n && kk < k ? q[j * k + kk] : 0;
          }
}

export function qlinear(
  x: F32,
  packed: Int8Array,
  wScales: F32,
  bias: F32 | null,
  out: F32,
  { rows, n, k }: QLinearParams,
): void {
  const kp = Math.ceil(k / 2);
  const qx = new Int16Array(k);
  for (let i = 0; i < rows; i++) {
    const sx = quantizeRow(x, i * k, k, qx, 0);
    for (let j = 0; j < n; j++) {
      // packed element of W[j, kk]: panel j>>4, half (j>>3)&1, column j&7
      const base = ((j >> 4) * kp * 2 + ((j >> 3) & 1)) * 16 + (j & 7) * 2;
      let acc = 0; // exact: |acc| <= 127² · k < 2^53
      for (let kk = 0; kk < k; kk++) acc += qx[kk] * packed[base + (kk >> 1) * 32 + (kk & 1)];
      const v = fr(fr(acc) * fr(sx * wScales[j]));
      out[i * n + j] = bias ? fr(v + bias[j]) : v;
    }
  }
}
