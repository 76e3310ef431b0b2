/**
 * Classic recommenders on plain arrays, trained on per-user positive item lists (UserItems):
 * - most popular: an item's score is its number of training positives;
 * - ItemKNN: cosine similarity of items' user sets with shrinkage, s(i,j) = |U_i ∩ U_j| / (√|U_i|·√|U_j| + shrink),
 *   each item keeping its `neighbours` most similar; a user's score of j sums s(i,j) over the items i in the
 *   history that have j as a neighbour;
 * - BPR matrix factorization (Rendle et al. 2009): SGD on ln σ(x_ui − x_uj) with a uniform non-positive j, an item
 *   bias, L2 regularization;
 * - implicit ALS (Hu, Koren & Volinsky 2008): confidence 1 + α on positives, alternating exact least squares with
 *   the YᵀY trick, solved by Cholesky.
 * A factor model exposes its user and item vectors (score = dot product) so serving can use a blocked matrix product.
 */
import { ArgumentError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { itemsOf, transpose, type UserItems } from "./split.js";

export interface FitOptions {
  /** Called after each epoch with its wall time in ms. */
  onEpoch?: (epoch: number, ms: number) => void;
}

/** User and item vectors, row-major: score(u, i) = user[u]·item[i]. */
export interface Factors {
  dim: number;
  user: Float32Array;
  item: Float32Array;
}

export interface Recommender {
  readonly name: string;
  fit(train: UserItems, opts?: FitOptions): void;
  /** Scores of every item for each user in `users`, row after row, into `out` (users.length × nItems). */
  score(users: Int32Array, out: Float32Array): void;
  /** The factor form, when the model is a dot product. */
  factors?(): Factors;
}

function now(): number {
  return performance.now();
}

export class MostPopular implements Recommender {
  readonly name = "popularity";
  counts = new Float32Array(0);
  private nUsers = 0;
  fit(train: UserItems, opts: FitOptions = {}): void {
    const t0 = now();
    this.nUsers = train.nUsers;
    this.counts = new Float32Array(train.nItems);
    for (const i of train.indices) this.counts[i]!++;
    opts.onEpoch?.(1, now() - t0);
  }
  score(users: Int32Array, out: Float32Array): void {
    const n = this.counts.length;
    for (let b = 0; b < users.length; b++) out.set(this.counts, b * n);
  }
  factors(): Factors {
    return { dim: 1, user: new Float32Array(this.nUsers).fill(1), item: this.counts.slice() };
  }
}

export interface ItemKnnOptions {
  neighbours?: number;
  shrink?: number;
}

export class ItemKnn implements Recommender {
  readonly name = "itemknn";
  readonly neighbours: number;
  readonly shrink: number;
  private train: UserItems | null = null;
  /** For each item, its neighbours and similarities (neighbours[i*K + k]). */
  private nbr = new Int32Array(0);
  private sim = new Float32Array(0);
  private k = 0;
  constructor(o: ItemKnnOptions = {}) {
    this.neighbours = o.neighbours ?? 100;
    this.shrink = o.shrink ?? 10;
    if (!(this.neighbours >= 1)) throw new ArgumentError(`itemknn: neighbours must be ≥ 1, got ${this.neighbours}`);
    if (!(this.shrink >= 0)) throw new ArgumentError(`itemknn: shrink must be ≥ 0, got ${this.shrink}`);
  }
  fit(train: UserItems, opts: FitOptions = {}): void {
    const t0 = now();
    this.train = train;
    const byItem = transpose(train);
    const nI = train.nItems;
    const K = Math.min(this.neighbours, Math.max(1, nI - 1));
    this.k = K;
    this.nbr = new Int32Array(nI * K).fill(-1);
    this.sim = new Float32Array(nI * K);
    const co = new Float32Array(nI);
    const touched = new Int32Array(nI);
    const norm = Float32Array.from({ length: nI }, (_, i) => Math.sqrt(byItem.indptr[i + 1]! - byItem.indptr[i]!));
    const topS = new Float32Array(K);
    const topJ = new Int32Array(K);
    for (let i = 0; i < nI; i++) {
      let nt = 0;
      for (const u of itemsOf(byItem, i))
        for (const j of itemsOf(train, u)) {
          if (j === i) continue;
          if (co[j] === 0) touched[nt++] = j;
          co[j]!++;
        }
      let filled = 0;
      for (let t = 0; t < nt; t++) {
        const j = touched[t]!;
        const s = co[j]! / (norm[i]! * norm[j]! + this.shrink);
        co[j] = 0;
        if (filled < K || s > topS[K - 1]!) {
          let p = Math.min(filled, K - 1);
          while (p > 0 && (topS[p - 1]! < s || (topS[p - 1] === s && topJ[p - 1]! > j))) {
            topS[p] = topS[p - 1]!;
            topJ[p] = topJ[p - 1]!;
            p--;
          }
          topS[p] = s;
          topJ[p] = j;
          if (filled < K) filled++;
        }
      }
      this.nbr.set(topJ.subarray(0, filled), i * K);
      this.sim.set(topS.subarray(0, filled), i * K);
    }
    opts.onEpoch?.(1, now() - t0);
  }
  score(users: Int32Array, out: Float32Array): void {
    const train = this.train;
    if (!train) throw new ArgumentError("itemknn: score before fit");
    const nI = train.nItems;
    out.fill(0, 0, users.length * nI);
    for (let b = 0; b < users.length; b++) {
      const o = b * nI;
      for (const i of itemsOf(train, users[b]!))
        for (let k = 0; k < this.k; k++) {
          const j = this.nbr[i * this.k + k]!;
          if (j < 0) break;
          out[o + j]! += this.sim[i * this.k + k]!;
        }
    }
  }
}

export interface FactorOptions {
  dim?: number;
  epochs?: number;
  seed?: number;
}

function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += a[ao + k]! * b[bo + k]!;
  return s;
}

function scoreFactors(f: Factors, nItems: number, users: Int32Array, out: Float32Array): void {
  const d = f.dim;
  for (let b = 0; b < users.length; b++) {
    const uo = users[b]! * d;
    for (let i = 0; i < nItems; i++) out[b * nItems + i] = dot(f.user, uo, f.item, i * d, d);
  }
}

export class BprMf implements Recommender {
  readonly name = "bpr";
  readonly dim: number;
  readonly epochs: number;
  readonly lr: number;
  readonly reg: number;
  readonly seed: number;
  U = new Float32Array(0);
  V = new Float32Array(0);
  bias = new Float32Array(0);
  private nItems = 0;
  constructor(o: FactorOptions & { lr?: number; reg?: number } = {}) {
    this.dim = o.dim ?? 64;
    this.epochs = o.epochs ?? 30;
    this.lr = o.lr ?? 0.05;
    this.reg = o.reg ?? 0.005;
    this.seed = o.seed ?? 0;
  }
  fit(train: UserItems, opts: FitOptions = {}): void {
    const { nUsers, nItems } = train;
    const d = this.dim;
    this.nItems = nItems;
    const rng = new Rng(this.seed);
    this.U = Float32Array.from({ length: nUsers * d }, () => rng.normal(0, 0.1));
    this.V = Float32Array.from({ length: nItems * d }, () => rng.normal(0, 0.1));
    this.bias = new Float32Array(nItems);
    const nnz = train.indices.length;
    if (nnz === 0) throw new ArgumentError("bpr: no positive training interactions");
    const rowOf = new Int32Array(nnz);
    for (let u = 0; u < nUsers; u++) rowOf.fill(u, train.indptr[u], train.indptr[u + 1]);
    const { U, V, bias, lr, reg } = this;
    for (let e = 1; e <= this.epochs; e++) {
      const t0 = now();
      for (let s = 0; s < nnz; s++) {
        const p = rng.int(nnz);
        const u = rowOf[p]!,
          i = train.indices[p]!;
        const mine = itemsOf(train, u);
        if (mine.length >= nItems) continue;
        let j = rng.int(nItems);
        while (has(mine, j)) j = rng.int(nItems);
        const uo = u * d,
          io = i * d,
          jo = j * d;
        let x = bias[i]! - bias[j]!;
        for (let k = 0; k < d; k++) x += U[uo + k]! * (V[io + k]! - V[jo + k]!);
        const g = 1 / (1 + Math.exp(x));
        for (let k = 0; k < d; k++) {
          const uk = U[uo + k]!,
            ik = V[io + k]!,
            jk = V[jo + k]!;
          U[uo + k] = uk + lr * (g * (ik - jk) - reg * uk);
          V[io + k] = ik + lr * (g * uk - reg * ik);
          V[jo + k] = jk + lr * (-g * uk - reg * jk);
        }
        bias[i] = bias[i]! + lr * (g - reg * bias[i]!);
        bias[j] = bias[j]! + lr * (-g - reg * bias[j]!);
      }
      opts.onEpoch?.(e, now() - t0);
    }
  }
  factors(): Factors {
    const d = this.dim;
    const nU = this.U.length / d;
    const user = new Float32Array(nU * (d + 1));
    const item = new Float32Array(this.nItems * (d + 1));
    for (let u = 0; u < nU; u++) {
      user.set(this.U.subarray(u * d, (u + 1) * d), u * (d + 1));
      user[u * (d + 1) + d] = 1;
    }
    for (let i = 0; i < this.nItems; i++) {
      item.set(this.V.subarray(i * d, (i + 1) * d), i * (d + 1));
      item[i * (d + 1) + d] = this.bias[i]!;
    }
    return { dim: d + 1, user, item };
  }
  score(users: Int32Array, out: Float32Array): void {
    scoreFactors(this.factors(), this.nItems, users, out);
  }
}

/** Binary search in an ascending list. */
function has(sorted: Int32Array, x: number): boolean {
  let lo = 0,
    hi = sorted.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    const v = sorted[m]!;
    if (v === x) return true;
    if (v < x) lo = m + 1;
    else hi = m;
  }
  return false;
}

/** Solves A x = b in place for a symmetric positive-definite A (d×d, row-major); b becomes x. */
export function choleskySolve(A: Float64Array, b: Float64Array, d: number): void {
  for (let j = 0; j < d; j++) {
    let s = A[j * d + j]!;
    for (let k = 0; k < j; k++) s -= A[j * d + k]! * A[j * d + k]!;
    if (!(s > 0)) throw new ArgumentError("cholesky: the matrix is not positive definite");
    const l = Math.sqrt(s);
    A[j * d + j] = l;
    for (let i = j + 1; i < d; i++) {
      let t = A[i * d + j]!;
      for (let k = 0; k < j; k++) t -= A[i * d + k]! * A[j * d + k]!;
      A[i * d + j] = t / l;
    }
  }
  for (let i = 0; i < d; i++) {
    let t = b[i]!;
    for (let k = 0; k < i; k++) t -= A[i * d + k]! * b[k]!;
    b[i] = t / A[i * d + i]!;
  }
  for (let i = d - 1; i >= 0; i--) {
    let t = b[i]!;
    for (let k = i + 1; k < d; k++) t -= A[k * d + i]! * b[k]!;
    b[i] = t / A[i * d + i]!;
  }
}

export class ImplicitAls implements Recommender {
  readonly name = "als";
  readonly dim: number;
  readonly epochs: number;
  readonly alpha: number;
  readonly reg: number;
  readonly seed: number;
  X = new Float32Array(0);
  Y = new Float32Array(0);
  private nItems = 0;
  constructor(o: FactorOptions & { alpha?: number; reg?: number } = {}) {
    this.dim = o.dim ?? 64;
    this.epochs = o.epochs ?? 15;
    this.alpha = o.alpha ?? 10;
    this.reg = o.reg ?? 0.1;
    this.seed = o.seed ?? 0;
  }
  /** One half-step: rows of `out` from the fixed factors `fixed` over the lists in `m`. */
  private solve(m: UserItems, fixed: Float32Array, out: Float32Array): void {
    const d = this.dim;
    const nFixed = fixed.length / d;
    const gram = new Float64Array(d * d);
    for (let r = 0; r < nFixed; r++)
      for (let a = 0; a < d; a++) {
        const fa = fixed[r * d + a]!;
        if (fa === 0) continue;
        for (let c = 0; c <= a; c++) gram[a * d + c]! += fa * fixed[r * d + c]!;
      }
    const A = new Float64Array(d * d);
    const b = new Float64Array(d);
    const cm1 = this.alpha;
    for (let row = 0; row < m.nUsers; row++) {
      A.set(gram);
      b.fill(0);
      for (const j of itemsOf(m, row)) {
        const o = j * d;
        for (let a = 0; a < d; a++) {
          const fa = fixed[o + a]!;
          b[a]! += (1 + cm1) * fa;
          const w = cm1 * fa;
          for (let c = 0; c <= a; c++) A[a * d + c]! += w * fixed[o + c]!;
        }
      }
      for (let a = 0; a < d; a++) {
        A[a * d + a]! += this.reg;
        for (let c = 0; c < a; c++) A[c * d + a] = A[a * d + c]!;
      }
      choleskySolve(A, b, d);
      for (let a = 0; a < d; a++) out[row * d + a] = b[a]!;
    }
  }
  fit(train: UserItems, opts: FitOptions = {}): void {
    const d = this.dim;
    const rng = new Rng(this.seed);
    this.nItems = train.nItems;
    this.X = new Float32Array(train.nUsers * d);
    this.Y = Float32Array.from({ length: train.nItems * d }, () => rng.normal(0, 0.01));
    const byItem = transpose(train);
    for (let e = 1; e <= this.epochs; e++) {
      const t0 = now();
      this.solve(train, this.Y, this.X);
      this.solve(byItem, this.X, this.Y);
      opts.onEpoch?.(e, now() - t0);
    }
  }
  factors(): Factors {
    return { dim: this.dim, user: this.X, item: this.Y };
  }
  score(users: Int32Array, out: Float32Array): void {
    scoreFactors(this.factors(), this.nItems, users, out);
  }
}
