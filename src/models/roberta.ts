/**
 * RoBERTa, as transformers' modeling_roberta.py computes it: BERT's encoder with other embeddings and heads.
 * transformers keeps a copy of BERT's layers in this file ("Copied from ...bert"); so does graft, so that each
 * architecture file reads on its own, top to bottom: embeddings → self-attention → layer → encoder → pooler →
 * RobertaModel → heads.
 *
 * What differs from BERT: position ids count real tokens from padding_idx + 1 (fairseq's make_positions: the
 * cumulative sum of the non-padding mask, plus pad_token_id; padding keeps position pad_token_id), so a left-padded
 * sequence gets the same positions as an unpadded one; one token type; the masked-LM head is
 * `lm_head.{dense, layer_norm, decoder, bias}` with the exact GELU; the classification head reads the <s> token
 * through `classifier.dense` + tanh + `classifier.out_proj`. Checkpoint names carry the `roberta.` prefix.
 */
import { ArgumentError, ShapeError } from "../util/errors.js";
import type { Rng } from "../util/rng.js";
import { Tensor, add, fill_, reshape, slice, tanh, zeros } from "../tensor/index.js";
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
import { numLabels, type RobertaConfig } from "../io/config.js";
import { PreTrainedModel, type ModelOptions } from "./pretrained.js";
import {
  attentionMaskFor,
  type AttentionMask,
  checkInputs,
  checkRange,
  type BaseModelOutput,
  type ClassifierOutput,
  type LMOutput,
  type ModelInputs,
} from "./interfaces.js";
import { sequenceClassificationLoss, tokenLoss } from "./losses.js";

function checkConfig(config: RobertaConfig): void {
  if (config.position_embedding_type !== "absolute") {
    throw new ArgumentError(
      `roberta: position_embedding_type "${config.position_embedding_type}" is not supported (graft implements "absolute", as transformers 5 does)`,
    );
  }
  if (config.pad_token_id === null)
    throw new ArgumentError("roberta: pad_token_id is needed (positions are counted from it)");
}

/** fairseq's make_positions: (cumsum(ids ≠ pad) + past) · (ids ≠ pad) + pad, per row. ids [B, T] → [B, T]. */
export function createPositionIdsFromInputIds(ids: Tensor, paddingIdx: number, pastLength = 0): Tensor {
  const [b, t] = ids.shape;
  const values = ids.toArray();
  const out = new Int32Array(b * t);
  for (let i = 0; i < b; i++) {
    let count = 0;
    for (let j = 0; j < t; j++) {
      const real = values[i * t + j] !== paddingIdx;
      if (real) count++;
      out[i * t + j] = (real ? count + pastLength : 0) + paddingIdx;
    }
  }
  return new Tensor(out, [b, t]);
}

// ---- embeddings

export class RobertaEmbeddings extends Module {
  word_embeddings: Embedding;
  token_type_embeddings: Embedding;
  LayerNorm: LayerNorm;
  dropout: Dropout;
  position_embeddings: Embedding;

  constructor(
    private readonly _config: RobertaConfig,
    rng?: Rng,
  ) {
    super();
    const c = _config;
    const pad = c.pad_token_id!;
    this.word_embeddings = new Embedding(c.vocab_size, c.hidden_size, { paddingIdx: pad, rng });
    this.token_type_embeddings = new Embedding(c.type_vocab_size, c.hidden_size, { rng });
    this.LayerNorm = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.dropout = new Dropout(c.hidden_dropout_prob, rng);
    this.position_embeddings = new Embedding(c.max_position_embeddings, c.hidden_size, { paddingIdx: pad, rng });
  }

  /** ids [B, T] → [B, T, H] */
  forward(ids: Tensor, tokenTypeIds: Tensor | null = null, positionIds: Tensor | null = null): Tensor {
    const [b, t] = ids.shape;
    const c = this._config;
    checkRange("roberta", "input id", ids, c.vocab_size);
    const pos = positionIds ?? createPositionIdsFromInputIds(ids, c.pad_token_id!);
    if (!positionIds) {
      let top = 0;
      for (const p of pos.toArray()) top = Math.max(top, p);
      if (top >= c.max_position_embeddings) {
        throw new ShapeError(
          `roberta: a sequence with ${top - c.pad_token_id!} real tokens needs position ${top}, beyond max_position_embeddings (${c.max_position_embeddings}, positions start after pad_token_id ${c.pad_token_id})`,
        );
      }
    }
    checkRange("roberta", "position id", pos, c.max_position_embeddings);
    const types = tokenTypeIds ?? zeros([b, t], "i32");
    checkRange("roberta", "token type id", types, c.type_vocab_size);
    let h = add(this.word_embeddings.forward(ids), this.token_type_embeddings.forward(types));
    h = add(h, this.position_embeddings.forward(pos));
    return this.dropout.forward(this.LayerNorm.forward(h));
  }
}

// ---- attention (BERT's)

export class RobertaSelfAttention extends Module {
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

export class RobertaSelfOutput extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  dropout: Dropout;

  constructor(c: RobertaConfig, rng?: Rng) {
    super();
    this.dense = new Linear(c.hidden_size, c.hidden_size, { rng });
    this.LayerNorm = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.dropout = new Dropout(c.hidden_dropout_prob, rng);
  }

  forward(h: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(add(this.dropout.forward(this.dense.forward(h)), residual));
  }
}

export class RobertaAttention extends Module {
  self: RobertaSelfAttention;
  output: RobertaSelfOutput;

  constructor(c: RobertaConfig, rng?: Rng) {
    super();
    this.self = new RobertaSelfAttention(c.num_attention_heads, c.hidden_size, c.attention_probs_dropout_prob, rng);
    this.output = new RobertaSelfOutput(c, rng);
  }

  forward(x: Tensor, mask: AttentionMask): Tensor {
    return this.output.forward(this.self.forward(x, mask), x);
  }
}

// ---- feed-forward, layer, encoder (BERT's)

export class RobertaIntermediate extends Module {
  dense: Linear;
  private readonly _act: KernelActivation;

  constructor(c: RobertaConfig, rng?: Rng) {
    super();
    this.dense = new Linear(c.hidden_size, c.intermediate_size, { rng });
    this._act = fusedActivation(c.hidden_act);
  }

  forward(x: Tensor): Tensor {
    return this.dense.forward(x, this._act);
  }
}

export class RobertaOutput extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  dropout: Dropout;

  constructor(c: RobertaConfig, rng?: Rng) {
    super();
    this.dense = new Linear(c.intermediate_size, c.hidden_size, { rng });
    this.LayerNorm = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.dropout = new Dropout(c.hidden_dropout_prob, rng);
  }

  forward(h: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(add(this.dropout.forward(this.dense.forward(h)), residual));
  }
}

export class RobertaLayer extends Module {
  attention: RobertaAttention;
  intermediate: RobertaIntermediate;
  output: RobertaOutput;

  constructor(c: RobertaConfig, rng?: Rng) {
    super();
    this.attention = new RobertaAttention(c, rng);
    this.intermediate = new RobertaIntermediate(c, rng);
    this.output = new RobertaOutput(c, rng);
  }

  forward(x: Tensor, mask: AttentionMask): Tensor {
    const a = this.attention.forward(x, mask);
    return this.output.forward(this.intermediate.forward(a), a);
  }
}

export class RobertaEncoder extends Module {
  layer: RobertaLayer[];

  constructor(c: RobertaConfig, rng?: Rng) {
    super();
    this.layer = Array.from({ length: c.num_hidden_layers }, () => new RobertaLayer(c, rng));
  }

  forward(x: Tensor, mask: AttentionMask): Tensor {
    let h = x;
    for (const l of this.layer) h = l.forward(h, mask);
    return h;
  }
}

export class RobertaPooler extends Module {
  dense: Linear;

  constructor(c: RobertaConfig, rng?: Rng) {
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

abstract class RobertaPreTrainedModel extends PreTrainedModel<RobertaConfig> {
  static readonly modelType = "roberta";
  static readonly baseModelPrefix = "roberta";
  protected readonly coreModules = ["embeddings", "encoder"];

  protected override get ignoredKeys(): readonly RegExp[] {
    return [/(^|\.)embeddings\.position_ids$/];
  }

  protected override paddingIdxOf(name: string): number | null {
    return name.endsWith("embeddings.word_embeddings") || name.endsWith("embeddings.position_embeddings")
      ? this.config.pad_token_id
      : null;
  }

  protected override initModule(
    name: string,
    m: Module,
    rng: Rng,
    fresh: (p: Parameter | null) => p is Parameter,
  ): void {
    super.initModule(name, m, rng, fresh);
    if (m instanceof RobertaLMHead && fresh(m.bias)) fill_(m.bias, 0);
  }
}

export class RobertaModel extends RobertaPreTrainedModel {
  static readonly architecture = "RobertaModel";
  embeddings: RobertaEmbeddings;
  encoder: RobertaEncoder;
  pooler: RobertaPooler | null;

  constructor(config: RobertaConfig, opts: ModelOptions & { addPoolingLayer?: boolean } = {}) {
    super(config);
    checkConfig(config);
    this.embeddings = new RobertaEmbeddings(config, opts.rng);
    this.encoder = new RobertaEncoder(config, opts.rng);
    this.pooler = opts.addPoolingLayer === false ? null : new RobertaPooler(config, opts.rng);
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  forward(inputs: ModelInputs): BaseModelOutput {
    const [b, t] = checkInputs(this.architecture, inputs);
    const h0 = this.embeddings.forward(inputs.inputIds, inputs.tokenTypeIds ?? null, inputs.positionIds ?? null);
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
    const logits = this.lm_head.forward(this.roberta.forward(inputs).lastHiddenState);
    return { logits, loss: inputs.labels ? tokenLoss(logits, inputs.labels) : null };
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
    const [b, , d] = h.shape;
    let x = this.dropout.forward(reshape(slice(h, 1, 0, 1), [b, d]));
    x = this.dropout.forward(tanh(this.dense.forward(x)));
    return this.out_proj.forward(x);
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
    const logits = this.classifier.forward(this.roberta.forward(inputs).lastHiddenState);
    return { logits, loss: inputs.labels ? sequenceClassificationLoss(logits, inputs.labels, this.config) : null };
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
    const logits = this.classifier.forward(this.dropout.forward(this.roberta.forward(inputs).lastHiddenState));
    return { logits, loss: inputs.labels ? tokenLoss(logits, inputs.labels) : null };
  }
}
