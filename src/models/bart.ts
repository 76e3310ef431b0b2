/**
 * BART, as transformers' modeling_bart.py computes it, read top to bottom: config → embeddings (scaled word
 * embeddings, learned positions) → attention (self and cross, with a key/value cache) → encoder layer → decoder
 * layer → encoder → decoder → BartModel → BartForConditionalGeneration → the architecture spec.
 * Names: `model.{shared, encoder.{embed_tokens, embed_positions, layers.N.{self_attn.{k,v,q,out}_proj,
 * self_attn_layer_norm, fc1, fc2, final_layer_norm}, layernorm_embedding}, decoder.{..., layers.N.{self_attn,
 * self_attn_layer_norm, encoder_attn, encoder_attn_layer_norm, fc1, fc2, final_layer_norm}}}`, `final_logits_bias`,
 * `lm_head`.
 *
 * Details that decide equality with transformers: one word-embedding matrix (`model.shared`) is the encoder's and
 * the decoder's `embed_tokens` and the LM head's weight (saved once, as `model.shared.weight`); word embeddings are
 * multiplied by √d_model when scale_embedding is set; positions are learned, looked up at position + 2 (fairseq's
 * offset; the table has max_position_embeddings + 2 rows) and in the decoder continue from the cached length;
 * `layernorm_embedding` normalizes the embeddings' sum, and the layers are post-LN (residual add, then LayerNorm)
 * with LayerNorm eps 1e-5; attention scores are scaled by head_dim^-0.5; the encoder's padding masks the decoder's
 * cross-attention keys; `activation_function` (exact-erf "gelu" by default) runs fused into fc1; dropout after
 * attention and feed-forward outputs, attention_dropout on the attention probabilities, activation_dropout after
 * the activation; final_logits_bias ([1, V], a buffer in transformers: saved, not trained) is added to the logits.
 * The padding row of the word embeddings gets no gradient from the embedding lookup (nn.Embedding's padding_idx),
 * while the LM head still trains it, as in PyTorch.
 * Without decoderInputIds, the decoder reads the labels shifted right (or, without labels, the inputs shifted right,
 * as BartModel does for denoising); -100 labels are ignored by the loss.
 */
import { ArgumentError, ShapeError, fmtShape } from "../util/errors.js";
import { defaultRng, type Rng } from "../util/rng.js";
import { Tensor, add, concat, embedding, isGradEnabled, reshape, scale, where } from "../tensor/index.js";
import type { Activation as KernelActivation } from "../backend/index.js";
import {
  Dropout,
  Embedding,
  LayerNorm,
  Linear,
  Module,
  Parameter,
  fusedActivation,
  init,
  mergeHeads,
  splitHeads,
} from "../nn/index.js";
import {
  type ConfigOfSchema,
  bool,
  defineConfig,
  field,
  int,
  nonNegInt,
  numLabels,
  nullable,
  posInt,
  positive,
  prob,
  str,
} from "../io/config.js";
import { PreTrainedModel, type ModelOptions } from "./pretrained.js";
import {
  attend,
  attentionMaskFor,
  type AttentionMask,
  checkRange,
  type ClassifierOutput,
  type ModelInputs,
  positionRange,
  runLayers,
  selectRows,
} from "./interfaces.js";
import { sequenceClassifierOutput, tokenLoss } from "./losses.js";
import {
  type EncoderOutput,
  type Seq2SeqLM,
  type Seq2SeqLMInputs,
  type Seq2SeqLMOutput,
  shiftTokensRight,
} from "./seq2seq.js";
import { defineArchitecture } from "./architecture.js";

// ---- config

export const BART_CONFIG = defineConfig(
  "bart",
  {
    vocab_size: field(posInt, 50265),
    max_position_embeddings: field(posInt, 1024),
    encoder_layers: field(nonNegInt, 12),
    encoder_ffn_dim: field(posInt, 4096),
    encoder_attention_heads: field(posInt, 16),
    decoder_layers: field(nonNegInt, 12),
    decoder_ffn_dim: field(posInt, 4096),
    decoder_attention_heads: field(posInt, 16),
    encoder_layerdrop: field(prob, 0, { float: true }),
    decoder_layerdrop: field(prob, 0, { float: true }),
    activation_function: field(str, "gelu"),
    d_model: field(posInt, 1024),
    dropout: field(prob, 0.1),
    attention_dropout: field(prob, 0),
    activation_dropout: field(prob, 0),
    init_std: field(positive, 0.02, { float: true }),
    classifier_dropout: field(prob, 0),
    /** Multiply word embeddings by √d_model. */
    scale_embedding: field(bool, false),
    use_cache: field(bool, true),
    is_encoder_decoder: field(bool, true),
    decoder_start_token_id: field(nullable(int), 2),
    /** The token forced first after decoder_start_token_id (BART checkpoints: bos, 0); transformers 5 keeps it in generation_config.json. */
    forced_bos_token_id: field(nullable(int), null),
    /** The token forced when the length limit is reached. */
    forced_eos_token_id: field(nullable(int), 2),
  },
  {
    baseDefaults: { pad_token_id: 1, bos_token_id: 0, eos_token_id: 2 },
    aliases: {
      hidden_size: "d_model",
      num_attention_heads: "encoder_attention_heads",
      num_hidden_layers: "encoder_layers",
    },
    rule: (c) => {
      for (const heads of ["encoder_attention_heads", "decoder_attention_heads"] as const)
        if (c.d_model % c[heads] !== 0) return `d_model (${c.d_model}) must be a multiple of ${heads} (${c[heads]})`;
      return null;
    },
    // shared, two position tables, two layernorm_embedding; per encoder layer attention (4 projections), FFN, two
    // LayerNorms; per decoder layer two attentions, FFN, three LayerNorms
    parameters: (c) => {
      const h = c.d_model;
      const attn = 4 * (h * h + h);
      const enc = attn + (h * c.encoder_ffn_dim + c.encoder_ffn_dim) + (c.encoder_ffn_dim * h + h) + 4 * h;
      const dec = 2 * attn + (h * c.decoder_ffn_dim + c.decoder_ffn_dim) + (c.decoder_ffn_dim * h + h) + 6 * h;
      return (
        c.vocab_size * h +
        2 * (c.max_position_embeddings + 2) * h +
        4 * h +
        c.encoder_layers * enc +
        c.decoder_layers * dec
      );
    },
  },
);
export type BartConfig = ConfigOfSchema<typeof BART_CONFIG>;

/** fairseq's position offset: position p is row p + 2 of the position table. */
const POSITION_OFFSET = 2;

/** One decoder layer's cache: self-attention keys/values so far, and the cross-attention keys/values of the encoder output ([B, nh, T, dh] each). */
export interface BartLayerCache {
  selfKey: Tensor;
  selfValue: Tensor;
  crossKey: Tensor;
  crossValue: Tensor;
}

/** Every decoder layer's cache; the target length seen so far is selfKey.shape[2]. */
export type BartCache = BartLayerCache[];

export type BartInputs = Seq2SeqLMInputs<BartCache>;

// ---- embeddings

/** Word embeddings times embed_scale (√d_model with scale_embedding); the padding row gets no lookup gradient. */
export class BartScaledWordEmbedding extends Embedding {
  constructor(
    numEmbeddings: number,
    embeddingDim: number,
    private readonly _paddingIdxOrNull: number | null,
    private readonly _embedScale: number,
    rng?: Rng,
  ) {
    super(numEmbeddings, embeddingDim, { paddingIdx: _paddingIdxOrNull ?? undefined, rng });
  }

  /** ids [B, T] i32 → [B, T, H] */
  override forward(ids: Tensor): Tensor {
    let h = embedding(ids, this.weight);
    if (this._embedScale !== 1) h = scale(h, this._embedScale);
    const pad = this._paddingIdxOrNull;
    if (pad !== null && this.weight.requiresGrad && isGradEnabled()) {
      // nn.Embedding(padding_idx): the same values, but the lookups of the padding id send no gradient to its row
      const d = ids.toArray();
      if (d.includes(pad)) {
        const isPad = new Float32Array(d.length);
        for (let i = 0; i < d.length; i++) isPad[i] = d[i] === pad ? 1 : 0;
        h = where(new Tensor(isPad, [...ids.shape, 1]), h.detach(), h);
      }
    }
    return h;
  }
}

/** Learned positions, max_position_embeddings + 2 rows, position p read at row p + 2. */
export class BartLearnedPositionalEmbedding extends Embedding {
  constructor(maxPositions: number, embeddingDim: number, rng?: Rng) {
    super(maxPositions + POSITION_OFFSET, embeddingDim, { rng });
  }

  /** Positions start..start+T-1 → [1, T, H] */
  at(t: number, start: number): Tensor {
    return embedding(positionRange(t, start + POSITION_OFFSET), this.weight);
  }
}

// ---- attention

/** What an attention layer gives: its output, the keys/values it attended to, its probabilities when asked. */
interface BartAttentionOutput {
  output: Tensor;
  key: Tensor;
  value: Tensor;
  attention: Tensor | null;
}

export class BartAttention extends Module {
  k_proj: Linear;
  v_proj: Linear;
  q_proj: Linear;
  out_proj: Linear;
  attn_dropout: Dropout;
  private readonly _heads: number;
  private readonly _scale: number;

  constructor(dim: number, heads: number, dropout: number, rng?: Rng) {
    super();
    this._heads = heads;
    this._scale = (dim / heads) ** -0.5;
    this.k_proj = new Linear(dim, dim, { rng });
    this.v_proj = new Linear(dim, dim, { rng });
    this.q_proj = new Linear(dim, dim, { rng });
    this.out_proj = new Linear(dim, dim, { rng });
    this.attn_dropout = new Dropout(dropout, rng);
  }

  /**
   * x [B, T, H] → [B, T, H]. Self-attention (source null): keys/values from x, appended to `past` ([B, nh, T_past,
   * dh]). Cross-attention: keys/values from source [B, S, H], or `past` as it is once computed.
   */
  forward(
    x: Tensor,
    source: Tensor | null,
    mask: AttentionMask,
    past: { key: Tensor; value: Tensor } | null,
    outputAttentions = false,
  ): BartAttentionOutput {
    const q = splitHeads(this.q_proj.forward(x), this._heads); // [B, nh, T, dh]
    let k: Tensor;
    let v: Tensor;
    if (source && past) {
      k = past.key;
      v = past.value;
    } else {
      const from = source ?? x;
      k = splitHeads(this.k_proj.forward(from), this._heads);
      v = splitHeads(this.v_proj.forward(from), this._heads);
      if (past) {
        k = concat([past.key, k], 2); // [B, nh, T_past + T, dh]
        v = concat([past.value, v], 2);
      }
    }
    const a = attend(q, k, v, mask, { scale: this._scale, dropout: this.attn_dropout, outputAttentions });
    return { output: this.out_proj.forward(mergeHeads(a.context)), key: k, value: v, attention: a.probs };
  }
}

// ---- layers

/** fc1 → activation → dropout → fc2 → dropout, the feed-forward half of both layers. */
function feedForward(
  m: { fc1: Linear; fc2: Linear; activation_dropout: Dropout; dropout: Dropout },
  act: KernelActivation,
  x: Tensor,
): Tensor {
  return m.dropout.forward(m.fc2.forward(m.activation_dropout.forward(m.fc1.forward(x, act))));
}

export class BartEncoderLayer extends Module {
  self_attn: BartAttention;
  self_attn_layer_norm: LayerNorm;
  fc1: Linear;
  fc2: Linear;
  final_layer_norm: LayerNorm;
  dropout: Dropout;
  activation_dropout: Dropout;
  private readonly _act: KernelActivation;

  constructor(c: BartConfig, rng?: Rng) {
    super();
    const h = c.d_model;
    this.self_attn = new BartAttention(h, c.encoder_attention_heads, c.attention_dropout, rng);
    this.self_attn_layer_norm = new LayerNorm(h, 1e-5);
    this.fc1 = new Linear(h, c.encoder_ffn_dim, { rng });
    this.fc2 = new Linear(c.encoder_ffn_dim, h, { rng });
    this.final_layer_norm = new LayerNorm(h, 1e-5);
    this.dropout = new Dropout(c.dropout, rng);
    this.activation_dropout = new Dropout(c.activation_dropout, rng);
    this._act = fusedActivation(c.activation_function);
  }

  /** x [B, S, H] → [B, S, H], post-LN. */
  forward(x: Tensor, mask: AttentionMask, outputAttentions = false): { output: Tensor; attention: Tensor | null } {
    const a = this.self_attn.forward(x, null, mask, null, outputAttentions);
    const h = this.self_attn_layer_norm.forward(add(x, this.dropout.forward(a.output)));
    const output = this.final_layer_norm.forward(add(h, feedForward(this, this._act, h)));
    return { output, attention: a.attention };
  }
}

interface BartDecoderLayerOutput {
  output: Tensor;
  cache: BartLayerCache;
  attention: Tensor | null;
  crossAttention: Tensor | null;
}

export class BartDecoderLayer extends Module {
  self_attn: BartAttention;
  self_attn_layer_norm: LayerNorm;
  encoder_attn: BartAttention;
  encoder_attn_layer_norm: LayerNorm;
  fc1: Linear;
  fc2: Linear;
  final_layer_norm: LayerNorm;
  dropout: Dropout;
  activation_dropout: Dropout;
  private readonly _act: KernelActivation;

  constructor(c: BartConfig, rng?: Rng) {
    super();
    const h = c.d_model;
    this.self_attn = new BartAttention(h, c.decoder_attention_heads, c.attention_dropout, rng);
    this.self_attn_layer_norm = new LayerNorm(h, 1e-5);
    this.encoder_attn = new BartAttention(h, c.decoder_attention_heads, c.attention_dropout, rng);
    this.encoder_attn_layer_norm = new LayerNorm(h, 1e-5);
    this.fc1 = new Linear(h, c.decoder_ffn_dim, { rng });
    this.fc2 = new Linear(c.decoder_ffn_dim, h, { rng });
    this.final_layer_norm = new LayerNorm(h, 1e-5);
    this.dropout = new Dropout(c.dropout, rng);
    this.activation_dropout = new Dropout(c.activation_dropout, rng);
    this._act = fusedActivation(c.activation_function);
  }

  /** x [B, T, H] over the encoder's output [B, S, H] → [B, T, H], post-LN, and this layer's cache including x. */
  forward(
    x: Tensor,
    encoderStates: Tensor,
    selfMask: AttentionMask,
    crossMask: AttentionMask,
    past: BartLayerCache | null,
    outputAttentions = false,
  ): BartDecoderLayerOutput {
    const s = this.self_attn.forward(
      x,
      null,
      selfMask,
      past && { key: past.selfKey, value: past.selfValue },
      outputAttentions,
    );
    let h = this.self_attn_layer_norm.forward(add(x, this.dropout.forward(s.output)));
    const c = this.encoder_attn.forward(
      h,
      encoderStates,
      crossMask,
      past && { key: past.crossKey, value: past.crossValue },
      outputAttentions,
    );
    h = this.encoder_attn_layer_norm.forward(add(h, this.dropout.forward(c.output)));
    const output = this.final_layer_norm.forward(add(h, feedForward(this, this._act, h)));
    return {
      output,
      cache: { selfKey: s.key, selfValue: s.value, crossKey: c.key, crossValue: c.value },
      attention: s.attention,
      crossAttention: c.attention,
    };
  }
}

// ---- encoder and decoder

/** Checks ids are i32 [B, T] within the vocabulary; returns [B, T]. */
function checkIds(where: string, what: string, ids: unknown, vocab: number): [number, number] {
  if (!(ids instanceof Tensor) || ids.dtype !== "i32" || ids.rank !== 2)
    throw new ShapeError(
      `${where}: ${what} must be an i32 tensor [batch, seq], got ${ids instanceof Tensor ? ids.dtype + fmtShape(ids.shape) : typeof ids}`,
    );
  checkRange(where, what, ids, vocab);
  return [ids.shape[0], ids.shape[1]];
}

function checkMask(where: string, what: string, mask: Tensor | null | undefined, b: number, t: number): Tensor | null {
  if (!mask) return null;
  if (mask.rank !== 2 || mask.shape[0] !== b || mask.shape[1] !== t)
    throw new ShapeError(`${where}: ${what} must be [${b}, ${t}], got ${fmtShape(mask.shape)}`);
  return mask;
}

/** Whether a layer is skipped this step (LayerDrop, training only). */
function dropped(training: boolean, p: number, rng: Rng | undefined): boolean {
  return training && p > 0 && (rng ?? defaultRng()).uniform() < p;
}

export class BartEncoder extends Module {
  embed_tokens: BartScaledWordEmbedding;
  embed_positions: BartLearnedPositionalEmbedding;
  layers: BartEncoderLayer[];
  layernorm_embedding: LayerNorm;
  dropout: Dropout;

  constructor(
    private readonly _config: BartConfig,
    embedTokens: BartScaledWordEmbedding,
    private readonly _rng?: Rng,
  ) {
    super();
    const c = _config;
    this.embed_tokens = embedTokens;
    this.embed_positions = new BartLearnedPositionalEmbedding(c.max_position_embeddings, c.d_model, _rng);
    this.layers = Array.from({ length: c.encoder_layers }, () => new BartEncoderLayer(c, _rng));
    this.layernorm_embedding = new LayerNorm(c.d_model, 1e-5);
    this.dropout = new Dropout(c.dropout, _rng);
  }

  /** inputIds [B, S] → lastHiddenState [B, S, H] (and every layer's output / attention when asked). */
  forward(inputs: {
    inputIds: Tensor;
    attentionMask?: Tensor | null;
    outputHiddenStates?: boolean;
    outputAttentions?: boolean;
  }): EncoderOutput {
    const c = this._config;
    const [b, s] = checkIds("bart encoder", "inputIds", inputs.inputIds, c.vocab_size);
    if (s > c.max_position_embeddings)
      throw new ShapeError(`bart: ${s} source tokens exceed max_position_embeddings (${c.max_position_embeddings})`);
    const keep = checkMask("bart encoder", "attentionMask", inputs.attentionMask, b, s);
    const x = add(this.embed_tokens.forward(inputs.inputIds), this.embed_positions.at(s, 0));
    const h = this.dropout.forward(this.layernorm_embedding.forward(x));
    const mask = attentionMaskFor({ batch: b, queryLen: s, keyLen: s, paddingMask: keep });
    const layers = this.layers.filter(() => !dropped(this.training, c.encoder_layerdrop, this._rng));
    const out = runLayers(h, layers, (layer, x) => layer.forward(x, mask, inputs.outputAttentions), inputs);
    return { lastHiddenState: out.lastHiddenState, hiddenStates: out.hiddenStates, attentions: out.attentions };
  }
}

export interface BartDecoderOutput {
  /** [B, T, H] */
  lastHiddenState: Tensor;
  pastKeyValues: BartCache | null;
  hiddenStates: Tensor[] | null;
  attentions: Tensor[] | null;
  crossAttentions: Tensor[] | null;
}

export class BartDecoder extends Module {
  embed_tokens: BartScaledWordEmbedding;
  embed_positions: BartLearnedPositionalEmbedding;
  layers: BartDecoderLayer[];
  layernorm_embedding: LayerNorm;
  dropout: Dropout;

  constructor(
    private readonly _config: BartConfig,
    embedTokens: BartScaledWordEmbedding,
    private readonly _rng?: Rng,
  ) {
    super();
    const c = _config;
    this.embed_tokens = embedTokens;
    this.embed_positions = new BartLearnedPositionalEmbedding(c.max_position_embeddings, c.d_model, _rng);
    this.layers = Array.from({ length: c.decoder_layers }, () => new BartDecoderLayer(c, _rng));
    this.layernorm_embedding = new LayerNorm(c.d_model, 1e-5);
    this.dropout = new Dropout(c.dropout, _rng);
  }

  /**
   * inputIds [B, T] (only the new tokens with a cache) over encoderStates [B, S, H] → [B, T, H]. attentionMask
   * [B, T_past + T] covers the cached tokens too; encoderAttentionMask [B, S] is the source's padding.
   */
  forward(inputs: {
    inputIds: Tensor;
    attentionMask?: Tensor | null;
    encoderStates: Tensor;
    encoderAttentionMask?: Tensor | null;
    pastKeyValues?: BartCache | null;
    useCache?: boolean;
    outputHiddenStates?: boolean;
    outputAttentions?: boolean;
  }): BartDecoderOutput {
    const c = this._config;
    const [b, t] = checkIds("bart decoder", "decoderInputIds", inputs.inputIds, c.vocab_size);
    const past = inputs.pastKeyValues ?? null;
    if (past && past.length !== this.layers.length)
      throw new ShapeError(`bart: pastKeyValues has ${past.length} layers, the decoder ${this.layers.length}`);
    if (past && past.length > 0 && past[0].selfKey.shape[0] !== b)
      throw new ShapeError(
        `bart: pastKeyValues is for a batch of ${past[0].selfKey.shape[0]}, decoderInputIds for ${b}`,
      );
    const pastLen = past && past.length > 0 ? past[0].selfKey.shape[2] : 0;
    if (pastLen + t > c.max_position_embeddings)
      throw new ShapeError(
        `bart: ${pastLen + t} target tokens exceed max_position_embeddings (${c.max_position_embeddings})`,
      );
    const enc = inputs.encoderStates;
    if (enc.rank !== 3 || enc.shape[0] !== b || enc.shape[2] !== c.d_model)
      throw new ShapeError(`bart: the encoder's output must be [${b}, S, ${c.d_model}], got ${fmtShape(enc.shape)}`);
    const keep = checkMask("bart decoder", "decoderAttentionMask", inputs.attentionMask, b, pastLen + t);
    const encKeep = checkMask("bart decoder", "attentionMask", inputs.encoderAttentionMask, b, enc.shape[1]);
    const x = add(this.embed_tokens.forward(inputs.inputIds), this.embed_positions.at(t, pastLen));
    const h = this.dropout.forward(this.layernorm_embedding.forward(x));
    const selfMask = attentionMaskFor({ batch: b, queryLen: t, keyLen: pastLen + t, paddingMask: keep, causal: true });
    const crossMask = attentionMaskFor({ batch: b, queryLen: t, keyLen: enc.shape[1], paddingMask: encKeep });
    const presents: BartCache = [];
    const skips: boolean[] = [];
    const crossAttentions: Tensor[] | null = inputs.outputAttentions ? [] : null;
    const out = runLayers(
      h,
      this.layers,
      (layer, x, i) => {
        // decided once per layer: a checkpointed layer's step runs again in the backward
        const skip = (skips[i] ??= !past && !inputs.useCache && dropped(this.training, c.decoder_layerdrop, this._rng));
        if (skip) return { output: x, attention: null };
        const r = layer.forward(x, enc, selfMask, crossMask, past ? past[i] : null, inputs.outputAttentions);
        if (inputs.useCache) presents.push(r.cache);
        if (r.crossAttention) crossAttentions?.push(r.crossAttention);
        return r;
      },
      inputs,
    );
    return {
      lastHiddenState: out.lastHiddenState,
      pastKeyValues: inputs.useCache ? presents : null,
      hiddenStates: out.hiddenStates,
      attentions: out.attentions,
      crossAttentions,
    };
  }
}

// ---- the model

abstract class BartPreTrainedModel extends PreTrainedModel<BartConfig> {
  static readonly configSchema = BART_CONFIG;
  static readonly baseModelPrefix = "model";
  protected readonly coreModules = ["shared", "encoder", "decoder"];

  /** fairseq's version buffers, which transformers ignores too. */
  protected override get ignoredKeys(): readonly RegExp[] {
    return [/(^|\.)(encoder|decoder)\.version$/];
  }

  protected override get initializerRange(): number {
    return this.config.init_std;
  }

  protected override paddingIdxOf(name: string): number | null {
    return /(^|\.)(shared|embed_tokens)$/.test(name) ? this.config.pad_token_id : null;
  }

  get maxPositions(): number {
    return this.config.max_position_embeddings;
  }

  get maxTargetPositions(): number {
    return this.config.max_position_embeddings;
  }

  /** The cache keeping only batch rows `rows`, in that order (beam search; a row may repeat). */
  reorderCache(cache: BartCache, rows: readonly number[]): BartCache {
    return cache.map((l) => ({
      selfKey: selectRows(l.selfKey, rows),
      selfValue: selectRows(l.selfValue, rows),
      crossKey: selectRows(l.crossKey, rows),
      crossValue: selectRows(l.crossValue, rows),
    }));
  }
}

export interface BartModelOutput {
  /** The decoder's last hidden state [B, T, H]. */
  lastHiddenState: Tensor;
  pastKeyValues: BartCache | null;
  encoderLastHiddenState: Tensor;
  encoderHiddenStates: Tensor[] | null;
  encoderAttentions: Tensor[] | null;
  decoderHiddenStates: Tensor[] | null;
  decoderAttentions: Tensor[] | null;
  crossAttentions: Tensor[] | null;
}

export class BartModel extends BartPreTrainedModel {
  static readonly architecture = "BartModel";
  shared: BartScaledWordEmbedding;
  encoder: BartEncoder;
  decoder: BartDecoder;

  constructor(config: BartConfig, opts: ModelOptions = {}) {
    super(config);
    const scaleBy = config.scale_embedding ? Math.sqrt(config.d_model) : 1;
    const words = () =>
      new BartScaledWordEmbedding(config.vocab_size, config.d_model, config.pad_token_id, scaleBy, opts.rng);
    this.shared = words();
    // the encoder's and decoder's tables are views of shared: built without drawing weights they would throw away
    const encTokens = init.skipInit(words);
    const decTokens = init.skipInit(words);
    encTokens.weight = this.shared.weight;
    decTokens.weight = this.shared.weight;
    this.encoder = new BartEncoder(config, encTokens, opts.rng);
    this.decoder = new BartDecoder(config, decTokens, opts.rng);
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** Runs the encoder alone (generation runs it once per input). */
  encode(inputs: {
    inputIds: Tensor;
    attentionMask?: Tensor | null;
    outputHiddenStates?: boolean;
    outputAttentions?: boolean;
  }): EncoderOutput {
    return this.encoder.forward(inputs);
  }

  /**
   * The encoder (unless encoderOutputs is given), then the decoder over decoderInputIds — or, without them, over
   * inputIds shifted right (BART's denoising default). Returns the decoder's last hidden state and the rest.
   */
  forward(inputs: BartInputs): BartModelOutput {
    const c = this.config;
    let decoderIds = inputs.decoderInputIds ?? null;
    if (!decoderIds) {
      if (!inputs.inputIds)
        throw new ArgumentError(`${this.architecture}: give decoderInputIds, labels or inputIds (shifted right)`);
      decoderIds = shiftTokensRight(inputs.inputIds, padId(c, this.architecture), startId(c, this.architecture));
    }
    let enc = inputs.encoderOutputs ?? null;
    if (!enc) {
      if (!inputs.inputIds) throw new ArgumentError(`${this.architecture}: give inputIds or encoderOutputs`);
      enc = this.encode({
        inputIds: inputs.inputIds,
        attentionMask: inputs.attentionMask,
        outputHiddenStates: inputs.outputHiddenStates,
        outputAttentions: inputs.outputAttentions,
      });
    }
    const dec = this.decoder.forward({
      inputIds: decoderIds,
      attentionMask: inputs.decoderAttentionMask,
      encoderStates: enc.lastHiddenState,
      encoderAttentionMask: inputs.attentionMask,
      pastKeyValues: inputs.pastKeyValues,
      useCache: inputs.useCache,
      outputHiddenStates: inputs.outputHiddenStates,
      outputAttentions: inputs.outputAttentions,
    });
    return {
      lastHiddenState: dec.lastHiddenState,
      pastKeyValues: dec.pastKeyValues,
      encoderLastHiddenState: enc.lastHiddenState,
      encoderHiddenStates: enc.hiddenStates ?? null,
      encoderAttentions: enc.attentions ?? null,
      decoderHiddenStates: dec.hiddenStates,
      decoderAttentions: dec.attentions,
      crossAttentions: dec.crossAttentions,
    };
  }
}

function padId(c: BartConfig, who: string): number {
  if (c.pad_token_id === null)
    throw new ArgumentError(`${who}: the config has no pad_token_id (needed to shift labels)`);
  return c.pad_token_id;
}

function startId(c: BartConfig, who: string): number {
  if (c.decoder_start_token_id === null)
    throw new ArgumentError(`${who}: the config has no decoder_start_token_id (BART uses eos, 2)`);
  return c.decoder_start_token_id;
}

// ---- the LM head

export class BartForConditionalGeneration extends BartPreTrainedModel implements Seq2SeqLM<BartCache> {
  static readonly architecture = "BartForConditionalGeneration";
  model: BartModel;
  /** [1, V], added to the logits; a buffer in transformers (saved and loaded, never trained). */
  final_logits_bias: Parameter;
  lm_head: Linear;

  constructor(config: BartConfig, opts: ModelOptions = {}) {
    super(config);
    this.model = new BartModel(config, { rng: opts.rng, initWeights: false });
    this.final_logits_bias = new Parameter(new Float32Array(config.vocab_size), [1, config.vocab_size], false);
    this.lm_head = new Linear(config.d_model, config.vocab_size, { bias: false, rng: opts.rng });
    if (config.tie_word_embeddings) this.lm_head.weight = this.model.shared.weight;
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  protected override initModule(
    name: string,
    m: Module,
    rng: Rng,
    fresh: (p: Parameter | null) => p is Parameter,
  ): void {
    if (m === this && fresh(this.final_logits_bias)) init.constant_(this.final_logits_bias, 0);
    else super.initModule(name, m, rng, fresh);
  }

  encode(inputs: {
    inputIds: Tensor;
    attentionMask?: Tensor | null;
    outputHiddenStates?: boolean;
    outputAttentions?: boolean;
  }): EncoderOutput {
    return this.model.encode(inputs);
  }

  /**
   * logits [B, T, V] = lm_head(decoder output) + final_logits_bias. With labels [B, T] i32 the mean cross-entropy
   * over labels that are not -100, the decoder reading the labels shifted right unless decoderInputIds are given
   * (and no cache is returned, as transformers turns use_cache off with labels).
   */
  forward(inputs: BartInputs): Seq2SeqLMOutput<BartCache> {
    const labels = inputs.labels ?? null;
    let decoderInputIds = inputs.decoderInputIds ?? null;
    if (labels) {
      if (labels.dtype !== "i32" || labels.rank !== 2)
        throw new ShapeError(
          `${this.architecture}: labels must be i32 [batch, target], got ${labels.dtype}${fmtShape(labels.shape)}`,
        );
      decoderInputIds ??= shiftTokensRight(
        labels,
        padId(this.config, this.architecture),
        startId(this.config, this.architecture),
      );
    }
    const out = this.model.forward({ ...inputs, decoderInputIds, useCache: labels ? false : inputs.useCache });
    const logits = add(this.lm_head.forward(out.lastHiddenState), this.final_logits_bias); // [B, T, V]
    let loss: Tensor | null = null;
    if (labels) {
      const [b, t, v] = logits.shape;
      if (labels.shape[0] !== b || labels.shape[1] !== t)
        throw new ShapeError(
          `${this.architecture}: labels ${fmtShape(labels.shape)} do not match the decoder's [${b}, ${t}]`,
        );
      loss = tokenLoss(reshape(logits, [b * t, v]), labels);
    }
    return {
      logits,
      loss,
      pastKeyValues: out.pastKeyValues,
      encoderLastHiddenState: out.encoderLastHiddenState,
      encoderHiddenStates: out.encoderHiddenStates,
      encoderAttentions: out.encoderAttentions,
      decoderHiddenStates: out.decoderHiddenStates,
      decoderAttentions: out.decoderAttentions,
      crossAttentions: out.crossAttentions,
    };
  }
}

// ---- sequence classification

/** dropout → dense → tanh → dropout → out_proj, on the decoder's state at the last eos token. */
export class BartClassificationHead extends Module {
  dense: Linear;
  dropout: Dropout;
  out_proj: Linear;

  constructor(dim: number, classes: number, dropout: number, rng?: Rng) {
    super();
    this.dense = new Linear(dim, dim, { rng });
    this.dropout = new Dropout(dropout, rng);
    this.out_proj = new Linear(dim, classes, { rng });
  }

  /** [B, H] → [B, C] */
  forward(x: Tensor): Tensor {
    return this.out_proj.forward(this.dropout.forward(this.dense.forward(this.dropout.forward(x), "tanh")));
  }
}

export class BartForSequenceClassification extends BartPreTrainedModel {
  static readonly architecture = "BartForSequenceClassification";
  model: BartModel;
  classification_head: BartClassificationHead;

  constructor(config: BartConfig, opts: ModelOptions = {}) {
    super(config);
    this.model = new BartModel(config, { rng: opts.rng, initWeights: false });
    this.classification_head = new BartClassificationHead(
      config.d_model,
      numLabels(config),
      config.classifier_dropout,
      opts.rng,
    );
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /**
   * The whole model runs (the decoder reading the inputs shifted right); logits [B, num_labels] come from the
   * decoder's state at each row's last eos token, and every row must hold as many eos tokens, as transformers
   * requires. With labels, the loss by problem_type.
   */
  forward(inputs: ModelInputs): ClassifierOutput {
    const c = this.config;
    const ids = inputs.inputIds;
    const out = this.model.forward({
      inputIds: ids,
      attentionMask: inputs.attentionMask,
      outputHiddenStates: inputs.outputHiddenStates,
      outputAttentions: inputs.outputAttentions,
    });
    const h = out.lastHiddenState; // [B, T, H]
    const [b, t, d] = h.shape;
    if (c.eos_token_id === null) throw new ArgumentError(`${this.architecture}: the config has no eos_token_id`);
    const v = ids.toArray();
    const counts = new Array<number>(b).fill(0);
    const last = new Array<number>(b).fill(-1);
    for (let i = 0; i < b; i++)
      for (let j = 0; j < t; j++)
        if (v[i * t + j] === c.eos_token_id) {
          counts[i]++;
          last[i] = i * t + j;
        }
    if (counts[0] === 0 || counts.some((n) => n !== counts[0]))
      throw new ArgumentError(
        `${this.architecture}: every row must hold the same number (at least one) of eos tokens (${c.eos_token_id}); the rows hold ${counts.join(", ")}`,
        "end each input with the eos token, as BART's tokenizer does",
      );
    const logits = this.classification_head.forward(selectRows(reshape(h, [b * t, d]), last)); // [B, C]
    return sequenceClassifierOutput(logits, inputs, c, {
      hiddenStates: out.decoderHiddenStates,
      attentions: out.decoderAttentions,
    });
  }
}

// ---- the architecture

export const BART = defineArchitecture<BartConfig>({
  config: BART_CONFIG,
  classPrefix: "Bart",
  heads: {
    base: BartModel,
    "seq2seq-lm": BartForConditionalGeneration,
    "sequence-classification": BartForSequenceClassification,
  },
  dropoutFields: {
    hidden: ["dropout", "activation_dropout"],
    attention: ["attention_dropout"],
    classifier: ["classifier_dropout"],
  },
  tokenTypes: false,
  maxPositions: (c) => c.max_position_embeddings,
  sizedConfig: (s) => ({
    vocab_size: s.vocabSize,
    d_model: s.hidden,
    encoder_layers: s.layers,
    decoder_layers: s.layers,
    encoder_attention_heads: s.heads,
    decoder_attention_heads: s.heads,
    encoder_ffn_dim: s.ffn,
    decoder_ffn_dim: s.ffn,
    max_position_embeddings: s.positions,
    pad_token_id: s.padTokenId,
    eos_token_id: s.eosTokenId,
    decoder_start_token_id: s.eosTokenId,
    forced_eos_token_id: s.eosTokenId,
  }),
});
