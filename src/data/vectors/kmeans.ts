/**
 * k-means as scikit-learn's KMeans (algorithm "lloyd") computes it: k-means++ seeding with greedy local trials
 * (2 + ⌊ln k⌋ candidates per centre, the one that lowers the potential most is kept), Lloyd iterations until the
 * labels stop changing or the centres move less than tol × the mean variance of the features (summed squared
 * shift), empty clusters moved to the points farthest from their centres, and the best of `nInit` seeded runs by
 * inertia (the sum of squared distances to the assigned centre). Plain typed arrays, no tensors; given `products`
 * (a GEMM, see matrix.ts's RowProducts), the assignment step takes rows × centres in one product per block and
 * re-scores exactly only the centres within the product's error bound of the best, so labels equal the loops'.
 */
import { ArgumentError } from "../../util/errors.js";
import { Rng } from "../../util/rng.js";
import {
  checkMatrix,
  dist2At,
  dotAt,
  productSlack,
  rowNorms2,
  sqrtAll,
  type Matrix,
  type RowProducts,
} from "./matrix.js";

export interface KMeansOptions {
  k: number;
  /** Seeded runs; the one with the least inertia is kept (default 3). */
  nInit?: number;
  /** Lloyd iterations per run (default 300). */
  maxIter?: number;
  /** Relative tolerance on the centre shift (default 1e-4, as scikit-learn). */
  tol?: number;
  seed?: number;
  /** Block products through a GEMM (tensor/'s rowProducts); the result is the same as without. */
  products?: RowProducts;
}

export interface KMeansResult {
  /** Cluster of each row, 0..k-1. */
  labels: Int32Array;
  /** k×d centres, row-major. */
  centers: Float64Array;
  inertia: number;
  /** Iterations of the kept run. */
  iterations: number;
  k: number;
  d: number;
}

/**
 * k-means++ seeding (scikit-learn's greedy variant): k×d centres. With `products`, each centre's candidates are
 * scored against every row in one product per block of rows, and a row's exact distance is computed only where the
 * candidate may be nearer than the row's closest centre so far (the same seeds as without).
 */
export function kmeansPlusPlus(x: Matrix, k: number, rng: Rng, products?: RowProducts): Float64Array {
  const { n, d, data } = x;
  const centers = new Float64Array(k * d);
  const trials = 2 + Math.floor(Math.log(k));
  const first = rng.int(n);
  centers.set(data.subarray(first * d, (first + 1) * d), 0);
  let closest: Float64Array = new Float64Array(n);
  let pot = 0;
  for (let i = 0; i < n; i++) {
    closest[i] = dist2At(data, i * d, data, first * d, d);
    pot += closest[i];
  }
  const cum = new Float64Array(n);
  const norms = products ? rowNorms2(x) : null;
  const lengths = norms ? sqrtAll(norms) : null;
  for (let c = 1; c < k; c++) {
    let acc = 0;
    for (let i = 0; i < n; i++) cum[i] = acc += closest[i];
    let best: Float64Array | null = null;
    let bestPot = Infinity;
    let bestId = 0;
    // the candidates first (drawing them consumes the generator as drawing each before its distances did)
    const cands: number[] = [];
    for (let t = 0; t < trials; t++) {
      const r = rng.uniform() * pot;
      // searchsorted (left) in the cumulative sums
      let lo = 0,
        hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cum[mid] < r) lo = mid + 1;
        else hi = mid;
      }
      cands.push(Math.min(lo, n - 1));
    }
    const dists = products ? candidateDistances(x, norms!, lengths!, cands, closest, products) : null;
    for (let t = 0; t < trials; t++) {
      const cand = cands[t];
      let dist: Float64Array;
      if (dists) dist = dists[t];
      else {
        dist = new Float64Array(n);
        for (let i = 0; i < n; i++) dist[i] = Math.min(closest[i], dist2At(data, i * d, data, cand * d, d));
      }
      let p = 0;
      for (let i = 0; i < n; i++) p += dist[i];
      if (p < bestPot) {
        bestPot = p;
        best = dist;
        bestId = cand;
      }
    }
    closest = best!;
    pot = bestPot;
    centers.set(data.subarray(bestId * d, (bestId + 1) * d), c * d);
  }
  return centers;
}

/**
 * min(closest[i], ‖xᵢ − candidate‖²) for each candidate row and every row i, as the loops compute it: a product per
 * block of rows gives each distance within 2·slack·|xᵢ|·|c| (plus float64 rounding of the norms), and dist2At runs
 * only where that leaves the candidate possibly nearer than closest[i].
 */
function candidateDistances(
  x: Matrix,
  norms: Float64Array,
  lengths: Float64Array,
  cands: readonly number[],
  closest: Float64Array,
  products: RowProducts,
): Float64Array[] {
  const { n, d, data } = x;
  const t = cands.length;
  const rows = new Float64Array(t * d);
  cands.forEach((c, j) => rows.set(data.subarray(c * d, (c + 1) * d), j * d));
  const out = cands.map(() => new Float64Array(n));
  const slack = 2 * productSlack(d);
  const B = 4096;
  for (let i0 = 0; i0 < n; i0 += B) {
    const i1 = Math.min(n, i0 + B);
    const s = products(data.subarray(i0 * d, i1 * d), i1 - i0, rows, t, d);
    for (let i = i0; i < i1; i++)
      for (let j = 0; j < t; j++) {
        const c = cands[j];
        const approx = norms[i] + norms[c] - 2 * s[(i - i0) * t + j];
        const bound = slack * lengths[i] * lengths[c] + 1e-12 * (norms[i] + norms[c]);
        out[j][i] =
          approx - bound > closest[i] ? closest[i] : Math.min(closest[i], dist2At(data, i * d, data, c * d, d));
      }
  }
  return out;
}

/** Assigns each row to its nearest centre; returns the inertia and fills labels and each row's squared distance. */
function assign(
  x: Matrix,
  norms: Float64Array,
  centers: Float64Array,
  k: number,
  labels: Int32Array,
  dist: Float64Array,
  products?: RowProducts,
) {
  const { n, d, data } = x;
  const cn = new Float64Array(k);
  for (let c = 0; c < k; c++) cn[c] = dotAt(centers, c * d, centers, c * d, d);
  let inertia = 0;
  // the product path's approximate cn − 2·x·c of the row at hand, and each centre's error bound on it
  const approx = new Float64Array(k);
  const bound = new Float64Array(k);
  /**
   * Settles row i on its nearest centre by the exact cn − 2·x·c, among the centres whose approximate score less its
   * bound reaches `top` (every centre when `top` is Infinity), and adds its squared distance to the inertia.
   */
  const nearest = (i: number, top: number) => {
    let best = 0;
    let bestD = Infinity;
    for (let c = 0; c < k; c++) {
      if (approx[c] - bound[c] > top) continue;
      const v = cn[c] - 2 * dotAt(data, i * d, centers, c * d, d);
      if (v < bestD) {
        bestD = v;
        best = c;
      }
    }
    labels[i] = best;
    const v = Math.max(0, norms[i] + bestD);
    dist[i] = v;
    inertia += v;
  };
  if (products) {
    // approximate cn − 2·x·c from one product per block of rows; each centre's error bound is 2·slack·|x|·|c|
    const cLen = sqrtAll(cn);
    const slack = 2 * productSlack(d);
    const B = 1024;
    for (let i0 = 0; i0 < n; i0 += B) {
      const i1 = Math.min(n, i0 + B);
      const s = products(data.subarray(i0 * d, i1 * d), i1 - i0, centers, k, d);
      for (let i = i0; i < i1; i++) {
        const o = (i - i0) * k;
        const xl = Math.sqrt(norms[i]);
        let top = Infinity;
        for (let c = 0; c < k; c++) {
          approx[c] = cn[c] - 2 * s[o + c];
          bound[c] = slack * xl * cLen[c];
          top = Math.min(top, approx[c] + bound[c]);
        }
        // the true minimum is ≤ top; only centres whose lower bound reaches it can be (or tie) the nearest
        nearest(i, top);
      }
    }
    return inertia;
  }
  // without products every centre is scored exactly (approx and bound stay 0, so none is skipped)
  for (let i = 0; i < n; i++) nearest(i, Infinity);
  return inertia;
}

/** One Lloyd run from the given centres. */
function lloyd(
  x: Matrix,
  norms: Float64Array,
  centers: Float64Array,
  k: number,
  maxIter: number,
  tol: number,
  products?: RowProducts,
) {
  const { n, d, data } = x;
  const labels = new Int32Array(n).fill(-1);
  const prev = new Int32Array(n);
  const dist = new Float64Array(n);
  let iterations = 0;
  for (let it = 0; it < maxIter; it++) {
    prev.set(labels);
    assign(x, norms, centers, k, labels, dist, products);
    iterations = it + 1;
    const sums = new Float64Array(k * d);
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      counts[c]++;
      const o = c * d,
        r = i * d;
      for (let j = 0; j < d; j++) sums[o + j] += data[r + j];
    }
    const empty = [];
    for (let c = 0; c < k; c++) if (counts[c] === 0) empty.push(c);
    if (empty.length) {
      // scikit-learn's relocation: each empty cluster takes one of the points farthest from their centres
      const far = Array.from({ length: n }, (_, i) => i).sort((a, b) => dist[b] - dist[a] || a - b);
      empty.forEach((c, e) => {
        const i = far[e];
        const old = labels[i];
        for (let j = 0; j < d; j++) {
          sums[old * d + j] -= data[i * d + j];
          sums[c * d + j] = data[i * d + j];
        }
        counts[old]--;
        counts[c] = 1;
        labels[i] = c;
      });
    }
    let shift = 0;
    for (let c = 0; c < k; c++)
      for (let j = 0; j < d; j++) {
        const v = counts[c] > 0 ? sums[c * d + j] / counts[c] : centers[c * d + j];
        const s = v - centers[c * d + j];
        shift += s * s;
        centers[c * d + j] = v;
      }
    let same = it > 0;
    for (let i = 0; same && i < n; i++) if (labels[i] !== prev[i]) same = false;
    if (same) break;
    if (shift <= tol) break;
  }
  // labels that match the final centres (as scikit-learn's last E-step)
  const inertia = assign(x, norms, centers, k, labels, dist, products);
  return { labels, inertia, iterations };
}

/** k-means of the rows of x (the best of nInit k-means++ seeded Lloyd runs). */
export function kmeans(x: Matrix, opts: KMeansOptions): KMeansResult {
  checkMatrix(x);
  const { k } = opts;
  const nInit = opts.nInit ?? 3;
  const maxIter = opts.maxIter ?? 300;
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`k-means: k must be a positive integer, got ${k}`);
  if (x.n < k) throw new ArgumentError(`k-means: ${x.n} vectors cannot make ${k} clusters`);
  if (!Number.isInteger(nInit) || nInit < 1) throw new ArgumentError(`k-means: n-init must be ≥ 1, got ${nInit}`);
  const { n, d, data } = x;
  // tol relative to the mean variance of the features
  // row by row (cache-friendly), each column's sums in row order as a column-by-column loop adds them
  const sums = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sums[j] += data[i * d + j];
  const means = sums.map((s) => s / n);
  const sq = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sq[j] += (data[i * d + j] - means[j]) ** 2;
  let meanVar = 0;
  for (let j = 0; j < d; j++) meanVar += sq[j] / n;
  const tol = (meanVar / d) * (opts.tol ?? 1e-4);
  const norms = rowNorms2(x);
  const rng = new Rng(opts.seed ?? 0);
  let best: KMeansResult | null = null;
  for (let r = 0; r < nInit; r++) {
    const centers = kmeansPlusPlus(x, k, rng, opts.products);
    const run = lloyd(x, norms, centers, k, maxIter, tol, opts.products);
    if (!best || run.inertia < best.inertia) best = { ...run, centers, k, d };
  }
  return best!;
}

/** The nearest centre of each row of x. */
export function kmeansPredict(
  model: Pick<KMeansResult, "centers" | "k" | "d">,
  x: Matrix,
  products?: RowProducts,
): Int32Array {
  if (x.d !== model.d) throw new ArgumentError(`k-means: vectors have ${x.d} values, the centres ${model.d}`);
  const labels = new Int32Array(x.n);
  assign(x, rowNorms2(x), model.centers, model.k, labels, new Float64Array(x.n), products);
  return labels;
}
