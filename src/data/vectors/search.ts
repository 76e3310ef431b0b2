/**
 * Exact nearest-neighbour search by blocked inner products: the queries and the collection are taken in blocks
 * so that a block of scores stays in cache, and a bounded heap per query keeps the k best. Metrics: "cosine"
 * (rows normalized first: a dot product), "dot" and "l2" (ranked by squared distance, reported as distance).
 * Near-duplicate groups: pairs whose cosine reaches a threshold, joined into connected groups.
 *
 * Given a `RowProducts` (tensor/'s rowProducts: the engine's GEMM), a block of queries × a block of the collection
 * is one fp32 matrix product; a row that could enter a heap within the product's error bound (productSlack) is
 * re-scored by the exact float64 loop, so the hits, scores and tie order are those of the plain loops.
 */
import { ArgumentError } from "../../util/errors.js";
import {
  checkMatrix,
  dotAt,
  normalizeRows,
  productSlack,
  rowNorms2,
  sqrtAll,
  type Matrix,
  type RowProducts,
} from "./matrix.js";

export type SearchMetric = "cosine" | "dot" | "l2";
export const SEARCH_METRICS: readonly SearchMetric[] = ["cosine", "dot", "l2"];

export interface Hit {
  /** Row of the collection. */
  index: number;
  /** Similarity (cosine, dot) or Euclidean distance (l2). */
  score: number;
}

/** A bounded max-heap on "badness" keeping the k best (smallest badness) ids. */
export class TopK {
  readonly ids: Int32Array;
  readonly bad: Float64Array;
  size = 0;
  constructor(readonly k: number) {
    this.ids = new Int32Array(k);
    this.bad = new Float64Array(k);
  }
  /** The worst kept badness (Infinity while not full). */
  get bound(): number {
    return this.size < this.k ? Infinity : this.bad[0];
  }
  push(id: number, bad: number): void {
    const { ids, bad: b } = this;
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (b[p] > bad || (b[p] === bad && ids[p] > id)) break;
        ids[i] = ids[p];
        b[i] = b[p];
        i = p;
      }
      ids[i] = id;
      b[i] = bad;
      return;
    }
    if (bad > b[0] || (bad === b[0] && id > ids[0])) return;
    let i = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const worse = (x: number, y: number) => b[x] > b[y] || (b[x] === b[y] && ids[x] > ids[y]);
      const c = r < n && worse(r, l) ? r : l;
      if (!(b[c] > bad || (b[c] === bad && ids[c] > id))) break;
      ids[i] = ids[c];
      b[i] = b[c];
      i = c;
    }
    ids[i] = id;
    b[i] = bad;
  }
  /** The kept ids, best first (ties by smaller id). */
  sorted(): { id: number; bad: number }[] {
    return Array.from({ length: this.size }, (_, i) => ({ id: this.ids[i], bad: this.bad[i] })).sort(
      (p, q) => p.bad - q.bad || p.id - q.id,
    );
  }
}

function checkMetric(metric: string): asserts metric is SearchMetric {
  if (!SEARCH_METRICS.includes(metric as SearchMetric))
    throw new ArgumentError(`metric must be one of ${SEARCH_METRICS.join(", ")}, got "${metric}"`);
}

/** An exact index: the collection (normalized for cosine) and its squared norms. */
export class ExactIndex {
  readonly data: Matrix;
  private readonly norms: Float64Array;
  /** The rows' lengths (for the product error bound), computed on the first search with a GEMM. */
  private lengths: Float64Array | null = null;
  /** `products`: block products through a GEMM (see the file comment); without it, plain loops. */
  constructor(
    collection: Matrix,
    readonly metric: SearchMetric = "cosine",
    readonly block = 256,
    readonly products?: RowProducts,
  ) {
    checkMetric(metric);
    checkMatrix(collection, "collection");
    this.data = metric === "cosine" ? normalizeRows(collection) : collection;
    this.norms = rowNorms2(this.data);
  }

  get size(): number {
    return this.data.n;
  }

  /** The k nearest rows to each query, best first. */
  search(queries: Matrix, k: number): Hit[][] {
    checkMatrix(queries, "queries");
    if (queries.d !== this.data.d)
      throw new ArgumentError(`queries have ${queries.d} values, the collection's vectors ${this.data.d}`);
    if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`k must be a positive integer, got ${k}`);
    const q = this.metric === "cosine" ? normalizeRows(queries) : queries;
    const qn = rowNorms2(q);
    const { n, d, data } = this.data;
    const kk = Math.min(k, n);
    const out: Hit[][] = [];
    const B = this.block;
    const l2 = this.metric === "l2";
    // with a GEMM: blocks of the collection 8× longer (one product each), and the error bound of each score
    const CB = this.products ? B * 8 : B;
    const slack = productSlack(d) * (l2 ? 2 : 1);
    const qLen = this.products ? sqrtAll(qn) : null;
    const cLen = this.products ? (this.lengths ??= sqrtAll(this.norms)) : null;
    for (let q0 = 0; q0 < q.n; q0 += B) {
      const q1 = Math.min(q.n, q0 + B);
      const heaps = Array.from({ length: q1 - q0 }, () => new TopK(kk));
      for (let c0 = 0; c0 < n; c0 += CB) {
        const c1 = Math.min(n, c0 + CB);
        if (this.products) {
          const w = c1 - c0;
          const s = this.products(q.data.subarray(q0 * d, q1 * d), q1 - q0, data.subarray(c0 * d, c1 * d), w, d);
          for (let i = q0; i < q1; i++) {
            const h = heaps[i - q0];
            const o = (i - q0) * w;
            const qs = slack * qLen![i];
            for (let j = c0; j < c1; j++) {
              const approx = l2 ? qn[i] + this.norms[j] - 2 * s[o + j - c0] : -s[o + j - c0];
              if (approx - qs * cLen![j] > h.bound) continue;
              const dot = dotAt(q.data, i * d, data, j * d, d);
              const bad = l2 ? qn[i] + this.norms[j] - 2 * dot : -dot;
              if (bad <= h.bound) h.push(j, bad);
            }
          }
          continue;
        }
        for (let i = q0; i < q1; i++) {
          const h = heaps[i - q0];
          for (let j = c0; j < c1; j++) {
            const dot = dotAt(q.data, i * d, data, j * d, d);
            const bad = l2 ? qn[i] + this.norms[j] - 2 * dot : -dot;
            if (bad <= h.bound) h.push(j, bad);
          }
        }
      }
      for (const h of heaps)
        out.push(
          h.sorted().map((e) => ({
            index: e.id,
            score: this.metric === "l2" ? Math.sqrt(Math.max(0, e.bad)) : -e.bad,
          })),
        );
    }
    return out;
  }
}

/**
 * Groups of near-duplicate rows: every pair with cosine ≥ threshold is joined (single linkage), and groups of two
 * or more rows are returned, each sorted, largest group first.
 */
export function nearDuplicates(x: Matrix, threshold: number, products?: RowProducts): number[][] {
  if (!(threshold > -1 && threshold <= 1))
    throw new ArgumentError(`near-duplicate threshold must be a cosine in (-1, 1], got ${threshold}`);
  const m = normalizeRows(x);
  const { n, d, data } = m;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (v: number): number => {
    while (parent[v] !== v) {
      parent[v] = parent[parent[v]];
      v = parent[v];
    }
    return v;
  };
  const join = (i: number, j: number) => {
    if (dotAt(data, i * d, data, j * d, d) < threshold) return;
    const a = find(i),
      b = find(j);
    if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
  };
  if (!products) {
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) join(i, j);
  } else {
    // blocks of pairs in one product each; a pair near the threshold (unit rows: within the slack) is checked exactly
    const B = 1024;
    const cut = threshold - productSlack(d);
    for (let i0 = 0; i0 < n; i0 += B) {
      const i1 = Math.min(n, i0 + B);
      for (let j0 = i0; j0 < n; j0 += B) {
        const j1 = Math.min(n, j0 + B);
        const w = j1 - j0;
        const s = products(data.subarray(i0 * d, i1 * d), i1 - i0, data.subarray(j0 * d, j1 * d), w, d);
        for (let i = i0; i < i1; i++)
          for (let j = Math.max(j0, i + 1); j < j1; j++) if (s[(i - i0) * w + j - j0] >= cut) join(i, j);
      }
    }
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = find(i);
    const g = groups.get(r) ?? [];
    g.push(i);
    groups.set(r, g);
  }
  return [...groups.values()].filter((g) => g.length > 1).sort((a, b) => b.length - a.length || a[0] - b[0]);
}
