/**
 * L2-regularized logistic regression, as scikit-learn's LogisticRegression(solver="lbfgs") defines it: a binary
 * problem has one weight vector (sigmoid), more classes the multinomial (softmax) model with one vector per class.
 * Objective (the mean form scikit-learn 1.2 minimizes; the same minimizer as C·Σ loss + ½‖W‖²):
 *   (1/n) Σ_i loss_i + 1/(2·C·n) ‖W‖²   (the intercept is not penalized)
 */
import type { CsrMatrix } from "../features/sparse.js";
import { lbfgs } from "./lbfgs.js";
import { LinearClassifier, LinearScores, checkC, probabilities, type LinearState } from "./linear.js";

export interface LogisticOptions {
  /** Inverse regularization strength (default 1.0). */
  C?: number;
  maxIter?: number;
  /** Stop when the largest gradient component is below this (default 1e-6; scikit-learn's default 1e-4 stops earlier). */
  tol?: number;
}

export class LogisticRegression extends LinearClassifier<
  LogisticOptions,
  { iterations: number; converged: boolean; gradMax: number; loss: number }
> {
  readonly kind = "logreg";

  constructor(options: LogisticOptions = {}) {
    super(options);
    checkC(options.C);
  }

  protected train(x: CsrMatrix, y: Int32Array, nClasses: number): LinearScores {
    const C = this.options.C ?? 1;
    const K = nClasses === 2 ? 1 : nClasses;
    const D = x.cols;
    const n = x.rows;
    const lam = 1 / (C * n);
    // parameters: W as D × K (feature-major, so a sparse row touches contiguous weights), then K intercepts
    const objective = K === 1 ? binaryObjective(x, y, lam) : softmaxObjective(x, y, K, lam);
    const r = lbfgs(objective, new Float64Array(D * K + K), {
      maxIter: this.options.maxIter ?? 1000,
      gtol: this.options.tol ?? 1e-6,
    });
    const coef = new Float64Array(K * D);
    for (let j = 0; j < D; j++) for (let k = 0; k < K; k++) coef[k * D + j] = r.x[j * K + k]!;
    this.info = { iterations: r.iterations, converged: r.converged, gradMax: r.gradMax, loss: r.f };
    return new LinearScores(D, nClasses, coef, r.x.slice(D * K));
  }

  /** rows × nClasses probabilities. */
  predictProba(x: CsrMatrix): Float64Array {
    return probabilities(this.decision(x), x.rows, this.fitted.outputs);
  }

  static fromJSON(s: LinearState): LogisticRegression {
    return new LogisticRegression((s.info ?? {}) as LogisticOptions).restore(s);
  }
}

function binaryObjective(x: CsrMatrix, y: Int32Array, lam: number) {
  const { indptr, indices, data } = x;
  const n = x.rows,
    D = x.cols;
  return (w: Float64Array, g: Float64Array): number => {
    g.fill(0);
    const b = w[D]!;
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let z = b;
      for (let p = indptr[i]!; p < indptr[i + 1]!; p++) z += data[p]! * w[indices[p]!]!;
      const s = y[i] === 1 ? 1 : -1;
      const m = s * z;
      // log(1 + e^-m), computed without overflow
      loss += m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m));
      const sig = m > 0 ? Math.exp(-m) / (1 + Math.exp(-m)) : 1 / (1 + Math.exp(m));
      const r = -s * sig; // d loss / d z
      for (let p = indptr[i]!; p < indptr[i + 1]!; p++) g[indices[p]!]! += r * data[p]!;
      g[D]! += r;
    }
    return meanPlusL2(w, g, loss, n, lam, D);
  };
}

function softmaxObjective(x: CsrMatrix, y: Int32Array, K: number, lam: number) {
  const { indptr, indices, data } = x;
  const n = x.rows,
    D = x.cols;
  const z = new Float64Array(K);
  return (w: Float64Array, g: Float64Array): number => {
    g.fill(0);
    const bias = D * K;
    let loss = 0;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < K; k++) z[k] = w[bias + k]!;
      for (let p = indptr[i]!; p < indptr[i + 1]!; p++) {
        const v = data[p]!,
          o = indices[p]! * K;
        for (let k = 0; k < K; k++) z[k]! += v * w[o + k]!;
      }
      let max = -Infinity;
      for (let k = 0; k < K; k++) max = Math.max(max, z[k]!);
      let sum = 0;
      for (let k = 0; k < K; k++) sum += Math.exp(z[k]! - max);
      const lse = max + Math.log(sum);
      loss += lse - z[y[i]!]!;
      for (let k = 0; k < K; k++) z[k] = Math.exp(z[k]! - lse) - (k === y[i] ? 1 : 0); // d loss / d z_k
      for (let p = indptr[i]!; p < indptr[i + 1]!; p++) {
        const v = data[p]!,
          o = indices[p]! * K;
        for (let k = 0; k < K; k++) g[o + k]! += v * z[k]!;
      }
      for (let k = 0; k < K; k++) g[bias + k]! += z[k]!;
    }
    return meanPlusL2(w, g, loss, n, lam, bias);
  };
}

/**
 * The end both objectives share: the summed loss and gradient g become means over the n rows, plus the L2 penalty
 * ½·lam·‖w‖² on the first `penalized` parameters (the weights; the intercepts after them are not penalized).
 */
function meanPlusL2(w: Float64Array, g: Float64Array, loss: number, n: number, lam: number, penalized: number): number {
  let reg = 0;
  for (let j = 0; j < g.length; j++) g[j] = g[j]! / n;
  for (let j = 0; j < penalized; j++) {
    reg += w[j]! * w[j]!;
    g[j]! += lam * w[j]!;
  }
  return loss / n + 0.5 * lam * reg;
}
