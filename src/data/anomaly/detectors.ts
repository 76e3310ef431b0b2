/**
 * Unsupervised anomaly detectors on dense rows (n × d, row-major Float64Array), each fitted on (mostly) normal
 * data and scoring new rows so that a higher score is more anomalous:
 * - `mahalanobis`: squared Mahalanobis distance under the Ledoit-Wolf shrunk covariance (covariance.ts);
 * - `knn`: Euclidean distance to the k-th nearest training row (a training row is not its own neighbour);
 * - `iforest`: isolation forest as scikit-learn's IsolationForest: trees on subsamples of ψ = min(256, n) rows,
 *   a random feature and a uniform split between its node minimum and maximum, depth limit ⌈log₂ ψ⌉; the score is
 *   2^(−E[h(x)] / c(ψ)) with h the depth of x's leaf plus c(leaf size), c(m) = 2H(m−1) − 2(m−1)/m.
 * Every detector is a plain JSON state, so `graft anomaly fit` saves it and `score` reloads it. Calibration
 * (`calibrate`) puts the decision threshold at the (1 − contamination) quantile of the training scores.
 */
import { ArgumentError } from "../../util/errors.js";
import { Rng } from "../../util/rng.js";
import { ledoitWolf, mahalanobis, type ShrunkCovariance } from "./covariance.js";

/** Dense rows: n × d, row-major. */
export interface Rows {
  x: Float64Array;
  n: number;
  d: number;
}

export type DetectorKind = "mahalanobis" | "knn" | "iforest";
export const DETECTOR_KINDS: readonly DetectorKind[] = ["mahalanobis", "knn", "iforest"];

export interface MahalanobisState {
  kind: "mahalanobis";
  d: number;
  location: number[];
  precision: number[];
  shrinkage: number;
}

export interface KnnState {
  kind: "knn";
  k: number;
  d: number;
  n: number;
  /** The training rows, row-major. */
  x: number[];
}

interface Tree {
  /** Per node: the split feature (-1 for a leaf), threshold, children, and the training rows that reached it. */
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  size: number[];
  depth: number[];
}

export interface IsolationForestState {
  kind: "iforest";
  d: number;
  maxSamples: number;
  trees: Tree[];
}

export type DetectorState = MahalanobisState | KnnState | IsolationForestState;

export interface DetectorOptions {
  /** knn: the neighbour whose distance is the score (default 5). */
  k?: number;
  /** iforest: number of trees (default 100) and rows per tree (default min(256, n)). */
  trees?: number;
  maxSamples?: number;
  seed?: number;
}

function checkRows(r: Rows, who: string): void {
  if (r.x.length !== r.n * r.d) throw new ArgumentError(`${who}: ${r.x.length} values for ${r.n} × ${r.d} rows`);
  for (let i = 0; i < r.x.length; i++)
    if (!Number.isFinite(r.x[i]))
      throw new ArgumentError(`${who}: row ${Math.floor(i / r.d) + 1}, feature ${(i % r.d) + 1} is ${r.x[i]}`);
}

/** Fits a detector of `kind` on the rows. */
export function fitDetector(kind: DetectorKind, rows: Rows, opts: DetectorOptions = {}): DetectorState {
  checkRows(rows, `${kind}.fit`);
  if (rows.n < 2) throw new ArgumentError(`${kind}: needs at least 2 training rows, got ${rows.n}`);
  if (kind === "mahalanobis") {
    const c = ledoitWolf(rows.x, rows.n, rows.d);
    return {
      kind,
      d: rows.d,
      location: Array.from(c.location),
      precision: Array.from(c.precision),
      shrinkage: c.shrinkage,
    };
  }
  if (kind === "knn") {
    const k = opts.k ?? 5;
    if (!(Number.isInteger(k) && k >= 1 && k < rows.n))
      throw new ArgumentError(`knn: k must be an integer in [1, ${rows.n - 1}], got ${k}`);
    return { kind, k, d: rows.d, n: rows.n, x: Array.from(rows.x) };
  }
  if (kind === "iforest") return fitIsolationForest(rows, opts);
  throw new ArgumentError(`unknown detector "${kind as string}"`, `detectors: ${DETECTOR_KINDS.join(", ")}`);
}

/** Anomaly scores of the rows (higher: more anomalous). `training` says the rows are the knn detector's own. */
export function scoreDetector(state: DetectorState, rows: Rows, opts: { training?: boolean } = {}): Float64Array {
  checkRows(rows, `${state.kind}.score`);
  if (rows.d !== state.d)
    throw new ArgumentError(`${state.kind}: rows have ${rows.d} features, the detector was fitted on ${state.d}`);
  if (state.kind === "mahalanobis") {
    const cov: ShrunkCovariance = {
      d: state.d,
      location: Float64Array.from(state.location),
      precision: Float64Array.from(state.precision),
      covariance: new Float64Array(0),
      shrinkage: state.shrinkage,
    };
    return mahalanobis(cov, rows.x, rows.n);
  }
  if (state.kind === "knn") return knnScores(state, rows, opts.training ?? false);
  return isolationScores(state, rows);
}

/** Distance to the k-th nearest training row (excluding the row itself when scoring the training rows). */
function knnScores(s: KnnState, rows: Rows, training: boolean): Float64Array {
  const { d } = s;
  const train = Float64Array.from(s.x);
  const norms = new Float64Array(s.n);
  for (let j = 0; j < s.n; j++) {
    let v = 0;
    for (let c = 0; c < d; c++) v += train[j * d + c] ** 2;
    norms[j] = v;
  }
  const k = training ? s.k + 1 : s.k;
  const out = new Float64Array(rows.n);
  const best = new Float64Array(k);
  for (let i = 0; i < rows.n; i++) {
    const o = i * d;
    let qn = 0;
    for (let c = 0; c < d; c++) qn += rows.x[o + c] ** 2;
    best.fill(Infinity);
    for (let j = 0; j < s.n; j++) {
      let dot = 0;
      const t = j * d;
      for (let c = 0; c < d; c++) dot += rows.x[o + c] * train[t + c];
      const dist = Math.max(0, qn + norms[j] - 2 * dot);
      if (dist < best[k - 1]) {
        // insertion into the sorted k smallest
        let p = k - 1;
        while (p > 0 && best[p - 1] > dist) {
          best[p] = best[p - 1];
          p--;
        }
        best[p] = dist;
      }
    }
    out[i] = Math.sqrt(best[k - 1]);
  }
  return out;
}

/** c(m): the average path length of an unsuccessful search in a binary search tree of m rows. */
export function averagePathLength(m: number): number {
  if (m <= 1) return 0;
  if (m === 2) return 1;
  return 2 * (Math.log(m - 1) + 0.5772156649015329) - (2 * (m - 1)) / m;
}

function fitIsolationForest(rows: Rows, opts: DetectorOptions): IsolationForestState {
  const nTrees = opts.trees ?? 100;
  const psi = Math.min(opts.maxSamples ?? 256, rows.n);
  if (!(Number.isInteger(nTrees) && nTrees >= 1)) throw new ArgumentError(`iforest: trees must be ≥ 1, got ${nTrees}`);
  const maxDepth = Math.ceil(Math.log2(Math.max(psi, 2)));
  const rng = new Rng(opts.seed ?? 0);
  const { x, d } = rows;
  const trees: Tree[] = [];
  for (let t = 0; t < nTrees; t++) {
    const sample = rng.permutation(rows.n).slice(0, psi);
    const tree: Tree = { feature: [], threshold: [], left: [], right: [], size: [], depth: [] };
    const grow = (idx: Int32Array, depth: number): number => {
      const node = tree.feature.length;
      tree.feature.push(-1);
      tree.threshold.push(0);
      tree.left.push(-1);
      tree.right.push(-1);
      tree.size.push(idx.length);
      tree.depth.push(depth);
      if (depth >= maxDepth || idx.length <= 1) return node;
      // features in random order; the first one that is not constant in this node splits it
      const order = rng.permutation(d);
      for (const f of order) {
        let lo = Infinity,
          hi = -Infinity;
        for (const i of idx) {
          const v = x[i * d + f];
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        if (!(hi > lo)) continue;
        let thr = lo + rng.uniform() * (hi - lo);
        if (thr >= hi) thr = lo; // keep both sides non-empty
        const l = idx.filter((i) => x[i * d + f] <= thr);
        const r = idx.filter((i) => x[i * d + f] > thr);
        tree.feature[node] = f;
        tree.threshold[node] = thr;
        const ln = grow(l, depth + 1);
        const rn = grow(r, depth + 1);
        tree.left[node] = ln;
        tree.right[node] = rn;
        return node;
      }
      return node; // every feature constant: a leaf
    };
    grow(sample, 0);
    trees.push(tree);
  }
  return { kind: "iforest", d, maxSamples: psi, trees };
}

function isolationScores(s: IsolationForestState, rows: Rows): Float64Array {
  const out = new Float64Array(rows.n);
  const cPsi = averagePathLength(s.maxSamples);
  const { d } = s;
  for (let i = 0; i < rows.n; i++) {
    let total = 0;
    for (const t of s.trees) {
      let node = 0;
      while (t.feature[node] >= 0)
        node = rows.x[i * d + t.feature[node]] <= t.threshold[node] ? t.left[node] : t.right[node];
      total += t.depth[node] + averagePathLength(t.size[node]);
    }
    out[i] = 2 ** (-(total / s.trees.length) / (cPsi || 1));
  }
  return out;
}

/** Linear-interpolated quantile q ∈ [0, 1] of the values (numpy's default method). */
export function quantile(values: ArrayLike<number>, q: number): number {
  const v = Float64Array.from(values).sort();
  if (v.length === 0) throw new ArgumentError("quantile of no values");
  const pos = q * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, v.length - 1);
  return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

/** The threshold that flags a `contamination` share of the training scores: their (1 − contamination) quantile. */
export function calibrate(trainScores: ArrayLike<number>, contamination: number): number {
  if (!(contamination > 0 && contamination < 0.5))
    throw new ArgumentError(`contamination must be in (0, 0.5), got ${contamination}`);
  return quantile(trainScores, 1 - contamination);
}

/** Fraction of `reference` values ≤ each score (the empirical CDF), a score on [0, 1] comparable across detectors. */
export function empiricalCdf(reference: ArrayLike<number>, scores: ArrayLike<number>): Float64Array {
  const ref = Float64Array.from(reference).sort();
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    let lo = 0,
      hi = ref.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ref[mid] <= scores[i]) lo = mid + 1;
      else hi = mid;
    }
    out[i] = lo / ref.length;
  }
  return out;
}

/** Euclidean distance of each row to its nearest row of `known`. */
export function nearestDistance(rows: Rows, known: Rows): Float64Array {
  if (known.n === 0) throw new ArgumentError("no known anomalies");
  if (known.d !== rows.d) throw new ArgumentError(`known anomalies have ${known.d} features, the rows ${rows.d}`);
  const out = new Float64Array(rows.n).fill(Infinity);
  for (let i = 0; i < rows.n; i++)
    for (let j = 0; j < known.n; j++) {
      let s = 0;
      for (let c = 0; c < rows.d; c++) s += (rows.x[i * rows.d + c] - known.x[j * known.d + c]) ** 2;
      if (s < out[i]) out[i] = s;
    }
  return out.map(Math.sqrt);
}

/**
 * The semi-supervised score (a few known anomalies next to unlabelled data): the mean of two empirical CDFs taken
 * over the unlabelled training rows, the detector's score and the closeness to the nearest known anomaly
 * (1 − CDF of that distance). A row both unusual and near a known scheme ranks first; a row of a new scheme
 * still ranks by the detector alone.
 */
export function semiSupervisedScores(
  detector: { train: ArrayLike<number>; rows: ArrayLike<number> },
  distance: { train: ArrayLike<number>; rows: ArrayLike<number> },
): Float64Array {
  const a = empiricalCdf(detector.train, detector.rows);
  const b = empiricalCdf(distance.train, distance.rows);
  return a.map((v, i) => 0.5 * v + 0.5 * (1 - b[i]));
}
