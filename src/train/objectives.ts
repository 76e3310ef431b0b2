/**
 * Pre-training objectives on token ids: BERT's masked LM and GPT-2's causal LM with packed blocks.
 * Masks are drawn fresh every time a batch is built (dynamic masking, as RoBERTa), from the generator given.
 */
import { ArgumentError } from "../util/errors.js";
import type { Rng } from "../util/rng.js";

export const IGNORE_INDEX = -100;

export interface MaskingOptions {
  maskTokenId: number;
  vocabSize: number;
  /** Ids never selected ([CLS], [SEP], [PAD], ...). */
  specialIds: ReadonlySet<number>;
  /** Fraction of tokens selected for prediction (BERT: 0.15). */
  probability?: number;
  /** Of the selected: fraction replaced by [MASK] (0.8) and by a random token (0.1); the rest stay. */
  maskFraction?: number;
  randomFraction?: number;
}

export interface MaskedBatch {
  inputIds: Int32Array;
  /** The original id at selected positions, IGNORE_INDEX elsewhere. */
  labels: Int32Array;
}

function validate(o: MaskingOptions): Required<MaskingOptions> {
  const p = o.probability ?? 0.15,
    m = o.maskFraction ?? 0.8,
    r = o.randomFraction ?? 0.1;
  if (!(p > 0 && p < 1)) throw new ArgumentError(`masked LM: probability must be in (0, 1), got ${p}`);
  if (!(m >= 0 && r >= 0 && m + r <= 1))
    throw new ArgumentError(`masked LM: maskFraction + randomFraction must be within [0, 1], got ${m} + ${r}`);
  if (!(o.maskTokenId >= 0 && o.maskTokenId < o.vocabSize))
    throw new ArgumentError(`masked LM: mask token id ${o.maskTokenId} is outside the vocabulary of ${o.vocabSize}`);
  return { ...o, probability: p, maskFraction: m, randomFraction: r };
}

/** Replaces one selected position as BERT does: [MASK] 80%, a random token 10%, unchanged 10%. */
function corrupt(ids: Int32Array, labels: Int32Array, i: number, o: Required<MaskingOptions>, rng: Rng): void {
  labels[i] = ids[i];
  const u = rng.uniform();
  if (u < o.maskFraction) ids[i] = o.maskTokenId;
  else if (u < o.maskFraction + o.randomFraction) ids[i] = rng.int(o.vocabSize);
}

/**
 * Token-level masking (transformers' DataCollatorForLanguageModeling): every non-special position is selected
 * independently with the given probability.
 */
export function maskTokens(input: Int32Array, opts: MaskingOptions, rng: Rng): MaskedBatch {
  const o = validate(opts);
  const ids = input.slice();
  const labels = new Int32Array(ids.length).fill(IGNORE_INDEX);
  for (let i = 0; i < ids.length; i++) {
    if (o.specialIds.has(ids[i])) continue;
    if (rng.uniform() < o.probability) corrupt(ids, labels, i, o, rng);
  }
  return { inputIds: ids, labels };
}

/**
 * Whole-word masking: words (runs of positions with the same word id; null for special tokens) are picked in a
 * random order until about `probability` of the row's word tokens are selected, and all sub-tokens of a picked
 * word are masked together. `wordIds` has one entry per position; rows are `rowLength` long.
 */
export function maskWholeWords(
  input: Int32Array,
  wordIds: readonly (number | null)[],
  rowLength: number,
  opts: MaskingOptions,
  rng: Rng,
): MaskedBatch {
  const o = validate(opts);
  if (wordIds.length !== input.length)
    throw new ArgumentError(`whole-word masking: ${wordIds.length} word ids for ${input.length} tokens`);
  if (input.length % rowLength !== 0)
    throw new ArgumentError(`whole-word masking: ${input.length} tokens do not split into rows of ${rowLength}`);
  const ids = input.slice();
  const labels = new Int32Array(ids.length).fill(IGNORE_INDEX);
  for (let row = 0; row < input.length; row += rowLength) {
    const words: number[][] = [];
    let prev: number | null = null;
    for (let i = row; i < row + rowLength; i++) {
      const w = wordIds[i];
      if (w === null || o.specialIds.has(ids[i])) {
        prev = null;
        continue;
      }
      if (w !== prev || words.length === 0) words.push([i]);
      else words[words.length - 1].push(i);
      prev = w;
    }
    const tokens = words.reduce((s, w) => s + w.length, 0);
    const budget = Math.max(1, Math.round(tokens * o.probability));
    let chosen = 0;
    for (const wi of rng.permutation(words.length)) {
      if (chosen >= budget) break;
      const word = words[wi];
      if (chosen + word.length > budget && chosen > 0) continue;
      for (const i of word) corrupt(ids, labels, i, o, rng);
      chosen += word.length;
    }
  }
  return { inputIds: ids, labels };
}

/**
 * Packs documents into fixed-length blocks for causal LM (transformers' group_texts): documents are joined with
 * `separatorId` after each one, and the stream is cut into blocks of `blockSize`; a last partial block is
 * carried over to the next call rather than dropped, so a streamed corpus loses nothing between chunks.
 */
export class BlockPacker {
  private carry: number[] = [];

  constructor(
    readonly blockSize: number,
    readonly separatorId: number | null,
  ) {
    if (!Number.isInteger(blockSize) || blockSize < 2)
      throw new ArgumentError(`block packing: blockSize must be an integer >= 2, got ${blockSize}`);
  }

  /** Adds documents; returns the complete blocks now available. */
  push(docs: Iterable<ArrayLike<number>>): Int32Array[] {
    for (const d of docs) {
      for (let i = 0; i < d.length; i++) this.carry.push(d[i]);
      if (this.separatorId !== null) this.carry.push(this.separatorId);
    }
    const blocks: Int32Array[] = [];
    let at = 0;
    while (this.carry.length - at >= this.blockSize) {
      blocks.push(Int32Array.from(this.carry.slice(at, at + this.blockSize)));
      at += this.blockSize;
    }
    this.carry = this.carry.slice(at);
    return blocks;
  }

  /** Tokens waiting for a full block. */
  get pending(): number {
    return this.carry.length;
  }
}
