/**
 * Shrinkage covariance as scikit-learn's LedoitWolf computes it (sklearn/covariance/_shrunk_covariance.py): the
 * empirical covariance S of the centred rows pulled towards μ·I (μ = trace(S)/d) by the shrinkage
 *   β / δ,  δ = ‖S − μI‖²_F / d,  β = min(δ, (1/(d·n)) · (Σ_k ‖x_k‖⁴_{(2)} / n − ‖S‖²_F) )
 * where ‖x_k‖⁴_{(2)} = (Σ_j x_kj²)². Its precision (the inverse, through Cholesky) gives the squared Mahalanobis
 * distance (x − m)ᵀ P (x − m), scikit-learn's `mahalanobis`. Rows are a dense row-major Float64Array n × d.
 */
import { ArgumentError } from "../../util/errors.js";

export interface ShrunkCovariance {
  d: number;
  location: Float64Array;
  /** d × d, row-major. */
  covariance: Float64Array;
  precision: Float64Array;
  shrinkage: number;
}

/** Column means of n × d rows. */
export function columnMeans(x: Float64Array, n: number, d: number): Float64Array {
  const m = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) m[j] += x[i * d + j];
  for (let j = 0; j < d; j++) m[j] /= n;
  return m;
}

/** Ledoit-Wolf covariance, shrinkage and precision of n × d rows (n ≥ 2). */
export function ledoitWolf(x: Float64Array, n: number, d: number): ShrunkCovariance {
  if (n < 2) throw new ArgumentError(`Ledoit-Wolf needs at least 2 rows, got ${n}`);
  if (x.length !== n * d) throw new ArgumentError(`Ledoit-Wolf: ${x.length} values for ${n} × ${d}`);
  const location = columnMeans(x, n, d);
  const c = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) c[i * d + j] = x[i * d + j] - location[j];
  // empirical covariance S = Cᵀ C / n (upper triangle, then mirrored)
  const s = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let a = 0; a < d; a++) {
      const va = c[o + a];
      if (va === 0) continue;
      const row = a * d;
      for (let b = a; b < d; b++) s[row + b] += va * c[o + b];
    }
  }
  for (let a = 0; a < d; a++)
    for (let b = a; b < d; b++) {
      s[a * d + b] /= n;
      s[b * d + a] = s[a * d + b];
    }
  let trace = 0;
  for (let a = 0; a < d; a++) trace += s[a * d + a];
  const mu = trace / d;
  // β_ = Σ_k (Σ_j x_kj²)², δ_ = ‖Cᵀ C‖²_F / n² = ‖S‖²_F
  let betaSum = 0;
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let j = 0; j < d; j++) r += c[i * d + j] * c[i * d + j];
    betaSum += r * r;
  }
  let frob = 0;
  for (let k = 0; k < d * d; k++) frob += s[k] * s[k];
  let beta = (betaSum / n - frob) / (d * n);
  const delta = (frob - 2 * mu * trace + d * mu * mu) / d;
  beta = Math.min(beta, delta);
  const shrinkage = beta === 0 ? 0 : beta / delta;
  const covariance = new Float64Array(d * d);
  for (let k = 0; k < d * d; k++) covariance[k] = (1 - shrinkage) * s[k];
  for (let a = 0; a < d; a++) covariance[a * d + a] += shrinkage * mu;
  return { d, location, covariance, precision: spdInverse(covariance, d), shrinkage };
}

/**
 * Inverse of a symmetric positive (semi-)definite d × d matrix through Cholesky; a singular matrix gets the
 * smallest diagonal jitter (1e-10 × its mean diagonal, ×10 until it factors) that makes it definite.
 */
export function spdInverse(a: Float64Array, d: number): Float64Array {
  let meanDiag = 0;
  for (let i = 0; i < d; i++) meanDiag += a[i * d + i] / d;
  for (let jitter = 0, tries = 0; tries < 12; tries++, jitter = jitter === 0 ? 1e-10 * (meanDiag || 1) : jitter * 10) {
    const l = cholesky(a, d, jitter);
    if (l) return inverseFromCholesky(l, d);
  }
  throw new ArgumentError("the covariance matrix is not positive definite (constant or duplicated features?)");
}

function cholesky(a: Float64Array, d: number, jitter: number): Float64Array | null {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * d + j] + (i === j ? jitter : 0);
      for (let k = 0; k < j; k++) sum -= l[i * d + k] * l[j * d + k];
      if (i === j) {
        if (!(sum > 0)) return null;
        l[i * d + i] = Math.sqrt(sum);
      } else l[i * d + j] = sum / l[j * d + j];
    }
  }
  return l;
}

/** (L Lᵀ)⁻¹ = L⁻ᵀ L⁻¹ from the lower factor L. */
function inverseFromCholesky(l: Float64Array, d: number): Float64Array {
  const linv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    linv[i * d + i] = 1 / l[i * d + i];
    for (let j = 0; j < i; j++) {
      let sum = 0;
      for (let k = j; k < i; k++) sum -= l[i * d + k] * linv[k * d + j];
      linv[i * d + j] = sum / l[i * d + i];
    }
  }
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = i; k < d; k++) sum += linv[k * d + i] * linv[k * d + j];
      inv[i * d + j] = sum;
      inv[j * d + i] = sum;
    }
  return inv;
}

/** Squared Mahalanobis distance of each of the n rows to the fitted location (scikit-learn's `mahalanobis`). */
export function mahalanobis(cov: ShrunkCovariance, x: Float64Array, n: number): Float64Array {
  const { d, location, precision } = cov;
  const out = new Float64Array(n);
  const diff = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) diff[j] = x[i * d + j] - location[j];
    let q = 0;
    for (let a = 0; a < d; a++) {
      let r = 0;
      const row = a * d;
      for (let b = 0; b < d; b++) r += precision[row + b] * diff[b];
      q += diff[a] * r;
    }
    out[i] = q;
  }
  return out;
}
