/**
 * A semantic search index as a directory: index.json (the encoder, its pooling, the metric, exact or HNSW),
 * vectors.safetensors (the documents' embeddings, and the HNSW graph when there is one) and documents.jsonl (each
 * document's text and other fields). `SearchIndex` answers queries given as vectors; `searchIndexPredictor` wraps
 * one with the encoder that embeds query texts, as a Predictor that `graft serve` loads like any model directory.
 * Vectors are read from the file's byte spans straight into a Float32Array (a collection is one typed array).
 *
 * An HNSW index is hnswlib's (hnswlib-node, an optional dependency; its graph in hnswlib.bin) when that package is
 * installed and built, else the HNSW of data/vectors/hnsw.ts (its graph in vectors.safetensors); index.json's
 * `hnsw.library` says which. An hnswlib index loaded where the package is missing answers by exact search (the
 * exact answers, only slower) and says so in `notes`.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { DataError, GraftError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { Tensor, rowProducts } from "../tensor/index.js";
import { saveSafetensors } from "../io/safetensors.js";
import { readRawTensor } from "../io/raw-tensor.js";
import { loadHnswlib, type HnswlibIndex } from "../data/vectors/hnswlib.js";
import {
  ExactIndex,
  HnswIndex,
  SEARCH_METRICS,
  type Hit,
  type Matrix,
  type SearchMetric,
} from "../data/vectors/index.js";
import type { PredictorInput, TaskPrediction } from "./spec.js";
import { inputText } from "./spec.js";

export const SEARCH_INDEX_FILE = "index.json";
export const SEARCH_VECTORS_FILE = "vectors.safetensors";
export const SEARCH_DOCUMENTS_FILE = "documents.jsonl";
/** hnswlib's own index file, beside the vectors. */
export const HNSWLIB_FILE = "hnswlib.bin";

export type IndexKind = "exact" | "hnsw";

export interface SearchIndexConfig {
  format: "graft-search-index";
  /** The encoder that embedded the documents (and embeds queries); absolute, or relative to the index. */
  model: string | null;
  pooling: "cls" | "mean";
  normalize: boolean;
  metric: SearchMetric;
  kind: IndexKind;
  count: number;
  dim: number;
  /** Hits per query by default. */
  k: number;
  /** `library`: whose HNSW built the graph (absent in indexes written before hnswlib: graft's). */
  hnsw?: { m: number; efConstruction: number; efSearch: number; seed: number; library?: "hnswlib" | "graft" };
}

/** A document: its text and any other fields of its row. */
export type SearchDocument = { text: string } & Record<string, unknown>;

/** A hit with its document. */
export interface SearchHit extends Hit {
  document: SearchDocument;
}

function readRaw(
  path: string,
  name: string,
  dtype: "F32" | "I32",
): { data: Float32Array | Int32Array; shape: number[] } {
  const t = readRawTensor(path, name);
  if ((t.data instanceof Float32Array ? "F32" : "I32") !== dtype)
    throw new DataError(`tensor "${name}" is not ${dtype}`, { file: path });
  return t;
}

/** The vectors and documents of an index, with exact or HNSW search over them. */
export class SearchIndex {
  private readonly exact: ExactIndex | null;
  private readonly hnsw: HnswIndex | HnswlibIndex | null;
  /** What a reader should know about how this index answers (e.g. a fallback). */
  readonly notes: string[] = [];

  constructor(
    readonly config: SearchIndexConfig,
    vectors: Matrix,
    readonly documents: readonly SearchDocument[],
    hnsw?: HnswIndex | HnswlibIndex | null,
  ) {
    if (documents.length !== vectors.n)
      throw new GraftError(`search index: ${documents.length} documents for ${vectors.n} vectors`);
    // building: hnswlib unless the config asks for graft's own (or hnswlib is missing)
    const wanted = config.hnsw?.library;
    const lib = config.kind === "hnsw" && hnsw === undefined && wanted !== "graft" ? loadHnswlib() : null;
    if (config.kind === "hnsw" && hnsw === undefined && wanted === "hnswlib" && !lib)
      throw new GraftError(
        "--hnsw-library hnswlib: hnswlib-node is not installed here (or failed to build)",
        "npm install hnswlib-node (it compiles with node-gyp), or --hnsw-library graft",
      );
    if (config.kind === "hnsw" && hnsw === null) {
      // an hnswlib graph without hnswlib: exact search gives the exact answers
      this.exact = new ExactIndex(vectors, config.metric, 256, rowProducts);
      this.hnsw = null;
      this.notes.push(
        "this index's HNSW graph is hnswlib's, and hnswlib-node is not installed here (or failed to build): queries run by exact search",
      );
    } else if (config.kind === "hnsw" && lib && hnsw === undefined) {
      const index = lib.build(vectors, config.metric, {
        m: config.hnsw?.m,
        efConstruction: config.hnsw?.efConstruction,
        seed: config.hnsw?.seed,
      });
      index.setEf(config.hnsw?.efSearch ?? 64);
      this.hnsw = index;
      this.exact = null;
      config.hnsw = { m: 16, efConstruction: 200, efSearch: 64, seed: 0, ...config.hnsw, library: "hnswlib" };
    } else if (config.kind === "hnsw") {
      if (hnsw === undefined && wanted !== "graft")
        this.notes.push("hnswlib-node is not installed (or failed to build): the index uses graft's own HNSW");
      this.exact = null;
      this.hnsw =
        hnsw ??
        new HnswIndex(vectors, {
          metric: config.metric,
          m: config.hnsw?.m,
          efConstruction: config.hnsw?.efConstruction,
          efSearch: config.hnsw?.efSearch,
          seed: config.hnsw?.seed,
        });
    } else {
      this.exact = new ExactIndex(vectors, config.metric, 256, rowProducts);
      this.hnsw = null;
    }
  }

  /** Builds an index over vectors (row i is documents[i]). */
  static build(
    vectors: Matrix,
    documents: readonly SearchDocument[],
    o: Omit<SearchIndexConfig, "format" | "count" | "dim">,
  ): SearchIndex {
    if (!SEARCH_METRICS.includes(o.metric)) throw new GraftError(`metric must be one of ${SEARCH_METRICS.join(", ")}`);
    return new SearchIndex(
      { format: "graft-search-index", ...o, count: vectors.n, dim: vectors.d },
      vectors,
      documents,
    );
  }

  get size(): number {
    return this.documents.length;
  }

  /** The k best documents for each query vector. */
  /** HNSW: the beam width of later queries (exact search ignores it). */
  setEfSearch(ef: number): void {
    if (this.hnsw instanceof HnswIndex) this.hnsw.efSearch = ef;
    else this.hnsw?.setEf(ef);
  }

  searchVectors(queries: Matrix, k = this.config.k): SearchHit[][] {
    const hits = this.hnsw ? this.hnsw.search(queries, k) : this.exact!.search(queries, k);
    return hits.map((list) => list.map((h) => ({ ...h, document: this.documents[h.index] })));
  }

  /** Writes the index directory. */
  save(dir: string, vectors: Matrix): void {
    const tensors: Record<string, Tensor> = {
      embeddings: new Tensor(vectors.data instanceof Float32Array ? vectors.data : Float32Array.from(vectors.data), [
        vectors.n,
        vectors.d,
      ]),
    };
    const dtypes: Record<string, "F32" | "I32"> = { embeddings: "F32" };
    if (this.hnsw && !(this.hnsw instanceof HnswIndex)) this.hnsw.save(join(dir, HNSWLIB_FILE));
    else if (this.hnsw) {
      const g = this.hnsw.graph();
      for (const [name, arr] of [
        ["hnsw_levels", g.levels],
        ["hnsw_offsets", g.offsets],
        ["hnsw_neighbors", g.neighbors.length ? g.neighbors : new Int32Array(1)],
      ] as const) {
        tensors[name] = new Tensor(arr, [arr.length]);
        dtypes[name] = "I32";
      }
      this.config.hnsw = { ...this.config.hnsw!, m: g.m, efConstruction: g.efConstruction, library: "graft" };
      writeJsonAtomic(join(dir, "hnsw.json"), { entry: g.entry, neighbors: g.neighbors.length });
    }
    saveSafetensors(join(dir, SEARCH_VECTORS_FILE), tensors, { dtypes });
    writeFileSync(
      join(dir, SEARCH_DOCUMENTS_FILE),
      this.documents.map((d) => JSON.stringify(d)).join("\n") + (this.documents.length ? "\n" : ""),
    );
    writeJsonAtomic(join(dir, SEARCH_INDEX_FILE), this.config);
  }

  /** Loads an index directory (errors name the file). */
  static load(dir: string): SearchIndex {
    const file = join(dir, SEARCH_INDEX_FILE);
    let config: SearchIndexConfig;
    try {
      config = JSON.parse(readFileSync(file, "utf8")) as SearchIndexConfig;
    } catch (e) {
      throw new DataError(`not a search index (${(e as Error).message})`, { file });
    }
    if (config.format !== "graft-search-index") throw new DataError(`"format" is not graft-search-index`, { file });
    const vfile = join(dir, SEARCH_VECTORS_FILE);
    const { data, shape } = readRaw(vfile, "embeddings", "F32");
    if (shape.length !== 2 || shape[0] !== config.count || shape[1] !== config.dim)
      throw new DataError(`embeddings are [${shape.join(", ")}], index.json says ${config.count}×${config.dim}`, {
        file: vfile,
      });
    const vectors: Matrix = { data: data as Float32Array, n: shape[0], d: shape[1] };
    const documents: SearchDocument[] = [];
    const dfile = join(dir, SEARCH_DOCUMENTS_FILE);
    let line = 0;
    for (const text of readFileSync(dfile, "utf8").split("\n")) {
      line++;
      if (text === "") continue;
      try {
        documents.push(JSON.parse(text) as SearchDocument);
      } catch (e) {
        throw new DataError(`not JSON (${(e as Error).message})`, { file: dfile, line });
      }
    }
    let hnsw: HnswIndex | HnswlibIndex | null | undefined;
    if (config.kind === "hnsw" && config.hnsw?.library === "hnswlib") {
      const lib = loadHnswlib();
      const file = join(dir, HNSWLIB_FILE);
      if (lib && !existsSync(file)) throw new DataError("missing: index.json says the graph is hnswlib's", { file });
      hnsw = lib ? lib.load(file, config.metric, config.dim) : null;
      if (hnsw) hnsw.setEf(config.hnsw.efSearch ?? 64);
    } else if (config.kind === "hnsw") {
      const meta = JSON.parse(readFileSync(join(dir, "hnsw.json"), "utf8")) as { entry: number; neighbors: number };
      const levels = readRaw(vfile, "hnsw_levels", "I32").data as Int32Array;
      const offsets = readRaw(vfile, "hnsw_offsets", "I32").data as Int32Array;
      const neighbors = (readRaw(vfile, "hnsw_neighbors", "I32").data as Int32Array).subarray(0, meta.neighbors);
      hnsw = new HnswIndex(
        vectors,
        { metric: config.metric, efSearch: config.hnsw?.efSearch },
        {
          levels,
          offsets,
          neighbors,
          entry: meta.entry,
          m: config.hnsw!.m,
          efConstruction: config.hnsw!.efConstruction,
        },
      );
    }
    return new SearchIndex(config, vectors, documents, hnsw);
  }
}

/** Whether a directory holds a search index. */
export function isSearchIndex(dir: string): boolean {
  return existsSync(join(dir, SEARCH_INDEX_FILE)) && existsSync(join(dir, SEARCH_VECTORS_FILE));
}

/** The encoder directory of an index (a relative path is relative to the index). */
export function indexModelDir(dir: string, config: SearchIndexConfig): string {
  if (!config.model) throw new GraftError(`${dir}: the index names no encoder, so it cannot embed text queries`);
  const m = isAbsolute(config.model) ? config.model : resolve(dir, config.model);
  if (!existsSync(m)) throw new GraftError(`${dir}: its encoder ${m} is missing`);
  return m;
}

/** What the search Predictor needs of an encoder. */
export interface QueryEmbedder {
  embed?(texts: readonly string[], options?: { pooling?: "cls" | "mean"; normalize?: boolean }): Promise<number[][]>;
}

/** A prediction of the search kind: the best documents for one query. */
export interface SearchPrediction {
  task: "search";
  hits: { index: number; score: number; document: SearchDocument }[];
  [field: string]: unknown;
}

/** Embeds the query texts with the index's encoder and searches (what the search Predictor's predict does). */
export async function searchTexts(
  index: SearchIndex,
  encoder: QueryEmbedder,
  queries: readonly string[],
  k = index.config.k,
): Promise<SearchHit[][]> {
  if (!encoder.embed) throw new GraftError("the index's encoder does not embed texts");
  if (queries.length === 0) return [];
  const rows = await encoder.embed(queries, { pooling: index.config.pooling, normalize: index.config.normalize });
  const d = rows[0].length;
  const data = new Float32Array(rows.length * d);
  rows.forEach((r, i) => data.set(r, i * d));
  return index.searchVectors({ data, n: rows.length, d }, k);
}

/** A Predictor over a loaded index: each input text is a query; predictions are its top-k documents. */
export function searchIndexPredictor(index: SearchIndex, encoder: QueryEmbedder) {
  return {
    kind: `search index (${index.config.kind}, ${index.size} documents)`,
    task: "search" as const,
    labels: [] as string[],
    embed: encoder.embed?.bind(encoder),
    predict: async (inputs: readonly PredictorInput[]): Promise<TaskPrediction[]> => {
      const hits = await searchTexts(
        index,
        encoder,
        inputs.map((i) => inputText(i).text),
      );
      return hits.map((h): SearchPrediction => ({ task: "search", hits: h }));
    },
  };
}
