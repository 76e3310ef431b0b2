/**
 * HNSW from hnswlib (nmslib's C++ library, through the npm package hnswlib-node, an optional dependency built from
 * source by node-gyp at install): the index `graft search index --kind hnsw` builds when the package loaded.
 * `loadHnswlib()` answers null when it is not installed or its build failed; callers fall back to the HNSW written
 * here (hnsw.ts) and say so. Metrics map to hnswlib's spaces: cosine → "cosine" (1 − cos), dot → "ip" (1 − dot),
 * l2 → "l2" (squared distance); hits carry graft's scores (cosine, dot, Euclidean distance), best first.
 */
import { createRequire } from "node:module";
import { ArgumentError } from "../../util/errors.js";
import { checkMatrix, type Matrix } from "./matrix.js";
import type { Hit, SearchMetric } from "./search.js";

interface NativeIndex {
  initIndex(opts: { maxElements: number; m?: number; efConstruction?: number; randomSeed?: number }): void;
  readIndexSync(file: string): void;
  writeIndexSync(file: string): void;
  addPoint(point: number[], label: number): void;
  searchKnn(query: number[], k: number): { distances: number[]; neighbors: number[] };
  setEf(ef: number): void;
  getCurrentCount(): number;
}
type NativeCtor = new (space: "l2" | "ip" | "cosine", dim: number) => NativeIndex;

const SPACES: Record<SearchMetric, "l2" | "ip" | "cosine"> = { cosine: "cosine", dot: "ip", l2: "l2" };

/** An hnswlib index over a collection (row i has label i). */
export class HnswlibIndex {
  constructor(
    private readonly index: NativeIndex,
    readonly metric: SearchMetric,
    readonly d: number,
  ) {}

  get size(): number {
    return this.index.getCurrentCount();
  }

  /** The beam width of later queries (hnswlib's ef; at least k). */
  setEf(ef: number): void {
    this.index.setEf(ef);
  }

  /** The k nearest rows to each query, best first (fewer when the collection is smaller). */
  search(queries: Matrix, k: number): Hit[][] {
    checkMatrix(queries, "queries");
    if (queries.d !== this.d)
      throw new ArgumentError(`queries have ${queries.d} values, the index's vectors ${this.d}`);
    const kk = Math.min(k, this.size);
    const out: Hit[][] = [];
    for (let i = 0; i < queries.n; i++) {
      const row = Array.from(queries.data.subarray(i * this.d, (i + 1) * this.d));
      const r = kk > 0 ? this.index.searchKnn(row, kk) : { distances: [], neighbors: [] };
      const hits = r.neighbors.map((index, j) => {
        const dist = r.distances[j];
        return { index, score: this.metric === "l2" ? Math.sqrt(Math.max(0, dist)) : 1 - dist };
      });
      // hnswlib answers nearest first; equal distances by smaller row, as exact search breaks ties
      hits.sort((a, b) => (this.metric === "l2" ? a.score - b.score : b.score - a.score) || a.index - b.index);
      out.push(hits);
    }
    return out;
  }

  /** Writes hnswlib's own index file. */
  save(file: string): void {
    this.index.writeIndexSync(file);
  }
}

/** hnswlib-node's constructors when the optional dependency is installed and built, else null. */
export interface Hnswlib {
  build(x: Matrix, metric: SearchMetric, o?: { m?: number; efConstruction?: number; seed?: number }): HnswlibIndex;
  load(file: string, metric: SearchMetric, d: number): HnswlibIndex;
}

let cached: Hnswlib | null | undefined;

/** Loads hnswlib-node once (null, without throwing, when it is missing or failed to build). */
export function loadHnswlib(): Hnswlib | null {
  if (cached !== undefined) return cached;
  let Ctor: NativeCtor;
  try {
    Ctor = (createRequire(import.meta.url)("hnswlib-node") as { HierarchicalNSW: NativeCtor }).HierarchicalNSW;
    new Ctor("l2", 1); // the addon loads
  } catch {
    cached = null;
    return null;
  }
  cached = {
    build(x, metric, o = {}) {
      checkMatrix(x, "collection");
      const index = new Ctor(SPACES[metric], x.d);
      index.initIndex({
        maxElements: Math.max(1, x.n),
        m: o.m ?? 16,
        efConstruction: o.efConstruction ?? 200,
        randomSeed: o.seed ?? 100,
      });
      for (let i = 0; i < x.n; i++) index.addPoint(Array.from(x.data.subarray(i * x.d, (i + 1) * x.d)), i);
      return new HnswlibIndex(index, metric, x.d);
    },
    load(file, metric, d) {
      const index = new Ctor(SPACES[metric], d);
      index.readIndexSync(file);
      return new HnswlibIndex(index, metric, d);
    },
  };
  return cached;
}
