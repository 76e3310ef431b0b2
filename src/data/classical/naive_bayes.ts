/**
 * Multinomial naive Bayes as scikit-learn's MultinomialNB(alpha, fit_prior=True) defines it, on any non-negative
 * features (counts or TF-IDF):
 *   log P(term j | class k) = ln(F_kj + α) − ln(Σ_j F_kj + α·D),   F = per-class feature sums
 *   log P(class k)          = ln(n_k / n)
 * and the class score of a row x is x · log P(· | k) + log P(k).
 */
import { ArgumentError, DataError } from "../../util/errors.js";
import type { CsrMatrix } from "../features/sparse.js";
import { LinearClassifier, LinearScores, probabilities, type LinearState } from "./linear.js";

export interface NaiveBayesOptions {
  /** Additive (Laplace/Lidstone) smoothing, default 1.0; values below 1e-10 are raised to 1e-10 as scikit-learn does. */
  alpha?: number;
}

export class MultinomialNB extends LinearClassifier<NaiveBayesOptions> {
  readonly kind = "nb";

  constructor(options: NaiveBayesOptions = {}) {
    super(options);
    const a = options.alpha ?? 1;
    if (!(a >= 0 && Number.isFinite(a))) throw new ArgumentError(`alpha must be a non-negative number, got ${a}`);
  }

  protected train(x: CsrMatrix, y: Int32Array, nClasses: number): LinearScores {
    const alpha = Math.max(this.options.alpha ?? 1, 1e-10);
    const K = nClasses,
      D = x.cols;
    const fc = new Float64Array(K * D);
    const classCount = new Float64Array(K);
    for (let i = 0; i < x.rows; i++) {
      const k = y[i]!;
      classCount[k]! += 1;
      for (let p = x.indptr[i]!; p < x.indptr[i + 1]!; p++) {
        const v = x.data[p]!;
        if (v < 0)
          throw new DataError(`naive Bayes needs non-negative features; row ${i}, column ${x.indices[p]} is ${v}`);
        fc[k * D + x.indices[p]!]! += v;
      }
    }
    const flp = new Float64Array(K * D);
    const prior = new Float64Array(K);
    const total = classCount.reduce((a, b) => a + b, 0);
    for (let k = 0; k < K; k++) {
      let rowSum = 0;
      for (let j = 0; j < D; j++) rowSum += fc[k * D + j]! + alpha;
      const logSum = Math.log(rowSum);
      for (let j = 0; j < D; j++) flp[k * D + j] = Math.log(fc[k * D + j]! + alpha) - logSum;
      prior[k] = Math.log(classCount[k]!) - Math.log(total);
    }
    // K outputs even for two classes: the scores are joint log-likelihoods, not one margin
    return new LinearScores(D, K, flp, prior);
  }

  /** rows × nClasses class probabilities (a softmax of the joint log-likelihoods). */
  predictProba(x: CsrMatrix): Float64Array {
    return probabilities(this.decision(x), x.rows, this.nClasses);
  }

  static fromJSON(s: LinearState): MultinomialNB {
    return new MultinomialNB((s.info ?? {}) as NaiveBayesOptions).restore(s);
  }
}
