/**
 * Hyperparameter importance for the study page: a random-forest surrogate fitted to the complete trials (parameters
 * → objective value), and each parameter's permutation importance on it — how much the surrogate's squared error
 * grows when that parameter's column is shuffled — normalized to sum to 1. Categorical values are coded by their
 * order of appearance (trees split on the codes). Deterministic for a given seed.
 */
import { Rng } from "../util/rng.js";

interface Node {
  feature: number;
  threshold: number;
  left: Node | null;
  right: Node | null;
  value: number;
}

const mean = (ys: number[]) => ys.reduce((a, b) => a + b, 0) / Math.max(1, ys.length);

function sse(ys: number[]): number {
  const m = mean(ys);
  return ys.reduce((a, y) => a + (y - m) * (y - m), 0);
}

/** A CART regression tree on rows `idx`, splitting on `mtry` random features per node. */
function grow(x: number[][], y: number[], idx: number[], depth: number, mtry: number, rng: Rng): Node {
  const ys = idx.map((i) => y[i]);
  const leaf: Node = { feature: -1, threshold: 0, left: null, right: null, value: mean(ys) };
  if (idx.length < 4 || depth >= 8) return leaf;
  const d = x[0].length;
  const features = Array.from(rng.permutation(d).slice(0, mtry));
  let best = { gain: 1e-12, feature: -1, threshold: 0 };
  const parent = sse(ys);
  for (const f of features) {
    const sorted = [...idx].sort((a, b) => x[a][f] - x[b][f]);
    for (let k = 1; k < sorted.length; k++) {
      const lo = x[sorted[k - 1]][f],
        hi = x[sorted[k]][f];
      if (lo === hi) continue;
      const gain = parent - sse(sorted.slice(0, k).map((i) => y[i])) - sse(sorted.slice(k).map((i) => y[i]));
      if (gain > best.gain) best = { gain, feature: f, threshold: (lo + hi) / 2 };
    }
  }
  if (best.feature < 0) return leaf;
  const l = idx.filter((i) => x[i][best.feature] <= best.threshold);
  const r = idx.filter((i) => x[i][best.feature] > best.threshold);
  return {
    ...leaf,
    feature: best.feature,
    threshold: best.threshold,
    left: grow(x, y, l, depth + 1, mtry, rng),
    right: grow(x, y, r, depth + 1, mtry, rng),
  };
}

function predict(n: Node, row: number[]): number {
  let node = n;
  while (node.left && node.right) node = row[node.feature] <= node.threshold ? node.left : node.right;
  return node.value;
}

/** Codes each parameter's values as numbers (numbers as they are, other values by first appearance). */
export function encodeParams(
  params: Record<string, number | string | boolean>[],
  names: readonly string[],
): number[][] {
  const codes = names.map(() => new Map<string, number>());
  return params.map((p) =>
    names.map((n, j) => {
      const v = p[n];
      if (typeof v === "number") return v;
      const key = String(v);
      if (!codes[j].has(key)) codes[j].set(key, codes[j].size);
      return codes[j].get(key)!;
    }),
  );
}

/**
 * Importance of each named parameter for `values` (one per trial), or null with fewer than 4 trials or no
 * variation. A forest of `trees` bootstrapped trees; importance measured on the trials themselves.
 */
export function paramImportance(
  params: Record<string, number | string | boolean>[],
  values: number[],
  names: readonly string[],
  opts: { trees?: number; seed?: number } = {},
): Record<string, number> | null {
  if (values.length < 4 || !names.length || sse(values) === 0) return null;
  const rng = new Rng(opts.seed ?? 0);
  const x = encodeParams(params, names);
  const n = values.length;
  const mtry = Math.max(1, Math.ceil(names.length / 3));
  const forest: Node[] = [];
  for (let t = 0; t < (opts.trees ?? 50); t++) {
    const boot = Array.from({ length: n }, () => rng.int(n));
    forest.push(grow(x, values, boot, 0, mtry, rng));
  }
  const score = (rows: number[][]) =>
    rows.reduce((a, r, i) => {
      const e = mean(forest.map((tree) => predict(tree, r))) - values[i];
      return a + e * e;
    }, 0);
  const base = score(x);
  const raw = names.map((_, j) => {
    const perm = rng.permutation(n);
    const shuffled = x.map((r, i) => r.map((v, k) => (k === j ? x[perm[i]][j] : v)));
    return Math.max(0, score(shuffled) - base);
  });
  const total = raw.reduce((a, b) => a + b, 0);
  return Object.fromEntries(names.map((name, j) => [name, total > 0 ? raw[j] / total : 0]));
}
