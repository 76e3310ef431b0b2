/**
 * Clustering documents for content analysis: vectors from a vectors file, a sentence encoder, or TF-IDF of the
 * texts; k-means or HDBSCAN; c-TF-IDF keywords, sizes and example documents per cluster (the members nearest
 * the cluster's mean); near-duplicate groups; and, where the documents carry labels (never used to cluster),
 * the adjusted Rand index and NMI against them.
 */
import { ArgumentError } from "../util/errors.js";
import { TfidfVectorizer, stopWords } from "../data/index.js";
import {
  clusterKeywords,
  hdbscan,
  kmeans,
  nearDuplicates,
  normalizeRows,
  type ClusterKeywords,
  type Matrix,
} from "../data/vectors/index.js";
import { adjustedRandScore, normalizedMutualInfoScore } from "../metrics/clustering.js";
import { rowProducts } from "../tensor/index.js";

export type ClusterMethod = "kmeans" | "hdbscan";

export interface ClusterOptions {
  method: ClusterMethod;
  /** k-means: clusters. */
  k?: number;
  nInit?: number;
  /** HDBSCAN: smallest cluster, and neighbours of a core point (default: minClusterSize). */
  minClusterSize?: number;
  minSamples?: number;
  seed?: number;
  /** Keywords per cluster (0: none). */
  keywords?: number;
  /** Example documents per cluster. */
  examples?: number;
  /** Cosine threshold of near-duplicate groups (undefined: not searched). */
  duplicates?: number;
}

export interface ClusterSummary extends ClusterKeywords {
  /** Indices of the example documents (nearest the cluster's mean first). */
  examples: number[];
}

export interface ClusterResult {
  method: ClusterMethod;
  labels: Int32Array;
  clusters: ClusterSummary[];
  /** Documents labelled noise (HDBSCAN). */
  noise: number;
  inertia?: number;
  duplicates?: number[][];
  /** Against the documents' own labels, where given. */
  agreement?: { ari: number; nmi: number; classes: number };
  seconds: number;
}

/** L2-normalized TF-IDF vectors of texts (dense; the vocabulary cut to the most frequent terms). */
export function tfidfVectors(texts: readonly string[], maxFeatures = 5000): Matrix {
  const x = new TfidfVectorizer({ stopWords: stopWords("en"), minDf: 2, maxFeatures, sublinearTf: true }).fitTransform(
    texts,
  );
  const data = new Float32Array(x.rows * x.cols);
  for (let i = 0; i < x.rows; i++)
    for (let p = x.indptr[i]; p < x.indptr[i + 1]; p++) data[i * x.cols + x.indices[p]] = x.data[p];
  return { data, n: x.rows, d: x.cols };
}

/** Clusters the vectors (row i is texts[i]) and describes the clusters. */
export function clusterDocuments(
  x: Matrix,
  texts: readonly string[] | null,
  opts: ClusterOptions,
  labels?: readonly (string | number)[] | null,
): ClusterResult {
  if (texts && texts.length !== x.n) throw new ArgumentError(`${texts.length} texts for ${x.n} vectors`);
  if (labels && labels.length !== x.n) throw new ArgumentError(`${labels.length} labels for ${x.n} vectors`);
  const t0 = Date.now();
  let assigned: Int32Array;
  let inertia: number | undefined;
  if (opts.method === "kmeans") {
    if (opts.k === undefined) throw new ArgumentError("k-means needs --k");
    const km = kmeans(x, { k: opts.k, nInit: opts.nInit, seed: opts.seed, products: rowProducts });
    assigned = km.labels;
    inertia = km.inertia;
  } else if (opts.method === "hdbscan") {
    assigned = hdbscan(x, { minClusterSize: opts.minClusterSize, minSamples: opts.minSamples }).labels;
  } else throw new ArgumentError(`cluster method must be kmeans or hdbscan, got "${opts.method as string}"`);
  const ids = [...new Set(assigned)].filter((c) => c >= 0).sort((a, b) => a - b);
  const keywords =
    texts && (opts.keywords ?? 10) > 0
      ? new Map(clusterKeywords(texts, assigned, { top: opts.keywords ?? 10 }).map((c) => [c.cluster, c]))
      : null;
  const unit = normalizeRows(x);
  const clusters = ids.map((c): ClusterSummary => {
    const members: number[] = [];
    assigned.forEach((l, i) => l === c && members.push(i));
    // the members whose direction is nearest the cluster's mean direction
    const mean = new Float64Array(x.d);
    for (const i of members) for (let j = 0; j < x.d; j++) mean[j] += unit.data[i * x.d + j];
    const score = (i: number) => {
      let s = 0;
      for (let j = 0; j < x.d; j++) s += mean[j] * unit.data[i * x.d + j];
      return s;
    };
    const examples = members
      .map((i) => ({ i, s: score(i) }))
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .slice(0, opts.examples ?? 3)
      .map((e) => e.i);
    return {
      cluster: c,
      size: members.length,
      keywords: keywords?.get(c)?.keywords ?? [],
      examples,
    };
  });
  const result: ClusterResult = {
    method: opts.method,
    labels: assigned,
    clusters,
    noise: assigned.filter((l) => l < 0).length,
    ...(inertia !== undefined ? { inertia } : {}),
    seconds: 0,
  };
  if (opts.duplicates !== undefined) result.duplicates = nearDuplicates(x, opts.duplicates, rowProducts);
  if (labels) {
    const pred = Array.from(assigned);
    result.agreement = {
      ari: adjustedRandScore(labels, pred),
      nmi: normalizedMutualInfoScore(labels, pred),
      classes: new Set(labels).size,
    };
  }
  result.seconds = (Date.now() - t0) / 1000;
  return result;
}

/** The clusters as a Markdown report: sizes, keywords and example documents (and agreement, duplicates). */
export function clusterReport(r: ClusterResult, texts: readonly string[] | null, title = "Clusters"): string {
  const cut = (s: string) => (s.length > 160 ? `${s.slice(0, 157)}…` : s).replace(/\|/g, "\\|");
  const lines = [`# ${title}`, ""];
  lines.push(
    `${r.method === "kmeans" ? "k-means" : "HDBSCAN"}: ${r.clusters.length} clusters of ${r.labels.length} documents` +
      (r.noise ? `, ${r.noise} noise` : "") +
      (r.inertia !== undefined ? `, inertia ${r.inertia.toFixed(2)}` : "") +
      ".",
    "",
  );
  if (r.agreement)
    lines.push(
      `Against the documents' labels (${r.agreement.classes} classes, not used to cluster): adjusted Rand index ${r.agreement.ari.toFixed(4)}, NMI ${r.agreement.nmi.toFixed(4)}.`,
      "",
    );
  lines.push("| cluster | size | keywords | examples |", "|---:|---:|---|---|");
  for (const c of r.clusters)
    lines.push(
      `| ${c.cluster} | ${c.size} | ${c.keywords.map((k) => k.term).join(", ")} | ${
        texts ? c.examples.map((i) => cut(texts[i])).join("<br>") : c.examples.join(", ")
      } |`,
    );
  if (r.duplicates) {
    lines.push("", `## Near-duplicate groups (${r.duplicates.length})`, "");
    for (const g of r.duplicates.slice(0, 50))
      lines.push(`- ${g.map((i) => (texts ? `${i}: ${cut(texts[i])}` : String(i))).join(" / ")}`);
  }
  return lines.join("\n") + "\n";
}
