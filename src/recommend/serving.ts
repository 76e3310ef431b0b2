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
import { ItemEncoder, type ItemEncoderMode } from "./text.js";
import type { ItemHeadExport, UserTowerExport } from "./two-tower.js";
import { encodeUserRecord } from "./user-features.js";

/** The item head as saved: the text head, how the encoder was trained, and where its base is. */
export interface SavedItemHead extends ItemHeadExport {
  mode: ItemEncoderMode;
  /** The base encoder's directory (absolute); lora/full weights are in the recommender's item_encoder/. */
  encoder: string;
}

type SavedUserTower = Omit<UserTowerExport, "history">;

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
    userTower?: UserTowerExport;
    itemHead?: SavedItemHead;
  },
): void {
  mkdirSync(dir, { recursive: true });
  if (r.userTower) {
    const { history, ...rest } = r.userTower;
    writeFileAtomic(join(dir, "history_vectors.float32"), bytes(history));
    writeJsonAtomic(join(dir, "user_tower.json"), rest satisfies SavedUserTower);
  }
  if (r.itemHead) writeJsonAtomic(join(dir, "item_head.json"), r.itemHead);
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

/** A request: a known user, or a history of item ids (and features) for a user the model was not trained on. */
export interface RecommendRequest {
  user?: string;
  history?: readonly string[];
  features?: Record<string, unknown>;
  k?: number;
  /** Leave out the user's seen items (a known user's training items, or the given history); default true. */
  excludeSeen?: boolean;
}

/** Loads a saved recommender and answers top-k requests by user id, or by a history of items. */
export class RecommendPredictor {
  readonly info: SavedRecommenderInfo;
  readonly factors: Factors;
  readonly seen: UserItems;
  private readonly userIndex: Map<string, number>;
  private readonly itemIndex: Map<string, number>;
  private readonly scorer: BlockScorer;
  private readonly tower: (SavedUserTower & { history: Float32Array }) | null;
  private readonly head: SavedItemHead | null;
  private itemMatrix: Tensor | null = null;

  private constructor(
    readonly dir: string,
    info: SavedRecommenderInfo,
    factors: Factors,
    seen: UserItems,
    tower: (SavedUserTower & { history: Float32Array }) | null,
    head: SavedItemHead | null,
  ) {
    this.info = info;
    this.factors = factors;
    this.seen = seen;
    this.userIndex = new Map(info.users.map((u, i) => [u, i]));
    this.itemIndex = new Map(info.items.map((u, i) => [u, i]));
    this.scorer = factorScorer(factors);
    this.tower = tower;
    this.head = head;
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
    let tower: (SavedUserTower & { history: Float32Array }) | null = null;
    if (existsSync(join(dir, "user_tower.json"))) {
      const t = JSON.parse(readFileSync(join(dir, "user_tower.json"), "utf8")) as SavedUserTower;
      const history = readTyped(join(dir, "history_vectors.float32"), (b) => new Float32Array(b), nI * t.dim);
      tower = { ...t, history };
    }
    const head = existsSync(join(dir, "item_head.json"))
      ? (JSON.parse(readFileSync(join(dir, "item_head.json"), "utf8")) as SavedItemHead)
      : null;
    return new RecommendPredictor(
      dir,
      info,
      { dim: d, user, item },
      { nUsers: nU, nItems: nI, indptr, indices },
      tower,
      head,
    );
  }

  /** Whether a history (and features) can stand for a user: the model has a user tower (two-tower). */
  get takesHistory(): boolean {
    return this.tower !== null;
  }

  /** The user-feature columns a request may give (empty without user features). */
  get featureColumns(): string[] {
    return this.tower?.features?.schema.columns.map((c) => c.name) ?? [];
  }

  /** The k best items for a user, the items the user already has left out (unless excludeSeen is false). */
  recommend(userId: string, k = 10, excludeSeen = true): Recommendation[] {
    return this.request({ user: userId, k, excludeSeen });
  }

  /** Answers a request by user id or by history (and features); errors name the request's field. */
  request(r: RecommendRequest): Recommendation[] {
    const k = r.k ?? 10;
    if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`k must be a positive integer, got ${k}`);
    const nI = this.info.items.length;
    const row = new Float32Array(nI);
    let seen: Int32Array;
    if (r.user !== undefined) {
      if (r.history !== undefined || r.features !== undefined)
        throw new ArgumentError("give either user or history (with features), not both");
      const u = this.userIndex.get(String(r.user));
      if (u === undefined)
        throw new ArgumentError(
          `unknown user "${r.user}"`,
          this.takesHistory
            ? "the user must appear in the training interactions; send the user's history (item ids) instead"
            : "the user must appear in the training interactions",
        );
      this.scorer(Int32Array.of(u), row);
      seen = itemsOf(this.seen, u);
    } else {
      if (!this.tower)
        throw new ArgumentError(
          `a ${this.info.model} recommender ranks only its training users; a history needs the two-tower model`,
        );
      const hist = (r.history ?? []).map((id, i) => {
        const j = this.itemIndex.get(String(id));
        if (j === undefined) throw new ArgumentError(`history[${i}]: unknown item "${id}"`);
        return j;
      });
      if (hist.length === 0 && r.features === undefined)
        throw new ArgumentError("give a user, a non-empty history, or features");
      row.set(this.scoreVector(this.userVector(hist, r.features)));
      seen = Int32Array.from(new Set(hist)).sort();
    }
    const top = topKRow(row, 0, nI, k, r.excludeSeen === false ? new Int32Array(0) : seen);
    return Array.from(top.items, (i, n) => ({
      item: this.info.items[i]!,
      score: top.scores[n]!,
      ...(this.info.itemTexts ? { text: this.info.itemTexts[i]! } : {}),
    }));
  }

  /**
   * The serving form [u/τ, 1] of a user given by history items (dense ids) and features: u = normalize(mean of
   * the history vectors + the feature part), as the two-tower's user tower computes it.
   */
  userVector(hist: readonly number[], features?: Record<string, unknown>): Float32Array {
    const t = this.tower!;
    const d = t.dim;
    const u = new Float64Array(d);
    for (const j of hist) for (let k = 0; k < d; k++) u[k]! += t.history[j * d + k]! / hist.length;
    if (t.features) {
      const f = t.features;
      const enc = features
        ? encodeUserRecord(f.schema, features, { field: "features" })
        : {
            numeric: f.schema.columns.filter((c) => c.type === "numeric").map(() => 0),
            categorical: f.schema.columns.filter((c) => c.type === "categorical").map(() => 0),
          };
      const cat = [...enc.categorical, features ? 0 : 1];
      let off = 0;
      cat.forEach((x, c) => {
        for (let k = 0; k < d; k++) u[k]! += f.categoryTable[(off + x) * d + k]!;
        off += f.catSizes[c]!;
      });
      const nn = enc.numeric.length;
      for (let k = 0; k < d; k++) for (let j = 0; j < nn; j++) u[k]! += f.numericWeight[k * nn + j]! * enc.numeric[j]!;
    } else if (features !== undefined)
      throw new ArgumentError("features: this recommender was trained without user features");
    const norm = Math.sqrt(u.reduce((a, x) => a + x * x, 0) + 1e-8);
    const out = new Float32Array(d + 1);
    for (let k = 0; k < d; k++) out[k] = u[k]! / norm / t.temperature;
    out[d] = 1;
    return out;
  }

  /** Scores of every item for one user vector (the factor form). */
  scoreVector(u: Float32Array): Float32Array {
    const d = this.factors.dim;
    const nI = this.info.items.length;
    this.itemMatrix ??= tensor(this.factors.item, [nI, d]);
    return noGrad(() => matmul(tensor(u, [1, d]), this.itemMatrix!, { transB: true }).toFloat32Array());
  }

  /**
   * Item vectors [v, bias] (each dim + 1) for texts, placed as text-only (cold) items by the saved item tower: the
   * encoder (the base, with the trained LoRA adapter or the fine-tuned weights) and the text head.
   */
  async encodeItems(texts: readonly string[]): Promise<Float32Array[]> {
    const h = this.head;
    if (!h) throw new ArgumentError(`a ${this.info.model} recommender has no item text tower`);
    const dir = join(this.dir, "item_encoder");
    const enc = await ItemEncoder.load(h.mode === "full" ? dir : h.encoder, texts, {
      ...(h.mode === "lora" ? { adapter: dir } : {}),
    });
    const pooled = enc.all().data;
    const { dim: d, textDim: H } = h;
    return texts.map((_, i) => {
      const z = Array.from({ length: H }, (_, j) => (pooled[i * H + j]! - h.mean[j]!) * h.invStd[j]!);
      const v = Array.from({ length: d }, (_, k) => {
        let s = h.b[k]!;
        for (let j = 0; j < H; j++) s += h.W[k * H + j]! * z[j]!;
        return s;
      });
      const n = Math.sqrt(v.reduce((a, x) => a + x * x, 0) + 1e-8);
      let bias = 0;
      for (let j = 0; j < H; j++) bias += h.wb[j]! * z[j]!;
      return Float32Array.from([...v.map((x) => x / n), bias]);
    });
  }

  /** The user's training items (history). */
  history(userId: string): string[] {
    const u = this.userIndex.get(String(userId));
    if (u === undefined) throw new ArgumentError(`unknown user "${userId}"`);
    return Array.from(itemsOf(this.seen, u), (i) => this.info.items[i]!);
  }
}
