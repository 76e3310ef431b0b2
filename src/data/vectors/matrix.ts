/**
 * A row-major matrix of vectors on a plain typed array (n rows of d values), what the vector algorithms read:
 * k-means, HDBSCAN, exact and HNSW search. Helpers to build one, normalize rows and take squared distances.
 */
import { ArgumentError } from "../../util/errors.js";

export type Values = Float32Array | Float64Array;

export interface Matrix {
  data: Values;
  /** Rows. */
  n: number;
  /** Columns (the dimension of each vector). */
  d: number;
}

/** A matrix from rows of equal length (copied into a Float32Array, or Float64Array with `f64`). */
export function matrixFromRows(rows: readonly (readonly number[] | Values)[], f64 = false): Matrix {
  const n = rows.length;
  const d = n ? rows[0].length : 0;
  const data = f64 ? new Float64Array(n * d) : new Float32Array(n * d);
  rows.forEach((r, i) => {
    if (r.length !== d) throw new ArgumentError(`vector ${i + 1} has ${r.length} values, vector 1 has ${d}`);
    data.set(r, i * d);
  });
  return { data, n, d };
}

/** Checks that the data holds n·d finite values (errors name the first bad row). */
export function checkMatrix(m: Matrix, what = "vectors"): void {
  if (!Number.isInteger(m.n) || !Number.isInteger(m.d) || m.n < 0 || m.d < 1 || m.data.length !== m.n * m.d)
    throw new ArgumentError(`${what}: ${m.data.length} values do not make ${m.n} rows of ${m.d}`);
  for (let i = 0; i < m.data.length; i++)
    if (!Number.isFinite(m.data[i]))
      throw new ArgumentError(`${what}: row ${Math.floor(i / m.d) + 1} holds a non-finite value (${m.data[i]})`);
}

/** Row i as a view (no copy). */
export function row(m: Matrix, i: number): Values {
  return m.data.subarray(i * m.d, (i + 1) * m.d);
}

/** A copy with every row scaled to unit length (zero rows stay zero), so a dot product is the cosine. */
export function normalizeRows(m: Matrix): Matrix {
  const out = new Float32Array(m.n * m.d);
  for (let i = 0; i < m.n; i++) {
    const o = i * m.d;
    let s = 0;
    for (let j = 0; j < m.d; j++) s += m.data[o + j] * m.data[o + j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < m.d; j++) out[o + j] = m.data[o + j] * inv;
  }
  return { data: out, n: m.n, d: m.d };
}

/** Squared norms of the rows. */
export function rowNorms2(m: Matrix): Float64Array {
  const out = new Float64Array(m.n);
  for (let i = 0; i < m.n; i++) {
    let s = 0;
    const o = i * m.d;
    for (let j = 0; j < m.d; j++) s += m.data[o + j] * m.data[o + j];
    out[i] = s;
  }
  return out;
}

/** Dot product of a[ao..ao+d) and b[bo..bo+d). */
export function dotAt(a: Values, ao: number, b: Values, bo: number, d: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  let j = 0;
  for (; j + 3 < d; j += 4) {
    s0 += a[ao + j] * b[bo + j];
    s1 += a[ao + j + 1] * b[bo + j + 1];
    s2 += a[ao + j + 2] * b[bo + j + 2];
    s3 += a[ao + j + 3] * b[bo + j + 3];
  }
  for (; j < d; j++) s0 += a[ao + j] * b[bo + j];
  return s0 + s1 + s2 + s3;
}

/** Squared Euclidean distance of a[ao..) and b[bo..). */
export function dist2At(a: Values, ao: number, b: Values, bo: number, d: number): number {
  let s0 = 0,
    s1 = 0;
  let j = 0;
  for (; j + 1 < d; j += 2) {
    const x = a[ao + j] - b[bo + j];
    const y = a[ao + j + 1] - b[bo + j + 1];
    s0 += x * x;
    s1 += y * y;
  }
  if (j < d) {
    const x = a[ao + j] - b[bo + j];
    s0 += x * x;
  }
  return s0 + s1;
}

/**
 * a·bᵀ of row-major a (m×k) and b (n×k) as an m×n Float32Array: what the blocked algorithms (exact search, k-means,
 * near-duplicates) take to compute a block of inner products in one matrix product. tensor/'s `rowProducts` is one
 * on the engine's GEMM; this layer may not import it, so callers above pass it in.
 */
export type RowProducts = (a: Values, m: number, b: Values, n: number, k: number) => Float32Array;

/**
 * How far an fp32 product of length-k rows may be from the exact one, as a multiple of |a|·|b|: twice the classic
 * bound (k + 2)·2⁻²⁴ of a float32 dot product summed in any order (the +2 covers rounding float64 inputs to fp32).
 * Candidates whose approximate score misses the cut by more than this are skipped; the rest are re-scored exactly,
 * so the results equal those of the exact loops.
 */
export function productSlack(k: number): number {
  return (k + 2) * 2 ** -23;
}

/** Square roots of the squared norms. */
export function sqrtAll(norms2: Float64Array): Float64Array {
  return norms2.map(Math.sqrt);
}
