/**
 * The inner loops of word2vec with negative sampling, as word2vec.c's TrainModelThread, over flat Float32Arrays
 * (a Tensor op per word would cost more than the arithmetic it does). Shapes: syn0 (input vectors, the ones
 * saved) and syn1neg (output vectors) are [V, D] row-major.
 *
 * Skip-gram: for each context word c of centre word w, syn0[c] learns to predict w against `negative` noise words.
 * CBOW: the mean of the context vectors predicts w; its error goes back, unscaled, to every context vector.
 * Each update pair is a logistic regression step with g = (label − σ(f))·α; σ is clipped at |f| > 6, where
 * word2vec.c's table ends (f > 6 gives g = (label − 1)·α, f < −6 gives g = label·α).
 */
import type { Rng } from "../../util/rng.js";
import type { AliasSampler } from "./vocab.js";

export type Word2VecModelType = "skipgram" | "cbow";

const MAX_EXP = 6;

export class SgnsState {
  readonly syn0: Float32Array;
  readonly syn1neg: Float32Array;
  private readonly neu1: Float32Array;
  private readonly neu1e: Float32Array;

  constructor(
    readonly vocabSize: number,
    readonly dim: number,
    readonly model: Word2VecModelType,
    readonly window: number,
    readonly negative: number,
    private readonly sampler: AliasSampler,
    private readonly rng: Rng,
  ) {
    this.syn0 = new Float32Array(vocabSize * dim);
    this.syn1neg = new Float32Array(vocabSize * dim);
    this.neu1 = new Float32Array(dim);
    this.neu1e = new Float32Array(dim);
    // word2vec.c: syn0 uniform in (−0.5/D, 0.5/D), syn1neg zeros
    for (let i = 0; i < this.syn0.length; i++) this.syn0[i] = (rng.uniform() - 0.5) / dim;
  }

  /** Trains on one sentence of word ids (already subsampled): sen[0..n). */
  trainSentence(sen: Int32Array, n: number, alpha: number): void {
    const { window, rng } = this;
    for (let pos = 0; pos < n; pos++) {
      // dynamic window: a reduced window 1..window, so near words are trained on more often than far ones
      const b = rng.nextU32() % window;
      const lo = Math.max(0, pos - window + b),
        hi = Math.min(n - 1, pos + window - b);
      if (this.model === "skipgram") this.skipGram(sen, pos, lo, hi, alpha);
      else this.cbow(sen, pos, lo, hi, alpha);
    }
  }

  /** Each context word sen[c], c in [lo, hi] but pos, predicts the centre word on its own. */
  private skipGram(sen: Int32Array, pos: number, lo: number, hi: number, alpha: number): void {
    const { syn0, neu1e, dim: D } = this;
    for (let c = lo; c <= hi; c++) {
      if (c === pos) continue;
      const l1 = sen[c] * D;
      this.negativeSampling(syn0, l1, sen[pos], alpha);
      for (let k = 0; k < D; k++) syn0[l1 + k] += neu1e[k];
    }
  }

  /** The mean of the context words predicts the centre word; its error goes to each of them. */
  private cbow(sen: Int32Array, pos: number, lo: number, hi: number, alpha: number): void {
    const { syn0, neu1, neu1e, dim: D } = this;
    if (hi === lo) return; // a one-word sentence has no context
    neu1.fill(0);
    for (let c = lo; c <= hi; c++) {
      if (c === pos) continue;
      const l1 = sen[c] * D;
      for (let k = 0; k < D; k++) neu1[k] += syn0[l1 + k];
    }
    const inv = 1 / (hi - lo); // context size: the window minus the centre
    for (let k = 0; k < D; k++) neu1[k] *= inv;
    this.negativeSampling(neu1, 0, sen[pos], alpha);
    for (let c = lo; c <= hi; c++) {
      if (c === pos) continue;
      const l1 = sen[c] * D;
      for (let k = 0; k < D; k++) syn0[l1 + k] += neu1e[k];
    }
  }

  /**
   * The update both models share: the vector h[off..off+D) predicts `word` (label 1) against `negative` noise
   * words (label 0, a draw equal to `word` skipped). Updates syn1neg and leaves h's error in neu1e, for the
   * caller to add to the input vectors.
   */
  private negativeSampling(h: Float32Array, off: number, word: number, alpha: number): void {
    const { syn1neg: syn1, neu1e, dim: D, negative, sampler, rng } = this;
    neu1e.fill(0);
    for (let d = 0; d <= negative; d++) {
      let target: number, label: number;
      if (d === 0) {
        target = word;
        label = 1;
      } else {
        target = sampler.draw(rng.uniform());
        if (target === word) continue;
        label = 0;
      }
      const l2 = target * D;
      const f = dot(h, off, syn1, l2, D);
      const g = (f > MAX_EXP ? label - 1 : f < -MAX_EXP ? label : label - 1 / (1 + Math.exp(-f))) * alpha;
      for (let k = 0; k < D; k++) {
        neu1e[k] += g * syn1[l2 + k];
        syn1[l2 + k] += g * h[off + k];
      }
    }
  }
}

/** a[i..i+n) · b[j..j+n) with four partial sums, so the adds do not wait on each other (~3× faster in V8). */
function dot(a: Float32Array, i: number, b: Float32Array, j: number, n: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0,
    k = 0;
  for (; k + 3 < n; k += 4) {
    s0 += a[i + k] * b[j + k];
    s1 += a[i + k + 1] * b[j + k + 1];
    s2 += a[i + k + 2] * b[j + k + 2];
    s3 += a[i + k + 3] * b[j + k + 3];
  }
  for (; k < n; k++) s0 += a[i + k] * b[j + k];
  return s0 + s1 + (s2 + s3);
}
