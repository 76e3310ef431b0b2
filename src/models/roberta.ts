/**
 * RoBERTa, as transformers' modeling_roberta.py computes it: BERT's encoder (bert-encoder.ts, the same module code)
 * with other positions and heads, read top to bottom: config → RobertaModel → heads → the architecture spec.
 *
 * What differs from BERT: position ids count real tokens from padding_idx + 1 (fairseq's make_positions: the
 * cumulative sum of the non-padding mask, plus pad_token_id; padding keeps position pad_token_id), so a left-padded
 * sequence gets the same positions as an unpadded one, and the position table has a padding row; one token type;
 * the masked-LM head is `lm_head.{dense, layer_norm, decoder, bias}` with the exact GELU; the classification head
 * reads the <s> token through `classifier.dense` + tanh + `classifier.out_proj`. Checkpoint names carry the
 * `roberta.` prefix.
 */
import type { Rng } from "../util/rng.js";
import { type Tensor, tanh } from "../tensor/index.js";
import { Dropout, LayerNorm, Linear, Module, Parameter } from "../nn/index.js";
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
  firstToken,
} from "./bert-encoder.js";
import { defineArchitecture } from "./architecture.js";

export { createPositionIdsFromInputIds } from "./bert-encoder.js";

// ---- config

export const ROBERTA_CONFIG = defineConfig("roberta", BERT_FIELDS, {
  baseDefaults: { pad_token_id: 1, bos_token_id: 0, eos_token_id: 2 },
  rule: headsDivide("hidden_size", "num_attention_heads"),
  parameters: bertParameters,
});
export type RobertaConfig = ConfigOfSchema<typeof ROBERTA_CONFIG>;

// ---- the model

abstract class RobertaPreTrainedModel extends BertFamilyPreTrainedModel<RobertaConfig> {
  static readonly configSchema = ROBERTA_CONFIG;
  static readonly baseModelPrefix = "roberta";
  static override readonly positionsFromPadding = true;
}

/** embeddings → encoder → pooler (BertFamilyModel); positions counted from padding_idx + 1. */
export class RobertaModel extends BertFamilyModel<RobertaConfig> {
  static readonly architecture = "RobertaModel";
  static readonly configSchema = ROBERTA_CONFIG;
  static readonly baseModelPrefix = "roberta";
  static override readonly positionsFromPadding = true;
}

// ---- heads

export class RobertaLMHead extends Module {
  dense: Linear;
  layer_norm: LayerNorm;
  decoder: Linear;
  /** The output bias; with tied embeddings the decoder's bias is this same parameter. */
  bias: Parameter;

  constructor(c: RobertaConfig, wordEmbeddings: Parameter, rng?: Rng) {
    super();
    this.dense = new Linear(c.hidden_size, c.hidden_size, { rng });
    this.layer_norm = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.decoder = new Linear(c.hidden_size, c.vocab_size, { rng });
    this.bias = Parameter.zeros([c.vocab_size]);
    if (c.tie_word_embeddings) {
      this.decoder.weight = wordEmbeddings;
      this.decoder.bias = this.bias;
    }
  }

  /** h [B, T, H] → logits [B, T, V]; the activation is always the exact GELU, whatever hidden_act says. */
  forward(h: Tensor): Tensor {
    return this.decoder.forward(this.layer_norm.forward(this.dense.forward(h, "gelu")));
  }
}

export class RobertaForMaskedLM extends RobertaPreTrainedModel {
  static readonly architecture = "RobertaForMaskedLM";
  roberta: RobertaModel;
  lm_head: RobertaLMHead;

  constructor(config: RobertaConfig, opts: ModelOptions = {}) {
    super(config);
    this.roberta = new RobertaModel(config, { rng: opts.rng, initWeights: false, addPoolingLayer: false });
    this.lm_head = new RobertaLMHead(config, this.roberta.embeddings.word_embeddings.weight, opts.rng);
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** labels [B, T] i32 with -100 where no prediction is scored. */
  forward(inputs: ModelInputs): LMOutput {
    const base = this.roberta.forward(inputs);
    return tokenOutput(this.lm_head.forward(base.lastHiddenState), inputs, base);
  }
}

export class RobertaClassificationHead extends Module {
  dense: Linear;
  dropout: Dropout;
  out_proj: Linear;

  constructor(c: RobertaConfig, rng?: Rng) {
    super();
    this.dense = new Linear(c.hidden_size, c.hidden_size, { rng });
    this.dropout = new Dropout(c.classifier_dropout ?? c.hidden_dropout_prob, rng);
    this.out_proj = new Linear(c.hidden_size, numLabels(c), { rng });
  }

  /** h [B, T, H] → logits [B, C] from the <s> token. */
  forward(h: Tensor): Tensor {
    const x = this.dropout.forward(firstToken(h));
    return this.out_proj.forward(this.dropout.forward(tanh(this.dense.forward(x))));
  }
}

export class RobertaForSequenceClassification extends RobertaPreTrainedModel {
  static readonly architecture = "RobertaForSequenceClassification";
  roberta: RobertaModel;
  classifier: RobertaClassificationHead;

  constructor(config: RobertaConfig, opts: ModelOptions = {}) {
    super(config);
    this.roberta = new RobertaModel(config, { rng: opts.rng, initWeights: false, addPoolingLayer: false });
    this.classifier = new RobertaClassificationHead(config, opts.rng);
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  forward(inputs: ModelInputs): ClassifierOutput {
    const base = this.roberta.forward(inputs);
    return sequenceClassifierOutput(this.classifier.forward(base.lastHiddenState), inputs, this.config, base);
  }
}

export class RobertaForTokenClassification extends RobertaPreTrainedModel {
  static readonly architecture = "RobertaForTokenClassification";
  roberta: RobertaModel;
  dropout: Dropout;
  classifier: Linear;

  constructor(config: RobertaConfig, opts: ModelOptions = {}) {
    super(config);
    this.roberta = new RobertaModel(config, { rng: opts.rng, initWeights: false, addPoolingLayer: false });
    this.dropout = new Dropout(config.classifier_dropout ?? config.hidden_dropout_prob, opts.rng);
    this.classifier = new Linear(config.hidden_size, numLabels(config), { rng: opts.rng });
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** logits [B, T, num_labels]; labels [B, T] i32 with -100 on positions not scored. */
  forward(inputs: ModelInputs): ClassifierOutput {
    const base = this.roberta.forward(inputs);
    return tokenOutput(this.classifier.forward(this.dropout.forward(base.lastHiddenState)), inputs, base);
  }
}

// ---- the architecture

export const ROBERTA = defineArchitecture<RobertaConfig>({
  config: ROBERTA_CONFIG,
  classPrefix: "Roberta",
  heads: {
    base: RobertaModel,
    "masked-lm": RobertaForMaskedLM,
    "sequence-classification": RobertaForSequenceClassification,
    "token-classification": RobertaForTokenClassification,
  },
  dropoutFields: BERT_DROPOUT_FIELDS,
  tokenTypes: false,
  maxPositions: (c) => c.max_position_embeddings,
  positionOffset: (c) => (c.pad_token_id ?? 0) + 1,
});
