/**
 * Ranking metrics for recommendations: each user has a ranked list of recommended items and a set
 * of relevant items (or graded relevance). precision@k = hits in the top k / k; recall@k = hits /
 * |relevant|; hit rate@k = share of users with a hit; MRR = mean 1/rank of the first hit; MAP@k
 * as ml_metrics' apk (Σ precision at each new hit / min(|relevant|, k)); NDCG@k with linear gain
 * rel/log2(rank+1) (or 2^rel − 1). Users with nothing relevant are skipped by the metrics that
 * divide by relevance (recall, MAP, NDCG, MRR, hit rate), with a warning.
 * ndcgScore follows sklearn.metrics.ndcg_score exactly (score matrices, tie-averaged DCG).
 */
import { ArgumentError, ShapeError } from "../util/errors.js";
import { assertFinite, checkSampleWeight, weightedMean, type NumericArray } from "./numeric.js";
import { warn } from "./warnings.js";

export type ItemId = string | number;
/** Relevant items of one user: a list/set (binary relevance) or item → relevance grade. */
export type Relevance = readonly ItemId[] | ReadonlySet<ItemId> | Readonly<Record<string, number>>;

export interface RankingOptions {
  /** Cut-off (default: the whole list). */
  k?: number;
}

function grades(rel: Relevance): Map<string, number> {
  const m = new Map<string, number>();
  if (Array.isArray(rel) || rel instanceof Set) {
    for (const id of rel as Iterable<ItemId>) m.set(String(id), 1);
  } else {
    for (const [id, g] of Object.entries(rel as Record<string, number>)) {
      if (!Number.isFinite(g))
        throw new ArgumentError(`ranking: relevance of item ${id} is ${g}; grades must be finite`);
      if (g > 0) m.set(id, g);
    }
  }
  return m;
}

function prepare(
  what: string,
  recommended: readonly (readonly ItemId[])[],
  relevant: readonly Relevance[],
  k: number | undefined,
) {
  if (recommended.length !== relevant.length)
    throw new ShapeError(
      `${what}: ${recommended.length} recommendation lists but ${relevant.length} relevance sets`,
      "pass one of each per user",
    );
  if (recommended.length === 0) throw new ArgumentError(`${what}: no users`);
  if (k !== undefined && (!Number.isInteger(k) || k < 1))
    throw new ArgumentError(`${what}: k must be a positive integer, got ${k}`);
  return recommended.map((recs, u) => {
    // A repeated item counts once, at its first position.
    const seen = new Set<string>();
    const top = (k === undefined ? recs : recs.slice(0, k))
      .map(String)
      .filter((id) => (seen.has(id) ? false : (seen.add(id), true)));
    return { top, rel: grades(relevant[u]!), cut: k ?? recs.length };
  });
}

function meanOver(what: string, values: (number | undefined)[]): number {
  const kept = values.filter((v): v is number => v !== undefined);
  const skipped = values.length - kept.length;
  if (skipped) warn(`${what}: ${skipped} of ${values.length} users have no relevant items and are left out`);
  if (kept.length === 0) throw new ArgumentError(`${what}: no user has a relevant item`);
  return kept.reduce((a, b) => a + b, 0) / kept.length;
}

export function precisionAtK(
  recommended: readonly (readonly ItemId[])[],
  relevant: readonly Relevance[],
  options: RankingOptions = {},
): number {
  const users = prepare("precisionAtK", recommended, relevant, options.k);
  let s = 0;
  for (const { top, rel, cut } of users) {
    const hits = top.filter((id) => rel.has(id)).length;
    s += cut > 0 ? hits / cut : 0;
  }
  return s / users.length;
}

export function recallAtK(
  recommended: readonly (readonly ItemId[])[],
  relevant: readonly Relevance[],
  options: RankingOptions = {},
): number {
  return meanOver(
    "recallAtK",
    prepare("recallAtK", recommended, relevant, options.k).map(({ top, rel }) =>
      rel.size ? top.filter((id) => rel.has(id)).length / rel.size : undefined,
    ),
  );
}

export function hitRateAtK(
  recommended: readonly (readonly ItemId[])[],
  relevant: readonly Relevance[],
  options: RankingOptions = {},
): number {
  return meanOver(
    "hitRateAtK",
    prepare("hitRateAtK", recommended, relevant, options.k).map(({ top, rel }) =>
      rel.size ? (top.some((id) => rel.has(id)) ? 1 : 0) : undefined,
    ),
  );
}

export function meanReciprocalRank(
  recommended: readonly (readonly ItemId[])[],
  relevant: readonly Relevance[],
  options: RankingOptions = {},
): number {
  return meanOver(
    "meanReciprocalRank",
    prepare("meanReciprocalRank", recommended, relevant, options.k).map(({ top, rel }) => {
      if (!rel.size) return undefined;
      const i = top.findIndex((id) => rel.has(id));
      return i < 0 ? 0 : 1 / (i + 1);
    }),
  );
}

export function meanAveragePrecision(
  recommended: readonly (readonly ItemId[])[],
  relevant: readonly Relevance[],
  options: RankingOptions = {},
): number {
  return meanOver(
    "meanAveragePrecision",
    prepare("meanAveragePrecision", recommended, relevant, options.k).map(({ top, rel, cut }) => {
      if (!rel.size) return undefined;
      let hits = 0,
        score = 0;
      top.forEach((id, i) => {
        if (rel.has(id)) {
          hits++;
          score += hits / (i + 1);
        }
      });
      return score / Math.min(rel.size, cut);
    }),
  );
}

export function ndcgAtK(
  recommended: readonly (readonly ItemId[])[],
  relevant: readonly Relevance[],
  options: RankingOptions & { gain?: "linear" | "exponential" } = {},
): number {
  const gain = options.gain === "exponential" ? (g: number) => 2 ** g - 1 : (g: number) => g;
  return meanOver(
    "ndcgAtK",
    prepare("ndcgAtK", recommended, relevant, options.k).map(({ top, rel, cut }) => {
      if (!rel.size) return undefined;
      let dcg = 0;
      top.forEach((id, i) => (dcg += gain(rel.get(id) ?? 0) / Math.log2(i + 2)));
      const ideal = [...rel.values()].sort((a, b) => b - a).slice(0, cut);
      let idcg = 0;
      ideal.forEach((g, i) => (idcg += gain(g) / Math.log2(i + 2)));
      return dcg / idcg;
    }),
  );
}

type Matrix = readonly (readonly number[])[];

/** DCG of each row, ties in yScore averaged (sklearn's _tie_averaged_dcg) or broken by order. */
function dcgRows(yTrue: Matrix, yScore: Matrix, k: number | undefined, ignoreTies: boolean): number[] {
  const m = yTrue[0]!.length;
  const discount = Float64Array.from({ length: m }, (_, i) =>
    k !== undefined && i >= k ? 0 : 1 / (Math.log(i + 2) / Math.log(2)),
  );
  return yTrue.map((t, r) => {
    const s = yScore[r]!;
    if (ignoreTies) {
      // Decreasing score; numpy's argsort(...)[::-1] puts the later index first among ties.
      const order = Array.from({ length: m }, (_, i) => i)
        .sort((a, b) => s[a]! - s[b]! || a - b)
        .reverse();
      let g = 0;
      order.forEach((j, i) => (g += discount[i]! * t[j]!));
      return g;
    }
    const cum = new Float64Array(m);
    let acc = 0;
    for (let i = 0; i < m; i++) cum[i] = acc += discount[i]!;
    // Groups of equal score, highest first: each group shares the discount of the ranks it spans.
    const distinct = [...new Set(s)].sort((a, b) => b - a);
    let g = 0,
      end = -1,
      prevCum = 0;
    for (const v of distinct) {
      let sum = 0,
        count = 0;
      for (let j = 0; j < m; j++)
        if (s[j] === v) {
          sum += t[j]!;
          count++;
        }
      end += count;
      const span = cum[end]! - prevCum;
      prevCum = cum[end]!;
      g += (sum / count) * span;
    }
    return g;
  });
}

/**
 * Normalized DCG of score matrices (sklearn.metrics.ndcg_score): yTrue holds graded relevance
 * per (sample, item), yScore the predicted scores; tied scores share their ranks' discounts.
 */
export function ndcgScore(
  yTrue: Matrix,
  yScore: Matrix,
  options: { k?: number; ignoreTies?: boolean; sampleWeight?: NumericArray } = {},
): number {
  const what = "ndcgScore";
  if (yTrue.length !== yScore.length)
    throw new ShapeError(`${what}: yTrue has ${yTrue.length} rows but yScore has ${yScore.length}`);
  if (yTrue.length === 0) throw new ArgumentError(`${what}: no samples`);
  const m = yTrue[0]!.length;
  if (m <= 1)
    throw new ArgumentError(
      `${what}: computing NDCG is only meaningful with more than 1 document per sample, got ${m}`,
    );
  yTrue.forEach((row, i) => {
    if (row.length !== m || yScore[i]!.length !== m)
      throw new ShapeError(
        `${what}: row ${i} has ${row.length} relevance values and ${yScore[i]!.length} scores; expected ${m}`,
      );
    assertFinite(what, `yTrue[${i}]`, row);
    assertFinite(what, `yScore[${i}]`, yScore[i]!);
    if (row.some((v) => v < 0))
      throw new ArgumentError(`${what}: yTrue[${i}] has a negative relevance; NDCG needs non-negative relevance`);
  });
  const k = options.k;
  const gain = dcgRows(yTrue, yScore, k, options.ignoreTies ?? false);
  const ideal = dcgRows(yTrue, yTrue, k, true);
  const scores = gain.map((g, i) => (ideal[i] === 0 ? 0 : g / ideal[i]!));
  return weightedMean(scores, checkSampleWeight(what, options.sampleWeight, yTrue.length));
}

/**
 * Catalogue coverage: the share of the catalogue's `catalogueSize` items that appear in at least one user's top k
 * (Ge et al. 2010's prediction coverage). Every user counts, with or without relevant items.
 */
export function catalogueCoverage(
  recommended: readonly (readonly ItemId[])[],
  catalogueSize: number,
  options: RankingOptions = {},
): number {
  if (!Number.isInteger(catalogueSize) || catalogueSize < 1)
    throw new ArgumentError(`catalogueCoverage: the catalogue size must be a positive integer, got ${catalogueSize}`);
  const k = options.k;
  if (k !== undefined && (!Number.isInteger(k) || k < 1))
    throw new ArgumentError(`catalogueCoverage: k must be a positive integer, got ${k}`);
  const seen = new Set<string>();
  for (const recs of recommended) for (const id of k === undefined ? recs : recs.slice(0, k)) seen.add(String(id));
  if (seen.size > catalogueSize)
    throw new ArgumentError(
      `catalogueCoverage: ${seen.size} distinct items recommended but the catalogue has ${catalogueSize}`,
    );
  return seen.size / catalogueSize;
}
