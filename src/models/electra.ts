/**
 * ELECTRA, as transformers' modeling_electra.py computes it, read top to bottom: config → ElectraModel → heads
 * (the discriminator of replaced-token detection, the masked-LM generator, sequence and token classification) →
 * the architecture spec. The encoder is BERT's (bert-encoder.ts); what differs:
 *
 * - the embeddings are `embedding_size` wide (word, position and token type tables and their LayerNorm), and
 *   `embeddings_project` (Linear embedding_size → hidden_size) follows them when the two sizes differ;
 * - no pooler; the discriminator head is `discriminator_predictions.{dense, dense_prediction}`: dense → hidden_act →
 *   one logit per token (is this token replaced?); its loss is BCE with logits over the non-padding tokens;
 * - the generator head is `generator_predictions.{dense, LayerNorm}` (hidden → embedding_size, exact GELU, then
 *   LayerNorm) and `generator_lm_head` (embedding_size → vocab, weight tied to the word embeddings);
 * - the classification head reads the first token: dropout → dense → GELU → dropout → out_proj.
 *
 * Checkpoint names carry the `electra.` prefix: `electra.embeddings.word_embeddings.weight`,
 * `electra.encoder.layer.0.attention.self.query.weight`, `discriminator_predictions.dense_prediction.bias`, ...
 */
import type { Rng } from "../util/rng.js";
import { type Tensor, embedding, reshape, tensor } from "../tensor/index.js";
import type { Activation as KernelActivation } from "../backend/index.js";
import { Dropout, LayerNorm, Linear, Module, fusedActivation } from "../nn/index.js";
import {
  type BaseConfig,
  type ConfigOfSchema,
  type FieldTypes,
  bool,
  defineConfig,
  field,
  headsDivide,
  numLabels,
  posInt,
  prob,
  str,
} from "../io/config.js";
import type { ModelOptions } from "./pretrained.js";
import {
  type BaseModelOutput,
  type ClassifierOutput,
  type LMOutput,
  type ModelInputs,
  checkInputs,
} from "./interfaces.js";
import { bceWithLogitsLoss, sequenceClassifierOutput, tokenOutput } from "./losses.js";
import {
  BERT_DROPOUT_FIELDS,
  BERT_FIELDS,
  BertEmbeddings,
  BertEncoder,
  BertFamilyPreTrainedModel,
  encodeEmbedded,
  firstToken,
} from "./bert-encoder.js";
import { defineArchitecture } from "./architecture.js";

// ---- config

/** ElectraConfig's fields: BERT's, with ELECTRA-small's defaults, the embedding width and the summary settings. */
export const ELECTRA_FIELDS = {
  ...BERT_FIELDS,
  embedding_size: field(posInt, 128),
  hidden_size: field(posInt, 256),
  num_attention_heads: field(posInt, 4),
  intermediate_size: field(posInt, 1024),
  summary_type: field(str, "first"),
  summary_use_proj: field(bool, true),
  summary_activation: field(str, "gelu"),
  summary_last_dropout: field(prob, 0.1),
};

/** Parameters of an ElectraModel (embeddings, projection, layers), counted from the config's sizes. */
function electraParameters(c: BaseConfig & FieldTypes<typeof ELECTRA_FIELDS>): number {
  const { vocab_size: v, hidden_size: h, intermediate_size: i, embedding_size: e } = c;
  const layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h;
  const project = e === h ? 0 : e * h + h;
  return (v + c.max_position_embeddings + c.type_vocab_size) * e + 2 * e + project + c.num_hidden_layers * layer;
}

export const ELECTRA_CONFIG = defineConfig("electra", ELECTRA_FIELDS, {
  baseDefaults: { pad_token_id: 0 },
  rule: headsDivide("hidden_size", "num_attention_heads"),
  parameters: electraParameters,
});
export type ElectraConfig = ConfigOfSchema<typeof ELECTRA_CONFIG>;

// ---- the model

abstract class ElectraPreTrainedModel extends BertFamilyPreTrainedModel<ElectraConfig> {
  static readonly configSchema = ELECTRA_CONFIG;
  static readonly baseModelPrefix = "electra";
}

/** embeddings (embedding_size wide) → embeddings_project (when the widths differ) → BERT's encoder. */
export class ElectraModel extends ElectraPreTrainedModel {
  static readonly architecture = "ElectraModel";
  protected override readonly coreModules = ["embeddings", "encoder"];
  embeddings: BertEmbeddings;
  embeddings_project: Linear | null;
  encoder: BertEncoder;

  constructor(config: ElectraConfig, opts: ModelOptions = {}) {
    super(config);
    // BERT's embedding module at the embedding width: the same tables, LayerNorm and dropout
    this.embeddings = new BertEmbeddings({ ...config, hidden_size: config.embedding_size }, { rng: opts.rng });
    this.embeddings_project =
      config.embedding_size === config.hidden_size
        ? null
        : new Linear(config.embedding_size, config.hidden_size, { rng: opts.rng });
    this.encoder = new BertEncoder(config, opts.rng);
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** lastHiddenState [B, T, H] (no pooler: poolerOutput is null); hiddenStates and attentions when asked. */
  forward(inputs: ModelInputs): BaseModelOutput {
    checkInputs(this.architecture, inputs);
    let h = this.embeddings.forward(inputs.inputIds, inputs.tokenTypeIds ?? null, inputs.positionIds ?? null);
    if (this.embeddings_project) h = this.embeddings_project.forward(h);
    return { ...encodeEmbedded(this.encoder, h, inputs, this.config.is_decoder), poolerOutput: null };
  }
}

// ---- heads

/** The discriminator's head: dense → hidden_act → one logit per token. */
export class ElectraDiscriminatorPredictions extends Module {
  dense: Linear;
  dense_prediction: Linear;
  private readonly _act: KernelActivation;

  constructor(c: ElectraConfig, rng?: Rng) {
    super();
    this.dense = new Linear(c.hidden_size, c.hidden_size, { rng });
    this.dense_prediction = new Linear(c.hidden_size, 1, { rng });
    this._act = fusedActivation(c.hidden_act);
  }

  /** h [B, T, H] → logits [B, T] */
  forward(h: Tensor): Tensor {
    const [b, t] = h.shape;
    return reshape(this.dense_prediction.forward(this.dense.forward(h, this._act)), [b, t]);
  }
}

/** Replaced-token detection output: a logit per token (positive: replaced). */
export interface ReplacedTokenOutput {
  /** [B, T] */
  logits: Tensor;
  loss: Tensor | null;
  hiddenStates: Tensor[] | null;
  attentions: Tensor[] | null;
}

/**
 * Flat indices of the positions a discriminator scores: those the attention mask keeps (all of them without a
 * mask), as transformers' ElectraForPreTraining does.
 */
export function activePositions(attentionMask: Tensor | null | undefined, size: number): number[] {
  if (!attentionMask) return Array.from({ length: size }, (_, i) => i);
  const m = attentionMask.toArray();
  const out: number[] = [];
  for (let i = 0; i < m.length; i++) if (m[i] === 1) out.push(i);
  return out;
}

/**
 * The discriminator's loss: BCE with logits of logits [B, T] against labels [B, T] (1: replaced, 0: original) over
 * the active positions, averaged.
 */
export function replacedTokenLoss(logits: Tensor, labels: Tensor, attentionMask?: Tensor | null): Tensor {
  const positions = activePositions(attentionMask, logits.size);
  const y = labels.toArray();
  const picked = embedding(
    tensor(Int32Array.from(positions), [positions.length], { dtype: "i32" }),
    reshape(logits, [logits.size, 1]),
  ); // [M, 1]
  const targets = tensor(
    Float32Array.from(positions, (i) => y[i]),
    [positions.length, 1],
  );
  return bceWithLogitsLoss(picked, targets);
}

/** ElectraForPreTraining: the discriminator of replaced-token detection. labels [B, T] in {0, 1}. */
export class ElectraForPreTraining extends ElectraPreTrainedModel {
  static readonly architecture = "ElectraForPreTraining";
  electra: ElectraModel;
  discriminator_predictions: ElectraDiscriminatorPredictions;

  constructor(config: ElectraConfig, opts: ModelOptions = {}) {
    super(config);
    this.electra = new ElectraModel(config, { rng: opts.rng, initWeights: false });
    this.discriminator_predictions = new ElectraDiscriminatorPredictions(config, opts.rng);
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  forward(inputs: ModelInputs): ReplacedTokenOutput {
    const base = this.electra.forward(inputs);
    const logits = this.discriminator_predictions.forward(base.lastHiddenState);
    const loss = inputs.labels ? replacedTokenLoss(logits, inputs.labels, inputs.attentionMask) : null;
    return { logits, loss, hiddenStates: base.hiddenStates ?? null, attentions: base.attentions ?? null };
  }
}

/** The generator's transform: dense (hidden → embedding_size) → exact GELU → LayerNorm. */
export class ElectraGeneratorPredictions extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;

  constructor(c: ElectraConfig, rng?: Rng) {
    super();
    this.dense = new Linear(c.hidden_size, c.embedding_size, { rng });
    this.LayerNorm = new LayerNorm(c.embedding_size, c.layer_norm_eps);
  }

  forward(h: Tensor): Tensor {
    return this.LayerNorm.forward(this.dense.forward(h, "gelu"));
  }
}

/** ElectraForMaskedLM: the generator; its LM head's weight is the word-embedding matrix. */
export class ElectraForMaskedLM extends ElectraPreTrainedModel {
  static readonly architecture = "ElectraForMaskedLM";
  electra: ElectraModel;
  generator_predictions: ElectraGeneratorPredictions;
  generator_lm_head: Linear;

  constructor(config: ElectraConfig, opts: ModelOptions = {}) {
    super(config);
    this.electra = new ElectraModel(config, { rng: opts.rng, initWeights: false });
    this.generator_predictions = new ElectraGeneratorPredictions(config, opts.rng);
    this.generator_lm_head = new Linear(config.embedding_size, config.vocab_size, { rng: opts.rng });
    if (config.tie_word_embeddings) this.generator_lm_head.weight = this.electra.embeddings.word_embeddings.weight;
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** logits [B, T, V]; labels [B, T] i32 with -100 where no prediction is scored. */
  forward(inputs: ModelInputs): LMOutput {
    const base = this.electra.forward(inputs);
    return tokenOutput(
      this.generator_lm_head.forward(this.generator_predictions.forward(base.lastHiddenState)),
      inputs,
      base,
    );
  }

  /** Logits [M, V] at flat positions [M] of the batch only (the head runs on those rows alone). */
  logitsAt(inputs: ModelInputs, positions: Tensor): Tensor {
    const h = this.electra.forward(inputs).lastHiddenState; // [B, T, H]
    const rows = embedding(positions, reshape(h, [h.size / h.shape[2], h.shape[2]])); // [M, H]
    return this.generator_lm_head.forward(this.generator_predictions.forward(rows));
  }
}

/** The first token → dropout → dense → GELU → dropout → out_proj. */
export class ElectraClassificationHead extends Module {
  dense: Linear;
  dropout: Dropout;
  out_proj: Linear;

  constructor(c: ElectraConfig, rng?: Rng) {
    super();
    this.dense = new Linear(c.hidden_size, c.hidden_size, { rng });
    this.dropout = new Dropout(c.classifier_dropout ?? c.hidden_dropout_prob, rng);
    this.out_proj = new Linear(c.hidden_size, numLabels(c), { rng });
  }

  /** h [B, T, H] → logits [B, C] */
  forward(h: Tensor): Tensor {
    const x = this.dense.forward(this.dropout.forward(firstToken(h)), "gelu");
    return this.out_proj.forward(this.dropout.forward(x));
  }
}

export class ElectraForSequenceClassification extends ElectraPreTrainedModel {
  static readonly architecture = "ElectraForSequenceClassification";
  electra: ElectraModel;
  classifier: ElectraClassificationHead;

  constructor(config: ElectraConfig, opts: ModelOptions = {}) {
    super(config);
    this.electra = new ElectraModel(config, { rng: opts.rng, initWeights: false });
    this.classifier = new ElectraClassificationHead(config, opts.rng);
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  forward(inputs: ModelInputs): ClassifierOutput {
    const base = this.electra.forward(inputs);
    return sequenceClassifierOutput(this.classifier.forward(base.lastHiddenState), inputs, this.config, base);
  }
}

export class ElectraForTokenClassification extends ElectraPreTrainedModel {
  static readonly architecture = "ElectraForTokenClassification";
  electra: ElectraModel;
  dropout: Dropout;
  classifier: Linear;

  constructor(config: ElectraConfig, opts: ModelOptions = {}) {
    super(config);
    this.electra = new ElectraModel(config, { rng: opts.rng, initWeights: false });
    this.dropout = new Dropout(config.classifier_dropout ?? config.hidden_dropout_prob, opts.rng);
    this.classifier = new Linear(config.hidden_size, numLabels(config), { rng: opts.rng });
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** logits [B, T, num_labels]; labels [B, T] i32 with -100 on positions not scored. */
  forward(inputs: ModelInputs): ClassifierOutput {
    const base = this.electra.forward(inputs);
    return tokenOutput(this.classifier.forward(this.dropout.forward(base.lastHiddenState)), inputs, base);
  }
}

// ---- the architecture

export const ELECTRA = defineArchitecture<ElectraConfig>({
  config: ELECTRA_CONFIG,
  classPrefix: "Electra",
  heads: {
    base: ElectraModel,
    "masked-lm": ElectraForMaskedLM,
    "sequence-classification": ElectraForSequenceClassification,
    "token-classification": ElectraForTokenClassification,
  },
  dropoutFields: BERT_DROPOUT_FIELDS,
  tokenTypes: true,
  maxPositions: (c) => c.max_position_embeddings,
  maskedLogitsAt: (model, inputs, positions) => (model as ElectraForMaskedLM).logitsAt(inputs, positions),
  sizedConfig: (s) => ({
    vocab_size: s.vocabSize,
    embedding_size: s.hidden,
    hidden_size: s.hidden,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    intermediate_size: s.ffn,
    max_position_embeddings: s.positions,
    pad_token_id: s.padTokenId,
  }),
});
