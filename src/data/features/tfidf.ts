/**
 * TfidfVectorizer with scikit-learn's definitions and defaults (sklearn 1.2), so matrices match to rounding:
 *  - vocabulary: every feature the analyzer emits, sorted by code point, pruned by document frequency
 *    (min_df/max_df) and by max_features (highest total count first; ties broken as numpy's argsort breaks them);
 *  - tf: raw counts (binary: 0/1; sublinear: 1 + ln(tf));
 *  - idf = ln((1 + n) / (1 + df)) + 1 with smooth_idf, ln(n / df) + 1 without;
 *  - rows normalized to unit L2 (or L1) norm.
 * With useIdf false and norm null it is a plain CountVectorizer.
 */
import { ArgumentError, FormatError } from "../../util/errors.js";
import { buildAnalyzer, DEFAULT_TOKEN_PATTERN, type Analyzer, type StripAccents } from "./analyze.js";
import { compareCodePoints } from "../prep/unicode.js";
import { npArgsort } from "./npsort.js";
import { CsrMatrix } from "./sparse.js";
import { decodeF64, encodeF64, type EncodedF64 } from "./encode.js";

export interface TfidfOptions {
  analyzer?: Analyzer;
  /** [min, max] n-gram lengths, inclusive (default [1, 1]). */
  ngramRange?: [number, number];
  lowercase?: boolean;
  stripAccents?: StripAccents;
  tokenPattern?: string;
  stopWords?: readonly string[] | null;
  /** Ignore terms in fewer documents: an integer count (default 1), or a fraction of documents when in (0, 1). */
  minDf?: number;
  /** Ignore terms in more documents: a fraction in (0, 1] (default 1.0), or an integer count when above 1. */
  maxDf?: number;
  /** Keep only the most frequent terms (by total count over the corpus). */
  maxFeatures?: number | null;
  binary?: boolean;
  useIdf?: boolean;
  smoothIdf?: boolean;
  sublinearTf?: boolean;
  norm?: "l2" | "l1" | null;
}

type Resolved = Required<TfidfOptions>;

export const TFIDF_DEFAULTS: Resolved = {
  analyzer: "word",
  ngramRange: [1, 1],
  lowercase: true,
  stripAccents: null,
  tokenPattern: DEFAULT_TOKEN_PATTERN,
  stopWords: null,
  minDf: 1,
  maxDf: 1.0,
  maxFeatures: null,
  binary: false,
  useIdf: true,
  smoothIdf: true,
  sublinearTf: false,
  norm: "l2",
};

export interface TfidfState {
  options: Resolved;
  /** Features in column order. */
  vocabulary: string[];
  idf: EncodedF64 | number[] | null;
}

export class TfidfVectorizer {
  readonly options: Resolved;
  private analyze: (doc: string) => string[];
  private vocab: Map<string, number> | undefined;
  private vocabList: string[] = [];
  private idfVec: Float64Array | undefined;

  constructor(options: TfidfOptions = {}) {
    const o = { ...TFIDF_DEFAULTS, ...stripUndefined(options) };
    checkDf("minDf", o.minDf);
    checkDf("maxDf", o.maxDf);
    if (o.maxFeatures !== null && !(Number.isInteger(o.maxFeatures) && o.maxFeatures > 0))
      throw new ArgumentError(`maxFeatures must be a positive integer or null, got ${o.maxFeatures}`);
    if (o.norm !== null && o.norm !== "l2" && o.norm !== "l1")
      throw new ArgumentError(`norm must be "l2", "l1" or null, got ${JSON.stringify(o.norm)}`);
    this.options = o;
    this.analyze = buildAnalyzer(o);
  }

  get vocabulary(): readonly string[] {
    return this.vocabList;
  }

  get idf(): Float64Array | undefined {
    return this.idfVec;
  }

  get fitted(): boolean {
    return this.vocab !== undefined;
  }

  /** The features a document produces (after preprocessing), with repeats. */
  analyzeDoc(doc: string): string[] {
    return this.analyze(doc);
  }

  fit(docs: readonly string[]): this {
    this.fitTransform(docs);
    return this;
  }

  fitTransform(docs: readonly string[]): CsrMatrix {
    if (docs.length === 0) throw new ArgumentError("TfidfVectorizer.fit: no documents");
    const o = this.options;
    // count with provisional ids in first-seen order
    const seen = new Map<string, number>();
    const rows: Map<number, number>[] = docs.map((d) => {
      const counts = new Map<number, number>();
      for (const f of this.analyze(d)) {
        let id = seen.get(f);
        if (id === undefined) seen.set(f, (id = seen.size));
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    });
    if (seen.size === 0)
      throw new ArgumentError("empty vocabulary: the documents contain only stop words or no tokens at all");
    const terms = [...seen.keys()].sort(compareCodePoints);
    const sortedId = new Int32Array(seen.size);
    terms.forEach((t, i) => (sortedId[seen.get(t)!] = i));
    let counts = CsrMatrix.fromRows(
      rows.map((r) => new Map([...r].map(([id, c]) => [sortedId[id]!, o.binary ? 1 : c]))),
      terms.length,
    );

    const keep = this.limitFeatures(counts, docs.length);
    if (keep.length === 0)
      throw new ArgumentError("after pruning, no terms remain; try a lower minDf or a higher maxDf");
    if (keep.length < terms.length) counts = selectColumns(counts, keep);
    this.vocabList = Array.from(keep, (j) => terms[j]!);
    this.vocab = new Map(this.vocabList.map((t, i) => [t, i]));
    this.idfVec = o.useIdf ? computeIdf(counts, o.smoothIdf) : undefined;
    return this.weight(counts);
  }

  transform(docs: readonly string[]): CsrMatrix {
    if (!this.vocab) throw new ArgumentError("TfidfVectorizer.transform before fit");
    const vocab = this.vocab;
    const rows = docs.map((d) => {
      const counts = new Map<number, number>();
      for (const f of this.analyze(d)) {
        const j = vocab.get(f);
        if (j !== undefined) counts.set(j, this.options.binary ? 1 : (counts.get(j) ?? 0) + 1);
      }
      return counts;
    });
    return this.weight(CsrMatrix.fromRows(rows, this.vocabList.length));
  }

  /** Indices of the sorted vocabulary that survive min_df / max_df / max_features (scikit-learn's _limit_features). */
  private limitFeatures(counts: CsrMatrix, nDocs: number): Int32Array {
    const o = this.options;
    const high = Number.isInteger(o.maxDf) && o.maxDf > 1 ? o.maxDf : o.maxDf * nDocs;
    const low = Number.isInteger(o.minDf) && o.minDf >= 1 ? o.minDf : o.minDf * nDocs;
    if (high < low)
      throw new ArgumentError(`maxDf (${o.maxDf}) keeps fewer documents than minDf (${o.minDf}) requires`);
    const df = documentFrequency(counts);
    let mask: number[] = [];
    for (let j = 0; j < counts.cols; j++) if (df[j]! <= high && df[j]! >= low) mask.push(j);
    if (o.maxFeatures !== null && mask.length > o.maxFeatures) {
      const tfs = counts.columnSums();
      const neg = Float64Array.from(mask, (j) => -tfs[j]!);
      const order = npArgsort(neg).subarray(0, o.maxFeatures);
      mask = Array.from(order, (k) => mask[k]!).sort((a, b) => a - b);
    }
    return Int32Array.from(mask);
  }

  /** tf (sublinear) × idf, then row normalization; modifies and returns `counts`. */
  private weight(x: CsrMatrix): CsrMatrix {
    const o = this.options;
    const d = x.data;
    if (o.sublinearTf) for (let k = 0; k < d.length; k++) d[k] = Math.log(d[k]!) + 1;
    if (this.idfVec) for (let k = 0; k < d.length; k++) d[k] = d[k]! * this.idfVec[x.indices[k]!]!;
    if (o.norm) normalizeRows(x, o.norm);
    return x;
  }

  toJSON(): TfidfState {
    if (!this.vocab) throw new ArgumentError("TfidfVectorizer.toJSON before fit");
    return { options: this.options, vocabulary: this.vocabList, idf: this.idfVec ? encodeF64(this.idfVec) : null };
  }

  static fromJSON(state: TfidfState): TfidfVectorizer {
    if (!state || !Array.isArray(state.vocabulary) || typeof state.options !== "object")
      throw new FormatError("tfidf state: expected { options, vocabulary, idf }");
    const v = new TfidfVectorizer(state.options);
    const idf = state.idf === null ? undefined : decodeF64(state.idf, "tfidf idf");
    if (idf && idf.length !== state.vocabulary.length)
      throw new FormatError(`tfidf state: ${idf.length} idf values for ${state.vocabulary.length} terms`);
    v.vocabList = state.vocabulary.slice();
    v.vocab = new Map(v.vocabList.map((t, i) => [t, i]));
    if (v.vocab.size !== v.vocabList.length) throw new FormatError("tfidf state: the vocabulary has duplicate terms");
    v.idfVec = idf;
    return v;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkDf(name: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0 && (v <= 1 || Number.isInteger(v)))) {
    throw new ArgumentError(`${name} must be a fraction in (0, 1] or a whole number of documents, got ${v}`);
  }
}

export function documentFrequency(x: CsrMatrix): Float64Array {
  const df = new Float64Array(x.cols);
  for (let k = 0; k < x.nnz; k++) if (x.data[k] !== 0) df[x.indices[k]!]! += 1;
  return df;
}

function computeIdf(x: CsrMatrix, smooth: boolean): Float64Array {
  const df = documentFrequency(x);
  const s = smooth ? 1 : 0;
  const n = x.rows + s;
  return Float64Array.from(df, (d) => Math.log(n / (d + s)) + 1);
}

/** In place, like sklearn.preprocessing.normalize on CSR: sum in stored order, divide by the norm, skip zero rows. */
export function normalizeRows(x: CsrMatrix, norm: "l2" | "l1"): void {
  const { indptr, data } = x;
  for (let i = 0; i < x.rows; i++) {
    let sum = 0;
    for (let k = indptr[i]!; k < indptr[i + 1]!; k++) sum += norm === "l2" ? data[k]! * data[k]! : Math.abs(data[k]!);
    if (sum === 0) continue;
    if (norm === "l2") sum = Math.sqrt(sum);
    for (let k = indptr[i]!; k < indptr[i + 1]!; k++) data[k] = data[k]! / sum;
  }
}

/** The columns `keep` (ascending) of x, renumbered 0..keep.length-1. */
function selectColumns(x: CsrMatrix, keep: Int32Array): CsrMatrix {
  const newIndex = new Int32Array(x.cols).fill(-1);
  keep.forEach((j, i) => (newIndex[j] = i));
  const rows: Map<number, number>[] = [];
  for (let i = 0; i < x.rows; i++) {
    const r = new Map<number, number>();
    for (let k = x.indptr[i]!; k < x.indptr[i + 1]!; k++) {
      const j = newIndex[x.indices[k]!]!;
      if (j >= 0) r.set(j, x.data[k]!);
    }
    rows.push(r);
  }
  return CsrMatrix.fromRows(rows, keep.length);
}
