/**
 * Evaluation splits of interactions and the sparse per-user lists the models train on.
 * - "last": leave-last-out by time: each user's latest interaction (by timestamp, the later line on a tie) is held
 *   out; users with one interaction keep it in training.
 * - "random": per-user random holdout: each user's interactions are shuffled and `testFraction` of them (rounded,
 *   at least one when the user has two or more) are held out.
 * - cold start: a random `coldFraction` of the items that have interactions is held out entirely: every interaction
 *   with them is a test row, none is in training, and ranking is over the cold items only.
 * - cold-start users: a random `fraction` of the users is held out entirely: all their interactions are test rows,
 *   none is in training, and ranking is over all items (a model sees such a user through its features only).
 * Positives are interactions with rating ≥ threshold; the models train on positive training rows, and every training
 * row (any rating) is "seen" and excluded from that user's ranking.
 */
import { ArgumentError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import type { Interactions } from "./data.js";

export type Protocol = "last" | "random";

export interface Split {
  protocol: Protocol | "cold" | "cold-users";
  train: Int32Array;
  test: Int32Array;
  /** Cold items (dense ids, ascending) for a cold-start split, else null. */
  coldItems: Int32Array | null;
}

/** Compressed rows: the items of user u are indices[indptr[u] .. indptr[u+1]), ascending. */
export interface UserItems {
  nUsers: number;
  nItems: number;
  indptr: Int32Array;
  indices: Int32Array;
}

function byUser(data: Interactions): number[][] {
  const rows: number[][] = Array.from({ length: data.users.length }, () => []);
  for (let r = 0; r < data.user.length; r++) rows[data.user[r]!]!.push(r);
  return rows;
}

export function splitInteractions(
  data: Interactions,
  opts: { protocol: Protocol; testFraction?: number; seed?: number },
): Split {
  const train: number[] = [];
  const test: number[] = [];
  const rng = new Rng(opts.seed ?? 0);
  const frac = opts.testFraction ?? 0.2;
  if (!(frac > 0 && frac < 1)) throw new ArgumentError(`test fraction must be in (0, 1), got ${frac}`);
  for (const rows of byUser(data)) {
    if (rows.length < 2) {
      train.push(...rows);
      continue;
    }
    if (opts.protocol === "last") {
      const last = rows.reduce((a, b) =>
        data.time[b]! > data.time[a]! || (data.time[b] === data.time[a] && data.line[b]! > data.line[a]!) ? b : a,
      );
      for (const r of rows) (r === last ? test : train).push(r);
    } else {
      const perm = rng.permutation(rows.length);
      const n = Math.max(1, Math.round(rows.length * frac));
      perm.forEach((p, k) => (k < n ? test : train).push(rows[p]!));
    }
  }
  return { protocol: opts.protocol, train: Int32Array.from(train), test: Int32Array.from(test), coldItems: null };
}

/** Holds a random `fraction` of the interacted items out of training entirely (see the module comment). */
export function coldStartSplit(data: Interactions, opts: { fraction?: number; seed?: number } = {}): Split {
  const fraction = opts.fraction ?? 0.2;
  if (!(fraction > 0 && fraction < 1)) throw new ArgumentError(`cold fraction must be in (0, 1), got ${fraction}`);
  const used = new Uint8Array(data.items.length);
  for (let r = 0; r < data.item.length; r++) used[data.item[r]!] = 1;
  const interacted = [...used.keys()].filter((i) => used[i]);
  const rng = new Rng(opts.seed ?? 0);
  const perm = rng.permutation(interacted.length);
  const nCold = Math.max(1, Math.round(interacted.length * fraction));
  const cold = new Uint8Array(data.items.length);
  for (let k = 0; k < nCold; k++) cold[interacted[perm[k]!]!] = 1;
  const train: number[] = [];
  const test: number[] = [];
  for (let r = 0; r < data.item.length; r++) (cold[data.item[r]!] ? test : train).push(r);
  const coldItems = Int32Array.from([...cold.keys()].filter((i) => cold[i]));
  return { protocol: "cold", train: Int32Array.from(train), test: Int32Array.from(test), coldItems };
}

/** Per-user item lists of the given rows, keeping those with rating ≥ minRating. */
export function userItems(data: Interactions, rows: Int32Array, minRating = -Infinity): UserItems {
  const nUsers = data.users.length;
  const counts = new Int32Array(nUsers + 1);
  for (const r of rows) if (data.rating[r]! >= minRating) counts[data.user[r]! + 1]!++;
  for (let u = 0; u < nUsers; u++) counts[u + 1]! += counts[u]!;
  const indptr = counts.slice();
  const fill = counts.slice(0, nUsers);
  const indices = new Int32Array(indptr[nUsers]!);
  for (const r of rows) if (data.rating[r]! >= minRating) indices[fill[data.user[r]!]!++] = data.item[r]!;
  for (let u = 0; u < nUsers; u++) indices.subarray(indptr[u], indptr[u + 1]).sort();
  return { nUsers, nItems: data.items.length, indptr, indices };
}

/** The transpose: for each item, its users. */
export function transpose(m: UserItems): UserItems {
  const counts = new Int32Array(m.nItems + 1);
  for (const i of m.indices) counts[i + 1]!++;
  for (let i = 0; i < m.nItems; i++) counts[i + 1]! += counts[i]!;
  const indices = new Int32Array(m.indices.length);
  const fill = counts.slice(0, m.nItems);
  for (let u = 0; u < m.nUsers; u++)
    for (let p = m.indptr[u]!; p < m.indptr[u + 1]!; p++) indices[fill[m.indices[p]!]!++] = u;
  return { nUsers: m.nItems, nItems: m.nUsers, indptr: counts, indices };
}

/** Items of user u. */
export function itemsOf(m: UserItems, u: number): Int32Array {
  return m.indices.subarray(m.indptr[u], m.indptr[u + 1]);
}

/** Holds a random `fraction` of the users out of training entirely (see the module comment). */
export function coldUserSplit(data: Interactions, opts: { fraction?: number; seed?: number } = {}): Split {
  const fraction = opts.fraction ?? 0.2;
  if (!(fraction > 0 && fraction < 1)) throw new ArgumentError(`cold-user fraction must be in (0, 1), got ${fraction}`);
  const rng = new Rng(opts.seed ?? 0);
  const perm = rng.permutation(data.users.length);
  const cold = new Uint8Array(data.users.length);
  const nCold = Math.max(1, Math.round(data.users.length * fraction));
  for (let k = 0; k < nCold; k++) cold[perm[k]!] = 1;
  const train: number[] = [];
  const test: number[] = [];
  for (let r = 0; r < data.user.length; r++) (cold[data.user[r]!] ? test : train).push(r);
  return { protocol: "cold-users", train: Int32Array.from(train), test: Int32Array.from(test), coldItems: null };
}
