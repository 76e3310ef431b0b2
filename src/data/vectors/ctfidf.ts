/**
 * Topic keywords per cluster by class-based TF-IDF (BERTopic's c-TF-IDF, Grootendorst 2022): the documents of a
 * cluster are joined into one, a term's weight in cluster c is tf_{t,c} · log(1 + A / f_t), where tf_{t,c} is the
 * term's count in c divided by all term counts in c (L1), f_t the term's count over all clusters and A the
 * average number of words per cluster (integer part, as BERTopic). Words come from the same analyzer as the
 * TF-IDF baseline (lowercased word tokens of two or more letters or digits), English stop words removed by
 * default.
 */
import { ArgumentError } from "../../util/errors.js";
import { buildAnalyzer, DEFAULT_TOKEN_PATTERN } from "../features/analyze.js";
import { stopWords as builtinStopWords } from "../prep/stopwords.js";

export interface CtfidfOptions {
  /** Keywords per cluster (default 10). */
  top?: number;
  /** Stop words to drop (default: the built-in English list; [] keeps every word). */
  stopWords?: readonly string[];
  /** Word n-grams (default [1, 1]). */
  ngramRange?: [number, number];
}

export interface ClusterKeywords {
  /** The cluster label (−1: noise). */
  cluster: number;
  size: number;
  keywords: { term: string; weight: number }[];
}

/** c-TF-IDF keywords of each cluster (labels in ascending order; −1, noise, is a class like the others). */
export function clusterKeywords(
  docs: readonly string[],
  labels: ArrayLike<number>,
  opts: CtfidfOptions = {},
): ClusterKeywords[] {
  if (docs.length !== labels.length)
    throw new ArgumentError(`c-TF-IDF: ${docs.length} documents but ${labels.length} cluster labels`);
  const top = opts.top ?? 10;
  const analyze = buildAnalyzer({
    analyzer: "word",
    ngramRange: opts.ngramRange ?? [1, 1],
    lowercase: true,
    stripAccents: null,
    tokenPattern: DEFAULT_TOKEN_PATTERN,
    stopWords: opts.stopWords ?? builtinStopWords("en"),
  });
  const classes = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  const index = new Map(classes.map((c, i) => [c, i]));
  const counts = classes.map(() => new Map<string, number>());
  const sizes = new Array<number>(classes.length).fill(0);
  const total = new Map<string, number>();
  docs.forEach((doc, i) => {
    const c = index.get(labels[i])!;
    sizes[c]++;
    for (const t of analyze(doc)) {
      counts[c].set(t, (counts[c].get(t) ?? 0) + 1);
      total.set(t, (total.get(t) ?? 0) + 1);
    }
  });
  const words = counts.map((m) => [...m.values()].reduce((s, v) => s + v, 0));
  const avg = Math.floor(words.reduce((s, v) => s + v, 0) / Math.max(1, classes.length));
  return classes.map((cluster, c) => {
    const scored = [...counts[c]].map(([term, n]) => ({
      term,
      weight: (n / words[c]) * Math.log(1 + avg / total.get(term)!),
    }));
    scored.sort((a, b) => b.weight - a.weight || (a.term < b.term ? -1 : a.term > b.term ? 1 : 0));
    return { cluster, size: sizes[c], keywords: scored.slice(0, top) };
  });
}
