/**
 * A compact gradient-boosted decision tree classifier for binary targets (the tabular baseline), in the spirit
 * of LightGBM / scikit-learn's HistGradientBoostingClassifier: features are bucketed once into at most `maxBins`
 * quantile bins (bin 0 holds missing values, NaN, and always goes left); each round fits one depth-limited
 * regression tree to the log-loss's gradients g = p − y and hessians h = p(1 − p) by histogram split search
 * (gain GL²/(HL+λ) + GR²/(HR+λ) − G²/(H+λ)), with Newton leaves −G/(H+λ) scaled by the learning rate, on a
 * random share of the rows (`subsample`) and of the features (`colsample`). Dense rows: n × d row-major.
 */
import { ArgumentError } from "../../util/errors.js";
import { Rng } from "../../util/rng.js";

export interface GbdtOptions {
  /** Boosting rounds (default 200). */
  nEstimators?: number;
  /** Shrinkage (default 0.05). */
  learningRate?: number;
  /** Depth of each tree (default 4). */
  maxDepth?: number;
  /** Fewest training rows in a leaf (default 20). */
  minSamplesLeaf?: number;
  /** L2 penalty on leaf values (default 1). */
  lambda?: number;
  /** Share of rows drawn (without replacement) for each tree (default 0.8). */
  subsample?: number;
  /** Share of features each tree may split on (default 0.8). */
  colsample?: number;
  /** Histogram bins per feature, missing values' bin included (default 64, at most 256). */
  maxBins?: number;
  seed?: number;
}

interface GbdtTree {
  /** Per node: split feature (-1: leaf), go left when the value ≤ threshold or is missing (null: only missing); leaf value. */
  feature: number[];
  threshold: (number | null)[];
  left: number[];
  right: number[];
  value: number[];
}

export interface GbdtState {
  kind: "gbdt";
  d: number;
  base: number;
  trees: GbdtTree[];
  options: GbdtOptions;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Bin edges of one feature: bin(v) = 0 for NaN, else 1 + #(edges < v). */
function binEdges(values: Float64Array, maxBins: number): Float64Array {
  const v = values.filter((x) => !Number.isNaN(x)).sort();
  const distinct: number[] = [];
  for (let i = 0; i < v.length; i++) if (i === 0 || v[i] !== v[i - 1]) distinct.push(v[i]);
  const slots = maxBins - 1; // bins for values
  if (distinct.length <= slots) return Float64Array.from(distinct.slice(0, -1)); // edge = a distinct value: ≤ it goes left
  const edges: number[] = [];
  for (let b = 1; b < slots; b++) {
    const e = v[Math.floor((b * v.length) / slots)];
    if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
  }
  return Float64Array.from(edges);
}

function binOf(edges: Float64Array, v: number): number {
  if (Number.isNaN(v)) return 0;
  let lo = 0,
    hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return 1 + lo;
}

export class GradientBoostedTrees {
  private state: GbdtState | null = null;
  /** Training log-loss after each round. */
  readonly history: number[] = [];

  constructor(readonly options: GbdtOptions = {}) {}

  fit(x: Float64Array, n: number, d: number, y: ArrayLike<number>): this {
    if (x.length !== n * d) throw new ArgumentError(`GBDT: ${x.length} values for ${n} × ${d}`);
    if (y.length !== n) throw new ArgumentError(`GBDT: ${y.length} labels for ${n} rows`);
    let pos = 0;
    for (let i = 0; i < n; i++) {
      if (y[i] !== 0 && y[i] !== 1) throw new ArgumentError(`GBDT: label ${i + 1} is ${y[i]}, expected 0 or 1`);
      pos += y[i];
    }
    if (pos === 0 || pos === n) throw new ArgumentError("GBDT: the labels hold a single class");
    const o = this.options;
    const rounds = o.nEstimators ?? 200;
    const lr = o.learningRate ?? 0.05;
    const maxDepth = o.maxDepth ?? 4;
    const minLeaf = o.minSamplesLeaf ?? 20;
    const lambda = o.lambda ?? 1;
    const subsample = o.subsample ?? 0.8;
    const colsample = o.colsample ?? 0.8;
    const maxBins = Math.min(o.maxBins ?? 64, 256);
    if (!(subsample > 0 && subsample <= 1 && colsample > 0 && colsample <= 1))
      throw new ArgumentError("GBDT: subsample and colsample must be in (0, 1]");
    const rng = new Rng(o.seed ?? 0);
    // bucket every feature once
    const edges: Float64Array[] = [];
    const bins = new Uint8Array(n * d);
    const col = new Float64Array(n);
    for (let f = 0; f < d; f++) {
      for (let i = 0; i < n; i++) col[i] = x[i * d + f];
      const e = binEdges(col, maxBins);
      edges.push(e);
      for (let i = 0; i < n; i++) bins[i * d + f] = binOf(e, col[i]);
    }
    const base = Math.log(pos / (n - pos));
    const score = new Float64Array(n).fill(base);
    const g = new Float64Array(n);
    const h = new Float64Array(n);
    const trees: GbdtTree[] = [];
    const nRows = Math.max(1, Math.round(subsample * n));
    const nCols = Math.max(1, Math.round(colsample * d));
    const hg = new Float64Array(256),
      hh = new Float64Array(256),
      hc = new Int32Array(256);
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < n; i++) {
        const p = sigmoid(score[i]);
        g[i] = p - y[i];
        h[i] = Math.max(p * (1 - p), 1e-16);
      }
      const rows = nRows < n ? rng.permutation(n).slice(0, nRows) : Int32Array.from({ length: n }, (_, i) => i);
      const feats = nCols < d ? rng.permutation(d).slice(0, nCols) : Int32Array.from({ length: d }, (_, i) => i);
      const tree: GbdtTree = { feature: [], threshold: [], left: [], right: [], value: [] };
      const grow = (idx: Int32Array, depth: number): number => {
        const node = tree.feature.length;
        let G = 0,
          H = 0;
        for (const i of idx) {
          G += g[i];
          H += h[i];
        }
        tree.feature.push(-1);
        tree.threshold.push(0);
        tree.left.push(-1);
        tree.right.push(-1);
        tree.value.push((-G / (H + lambda)) * lr);
        if (depth >= maxDepth || idx.length < 2 * minLeaf) return node;
        const parent = (G * G) / (H + lambda);
        let bestGain = 1e-12,
          bestF = -1,
          bestBin = 0;
        for (const f of feats) {
          const nb = edges[f].length + 2;
          hg.fill(0, 0, nb);
          hh.fill(0, 0, nb);
          hc.fill(0, 0, nb);
          for (const i of idx) {
            const b = bins[i * d + f];
            hg[b] += g[i];
            hh[b] += h[i];
            hc[b]++;
          }
          let gl = 0,
            hl = 0,
            cl = 0;
          for (let b = 0; b < nb - 1; b++) {
            gl += hg[b];
            hl += hh[b];
            cl += hc[b];
            const cr = idx.length - cl;
            if (cl < minLeaf) continue;
            if (cr < minLeaf) break;
            const gr = G - gl,
              hr = H - hl;
            const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parent;
            if (gain > bestGain) {
              bestGain = gain;
              bestF = f;
              bestBin = b;
            }
          }
        }
        if (bestF < 0) return node;
        const l = idx.filter((i) => bins[i * d + bestF] <= bestBin);
        const r = idx.filter((i) => bins[i * d + bestF] > bestBin);
        tree.feature[node] = bestF;
        // bin ≤ b ⟺ missing or value ≤ edges[b − 1] (bin 0 alone: only missing values go left)
        tree.threshold[node] = bestBin >= 1 ? edges[bestF][bestBin - 1] : null;
        const ln = grow(l, depth + 1);
        const rn = grow(r, depth + 1);
        tree.left[node] = ln;
        tree.right[node] = rn;
        return node;
      };
      grow(rows, 0);
      trees.push(tree);
      let loss = 0;
      for (let i = 0; i < n; i++) {
        score[i] += leafValue(tree, x, i * d);
        const p = Math.min(Math.max(sigmoid(score[i]), 1e-15), 1 - 1e-15);
        loss -= y[i] ? Math.log(p) : Math.log(1 - p);
      }
      this.history.push(loss / n);
    }
    this.state = { kind: "gbdt", d, base, trees, options: { ...o } };
    return this;
  }

  /** Log-odds of class 1 per row. */
  decision(x: Float64Array, n: number): Float64Array {
    const s = this.fitted;
    if (x.length !== n * s.d) throw new ArgumentError(`GBDT: ${x.length} values for ${n} rows of ${s.d} features`);
    const out = new Float64Array(n).fill(s.base);
    for (const t of s.trees) for (let i = 0; i < n; i++) out[i] += leafValue(t, x, i * s.d);
    return out;
  }

  /** P(class 1) per row. */
  predictProba(x: Float64Array, n: number): Float64Array {
    return this.decision(x, n).map(sigmoid);
  }

  toJSON(): GbdtState {
    return this.fitted;
  }

  static fromJSON(s: GbdtState): GradientBoostedTrees {
    if (s?.kind !== "gbdt") throw new ArgumentError("not a GBDT state");
    const m = new GradientBoostedTrees(s.options);
    m.state = s;
    return m;
  }

  private get fitted(): GbdtState {
    if (!this.state) throw new ArgumentError("GradientBoostedTrees used before fit");
    return this.state;
  }
}

function leafValue(t: GbdtTree, x: Float64Array, offset: number): number {
  let node = 0;
  while (t.feature[node] >= 0) {
    const v = x[offset + t.feature[node]];
    const thr = t.threshold[node];
    node = Number.isNaN(v) || (thr !== null && v <= thr) ? t.left[node] : t.right[node];
  }
  return t.value[node];
}
