/**
 * `graft cluster`: k-means or HDBSCAN on a file's embeddings (a vectors file, a sentence encoder, or TF-IDF),
 * with c-TF-IDF keywords, sizes and examples per cluster, near-duplicate groups, and ARI/NMI against the
 * documents' labels where the file has them (src/methods/cluster.ts).
 */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { readExamples } from "../data/index.js";
import { clusterDocuments, clusterReport, tfidfVectors, type ClusterMethod } from "../methods/cluster.js";
import { Embedder, type Pooling } from "../methods/sentence.js";
import { loadVectors } from "../methods/vector-files.js";
import type { Matrix } from "../data/vectors/index.js";
import { ArgumentError } from "../util/errors.js";
import { opt, switchesOnly } from "../util/options.js";
import { readOptionsFrom, readSchema } from "./data.js";
import { addOptions, resolveFlags } from "./options.js";

export const CLUSTER_SWITCHES = switchesOnly({
  embeddings: opt.string({
    flag: "--embeddings <file>",
    help: "vectors file (.safetensors or .jsonl from graft embed)",
  }),
  model: opt.string({ flag: "--model <dir>", help: "embed --data with this encoder" }),
  tfidf: opt.boolean({ help: "cluster TF-IDF vectors of --data (a baseline)" }),
  data: opt.string({ flag: "--data <file>", help: "the documents (texts for keywords; labels, if any, for ARI/NMI)" }),
  method: opt.enum(["kmeans", "hdbscan"], { default: "kmeans", help: "clustering algorithm" }),
  k: opt.integer({ min: 1, flag: "--k <n>", help: "k-means: clusters" }),
  nInit: opt.integer({ default: 3, min: 1, help: "k-means: seeded runs, the best inertia kept" }),
  minClusterSize: opt.integer({ default: 5, min: 2, help: "HDBSCAN: smallest cluster" }),
  minSamples: opt.integer({ min: 1, help: "HDBSCAN: neighbours of a core point", defaultHelp: "min cluster size" }),
  keywords: opt.integer({ default: 10, min: 0, help: "c-TF-IDF keywords per cluster" }),
  examples: opt.integer({ default: 3, min: 0, help: "example documents per cluster" }),
  duplicates: opt.number({ flag: "--duplicates <cosine>", help: "also list near-duplicate groups at this cosine" }),
  pooling: opt.enum(["mean", "cls"], { help: "--model: pooling", defaultHelp: "the model's" }),
  batchSize: opt.integer({ default: 32, min: 1, help: "--model: texts per forward pass" }),
  limit: opt.integer({ default: 0, min: 0, help: "only the first N documents (0 = all)" }),
  seed: opt.integer({ default: 0, help: "k-means seed" }),
  out: opt.string({ flag: "--out <file>", help: "write each document's cluster (JSONL)" }),
  report: opt.string({ flag: "--report <file>", help: "write a Markdown report (sizes, keywords, examples)" }),
  json: opt.boolean({ help: "print JSON" }),
  ...readSchema("fail"),
});

export function register(program: Command): void {
  const cmd = program
    .command("cluster")
    .description("cluster documents by their embeddings (k-means, HDBSCAN) with topic keywords and near-duplicates");
  addOptions(cmd, CLUSTER_SWITCHES)
    .addHelpText(
      "after",
      "\nExamples:\n  graft cluster --model models/graft-base --data news.tsv --k 4 --report clusters.md\n  graft cluster --embeddings news.safetensors --data news.tsv --method hdbscan --min-cluster-size 10\n  graft cluster --tfidf --data news.tsv --k 4 --duplicates 0.95\n",
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(CLUSTER_SWITCHES, command);
      const sources = [f.embeddings !== undefined, f.model !== undefined, f.tfidf].filter(Boolean).length;
      if (sources !== 1) throw new ArgumentError("give one of --embeddings FILE, --model DIR (with --data) or --tfidf");
      if ((f.model !== undefined || f.tfidf) && f.data === undefined)
        throw new ArgumentError(`${f.tfidf ? "--tfidf" : "--model"} needs --data FILE (the texts)`);
      if (f.method === "kmeans" && f.k === undefined)
        throw new ArgumentError("k-means needs --k (or --method hdbscan)");
      let texts: string[] | null = null;
      let labels: (string | number)[] | null = null;
      if (f.data !== undefined) {
        const { examples } = await readExamples(f.data, readOptionsFrom(f));
        const kept = f.limit > 0 ? examples.slice(0, f.limit) : examples;
        texts = kept.map((e) => e.text);
        if (kept.length && kept.every((e) => e.label !== undefined && e.label !== ""))
          labels = kept.map((e) => e.label!);
      }
      let x: Matrix;
      if (f.embeddings !== undefined) {
        const v = await loadVectors(f.embeddings);
        x = f.limit > 0 && f.limit < v.n ? { data: v.data.subarray(0, f.limit * v.d), n: f.limit, d: v.d } : v;
        if (!texts && v.records?.every((r) => typeof r.text === "string"))
          texts = v.records.slice(0, x.n).map((r) => r.text as string);
        if (texts && texts.length !== x.n)
          throw new ArgumentError(`${f.data}: ${texts.length} documents, but ${f.embeddings} holds ${x.n} vectors`);
      } else if (f.model !== undefined) {
        const e = new Embedder(f.model, f.pooling ? { pooling: f.pooling as Pooling } : {});
        x = await e.embedTexts(texts!, { batchSize: f.batchSize });
      } else x = tfidfVectors(texts!);
      const r = clusterDocuments(
        x,
        texts,
        {
          method: f.method as ClusterMethod,
          k: f.k,
          nInit: f.nInit,
          minClusterSize: f.minClusterSize,
          minSamples: f.minSamples,
          seed: f.seed,
          keywords: f.keywords,
          examples: f.examples,
          duplicates: f.duplicates,
        },
        labels,
      );
      if (f.out !== undefined)
        writeFileSync(
          f.out,
          Array.from(r.labels, (c, i) =>
            JSON.stringify({ index: i, cluster: c, ...(texts ? { text: texts[i] } : {}) }),
          ).join("\n") + "\n",
        );
      const report = clusterReport(r, texts);
      if (f.report !== undefined) writeFileSync(f.report, report);
      if (f.json) process.stdout.write(`${JSON.stringify({ ...r, labels: Array.from(r.labels) })}\n`);
      else process.stdout.write(report);
    });
}
