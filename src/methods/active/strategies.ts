/**
 * Query strategies of pool-based active learning: which unlabelled examples to label next, from the model's
 * probabilities on the pool (uncertainty), from several dropout passes (BALD), or from its embeddings (core-set,
 * diversity). Everything here is a pure function of numbers, so a test can hand it a constructed pool.
 *
 * An item's probabilities are `UnitProbs`: one distribution for a sequence-level kind (classification), one per word
 * for NER. A token-level score is aggregated over the sentence's words by `aggregate`: "mean" (the sentence's mean
 * token uncertainty) or "max" (its most uncertain word).
 */
import { ArgumentError } from "../../util/errors.js";
import type { Rng } from "../../util/rng.js";
import { kmeans } from "../../data/vectors/index.js";
import { rowProducts } from "../../tensor/index.js";

export const STRATEGIES = ["random", "least-confidence", "margin", "entropy", "bald", "coreset", "diverse"] as const;
export type Strategy = (typeof STRATEGIES)[number];
export type Aggregate = "mean" | "max";

/** One item's distributions: [units][classes]; one unit for a sequence-level kind, one per word for NER. */
export type UnitProbs = number[][];

/** 1 − the largest probability. */
export function leastConfidence(p: readonly number[]): number {
  return 1 - Math.max(...p);
}

/** 1 − (p₁ − p₂): the gap between the two most probable classes, turned so that larger is more uncertain. */
export function marginScore(p: readonly number[]): number {
  let a = -Infinity;
  let b = -Infinity;
  for (const v of p) {
    if (v > a) [a, b] = [v, a];
    else if (v > b) b = v;
  }
  return 1 - (a - (b === -Infinity ? 0 : b));
}

/** Shannon entropy in nats. */
export function entropy(p: readonly number[]): number {
  let h = 0;
  for (const v of p) if (v > 0) h -= v * Math.log(v);
  return h;
}

/**
 * BALD (Houlsby et al. 2011; Gal et al. 2017 with MC dropout): the mutual information between the prediction and
 * the weights, H(mean of the passes) − mean of H(each pass). It is high where the passes disagree with confidence,
 * and near 0 where every pass is equally unsure (mere uncertainty).
 */
export function baldScore(passes: readonly (readonly number[])[]): number {
  const c = passes[0].length;
  const mean = new Array<number>(c).fill(0);
  let meanH = 0;
  for (const p of passes) {
    for (let j = 0; j < c; j++) mean[j] += p[j] / passes.length;
    meanH += entropy(p) / passes.length;
  }
  return Math.max(0, entropy(mean) - meanH);
}

function aggregateOf(v: readonly number[], how: Aggregate): number {
  if (v.length === 0) return 0;
  return how === "max" ? Math.max(...v) : v.reduce((s, x) => s + x, 0) / v.length;
}

const UNIT_SCORES = { "least-confidence": leastConfidence, margin: marginScore, entropy } as const;

/** An item's uncertainty under a single-pass strategy, aggregated over its units. */
export function itemUncertainty(
  strategy: keyof typeof UNIT_SCORES,
  probs: UnitProbs,
  aggregate: Aggregate = "mean",
): number {
  return aggregateOf(probs.map(UNIT_SCORES[strategy]), aggregate);
}

/** An item's BALD score from its T dropout passes ([T][units][classes]), aggregated over its units. */
export function itemBald(passes: readonly UnitProbs[], aggregate: Aggregate = "mean"): number {
  const units = passes[0].length;
  return aggregateOf(
    Array.from({ length: units }, (_, u) => baldScore(passes.map((p) => p[u]))),
    aggregate,
  );
}

function sqDist(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j] - b[j]) ** 2;
  return s;
}

/**
 * k-centre greedy (Sener & Savarese 2018): repeatedly the candidate farthest from its nearest chosen-or-labelled
 * point. `centres` are the labelled items (may be empty: the first pick is then the first candidate's farthest).
 */
export function kCenterGreedy(
  embeddings: readonly (readonly number[])[],
  centres: readonly number[],
  candidates: readonly number[],
  k: number,
): number[] {
  const nearest = candidates.map(() => Infinity);
  const update = (c: number) =>
    candidates.forEach((i, j) => (nearest[j] = Math.min(nearest[j], sqDist(embeddings[i], embeddings[c]))));
  if (centres.length === 0 && candidates.length > 0) update(candidates[0]);
  for (const c of centres) update(c);
  const picked: number[] = [];
  const taken = new Set<number>();
  while (picked.length < Math.min(k, candidates.length)) {
    let best = -1;
    for (let j = 0; j < candidates.length; j++) if (!taken.has(j) && (best < 0 || nearest[j] > nearest[best])) best = j;
    taken.add(best);
    picked.push(candidates[best]);
    update(candidates[best]);
  }
  return picked;
}

/**
 * Diversity-aware batch: the `factor`·k most uncertain candidates are clustered into k groups by k-means on their
 * embeddings, and each group gives its most uncertain member (so a batch is not k near-copies of one hard case).
 */
export function diverseBatch(
  scores: ReadonlyMap<number, number>,
  embeddings: readonly (readonly number[])[],
  k: number,
  rng: Rng,
  factor = 5,
): number[] {
  const top = [...scores.keys()].sort((a, b) => scores.get(b)! - scores.get(a)! || a - b).slice(0, k * factor);
  if (top.length <= k) return top;
  const d = embeddings[top[0]].length;
  const data = new Float64Array(top.length * d);
  top.forEach((i, j) => data.set(embeddings[i], j * d));
  // k-means++ seeding and Lloyd iterations, one seeded run (data/vectors: the k-means graft cluster uses)
  const assign = kmeans(
    { data, n: top.length, d },
    { k, nInit: 1, maxIter: 100, seed: rng.int(2 ** 31), products: rowProducts },
  ).labels;
  const best = new Map<number, number>();
  top.forEach((i, j) => {
    // `top` is sorted most uncertain first: the first member seen of a cluster is its most uncertain
    if (!best.has(assign[j])) best.set(assign[j], i);
  });
  const picked = [...best.values()];
  // an empty cluster leaves a place: fill it with the next most uncertain
  for (const i of top) if (picked.length < k && !picked.includes(i)) picked.push(i);
  return picked;
}

/** What a strategy may read about the pool; each strategy needs only some of it. */
export interface PoolView {
  /** Unlabelled item ids to choose from. */
  candidates: readonly number[];
  /** Ids already labelled (core-set's centres). */
  labelled: readonly number[];
  /** Probabilities of each candidate (by id) from one deterministic pass. */
  probs?: ReadonlyMap<number, UnitProbs>;
  /** Probabilities of each candidate from T passes with dropout on: id → [T][units][classes]. */
  passes?: ReadonlyMap<number, UnitProbs[]>;
  /** Embedding of every item (labelled and candidate), by id. */
  embeddings?: readonly (readonly number[])[];
}

/** What `selectBatch` reads for each strategy. */
export function needs(strategy: Strategy): { probs: boolean; passes: boolean; embeddings: boolean } {
  return {
    probs: ["least-confidence", "margin", "entropy", "diverse"].includes(strategy),
    passes: strategy === "bald",
    embeddings: strategy === "coreset" || strategy === "diverse",
  };
}

/** The next `k` items to label under `strategy` (ties broken by the smaller id, so a pick is reproducible). */
export function selectBatch(
  strategy: Strategy,
  pool: PoolView,
  k: number,
  rng: Rng,
  aggregate: Aggregate = "mean",
): number[] {
  const { candidates } = pool;
  const need = needs(strategy);
  const missing = (what: string) => new ArgumentError(`strategy ${strategy} needs the pool's ${what}`);
  if (need.probs && !pool.probs) throw missing("probabilities");
  if (need.passes && !pool.passes) throw missing("dropout passes");
  if (need.embeddings && !pool.embeddings) throw missing("embeddings");
  const top = (score: (i: number) => number) =>
    [...candidates]
      .map((i) => [i, score(i)] as const)
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, k)
      .map(([i]) => i);
  switch (strategy) {
    case "random": {
      const perm = rng.permutation(candidates.length);
      return Array.from(perm.slice(0, Math.min(k, candidates.length)), (j) => candidates[j]);
    }
    case "least-confidence":
    case "margin":
    case "entropy":
      return top((i) => itemUncertainty(strategy, pool.probs!.get(i)!, aggregate));
    case "bald":
      return top((i) => itemBald(pool.passes!.get(i)!, aggregate));
    case "coreset":
      return kCenterGreedy(pool.embeddings!, pool.labelled, candidates, k);
    case "diverse": {
      const scores = new Map(candidates.map((i) => [i, itemUncertainty("entropy", pool.probs!.get(i)!, aggregate)]));
      return diverseBatch(scores, pool.embeddings!, k, rng);
    }
  }
}
