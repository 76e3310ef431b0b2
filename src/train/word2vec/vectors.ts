/**
 * Word vectors and the queries people run on them: nearest neighbours by cosine similarity, and analogies
 * as gensim's most_similar(positive, negative) computes them (mean of unit vectors, inputs excluded).
 */
import { ArgumentError, ShapeError } from "../../util/errors.js";

export interface Neighbor {
  word: string;
  /** Cosine similarity. */
  score: number;
}

export class WordVectors {
  readonly words: readonly string[];
  readonly dim: number;
  /** [V, D] row-major: the vector of words[i] is data[i·D .. (i+1)·D). Read-only once queried (unit rows are cached). */
  readonly data: Float32Array;
  /** Corpus counts when known (vectors trained here), else null. */
  readonly counts: Float64Array | null;
  private readonly index: Map<string, number>;
  /** Unit-length copies of the rows, built on the first query. */
  private unit: Float32Array | null = null;

  constructor(words: readonly string[], data: Float32Array, dim: number, counts: Float64Array | null = null) {
    if (!Number.isInteger(dim) || dim <= 0)
      throw new ArgumentError(`WordVectors: dim must be a positive integer, got ${dim}`);
    if (data.length !== words.length * dim) {
      throw new ShapeError(
        `WordVectors: ${words.length} words × ${dim} dims needs ${words.length * dim} values, got ${data.length}`,
      );
    }
    if (counts && counts.length !== words.length)
      throw new ShapeError(`WordVectors: ${counts.length} counts for ${words.length} words`);
    this.words = words;
    this.dim = dim;
    this.data = data;
    this.counts = counts;
    this.index = new Map();
    words.forEach((w, i) => {
      if (this.index.has(w))
        throw new ArgumentError(
          `WordVectors: word ${JSON.stringify(w)} appears twice (rows ${this.index.get(w)} and ${i})`,
        );
      this.index.set(w, i);
    });
  }

  get size(): number {
    return this.words.length;
  }

  has(word: string): boolean {
    return this.index.has(word);
  }

  /** Row of a word, or −1. */
  indexOf(word: string): number {
    return this.index.get(word) ?? -1;
  }

  /** The word's vector (a view into data); throws a clear error for an unknown word. */
  vector(word: string): Float32Array {
    const i = this.require(word);
    return this.data.subarray(i * this.dim, (i + 1) * this.dim);
  }

  /** Cosine similarity of two words. */
  similarity(a: string, b: string): number {
    const u = this.unitRows(),
      D = this.dim;
    const i = this.require(a) * D,
      j = this.require(b) * D;
    let s = 0;
    for (let k = 0; k < D; k++) s += u[i + k]! * u[j + k]!;
    return s;
  }

  /** The k words most similar to a word (itself excluded) or to a vector. */
  nearest(query: string | Float32Array, k = 10): Neighbor[] {
    if (typeof query === "string") return this.mostSimilar([query], [], k);
    if (query.length !== this.dim)
      throw new ShapeError(`WordVectors.nearest: query has ${query.length} dims, the vectors have ${this.dim}`);
    return this.topK(unitCopy(query), k, new Set());
  }

  /** "a is to b as c is to ?": the words nearest to b − a + c, the three inputs excluded. */
  analogy(a: string, b: string, c: string, k = 10): Neighbor[] {
    return this.mostSimilar([b, c], [a], k);
  }

  /**
   * gensim's most_similar: the mean of the positive words' unit vectors and the negated negative ones,
   * normalized, compared by cosine with every word except the inputs.
   */
  mostSimilar(positive: readonly string[], negative: readonly string[] = [], k = 10): Neighbor[] {
    if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`word vectors: k must be a positive integer, got ${k}`);
    if (positive.length + negative.length === 0)
      throw new ArgumentError("word vectors: most_similar needs at least one word");
    const u = this.unitRows(),
      D = this.dim;
    const q = new Float32Array(D);
    const exclude = new Set<number>();
    for (const [words, sign] of [
      [positive, 1],
      [negative, -1],
    ] as const) {
      for (const w of words) {
        const i = this.require(w);
        exclude.add(i);
        for (let d = 0; d < D; d++) q[d]! += sign * u[i * D + d]!;
      }
    }
    return this.topK(unitCopy(q), k, exclude);
  }

  private topK(q: Float32Array, k: number, exclude: Set<number>): Neighbor[] {
    const u = this.unitRows(),
      D = this.dim,
      V = this.size;
    const n = Math.min(k, V - exclude.size);
    // a sorted top list (k is small next to V): scores descending, ties by row
    const best: { i: number; s: number }[] = [];
    for (let i = 0; i < V; i++) {
      if (exclude.has(i)) continue;
      let s = 0;
      const o = i * D;
      for (let d = 0; d < D; d++) s += q[d]! * u[o + d]!;
      if (best.length === n && s <= best[n - 1]!.s) continue;
      let at = best.length;
      while (at > 0 && best[at - 1]!.s < s) at--;
      best.splice(at, 0, { i, s });
      if (best.length > n) best.pop();
    }
    return best.map(({ i, s }) => ({ word: this.words[i]!, score: s }));
  }

  private unitRows(): Float32Array {
    if (this.unit) return this.unit;
    const D = this.dim,
      u = new Float32Array(this.data.length);
    for (let o = 0; o < u.length; o += D) {
      let ss = 0;
      for (let d = 0; d < D; d++) ss += this.data[o + d]! * this.data[o + d]!;
      const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0; // a zero vector stays zero: similarity 0 to everything
      for (let d = 0; d < D; d++) u[o + d] = this.data[o + d]! * inv;
    }
    return (this.unit = u);
  }

  private require(word: string): number {
    const i = this.index.get(word);
    if (i !== undefined) return i;
    const lower = word.toLowerCase();
    const hint =
      lower !== word && this.index.has(lower)
        ? `"${lower}" is in the vocabulary (the vectors were trained on lowercased text)`
        : `the vocabulary has ${this.size} words, e.g. ${this.words
            .slice(0, 5)
            .map((w) => JSON.stringify(w))
            .join(", ")}; rarer words may have been cut by the minimum count`;
    throw new ArgumentError(`word vectors: unknown word ${JSON.stringify(word)}`, hint);
  }
}

function unitCopy(v: Float32Array): Float32Array {
  let ss = 0;
  for (let d = 0; d < v.length; d++) ss += v[d]! * v[d]!;
  const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
  return v.map((x) => x * inv);
}
