/**
 * ELECTRA's replaced-token detection (Clark et al. 2020) for pre-training: a small masked-LM generator proposes
 * tokens at the masked positions, and the discriminator learns, at every position, whether the token it sees is the
 * original. The two share the embedding module (word, position and token-type tables and their LayerNorm), so the
 * generator's MLM loss trains the embeddings the discriminator reads; the loss is generator MLM + 50 × discriminator
 * BCE, as the paper weights them.
 *
 * Per batch (ids [B, T] with 15% of tokens replaced by [MASK], labels holding the originals there):
 *   1. the generator's logits at the masked positions [M, V] → its cross-entropy against the originals;
 *   2. a token sampled from the generator's softmax at each masked position (no gradient flows through sampling);
 *   3. the corrupted input: the batch with the samples in place of [MASK];
 *   4. replaced-token labels: 1 where the corrupted token differs from the original — a sample equal to the
 *      original counts as original;
 *   5. the discriminator's logits [B, T] → BCE with those labels over every position.
 */
import type { Rng } from "../util/rng.js";
import { ArgumentError } from "../util/errors.js";
import { Tensor, add, crossEntropy, mul, noGrad, softmax } from "../tensor/index.js";
import { Module } from "../nn/index.js";
import {
  type ElectraConfig,
  ElectraForMaskedLM,
  ElectraForPreTraining,
  type PreTrainedModel,
  makeConfig,
  replacedTokenLoss,
} from "../models/index.js";
import { BERT_FIELDS } from "../models/bert-encoder.js";
import { IGNORE_INDEX } from "./objectives.js";

/** The discriminator's loss weight of the paper. */
export const DISCRIMINATOR_WEIGHT = 50;

/**
 * The generator's config for a discriminator: the same embedding width and depth, `fraction` of its hidden size,
 * heads and feed-forward width (the paper's generators are 1/4 to 1/2 as wide).
 */
export function generatorConfig(disc: ElectraConfig, fraction: number): ElectraConfig {
  if (!(fraction > 0 && fraction <= 1))
    throw new ArgumentError(`the generator's size must be in (0, 1], got ${fraction}`);
  const heads = Math.max(1, Math.round(disc.num_attention_heads * fraction));
  const headDim = disc.hidden_size / disc.num_attention_heads;
  return makeConfig("electra", {
    ...disc,
    architectures: ["ElectraForMaskedLM"],
    hidden_size: heads * headDim,
    num_attention_heads: heads,
    intermediate_size: Math.max(1, Math.round(disc.intermediate_size * fraction)),
  }) as ElectraConfig;
}

/** The generator and the discriminator trained together; the generator reads the discriminator's embeddings. */
export class ElectraPretrainingModel extends Module {
  discriminator: ElectraForPreTraining;
  generator: ElectraForMaskedLM;

  constructor(discriminator: ElectraForPreTraining, generator: ElectraForMaskedLM) {
    super();
    const d = discriminator.config,
      g = generator.config;
    if (d.embedding_size !== g.embedding_size || d.vocab_size !== g.vocab_size)
      throw new ArgumentError(
        `the generator's embeddings (${g.vocab_size} × ${g.embedding_size}) must match the discriminator's (${d.vocab_size} × ${d.embedding_size}) to be shared`,
      );
    this.discriminator = discriminator;
    this.generator = generator;
    generator.electra.embeddings = discriminator.electra.embeddings;
    if (g.tie_word_embeddings)
      generator.generator_lm_head.weight = discriminator.electra.embeddings.word_embeddings.weight;
  }

  /** A discriminator and a generator of `fraction` its width, freshly initialized, sharing embeddings. */
  static fromConfig(disc: ElectraConfig, fraction: number, rng?: Rng): ElectraPretrainingModel {
    return new ElectraPretrainingModel(
      new ElectraForPreTraining(disc, { rng }),
      new ElectraForMaskedLM(generatorConfig(disc, fraction), { rng }),
    );
  }
}

/** The fields of a BERT config, all of which ELECTRA's config has with the same meaning (ELECTRA_FIELDS extends them). */
const BERT_FIELDS_IN_ELECTRA = [...Object.keys(BERT_FIELDS), "pad_token_id"];

/**
 * Continues a BERT masked-LM model's pre-training with replaced-token detection: ELECTRA's encoder is BERT's, so a
 * discriminator with `embedding_size` = `hidden_size` (no projection) takes BERT's embeddings and encoder layers as
 * they are (`bert.embeddings.*` → `electra.embeddings.*`, `bert.encoder.*` → `electra.encoder.*`). BERT's pooler and
 * MLM head are dropped; the discriminator head and the generator (`fraction` of the width, reading the shared,
 * pre-trained embeddings) start fresh.
 */
export function electraFromBert(bert: PreTrainedModel, fraction: number, rng?: Rng): ElectraPretrainingModel {
  if (bert.config.model_type !== "bert")
    throw new ArgumentError(`electraFromBert: expected a BERT model, got ${bert.config.model_type}`);
  const fields: Record<string, unknown> = {};
  const source = bert.config as unknown as Record<string, unknown>;
  for (const k of BERT_FIELDS_IN_ELECTRA) if (source[k] !== undefined && source[k] !== null) fields[k] = source[k];
  const config = makeConfig("electra", {
    ...fields,
    architectures: ["ElectraForPreTraining"],
    embedding_size: source.hidden_size as number,
  }) as ElectraConfig;
  const model = ElectraPretrainingModel.fromConfig(config, fraction, rng);
  const backbone = new Map<string, Tensor>();
  for (const [name, p] of bert.namedParameters()) {
    const m = /^bert\.((?:embeddings|encoder)\..*)$/.exec(name);
    if (m) backbone.set(`electra.${m[1]}`, p);
  }
  const { missingKeys } = model.discriminator.loadStateDict(backbone, { strict: false });
  const unexpectedMissing = missingKeys.filter((k) => !k.startsWith("discriminator_predictions."));
  if (unexpectedMissing.length)
    throw new ArgumentError(`electraFromBert: the BERT model lacks ${unexpectedMissing.join(", ")}`);
  return model;
}

/** 1 where the corrupted token differs from the original, else 0 (a sampled token equal to the original is original). */
export function replacedTokenLabels(original: Int32Array, corrupted: Int32Array): Int32Array {
  if (original.length !== corrupted.length)
    throw new ArgumentError(`replaced-token labels: ${original.length} original and ${corrupted.length} corrupted ids`);
  return Int32Array.from(original, (v, i) => (corrupted[i] !== v ? 1 : 0));
}

/** One token per row of probabilities [M, V] (row-major), drawn with `rng`. */
export function sampleRows(probs: ArrayLike<number>, rows: number, vocab: number, rng: Rng): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let u = rng.uniform();
    let k = 0;
    for (; k < vocab - 1; k++) {
      u -= probs[r * vocab + k];
      if (u < 0) break;
    }
    out[r] = k;
  }
  return out;
}

export interface ElectraStep {
  loss: Tensor;
  generatorLoss: number;
  discriminatorLoss: number;
  /** The discriminator's correct calls (logit > 0 ⇔ replaced) and the positions it scored. */
  correct: number;
  count: number;
  /** Masked positions, and those where the sample differs from the original. */
  masked: number;
  replaced: number;
  /** The generator's correct predictions (argmax = original) at masked positions. */
  generatorCorrect: number;
  /** What the discriminator saw [B·T] and its labels (1: replaced). */
  corrupted: Int32Array;
  isReplaced: Int32Array;
}

/**
 * The ELECTRA loss of a batch: `inputIds` [B, T] with [MASK] at the selected positions, `labels` [B, T] with the
 * originals there and -100 elsewhere. `rng` draws the generator's samples.
 */
export function electraStep(
  model: ElectraPretrainingModel,
  batch: { inputIds: Tensor; labels: Tensor; attentionMask?: Tensor },
  rng: Rng,
  weight = DISCRIMINATOR_WEIGHT,
): ElectraStep {
  const [b, t] = batch.inputIds.shape;
  const ids = Int32Array.from(batch.inputIds.toArray());
  const labels = batch.labels.toArray();
  const positions: number[] = [],
    targets: number[] = [];
  for (let i = 0; i < labels.length; i++)
    if (labels[i] !== IGNORE_INDEX) {
      positions.push(i);
      targets.push(labels[i]);
    }
  const original = ids.slice();
  for (let j = 0; j < positions.length; j++) original[positions[j]] = targets[j];
  const corrupted = ids.slice();
  let generatorLoss: Tensor | null = null;
  let generatorCorrect = 0;
  if (positions.length) {
    const logits = model.generator.logitsAt(
      { inputIds: batch.inputIds, ...(batch.attentionMask ? { attentionMask: batch.attentionMask } : {}) },
      new Tensor(Int32Array.from(positions), [positions.length]),
    ); // [M, V]
    generatorLoss = crossEntropy(logits, new Tensor(Int32Array.from(targets), [targets.length]));
    const vocab = logits.shape[1];
    const probs = noGrad(() => softmax(logits, -1).toArray());
    const sampled = sampleRows(probs, positions.length, vocab, rng);
    for (let j = 0; j < positions.length; j++) {
      corrupted[positions[j]] = sampled[j];
      let best = 0;
      for (let k = 1; k < vocab; k++) if (probs[j * vocab + k] > probs[j * vocab + best]) best = k;
      if (best === targets[j]) generatorCorrect++;
    }
  }
  const isReplaced = replacedTokenLabels(original, corrupted);
  const disc = model.discriminator.forward({
    inputIds: new Tensor(corrupted, [b, t]),
    ...(batch.attentionMask ? { attentionMask: batch.attentionMask } : {}),
  });
  const discriminatorLoss = replacedTokenLoss(disc.logits, new Tensor(isReplaced, [b, t]), batch.attentionMask);
  const mask = batch.attentionMask?.toArray();
  const logits = disc.logits.toArray();
  let correct = 0,
    count = 0,
    replaced = 0;
  for (let i = 0; i < logits.length; i++) {
    if (mask && mask[i] !== 1) continue;
    count++;
    if (logits[i] > 0 === (isReplaced[i] === 1)) correct++;
    replaced += isReplaced[i];
  }
  const scaled = mul(discriminatorLoss, weight);
  return {
    loss: generatorLoss ? add(generatorLoss, scaled) : scaled,
    generatorLoss: generatorLoss ? generatorLoss.item() : 0,
    discriminatorLoss: discriminatorLoss.item(),
    correct,
    count,
    masked: positions.length,
    replaced,
    generatorCorrect,
    corrupted,
    isReplaced,
  };
}
