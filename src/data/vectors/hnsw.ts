/**
 * A compact HNSW index (Malkov & Yashunin 2016, the algorithm hnswlib implements): each vector gets a level drawn
 * from an exponential distribution (mL = 1 / ln M); a search descends greedily through the upper layers and runs
 * a beam of width ef in layer 0; an insertion links a node to M neighbours per layer (2M in layer 0) chosen by
 * the heuristic that skips a candidate closer to an already chosen neighbour than to the node, and shrinks a
 * neighbour's list the same way when it overflows. Distances: 1 − cosine (rows normalized), 1 − dot, or squared
 * Euclidean. Seeded, so an index built twice is the same. The graph serializes to flat integer arrays.
 */
import { ArgumentError } from "../../util/errors.js";
import { Rng } from "../../util/rng.js";
import { checkMatrix, dist2At, dotAt, normalizeRows, type Matrix } from "./matrix.js";
import type { Hit, SearchMetric } from "./search.js";

export interface HnswOptions {
  metric?: SearchMetric;
  /** Neighbours per node and layer (layer 0: 2M; default 16). */
  m?: number;
  /** Beam width while building (default 200). */
  efConstruction?: number;
  /** Beam width of a search (default 64; raised to k when smaller). */
  efSearch?: number;
  seed?: number;
}

/** The serialized graph: per node its level, and the neighbour lists of every (node, layer) in order. */
export interface HnswGraph {
  levels: Int32Array;
  /** Start of each (node, layer) list in `neighbors`, node-major (n·(level+1) lists) plus a final end. */
  offsets: Int32Array;
  neighbors: Int32Array;
  entry: number;
  m: number;
  efConstruction: number;
}

/** A binary heap of (distance, id) pairs; `max` orders the farthest first. */
class Heap {
  private d: number[] = [];
  private i: number[] = [];
  constructor(private readonly max: boolean) {}
  get size() {
    return this.d.length;
  }
  private before(a: number, b: number) {
    return this.max ? this.d[a] > this.d[b] : this.d[a] < this.d[b];
  }
  private swap(a: number, b: number) {
    [this.d[a], this.d[b]] = [this.d[b], this.d[a]];
    [this.i[a], this.i[b]] = [this.i[b], this.i[a]];
  }
  push(dist: number, id: number) {
    this.d.push(dist);
    this.i.push(id);
    let c = this.d.length - 1;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (!this.before(c, p)) break;
      this.swap(c, p);
      c = p;
    }
  }
  topDist() {
    return this.d[0];
  }
  topId() {
    return this.i[0];
  }
  pop(): [number, number] {
    const top: [number, number] = [this.d[0], this.i[0]];
    const ld = this.d.pop()!,
      li = this.i.pop()!;
    if (this.d.length) {
      this.d[0] = ld;
      this.i[0] = li;
      let p = 0;
      for (;;) {
        const l = 2 * p + 1,
          r = l + 1;
        let b = p;
        if (l < this.d.length && this.before(l, b)) b = l;
        if (r < this.d.length && this.before(r, b)) b = r;
        if (b === p) break;
        this.swap(p, b);
        p = b;
      }
    }
    return top;
  }
}

export class HnswIndex {
  readonly metric: SearchMetric;
  readonly m: number;
  readonly efConstruction: number;
  efSearch: number;
  private readonly data: Matrix;
  /** links[node][layer] */
  private readonly links: Int32Array[][] = [];
  private readonly levels: number[] = [];
  private entry = -1;
  private maxLevel = -1;
  private readonly rng: Rng;
  private visited: Uint32Array;
  private visitTag = 0;

  /** An index over `collection` (all rows inserted in order unless a graph is given). */
  constructor(collection: Matrix, opts: HnswOptions = {}, graph?: HnswGraph) {
    checkMatrix(collection, "collection");
    this.metric = opts.metric ?? "cosine";
    this.m = graph?.m ?? opts.m ?? 16;
    this.efConstruction = graph?.efConstruction ?? opts.efConstruction ?? 200;
    this.efSearch = opts.efSearch ?? 64;
    if (!Number.isInteger(this.m) || this.m < 2)
      throw new ArgumentError(`hnsw: M must be an integer ≥ 2, got ${this.m}`);
    this.data = this.metric === "cosine" ? normalizeRows(collection) : collection;
    this.rng = new Rng(opts.seed ?? 0);
    this.visited = new Uint32Array(collection.n);
    if (graph) this.load(graph);
    else for (let i = 0; i < collection.n; i++) this.insert(i);
  }

  get size(): number {
    return this.data.n;
  }

  private dist(a: Matrix["data"], ao: number, id: number): number {
    const { d, data } = this.data;
    if (this.metric === "l2") return dist2At(a, ao, data, id * d, d);
    return 1 - dotAt(a, ao, data, id * d, d);
  }

  private nodeDist(a: number, b: number): number {
    return this.dist(this.data.data, a * this.data.d, b);
  }

  /** Beam search of one layer from the entry points: a max-heap of the ef nearest found. */
  private searchLayer(q: Matrix["data"], qo: number, entries: number[], ef: number, layer: number): Heap {
    if (++this.visitTag === 0xffffffff) {
      this.visited.fill(0);
      this.visitTag = 1;
    }
    const tag = this.visitTag;
    const cand = new Heap(false);
    const found = new Heap(true);
    for (const e of entries) {
      const dd = this.dist(q, qo, e);
      this.visited[e] = tag;
      cand.push(dd, e);
      found.push(dd, e);
    }
    while (cand.size) {
      const [cd, c] = cand.pop();
      if (cd > found.topDist() && found.size >= ef) break;
      const list = this.links[c][layer];
      for (let t = 0; t < list.length; t++) {
        const nb = list[t];
        if (this.visited[nb] === tag) continue;
        this.visited[nb] = tag;
        const dd = this.dist(q, qo, nb);
        if (found.size < ef || dd < found.topDist()) {
          cand.push(dd, nb);
          found.push(dd, nb);
          if (found.size > ef) found.pop();
        }
      }
    }
    return found;
  }

  /** The heuristic choice of at most `max` neighbours among candidates sorted nearest first. */
  private selectNeighbors(cands: [number, number][], max: number): number[] {
    const out: number[] = [];
    for (const [dd, c] of cands) {
      if (out.length >= max) break;
      let keep = true;
      for (const o of out)
        if (this.nodeDist(c, o) < dd) {
          keep = false;
          break;
        }
      if (keep) out.push(c);
    }
    return out;
  }

  private static sortedOf(h: Heap): [number, number][] {
    const out: [number, number][] = [];
    while (h.size) out.push(h.pop());
    return out.reverse();
  }

  private insert(id: number): void {
    const level = Math.floor(-Math.log(1 - this.rng.uniform()) / Math.log(this.m));
    this.levels[id] = level;
    this.links[id] = Array.from({ length: level + 1 }, () => new Int32Array(0));
    if (this.entry < 0) {
      this.entry = id;
      this.maxLevel = level;
      return;
    }
    const { d, data } = this.data;
    const qo = id * d;
    let ep = this.entry;
    for (let l = this.maxLevel; l > level; l--) ep = this.greedy(data, qo, ep, l);
    let entries = [ep];
    for (let l = Math.min(level, this.maxLevel); l >= 0; l--) {
      const found = HnswIndex.sortedOf(this.searchLayer(data, qo, entries, this.efConstruction, l));
      const max = l === 0 ? 2 * this.m : this.m;
      const chosen = this.selectNeighbors(found, this.m);
      this.links[id][l] = Int32Array.from(chosen);
      for (const nb of chosen) {
        const list = this.links[nb][l];
        if (list.length < max) {
          const grown = new Int32Array(list.length + 1);
          grown.set(list);
          grown[list.length] = id;
          this.links[nb][l] = grown;
        } else {
          const all: [number, number][] = [...list, id].map((c) => [this.nodeDist(nb, c), c]);
          all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
          this.links[nb][l] = Int32Array.from(this.selectNeighbors(all, max));
        }
      }
      entries = found.map((f) => f[1]);
    }
    if (level > this.maxLevel) {
      this.maxLevel = level;
      this.entry = id;
    }
  }

  /** Greedy descent in one layer: the nearest node reachable by always moving closer. */
  private greedy(q: Matrix["data"], qo: number, start: number, layer: number): number {
    let cur = start;
    let curD = this.dist(q, qo, cur);
    for (let moved = true; moved; ) {
      moved = false;
      for (const nb of this.links[cur][layer]) {
        const dd = this.dist(q, qo, nb);
        if (dd < curD) {
          curD = dd;
          cur = nb;
          moved = true;
        }
      }
    }
    return cur;
  }

  /** The (approximately) k nearest rows to each query, best first. */
  search(queries: Matrix, k: number): Hit[][] {
    checkMatrix(queries, "queries");
    if (queries.d !== this.data.d)
      throw new ArgumentError(`queries have ${queries.d} values, the collection's vectors ${this.data.d}`);
    if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`k must be a positive integer, got ${k}`);
    const q = this.metric === "cosine" ? normalizeRows(queries) : queries;
    const out: Hit[][] = [];
    for (let i = 0; i < q.n; i++) {
      if (this.entry < 0) {
        out.push([]);
        continue;
      }
      const qo = i * q.d;
      let ep = this.entry;
      for (let l = this.maxLevel; l > 0; l--) ep = this.greedy(q.data, qo, ep, l);
      const found = HnswIndex.sortedOf(this.searchLayer(q.data, qo, [ep], Math.max(this.efSearch, k), 0));
      out.push(
        found.slice(0, k).map(([dd, id]) => ({
          index: id,
          score: this.metric === "l2" ? Math.sqrt(Math.max(0, dd)) : 1 - dd,
        })),
      );
    }
    return out;
  }

  /** The graph as flat arrays (to save beside the vectors). */
  graph(): HnswGraph {
    const offsets: number[] = [0];
    const neighbors: number[] = [];
    for (let i = 0; i < this.data.n; i++)
      for (const list of this.links[i]) {
        neighbors.push(...list);
        offsets.push(neighbors.length);
      }
    return {
      levels: Int32Array.from(this.levels),
      offsets: Int32Array.from(offsets),
      neighbors: Int32Array.from(neighbors),
      entry: this.entry,
      m: this.m,
      efConstruction: this.efConstruction,
    };
  }

  private load(g: HnswGraph): void {
    const n = this.data.n;
    if (g.levels.length !== n) throw new ArgumentError(`hnsw graph: ${g.levels.length} levels for ${n} vectors`);
    let list = 0;
    for (let i = 0; i < n; i++) {
      const lv = g.levels[i];
      this.levels[i] = lv;
      this.links[i] = [];
      for (let l = 0; l <= lv; l++, list++) {
        if (list + 1 >= g.offsets.length) throw new ArgumentError("hnsw graph: the offsets end early");
        const nb = g.neighbors.subarray(g.offsets[list], g.offsets[list + 1]);
        for (const v of nb) if (v < 0 || v >= n) throw new ArgumentError(`hnsw graph: neighbour ${v} out of range`);
        this.links[i].push(Int32Array.from(nb));
      }
      if (lv > this.maxLevel) this.maxLevel = lv;
    }
    if (g.entry < 0 || g.entry >= n) throw new ArgumentError(`hnsw graph: entry point ${g.entry} out of range`);
    this.entry = g.entry;
    this.maxLevel = g.levels[g.entry];
  }
}
