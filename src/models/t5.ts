/**
 * T5, as transformers' modeling_t5.py computes it, read top to bottom: config → RMS layer norm → feed-forward (ReLU
 * or gated) → attention with relative position buckets (and a key/value cache) → block → stack (the encoder and the
 * decoder are both stacks) → T5Model, T5ForConditionalGeneration, T5EncoderModel → the architecture spec.
 * Names: `shared`, `{encoder,decoder}.block.N.layer.{0: SelfAttention.{q,k,v,o,relative_attention_bias},
 * 1 (decoder): EncDecAttention.{q,k,v,o}, last: DenseReluDense.{wi | wi_0, wi_1, wo}}.layer_norm`,
 * `{encoder,decoder}.final_layer_norm`, `lm_head`.
 *
 * Details that decide equality with transformers:
 * - layer norm is RMS-only (no mean, no bias), eps layer_norm_epsilon (1e-6); pre-LN residual blocks; no scaling of
 *   the attention scores (T5 folds 1/√d_kv into its initialization); no biases anywhere;
 * - a relative position bias, learned per bucket and head, is added to the self-attention scores; only the first
 *   block of each stack holds its table and later blocks reuse the bias. Buckets are bidirectional in the encoder
 *   and causal in the decoder; cross-attention has no position bias;
 * - feed_forward_proj "relu" (v1.0: DenseReluDense.wi → act → wo) or "gated-gelu" (v1.1 / Flan-T5: act(wi_0)·wi_1 →
 *   wo, with gelu_new, the tanh GELU);
 * - the LM head: transformers 5.x's T5Config always sets tie_word_embeddings to true and keeps what the field used to
 *   say in `scale_decoder_outputs` (the decoder output multiplied by d_model^-0.5 before lm_head, as v1.0 does). A
 *   checkpoint may say tied while holding its own, different lm_head.weight (every v1.1 / Flan-T5 saved by 5.x): as
 *   transformers does, the file wins and the head is untied on load (prepareToLoad below).
 */
import { ArgumentError, ShapeError, fmtShape } from "../util/errors.js";
import type { Rng } from "../util/rng.js";
import {
  Tensor,
  add,
  attentionSoftmax,
  concat,
  matmul,
  mean,
  mul,
  permute,
  rsqrt,
  scale,
  square,
  tensor,
  unsqueeze,
} from "../tensor/index.js";
import {
  Dropout,
  Embedding,
  Linear,
  Module,
  Parameter,
  activation,
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
  nullable,
  posInt,
  positive,
  prob,
  str,
} from "../io/config.js";
import { PreTrainedModel, type ModelOptions } from "./pretrained.js";
import { attend, checkRange, runLayers, selectRows, type AttentionMask, type BaseModelOutput } from "./interfaces.js";
import { tokenLoss } from "./losses.js";
import {
  type EncoderOutput,
  type Seq2SeqLM,
  type Seq2SeqLMInputs,
  type Seq2SeqLMOutput,
  shiftTokensRight,
} from "./seq2seq.js";
import { defineArchitecture } from "./architecture.js";

// ---- config

/** feed_forward_proj is "ACT" or "gated-ACT" (transformers' check); returns the problem or null. */
function feedForwardProblem(proj: string): string | null {
  const parts = proj.split("-");
  if (parts.length > 2 || (parts.length === 2 && parts[0] !== "gated"))
    return `feed_forward_proj "${proj}" must be "ACT" or "gated-ACT" (e.g. "relu", "gated-gelu")`;
  const act = parts[parts.length - 1] === "gelu" && parts.length === 2 ? "gelu_new" : parts[parts.length - 1];
  try {
    fusedActivation(act);
  } catch (e) {
    return `feed_forward_proj "${proj}": ${(e as Error).message}`;
  }
  return null;
}

export const T5_CONFIG = defineConfig(
  "t5",
  {
    vocab_size: field(posInt, 32128),
    d_model: field(posInt, 512),
    /** Width of one head's keys, queries and values (need not be d_model / num_heads). */
    d_kv: field(posInt, 64),
    d_ff: field(posInt, 2048),
    num_layers: field(nonNegInt, 6),
    /** null: as many as num_layers. */
    num_decoder_layers: field(nullable(nonNegInt), null),
    num_heads: field(posInt, 8),
    relative_attention_num_buckets: field(posInt, 32),
    relative_attention_max_distance: field(posInt, 128),
    dropout_rate: field(prob, 0.1),
    classifier_dropout: field(prob, 0),
    layer_norm_epsilon: field(positive, 1e-6, { float: true }),
    initializer_factor: field(positive, 1, { float: true }),
    /** "relu" (T5 v1.0) or "gated-gelu" (v1.1, Flan-T5); "gated-ACT" / "ACT" with another activation name. */
    feed_forward_proj: field(str, "relu"),
    is_encoder_decoder: field(bool, true),
    use_cache: field(bool, true),
    decoder_start_token_id: field(nullable(int), 0),
    /**
     * Multiply the decoder's output by d_model^-0.5 before lm_head (v1.0). transformers 5.x writes it; null (older
     * configs): what tie_word_embeddings says.
     */
    scale_decoder_outputs: field(nullable(bool), null),
  },
  {
    baseDefaults: { pad_token_id: 0, eos_token_id: 1 },
    aliases: {
      hidden_size: "d_model",
      num_attention_heads: "num_heads",
      num_hidden_layers: "num_layers",
      head_dim: "d_kv",
    },
    rule: (c) => {
      const ff = feedForwardProblem(c.feed_forward_proj);
      if (ff) return ff;
      if (c.relative_attention_num_buckets < 4)
        return `relative_attention_num_buckets (${c.relative_attention_num_buckets}) must be at least 4`;
      return null;
    },
    // T5Model: shared; per encoder block q, k, v, o, 2 norms, the feed-forward; decoder blocks add cross-attention
    // and its norm; the first block of each stack its relative bias table; two final norms
    parameters: (c) => {
      const h = c.d_model;
      const attn = 4 * h * c.num_heads * c.d_kv + h;
      const ff = (c.feed_forward_proj.startsWith("gated-") ? 3 : 2) * h * c.d_ff + h;
      const dec = c.num_decoder_layers ?? c.num_layers;
      const bias = c.relative_attention_num_buckets * c.num_heads;
      return (
        c.vocab_size * h +
        c.num_layers * (attn + ff) +
        dec * (2 * attn + ff) +
        (c.num_layers > 0 ? bias : 0) +
        (dec > 0 ? bias : 0) +
        2 * h
      );
    },
  },
);
export type T5Config = ConfigOfSchema<typeof T5_CONFIG>;

/** Whether the decoder output is scaled by d_model^-0.5 before lm_head (see the file comment). */
function scalesDecoderOutput(c: T5Config): boolean {
  return c.scale_decoder_outputs ?? c.tie_word_embeddings;
}

// ---- the cache

/** Keys and values, [B, nh, T, d_kv] each. */
export interface LayerKV {
  key: Tensor;
  value: Tensor;
}

/** One decoder block's cache: its self-attention keys/values so far, and the encoder output's projections. */
export interface T5LayerCache {
  self: LayerKV;
  cross: LayerKV;
}

/** Every decoder block's cache; the target length seen so far is self.key.shape[2]. */
export type T5Cache = T5LayerCache[];

// ---- layer norm and feed-forward

/** T5's layer norm: x / √(mean(x²) + eps) · weight, no mean subtracted and no bias (computed in f32). */
export class T5LayerNorm extends Module {
  weight: Parameter;

  constructor(
    readonly hiddenSize: number,
    readonly eps = 1e-6,
  ) {
    super();
    this.weight = Parameter.zeros([hiddenSize]);
    init.constant_(this.weight, 1);
  }

  /** x [..., H] → [..., H] */
  forward(x: Tensor): Tensor {
    const variance = mean(square(x), -1, { keepDim: true }); // [..., 1]
    return mul(this.weight, mul(x, rsqrt(add(variance, this.eps))));
  }
}

/** The activation name of feed_forward_proj's ACT (transformers maps "gated-gelu" to gelu_new). */
function denseActName(c: T5Config): string {
  return c.feed_forward_proj === "gated-gelu" ? "gelu_new" : c.feed_forward_proj.split("-").pop()!;
}

/** v1.0: wo(act(wi(x))). */
export class T5DenseActDense extends Module {
  wi: Linear;
  wo: Linear;
  dropout: Dropout;
  private readonly _act: ReturnType<typeof fusedActivation>;

  constructor(c: T5Config, rng?: Rng) {
    super();
    this.wi = new Linear(c.d_model, c.d_ff, { bias: false, rng });
    this.wo = new Linear(c.d_ff, c.d_model, { bias: false, rng });
    this.dropout = new Dropout(c.dropout_rate, rng);
    this._act = fusedActivation(denseActName(c));
  }

  forward(x: Tensor): Tensor {
    return this.wo.forward(this.dropout.forward(this.wi.forward(x, this._act)));
  }
}

/** v1.1: wo(act(wi_0(x)) · wi_1(x)). */
export class T5DenseGatedActDense extends Module {
  wi_0: Linear;
  wi_1: Linear;
  wo: Linear;
  dropout: Dropout;
  private readonly _act: (x: Tensor) => Tensor;

  constructor(c: T5Config, rng?: Rng) {
    super();
    this.wi_0 = new Linear(c.d_model, c.d_ff, { bias: false, rng });
    this.wi_1 = new Linear(c.d_model, c.d_ff, { bias: false, rng });
    this.wo = new Linear(c.d_ff, c.d_model, { bias: false, rng });
    this.dropout = new Dropout(c.dropout_rate, rng);
    this._act = activation(denseActName(c));
  }

  forward(x: Tensor): Tensor {
    const gated = mul(this._act(this.wi_0.forward(x)), this.wi_1.forward(x));
    return this.wo.forward(this.dropout.forward(gated));
  }
}

export class T5LayerFF extends Module {
  DenseReluDense: T5DenseActDense | T5DenseGatedActDense;
  layer_norm: T5LayerNorm;
  dropout: Dropout;

  constructor(c: T5Config, rng?: Rng) {
    super();
    this.DenseReluDense = c.feed_forward_proj.startsWith("gated-")
      ? new T5DenseGatedActDense(c, rng)
      : new T5DenseActDense(c, rng);
    this.layer_norm = new T5LayerNorm(c.d_model, c.layer_norm_epsilon);
    this.dropout = new Dropout(c.dropout_rate, rng);
  }

  forward(x: Tensor): Tensor {
    return add(x, this.dropout.forward(this.DenseReluDense.forward(this.layer_norm.forward(x))));
  }
}

// ---- attention

/**
 * Mesh TensorFlow's bucket of a relative position (key position − query position), as transformers computes it:
 * bidirectional tables split their buckets between keys after and before the query; causal ones see only the past.
 * Half the buckets are exact small distances, the rest grow logarithmically up to max_distance. The logarithm runs
 * in f32 as in PyTorch, so the truncation to a bucket lands where transformers' does.
 */
export function relativePositionBucket(
  relative: number,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
): number {
  let bucket = 0;
  let n = numBuckets;
  let r: number;
  if (bidirectional) {
    n = Math.floor(n / 2);
    if (relative > 0) bucket += n;
    r = Math.abs(relative);
  } else {
    r = -Math.min(relative, 0);
  }
  const maxExact = Math.floor(n / 2);
  if (r < maxExact) return bucket + r;
  const f = Math.fround;
  const logRatio = f(Math.log(f(f(r) / f(maxExact))));
  const large = maxExact + Math.trunc(f(f(logRatio / f(Math.log(maxDistance / maxExact))) * f(n - maxExact)));
  return bucket + Math.min(large, n - 1);
}

/** What one attention layer is given besides its input. */
interface AttentionInputs {
  /** Padding (over the keys) and whether attention is causal. */
  mask: AttentionMask;
  /** [1, nh, Tq, Tk] added to the scores (self-attention), or null (cross-attention). */
  positionBias: Tensor | null;
  /** Cross-attention: the encoder's output [B, S, H] (ignored when `past` holds its keys/values). */
  keyValueStates?: Tensor | null;
  /** Self-attention: keys/values of earlier steps, extended; cross-attention: reused as they are. */
  past: LayerKV | null;
  outputAttentions?: boolean;
}

interface AttentionOutput {
  output: Tensor;
  present: LayerKV;
  attention: Tensor | null;
}

export class T5Attention extends Module {
  q: Linear;
  k: Linear;
  v: Linear;
  o: Linear;
  relative_attention_bias: Embedding | null;
  dropout: Dropout;
  private readonly _heads: number;
  private readonly _bidirectional: boolean;
  private readonly _buckets: number;
  private readonly _maxDistance: number;

  constructor(c: T5Config, opts: { hasRelativeAttentionBias: boolean; isDecoder: boolean; rng?: Rng }) {
    super();
    const inner = c.num_heads * c.d_kv;
    this._heads = c.num_heads;
    this._bidirectional = !opts.isDecoder;
    this._buckets = c.relative_attention_num_buckets;
    this._maxDistance = c.relative_attention_max_distance;
    this.q = new Linear(c.d_model, inner, { bias: false, rng: opts.rng });
    this.k = new Linear(c.d_model, inner, { bias: false, rng: opts.rng });
    this.v = new Linear(c.d_model, inner, { bias: false, rng: opts.rng });
    this.o = new Linear(inner, c.d_model, { bias: false, rng: opts.rng });
    this.relative_attention_bias = opts.hasRelativeAttentionBias
      ? new Embedding(c.relative_attention_num_buckets, c.num_heads, { rng: opts.rng })
      : null;
    this.dropout = new Dropout(c.dropout_rate, opts.rng);
  }

  /**
   * The position bias [1, nh, Tq, Tk] for queries at positions past, ..., past + Tq - 1 over keys 0, ..., Tk - 1
   * (a decoder step with a cache gets the rows of its new positions); differentiable in the bias table.
   */
  computeBias(queryLen: number, keyLen: number, past = 0): Tensor {
    const table = this.relative_attention_bias;
    if (!table) throw new ArgumentError("T5Attention: this layer has no relative_attention_bias");
    const buckets = new Int32Array(queryLen * keyLen);
    for (let i = 0; i < queryLen; i++)
      for (let j = 0; j < keyLen; j++)
        buckets[i * keyLen + j] = relativePositionBucket(
          j - (past + i),
          this._bidirectional,
          this._buckets,
          this._maxDistance,
        );
    const values = table.forward(tensor(buckets, [queryLen, keyLen], { dtype: "i32" })); // [Tq, Tk, nh]
    return unsqueeze(permute(values, [2, 0, 1]), 0);
  }

  /** x [B, T, H] → output [B, T, H], the keys/values to cache, the attention probabilities when asked. */
  forward(x: Tensor, a: AttentionInputs): AttentionOutput {
    const q = splitHeads(this.q.forward(x), this._heads); // [B, nh, T, d_kv]
    let key: Tensor;
    let value: Tensor;
    if (a.keyValueStates === undefined || a.keyValueStates === null) {
      key = splitHeads(this.k.forward(x), this._heads);
      value = splitHeads(this.v.forward(x), this._heads);
      if (a.past) {
        key = concat([a.past.key, key], 2); // [B, nh, T_past + T, d_kv]
        value = concat([a.past.value, value], 2);
      }
    } else if (a.past) {
      ({ key, value } = a.past); // the encoder output's projections, computed at the first step
    } else {
      key = splitHeads(this.k.forward(a.keyValueStates), this._heads); // [B, nh, S, d_kv]
      value = splitHeads(this.v.forward(a.keyValueStates), this._heads);
    }
    let context: Tensor;
    let probs: Tensor | null = null;
    if (a.positionBias) {
      // T5 does not scale the scores; the bias is added before the (masked) softmax
      const scores = add(matmul(q, key, { transB: true }), a.positionBias); // [B, nh, Tq, Tk]
      probs = this.dropout.forward(attentionSoftmax(scores, { keep: a.mask.keep, causal: a.mask.causal }));
      context = matmul(probs, value);
      if (!a.outputAttentions) probs = null;
    } else {
      const r = attend(q, key, value, a.mask, {
        scale: 1,
        dropout: this.dropout,
        outputAttentions: a.outputAttentions,
      });
      context = r.context;
      probs = r.probs;
    }
    return { output: this.o.forward(mergeHeads(context)), present: { key, value }, attention: probs };
  }
}

export class T5LayerSelfAttention extends Module {
  SelfAttention: T5Attention;
  layer_norm: T5LayerNorm;
  dropout: Dropout;

  constructor(c: T5Config, opts: { hasRelativeAttentionBias: boolean; isDecoder: boolean; rng?: Rng }) {
    super();
    this.SelfAttention = new T5Attention(c, opts);
    this.layer_norm = new T5LayerNorm(c.d_model, c.layer_norm_epsilon);
    this.dropout = new Dropout(c.dropout_rate, opts.rng);
  }

  forward(x: Tensor, a: AttentionInputs): AttentionOutput {
    const r = this.SelfAttention.forward(this.layer_norm.forward(x), a);
    return { ...r, output: add(x, this.dropout.forward(r.output)) };
  }
}

export class T5LayerCrossAttention extends Module {
  EncDecAttention: T5Attention;
  layer_norm: T5LayerNorm;
  dropout: Dropout;

  constructor(c: T5Config, rng?: Rng) {
    super();
    this.EncDecAttention = new T5Attention(c, { hasRelativeAttentionBias: false, isDecoder: true, rng });
    this.layer_norm = new T5LayerNorm(c.d_model, c.layer_norm_epsilon);
    this.dropout = new Dropout(c.dropout_rate, rng);
  }

  forward(x: Tensor, a: AttentionInputs): AttentionOutput {
    const r = this.EncDecAttention.forward(this.layer_norm.forward(x), a);
    return { ...r, output: add(x, this.dropout.forward(r.output)) };
  }
}

// ---- block and stack

/** What a decoder block also needs: the encoder's output and its padding. */
interface CrossInputs {
  states: Tensor;
  mask: AttentionMask;
}

interface BlockOutput {
  output: Tensor;
  present: T5LayerCache | null;
  attention: Tensor | null;
  crossAttention: Tensor | null;
}

/** layer: [self-attention, cross-attention (decoder only), feed-forward], as transformers' ModuleList. */
export class T5Block extends Module {
  layer: Module[];
  private readonly _self: T5LayerSelfAttention;
  private readonly _cross: T5LayerCrossAttention | null;
  private readonly _ff: T5LayerFF;

  constructor(c: T5Config, opts: { hasRelativeAttentionBias: boolean; isDecoder: boolean; rng?: Rng }) {
    super();
    this._self = new T5LayerSelfAttention(c, opts);
    this._cross = opts.isDecoder ? new T5LayerCrossAttention(c, opts.rng) : null;
    this._ff = new T5LayerFF(c, opts.rng);
    this.layer = this._cross ? [this._self, this._cross, this._ff] : [this._self, this._ff];
  }

  get selfAttention(): T5Attention {
    return this._self.SelfAttention;
  }

  forward(
    x: Tensor,
    mask: AttentionMask,
    positionBias: Tensor | null,
    cross: CrossInputs | null,
    past: T5LayerCache | null,
    outputAttentions = false,
  ): BlockOutput {
    const s = this._self.forward(x, { mask, positionBias, past: past?.self ?? null, outputAttentions });
    let h = s.output;
    let crossKV: LayerKV | null = null;
    let crossAttention: Tensor | null = null;
    if (this._cross && cross) {
      const r = this._cross.forward(h, {
        mask: cross.mask,
        positionBias: null,
        keyValueStates: cross.states,
        past: past?.cross ?? null,
        outputAttentions,
      });
      h = r.output;
      crossKV = r.present;
      crossAttention = r.attention;
    }
    return {
      output: this._ff.forward(h),
      present: crossKV ? { self: s.present, cross: crossKV } : null,
      attention: s.attention,
      crossAttention,
    };
  }
}

interface StackInputs {
  /** [B, T] i32 (with a cache: only the new tokens). */
  inputIds: Tensor;
  /** [B, T_past + T]: 1 for tokens, 0 for padding (default: all 1). */
  attentionMask?: Tensor | null;
  /** Decoder: the encoder's output [B, S, H] and its padding mask [B, S]. */
  encoderHiddenStates?: Tensor | null;
  encoderAttentionMask?: Tensor | null;
  pastKeyValues?: T5Cache | null;
  useCache?: boolean;
  outputHiddenStates?: boolean;
  outputAttentions?: boolean;
}

interface StackOutput extends BaseModelOutput {
  pastKeyValues: T5Cache | null;
  crossAttentions: Tensor[] | null;
}

/** The encoder or the decoder: embeddings (shared), blocks, final layer norm. */
export class T5Stack extends Module {
  embed_tokens: Embedding;
  block: T5Block[];
  final_layer_norm: T5LayerNorm;
  dropout: Dropout;

  constructor(
    readonly config: T5Config,
    embedTokens: Embedding,
    readonly isDecoder: boolean,
    rng?: Rng,
  ) {
    super();
    this.embed_tokens = embedTokens;
    const layers = isDecoder ? (config.num_decoder_layers ?? config.num_layers) : config.num_layers;
    this.block = Array.from(
      { length: layers },
      (_, i) => new T5Block(config, { hasRelativeAttentionBias: i === 0, isDecoder, rng }),
    );
    this.final_layer_norm = new T5LayerNorm(config.d_model, config.layer_norm_epsilon);
    this.dropout = new Dropout(config.dropout_rate, rng);
  }

  private get where(): string {
    return this.isDecoder ? "t5 decoder" : "t5 encoder";
  }

  forward(inputs: StackInputs): StackOutput {
    const ids = inputs.inputIds;
    if (!(ids instanceof Tensor) || ids.dtype !== "i32" || ids.rank !== 2)
      throw new ShapeError(
        `${this.where}: input ids must be an i32 tensor [batch, seq], got ${ids instanceof Tensor ? ids.dtype + fmtShape(ids.shape) : typeof ids}`,
      );
    const [b, t] = ids.shape;
    if (t === 0) throw new ShapeError(`${this.where}: input ids are empty`);
    const past = inputs.pastKeyValues ?? null;
    if (past && past.length !== this.block.length)
      throw new ShapeError(`${this.where}: pastKeyValues has ${past.length} layers, the model ${this.block.length}`);
    if (past && past[0].self.key.shape[0] !== b)
      throw new ShapeError(`${this.where}: pastKeyValues is for a batch of ${past[0].self.key.shape[0]}, ids for ${b}`);
    const pastLen = past ? past[0].self.key.shape[2] : 0;
    const mask = inputs.attentionMask ?? null;
    if (mask && (mask.rank !== 2 || mask.shape[0] !== b || mask.shape[1] !== pastLen + t))
      throw new ShapeError(
        `${this.where}: attention mask must be [${b}, ${pastLen + t}]${past ? " (cached + new tokens)" : ""}, got ${fmtShape(mask.shape)}`,
      );
    checkRange(this.where, "token id", ids, this.config.vocab_size);
    let cross: CrossInputs | null = null;
    if (this.isDecoder) {
      const enc = inputs.encoderHiddenStates;
      if (!enc) throw new ArgumentError(`${this.where}: the encoder's hidden states are needed`);
      if (enc.rank !== 3 || enc.shape[0] !== b || enc.shape[2] !== this.config.d_model)
        throw new ShapeError(
          `${this.where}: encoder hidden states must be [${b}, S, ${this.config.d_model}], got ${fmtShape(enc.shape)}`,
        );
      const encMask = inputs.encoderAttentionMask ?? null;
      if (encMask && (encMask.rank !== 2 || encMask.shape[0] !== b || encMask.shape[1] !== enc.shape[1]))
        throw new ShapeError(
          `${this.where}: the encoder's attention mask must be [${b}, ${enc.shape[1]}], got ${fmtShape(encMask.shape)}`,
        );
      cross = { states: enc, mask: { keep: encMask, causal: false } };
    }
    const self: AttentionMask = { keep: mask, causal: this.isDecoder };
    // the first block's table gives every block's bias: [1, nh, T, T_past + T]
    const positionBias = this.block.length ? this.block[0].selfAttention.computeBias(t, pastLen + t, pastLen) : null;
    const presents: T5Cache = [];
    const crossAttentions: Tensor[] | null = inputs.outputAttentions && this.isDecoder ? [] : null;
    const out = runLayers(
      this.dropout.forward(this.embed_tokens.forward(ids)),
      this.block,
      (block, x, i) => {
        const r = block.forward(x, self, positionBias, cross, past ? past[i] : null, inputs.outputAttentions);
        if (r.present && inputs.useCache) presents.push(r.present);
        if (crossAttentions && r.crossAttention) crossAttentions.push(r.crossAttention);
        return r;
      },
      inputs,
    );
    const last = this.dropout.forward(this.final_layer_norm.forward(out.lastHiddenState));
    // transformers' last hidden state in the tuple is after the final layer norm
    if (out.hiddenStates) out.hiddenStates[out.hiddenStates.length - 1] = last;
    return {
      lastHiddenState: last,
      poolerOutput: null,
      hiddenStates: out.hiddenStates,
      attentions: out.attentions,
      crossAttentions,
      pastKeyValues: this.isDecoder && inputs.useCache ? presents : null,
    };
  }
}

// ---- the models

abstract class T5PreTrainedModel extends PreTrainedModel<T5Config> {
  static readonly configSchema = T5_CONFIG;
  static readonly baseModelPrefix = "";
  protected readonly coreModules: readonly string[] = ["shared", "encoder", "decoder"];

  /** transformers never uses a cross-attention bias table (old checkpoints saved one). */
  protected override get ignoredKeys(): readonly RegExp[] {
    return [/^decoder\.block\.0\.layer\.1\.EncDecAttention\.relative_attention_bias\.weight$/];
  }

  /** transformers' T5 initialization, scaled by initializer_factor. */
  protected override initModule(
    name: string,
    m: Module,
    rng: Rng,
    fresh: (p: Parameter | null) => p is Parameter,
  ): void {
    const c = this.config;
    const f = c.initializer_factor;
    const normal = (p: Parameter | null, std: number) => {
      if (fresh(p)) init.normal_(p, std, rng);
    };
    if (m instanceof T5LayerNorm) {
      if (fresh(m.weight)) init.constant_(m.weight, f);
    } else if (m instanceof T5DenseActDense) {
      normal(m.wi.weight, f * c.d_model ** -0.5);
      normal(m.wo.weight, f * c.d_ff ** -0.5);
    } else if (m instanceof T5DenseGatedActDense) {
      normal(m.wi_0.weight, f * c.d_model ** -0.5);
      normal(m.wi_1.weight, f * c.d_model ** -0.5);
      normal(m.wo.weight, f * c.d_ff ** -0.5);
    } else if (m instanceof T5Attention) {
      normal(m.q.weight, f * (c.d_model * c.d_kv) ** -0.5);
      normal(m.k.weight, f * c.d_model ** -0.5);
      normal(m.v.weight, f * c.d_model ** -0.5);
      normal(m.o.weight, f * (c.num_heads * c.d_kv) ** -0.5);
      if (m.relative_attention_bias) normal(m.relative_attention_bias.weight, f * c.d_model ** -0.5);
    } else if (name === "shared" && m instanceof Embedding) {
      normal(m.weight, f);
    } else if (name === "lm_head" && m instanceof Linear) {
      normal(m.weight, f);
    } else {
      super.initModule(name, m, rng, fresh);
    }
  }
}

export class T5Model extends T5PreTrainedModel {
  static readonly architecture = "T5Model";
  shared: Embedding;
  encoder: T5Stack;
  decoder: T5Stack;

  constructor(config: T5Config, opts: ModelOptions = {}) {
    super(config);
    this.shared = new Embedding(config.vocab_size, config.d_model, { rng: opts.rng });
    this.encoder = new T5Stack(config, this.shared, false, opts.rng);
    this.decoder = new T5Stack(config, this.shared, true, opts.rng);
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** The decoder's last hidden state [B, T, H] (as transformers' Seq2SeqModelOutput.last_hidden_state), and the rest. */
  forward(inputs: Seq2SeqLMInputs<T5Cache>): Omit<Seq2SeqLMOutput<T5Cache>, "logits" | "loss"> & {
    lastHiddenState: Tensor;
  } {
    const enc = encoderOutputOf(this.encoder, inputs);
    if (!inputs.decoderInputIds) throw new ArgumentError("T5Model: decoderInputIds are needed");
    const dec = runDecoder(this.decoder, inputs, inputs.decoderInputIds, enc);
    return { lastHiddenState: dec.lastHiddenState, ...seq2seqOutputs(enc, dec, inputs) };
  }
}

/** The encoder output given in inputs, or the encoder run on inputIds. */
function encoderOutputOf(encoder: T5Stack, inputs: Seq2SeqLMInputs<T5Cache>): EncoderOutput {
  if (inputs.encoderOutputs) return inputs.encoderOutputs;
  if (!inputs.inputIds) throw new ArgumentError("t5: inputIds or encoderOutputs are needed");
  const out = encoder.forward({
    inputIds: inputs.inputIds,
    attentionMask: inputs.attentionMask,
    outputHiddenStates: inputs.outputHiddenStates,
    outputAttentions: inputs.outputAttentions,
  });
  return { lastHiddenState: out.lastHiddenState, hiddenStates: out.hiddenStates, attentions: out.attentions };
}

function runDecoder(
  decoder: T5Stack,
  inputs: Seq2SeqLMInputs<T5Cache>,
  decoderInputIds: Tensor,
  enc: EncoderOutput,
): StackOutput {
  return decoder.forward({
    inputIds: decoderInputIds,
    attentionMask: inputs.decoderAttentionMask,
    encoderHiddenStates: enc.lastHiddenState,
    encoderAttentionMask: inputs.attentionMask,
    pastKeyValues: inputs.pastKeyValues,
    useCache: inputs.useCache,
    outputHiddenStates: inputs.outputHiddenStates,
    outputAttentions: inputs.outputAttentions,
  });
}

function seq2seqOutputs(
  enc: EncoderOutput,
  dec: StackOutput,
  inputs: Seq2SeqLMInputs<T5Cache>,
): Omit<Seq2SeqLMOutput<T5Cache>, "logits" | "loss"> {
  return {
    pastKeyValues: dec.pastKeyValues,
    encoderLastHiddenState: enc.lastHiddenState,
    encoderHiddenStates: inputs.outputHiddenStates ? (enc.hiddenStates ?? null) : null,
    decoderHiddenStates: dec.hiddenStates,
    encoderAttentions: inputs.outputAttentions ? (enc.attentions ?? null) : null,
    decoderAttentions: dec.attentions,
    crossAttentions: dec.crossAttentions,
  };
}

/** A cache keeping batch rows `rows` (beam search); a row may repeat. */
export function reorderT5Cache(cache: T5Cache, rows: readonly number[]): T5Cache {
  const kv = (x: LayerKV): LayerKV => ({ key: selectRows(x.key, rows), value: selectRows(x.value, rows) });
  return cache.map((l) => ({ self: kv(l.self), cross: kv(l.cross) }));
}

export class T5ForConditionalGeneration extends T5PreTrainedModel implements Seq2SeqLM<T5Cache> {
  static readonly architecture = "T5ForConditionalGeneration";
  shared: Embedding;
  encoder: T5Stack;
  decoder: T5Stack;
  lm_head: Linear;
  readonly maxPositions = null;
  readonly maxTargetPositions = null;

  constructor(config: T5Config, opts: ModelOptions = {}) {
    // keep the scaling explicit, as transformers 5.x writes it, before tie_word_embeddings can change
    super({ ...config, scale_decoder_outputs: scalesDecoderOutput(config) });
    this.shared = new Embedding(config.vocab_size, config.d_model, { rng: opts.rng });
    this.encoder = new T5Stack(config, this.shared, false, opts.rng);
    this.decoder = new T5Stack(config, this.shared, true, opts.rng);
    this.lm_head = new Linear(config.d_model, config.vocab_size, { bias: false, rng: opts.rng });
    if (config.tie_word_embeddings) this.lm_head.weight = this.shared.weight;
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /**
   * A checkpoint holding an lm_head.weight that differs from shared.weight has its own head, whatever the config
   * says (transformers 5.x writes tie_word_embeddings: true for every T5): untie before loading, as transformers does;
   * one without lm_head.weight gets the embedding as its head. The output scaling stays as the config says.
   */
  override prepareToLoad(tensors: ReadonlyMap<string, Tensor>): void {
    const head = tensors.get("lm_head.weight");
    const shared = tensors.get("shared.weight") ?? tensors.get("encoder.embed_tokens.weight");
    if (!head && shared && this.lm_head.weight !== this.shared.weight) {
      // no head of its own in the file: the head is the embedding (transformers 5.x ties every T5)
      this.lm_head.weight = this.shared.weight;
      this.config = { ...this.config, tie_word_embeddings: true };
      return;
    }
    if (!head || !shared || this.lm_head.weight !== this.shared.weight) return;
    const a = head.toArray();
    const b = shared.toArray();
    if (a.length === b.length && a.every((v, i) => v === b[i])) return;
    this.lm_head.weight = Parameter.zeros([this.config.vocab_size, this.config.d_model]);
    this.config = { ...this.config, tie_word_embeddings: false };
  }

  encode(inputs: {
    inputIds: Tensor;
    attentionMask?: Tensor | null;
    outputHiddenStates?: boolean;
    outputAttentions?: boolean;
  }): EncoderOutput {
    return encoderOutputOf(this.encoder, inputs);
  }

  /**
   * logits [B, T, V] for decoderInputIds (or labels shifted right with decoder_start_token_id); with labels the mean
   * cross-entropy over labels that are not -100. With useCache the cache including these tokens (pastKeyValues:
   * decoderInputIds are only the new tokens, decoderAttentionMask covers cached and new ones).
   */
  forward(inputs: Seq2SeqLMInputs<T5Cache>): Seq2SeqLMOutput<T5Cache> {
    const c = this.config;
    const enc = encoderOutputOf(this.encoder, inputs);
    const labels = inputs.labels ?? null;
    let decoderInputIds = inputs.decoderInputIds ?? null;
    if (!decoderInputIds) {
      if (!labels) throw new ArgumentError(`${this.architecture}: decoderInputIds or labels are needed`);
      if (labels.dtype !== "i32" || labels.rank !== 2)
        throw new ShapeError(
          `${this.architecture}: labels must be i32 [batch, seq], got ${labels.dtype}${fmtShape(labels.shape)}`,
        );
      if (c.decoder_start_token_id === null || c.pad_token_id === null)
        throw new ArgumentError(
          `${this.architecture}: decoder_start_token_id and pad_token_id must be set to derive decoder inputs from labels`,
        );
      decoderInputIds = shiftTokensRight(labels, c.pad_token_id, c.decoder_start_token_id);
    }
    const dec = runDecoder(this.decoder, inputs, decoderInputIds, enc);
    let h = dec.lastHiddenState;
    if (c.scale_decoder_outputs) h = scale(h, c.d_model ** -0.5);
    const logits = this.lm_head.forward(h); // [B, T, V]
    if (labels && (labels.shape[0] !== logits.shape[0] || labels.shape[1] !== logits.shape[1]))
      throw new ShapeError(
        `${this.architecture}: labels ${fmtShape(labels.shape)} do not match the decoder inputs [${logits.shape[0]}, ${logits.shape[1]}]`,
      );
    return { logits, loss: labels ? tokenLoss(logits, labels) : null, ...seq2seqOutputs(enc, dec, inputs) };
  }

  reorderCache(cache: T5Cache, rows: readonly number[]): T5Cache {
    return reorderT5Cache(cache, rows);
  }
}

/** The encoder alone (sentence embeddings, classifiers on top of T5's encoder). */
export class T5EncoderModel extends T5PreTrainedModel {
  static readonly architecture = "T5EncoderModel";
  protected override readonly coreModules: readonly string[] = ["shared", "encoder"];
  shared: Embedding;
  encoder: T5Stack;

  constructor(config: T5Config, opts: ModelOptions = {}) {
    super(config);
    this.shared = new Embedding(config.vocab_size, config.d_model, { rng: opts.rng });
    this.encoder = new T5Stack(config, this.shared, false, opts.rng);
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** The decoder of a full checkpoint is not used (as transformers ignores it). */
  protected override get ignoredKeys(): readonly RegExp[] {
    return [/^decoder\./, /^lm_head\./];
  }

  forward(inputs: {
    inputIds: Tensor;
    attentionMask?: Tensor | null;
    outputHiddenStates?: boolean;
    outputAttentions?: boolean;
  }): BaseModelOutput {
    const out = this.encoder.forward(inputs);
    return {
      lastHiddenState: out.lastHiddenState,
      poolerOutput: null,
      hiddenStates: out.hiddenStates,
      attentions: out.attentions,
    };
  }
}

// ---- the architecture

export const T5 = defineArchitecture<T5Config>({
  config: T5_CONFIG,
  classPrefix: "T5",
  heads: {
    base: T5Model,
    "seq2seq-lm": T5ForConditionalGeneration,
  },
  dropoutFields: {
    // T5 has one dropout probability, for hidden states and attention probabilities alike
    hidden: ["dropout_rate"],
    attention: [],
    classifier: ["classifier_dropout"],
  },
  tokenTypes: false,
  // relative positions: no table to outgrow
  maxPositions: () => null,
  // from scratch: T5 v1.1's gated GELU with v1.0's tied embeddings and head, so the decoder output is scaled by
  // d_model^-0.5 before the head. An untied head starts at std 1 (transformers' init for Adafactor's relative steps),
  // logits of std √d_model that AdamW at the usual rates takes thousands of steps to shrink; the scaled tied head
  // starts at logits of std about 1. The decoder starts with the pad token.
  sizedConfig: (s) => ({
    vocab_size: s.vocabSize,
    d_model: s.hidden,
    num_layers: s.layers,
    num_heads: s.heads,
    d_kv: Math.max(1, Math.floor(s.hidden / s.heads)),
    d_ff: s.ffn,
    feed_forward_proj: "gated-gelu",
    tie_word_embeddings: true,
    scale_decoder_outputs: true,
    pad_token_id: s.padTokenId,
    eos_token_id: s.eosTokenId,
    decoder_start_token_id: s.padTokenId,
  }),
});
