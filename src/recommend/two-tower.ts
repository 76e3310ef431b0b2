/**
 * A two-tower recommender whose item tower carries a pre-trained text encoder's knowledge.
 * - item tower: v_i = drop(E[i]) + W·t_i + b, where t_i is the item text's pooled encoder vector (frozen and cached:
 *   see text.ts) and E an item ID embedding; during training the ID part is dropped with probability `idDropout`
 *   so the text path learns to stand alone, and an item without training interactions (cold) uses the text path only;
 * - user tower: the mean of E over (a sample of) the items the user interacted with, the target left out, plus a
 *   user ID embedding P[u] when `userIds` is set (off by default: on MovieLens-100k it overfits, see docs/recommend.md);
 * - both L2-normalized; score = u·v / τ + bias_i, the item bias an ID part (dropped with the ID embedding) plus a
 *   linear function of the text, so a cold item still gets a popularity prior from its text.
 * Training: in-batch sampled softmax over the batch's items with the log-Q correction (logit − log q_j, q_j the
 * item's share of the training positives, as Yi et al. 2019), the same item elsewhere in the batch masked out; or BPR
 * with one uniform negative per positive. Adam, on graft's tensors and autograd.
 * Item encoder (`itemEncoder`): "frozen" reads the cached vectors; "lora" and "full" recompute the pooled output of
 * the batch's items in training (up to `encoderItems` distinct items a step, the rest read each item's latest
 * recomputed vector), so gradients reach LoRA adapters or every encoder weight, with their own learning rate
 * `encoderLr`; after training every item is re-encoded once for serving.
 * User features (optional): numeric columns through a linear map and each categorical column (plus a missing
 * indicator) through an embedding table, added to the user tower before normalization.
 */
import { ArgumentError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import {
  add,
  affine,
  concat,
  crossEntropy,
  embedding,
  linear,
  log,
  matmul,
  maskedFill,
  mul,
  noGrad,
  reshape,
  rsqrt,
  sigmoid,
  square,
  sub,
  sum,
  tensor,
  type Tensor,
} from "../tensor/index.js";
import { Parameter } from "../nn/index.js";
import { Adam } from "../optim/index.js";
import { itemsOf, type Factors, type FitOptions, type Recommender, type UserItems } from "../recsys/index.js";
import type { ItemEncoder, ItemEncoderMode, TextVectors } from "./text.js";
import type { UserFeatureSchema, UserFeatures } from "./user-features.js";

export interface TwoTowerOptions {
  dim?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  /** Softmax temperature τ. */
  temperature?: number;
  loss?: "softmax" | "bpr";
  /** Subtract log q_j from the in-batch logits (softmax loss). */
  logQ?: boolean;
  /** Probability of dropping an item's ID embedding in training. */
  idDropout?: number;
  /** History items averaged into the user tower per example. */
  history?: number;
  /** Probability of training an example with an empty history (the user features alone; cold-start users). */
  historyDropout?: number;
  /** Use item ID embeddings at all (false: text only). */
  itemIds?: boolean;
  /** Add a user ID embedding to the user tower (false: the history mean alone). */
  userIds?: boolean;
  /** How the text encoder trains: frozen (cached vectors), LoRA adapters, or all its weights. */
  itemEncoder?: ItemEncoderMode;
  /** Learning rate of the encoder's weights (default 1e-3 for LoRA, 1e-4 for full fine-tuning). */
  encoderLr?: number;
  /** Distinct items a step whose text is recomputed with gradients (the rest read their latest vector). */
  encoderItems?: number;
  /** LoRA rank (α = 2·rank). */
  loraRank?: number;
  /** Train the encoder in the last this many epochs only (the earlier ones read the cached vectors); default all. */
  encoderEpochs?: number;
  seed?: number;
}

/** What a trained two-tower needs besides its settings: the live encoder (lora/full) and user features. */
export interface TwoTowerInputs {
  encoder?: ItemEncoder | null;
  userFeatures?: UserFeatures | null;
}

/** The user tower in plain arrays, for users given by a history (and features) at serving time. */
export interface UserTowerExport {
  dim: number;
  temperature: number;
  /** nItems × dim: what a history item adds to the user vector (its ID embedding, or its projected text). */
  history: Float32Array;
  features: {
    schema: UserFeatureSchema;
    catSizes: number[];
    /** dim × numeric columns, row-major. */
    numericWeight: number[];
    /** (Σ catSizes) × dim, row-major; the tables in column order, the missing indicator's last. */
    categoryTable: number[];
  } | null;
}

/** The item tower's text head in plain arrays: a text's pooled vector t → [normalize(W·z + b), z·wb], z = (t − μ)·σ⁻¹. */
export interface ItemHeadExport {
  dim: number;
  textDim: number;
  mean: number[];
  invStd: number[];
  W: number[];
  b: number[];
  wb: number[];
}

/** A batch's text rows: a table and where each item's row is in it. */
interface TextSource {
  table: Tensor;
  row: (item: number) => number;
}

export class TwoTower implements Recommender {
  readonly name = "two-tower";
  readonly o: Required<TwoTowerOptions>;
  readonly text: TextVectors;
  private E!: Parameter;
  private P!: Parameter;
  private W!: Parameter;
  private b!: Parameter;
  /** Item bias: an ID part and a part read from the text. */
  private Eb!: Parameter;
  private wb!: Parameter;
  private T!: Tensor;
  /** Standardized text vectors (nItems × textDim), refreshed as the encoder trains. */
  private tcache: Float32Array = new Float32Array(0);
  private mu = new Float32Array(0);
  private isd = new Float32Array(0);
  private Fn: Parameter | null = null;
  private Fc: Parameter | null = null;
  private catOffsets = new Int32Array(0);
  readonly encoder: ItemEncoder | null;
  readonly features: UserFeatures | null;
  private train: UserItems | null = null;
  private cached: Factors | null = null;

  constructor(text: TextVectors, o: TwoTowerOptions = {}, inputs: TwoTowerInputs = {}) {
    this.text = text;
    this.encoder = inputs.encoder ?? null;
    this.features = inputs.userFeatures ?? null;
    this.o = {
      dim: o.dim ?? 64,
      epochs: o.epochs ?? 20,
      batchSize: o.batchSize ?? 256,
      lr: o.lr ?? 3e-3,
      temperature: o.temperature ?? 0.1,
      loss: o.loss ?? "softmax",
      logQ: o.logQ ?? true,
      idDropout: o.idDropout ?? 0.3,
      history: o.history ?? 30,
      historyDropout: o.historyDropout ?? 0,
      itemIds: o.itemIds ?? true,
      userIds: o.userIds ?? false,
      itemEncoder: o.itemEncoder ?? "frozen",
      encoderLr: o.encoderLr ?? (o.itemEncoder === "full" ? 1e-4 : 1e-3),
      encoderItems: o.encoderItems ?? 64,
      loraRank: o.loraRank ?? 8,
      encoderEpochs: o.encoderEpochs ?? o.epochs ?? 20,
      seed: o.seed ?? 0,
    };
    if (this.o.itemEncoder !== "frozen") {
      if (!this.encoder)
        throw new ArgumentError(`two-tower: a ${this.o.itemEncoder} item encoder needs the encoder (ItemEncoder)`);
      if (this.encoder.n !== text.n)
        throw new ArgumentError(`two-tower: ${this.encoder.n} encoder texts but ${text.n} text vectors`);
      if (!this.o.itemIds)
        throw new ArgumentError("two-tower: a trained item encoder needs item IDs (itemIds) for the user tower");
    }
    if (!(Number.isInteger(this.o.encoderItems) && this.o.encoderItems >= 1))
      throw new ArgumentError(`two-tower: encoderItems must be a positive integer, got ${this.o.encoderItems}`);
    if (!(this.o.temperature > 0)) throw new ArgumentError(`two-tower: temperature must be > 0`);
    if (!(this.o.idDropout >= 0 && this.o.idDropout <= 1)) throw new ArgumentError(`two-tower: idDropout in [0, 1]`);
    if (!(this.o.historyDropout >= 0 && this.o.historyDropout < 1))
      throw new ArgumentError(`two-tower: historyDropout in [0, 1)`);
  }

  private normalize(x: Tensor): Tensor {
    return mul(x, rsqrt(affine(sum(square(x), -1, { keepDim: true }), 1, 1e-8)));
  }

  /** The frozen text source: the cached table, an item's own row. */
  private cachedText(): TextSource {
    return { table: this.T, row: (i) => i };
  }

  private textOf(ids: Int32Array, src: TextSource): Tensor {
    return embedding(tensor(Int32Array.from(ids, src.row), [ids.length], { dtype: "i32" }), src.table);
  }

  /** Item tower for `ids`; `keep` [B, 1] scales the ID part (dropout) or null. */
  private items(ids: Int32Array, keep: Tensor | null, src: TextSource): Tensor {
    const textPart = linear(this.textOf(ids, src), this.W, this.b);
    if (!this.o.itemIds) return this.normalize(textPart);
    const idPart = embedding(tensor(ids, [ids.length], { dtype: "i32" }), this.E);
    return this.normalize(add(textPart, keep ? mul(idPart, keep) : idPart));
  }

  /** Item bias [B]: keep·Eb[i] + t_i·wb (a popularity prior a cold item can read from its text). */
  private bias(ids: Int32Array, keep: Tensor | null, src: TextSource): Tensor {
    const textPart = linear(this.textOf(ids, src), this.wb);
    if (!this.o.itemIds) return sum(textPart, -1);
    const idPart = embedding(tensor(ids, [ids.length], { dtype: "i32" }), this.Eb);
    return sum(add(textPart, keep ? mul(idPart, keep) : idPart), -1);
  }

  /** User tower: P[u] + Σ_l w[b, l]·E[hist[b, l]] + features(u). */
  private users(uids: Int32Array, hist: Tensor, weights: Tensor): Tensor {
    let h = sum(mul(embedding(hist, this.o.itemIds ? this.E : this.T2()), weights), 1);
    if (this.o.userIds) h = add(embedding(tensor(uids, [uids.length], { dtype: "i32" }), this.P), h);
    const f = this.userFeatures(uids);
    return this.normalize(f ? add(h, f) : h);
  }

  /** The user-feature part [n, dim]: W_num·x + Σ_c C_c[x_c] (the missing indicator one of the tables), or null. */
  private userFeatures(uids: Int32Array): Tensor | null {
    const F = this.features;
    if (!F) return null;
    const n = uids.length,
      nn = F.nNumeric,
      nc = F.catSizes.length;
    const idx = new Int32Array(n * nc);
    for (let k = 0; k < n; k++)
      for (let c = 0; c < nc; c++) idx[k * nc + c] = this.catOffsets[c]! + F.categorical[uids[k]! * nc + c]!;
    let out = sum(embedding(tensor(idx, [n, nc], { dtype: "i32" }), this.Fc!), 1);
    if (nn > 0) {
      const x = new Float32Array(n * nn);
      for (let k = 0; k < n; k++) x.set(F.numeric.subarray(uids[k]! * nn, (uids[k]! + 1) * nn), k * nn);
      out = add(out, linear(tensor(x, [n, nn]), this.Fn!));
    }
    return out;
  }

  /** Without item IDs, the history mean is over the items' projected text. */
  private T2(): Tensor {
    return linear(this.T, this.W, this.b);
  }

  /** Standardizes raw pooled vectors with the catalogue statistics fixed at the start of training. */
  private standardize(v: TextVectors): Float32Array {
    const h = v.dim;
    const t = new Float32Array(v.n * h);
    for (let i = 0; i < v.n; i++)
      for (let j = 0; j < h; j++) t[i * h + j] = (v.data[i * h + j]! - this.mu[j]!) * this.isd[j]!;
    return t;
  }

  /**
   * The batch's text rows with the encoder live: up to encoderItems distinct items (in random order) recomputed
   * with gradients, the others read from the cache of each item's latest vector.
   */
  private liveText(need: Int32Array, rng: Rng): { src: TextSource; live: Int32Array; fresh: Tensor } {
    const h = this.text.dim;
    const uniq = [...new Set(need)];
    const order = rng.permutation(uniq.length);
    const shuffled = Array.from(order, (k) => uniq[k]!);
    const live = Int32Array.from(shuffled.slice(0, this.o.encoderItems));
    const stale = shuffled.slice(this.o.encoderItems);
    const fresh = mul(sub(this.encoder!.pooled(live), tensor(this.mu, [1, h])), tensor(this.isd, [1, h]));
    const at = new Map<number, number>();
    live.forEach((i, k) => at.set(i, k));
    let table = fresh;
    if (stale.length) {
      const rows = new Float32Array(stale.length * h);
      stale.forEach((i, k) => {
        at.set(i, live.length + k);
        rows.set(this.tcache.subarray(i * h, (i + 1) * h), k * h);
      });
      table = concat([fresh, tensor(rows, [stale.length, h])], 0);
    }
    return { src: { table, row: (i) => at.get(i)! }, live, fresh };
  }

  fit(train: UserItems, opts: FitOptions = {}): void {
    const { nUsers, nItems } = train;
    if (nItems !== this.text.n)
      throw new ArgumentError(`two-tower: ${nItems} items but ${this.text.n} text vectors`, "one text per item");
    const o = this.o;
    const d = o.dim,
      h = this.text.dim;
    const rng = new Rng(o.seed);
    const init = (n: number, std: number) => Float32Array.from({ length: n }, () => rng.normal(0, std));
    this.E = new Parameter(init(nItems * d, 0.1), [nItems, d]);
    this.P = new Parameter(init(nUsers * d, 0.1), [nUsers, d]);
    this.W = new Parameter(init(d * h, 1 / Math.sqrt(h)), [d, h]);
    this.b = Parameter.zeros([d]);
    this.Eb = Parameter.zeros([nItems, 1]);
    this.wb = Parameter.zeros([1, h]);
    // standardized text vectors: each dimension centred and scaled over the catalogue (the statistics of the
    // initial vectors, kept fixed while a live encoder changes them)
    const t = this.text.data;
    this.mu = new Float32Array(h);
    this.isd = new Float32Array(h);
    for (let j = 0; j < h; j++) {
      let m = 0,
        v = 0;
      for (let i = 0; i < nItems; i++) m += t[i * h + j]! / nItems;
      for (let i = 0; i < nItems; i++) v += (t[i * h + j]! - m) ** 2 / nItems;
      this.mu[j] = m;
      this.isd[j] = 1 / Math.sqrt(v + 1e-8);
    }
    this.tcache = this.standardize(this.text);
    this.T = tensor(this.tcache, [nItems, h]);
    this.train = train;
    this.cached = null;
    const params = o.itemIds ? [this.E, this.P, this.W, this.b, this.Eb, this.wb] : [this.P, this.W, this.b, this.wb];
    const F = this.features;
    if (F) {
      if (F.numeric.length !== nUsers * F.nNumeric)
        throw new ArgumentError(
          `two-tower: user features for ${F.numeric.length / Math.max(1, F.nNumeric)} users, ${nUsers} in training`,
        );
      this.catOffsets = new Int32Array(F.catSizes.length);
      let rows = 0;
      F.catSizes.forEach((n, c) => {
        this.catOffsets[c] = rows;
        rows += n;
      });
      this.Fc = new Parameter(init(rows * d, 0.1), [rows, d]);
      params.push(this.Fc);
      if (F.nNumeric > 0) {
        this.Fn = new Parameter(init(d * F.nNumeric, 0.1), [d, F.nNumeric]);
        params.push(this.Fn);
      }
    }
    const live = o.itemEncoder !== "frozen";
    const encoderParams = live ? this.encoder!.trainable(o.itemEncoder as "lora" | "full", o.loraRank, o.seed) : [];
    const opt = new Adam(live ? [{ params }, { params: encoderParams, lr: o.encoderLr }] : params, { lr: o.lr });
    const nnz = train.indices.length;
    if (nnz === 0) throw new ArgumentError("two-tower: no positive training interactions");
    const rowOf = new Int32Array(nnz);
    for (let u = 0; u < nUsers; u++) rowOf.fill(u, train.indptr[u], train.indptr[u + 1]);
    const logq = new Float32Array(nItems);
    {
      const c = new Float32Array(nItems);
      for (const i of train.indices) c[i]!++;
      for (let i = 0; i < nItems; i++) logq[i] = Math.log((c[i]! + 1) / (nnz + nItems));
    }
    const B = o.batchSize,
      L = o.history;
    for (let e = 1; e <= o.epochs; e++) {
      const t0 = performance.now();
      const perm = rng.permutation(nnz);
      for (let s = 0; s < nnz; s += B) {
        const n = Math.min(B, nnz - s);
        if (n < 2) break;
        const uids = new Int32Array(n),
          iids = new Int32Array(n),
          hist = new Int32Array(n * L),
          w = new Float32Array(n * L),
          keep = new Float32Array(n);
        for (let k = 0; k < n; k++) {
          const p = perm[s + k]!;
          const u = rowOf[p]!,
            i = train.indices[p]!;
          uids[k] = u;
          iids[k] = i;
          keep[k] = rng.uniform() < o.idDropout ? 0 : 1;
          const mine = itemsOf(train, u);
          const others = mine.length - 1;
          const drop = o.historyDropout > 0 && rng.uniform() < o.historyDropout;
          const take = drop ? 0 : Math.min(L, others);
          for (let l = 0; l < take; l++) {
            let j = i;
            while (j === i) j = mine[rng.int(mine.length)]!;
            hist[k * L + l] = j;
            w[k * L + l] = 1 / take;
          }
        }
        let neg: Int32Array | null = null;
        if (o.loss === "bpr") {
          neg = new Int32Array(n);
          for (let k = 0; k < n; k++) {
            const mine = itemsOf(train, uids[k]!);
            let j = rng.int(nItems);
            for (let tries = 0; tries < 20 && mine.includes(j); tries++) j = rng.int(nItems);
            neg[k] = j;
          }
        }
        const liveText =
          live && e > o.epochs - o.encoderEpochs
            ? this.liveText(neg ? Int32Array.from([...iids, ...neg]) : iids, rng)
            : null;
        const src = liveText ? liveText.src : this.cachedText();
        const U = this.users(uids, tensor(hist, [n, L], { dtype: "i32" }), tensor(w, [n, L, 1]));
        const keepT = tensor(keep, [n, 1]);
        const V = this.items(iids, keepT, src);
        const bias = this.bias(iids, keepT, src);
        let loss: Tensor;
        if (!neg) {
          let logits = add(affine(matmul(U, V, { transB: true }), 1 / o.temperature), reshape(bias, [1, n]));
          if (o.logQ)
            logits = sub(
              logits,
              tensor(
                Float32Array.from(iids, (i) => logq[i]!),
                [1, n],
              ),
            );
          const same = new Float32Array(n * n);
          for (let a = 0; a < n; a++)
            for (let c = 0; c < n; c++) if (a !== c && iids[a] === iids[c]) same[a * n + c] = 1;
          logits = maskedFill(logits, tensor(same, [n, n]), -1e9);
          loss = crossEntropy(
            logits,
            tensor(
              Int32Array.from({ length: n }, (_, k) => k),
              [n],
              { dtype: "i32" },
            ),
          );
        } else {
          const Vn = this.items(neg, keepT, src);
          const diff = add(
            affine(sum(mul(U, sub(V, Vn)), -1), 1 / o.temperature),
            sub(bias, this.bias(neg, keepT, src)),
          );
          loss = affine(sum(log(affine(sigmoid(diff), 1, 1e-7))), -1 / n);
        }
        opt.zeroGrad();
        loss.backward();
        opt.step();
        if (liveText) {
          const v = liveText.fresh.toArray();
          liveText.live.forEach((i, k) => this.tcache.set(v.slice(k * h, (k + 1) * h), i * h));
        }
      }
      this.cached = null;
      opts.onEpoch?.(e, performance.now() - t0);
    }
    if (live) {
      // the serving vectors: every item re-encoded once by the trained encoder
      this.tcache = this.standardize(this.encoder!.all());
      this.T = tensor(this.tcache, [nItems, h]);
      this.cached = null;
    }
  }

  /**
   * The exported serving form: user [u/τ, 1] and item [v, bias], so a dot product is the training logit without
   * the log-Q term; items without training positives use their text only.
   */
  factors(): Factors {
    if (this.cached) return this.cached;
    const train = this.train;
    if (!train) throw new ArgumentError("two-tower: factors before fit");
    const { nUsers, nItems } = train;
    const d = this.o.dim;
    const out = noGrad(() => {
      const counts = new Float32Array(nItems);
      for (const i of train.indices) counts[i]!++;
      const keep = tensor(
        Float32Array.from(counts, (c) => (c > 0 ? 1 : 0)),
        [nItems, 1],
      );
      const all = Int32Array.from({ length: nItems }, (_, i) => i);
      const v = this.items(all, keep, this.cachedText()).toArray();
      const bias = this.bias(all, keep, this.cachedText()).toArray();
      const item = new Float32Array(nItems * (d + 1));
      for (let i = 0; i < nItems; i++) {
        for (let k = 0; k < d; k++) item[i * (d + 1) + k] = v[i * d + k]!;
        item[i * (d + 1) + d] = bias[i]!;
      }
      const L = Math.max(1, ...Array.from({ length: nUsers }, (_, u) => train.indptr[u + 1]! - train.indptr[u]!));
      const user: number[] = [];
      const chunk = Math.max(1, Math.floor(262144 / L));
      for (let s = 0; s < nUsers; s += chunk) {
        const n = Math.min(chunk, nUsers - s);
        const hist = new Int32Array(n * L),
          w = new Float32Array(n * L);
        for (let k = 0; k < n; k++) {
          const mine = itemsOf(train, s + k);
          mine.forEach((j, l) => {
            hist[k * L + l] = j;
            w[k * L + l] = 1 / mine.length;
          });
        }
        const ids = Int32Array.from({ length: n }, (_, k) => s + k);
        const rows = this.users(ids, tensor(hist, [n, L], { dtype: "i32" }), tensor(w, [n, L, 1])).toArray();
        for (let k = 0; k < n; k++) {
          for (let j = 0; j < d; j++) user.push(rows[k * d + j]! / this.o.temperature);
          user.push(1);
        }
      }
      return { user: Float32Array.from(user), item };
    });
    this.cached = { dim: d + 1, user: out.user, item: out.item };
    return this.cached;
  }

  /** The user tower in plain arrays (see UserTowerExport); a user ID embedding, when used, is left out. */
  userTower(): UserTowerExport {
    if (!this.train) throw new ArgumentError("two-tower: userTower before fit");
    const F = this.features;
    return noGrad(() => ({
      dim: this.o.dim,
      temperature: this.o.temperature,
      history: Float32Array.from((this.o.itemIds ? this.E : this.T2()).toArray()),
      features: F
        ? {
            schema: F.schema,
            catSizes: F.catSizes,
            numericWeight: this.Fn ? this.Fn.toArray() : [],
            categoryTable: this.Fc!.toArray(),
          }
        : null,
    }));
  }

  /** The item tower's text head (see ItemHeadExport): what a reloaded encoder needs to place a text-only item. */
  itemHead(): ItemHeadExport {
    if (!this.train) throw new ArgumentError("two-tower: itemHead before fit");
    return {
      dim: this.o.dim,
      textDim: this.text.dim,
      mean: Array.from(this.mu),
      invStd: Array.from(this.isd),
      W: this.W.toArray(),
      b: this.b.toArray(),
      wb: this.wb.toArray(),
    };
  }

  score(users: Int32Array, out: Float32Array): void {
    const f = this.factors();
    const d = f.dim,
      nI = f.item.length / d;
    for (let b = 0; b < users.length; b++) {
      const uo = users[b]! * d;
      for (let i = 0; i < nI; i++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += f.user[uo + k]! * f.item[i * d + k]!;
        out[b * nI + i] = s;
      }
    }
  }
}
