/**
 * Row products of plain host matrices through the backend's GEMM, for the vector algorithms of data/vectors (exact
 * search, k-means, near-duplicates), which work on typed arrays and may not import the engine: a caller above both
 * layers hands `rowProducts` to them. Always fp32 (whatever `withPrecision` says), never recorded for autograd.
 */
import { ShapeError } from "../../util/errors.js";
import { backend } from "../../backend/index.js";

/**
 * a·bᵀ for a (m×k) and b (n×k), both row-major: an m×n Float32Array. Float64 inputs are rounded to fp32 first; each
 * entry then differs from the exact product by at most about (k + 2)·2⁻²⁴·|aᵢ|·|bⱼ| (fp32 accumulation in any order).
 */
export function rowProducts(
  a: Float32Array | Float64Array,
  m: number,
  b: Float32Array | Float64Array,
  n: number,
  k: number,
): Float32Array {
  if (a.length !== m * k || b.length !== n * k)
    throw new ShapeError(`rowProducts: ${a.length} and ${b.length} values do not make ${m}×${k} and ${n}×${k}`);
  if (m === 0 || n === 0) return new Float32Array(m * n);
  const be = backend();
  // upload copies (a CPU backend would otherwise keep the caller's array as its storage)
  const sa = be.upload("f32", a instanceof Float32Array ? a.slice() : Float32Array.from(a));
  const sb = be.upload("f32", b instanceof Float32Array ? b.slice() : Float32Array.from(b));
  const out = be.allocate("f32", m * n, k === 0);
  if (k > 0) be.matmul(sa, sb, out, { batch: 1, m, n, k, transA: false, transB: true, bf16: false });
  return be.download(out) as Float32Array;
}
