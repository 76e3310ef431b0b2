/**
 * `graft search index`: embed a file's documents with an encoder (or take a vectors file) and write a search
 * index directory (exact blocked search, or HNSW for large collections); `graft search query`: the best documents
 * for query texts, or recall@k and MRR when the queries are paired with the documents row by row
 * (src/tasks/search-index.ts; `graft serve` serves an index directory as a model).
 */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { readExamples } from "../data/index.js";
import type { Matrix, SearchMetric } from "../data/vectors/index.js";
import { Embedder, type Pooling } from "../methods/sentence.js";
import { loadVectors } from "../methods/vector-files.js";
import { loadPredictor } from "../tasks/predictor.js";
import {
  SearchIndex,
  indexModelDir,
  searchTexts,
  type IndexKind,
  type SearchDocument,
  type SearchHit,
} from "../tasks/search-index.js";
import { ArgumentError } from "../util/errors.js";
import { opt, switchesOnly } from "../util/options.js";
import { readOptionsFrom, readSchema } from "./data.js";
import { addOptions, resolveFlags } from "./options.js";

/** Collections larger than this get an HNSW index under --kind auto. */
export const HNSW_FROM = 50_000;

export const SEARCH_INDEX_SWITCHES = switchesOnly({
  model: opt.string({ flag: "--model <dir>", help: "the encoder that embeds documents and queries" }),
  data: opt.string({ required: true, flag: "--data <file>", help: "the documents (CSV/TSV/JSONL, or one per line)" }),
  embeddings: opt.string({ flag: "--embeddings <file>", help: "use these vectors of --data (from graft embed)" }),
  out: opt.string({ required: true, flag: "--out <dir>", help: "the index directory" }),
  kind: opt.enum(["auto", "exact", "hnsw"], {
    default: "auto",
    help: `exact blocked search, HNSW, or auto (HNSW above ${HNSW_FROM.toLocaleString("en-US")} documents)`,
  }),
  metric: opt.enum(["cosine", "dot", "l2"], { default: "cosine", help: "similarity" }),
  m: opt.integer({ default: 16, min: 2, flag: "--m <n>", help: "HNSW: neighbours per node and layer" }),
  efConstruction: opt.integer({ default: 200, min: 1, help: "HNSW: beam width while building" }),
  efSearch: opt.integer({ default: 64, min: 1, help: "HNSW: beam width of a query" }),
  hnswLibrary: opt.enum(["auto", "hnswlib", "graft"], {
    default: "auto",
    help: "HNSW: hnswlib's (the optional dependency hnswlib-node), graft's own, or auto (hnswlib when installed)",
  }),
  k: opt.integer({ default: 10, min: 1, flag: "--k <n>", help: "hits per query by default" }),
  pooling: opt.enum(["mean", "cls"], { help: "pooling", defaultHelp: "the model's" }),
  batchSize: opt.integer({ default: 32, min: 1, help: "texts per forward pass" }),
  limit: opt.integer({ default: 0, min: 0, help: "index only the first N documents (0 = all)" }),
  seed: opt.integer({ default: 0, help: "HNSW level seed" }),
  ...readSchema("fail"),
});

export const SEARCH_QUERY_SWITCHES = switchesOnly({
  index: opt.string({ required: true, flag: "--index <dir>", help: "an index directory (graft search index)" }),
  query: opt.list("string", { flag: "--query <texts...>", help: "query texts" }),
  queries: opt.string({ flag: "--queries <file>", help: "a file of query texts" }),
  queryEmbeddings: opt.string({
    flag: "--query-embeddings <file>",
    help: "vectors of the queries (from graft embed with the index's encoder) instead of embedding them",
  }),
  paired: opt.boolean({ help: "query i's match is document i: report recall@k and MRR" }),
  k: opt.integer({ min: 1, flag: "--k <n>", help: "hits per query", defaultHelp: "the index's" }),
  efSearch: opt.integer({ min: 1, help: "HNSW: beam width", defaultHelp: "the index's" }),
  limit: opt.integer({ default: 0, min: 0, help: "only the first N queries (0 = all)" }),
  batchSize: opt.integer({ default: 32, min: 1, help: "queries per forward pass" }),
  json: opt.boolean({ help: "print JSON" }),
  ...readSchema("fail"),
});

export function register(program: Command): void {
  const search = program.command("search").description("semantic search: build an index of embeddings and query it");
  addOptions(
    search.command("index").description("embed documents and write a search index directory"),
    SEARCH_INDEX_SWITCHES,
  )
    .addHelpText(
      "after",
      "\nExamples:\n  graft search index --model models/graft-base --data docs.tsv --out docs-index\n  graft search index --model my-encoder --data docs.tsv --embeddings docs.safetensors --out docs-index --kind hnsw\n",
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(SEARCH_INDEX_SWITCHES, command);
      if (f.model === undefined && f.embeddings === undefined)
        throw new ArgumentError("give --model DIR (the encoder) or --embeddings FILE (vectors of --data)");
      const { examples } = await readExamples(f.data, readOptionsFrom(f));
      const kept = f.limit > 0 ? examples.slice(0, f.limit) : examples;
      if (!kept.length) throw new ArgumentError(`${f.data}: no documents`);
      const documents: SearchDocument[] = kept.map((e) => ({
        text: e.text,
        ...(e.textPair !== undefined ? { textPair: e.textPair } : {}),
        ...(e.label !== undefined ? { label: e.label } : {}),
        line: e.line,
      }));
      let vectors: Matrix;
      let pooling: Pooling = "mean";
      let normalize = true;
      if (f.embeddings !== undefined) {
        const v = await loadVectors(f.embeddings);
        if (v.n < kept.length) throw new ArgumentError(`${f.embeddings}: ${v.n} vectors for ${kept.length} documents`);
        vectors = { data: v.data.subarray(0, kept.length * v.d), n: kept.length, d: v.d };
        pooling = (v.metadata.pooling as Pooling | undefined) ?? (f.pooling as Pooling | undefined) ?? "mean";
        normalize = v.metadata.normalize !== "false";
      } else {
        const e = new Embedder(f.model!, f.pooling ? { pooling: f.pooling as Pooling } : {});
        vectors = await e.embedTexts(
          documents.map((d) => d.text),
          { batchSize: f.batchSize },
        );
        pooling = e.pooling;
        normalize = e.normalize;
      }
      const kind: IndexKind = f.kind === "auto" ? (vectors.n > HNSW_FROM ? "hnsw" : "exact") : (f.kind as IndexKind);
      const t0 = Date.now();
      const index = SearchIndex.build(vectors, documents, {
        model: f.model !== undefined ? resolve(f.model) : null,
        pooling,
        normalize,
        metric: f.metric as SearchMetric,
        kind,
        k: f.k,
        ...(kind === "hnsw"
          ? {
              hnsw: {
                m: f.m,
                efConstruction: f.efConstruction,
                efSearch: f.efSearch,
                seed: f.seed,
                ...(f.hnswLibrary === "auto" ? {} : { library: f.hnswLibrary as "hnswlib" | "graft" }),
              },
            }
          : {}),
      });
      mkdirSync(f.out, { recursive: true });
      index.save(f.out, vectors);
      for (const note of index.notes) process.stderr.write(`note: ${note}\n`);
      process.stderr.write(
        `${vectors.n} documents (${vectors.d} values each), ${kind} index built in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${f.out}\n`,
      );
    });

  addOptions(search.command("query").description("the best documents for query texts"), SEARCH_QUERY_SWITCHES)
    .addHelpText(
      "after",
      '\nExamples:\n  graft search query --index docs-index --query "oil prices rise"\n  graft search query --index docs-index --queries titles.tsv --paired --k 10\n',
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(SEARCH_QUERY_SWITCHES, command);
      if ((f.query === undefined) === (f.queries === undefined))
        throw new ArgumentError("give either --query TEXT... or --queries FILE");
      const index = SearchIndex.load(f.index);
      for (const note of index.notes) process.stderr.write(`note: ${note}\n`);
      let texts =
        f.query ??
        (await readExamples(f.queries!, { labelColumn: null, ...readOptionsFrom(f) })).examples.map((e) => e.text);
      if (f.limit > 0) texts = texts.slice(0, f.limit);
      if (f.efSearch !== undefined) index.setEfSearch(f.efSearch);
      const encoder = loadPredictor(indexModelDir(f.index, index.config));
      const k = f.k ?? index.config.k;
      const hits: SearchHit[][] = [];
      const t0 = Date.now();
      for (let s = 0; s < texts.length; s += f.batchSize)
        hits.push(...(await searchTexts(index, encoder, texts.slice(s, s + f.batchSize), k)));
      const seconds = (Date.now() - t0) / 1000;
      if (f.paired) {
        if (texts.length > index.size)
          throw new ArgumentError(`--paired: ${texts.length} queries but only ${index.size} documents`);
        let found = 0,
          rr = 0;
        hits.forEach((list, i) => {
          const rank = list.findIndex((h) => h.index === i);
          if (rank >= 0) {
            found++;
            rr += 1 / (rank + 1);
          }
        });
        const r = { queries: texts.length, k, recall: found / texts.length, mrr: rr / texts.length, seconds };
        process.stdout.write(
          f.json
            ? `${JSON.stringify(r)}\n`
            : `${r.queries} paired queries: recall@${k} ${r.recall.toFixed(4)}, MRR@${k} ${r.mrr.toFixed(4)} (${(r.queries / seconds).toFixed(1)} queries/s)\n`,
        );
        return;
      }
      if (f.json) {
        process.stdout.write(`${JSON.stringify(texts.map((q, i) => ({ query: q, hits: hits[i] })))}\n`);
        return;
      }
      const cut = (s: string) => (s.length > 120 ? `${s.slice(0, 117)}…` : s);
      const lines: string[] = [];
      texts.forEach((q, i) => {
        lines.push(`query: ${q}`);
        hits[i].forEach((h, r) =>
          lines.push(`  ${String(r + 1).padStart(2)}. ${h.score.toFixed(4)}  [${h.index}] ${cut(h.document.text)}`),
        );
      });
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
