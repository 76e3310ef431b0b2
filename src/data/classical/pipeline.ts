/**
 * A whole classical text classifier: text preparation → TF-IDF (+ optional lexicon features) → a linear model,
 * with its label names. Saved as one JSON file (baseline.json) in a model directory, so `graft predict` can load
 * it without the training data, stop-word files or lexicon files.
 */
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError, FormatError } from "../../util/errors.js";
import { writeJsonAtomic } from "../../util/atomic.js";
import { TfidfVectorizer, type TfidfOptions, type TfidfState } from "../features/tfidf.js";
import { CsrMatrix } from "../features/sparse.js";
import { TextPreparer, type PrepareOptions } from "../prep/prepare.js";
import { Lexicon, type LexiconState } from "../prep/lexicon.js";
import { compareCodePoints } from "../prep/unicode.js";
import type { Example } from "../types.js";
import type { LinearState } from "./linear.js";
import {
  classifierFromJSON,
  makeClassifier,
  type Classifier,
  type ClassifierKind,
  type ClassifierOptions,
} from "./model.js";

export const BASELINE_FILE = "baseline.json";
const FORMAT = "graft-baseline";
const VERSION = 1;

export interface BaselineConfig {
  model: ClassifierKind;
  classifier?: ClassifierOptions;
  tfidf?: TfidfOptions;
  prepare?: PrepareOptions;
  /** A category or score lexicon whose per-document features are appended to the TF-IDF columns. */
  lexicon?: LexiconState | null;
  /** Scale of the lexicon features relative to TF-IDF values (default 1). */
  lexiconWeight?: number;
}

export interface BaselineState {
  format: typeof FORMAT;
  version: number;
  task: "classify";
  labels: string[];
  model: ClassifierKind;
  prepare: PrepareOptions;
  tfidf: TfidfState;
  lexicon: LexiconState | null;
  lexiconWeight: number;
  classifier: LinearState;
}

export interface Prediction {
  label: string;
  /** Class probabilities (logistic regression, naive Bayes) or decision scores (SVM), by label. */
  scores: Record<string, number>;
  kind: "probability" | "decision";
}

/** The text a pair example is classified on: both texts, on separate lines. */
export function exampleText(e: Pick<Example, "text" | "textPair">): string {
  return e.textPair === undefined ? e.text : `${e.text}\n${e.textPair}`;
}

/** Label order for class ids: numerically when every label is a number (as numpy orders numeric labels), else by code point. */
export function sortLabels(labels: Iterable<string>): string[] {
  const u = [...new Set(labels)];
  const numeric = u.every((l) => /^[+-]?(\d+\.?\d*|\.\d+)$/.test(l));
  return numeric ? u.sort((a, b) => Number(a) - Number(b) || compareCodePoints(a, b)) : u.sort(compareCodePoints);
}

export class TextClassifier {
  private constructor(
    readonly labels: string[],
    readonly config: Required<Pick<BaselineConfig, "model" | "lexiconWeight">> & { prepare: PrepareOptions },
    private readonly preparer: TextPreparer,
    readonly vectorizer: TfidfVectorizer,
    private readonly lexicon: Lexicon | null,
    readonly classifier: Classifier,
  ) {}

  static fit(texts: readonly string[], labels: readonly string[], config: BaselineConfig): TextClassifier {
    if (texts.length !== labels.length) throw new ArgumentError(`${texts.length} texts but ${labels.length} labels`);
    const names = sortLabels(labels);
    if (names.length < 2)
      throw new ArgumentError(
        `a classifier needs at least 2 labels; the training data has only ${JSON.stringify(names[0])}`,
      );
    const lexicon = config.lexicon ? Lexicon.fromJSON(config.lexicon) : null;
    if (lexicon && lexicon.kind === "normalize")
      throw new ArgumentError(
        "a normalize lexicon maps terms, it gives no features; pass it as the preparation's normalizeTerms",
      );
    if (config.model === "nb" && lexicon?.kind === "score") {
      throw new ArgumentError(
        "naive Bayes needs non-negative features, and a score lexicon gives negative ones",
        "use --model logreg or svm, or a category lexicon",
      );
    }
    const preparer = new TextPreparer(config.prepare ?? {});
    const vectorizer = new TfidfVectorizer(config.tfidf ?? {});
    const weight = config.lexiconWeight ?? 1;
    const x = featureMatrix(texts, preparer, (docs) => vectorizer.fitTransform(docs), lexicon, weight);
    const index = new Map(names.map((l, i) => [l, i]));
    const y = Int32Array.from(labels, (l) => index.get(l)!);
    const classifier = makeClassifier(config.model, config.classifier).fit(x, y, names.length);
    return new TextClassifier(
      names,
      { model: config.model, lexiconWeight: weight, prepare: preparer.options },
      preparer,
      vectorizer,
      lexicon,
      classifier,
    );
  }

  /** The feature matrix the classifier sees for these texts. */
  features(texts: readonly string[]): CsrMatrix {
    const { preparer, vectorizer, lexicon, config } = this;
    return featureMatrix(texts, preparer, (docs) => vectorizer.transform(docs), lexicon, config.lexiconWeight);
  }

  /** Class ids (indices into `labels`). */
  predictIds(texts: readonly string[]): Int32Array {
    return this.classifier.predict(this.features(texts));
  }

  predict(texts: readonly string[]): Prediction[] {
    const x = this.features(texts);
    const ids = this.classifier.predict(x);
    const K = this.labels.length;
    const proba = this.classifier.predictProba?.(x);
    const decision = proba ? undefined : this.classifier.decision(x);
    const outputs = decision ? decision.length / x.rows : K;
    return Array.from(ids, (id, i) => {
      const scores: Record<string, number> = {};
      if (proba) this.labels.forEach((l, k) => (scores[l] = proba[i * K + k]!));
      else if (outputs === 1) scores[this.labels[1]!] = decision![i]!;
      else this.labels.forEach((l, k) => (scores[l] = decision![i * K + k]!));
      return { label: this.labels[id]!, scores, kind: proba ? "probability" : "decision" };
    });
  }

  toJSON(): BaselineState {
    return {
      format: FORMAT,
      version: VERSION,
      task: "classify",
      labels: this.labels,
      model: this.config.model,
      prepare: this.config.prepare,
      tfidf: this.vectorizer.toJSON(),
      lexicon: this.lexicon ? this.lexicon.toJSON() : null,
      lexiconWeight: this.config.lexiconWeight,
      classifier: this.classifier.toJSON(),
    };
  }

  static fromJSON(s: BaselineState, where = "baseline state"): TextClassifier {
    if (!s || s.format !== FORMAT)
      throw new FormatError(
        `${where}: not a graft baseline model (format is ${JSON.stringify(s?.format)}, expected "${FORMAT}")`,
      );
    if (s.version !== VERSION)
      throw new FormatError(`${where}: baseline format version ${s.version}, this graft reads version ${VERSION}`);
    if (!Array.isArray(s.labels) || s.labels.length < 2)
      throw new FormatError(`${where}: "labels" must list at least 2 labels`);
    const classifier = classifierFromJSON(s.classifier);
    if (classifier.nClasses !== s.labels.length)
      throw new FormatError(
        `${where}: ${s.labels.length} labels but the classifier has ${classifier.nClasses} classes`,
      );
    const vectorizer = TfidfVectorizer.fromJSON(s.tfidf);
    const lexicon = s.lexicon ? Lexicon.fromJSON(s.lexicon) : null;
    const expected = vectorizer.vocabulary.length + (lexicon ? lexicon.featureNames().length : 0);
    if (s.classifier.nFeatures !== expected)
      throw new FormatError(
        `${where}: the classifier expects ${s.classifier.nFeatures} features, the vectorizer and lexicon give ${expected}`,
      );
    return new TextClassifier(
      s.labels,
      { model: s.model, lexiconWeight: s.lexiconWeight, prepare: s.prepare },
      new TextPreparer(s.prepare),
      vectorizer,
      lexicon,
      classifier,
    );
  }

  save(dir: string): string {
    const path = join(dir, BASELINE_FILE);
    writeJsonAtomic(path, this.toJSON());
    return path;
  }

  static isBaselineDir(dir: string): boolean {
    return existsSync(join(dir, BASELINE_FILE));
  }

  static load(dir: string): TextClassifier {
    const path = join(dir, BASELINE_FILE);
    let state: BaselineState;
    try {
      state = JSON.parse(readFileSync(path, "utf8")) as BaselineState;
    } catch (e) {
      throw new FormatError(
        `${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : `not valid JSON (${(e as Error).message})`}`,
      );
    }
    return TextClassifier.fromJSON(state, path);
  }
}

/** Prepared texts → TF-IDF columns (`tfidf`: the vectorizer's fitTransform or transform), then the lexicon's. */
function featureMatrix(
  texts: readonly string[],
  preparer: TextPreparer,
  tfidf: (docs: readonly string[]) => CsrMatrix,
  lexicon: Lexicon | null,
  weight: number,
): CsrMatrix {
  const x = tfidf(texts.map((t) => preparer.prepare(t)));
  return lexicon ? x.hstack(lexiconMatrix(lexicon, texts, weight)) : x;
}

function lexiconMatrix(lexicon: Lexicon, texts: readonly string[], weight: number): CsrMatrix {
  const cols = lexicon.featureNames().length;
  return CsrMatrix.fromRows(
    texts.map((t) => {
      const f = lexicon.features(t);
      const row = new Map<number, number>();
      f.forEach((v, j) => v !== 0 && row.set(j, v * weight));
      return row;
    }),
    cols,
  );
}
