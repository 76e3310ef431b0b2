/**
 * Tokenization for fine-tuning, done once before training (the tokenizer is asynchronous; batches are built
 * synchronously from the stored ids): sequences (with an optional pair) for classification, and words aligned to
 * sub-word tokens for NER — the first sub-token of each word carries its tag, the others are ignored in the loss,
 * and predictions map back to words from the first sub-token.
 */
import { Tensor } from "../tensor/index.js";
import type { Tokenizer } from "../tokenizers/index.js";
import { IGNORE_INDEX } from "../train/index.js";

export interface EncodedRow {
  ids: number[];
  typeIds: number[];
  /** Packed rows (sft --packing): positions restarting at 0 for each sample of the row. */
  positionIds?: number[];
  /** Packed rows: the sample (1, 2, ...) each token belongs to; attention never crosses samples. */
  segmentIds?: number[];
}

export interface EncodedTokens extends EncodedRow {
  /** Label per sub-token (IGNORE_INDEX except on first sub-tokens of words). */
  labels: number[];
  /** For each word: the position of its first sub-token, or -1 if truncation cut it off. */
  wordStarts: number[];
}

const CHUNK = 512;

export async function encodeTexts(
  tok: Tokenizer,
  texts: readonly string[],
  pairs: readonly string[] | undefined,
  maxLength: number | undefined,
): Promise<EncodedRow[]> {
  const rows: EncodedRow[] = [];
  for (let i = 0; i < texts.length; i += CHUNK) {
    const b = await tok.encodeBatch(texts.slice(i, i + CHUNK), {
      truncation: true,
      ...(maxLength !== undefined ? { maxLength } : {}),
      ...(pairs ? { pairs: pairs.slice(i, i + CHUNK) } : {}),
    });
    for (let k = 0; k < b.inputIds.length; k++) rows.push({ ids: b.inputIds[k], typeIds: b.tokenTypeIds[k] });
  }
  return rows;
}

/**
 * Encodes pre-split words (CoNLL tokens) by joining them with spaces and mapping every sub-token back to its word
 * through character offsets, which is robust to pre-tokenizers that split a CoNLL token further ("U.S." → "U", ".", ...).
 */
export async function encodeWords(
  tok: Tokenizer,
  sentences: readonly (readonly string[])[],
  tags: readonly (readonly number[])[] | null,
  maxLength: number | undefined,
): Promise<EncodedTokens[]> {
  const out: EncodedTokens[] = [];
  for (let i = 0; i < sentences.length; i += CHUNK) {
    const chunk = sentences.slice(i, i + CHUNK);
    const texts: string[] = [];
    const spans: number[][] = [];
    for (const words of chunk) {
      let text = "";
      const starts: number[] = [];
      words.forEach((w, k) => {
        if (k > 0) text += " ";
        starts.push(text.length);
        text += w;
      });
      texts.push(text);
      spans.push(starts);
    }
    const b = await tok.encodeBatch(texts, { truncation: true, ...(maxLength !== undefined ? { maxLength } : {}) });
    chunk.forEach((words, k) => {
      const starts = spans[k];
      const labels = new Array<number>(b.inputIds[k].length).fill(IGNORE_INDEX);
      const wordStarts = new Array<number>(words.length).fill(-1);
      let w = 0;
      b.offsets[k].forEach(([s, e], pos) => {
        if (b.sequenceIds[k][pos] === null || e <= s) return; // special or empty token
        while (w + 1 < starts.length && starts[w + 1] <= s) w++;
        if (wordStarts[w] === -1) {
          wordStarts[w] = pos;
          if (tags) labels[pos] = tags[i + k][w];
        }
      });
      out.push({ ids: b.inputIds[k], typeIds: b.tokenTypeIds[k], labels, wordStarts });
    });
  }
  return out;
}

export interface PaddedBatch {
  inputIds: Tensor;
  attentionMask: Tensor;
  tokenTypeIds: Tensor;
  /** Token labels padded with IGNORE_INDEX (NER and sft). */
  tokenLabels: Tensor | null;
  /** [B, T] i32 positions, when the rows carry them (packed rows; padding gets 0). */
  positionIds?: Tensor | null;
  /** [B, T] i32 segment ids, when the rows carry them (packed rows; padding gets 0). */
  segmentIds?: Tensor | null;
}

/** Right-pads the rows picked by `idx` to the longest of them. */
export function padRows(
  rows: readonly (EncodedRow & { labels?: number[] })[],
  idx: ArrayLike<number>,
  padId: number,
): PaddedBatch {
  let t = 1;
  for (let i = 0; i < idx.length; i++) t = Math.max(t, rows[idx[i]].ids.length);
  const n = idx.length;
  const ids = new Int32Array(n * t).fill(padId);
  const types = new Int32Array(n * t);
  const mask = new Float32Array(n * t);
  const withLabels = n > 0 && rows[idx[0]].labels !== undefined;
  const labels = withLabels ? new Int32Array(n * t).fill(IGNORE_INDEX) : null;
  const packed = n > 0 && rows[idx[0]].segmentIds !== undefined;
  const positions = packed ? new Int32Array(n * t) : null;
  const segments = packed ? new Int32Array(n * t) : null;
  for (let i = 0; i < n; i++) {
    const r = rows[idx[i]];
    ids.set(r.ids, i * t);
    types.set(r.typeIds, i * t);
    mask.fill(1, i * t, i * t + r.ids.length);
    if (labels && r.labels) labels.set(r.labels, i * t);
    if (positions && r.positionIds) positions.set(r.positionIds, i * t);
    if (segments && r.segmentIds) segments.set(r.segmentIds, i * t);
  }
  return {
    inputIds: new Tensor(ids, [n, t]),
    attentionMask: new Tensor(mask, [n, t]),
    tokenTypeIds: new Tensor(types, [n, t]),
    tokenLabels: labels ? new Tensor(labels, [n, t]) : null,
    ...(positions && segments
      ? { positionIds: new Tensor(positions, [n, t]), segmentIds: new Tensor(segments, [n, t]) }
      : {}),
  };
}
