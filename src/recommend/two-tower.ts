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
 */
import { ArgumentError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import {
  add,
  affine,
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
import type { TextVectors } from "./text.js";

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
  /** Use item ID embeddings at all (false: text only). */
  itemIds?: boolean;
  /** Add a user ID embedding to the user tower (false: the history mean alone). */
  userIds?: boolean;
  seed?: number;
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
  private train: UserItems | null = null;
  private cached: Factors | null = null;

  constructor(text: TextVectors, o: TwoTowerOptions = {}) {
    this.text = text;
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
      itemIds: o.itemIds ?? true,
      userIds: o.userIds ?? false,
      seed: o.seed ?? 0,
    };
    if (!(this.o.temperature > 0)) throw new ArgumentError(`two-tower: temperature must be > 0`);
    if (!(this.o.idDropout >= 0 && this.o.idDropout <= 1)) throw new ArgumentError(`two-tower: idDropout in [0, 1]`);
  }

  private normalize(x: Tensor): Tensor {
    return mul(x, rsqrt(affine(sum(square(x), -1, { keepDim: true }), 1, 1e-8)));
  }

  /** Item tower for `ids`; `keep` [B, 1] scales the ID part (dropout) or null. */
  private items(ids: Tensor, keep: Tensor | null): Tensor {
    const textPart = linear(embedding(ids, this.T), this.W, this.b);
    if (!this.o.itemIds) return this.normalize(textPart);
    const idPart = embedding(ids, this.E);
    return this.normalize(add(textPart, keep ? mul(idPart, keep) : idPart));
  }

  /** Item bias [B]: keep·Eb[i] + t_i·wb (a popularity prior a cold item can read from its text). */
  private bias(ids: Tensor, keep: Tensor | null): Tensor {
    const textPart = linear(embedding(ids, this.T), this.wb);
    if (!this.o.itemIds) return sum(textPart, -1);
    const idPart = embedding(ids, this.Eb);
    return sum(add(textPart, keep ? mul(idPart, keep) : idPart), -1);
  }

  /** User tower: P[u] + Σ_l w[b, l]·E[hist[b, l]]. */
  private users(uids: Tensor, hist: Tensor, weights: Tensor): Tensor {
    const h = sum(mul(embedding(hist, this.o.itemIds ? this.E : this.T2()), weights), 1);
    return this.normalize(this.o.userIds ? add(embedding(uids, this.P), h) : h);
  }

  /** Without item IDs, the history mean is over the items' projected text. */
  private T2(): Tensor {
    return linear(this.T, this.W, this.b);
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
    // standardized text vectors: each dimension centred and scaled over the catalogue
    const t = this.text.data.slice();
    for (let j = 0; j < h; j++) {
      let m = 0,
        v = 0;
      for (let i = 0; i < nItems; i++) m += t[i * h + j]! / nItems;
      for (let i = 0; i < nItems; i++) v += (t[i * h + j]! - m) ** 2 / nItems;
      const s = 1 / Math.sqrt(v + 1e-8);
      for (let i = 0; i < nItems; i++) t[i * h + j] = (t[i * h + j]! - m) * s;
    }
    this.T = tensor(t, [nItems, h]);
    this.train = train;
    this.cached = null;
    const params = o.itemIds ? [this.E, this.P, this.W, this.b, this.Eb, this.wb] : [this.P, this.W, this.b, this.wb];
    const opt = new Adam(params, { lr: o.lr });
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
          const take = Math.min(L, others);
          for (let l = 0; l < take; l++) {
            let j = i;
            while (j === i) j = mine[rng.int(mine.length)]!;
            hist[k * L + l] = j;
            w[k * L + l] = 1 / take;
          }
        }
        const U = this.users(
          tensor(uids, [n], { dtype: "i32" }),
          tensor(hist, [n, L], { dtype: "i32" }),
          tensor(w, [n, L, 1]),
        );
        const iT = tensor(iids, [n], { dtype: "i32" });
        const keepT = tensor(keep, [n, 1]);
        const V = this.items(iT, keepT);
        const bias = this.bias(iT, keepT);
        let loss: Tensor;
        if (o.loss === "softmax") {
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
          const neg_ = new Int32Array(n);
          for (let k = 0; k < n; k++) {
            const mine = itemsOf(train, uids[k]!);
            let j = rng.int(nItems);
            for (let tries = 0; tries < 20 && mine.includes(j); tries++) j = rng.int(nItems);
            neg_[k] = j;
          }
          const nT = tensor(neg_, [n], { dtype: "i32" });
          const Vn = this.items(nT, keepT);
          const diff = add(affine(sum(mul(U, sub(V, Vn)), -1), 1 / o.temperature), sub(bias, this.bias(nT, keepT)));
          loss = affine(sum(log(affine(sigmoid(diff), 1, 1e-7))), -1 / n);
        }
        opt.zeroGrad();
        loss.backward();
        opt.step();
      }
      this.cached = null;
      opts.onEpoch?.(e, performance.now() - t0);
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
      const all = tensor(
        Int32Array.from({ length: nItems }, (_, i) => i),
        [nItems],
        { dtype: "i32" },
      );
      const v = this.items(all, keep).toArray();
      const bias = this.bias(all, keep).toArray();
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
        const rows = this.users(
          tensor(ids, [n], { dtype: "i32" }),
          tensor(hist, [n, L], { dtype: "i32" }),
          tensor(w, [n, L, 1]),
        ).toArray();
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
