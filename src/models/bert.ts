/**
 * BERT, as transformers' modeling_bert.py computes it, read top to bottom: config → the encoder (embeddings →
 * self-attention → layer → encoder → pooler, in bert-encoder.ts, which RoBERTa shares) → BertModel → heads (masked
 * LM, sequence classification, token classification) → the architecture spec.
 * Field names are transformers' attribute names, so state-dict keys are checkpoint keys:
 * `bert.encoder.layer.0.attention.self.query.weight`, `cls.predictions.transform.LayerNorm.bias`, ...
 *
 * Heads: the MLM decoder shares the word-embedding matrix and its bias is `cls.predictions.bias`; the prediction
 * transform is dense → hidden_act → LayerNorm; sequence classification reads the pooled [CLS] token.
 */
import type { Rng } from "../util/rng.js";
import { type Tensor, embedding, reshape } from "../tensor/index.js";
import type { Activation as KernelActivation } from "../backend/index.js";
import { Dropout, LayerNorm, Linear, Module, Parameter, fusedActivation } from "../nn/index.js";
import { type ConfigOfSchema, defineConfig, headsDivide, numLabels } from "../io/config.js";
import type { ModelOptions } from "./pretrained.js";
import type { ClassifierOutput, LMOutput, ModelInputs } from "./interfaces.js";
import { sequenceClassifierOutput, tokenOutput } from "./losses.js";
import {
  BERT_DROPOUT_FIELDS,
  BERT_FIELDS,
  BertFamilyModel,
  BertFamilyPreTrainedModel,
  bertParameters,
} from "./bert-encoder.js";
import { defineArchitecture } from "./architecture.js";

// ---- config

export const BERT_CONFIG = defineConfig("bert", BERT_FIELDS, {
  baseDefaults: { pad_token_id: 0 },
  rule: headsDivide("hidden_size", "num_attention_heads"),
  parameters: bertParameters,
});
export type BertConfig = ConfigOfSchema<typeof BERT_CONFIG>;

// ---- the model

/** Common to every BERT class: the config and the base prefix (the backbone's layout is BertFamilyPreTrainedModel's). */
abstract class BertPreTrainedModel extends BertFamilyPreTrainedModel<BertConfig> {
  static readonly configSchema = BERT_CONFIG;
  static readonly baseModelPrefix = "bert";
}

/** embeddings → encoder → pooler (BertFamilyModel); positions 0..T-1. */
export class BertModel extends BertFamilyModel<BertConfig> {
  static readonly architecture = "BertModel";
  static readonly configSchema = BERT_CONFIG;
  static readonly baseModelPrefix = "bert";
}

// ---- heads

export class BertPredictionHeadTransform extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  private readonly _act: KernelActivation;

  constructor(c: BertConfig, rng?: Rng) {
    super();
    this.dense = new Linear(c.hidden_size, c.hidden_size, { rng });
    this._act = fusedActivation(c.hidden_act);
    this.LayerNorm = new LayerNorm(c.hidden_size, c.layer_norm_eps);
  }

  forward(h: Tensor): Tensor {
    return this.LayerNorm.forward(this.dense.forward(h, this._act));
  }
}

export class BertLMPredictionHead extends Module {
  transform: BertPredictionHeadTransform;
  decoder: Linear;
  /** The output bias; with tied embeddings the decoder's bias is this same parameter. */
  bias: Parameter;

  constructor(c: BertConfig, wordEmbeddings: Parameter, rng?: Rng) {
    super();
    this.transform = new BertPredictionHeadTransform(c, rng);
    this.decoder = new Linear(c.hidden_size, c.vocab_size, { rng });
    this.bias = Parameter.zeros([c.vocab_size]);
    if (c.tie_word_embeddings) {
      this.decoder.weight = wordEmbeddings;
      this.decoder.bias = this.bias;
    }
  }

  /** h [..., H] → logits [..., V] */
  forward(h: Tensor): Tensor {
    return this.decoder.forward(this.transform.forward(h));
  }
}

export class BertOnlyMLMHead extends Module {
  predictions: BertLMPredictionHead;

  constructor(c: BertConfig, wordEmbeddings: Parameter, rng?: Rng) {
    super();
    this.predictions = new BertLMPredictionHead(c, wordEmbeddings, rng);
  }
}

export class BertForMaskedLM extends BertPreTrainedModel {
  static readonly architecture = "BertForMaskedLM";
  bert: BertModel;
  cls: BertOnlyMLMHead;

  constructor(config: BertConfig, opts: ModelOptions = {}) {
    super(config);
    this.bert = new BertModel(config, { rng: opts.rng, initWeights: false, addPoolingLayer: false });
    this.cls = new BertOnlyMLMHead(config, this.bert.embeddings.word_embeddings.weight, opts.rng);
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** labels [B, T] i32 with -100 where no prediction is scored. */
  forward(inputs: ModelInputs): LMOutput {
    const base = this.bert.forward(inputs);
    return tokenOutput(this.cls.predictions.forward(base.lastHiddenState), inputs, base);
  }

  /** Logits [M, V] at flat positions [M] of the batch only (the decoder runs on those rows alone). */
  logitsAt(inputs: ModelInputs, positions: Tensor): Tensor {
    const h = this.bert.forward(inputs).lastHiddenState; // [B, T, H]
    const rows = embedding(positions, reshape(h, [h.size / h.shape[2], h.shape[2]])); // [M, H]
    return this.cls.predictions.forward(rows);
  }
}

export class BertForSequenceClassification extends BertPreTrainedModel {
  static readonly architecture = "BertForSequenceClassification";
  bert: BertModel;
  dropout: Dropout;
  classifier: Linear;

  constructor(config: BertConfig, opts: ModelOptions = {}) {
    super(config);
    this.bert = new BertModel(config, { rng: opts.rng, initWeights: false });
    this.dropout = new Dropout(config.classifier_dropout ?? config.hidden_dropout_prob, opts.rng);
    this.classifier = new Linear(config.hidden_size, numLabels(config), { rng: opts.rng });
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** logits [B, num_labels] from the pooled first token. */
  forward(inputs: ModelInputs): ClassifierOutput {
    const base = this.bert.forward(inputs);
    const logits = this.classifier.forward(this.dropout.forward(base.poolerOutput!));
    return sequenceClassifierOutput(logits, inputs, this.config, base);
  }
}

export class BertForTokenClassification extends BertPreTrainedModel {
  static readonly architecture = "BertForTokenClassification";
  bert: BertModel;
  dropout: Dropout;
  classifier: Linear;

  constructor(config: BertConfig, opts: ModelOptions = {}) {
    super(config);
    this.bert = new BertModel(config, { rng: opts.rng, initWeights: false, addPoolingLayer: false });
    this.dropout = new Dropout(config.classifier_dropout ?? config.hidden_dropout_prob, opts.rng);
    this.classifier = new Linear(config.hidden_size, numLabels(config), { rng: opts.rng });
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** logits [B, T, num_labels]; labels [B, T] i32 with -100 on positions not scored. */
  forward(inputs: ModelInputs): ClassifierOutput {
    const base = this.bert.forward(inputs);
    return tokenOutput(this.classifier.forward(this.dropout.forward(base.lastHiddenState)), inputs, base);
  }
}

// ---- the architecture

export const BERT = defineArchitecture<BertConfig>({
  config: BERT_CONFIG,
  classPrefix: "Bert",
  heads: {
    base: BertModel,
    "masked-lm": BertForMaskedLM,
    "sequence-classification": BertForSequenceClassification,
    "token-classification": BertForTokenClassification,
  },
  dropoutFields: BERT_DROPOUT_FIELDS,
  tokenTypes: true,
  maxPositions: (c) => c.max_position_embeddings,
  maskedLogitsAt: (model, inputs, positions) => (model as BertForMaskedLM).logitsAt(inputs, positions),
  sizedConfig: (s) => ({
    vocab_size: s.vocabSize,
    hidden_size: s.hidden,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    intermediate_size: s.ffn,
    max_position_embeddings: s.positions,
    pad_token_id: s.padTokenId,
  }),
});
