/**
 * HDBSCAN (Campello, Moulavi & Sander 2013), as the hdbscan library and scikit-learn's HDBSCAN compute it with
 * Euclidean distances: the core distance of a point is the distance to its min_samples-th nearest neighbour
 * (the point itself counted first); the mutual reachability distance of two points is the largest of their core
 * distances and their distance; its minimum spanning tree (Prim's, O(n²) distances, no n×n matrix held) sorted
 * by weight is the single-linkage hierarchy; the hierarchy is condensed with min_cluster_size (a split where one
 * side is smaller is points falling out of the cluster); each cluster's stability is Σ (λ_p − λ_birth) over its
 * points (λ = 1 / distance); excess-of-mass selection keeps a cluster when its stability is at least the summed
 * stability of its selected descendants (the root is never a cluster). Points outside every selected cluster are
 * noise (label −1).
 */
import { ArgumentError } from "../../util/errors.js";
import { checkMatrix, dist2At, type Matrix } from "./matrix.js";

export interface HdbscanOptions {
  /** Smallest cluster (default 5). */
  minClusterSize?: number;
  /** Neighbours that define a core point (default: minClusterSize). */
  minSamples?: number;
}

export interface HdbscanResult {
  /** Cluster of each row (0..clusters−1), or −1 for noise. */
  labels: Int32Array;
  clusters: number;
  /** Each selected cluster's stability, in label order. */
  stability: number[];
  /** How strongly each point belongs to its cluster: λ_p / λ_max of the cluster (0 for noise). */
  probabilities: Float64Array;
}

/** One row of a condensed tree: parent cluster, child (a point < n or a cluster ≥ n), λ, child size. */
interface CondensedRow {
  parent: number;
  child: number;
  lambda: number;
  size: number;
}

/** Core distances: Euclidean distance to the m-th nearest row (the row itself is the first). */
export function coreDistances(x: Matrix, m: number): Float64Array {
  const { n, d, data } = x;
  const out = new Float64Array(n);
  const best = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    // the m smallest squared distances, kept sorted (insertion: m is small)
    best.fill(Infinity);
    for (let j = 0; j < n; j++) {
      const v = i === j ? 0 : dist2At(data, i * d, data, j * d, d);
      if (v >= best[m - 1]) continue;
      let p = m - 1;
      while (p > 0 && best[p - 1] > v) {
        best[p] = best[p - 1];
        p--;
      }
      best[p] = v;
    }
    out[i] = Math.sqrt(best[m - 1]);
  }
  return out;
}

/** Prim's minimum spanning tree of the mutual reachability graph: n−1 edges [a, b, weight], sorted by weight. */
function mutualReachabilityMst(x: Matrix, core: Float64Array): { a: Int32Array; b: Int32Array; w: Float64Array } {
  const { n, d, data } = x;
  const inTree = new Uint8Array(n);
  const dist = new Float64Array(n).fill(Infinity);
  const from = new Int32Array(n);
  const edges: [number, number, number][] = [];
  let cur = 0;
  inTree[0] = 1;
  for (let e = 0; e < n - 1; e++) {
    let next = -1;
    let nextD = Infinity;
    for (let j = 0; j < n; j++) {
      if (inTree[j]) continue;
      const r = Math.max(Math.sqrt(dist2At(data, cur * d, data, j * d, d)), core[cur], core[j]);
      // as scikit-learn's Prim's: an equal distance moves the edge's source to the newest node
      if (r <= dist[j]) {
        dist[j] = r;
        from[j] = cur;
      }
      if (dist[j] < nextD) {
        nextD = dist[j];
        next = j;
      }
    }
    edges.push([from[next], next, nextD]);
    inTree[next] = 1;
    cur = next;
  }
  // a stable sort by weight (ties keep the order Prim's found them)
  edges.sort((p, q) => p[2] - q[2]);
  return {
    a: Int32Array.from(edges, (e) => e[0]),
    b: Int32Array.from(edges, (e) => e[1]),
    w: Float64Array.from(edges, (e) => e[2]),
  };
}

/** The single-linkage hierarchy of sorted MST edges (scipy's linkage layout): left, right, distance, size. */
function singleLinkage(n: number, mst: { a: Int32Array; b: Int32Array; w: Float64Array }) {
  const parent = new Int32Array(2 * n - 1).map((_, i) => i);
  const size = new Int32Array(2 * n - 1).fill(1);
  const find = (v: number) => {
    let r = v;
    while (parent[r] !== r) r = parent[r];
    while (parent[v] !== r) {
      const nx = parent[v];
      parent[v] = r;
      v = nx;
    }
    return r;
  };
  const left = new Int32Array(n - 1),
    right = new Int32Array(n - 1),
    height = new Float64Array(n - 1),
    count = new Int32Array(n - 1);
  for (let e = 0; e < n - 1; e++) {
    const ra = find(mst.a[e]),
      rb = find(mst.b[e]);
    const node = n + e;
    left[e] = ra;
    right[e] = rb;
    height[e] = mst.w[e];
    count[e] = size[ra] + size[rb];
    size[node] = count[e];
    parent[ra] = node;
    parent[rb] = node;
  }
  return { left, right, height, count };
}

/** Condenses the hierarchy with min_cluster_size (hdbscan's condense_tree). */
function condenseTree(n: number, h: ReturnType<typeof singleLinkage>, minSize: number): CondensedRow[] {
  const root = 2 * n - 2;
  const sizeOf = (node: number) => (node < n ? 1 : h.count[node - n]);
  const relabel = new Int32Array(2 * n - 1);
  relabel[root] = n;
  let nextLabel = n + 1;
  const ignore = new Uint8Array(2 * n - 1);
  const rows: CondensedRow[] = [];
  // the points under a node, breadth first
  const leaves = (node: number): number[] => {
    const out: number[] = [];
    const queue = [node];
    for (let q = 0; q < queue.length; q++) {
      const v = queue[q];
      if (v < n) out.push(v);
      else queue.push(h.left[v - n], h.right[v - n]);
      ignore[v] = 1;
    }
    return out;
  };
  const queue = [root];
  for (let q = 0; q < queue.length; q++) {
    const node = queue[q];
    if (ignore[node] || node < n) continue;
    const l = h.left[node - n],
      r = h.right[node - n];
    queue.push(l, r);
    const dist = h.height[node - n];
    const lambda = dist > 0 ? 1 / dist : Infinity;
    const ls = sizeOf(l),
      rs = sizeOf(r);
    const parent = relabel[node];
    if (ls >= minSize && rs >= minSize) {
      relabel[l] = nextLabel++;
      rows.push({ parent, child: relabel[l], lambda, size: ls });
      relabel[r] = nextLabel++;
      rows.push({ parent, child: relabel[r], lambda, size: rs });
    } else if (ls < minSize && rs < minSize) {
      for (const p of leaves(l)) rows.push({ parent, child: p, lambda, size: 1 });
      for (const p of leaves(r)) rows.push({ parent, child: p, lambda, size: 1 });
    } else if (ls < minSize) {
      relabel[r] = parent;
      for (const p of leaves(l)) rows.push({ parent, child: p, lambda, size: 1 });
    } else {
      relabel[l] = parent;
      for (const p of leaves(r)) rows.push({ parent, child: p, lambda, size: 1 });
    }
  }
  return rows;
}

/** Excess-of-mass selection and labelling of a condensed tree. */
function selectClusters(n: number, rows: CondensedRow[]): HdbscanResult {
  const root = n;
  let maxCluster = root;
  for (const r of rows) if (r.child > maxCluster) maxCluster = r.child;
  const births = new Float64Array(maxCluster + 1);
  for (const r of rows) if (r.child >= n) births[r.child] = r.lambda;
  births[root] = 0;
  const stability = new Float64Array(maxCluster + 1);
  for (const r of rows) stability[r.parent] += (r.lambda - births[r.parent]) * r.size;
  const children = new Map<number, number[]>();
  for (const r of rows)
    if (r.child >= n) {
      const list = children.get(r.parent) ?? [];
      list.push(r.child);
      children.set(r.parent, list);
    }
  const isCluster = new Uint8Array(maxCluster + 1);
  for (let c = n + 1; c <= maxCluster; c++) isCluster[c] = 1;
  const descendants = (c: number): number[] => {
    const out: number[] = [];
    const queue = [...(children.get(c) ?? [])];
    for (let q = 0; q < queue.length; q++) {
      out.push(queue[q]);
      queue.push(...(children.get(queue[q]) ?? []));
    }
    return out;
  };
  // children have larger ids than their parents: descending ids visit a node after its subtree
  for (let c = maxCluster; c > root; c--) {
    const kids = children.get(c) ?? [];
    const sub = kids.reduce((s, k) => s + stability[k], 0);
    if (kids.length && sub > stability[c]) {
      isCluster[c] = 0;
      stability[c] = sub;
    } else for (const k of descendants(c)) isCluster[k] = 0;
  }
  const selected: number[] = [];
  for (let c = n + 1; c <= maxCluster; c++) if (isCluster[c]) selected.push(c);
  const label = new Map(selected.map((c, i) => [c, i]));
  // each point's cluster: walk up the condensed tree until a selected cluster (or the root: noise)
  const parentOf = new Int32Array(maxCluster + 1).fill(-1);
  const lambdaOf = new Float64Array(n);
  for (const r of rows) {
    parentOf[r.child] = r.parent;
    if (r.child < n) lambdaOf[r.child] = r.lambda;
  }
  const labels = new Int32Array(n).fill(-1);
  for (let p = 0; p < n; p++) {
    let c = parentOf[p];
    while (c > root && !label.has(c)) c = parentOf[c];
    if (c > root) labels[p] = label.get(c)!;
  }
  // membership strength: λ_p / the largest λ of a point in the cluster
  const maxLambda = new Float64Array(selected.length);
  for (let p = 0; p < n; p++) if (labels[p] >= 0) maxLambda[labels[p]] = Math.max(maxLambda[labels[p]], lambdaOf[p]);
  const probabilities = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const l = labels[p];
    if (l < 0) continue;
    const m = maxLambda[l];
    probabilities[p] = !Number.isFinite(m) ? 1 : m > 0 ? Math.min(lambdaOf[p], m) / m : 1;
  }
  return {
    labels,
    clusters: selected.length,
    stability: selected.map((c) => stability[c]),
    probabilities,
  };
}

/** HDBSCAN clustering of the rows of x. */
export function hdbscan(x: Matrix, opts: HdbscanOptions = {}): HdbscanResult {
  checkMatrix(x);
  const minSize = opts.minClusterSize ?? 5;
  const minSamples = opts.minSamples ?? minSize;
  if (!Number.isInteger(minSize) || minSize < 2)
    throw new ArgumentError(`hdbscan: min cluster size must be an integer ≥ 2, got ${minSize}`);
  if (!Number.isInteger(minSamples) || minSamples < 1)
    throw new ArgumentError(`hdbscan: min samples must be a positive integer, got ${minSamples}`);
  if (x.n <= minSamples) throw new ArgumentError(`hdbscan: ${x.n} vectors are too few for min samples ${minSamples}`);
  const core = coreDistances(x, minSamples);
  const mst = mutualReachabilityMst(x, core);
  const tree = singleLinkage(x.n, mst);
  return selectClusters(x.n, condenseTree(x.n, tree, minSize));
}
