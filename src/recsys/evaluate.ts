/**
 * The one evaluation harness every recommender goes through: a split becomes training positives, the seen items
 * of each user (every training row, excluded from the ranking) and each user's test positives (rating ≥
 * threshold). Ranking is over all items (full ranking, no sampled negatives), or over the cold items of a
 * cold-start split. Users with test rows but no positive among them are skipped and counted. The top-k lists go
 * through the metric registry (ndcg@k, recall@k, precision@k, map@k, hit-rate@k, MRR over the longest cut-off),
 * plus catalogue coverage and popularity bias (the mean number of training positives of the recommended items).
 */
import { ArgumentError } from "../util/errors.js";
import { catalogueCoverage, computeMetrics, type MetricSpec } from "../metrics/index.js";
import type { Interactions } from "./data.js";
import { itemsOf, userItems, type Split, type UserItems } from "./split.js";
import { topKRow } from "./topk.js";

export interface Protocol {
  split: Split;
  threshold: number;
  /** Training positives: what the models fit. */
  train: UserItems;
  /** Every training row of each user: excluded from the ranking. */
  seen: UserItems;
  /** Test positives of each user. */
  test: UserItems;
  /** Users with at least one test positive, ascending. */
  users: Int32Array;
  /** Users with test rows but no positive among them (skipped). */
  skippedUsers: number;
  /** Items ranked: all (null) or the cold items. */
  candidates: Int32Array | null;
  /** Training positives per item. */
  popularity: Float32Array;
}

export function makeProtocol(data: Interactions, split: Split, threshold: number): Protocol {
  const train = userItems(data, split.train, threshold);
  const seen = userItems(data, split.train);
  const test = userItems(data, split.test, threshold);
  const anyTest = userItems(data, split.test);
  const users: number[] = [];
  let skippedUsers = 0;
  for (let u = 0; u < data.users.length; u++) {
    const nTest = anyTest.indptr[u + 1]! - anyTest.indptr[u]!;
    if (nTest === 0) continue;
    if (test.indptr[u + 1]! > test.indptr[u]!) users.push(u);
    else skippedUsers++;
  }
  if (users.length === 0)
    throw new ArgumentError(
      `${data.file}: no user has a test interaction with rating ≥ ${threshold}`,
      "lower --threshold or check the rating column",
    );
  const popularity = new Float32Array(data.items.length);
  for (const i of train.indices) popularity[i]!++;
  return {
    split,
    threshold,
    train,
    seen,
    test,
    users: Int32Array.from(users),
    skippedUsers,
    candidates: split.coldItems,
    popularity,
  };
}

/** Scores of all items for each user of `users`, row after row, into `out`. */
export type BlockScorer = (users: Int32Array, out: Float32Array) => void;

/** Top-k lists of each user, scored in blocks of `blockSize` users, seen items excluded. */
export function recommendAll(
  score: BlockScorer,
  users: Int32Array,
  opts: { nItems: number; k: number; seen?: UserItems | null; candidates?: Int32Array | null; blockSize?: number },
): Int32Array[] {
  const n = opts.nItems;
  const bs = Math.max(1, Math.min(opts.blockSize ?? 256, users.length));
  const block = new Float32Array(bs * n);
  const out: Int32Array[] = [];
  for (let s = 0; s < users.length; s += bs) {
    const ids = users.subarray(s, Math.min(users.length, s + bs));
    score(ids, block);
    for (let b = 0; b < ids.length; b++) {
      const ex = opts.seen ? itemsOf(opts.seen, ids[b]!) : null;
      out.push(topKRow(block, b * n, n, opts.k, ex, opts.candidates ?? null).items.slice());
    }
  }
  return out;
}

export interface RankingResult {
  users: number;
  skippedUsers: number;
  /** "ndcg@10", "recall@10", ..., "mrr", "coverage@10", "popularity@10". */
  metrics: Record<string, number>;
  /** Top-k list of each evaluated user (protocol.users order). */
  lists: Int32Array[];
}

export function evaluateRanking(
  score: BlockScorer,
  p: Protocol,
  opts: { ks?: readonly number[]; blockSize?: number } = {},
): RankingResult {
  const ks = [...(opts.ks ?? [10])].sort((a, b) => a - b);
  if (ks.some((k) => !Number.isInteger(k) || k < 1)) throw new ArgumentError(`cut-offs must be positive integers`);
  const K = ks[ks.length - 1]!;
  const lists = recommendAll(score, p.users, {
    nItems: p.popularity.length,
    k: K,
    seen: p.seen,
    candidates: p.candidates,
    blockSize: opts.blockSize,
  });
  const recs = lists.map((l) => Array.from(l));
  const rel = Array.from(p.users, (u) => Array.from(itemsOf(p.test, u)));
  const specs: Record<string, MetricSpec> = {};
  for (const k of ks)
    for (const [m, entry] of [
      ["ndcg", "ndcg@k"],
      ["recall", "recall@k"],
      ["precision", "precision@k"],
      ["map", "map"],
      ["hit-rate", "hit-rate@k"],
    ] as const)
      specs[`${m}@${k}`] = { metric: entry, options: { k } };
  specs.mrr = { metric: "mrr", options: { k: K } };
  const metrics = computeMetrics(specs, { items: recs }, rel);
  const catalogue = p.candidates ? p.candidates.length : p.popularity.length;
  for (const k of ks) {
    metrics[`coverage@${k}`] = catalogueCoverage(recs, catalogue, { k });
    let s = 0,
      c = 0;
    for (const l of lists)
      for (let r = 0; r < Math.min(k, l.length); r++) {
        s += p.popularity[l[r]!]!;
        c++;
      }
    metrics[`popularity@${k}`] = c ? s / c : 0;
  }
  return { users: p.users.length, skippedUsers: p.skippedUsers, metrics, lists };
}
