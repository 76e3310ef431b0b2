/**
 * Scores that estimate how well a pre-trained model's frozen features suit a task, without fine-tuning it:
 * LogME (You et al., ICML 2021: the log marginal evidence of Bayesian linear regression on the features, maximized
 * over its prior and noise precisions by a fixed-point iteration, one one-hot target per class, averaged), LEEP
 * (Nguyen et al., ICML 2020: the log expected empirical prediction through a source classifier's head), and two
 * cross-validated probes (k nearest neighbours by cosine similarity, and a ridge linear probe). Kendall's τ-b
 * compares a ranking by estimate with a ranking by fine-tuned result. Features are row-major n×d Float64Arrays.
 */
import { ArgumentError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { choleskySolve, gram, outerGram, symmetricEigen } from "./linalg.js";

/** A labelled feature matrix: n rows of d features and a class id per row. */
export interface Features {
  x: Float64Array;
  n: number;
  d: number;
  /** Class id of each row, in [0, classes). */
  y: Int32Array;
  classes: number;
}

/** The reference implementation's guard against division by zero. */
const EPSILON = 1e-5;

function checkFeatures(f: Features, where: string): void {
  if (f.x.length !== f.n * f.d)
    throw new ArgumentError(`${where}: ${f.n}×${f.d} features need ${f.n * f.d} values, got ${f.x.length}`);
  if (f.y.length !== f.n) throw new ArgumentError(`${where}: ${f.n} rows but ${f.y.length} labels`);
  if (f.n < 2) throw new ArgumentError(`${where}: needs at least 2 examples, got ${f.n}`);
  for (let i = 0; i < f.x.length; i++)
    if (!Number.isFinite(f.x[i]))
      throw new ArgumentError(`${where}: feature ${i % f.d} of row ${Math.floor(i / f.d)} is ${f.x[i]}`);
  for (let i = 0; i < f.n; i++)
    if (!(f.y[i] >= 0 && f.y[i] < f.classes))
      throw new ArgumentError(`${where}: label ${f.y[i]} of row ${i} is outside [0, ${f.classes})`);
}

/** LogME of one class's target column: evidence / n with the maximizing α (prior) and β (noise) precisions. */
export interface LogMEClass {
  evidence: number;
  alpha: number;
  beta: number;
}

/**
 * LogME: for each class c, y = [label == c] regressed on the features; α, β by the fixed-point updates
 * γ = Σ s/(s + α/β), m = β A⁻¹ Fᵀy, α = γ / mᵀm, β = (n − γ) / ‖y − Fm‖² (at most 11 rounds, stopping when α/β
 * moves by under 1%), the evidence from the eigenvalues s of FᵀF; the score is the mean over classes of evidence / n.
 * The eigendecomposition is of FᵀF (d×d) or, with fewer rows than features, of FFᵀ (n×n): the same spectrum.
 */
export function logme(f: Features): { score: number; perClass: LogMEClass[] } {
  checkFeatures(f, "logme");
  const { x, n, d } = f;
  const dual = n < d;
  const k = dual ? n : d;
  const eig = dual ? symmetricEigen(outerGram(x, n, d), n) : symmetricEigen(gram(x, n, d), d);
  // singular values of the symmetric PSD matrix (as the reference's svd gives them)
  const s = Float64Array.from(eig.values, Math.abs);
  const V = eig.vectors;
  const perClass: LogMEClass[] = [];
  for (let c = 0; c < f.classes; c++) {
    const y = Float64Array.from(f.y, (l) => (l === c ? 1 : 0));
    // tmp = Vᵀ Fᵀ y (primal) or √σ Uᵀ y (dual)
    const tmp = new Float64Array(k);
    if (!dual) {
      const fty = new Float64Array(d);
      for (let r = 0; r < n; r++) if (y[r] !== 0) for (let j = 0; j < d; j++) fty[j] += x[r * d + j] * y[r];
      for (let i = 0; i < d; i++) {
        let t = 0;
        for (let j = 0; j < d; j++) t += V[j * d + i] * fty[j];
        tmp[i] = t;
      }
    } else {
      for (let i = 0; i < n; i++) {
        let t = 0;
        for (let r = 0; r < n; r++) t += V[r * n + i] * y[r];
        tmp[i] = Math.sqrt(s[i]) * t;
      }
    }
    const fittedInto = (coef: Float64Array, out: Float64Array) => {
      out.fill(0);
      if (!dual) {
        const m = new Float64Array(d);
        for (let j = 0; j < d; j++) {
          let t = 0;
          for (let i = 0; i < d; i++) t += V[j * d + i] * coef[i];
          m[j] = t;
        }
        for (let r = 0; r < n; r++) {
          let t = 0;
          for (let j = 0; j < d; j++) t += x[r * d + j] * m[j];
          out[r] = t;
        }
      } else {
        for (let i = 0; i < n; i++) {
          const w = coef[i] * Math.sqrt(s[i]);
          if (w === 0) continue;
          for (let r = 0; r < n; r++) out[r] += V[r * n + i] * w;
        }
      }
    };
    let alpha = 1;
    let beta = 1;
    let lam = alpha / beta;
    let alphaDe = 0;
    let betaDe = 0;
    const coef = new Float64Array(k);
    const fm = new Float64Array(n);
    for (let it = 0; it < 11; it++) {
      let gamma = 0;
      for (let i = 0; i < k; i++) gamma += s[i] / (s[i] + lam);
      alphaDe = 0;
      for (let i = 0; i < k; i++) {
        coef[i] = (tmp[i] * beta) / (alpha + beta * s[i]);
        alphaDe += coef[i] * coef[i]; // ‖m‖² = ‖c‖² (V orthonormal)
      }
      alpha = gamma / (alphaDe + EPSILON);
      fittedInto(coef, fm);
      betaDe = 0;
      for (let r = 0; r < n; r++) betaDe += (y[r] - fm[r]) ** 2;
      beta = (n - gamma) / (betaDe + EPSILON);
      const newLam = alpha / beta;
      if (Math.abs(newLam - lam) / lam < 0.01) break;
      lam = newLam;
    }
    let logDet = (d - k) * Math.log(alpha); // the zero eigenvalues of FᵀF that the dual form does not list
    for (let i = 0; i < k; i++) logDet += Math.log(alpha + beta * s[i]);
    const evidence =
      (d / 2) * Math.log(alpha) +
      (n / 2) * Math.log(beta) -
      0.5 * logDet -
      (beta / 2) * (betaDe + EPSILON) -
      (alpha / 2) * (alphaDe + EPSILON) -
      (n / 2) * Math.log(2 * Math.PI);
    perClass.push({ evidence: evidence / n, alpha, beta });
  }
  return { score: perClass.reduce((a, p) => a + p.evidence, 0) / perClass.length, perClass };
}

/**
 * LEEP: θ (n×z, each row a source head's probabilities over its z labels), the empirical joint P(y, z) of target
 * label and source label, and the mean log of Σ_z P(y_i | z) θ_iz. Higher is better; at most 0.
 */
export function leep(theta: Float64Array, z: number, y: Int32Array, classes: number): number {
  const n = y.length;
  if (theta.length !== n * z)
    throw new ArgumentError(`leep: ${n} rows of ${z} source probabilities need ${n * z} values, got ${theta.length}`);
  const joint = new Float64Array(classes * z);
  for (let i = 0; i < n; i++) for (let j = 0; j < z; j++) joint[y[i] * z + j] += theta[i * z + j] / n;
  const marginal = new Float64Array(z);
  for (let c = 0; c < classes; c++) for (let j = 0; j < z; j++) marginal[j] += joint[c * z + j];
  let total = 0;
  for (let i = 0; i < n; i++) {
    let p = 0;
    for (let j = 0; j < z; j++) if (marginal[j] > 0) p += (joint[y[i] * z + j] / marginal[j]) * theta[i * z + j];
    total += Math.log(p);
  }
  return total / n;
}

/** Row indices of each fold: a seeded shuffle dealt round-robin. */
export function foldsOf(n: number, folds: number, seed: number): number[][] {
  if (!(folds >= 2 && folds <= n))
    throw new ArgumentError(`cross-validation needs 2 ≤ folds ≤ examples (${n}), got ${folds}`);
  const idx = Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const out: number[][] = Array.from({ length: folds }, () => []);
  idx.forEach((r, i) => out[i % folds].push(r));
  return out;
}

/** Cross-validated accuracy of k nearest neighbours by cosine similarity (votes tied: the larger similarity sum). */
export function knnScore(f: Features, opts: { k?: number; folds?: number; seed?: number } = {}): number {
  checkFeatures(f, "knn");
  const { x, n, d } = f;
  const k = opts.k ?? 5;
  const norm = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[r * d + j] ** 2;
    norm[r] = Math.sqrt(s) || 1;
  }
  let correct = 0;
  for (const test of foldsOf(n, Math.min(opts.folds ?? 5, n), opts.seed ?? 0)) {
    const held = new Set(test);
    const train = Array.from({ length: n }, (_, i) => i).filter((i) => !held.has(i));
    for (const q of test) {
      const sims = train.map((r) => {
        let s = 0;
        for (let j = 0; j < d; j++) s += x[q * d + j] * x[r * d + j];
        return { r, s: s / (norm[q] * norm[r]) };
      });
      sims.sort((a, b) => b.s - a.s || a.r - b.r);
      const votes = new Float64Array(f.classes);
      const weight = new Float64Array(f.classes);
      for (const { r, s } of sims.slice(0, k)) {
        votes[f.y[r]]++;
        weight[f.y[r]] += s;
      }
      let best = 0;
      for (let c = 1; c < f.classes; c++)
        if (votes[c] > votes[best] || (votes[c] === votes[best] && weight[c] > weight[best])) best = c;
      if (best === f.y[q]) correct++;
    }
  }
  return correct / n;
}

/**
 * Cross-validated accuracy of a ridge linear probe: features standardized on the training folds, one-hot targets,
 * W = (XᵀX + λ n I)⁻¹ XᵀY (λ = `ridge`, default 1e-2), the class of the largest output.
 */
export function linearProbeScore(f: Features, opts: { ridge?: number; folds?: number; seed?: number } = {}): number {
  checkFeatures(f, "linear probe");
  const { x, n, d } = f;
  const ridge = opts.ridge ?? 1e-2;
  const C = f.classes;
  let correct = 0;
  for (const test of foldsOf(n, Math.min(opts.folds ?? 5, n), opts.seed ?? 0)) {
    const held = new Set(test);
    const train = Array.from({ length: n }, (_, i) => i).filter((i) => !held.has(i));
    const m = train.length;
    const mean = new Float64Array(d);
    const sd = new Float64Array(d);
    for (const r of train) for (let j = 0; j < d; j++) mean[j] += x[r * d + j] / m;
    for (const r of train) for (let j = 0; j < d; j++) sd[j] += (x[r * d + j] - mean[j]) ** 2 / m;
    for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]) || 1;
    const xs = new Float64Array(m * d);
    const yMean = new Float64Array(C);
    train.forEach((r, i) => {
      for (let j = 0; j < d; j++) xs[i * d + j] = (x[r * d + j] - mean[j]) / sd[j];
      yMean[f.y[r]] += 1 / m;
    });
    const a = gram(xs, m, d);
    for (let j = 0; j < d; j++) a[j * d + j] += ridge * m;
    const b = new Float64Array(d * C);
    train.forEach((r, i) => {
      for (let c = 0; c < C; c++) {
        const t = (f.y[r] === c ? 1 : 0) - yMean[c];
        if (t !== 0) for (let j = 0; j < d; j++) b[j * C + c] += xs[i * d + j] * t;
      }
    });
    const w = choleskySolve(a, d, b, C);
    for (const q of test) {
      let best = 0;
      let bestOut = -Infinity;
      for (let c = 0; c < C; c++) {
        let o = yMean[c];
        for (let j = 0; j < d; j++) o += ((x[q * d + j] - mean[j]) / sd[j]) * w[j * C + c];
        if (o > bestOut) {
          bestOut = o;
          best = c;
        }
      }
      if (best === f.y[q]) correct++;
    }
  }
  return correct / n;
}

/** Kendall's τ-b between two score lists (ties in either list handled as τ-b does); NaN when one list is constant. */
export function kendallTau(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new ArgumentError(`kendallTau: ${a.length} scores against ${b.length}`);
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < a.length; i++)
    for (let j = i + 1; j < a.length; j++) {
      const da = Math.sign(a[i] - a[j]);
      const db = Math.sign(b[i] - b[j]);
      if (da === 0 && db === 0) continue;
      if (da === 0) tiesA++;
      else if (db === 0) tiesB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  const denom = Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB));
  return denom === 0 ? NaN : (concordant - discordant) / denom;
}
