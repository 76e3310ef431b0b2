/**
 * BERT, as transformers' modeling_bert.py computes it, read top to bottom: embeddings → self-attention → layer →
 * encoder → pooler → BertModel → heads (masked LM, sequence classification, token classification).
 * Field names are transformers' attribute names, so state-dict keys are checkpoint keys:
 * `bert.encoder.layer.0.attention.self.query.weight`, `cls.predictions.transform.LayerNorm.bias`, ...
 *
 * Details that decide equality with transformers: post-LN residual blocks with LayerNorm eps `layer_norm_eps`
 * (1e-12); `hidden_act` "gelu" is the exact erf GELU; scores scaled by 1/√d_head; padding masked by adding the most
 * negative f32 ((1 - mask) · finfo.min); positions 0..T-1; token types zeros unless given; the pooler is
 * tanh(dense(h[:, 0])); the MLM decoder shares the word-embedding matrix and its bias is `cls.predictions.bias`.
 */
import { ArgumentError, ShapeError } from "../util/errors.js";
import type { Rng } from "../util/rng.js";
import { type Tensor, add, fill_, reshape, slice, tanh, zeros } from "../tensor/index.js";
import type { Activation as KernelActivation } from "../backend/index.js";
import {
  Dropout,
  Embedding,
  LayerNorm,
  Linear,
  Module,
  Parameter,
  fusedActivation,
  mergeHeads,
  scaledDotProductAttention,
  splitHeads,
} from "../nn/index.js";
import { numLabels, type BertConfig } from "../io/config.js";
import { PreTrainedModel, type ModelOptions } from "./pretrained.js";
import {
  attentionMaskFor,
  type AttentionMask,
  checkInputs,
  checkRange,
  positionRange,
  type BaseModelOutput,
  type ClassifierOutput,
  type LMOutput,
  type ModelInputs,
} from "./interfaces.js";
import { sequenceClassificationLoss, tokenLoss } from "./losses.js";

function checkConfig(config: BertConfig): void {
  if (config.position_embedding_type !== "absolute") {
    throw new ArgumentError(
      `bert: position_embedding_type "${config.position_embedding_type}" is not supported (graft implements "absolute", as transformers 5 does)`,
    );
  }
}

// ---- embeddings

export class BertEmbeddings extends Module {
  word_embeddings: Embedding;
  position_embeddings: Embedding;
  token_type_embeddings: Embedding;
  LayerNorm: LayerNorm;
  dropout: Dropout;

  constructor(
    private readonly _config: BertConfig,
    rng?: Rng,
  ) {
    super();
    const c = _config;
    this.word_embeddings = new Embedding(c.vocab_size, c.hidden_size, { paddingIdx: c.pad_token_id ?? undefined, rng });
    this.position_embeddings = new Embedding(c.max_position_embeddings, c.hidden_size, { rng });
    this.token_type_embeddings = new Embedding(c.type_vocab_size, c.hidden_size, { rng });
    this.LayerNorm = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.dropout = new Dropout(c.hidden_dropout_prob, rng);
  }

  /** ids [B, T] → [B, T, H] */
  forward(ids: Tensor, tokenTypeIds: Tensor | null = null, positionIds: Tensor | null = null): Tensor {
    const [b, t] = ids.shape;
    const c = this._config;
    checkRange("bert", "input id", ids, c.vocab_size);
    if (!positionIds && t > c.max_position_embeddings)
      throw new ShapeError(
        `bert: a sequence of ${t} tokens is longer than max_position_embeddings (${c.max_position_embeddings})`,
      );
    const pos = positionIds ?? positionRange(t);
    checkRange("bert", "position id", pos, c.max_position_embeddings);
    const types = tokenTypeIds ?? zeros([b, t], "i32");
    checkRange("bert", "token type id", types, c.type_vocab_size);
    let h = add(this.word_embeddings.forward(ids), this.token_type_embeddings.forward(types));
    h = add(h, this.position_embeddings.forward(pos)); // [1 or B, T, H] broadcasts over the batch
    return this.dropout.forward(this.LayerNorm.forward(h));
  }
}

// ---- attention

export class BertSelfAttention extends Module {
  query: Linear;
  key: Linear;
  value: Linear;
  dropout: Dropout;

  constructor(
    private readonly _heads: number,
    hidden: number,
    dropout: number,
    rng?: Rng,
  ) {
    super();
    this.query = new Linear(hidden, hidden, { rng });
    this.key = new Linear(hidden, hidden, { rng });
    this.value = new Linear(hidden, hidden, { rng });
    this.dropout = new Dropout(dropout, rng);
  }

  /** x [B, T, H] → context [B, T, H] (padding and causal masks in `mask`) */
  forward(x: Tensor, mask: AttentionMask): Tensor {
    const q = splitHeads(this.query.forward(x), this._heads); // [B, nh, T, dh]
    const k = splitHeads(this.key.forward(x), this._heads);
    const v = splitHeads(this.value.forward(x), this._heads);
    return mergeHeads(
      scaledDotProductAttention(q, k, v, { keep: mask.keep, causal: mask.causal, dropout: this.dropout }),
    );
  }
}

export class BertSelfOutput extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  dropout: Dropout;

  constructor(c: BertConfig, rng?: Rng) {
    super();
    this.dense = new Linear(c.hidden_size, c.hidden_size, { rng });
    this.LayerNorm = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.dropout = new Dropout(c.hidden_dropout_prob, rng);
  }

  forward(h: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(add(this.dropout.forward(this.dense.forward(h)), residual));
  }
}

export class BertAttention extends Module {
  self: BertSelfAttention;
  output: BertSelfOutput;

  constructor(c: BertConfig, rng?: Rng) {
    super();
    this.self = new BertSelfAttention(c.num_attention_heads, c.hidden_size, c.attention_probs_dropout_prob, rng);
    this.output = new BertSelfOutput(c, rng);
  }

  forward(x: Tensor, mask: AttentionMask): Tensor {
    return this.output.forward(this.self.forward(x, mask), x);
  }
}

// ---- feed-forward, layer, encoder

export class BertIntermediate extends Module {
  dense: Linear;
  private readonly _act: KernelActivation;

  constructor(c: BertConfig, rng?: Rng) {
    super();
    this.dense = new Linear(c.hidden_size, c.intermediate_size, { rng });
    this._act = fusedActivation(c.hidden_act);
  }

  forward(x: Tensor): Tensor {
    return this.dense.forward(x, this._act);
  }
}

export class BertOutput extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  dropout: Dropout;

  constructor(c: BertConfig, rng?: Rng) {
    super();
    this.dense = new Linear(c.intermediate_size, c.hidden_size, { rng });
    this.LayerNorm = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.dropout = new Dropout(c.hidden_dropout_prob, rng);
  }

  forward(h: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(add(this.dropout.forward(this.dense.forward(h)), residual));
  }
}

export class BertLayer extends Module {
  attention: BertAttention;
  intermediate: BertIntermediate;
  output: BertOutput;

  constructor(c: BertConfig, rng?: Rng) {
    super();
    this.attention = new BertAttention(c, rng);
    this.intermediate = new BertIntermediate(c, rng);
    this.output = new BertOutput(c, rng);
  }

  forward(x: Tensor, mask: AttentionMask): Tensor {
    const a = this.attention.forward(x, mask);
    return this.output.forward(this.intermediate.forward(a), a);
  }
}

export class BertEncoder extends Module {
  layer: BertLayer[];

  constructor(c: BertConfig, rng?: Rng) {
    super();
    this.layer = Array.from({ length: c.num_hidden_layers }, () => new BertLayer(c, rng));
  }

  forward(x: Tensor, mask: AttentionMask): Tensor {
    let h = x;
    for (const l of this.layer) h = l.forward(h, mask);
    return h;
  }
}

export class BertPooler extends Module {
  dense: Linear;

  constructor(c: BertConfig, rng?: Rng) {
    super();
    this.dense = new Linear(c.hidden_size, c.hidden_size, { rng });
  }

  /** h [B, T, H] → tanh(dense(h[:, 0])) [B, H] */
  forward(h: Tensor): Tensor {
    const [b, , d] = h.shape;
    return tanh(this.dense.forward(reshape(slice(h, 1, 0, 1), [b, d])));
  }
}

// ---- the model

/** Common to every BERT class: the base prefix, the backbone and transformers' initialization. */
abstract class BertPreTrainedModel extends PreTrainedModel<BertConfig> {
  static readonly modelType = "bert";
  static readonly baseModelPrefix = "bert";
  protected readonly coreModules = ["embeddings", "encoder"];

  protected override get ignoredKeys(): readonly RegExp[] {
    return [/(^|\.)embeddings\.position_ids$/];
  }

  protected override paddingIdxOf(name: string): number | null {
    return name.endsWith("embeddings.word_embeddings") ? this.config.pad_token_id : null;
  }

  protected override initModule(
    name: string,
    m: Module,
    rng: Rng,
    fresh: (p: Parameter | null) => p is Parameter,
  ): void {
    super.initModule(name, m, rng, fresh);
    if (m instanceof BertLMPredictionHead && fresh(m.bias)) fill_(m.bias, 0);
  }
}

export class BertModel extends BertPreTrainedModel {
  static readonly architecture = "BertModel";
  embeddings: BertEmbeddings;
  encoder: BertEncoder;
  pooler: BertPooler | null;

  constructor(config: BertConfig, opts: ModelOptions & { addPoolingLayer?: boolean } = {}) {
    super(config);
    checkConfig(config);
    this.embeddings = new BertEmbeddings(config, opts.rng);
    this.encoder = new BertEncoder(config, opts.rng);
    this.pooler = opts.addPoolingLayer === false ? null : new BertPooler(config, opts.rng);
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  forward(inputs: ModelInputs): BaseModelOutput {
    const [b, t] = checkInputs(this.architecture, inputs);
    const h0 = this.embeddings.forward(inputs.inputIds, inputs.tokenTypeIds ?? null, inputs.positionIds ?? null);
    // [B, 1, 1, T] additive padding mask (causal [B, 1, T, T] for a decoder config)
    const mask = attentionMaskFor({
      batch: b,
      queryLen: t,
      keyLen: t,
      paddingMask: inputs.attentionMask ?? null,
      causal: this.config.is_decoder,
    });
    const h = this.encoder.forward(h0, mask);
    return { lastHiddenState: h, poolerOutput: this.pooler ? this.pooler.forward(h) : null };
  }
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

  /** h [B, T, H] → logits [B, T, V] */
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
    const h = this.bert.forward(inputs).lastHiddenState;
    const logits = this.cls.predictions.forward(h);
    return { logits, loss: inputs.labels ? tokenLoss(logits, inputs.labels) : null };
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
    const pooled = this.bert.forward(inputs).poolerOutput!;
    const logits = this.classifier.forward(this.dropout.forward(pooled));
    return { logits, loss: inputs.labels ? sequenceClassificationLoss(logits, inputs.labels, this.config) : null };
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
    const h = this.bert.forward(inputs).lastHiddenState;
    const logits = this.classifier.forward(this.dropout.forward(h));
    return { logits, loss: inputs.labels ? tokenLoss(logits, inputs.labels) : null };
  }
}
