/**
 * What the linear baselines share: a weight matrix over sparse features and the scoring, prediction and
 * (de)serialization around it. Layout follows scikit-learn's coef_: one row of nFeatures weights per output,
 * where a binary margin model has a single output (positive = the second class) and otherwise there is one per class.
 */
import { ArgumentError, FormatError, ShapeError } from "../../util/errors.js";
import type { CsrMatrix } from "../features/sparse.js";
import { decodeF64, encodeF64, type EncodedF64 } from "../features/encode.js";

export interface LinearState {
  kind: string;
  nFeatures: number;
  nClasses: number;
  /** outputs × nFeatures, row-major. */
  coef: EncodedF64 | number[];
  intercept: number[];
  /** Model-specific extras (hyperparameters, training diagnostics). */
  info?: Record<string, unknown>;
}

export class LinearScores {
  constructor(
    readonly nFeatures: number,
    readonly nClasses: number,
    /** outputs × nFeatures */
    readonly coef: Float64Array,
    readonly intercept: Float64Array,
  ) {
    // one output (a margin) only for two classes; otherwise one score per class
    const outputs = intercept.length;
    if (coef.length !== outputs * nFeatures || !(outputs === nClasses || (outputs === 1 && nClasses === 2))) {
      throw new ShapeError(
        `linear model: ${coef.length} weights and ${outputs} intercepts do not fit ${nClasses} classes × ${nFeatures} features`,
      );
    }
  }

  get outputs(): number {
    return this.intercept.length;
  }

  /** rows × outputs decision values (x · coefᵀ + intercept). */
  decision(x: CsrMatrix): Float64Array {
    if (x.cols !== this.nFeatures)
      throw new ShapeError(`linear model expects ${this.nFeatures} features, got a matrix with ${x.cols} columns`);
    const K = this.outputs,
      D = this.nFeatures;
    const out = new Float64Array(x.rows * K);
    for (let i = 0; i < x.rows; i++) {
      for (let k = 0; k < K; k++) {
        let s = this.intercept[k]!;
        const w = k * D;
        for (let p = x.indptr[i]!; p < x.indptr[i + 1]!; p++) s += x.data[p]! * this.coef[w + x.indices[p]!]!;
        out[i * K + k] = s;
      }
    }
    return out;
  }

  /** Class ids: for one output, positive → 1; otherwise the first largest score. */
  predict(x: CsrMatrix): Int32Array {
    return argmaxRows(this.decision(x), x.rows, this.outputs);
  }

  state(kind: string, info?: Record<string, unknown>): LinearState {
    return {
      kind,
      nFeatures: this.nFeatures,
      nClasses: this.nClasses,
      coef: encodeF64(this.coef),
      intercept: Array.from(this.intercept),
      ...(info ? { info } : {}),
    };
  }

  static fromState(s: LinearState, kind: string): LinearScores {
    if (s.kind !== kind) throw new FormatError(`expected a "${kind}" model, found "${s.kind}"`);
    if (!Array.isArray(s.intercept)) throw new FormatError(`${kind} model: intercept must be an array`);
    return new LinearScores(
      s.nFeatures,
      s.nClasses,
      decodeF64(s.coef, `${kind} model coef`),
      Float64Array.from(s.intercept),
    );
  }
}

/**
 * The fit / predict / save scaffolding of a linear baseline: `fit` checks the labels and keeps the LinearScores
 * that `train` returns; scoring, prediction and toJSON read them. `info` holds training diagnostics, saved with
 * the options.
 */
export abstract class LinearClassifier<Options extends object, Info extends object = object> {
  abstract readonly kind: string;
  private model: LinearScores | undefined;
  info: Info | undefined;

  constructor(readonly options: Options) {}

  /** Fits the weights on rows × features `x` with class ids `y` in [0, nClasses). */
  protected abstract train(x: CsrMatrix, y: Int32Array, nClasses: number): LinearScores;

  fit(x: CsrMatrix, y: Int32Array, nClasses: number): this {
    checkLabels(y, x.rows, nClasses, `${this.constructor.name}.fit`);
    this.model = this.train(x, y, nClasses);
    return this;
  }

  protected get fitted(): LinearScores {
    if (!this.model) throw new ArgumentError(`${this.constructor.name} used before fit`);
    return this.model;
  }

  get nClasses(): number {
    return this.fitted.nClasses;
  }

  /** rows × outputs decision values. */
  decision(x: CsrMatrix): Float64Array {
    return this.fitted.decision(x);
  }

  predict(x: CsrMatrix): Int32Array {
    return this.fitted.predict(x);
  }

  toJSON(): LinearState {
    return this.fitted.state(this.kind, { ...this.options, ...this.info } as Record<string, unknown>);
  }

  /** For fromJSON: takes the weights of a saved state of this kind. */
  protected restore(s: LinearState): this {
    this.model = LinearScores.fromState(s, this.kind);
    return this;
  }
}

/** Checks the inverse regularization strength C (default 1) and returns it. */
export function checkC(C = 1): number {
  if (!(C > 0 && Number.isFinite(C))) throw new ArgumentError(`C must be a positive number, got ${C}`);
  return C;
}

export function argmaxRows(scores: Float64Array, rows: number, outputs: number): Int32Array {
  const out = new Int32Array(rows);
  if (outputs === 1) {
    for (let i = 0; i < rows; i++) out[i] = scores[i]! > 0 ? 1 : 0;
    return out;
  }
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let k = 1; k < outputs; k++) if (scores[i * outputs + k]! > scores[i * outputs + best]!) best = k;
    out[i] = best;
  }
  return out;
}

/** Checks labels are class ids in [0, nClasses) and every class occurs. */
export function checkLabels(y: Int32Array, rows: number, nClasses: number, who: string): void {
  if (y.length !== rows) throw new ShapeError(`${who}: ${rows} rows but ${y.length} labels`);
  if (!(Number.isInteger(nClasses) && nClasses >= 2))
    throw new ShapeError(`${who}: need at least 2 classes, got ${nClasses}`);
  const seen = new Uint8Array(nClasses);
  for (let i = 0; i < y.length; i++) {
    const c = y[i]!;
    if (c < 0 || c >= nClasses) throw new ShapeError(`${who}: label ${c} at row ${i} is outside [0, ${nClasses})`);
    seen[c] = 1;
  }
  const missing = [...seen.keys()].filter((c) => seen[c] === 0);
  if (missing.length > 0)
    throw new ShapeError(
      `${who}: class${missing.length > 1 ? "es" : ""} ${missing.join(", ")} never occur${missing.length > 1 ? "" : "s"} in the training labels`,
    );
}

/** Row-wise softmax (K outputs) or sigmoid (1 output → 2 columns), in place into a rows × nClasses array. */
export function probabilities(scores: Float64Array, rows: number, outputs: number): Float64Array {
  if (outputs === 1) {
    const p = new Float64Array(rows * 2);
    for (let i = 0; i < rows; i++) {
      const z = scores[i]!;
      const p1 = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
      p[2 * i] = 1 - p1;
      p[2 * i + 1] = p1;
    }
    return p;
  }
  const p = new Float64Array(rows * outputs);
  for (let i = 0; i < rows; i++) {
    let max = -Infinity;
    for (let k = 0; k < outputs; k++) max = Math.max(max, scores[i * outputs + k]!);
    let sum = 0;
    for (let k = 0; k < outputs; k++) sum += p[i * outputs + k] = Math.exp(scores[i * outputs + k]! - max);
    for (let k = 0; k < outputs; k++) p[i * outputs + k] = p[i * outputs + k]! / sum;
  }
  return p;
}
