/**
 * word2vec's vocabulary: every word seen at least minCount times, most frequent first (ties in order of first
 * appearance, so the ids are deterministic), with the per-word probabilities that training draws from:
 * the subsampling keep probability and the unigram^0.75 negative-sampling distribution.
 */
import { ArgumentError } from "../../util/errors.js";

export interface Vocab {
  /** id → word, most frequent first. */
  readonly words: readonly string[];
  /** id → occurrences in the corpus. */
  readonly counts: Float64Array;
  readonly index: ReadonlyMap<string, number>;
  /** Occurrences of vocabulary words (what the learning-rate schedule counts down). */
  readonly totalWords: number;
  /** Every word read, in or out of the vocabulary. */
  readonly corpusWords: number;
  /** Distinct words seen, before the min-count cut. */
  readonly distinctWords: number;
}

/**
 * Counts words and keeps those seen at least minCount times. With maxVocabSize, whenever the table grows past it
 * the rarest words are pruned (word2vec.c's ReduceVocab: drop count ≤ n, then n+1, ...), which bounds memory on
 * a huge corpus at the price of undercounting words that were pruned early.
 */
export class VocabCounter {
  private readonly counts = new Map<string, number>();
  private pruneBelow = 1;
  corpusWords = 0;

  constructor(private readonly maxVocabSize = Infinity) {
    if (!(maxVocabSize >= 1)) throw new ArgumentError(`word2vec: maxVocabSize must be ≥ 1, got ${maxVocabSize}`);
  }

  get distinctWords(): number {
    return this.counts.size;
  }

  add(words: readonly string[]): void {
    const c = this.counts;
    for (const w of words) c.set(w, (c.get(w) ?? 0) + 1);
    this.corpusWords += words.length;
    if (c.size > this.maxVocabSize) this.prune();
  }

  private prune(): void {
    while (this.counts.size > this.maxVocabSize) {
      for (const [w, n] of this.counts) if (n <= this.pruneBelow) this.counts.delete(w);
      this.pruneBelow++;
    }
  }

  finish(minCount: number): Vocab {
    if (!Number.isInteger(minCount) || minCount < 1)
      throw new ArgumentError(`word2vec: minCount must be an integer ≥ 1, got ${minCount}`);
    // Map iteration is insertion order, i.e. first appearance; Array.prototype.sort is stable.
    const kept = [...this.counts].filter(([, n]) => n >= minCount).sort((a, b) => b[1] - a[1]);
    const words = kept.map(([w]) => w);
    const counts = Float64Array.from(kept, ([, n]) => n);
    let total = 0;
    for (const n of counts) total += n;
    return {
      words,
      counts,
      index: new Map(words.map((w, i) => [w, i])),
      totalWords: total,
      corpusWords: this.corpusWords,
      distinctWords: this.counts.size,
    };
  }

  /** The most frequent word and its count (for messages when nothing reaches minCount). */
  mostFrequent(): [string, number] | null {
    let best: [string, number] | null = null;
    for (const e of this.counts) if (!best || e[1] > best[1]) best = e;
    return best;
  }
}

/**
 * Subsampling of frequent words (Mikolov et al. 2013, as word2vec.c implements it): a word making up a fraction f
 * of the corpus is kept with probability (√(f/t) + 1)·t/f, capped at 1. With t = 0 nothing is discarded.
 */
export function keepProbabilities(vocab: Vocab, sample: number): Float64Array {
  const keep = new Float64Array(vocab.words.length).fill(1);
  if (sample <= 0) return keep;
  const threshold = sample * vocab.totalWords;
  for (let i = 0; i < keep.length; i++) {
    const n = vocab.counts[i]!;
    keep[i] = Math.min(1, (Math.sqrt(n / threshold) + 1) * (threshold / n));
  }
  return keep;
}

/**
 * Draws word ids with probability ∝ count^power (0.75 for negative sampling) by Walker's alias method: O(1) per
 * draw, 12 bytes per word and exact, where word2vec.c's 10^8-entry unigram table costs 400 MB and rounds
 * each probability to a multiple of 10^-8.
 */
export class AliasSampler {
  readonly prob: Float64Array;
  readonly alias: Int32Array;

  constructor(counts: Float64Array, power = 0.75) {
    const n = counts.length;
    if (n === 0) throw new ArgumentError("AliasSampler: no words to sample from");
    const w = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += w[i] = Math.pow(counts[i]!, power);
    if (!(sum > 0) || !Number.isFinite(sum))
      throw new ArgumentError("AliasSampler: counts must be positive and finite");
    this.prob = new Float64Array(n);
    this.alias = new Int32Array(n);
    // Vose's construction: scaled weights below 1 are topped up from one above 1.
    const scaled = w.map((x) => (x * n) / sum);
    const small: number[] = [],
      large: number[] = [];
    for (let i = n - 1; i >= 0; i--) (scaled[i]! < 1 ? small : large).push(i);
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!,
        l = large.pop()!;
      this.prob[s] = scaled[s]!;
      this.alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      (scaled[l]! < 1 ? small : large).push(l);
    }
    // What remains is 1 up to rounding.
    for (const i of large) {
      this.prob[i] = 1;
      this.alias[i] = i;
    }
    for (const i of small) {
      this.prob[i] = 1;
      this.alias[i] = i;
    }
  }

  /** One id, given u uniform in [0, 1): the integer part picks a column, the fraction decides column or alias. */
  draw(u: number): number {
    const x = u * this.prob.length;
    const i = x | 0;
    return x - i < this.prob[i]! ? i : this.alias[i]!;
  }
}
