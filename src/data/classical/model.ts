/** The three classical baselines behind one interface, and their (de)serialization by kind. */
import { ArgumentError, FormatError } from "../../util/errors.js";
import type { CsrMatrix } from "../features/sparse.js";
import type { LinearState } from "./linear.js";
import { LogisticRegression, type LogisticOptions } from "./logistic.js";
import { MultinomialNB, type NaiveBayesOptions } from "./naive_bayes.js";
import { LinearSVM, type LinearSvmOptions } from "./linear_svm.js";

export type ClassifierKind = "logreg" | "nb" | "svm";
export const CLASSIFIER_KINDS: readonly ClassifierKind[] = ["logreg", "nb", "svm"];

export interface Classifier {
  readonly kind: ClassifierKind;
  readonly nClasses: number;
  fit(x: CsrMatrix, y: Int32Array, nClasses: number): this;
  /** rows × outputs scores (one output for a binary margin model). */
  decision(x: CsrMatrix): Float64Array;
  predict(x: CsrMatrix): Int32Array;
  /** rows × nClasses; absent for the SVM, which has no calibrated probabilities. */
  predictProba?(x: CsrMatrix): Float64Array;
  toJSON(): LinearState;
}

export type ClassifierOptions = LogisticOptions & NaiveBayesOptions & LinearSvmOptions;

export function makeClassifier(kind: ClassifierKind, options: ClassifierOptions = {}): Classifier {
  switch (kind) {
    case "logreg":
      return new LogisticRegression({ C: options.C, maxIter: options.maxIter, tol: options.tol });
    case "nb":
      return new MultinomialNB({ alpha: options.alpha });
    case "svm":
      return new LinearSVM({ C: options.C, maxIter: options.maxIter, tol: options.tol, seed: options.seed });
    default:
      throw new ArgumentError(`unknown model "${String(kind)}"; expected one of ${CLASSIFIER_KINDS.join(", ")}`);
  }
}

export function classifierFromJSON(s: LinearState): Classifier {
  switch (s?.kind) {
    case "logreg":
      return LogisticRegression.fromJSON(s);
    case "nb":
      return MultinomialNB.fromJSON(s);
    case "svm":
      return LinearSVM.fromJSON(s);
    default:
      throw new FormatError(
        `unknown classifier kind "${String(s?.kind)}"; expected one of ${CLASSIFIER_KINDS.join(", ")}`,
      );
  }
}
