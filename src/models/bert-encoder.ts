/**
 * BERT's encoder, which BERT and RoBERTa share (transformers keeps a "Copied from" copy in modeling_roberta.py;
 * graft keeps one), read top to bottom: the config fields → embeddings → self-attention → layer → encoder → pooler →
 * the classes both families build on (BertFamilyPreTrainedModel: checkpoint layout, padding rows, initialization;
 * BertFamilyModel: the base model). Not a model file of its own: bert.ts and roberta.ts declare their configs,
 * base models and heads on it. Field names are
 * transformers' attribute names, so state-dict keys are checkpoint keys under either prefix:
 * `bert.encoder.layer.0.attention.self.query.weight`, `roberta.encoder.layer.0.attention.self.query.weight`, ...
 *
 * Details that decide equality with transformers: post-LN residual blocks with LayerNorm eps `layer_norm_eps`;
 * `hidden_act` "gelu" is the exact erf GELU; scores scaled by 1/√d_head; padding masked by adding the most
 * negative f32; token types zeros unless given; the pooler is tanh(dense(h[:, 0])).
 * The embeddings differ only by their positions: BERT counts 0..T-1; RoBERTa (`positionsFromPadding`) counts real
 * tokens from padding_idx + 1 (fairseq's make_positions), padding keeps position padding_idx, and its position
 * table has a padding row.
 */
import { ArgumentError, ShapeError } from "../util/errors.js";
import type { Rng } from "../util/rng.js";
import { type Tensor, add, reshape, slice, tanh, tensor, zeros } from "../tensor/index.js";
import type { Activation as KernelActivation } from "../backend/index.js";
import { Dropout, Embedding, LayerNorm, Linear, Module, Parameter, fusedActivation, init } from "../nn/index.js";
import {
  type BaseConfig,
  type FieldTypes,
  bool,
  field,
  nonNegInt,
  nullable,
  oneOf,
  posInt,
  positive,
  prob,
  str,
} from "../io/config.js";
import {
  type AttentionMask,
  type BaseModelOutput,
  type LayerStep,
  type ModelInputs,
  attentionMaskFor,
  checkInputs,
  checkRange,
  positionRange,
  runLayers,
  selfAttention,
} from "./interfaces.js";
import { PreTrainedModel, type ModelOptions } from "./pretrained.js";

// ---- config

/** BertConfig's fields and defaults; RobertaConfig has the same (only model_type and the special token ids differ). */
export const BERT_FIELDS = {
  vocab_size: field(posInt, 30522),
  hidden_size: field(posInt, 768),
  num_hidden_layers: field(nonNegInt, 12),
  num_attention_heads: field(posInt, 12),
  intermediate_size: field(posInt, 3072),
  hidden_act: field(str, "gelu"),
  hidden_dropout_prob: field(prob, 0.1),
  attention_probs_dropout_prob: field(prob, 0.1),
  max_position_embeddings: field(posInt, 512),
  type_vocab_size: field(posInt, 2),
  initializer_range: field(positive, 0.02),
  layer_norm_eps: field(positive, 1e-12),
  position_embedding_type: field(oneOf("absolute", "relative_key", "relative_key_query"), "absolute"),
  use_cache: field(bool, true),
  classifier_dropout: field(nullable(prob), null),
};

export type BertFamilyConfig = BaseConfig & FieldTypes<typeof BERT_FIELDS>;

/** Parameters of a BertModel / RobertaModel (embeddings, layers, pooler), counted from the config's sizes. */
export function bertParameters(c: BertFamilyConfig): number {
  const { vocab_size: v, hidden_size: h, intermediate_size: i, max_position_embeddings: p, type_vocab_size: t } = c;
  const layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h;
  return (v + p + t) * h + 2 * h + c.num_hidden_layers * layer + (h * h + h);
}

/** Dropout fields of BERT-family configs, by role. */
export const BERT_DROPOUT_FIELDS = {
  hidden: ["hidden_dropout_prob"],
  attention: ["attention_probs_dropout_prob"],
  classifier: ["classifier_dropout"],
};

/** What graft implements of a BERT-family config. */
function checkBertConfig(config: BertFamilyConfig): void {
  const type = config.model_type;
  if (config.position_embedding_type !== "absolute") {
    throw new ArgumentError(
      `${type}: position_embedding_type "${config.position_embedding_type}" is not supported (graft implements "absolute", as transformers 5 does)`,
    );
  }
}

/** fairseq's make_positions: (cumsum(ids ≠ pad) + past) · (ids ≠ pad) + pad, per row. ids [B, T] → [B, T]. */
export function createPositionIdsFromInputIds(ids: Tensor, paddingIdx: number, pastLength = 0): Tensor {
  const [b, t] = ids.shape;
  const d = ids.toArray();
  const out = new Int32Array(b * t);
  for (let i = 0; i < b; i++) {
    let count = 0;
    for (let j = 0; j < t; j++) {
      const real = d[i * t + j] !== paddingIdx;
      if (real) count++;
      out[i * t + j] = (real ? count + pastLength : 0) + paddingIdx;
    }
  }
  return tensor(out, [b, t], { dtype: "i32" });
}

// ---- embeddings

export class BertEmbeddings extends Module {
  word_embeddings: Embedding;
  position_embeddings: Embedding;
  token_type_embeddings: Embedding;
  LayerNorm: LayerNorm;
  dropout: Dropout;
  /** RoBERTa's positions: counted from padding_idx + 1 over real tokens (null: 0..T-1, as BERT). */
  private readonly _positionPad: number | null;

  constructor(
    private readonly _config: BertFamilyConfig,
    opts: { positionsFromPadding?: boolean; rng?: Rng } = {},
  ) {
    super();
    const c = _config;
    const rng = opts.rng;
    this._positionPad = opts.positionsFromPadding ? c.pad_token_id : null;
    if (opts.positionsFromPadding && c.pad_token_id === null)
      throw new ArgumentError(`${c.model_type}: pad_token_id is needed (positions are counted from it)`);
    this.word_embeddings = new Embedding(c.vocab_size, c.hidden_size, { paddingIdx: c.pad_token_id ?? undefined, rng });
    this.position_embeddings = new Embedding(c.max_position_embeddings, c.hidden_size, {
      paddingIdx: this._positionPad ?? undefined,
      rng,
    });
    this.token_type_embeddings = new Embedding(c.type_vocab_size, c.hidden_size, { rng });
    this.LayerNorm = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.dropout = new Dropout(c.hidden_dropout_prob, rng);
  }

  /** ids [B, T] → [B, T, H] */
  forward(ids: Tensor, tokenTypeIds: Tensor | null = null, positionIds: Tensor | null = null): Tensor {
    const [b, t] = ids.shape;
    const c = this._config;
    const type = c.model_type;
    checkRange(type, "input id", ids, c.vocab_size);
    const pos = positionIds ?? this.positions(ids);
    checkRange(type, "position id", pos, c.max_position_embeddings);
    const types = tokenTypeIds ?? zeros([b, t], "i32");
    checkRange(type, "token type id", types, c.type_vocab_size);
    let h = add(this.word_embeddings.forward(ids), this.token_type_embeddings.forward(types));
    h = add(h, this.position_embeddings.forward(pos)); // [1 or B, T, H] broadcasts over the batch
    return this.dropout.forward(this.LayerNorm.forward(h));
  }

  /** The default positions of ids [B, T]: [1, T] from 0 (BERT), or [B, T] counted from padding (RoBERTa). */
  private positions(ids: Tensor): Tensor {
    const c = this._config;
    const pad = this._positionPad;
    if (pad === null) {
      const t = ids.shape[1];
      if (t > c.max_position_embeddings)
        throw new ShapeError(
          `${c.model_type}: a sequence of ${t} tokens is longer than max_position_embeddings (${c.max_position_embeddings})`,
        );
      return positionRange(t);
    }
    const pos = createPositionIdsFromInputIds(ids, pad);
    const top = Math.max(...pos.toArray());
    if (top >= c.max_position_embeddings) {
      throw new ShapeError(
        `${c.model_type}: a sequence with ${top - pad} real tokens needs position ${top}, beyond max_position_embeddings (${c.max_position_embeddings}, positions start after pad_token_id ${pad})`,
      );
    }
    return pos;
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

  /** x [B, T, H] → context [B, T, H] (padding and causal masks in `mask`), and the probabilities when asked */
  forward(x: Tensor, mask: AttentionMask, outputAttentions = false): LayerStep {
    const proj = { q: this.query, k: this.key, v: this.value };
    return selfAttention(x, proj, this._heads, mask, { dropout: this.dropout, outputAttentions });
  }
}

/** dense → dropout → LayerNorm(· + residual): the output of both the attention and the feed-forward sublayer. */
export class BertResidualOutput extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  dropout: Dropout;

  constructor(c: BertFamilyConfig, inFeatures: number, rng?: Rng) {
    super();
    this.dense = new Linear(inFeatures, c.hidden_size, { rng });
    this.LayerNorm = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.dropout = new Dropout(c.hidden_dropout_prob, rng);
  }

  forward(h: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(add(this.dropout.forward(this.dense.forward(h)), residual));
  }
}

export class BertAttention extends Module {
  self: BertSelfAttention;
  output: BertResidualOutput;

  constructor(c: BertFamilyConfig, rng?: Rng) {
    super();
    this.self = new BertSelfAttention(c.num_attention_heads, c.hidden_size, c.attention_probs_dropout_prob, rng);
    this.output = new BertResidualOutput(c, c.hidden_size, rng);
  }

  forward(x: Tensor, mask: AttentionMask, outputAttentions = false): LayerStep {
    const a = this.self.forward(x, mask, outputAttentions);
    return { output: this.output.forward(a.output, x), attention: a.attention };
  }
}

// ---- feed-forward, layer, encoder

export class BertIntermediate extends Module {
  dense: Linear;
  private readonly _act: KernelActivation;

  constructor(c: BertFamilyConfig, rng?: Rng) {
    super();
    this.dense = new Linear(c.hidden_size, c.intermediate_size, { rng });
    this._act = fusedActivation(c.hidden_act);
  }

  forward(x: Tensor): Tensor {
    return this.dense.forward(x, this._act);
  }
}

export class BertLayer extends Module {
  attention: BertAttention;
  intermediate: BertIntermediate;
  output: BertResidualOutput;

  constructor(c: BertFamilyConfig, rng?: Rng) {
    super();
    this.attention = new BertAttention(c, rng);
    this.intermediate = new BertIntermediate(c, rng);
    this.output = new BertResidualOutput(c, c.intermediate_size, rng);
  }

  forward(x: Tensor, mask: AttentionMask, outputAttentions = false): LayerStep {
    const a = this.attention.forward(x, mask, outputAttentions);
    return { output: this.output.forward(this.intermediate.forward(a.output), a.output), attention: a.attention };
  }
}

export class BertEncoder extends Module {
  layer: BertLayer[];

  constructor(c: BertFamilyConfig, rng?: Rng) {
    super();
    this.layer = Array.from({ length: c.num_hidden_layers }, () => new BertLayer(c, rng));
  }

  forward(x: Tensor, mask: AttentionMask, want: { outputHiddenStates?: boolean; outputAttentions?: boolean } = {}) {
    return runLayers(x, this.layer, (l, h) => l.forward(h, mask, want.outputAttentions), want);
  }
}

export class BertPooler extends Module {
  dense: Linear;

  constructor(c: BertFamilyConfig, rng?: Rng) {
    super();
    this.dense = new Linear(c.hidden_size, c.hidden_size, { rng });
  }

  /** h [B, T, H] → tanh(dense(h[:, 0])) [B, H] */
  forward(h: Tensor): Tensor {
    return tanh(this.dense.forward(firstToken(h)));
  }
}

/** h [B, T, H] → h[:, 0] [B, H] (the [CLS] / <s> token). */
export function firstToken(h: Tensor): Tensor {
  const [b, , d] = h.shape;
  return reshape(slice(h, 1, 0, 1), [b, d]);
}

// ---- the classes BERT and RoBERTa build on

/** What a BERT-family class declares: its config, checkpoint prefix, and how it counts positions. */
interface BertFamilyClass {
  /** RoBERTa counts positions from padding_idx, so its position table has a padding row too. */
  readonly positionsFromPadding: boolean;
}

/** The backbone's checkpoint layout, padding rows and initialization, for every BERT and RoBERTa class. */
export abstract class BertFamilyPreTrainedModel<C extends BertFamilyConfig> extends PreTrainedModel<C> {
  static readonly positionsFromPadding: boolean = false;
  protected readonly coreModules = ["embeddings", "encoder"];

  protected get positionsFromPadding(): boolean {
    return (this.constructor as unknown as BertFamilyClass).positionsFromPadding;
  }

  protected override get ignoredKeys(): readonly RegExp[] {
    return [/(^|\.)embeddings\.position_ids$/];
  }

  protected override paddingIdxOf(name: string): number | null {
    return name.endsWith("embeddings.word_embeddings") ||
      (this.positionsFromPadding && name.endsWith("embeddings.position_embeddings"))
      ? this.config.pad_token_id
      : null;
  }

  /** Besides the common layers: a masked-LM head's own output bias (`cls.predictions.bias`, `lm_head.bias`) starts at 0. */
  protected override initModule(
    name: string,
    m: Module,
    rng: Rng,
    fresh: (p: Parameter | null) => p is Parameter,
  ): void {
    super.initModule(name, m, rng, fresh);
    const bias = (m as { bias?: unknown }).bias;
    if (!(m instanceof Linear || m instanceof LayerNorm) && bias instanceof Parameter && fresh(bias))
      init.constant_(bias, 0);
  }
}

/** BertModel and RobertaModel: embeddings → encoder → pooler. */
export abstract class BertFamilyModel<C extends BertFamilyConfig> extends BertFamilyPreTrainedModel<C> {
  embeddings: BertEmbeddings;
  encoder: BertEncoder;
  pooler: BertPooler | null;

  constructor(config: C, opts: ModelOptions & { addPoolingLayer?: boolean } = {}) {
    super(config);
    checkBertConfig(config);
    this.embeddings = new BertEmbeddings(config, { positionsFromPadding: this.positionsFromPadding, rng: opts.rng });
    this.encoder = new BertEncoder(config, opts.rng);
    this.pooler = opts.addPoolingLayer === false ? null : new BertPooler(config, opts.rng);
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /**
   * lastHiddenState [B, T, H], poolerOutput [B, H] (null without a pooler); hiddenStates and attentions when asked.
   * The mask is the padding mask, or for a decoder config (is_decoder) the causal one.
   */
  forward(inputs: ModelInputs): BaseModelOutput {
    checkInputs(this.architecture, inputs);
    const h0 = this.embeddings.forward(inputs.inputIds, inputs.tokenTypeIds ?? null, inputs.positionIds ?? null);
    const out = encodeEmbedded(this.encoder, h0, inputs, this.config.is_decoder);
    return { ...out, poolerOutput: this.pooler ? this.pooler.forward(out.lastHiddenState) : null };
  }
}

/**
 * The encoder over embedded inputs h0 [B, T, H] under the padding mask of `inputs`, or for a decoder config
 * (is_decoder) the causal one: what every BERT-family model (ELECTRA's too) runs after its embeddings.
 */
export function encodeEmbedded(
  encoder: BertEncoder,
  h0: Tensor,
  inputs: ModelInputs,
  isDecoder: boolean,
): Omit<BaseModelOutput, "poolerOutput"> {
  const [b, t] = h0.shape;
  const mask = attentionMaskFor({
    batch: b,
    queryLen: t,
    keyLen: t,
    paddingMask: inputs.attentionMask ?? null,
    causal: isDecoder,
  });
  return encoder.forward(h0, mask, inputs);
}
