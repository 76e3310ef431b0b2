import type { F32, MatmulParams } from "../backend.js";
import { roundedBf16 } from "./bf16.js";

/**
 * Reference GEMM: out[b] (+)= op(A[b]) · op(B[b]). Loops are ordered so the innermost loop runs over
 * contiguous memory for every transpose combination; accumulation is in f32 like the native kernels. With p.bf16
 * the operands are first rounded to bfloat16 (the product itself stays f32).
 */
export function matmul(a: F32, b: F32, out: F32, p: MatmulParams): void {
  if (p.bf16) {
    a = roundedBf16(a);
    b = roundedBf16(b);
  }
  const { batch, m, n, k, transA, transB } = p;
  const sA = p.strideA ?? m * k;
  const sB = p.strideB ?? k * n;
  const row = new Float32Array(n);
  for (let bi = 0; bi < batch; bi++) {
    const oA = bi * sA;
    const oB = bi * sB;
    const oC = bi * m * n;
    for (let i = 0; i < m; i++) {
      if (!transB) {
        row.fill(0);
        for (let kk = 0; kk < k; kk++) {
          const av = transA ? a[oA + kk * m + i] : a[oA + i * k + kk];
          if (av === 0) continue;
          const bRow = oB + kk * n;
          for (let j = 0; j < n; j++) row[j] += av * b[bRow + j];
        }
      } else {
        for (let j = 0; j < n; j++) {
          let s = 0;
          const bRow = oB + j * k;
          if (!transA) {
            const aRow = oA + i * k;
            for (let kk = 0; kk < k; kk++) s += a[aRow + kk] * b[bRow + kk];
          } else {
            for (let kk = 0; kk < k; kk++) s += a[oA + kk * m + i] * b[bRow + kk];
          }
          row[j] = s;
        }
      }
      const cRow = oC + i * n;
      if (p.accumulate) for (let j = 0; j < n; j++) out[cRow + j] += row[j];
      else for (let j = 0; j < n; j++) out[cRow + j] = row[j];
    }
  }
}
