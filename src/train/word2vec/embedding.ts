/**
 * Pre-trained word vectors as the first layer of a model (the pre-transformer form of transfer learning):
 * rows of an nn.Embedding are copied from the vectors for the words of a model's own id → word vocabulary,
 * frozen or left trainable. Words the vectors lack keep the layer's usual random init and are reported.
 */
import { ArgumentError, ShapeError } from "../../util/errors.js";
import type { Rng } from "../../util/rng.js";
import { Embedding } from "../../nn/index.js";
import { Tensor, copy_ } from "../../tensor/index.js";
import type { WordVectors } from "./vectors.js";

export interface PretrainedEmbeddingOptions {
  /** Stop gradients to the embedding (default false: it fine-tunes with the rest of the model). */
  freeze?: boolean;
  /** Row kept at zeros and never counted as missing, as nn.Embedding's paddingIdx. */
  paddingIdx?: number;
  /** When a word is missing, try its lowercase form (vectors trained on lowercased text, cased model vocab). */
  lowercaseFallback?: boolean;
  /** Generator for the random rows of a new Embedding. */
  rng?: Rng;
}

export interface FillReport {
  /** Rows copied from the vectors. */
  found: number;
  /** Rows left at their random init (padding excluded). */
  missing: number;
  /** The words of those rows, in id order. */
  missingWords: string[];
}

/** Copies vectors into an existing Embedding's weight, row id ← vectors[vocab[id]]. */
export function fillEmbedding(
  embedding: Embedding,
  vectors: WordVectors,
  vocab: readonly (string | null | undefined)[],
  opts: Omit<PretrainedEmbeddingOptions, "rng"> = {},
): FillReport {
  const D = vectors.dim;
  if (embedding.embeddingDim !== D) {
    throw new ShapeError(
      `fillEmbedding: the embedding has ${embedding.embeddingDim} dims but the vectors have ${D}`,
      `build the model with an embedding dim of ${D}`,
    );
  }
  if (vocab.length !== embedding.numEmbeddings) {
    throw new ShapeError(
      `fillEmbedding: the vocabulary has ${vocab.length} ids but the embedding has ${embedding.numEmbeddings} rows`,
    );
  }
  const pad = opts.paddingIdx;
  if (pad !== undefined && !(Number.isInteger(pad) && pad >= 0 && pad < vocab.length))
    throw new ArgumentError(`fillEmbedding: paddingIdx ${pad} is outside [0, ${vocab.length})`);
  const w = embedding.weight.toFloat32Array();
  const report: FillReport = { found: 0, missing: 0, missingWords: [] };
  vocab.forEach((word, id) => {
    if (id === pad) {
      w.fill(0, id * D, (id + 1) * D);
      return;
    }
    let row = word == null ? -1 : vectors.indexOf(word);
    if (row < 0 && word != null && opts.lowercaseFallback) row = vectors.indexOf(word.toLowerCase());
    if (row < 0) {
      report.missing++;
      report.missingWords.push(word ?? `<id ${id}>`);
      return;
    }
    w.set(vectors.data.subarray(row * D, (row + 1) * D), id * D);
    report.found++;
  });
  copy_(embedding.weight, new Tensor(w, embedding.weight.shape));
  if (opts.freeze) embedding.freeze();
  return report;
}

/** A new Embedding [vocab.length, vectors.dim] filled from the vectors (missing rows: N(0, 1), as nn.Embedding). */
export function embeddingFromVectors(
  vectors: WordVectors,
  vocab: readonly (string | null | undefined)[],
  opts: PretrainedEmbeddingOptions = {},
): { embedding: Embedding } & FillReport {
  if (vocab.length === 0) throw new ArgumentError("embeddingFromVectors: the vocabulary is empty");
  const embedding = new Embedding(vocab.length, vectors.dim, { paddingIdx: opts.paddingIdx, rng: opts.rng });
  return { embedding, ...fillEmbedding(embedding, vectors, vocab, opts) };
}
