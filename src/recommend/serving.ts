/**
 * Serving a factor recommender: the item vectors are exported once; top-k for a block of users is one matrix
 * product on the backend (blocks of users × all items, so memory stays bounded at 100k items) followed by an exact
 * top-k scan that skips the user's seen items. A saved recommender is a directory: recommender.json (model name,
 * ids, dimension, settings), user_vectors.float32 and item_vectors.float32 (row-major float32), seen_indptr.int32 and
 * seen_indices.int32 (each user's training items, excluded from recommendations). RecommendPredictor loads it.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError, FormatError } from "../util/errors.js";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { embedding, matmul, noGrad, tensor, type Tensor } from "../tensor/index.js";
import { itemsOf, recommendAll, topKRow, type BlockScorer, type Factors, type UserItems } from "../recsys/index.js";

/** A scorer over factor vectors: each block is one (users × dim) · (dim × items) product on the backend. */
export function factorScorer(f: Factors): BlockScorer {
  const d = f.dim;
  const nItems = f.item.length / d;
  const nUsers = f.user.length / d;
  let U: Tensor | null = null;
  let V: Tensor | null = null;
  return (users, out) => {
    U ??= tensor(f.user, [nUsers, d]);
    V ??= tensor(f.item, [nItems, d]);
    noGrad(() => {
      const block = matmul(embedding(tensor(users, [users.length], { dtype: "i32" }), U!), V!, { transB: true });
      out.set(block.toFloat32Array());
    });
  };
}

/** Top-k items of each user by a blocked product, seen items excluded. */
export function topKAll(
  f: Factors,
  users: Int32Array,
  k: number,
  opts: { seen?: UserItems | null; blockSize?: number } = {},
): Int32Array[] {
  return recommendAll(factorScorer(f), users, {
    nItems: f.item.length / f.dim,
    k,
    seen: opts.seen ?? null,
    blockSize: opts.blockSize ?? 64,
  });
}

export interface SavedRecommenderInfo {
  format: "graft-recommender";
  version: 1;
  model: string;
  dim: number;
  users: string[];
  items: string[];
  /** Item texts (when the model had them), for showing recommendations. */
  itemTexts?: string[];
  settings?: Record<string, unknown>;
}

function bytes(a: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function saveRecommender(
  dir: string,
  r: {
    model: string;
    factors: Factors;
    users: string[];
    items: string[];
    seen: UserItems;
    itemTexts?: string[];
    settings?: Record<string, unknown>;
  },
): void {
  mkdirSync(dir, { recursive: true });
  const info: SavedRecommenderInfo = {
    format: "graft-recommender",
    version: 1,
    model: r.model,
    dim: r.factors.dim,
    users: r.users,
    items: r.items,
    ...(r.itemTexts ? { itemTexts: r.itemTexts } : {}),
    ...(r.settings ? { settings: r.settings } : {}),
  };
  writeFileAtomic(join(dir, "user_vectors.float32"), bytes(r.factors.user));
  writeFileAtomic(join(dir, "item_vectors.float32"), bytes(r.factors.item));
  writeFileAtomic(join(dir, "seen_indptr.int32"), bytes(r.seen.indptr));
  writeFileAtomic(join(dir, "seen_indices.int32"), bytes(r.seen.indices));
  writeJsonAtomic(join(dir, "recommender.json"), info);
}

function readTyped<T extends Float32Array | Int32Array>(
  file: string,
  make: (b: ArrayBuffer) => T,
  expected: number | null,
): T {
  if (!existsSync(file)) throw new FormatError(`${file}: missing`);
  const buf = readFileSync(file);
  const a = make(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
  if (expected !== null && a.length !== expected)
    throw new FormatError(`${file}: ${a.length} values, expected ${expected}`);
  return a;
}

export interface Recommendation {
  item: string;
  score: number;
  text?: string;
}

/** Loads a saved recommender and answers top-k requests by user id. */
export class RecommendPredictor {
  readonly info: SavedRecommenderInfo;
  readonly factors: Factors;
  readonly seen: UserItems;
  private readonly userIndex: Map<string, number>;
  private readonly scorer: BlockScorer;

  private constructor(info: SavedRecommenderInfo, factors: Factors, seen: UserItems) {
    this.info = info;
    this.factors = factors;
    this.seen = seen;
    this.userIndex = new Map(info.users.map((u, i) => [u, i]));
    this.scorer = factorScorer(factors);
  }

  static load(dir: string): RecommendPredictor {
    const file = join(dir, "recommender.json");
    if (!existsSync(file))
      throw new FormatError(`${dir}: no recommender.json`, "train one with graft recommend train --output DIR");
    const info = JSON.parse(readFileSync(file, "utf8")) as SavedRecommenderInfo;
    if (info.format !== "graft-recommender") throw new FormatError(`${file}: not a graft recommender`);
    const d = info.dim,
      nU = info.users.length,
      nI = info.items.length;
    const user = readTyped(join(dir, "user_vectors.float32"), (b) => new Float32Array(b), nU * d);
    const item = readTyped(join(dir, "item_vectors.float32"), (b) => new Float32Array(b), nI * d);
    const indptr = readTyped(join(dir, "seen_indptr.int32"), (b) => new Int32Array(b), nU + 1);
    const indices = readTyped(join(dir, "seen_indices.int32"), (b) => new Int32Array(b), indptr[nU]!);
    return new RecommendPredictor(info, { dim: d, user, item }, { nUsers: nU, nItems: nI, indptr, indices });
  }

  /** The k best items for a user, the items the user already has left out. */
  recommend(userId: string, k = 10): Recommendation[] {
    if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`k must be a positive integer, got ${k}`);
    const u = this.userIndex.get(String(userId));
    if (u === undefined)
      throw new ArgumentError(`unknown user "${userId}"`, "the user must appear in the training interactions");
    const nI = this.info.items.length;
    const row = new Float32Array(nI);
    this.scorer(Int32Array.of(u), row);
    const top = topKRow(row, 0, nI, k, itemsOf(this.seen, u));
    return Array.from(top.items, (i, r) => ({
      item: this.info.items[i]!,
      score: top.scores[r]!,
      ...(this.info.itemTexts ? { text: this.info.itemTexts[i]! } : {}),
    }));
  }

  /** The user's training items (history). */
  history(userId: string): string[] {
    const u = this.userIndex.get(String(userId));
    if (u === undefined) throw new ArgumentError(`unknown user "${userId}"`);
    return Array.from(itemsOf(this.seen, u), (i) => this.info.items[i]!);
  }
}
