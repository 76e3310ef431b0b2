/**
 * Linear SVM as scikit-learn's LinearSVC() defines it (liblinear's L2-regularized squared-hinge loss, dual
 * coordinate descent of Hsieh et al. 2008, one-vs-rest for more than two classes). Like liblinear, the intercept
 * is an extra constant feature (value 1) whose weight is regularized with the rest:
 *   min_w ½‖w‖² + C Σ_i max(0, 1 − y_i w·x_i)²
 * Each epoch visits the rows in a seeded random order; it stops when the projected-gradient spread is below tol.
 */
import { Rng } from "../../util/rng.js";
import type { CsrMatrix } from "../features/sparse.js";
import { LinearClassifier, LinearScores, checkC, type LinearState } from "./linear.js";

export interface LinearSvmOptions {
  C?: number;
  /** Epochs per binary problem (default 1000, scikit-learn's). */
  maxIter?: number;
  /** Stopping tolerance on the projected gradient (default 1e-4, scikit-learn's). */
  tol?: number;
  seed?: number;
}

export class LinearSVM extends LinearClassifier<LinearSvmOptions, { epochs: number[]; converged: boolean }> {
  readonly kind = "svm";

  constructor(options: LinearSvmOptions = {}) {
    super(options);
    checkC(options.C);
  }

  protected train(x: CsrMatrix, y: Int32Array, nClasses: number): LinearScores {
    const K = nClasses === 2 ? 1 : nClasses;
    const D = x.cols;
    const coef = new Float64Array(K * D);
    const intercept = new Float64Array(K);
    const rng = new Rng(this.options.seed ?? 0);
    const epochs: number[] = [];
    let converged = true;
    for (let k = 0; k < K; k++) {
      const positive = K === 1 ? 1 : k;
      const sign = Int8Array.from(y, (c) => (c === positive ? 1 : -1));
      const r = dualCoordinateDescent(
        x,
        sign,
        this.options.C ?? 1,
        this.options.maxIter ?? 1000,
        this.options.tol ?? 1e-4,
        rng,
      );
      coef.set(r.w.subarray(0, D), k * D);
      intercept[k] = r.w[D]!;
      epochs.push(r.epochs);
      converged &&= r.converged;
    }
    this.info = { epochs, converged };
    return new LinearScores(D, nClasses, coef, intercept);
  }

  static fromJSON(s: LinearState): LinearSVM {
    return new LinearSVM((s.info ?? {}) as LinearSvmOptions).restore(s);
  }
}

/** liblinear's solve_l2r_l1l2_svc for the L2 loss, without shrinking. Returns w with the bias weight last. */
function dualCoordinateDescent(x: CsrMatrix, y: Int8Array, C: number, maxIter: number, tol: number, rng: Rng) {
  const n = x.rows,
    D = x.cols;
  const { indptr, indices, data } = x;
  const diag = 0.5 / C;
  const w = new Float64Array(D + 1);
  const alpha = new Float64Array(n);
  const qd = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = diag + 1; // + 1: the bias feature
    for (let p = indptr[i]!; p < indptr[i + 1]!; p++) s += data[p]! * data[p]!;
    qd[i] = s;
  }
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let epoch = 0;
  let converged = false;
  while (epoch < maxIter) {
    rng.shuffle(order);
    let pgMax = -Infinity,
      pgMin = Infinity;
    for (let t = 0; t < n; t++) {
      const i = order[t]!;
      const yi = y[i]!;
      let wx = w[D]!;
      for (let p = indptr[i]!; p < indptr[i + 1]!; p++) wx += w[indices[p]!]! * data[p]!;
      const G = yi * wx - 1 + alpha[i]! * diag;
      const PG = alpha[i] === 0 ? Math.min(G, 0) : G;
      pgMax = Math.max(pgMax, PG);
      pgMin = Math.min(pgMin, PG);
      if (Math.abs(PG) > 1e-12) {
        const old = alpha[i]!;
        alpha[i] = Math.max(old - G / qd[i]!, 0);
        const d = (alpha[i]! - old) * yi;
        for (let p = indptr[i]!; p < indptr[i + 1]!; p++) w[indices[p]!]! += d * data[p]!;
        w[D]! += d;
      }
    }
    epoch++;
    if (pgMax - pgMin <= tol) {
      converged = true;
      break;
    }
  }
  return { w, epochs: epoch, converged };
}
