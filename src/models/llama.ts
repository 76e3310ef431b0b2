/**
 * Llama-family decoders (Llama, SmolLM, TinyLlama, Qwen2), as transformers' modeling_llama.py and
 * modeling_qwen2.py compute them, read top to bottom: config (Llama's and Qwen2's, with RoPE settings) → RMSNorm →
 * rotary positions → attention (grouped-query, with a key/value cache) → SwiGLU MLP → decoder layer → LlamaModel →
 * heads (causal LM, sequence classification) → the two architecture specs.
 * Names: `model.{embed_tokens, layers.N.{input_layernorm, self_attn.{q,k,v,o}_proj, post_attention_layernorm,
 * mlp.{gate,up,down}_proj}, norm}`, `lm_head`, `score`.
 *
 * Details that decide equality with transformers: RMSNorm is x·rsqrt(mean(x²) + eps)·weight (no mean subtracted,
 * no bias); RoPE rotates q and k by position·inv_freq with rotate_half (the two halves of a head, not interleaved
 * pairs), its tables computed in f32 as transformers computes them; keys and values have num_key_value_heads heads
 * and each serves num_attention_heads / num_key_value_heads query heads (repeat_kv); the cache holds keys after RoPE
 * and before repetition; scores are scaled by head_dim^-0.5; the MLP is down(silu(gate(x)) · up(x)). Qwen2 is the
 * same model with biases on q/k/v (never on o) and its own defaults. Positions default to past + 0, 1, ...; generate
 * passes cumsum(mask) - 1, so left padding does not shift a prompt's positions.
 *
 * config.json: transformers 5.x keeps RoPE settings under `rope_parameters` ({ rope_type, rope_theta, factor, ... });
 * older files have `rope_theta` and `rope_scaling` at the top level. Both are read (rope_scaling wins over
 * rope_parameters, a top-level rope_theta fills a missing one, as transformers' standardize_rope_params does), and
 * the 5.x form is written.
 */
import { ArgumentError, ShapeError, fmtShape } from "../util/errors.js";
import type { Rng } from "../util/rng.js";
import {
  Tensor,
  add,
  affine,
  broadcastTo,
  concat,
  mean,
  mul,
  neg,
  reshape,
  rsqrt,
  slice,
  square,
  takeAlong,
  tensor,
} from "../tensor/index.js";
import {
  Dropout,
  Embedding,
  Linear,
  Module,
  Parameter,
  activation,
  init,
  mergeHeads,
  splitHeads,
} from "../nn/index.js";
import {
  type BaseConfig,
  type Check,
  type ConfigOfSchema,
  type ConfigSchema,
  type Fail,
  bool,
  defineConfig,
  field,
  nonNegInt,
  nullable,
  numLabels,
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
  checkInputs,
  checkRange,
  positionRange,
  segmentPositions,
  runLayers,
  type BaseModelOutput,
  type CausalLM,
  type CausalLMInputs,
  type CausalLMOutput,
  type ClassifierOutput,
} from "./interfaces.js";
import { type CachedKV, appendKV, attendCached, cachedLength, growsInPlace, reorderKV } from "./kv-cache.js";
import { causalLmLoss, sequenceClassifierOutput } from "./losses.js";
import { type ModelSize, defineArchitecture } from "./architecture.js";

// ---- config

/** RoPE settings as transformers 5.x writes them (`rope_parameters` in config.json). */
export interface RopeParameters {
  /** "default", "linear", "dynamic" or "llama3" (graft computes these; others are refused when a model is built). */
  rope_type: string;
  rope_theta: number;
  /** linear / dynamic / llama3: how much longer the context is than in pre-training. */
  factor?: number;
  /** llama3 */
  low_freq_factor?: number;
  high_freq_factor?: number;
  original_max_position_embeddings?: number;
  [key: string]: unknown;
}

const ROPE_TYPES = ["default", "linear", "dynamic", "llama3"];

const ropeParameters = ((v: unknown) => {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return "an object { rope_type, rope_theta, ... }";
  const r = v as Record<string, unknown>;
  if (typeof r.rope_type !== "string") return 'an object with a string "rope_type"';
  if (!(typeof r.rope_theta === "number" && r.rope_theta > 0)) return 'an object with a positive "rope_theta"';
  for (const k of ["factor", "low_freq_factor", "high_freq_factor"])
    if (r[k] !== undefined && !(typeof r[k] === "number" && Number.isFinite(r[k])))
      return `an object whose "${k}" is a number`;
  return null;
}) as Check<RopeParameters>;

/**
 * transformers' convert_rope_params_to_dict + standardize_rope_params, and LlamaConfig's __post_init__: the legacy
 * rope_theta / rope_scaling fields fold into rope_parameters; num_key_value_heads and head_dim get their derived
 * values when absent (Qwen2 has no head_dim field: it is derived in the model, never written).
 */
function normalizeDecoder(defaults: { heads: number; hidden: number; headDim: boolean; maxPositions: number }) {
  return (raw: Record<string, unknown>, fail: Fail): void => {
    const scaling = raw.rope_scaling;
    if (scaling !== undefined && scaling !== null && (typeof scaling !== "object" || Array.isArray(scaling)))
      fail(`field "rope_scaling" must be an object { rope_type, factor, ... } or null, got ${JSON.stringify(scaling)}`);
    const params = (scaling ?? raw.rope_parameters ?? {}) as Record<string, unknown>;
    if (typeof params !== "object" || Array.isArray(params))
      fail(`field "rope_parameters" must be an object { rope_type, rope_theta, ... }, got ${JSON.stringify(params)}`);
    const rope: Record<string, unknown> = { ...params };
    rope.rope_theta ??= raw.rope_theta ?? 10000;
    rope.rope_type ??= rope.type ?? "default";
    if (rope.rope_type === "llama3")
      rope.original_max_position_embeddings ??= raw.max_position_embeddings ?? defaults.maxPositions;
    raw.rope_parameters = rope;
    delete raw.rope_scaling;
    delete raw.rope_theta;
    const heads = raw.num_attention_heads ?? defaults.heads;
    if (raw.num_key_value_heads === undefined || raw.num_key_value_heads === null) raw.num_key_value_heads = heads;
    if (defaults.headDim && (raw.head_dim === undefined || raw.head_dim === null)) {
      const hidden = raw.hidden_size ?? defaults.hidden;
      if (typeof hidden === "number" && typeof heads === "number" && heads > 0)
        raw.head_dim = Math.floor(hidden / heads);
    }
  };
}

/** The checks both configs share: heads divide, key/value heads divide the heads, a RoPE type graft computes. */
function decoderRule(c: DecoderConfig): string | null {
  if (c.hidden_size % c.num_attention_heads !== 0)
    return `hidden_size (${c.hidden_size}) must be a multiple of num_attention_heads (${c.num_attention_heads})`;
  if (c.num_attention_heads % c.num_key_value_heads !== 0)
    return `num_attention_heads (${c.num_attention_heads}) must be a multiple of num_key_value_heads (${c.num_key_value_heads})`;
  const rope = c.rope_parameters;
  if (!ROPE_TYPES.includes(rope.rope_type))
    return `rope_parameters.rope_type "${rope.rope_type}" is not supported (graft computes ${ROPE_TYPES.map((t) => `"${t}"`).join(", ")})`;
  if (rope.rope_type !== "default" && !(typeof rope.factor === "number" && rope.factor > 0))
    return `rope_parameters.factor must be a positive number for rope_type "${rope.rope_type}"`;
  if (rope.rope_type === "llama3") {
    for (const k of ["low_freq_factor", "high_freq_factor", "original_max_position_embeddings"] as const)
      if (!(typeof rope[k] === "number" && (rope[k] as number) > 0))
        return `rope_parameters.${k} must be a positive number for rope_type "llama3"`;
    if (rope.high_freq_factor! <= rope.low_freq_factor!)
      return "rope_parameters.high_freq_factor must be larger than low_freq_factor";
  }
  if (c.use_sliding_window === true)
    return "use_sliding_window (Qwen2's sliding-window attention) is not supported; set it to false";
  return null;
}

/** Weights of the base model: embeddings, per layer 2 norms + q/k/v/o (+ biases) + 3 MLP matrices, final norm. */
function decoderParameters(c: DecoderConfig): number {
  const h = c.hidden_size;
  const d = headDim(c);
  const q = c.num_attention_heads * d;
  const kv = c.num_key_value_heads * d;
  const i = c.intermediate_size;
  const qkvBias = qkvBiased(c) ? q + 2 * kv : 0;
  const layer = 2 * h + h * (q + 2 * kv) + qkvBias + q * h + (outBiased(c) ? h : 0) + 3 * h * i;
  return c.vocab_size * h + c.num_hidden_layers * layer + h;
}

const decoderFields = (d: { vocab: number; hidden: number; ffn: number; heads: number; positions: number }) => ({
  vocab_size: field(posInt, d.vocab),
  hidden_size: field(posInt, d.hidden),
  intermediate_size: field(posInt, d.ffn),
  num_hidden_layers: field(nonNegInt, 32),
  num_attention_heads: field(posInt, d.heads),
  num_key_value_heads: field(posInt, d.heads),
  hidden_act: field(str, "silu"),
  max_position_embeddings: field(posInt, d.positions),
  initializer_range: field(positive, 0.02),
  rms_norm_eps: field(positive, 1e-6),
  use_cache: field(bool, true),
  rope_parameters: field(ropeParameters, { rope_type: "default", rope_theta: 10000 }),
  attention_dropout: field(prob, 0),
});

export const LLAMA_CONFIG = defineConfig(
  "llama",
  {
    ...decoderFields({ vocab: 32000, hidden: 4096, ffn: 11008, heads: 32, positions: 2048 }),
    pretraining_tp: field(nullable(posInt), 1),
    attention_bias: field(bool, false),
    mlp_bias: field(bool, false),
    head_dim: field(posInt, 128),
  },
  {
    baseDefaults: { bos_token_id: 1, eos_token_id: 2, tie_word_embeddings: false },
    normalize: normalizeDecoder({ heads: 32, hidden: 4096, headDim: true, maxPositions: 2048 }),
    rule: (c) => decoderRule(c),
    parameters: (c) => decoderParameters(c),
  },
);
export type LlamaConfig = ConfigOfSchema<typeof LLAMA_CONFIG>;

export const QWEN2_CONFIG = defineConfig(
  "qwen2",
  {
    ...decoderFields({ vocab: 151936, hidden: 4096, ffn: 22016, heads: 32, positions: 32768 }),
    use_sliding_window: field(bool, false),
    sliding_window: field(nullable(posInt), null),
    max_window_layers: field(nonNegInt, 28),
  },
  {
    baseDefaults: { tie_word_embeddings: false },
    normalize: normalizeDecoder({ heads: 32, hidden: 4096, headDim: false, maxPositions: 32768 }),
    rule: (c) => decoderRule(c),
    parameters: (c) => decoderParameters(c),
  },
);
export type Qwen2Config = ConfigOfSchema<typeof QWEN2_CONFIG>;

/** What the model code reads of either config. */
export type DecoderConfig = BaseConfig & {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  hidden_act: string;
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_parameters: RopeParameters;
  attention_dropout: number;
};

/** head_dim when the config has one (Llama), else hidden_size / num_attention_heads (Qwen2), as getattr does. */
export function headDim(c: DecoderConfig): number {
  const d = c.head_dim;
  return typeof d === "number" && d > 0 ? d : Math.floor(c.hidden_size / c.num_attention_heads);
}

const qkvBiased = (c: DecoderConfig): boolean => (c.model_type === "qwen2" ? true : c.attention_bias === true);
const outBiased = (c: DecoderConfig): boolean => c.model_type !== "qwen2" && c.attention_bias === true;
const mlpBiased = (c: DecoderConfig): boolean => c.model_type !== "qwen2" && c.mlp_bias === true;

/**
 * One layer's cached keys and values after RoPE, [B, num_key_value_heads, T_past, head_dim] each; grown in place
 * (growCache), [B, num_key_value_heads, capacity, head_dim] buffers of which `length` rows are filled (kv-cache.ts).
 */
export interface LlamaLayerKV extends CachedKV {
  key: Tensor;
  value: Tensor;
}

/** Every layer's cache; the sequence length seen so far is cachedLength(cache[0]) (key.shape[2] unless grown in place). */
export type LlamaCache = LlamaLayerKV[];

export type LlamaInputs = CausalLMInputs<LlamaCache>;

export interface LlamaModelOutput extends BaseModelOutput {
  pastKeyValues: LlamaCache | null;
}

interface LlamaLayerOutput {
  output: Tensor;
  present: LlamaLayerKV;
  attention: Tensor | null;
}

// ---- RMSNorm

export class LlamaRMSNorm extends Module {
  weight: Parameter;

  constructor(
    readonly hiddenSize: number,
    readonly eps = 1e-6,
  ) {
    super();
    this.weight = Parameter.zeros([hiddenSize]);
    init.constant_(this.weight, 1);
  }

  /** x [..., H] → x / √(mean(x²) + eps) · weight */
  forward(x: Tensor): Tensor {
    const variance = mean(square(x), -1, { keepDim: true }); // [..., 1]
    return mul(mul(x, rsqrt(affine(variance, 1, this.eps))), this.weight);
  }
}

// ---- rotary positions

const f = Math.fround;

/**
 * The inverse frequencies [head_dim / 2] of a RoPE setting, in f32 as transformers computes them. `seqLen` (the
 * largest position + 1) matters only to "dynamic", which raises the base once a sequence outgrows
 * max_position_embeddings.
 */
export function ropeInverseFrequencies(c: DecoderConfig, seqLen: number): Float32Array {
  const rope = c.rope_parameters;
  const dim = headDim(c);
  let base = rope.rope_theta;
  const factor = rope.factor ?? 1;
  if (rope.rope_type === "dynamic") {
    const len = Math.max(seqLen, c.max_position_embeddings);
    base = base * ((factor * len) / c.max_position_embeddings - (factor - 1)) ** (dim / (dim - 2));
  }
  const inv = new Float32Array(dim / 2);
  for (let i = 0; i < inv.length; i++) inv[i] = f(1 / f(f(base) ** f((2 * i) / dim)));
  if (rope.rope_type === "linear") for (let i = 0; i < inv.length; i++) inv[i] = f(inv[i] / factor);
  if (rope.rope_type === "llama3") {
    const low = rope.low_freq_factor!;
    const high = rope.high_freq_factor!;
    const old = rope.original_max_position_embeddings!;
    const lowWavelen = old / low;
    const highWavelen = old / high;
    for (let i = 0; i < inv.length; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen > lowWavelen) inv[i] = f(inv[i] / factor);
      else if (wavelen >= highWavelen) {
        // between the two wavelengths: interpolate between the scaled and the original frequency
        const smooth = (old / wavelen - low) / (high - low);
        inv[i] = f(((1 - smooth) * inv[i]) / factor + smooth * inv[i]);
      }
    }
  }
  return inv;
}

/** cos and sin tables [P, 1, T, head_dim] for positions [P, T] (P = batch or 1), as LlamaRotaryEmbedding gives them. */
export function rotaryTables(c: DecoderConfig, positions: Tensor): { cos: Tensor; sin: Tensor } {
  const [p, t] = positions.shape;
  const pos = positions.toArray();
  let maxPos = 0;
  for (let i = 0; i < pos.length; i++) {
    if (pos[i] < 0) throw new ShapeError(`${c.model_type}: position id ${pos[i]} at flat index ${i} is negative`);
    maxPos = Math.max(maxPos, pos[i]);
  }
  const inv = ropeInverseFrequencies(c, maxPos + 1);
  const half = inv.length;
  const dim = 2 * half;
  const cos = new Float32Array(p * t * dim);
  const sin = new Float32Array(p * t * dim);
  for (let r = 0; r < p * t; r++) {
    for (let i = 0; i < half; i++) {
      const angle = f(pos[r] * inv[i]);
      const cv = Math.cos(angle);
      const sv = Math.sin(angle);
      // emb = cat(freqs, freqs): both halves of a head turn by the same angles
      cos[r * dim + i] = cos[r * dim + half + i] = cv;
      sin[r * dim + i] = sin[r * dim + half + i] = sv;
    }
  }
  return { cos: new Tensor(cos, [p, 1, t, dim]), sin: new Tensor(sin, [p, 1, t, dim]) };
}

/** x·cos + rotate_half(x)·sin for x [B, h, T, dh], where rotate_half(x) = cat(-x₂, x₁) of its two halves. */
export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const d = x.shape[3];
  const rotated = concat([neg(slice(x, 3, d / 2, d)), slice(x, 3, 0, d / 2)], 3);
  return add(mul(x, cos), mul(rotated, sin));
}

/** [B, kvh, T, dh] → [B, kvh · rep, T, dh]: each key/value head serves `rep` query heads in turn (repeat_kv). */
export function repeatKv(x: Tensor, rep: number): Tensor {
  if (rep === 1) return x;
  const [b, kvh, t, dh] = x.shape;
  return reshape(broadcastTo(reshape(x, [b, kvh, 1, t, dh]), [b, kvh, rep, t, dh]), [b, kvh * rep, t, dh]);
}

/**
 * The attention mask of a decoder step: causal over the cached + new keys, with the padding mask [B, T_past + T]
 * when given, and block-diagonal over packed samples with segment ids [B, T_past + T]. The one place a Llama-family
 * model builds its mask.
 */
export function decoderAttentionMask(opts: {
  batch: number;
  queryLen: number;
  keyLen: number;
  paddingMask: Tensor | null;
  segmentIds?: Tensor | null;
}): AttentionMask {
  return attentionMaskFor({ ...opts, causal: true });
}

// ---- attention, MLP, layer

export class LlamaAttention extends Module {
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  o_proj: Linear;
  attn_dropout: Dropout;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;

  constructor(c: DecoderConfig, rng?: Rng) {
    super();
    this.heads = c.num_attention_heads;
    this.kvHeads = c.num_key_value_heads;
    this.headDim = headDim(c);
    const h = c.hidden_size;
    const bias = qkvBiased(c);
    this.q_proj = new Linear(h, this.heads * this.headDim, { bias, rng });
    this.k_proj = new Linear(h, this.kvHeads * this.headDim, { bias, rng });
    this.v_proj = new Linear(h, this.kvHeads * this.headDim, { bias, rng });
    this.o_proj = new Linear(this.heads * this.headDim, h, { bias: outBiased(c), rng });
    this.attn_dropout = new Dropout(c.attention_dropout, rng);
  }

  /** x [B, T, H], rotary tables [P, 1, T, dh] → output [B, T, H] and this layer's cache including x. */
  forward(
    x: Tensor,
    rope: { cos: Tensor; sin: Tensor },
    mask: AttentionMask,
    past: LlamaLayerKV | null,
    outputAttentions = false,
    grow = false,
  ): LlamaLayerOutput {
    const q = applyRotary(splitHeads(this.q_proj.forward(x), this.heads), rope.cos, rope.sin); // [B, nh, T, dh]
    let k = applyRotary(splitHeads(this.k_proj.forward(x), this.kvHeads), rope.cos, rope.sin); // [B, kvh, T, dh]
    let v = splitHeads(this.v_proj.forward(x), this.kvHeads);
    if (grow && past) {
      // the decode path: this step's keys and values go into the cache's buffers, read there in place (the fused
      // kernel serves each kv head to its query heads without repeating it)
      const kv = appendKV(past, k, v);
      const rep = this.heads / this.kvHeads;
      const a = attendCached(q, kv, mask, {
        scale: this.headDim ** -0.5,
        dropout: this.attn_dropout,
        outputAttentions,
        expand: (t) => repeatKv(t, rep),
      });
      return { output: this.o_proj.forward(mergeHeads(a.context)), present: kv, attention: a.probs };
    }
    if (past) {
      k = concat([past.key, k], 2); // [B, kvh, T_past + T, dh]
      v = concat([past.value, v], 2);
    }
    const rep = this.heads / this.kvHeads;
    const a = attend(q, repeatKv(k, rep), repeatKv(v, rep), mask, {
      scale: this.headDim ** -0.5,
      dropout: this.attn_dropout,
      outputAttentions,
    });
    const present = grow ? appendKV(null, k, v) : { key: k, value: v };
    return { output: this.o_proj.forward(mergeHeads(a.context)), present, attention: a.probs };
  }
}

export class LlamaMLP extends Module {
  gate_proj: Linear;
  up_proj: Linear;
  down_proj: Linear;
  private readonly _silu: boolean;
  private readonly _act: (x: Tensor) => Tensor;

  constructor(c: DecoderConfig, rng?: Rng) {
    super();
    const bias = mlpBiased(c);
    this.gate_proj = new Linear(c.hidden_size, c.intermediate_size, { bias, rng });
    this.up_proj = new Linear(c.hidden_size, c.intermediate_size, { bias, rng });
    this.down_proj = new Linear(c.intermediate_size, c.hidden_size, { bias, rng });
    this._silu = c.hidden_act === "silu" || c.hidden_act === "swish";
    this._act = activation(c.hidden_act);
  }

  /** down(act(gate(x)) · up(x)) */
  forward(x: Tensor): Tensor {
    const gate = this._silu ? this.gate_proj.forward(x, "silu") : this._act(this.gate_proj.forward(x));
    return this.down_proj.forward(mul(gate, this.up_proj.forward(x)));
  }
}

export class LlamaDecoderLayer extends Module {
  input_layernorm: LlamaRMSNorm;
  self_attn: LlamaAttention;
  post_attention_layernorm: LlamaRMSNorm;
  mlp: LlamaMLP;

  constructor(c: DecoderConfig, rng?: Rng) {
    super();
    this.input_layernorm = new LlamaRMSNorm(c.hidden_size, c.rms_norm_eps);
    this.self_attn = new LlamaAttention(c, rng);
    this.post_attention_layernorm = new LlamaRMSNorm(c.hidden_size, c.rms_norm_eps);
    this.mlp = new LlamaMLP(c, rng);
  }

  forward(
    x: Tensor,
    rope: { cos: Tensor; sin: Tensor },
    mask: AttentionMask,
    past: LlamaLayerKV | null,
    outputAttentions = false,
    grow = false,
  ): LlamaLayerOutput {
    const a = this.self_attn.forward(this.input_layernorm.forward(x), rope, mask, past, outputAttentions, grow);
    const h = add(x, a.output);
    return {
      output: add(h, this.mlp.forward(this.post_attention_layernorm.forward(h))),
      present: a.present,
      attention: a.attention,
    };
  }
}

// ---- the model

abstract class LlamaPreTrainedModel extends PreTrainedModel<DecoderConfig> {
  static readonly configSchema: ConfigSchema = LLAMA_CONFIG;
  static readonly baseModelPrefix = "model";
  protected readonly coreModules = ["embed_tokens", "layers", "norm"];

  /** The inverse-frequency buffers old checkpoints saved; transformers recomputes them. */
  protected override get ignoredKeys(): readonly RegExp[] {
    return [/\.rotary_emb\.inv_freq$/];
  }

  protected override paddingIdxOf(moduleName: string): number | null {
    return moduleName.endsWith("embed_tokens") ? this.config.pad_token_id : null;
  }

  protected override initModule(
    name: string,
    m: Module,
    rng: Rng,
    fresh: (p: Parameter | null) => p is Parameter,
  ): void {
    if (m instanceof LlamaRMSNorm) {
      if (fresh(m.weight)) init.constant_(m.weight, 1);
    } else super.initModule(name, m, rng, fresh);
  }
}

export class LlamaModel extends LlamaPreTrainedModel {
  static readonly architecture: string = "LlamaModel";
  embed_tokens: Embedding;
  layers: LlamaDecoderLayer[];
  norm: LlamaRMSNorm;

  constructor(config: DecoderConfig, opts: ModelOptions = {}) {
    super(config);
    this.embed_tokens = new Embedding(config.vocab_size, config.hidden_size, { rng: opts.rng });
    this.layers = Array.from({ length: config.num_hidden_layers }, () => new LlamaDecoderLayer(config, opts.rng));
    this.norm = new LlamaRMSNorm(config.hidden_size, config.rms_norm_eps);
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /**
   * inputIds [B, T] (only the new tokens when pastKeyValues is given); attentionMask [B, T_past + T] covers the
   * cached tokens too; positionIds [B or 1, T] (default T_past, T_past + 1, ...). Returns lastHiddenState [B, T, H]
   * (after the final norm) and, with useCache, the cache including these tokens.
   */
  forward(inputs: LlamaInputs): LlamaModelOutput {
    const past = inputs.pastKeyValues ?? null;
    const ids = inputs.inputIds;
    if (!(ids instanceof Tensor) || ids.dtype !== "i32" || ids.rank !== 2)
      throw new ShapeError(
        `${this.architecture}: inputIds must be an i32 tensor [batch, seq], got ${ids instanceof Tensor ? ids.dtype + fmtShape(ids.shape) : typeof ids}`,
      );
    const [b, t] = ids.shape;
    const c = this.config;
    if (past && past.length !== c.num_hidden_layers)
      throw new ShapeError(
        `${this.architecture}: pastKeyValues has ${past.length} layers, the model ${c.num_hidden_layers}`,
      );
    const pastLen = past ? cachedLength(past[0]) : 0;
    if (past && past[0].key.shape[0] !== b)
      throw new ShapeError(
        `${this.architecture}: pastKeyValues is for a batch of ${past[0].key.shape[0]}, inputIds for ${b}`,
      );
    checkInputs(this.architecture, { ...inputs, attentionMask: null });
    const mask = inputs.attentionMask ?? null;
    if (mask && (mask.rank !== 2 || mask.shape[0] !== b || mask.shape[1] !== pastLen + t))
      throw new ShapeError(
        `${this.architecture}: attentionMask must be [${b}, ${pastLen + t}] (cached + new tokens), got ${fmtShape(mask.shape)}`,
      );
    if (inputs.tokenTypeIds)
      throw new ArgumentError(`${this.architecture}: the model has no token types; pass no tokenTypeIds`);
    checkRange(c.model_type, "input id", ids, c.vocab_size);
    // packed samples: segment ids cover the cached and the new tokens; positions restart at each new segment
    const segments = inputs.segmentIds ?? null;
    if (
      segments &&
      (segments.dtype !== "i32" || segments.rank !== 2 || segments.shape[0] !== b || segments.shape[1] !== pastLen + t)
    )
      throw new ShapeError(
        `${this.architecture}: segmentIds must be i32 [${b}, ${pastLen + t}] (cached + new tokens), got ${segments.dtype}${fmtShape(segments.shape)}`,
      );
    const pos =
      inputs.positionIds ??
      (segments ? slice(segmentPositions(segments), 1, pastLen, pastLen + t) : positionRange(t, pastLen));
    const rope = rotaryTables(c, pos);
    const attn = decoderAttentionMask({
      batch: b,
      queryLen: t,
      keyLen: pastLen + t,
      paddingMask: mask,
      segmentIds: segments,
    });
    const presents: LlamaCache = [];
    const grow = !!inputs.useCache && growsInPlace(inputs.growCache);
    const out = runLayers(
      this.embed_tokens.forward(ids),
      this.layers,
      (layer, x, i) => {
        const r = layer.forward(x, rope, attn, past ? past[i] : null, inputs.outputAttentions, grow);
        if (inputs.useCache) presents.push(r.present); // (a checkpointed layer runs twice; its keys are not kept)
        return r;
      },
      inputs,
    );
    const last = this.norm.forward(out.lastHiddenState);
    // transformers' last hidden state in the tuple is after the final norm
    if (out.hiddenStates) out.hiddenStates[out.hiddenStates.length - 1] = last;
    return {
      lastHiddenState: last,
      poolerOutput: null,
      hiddenStates: out.hiddenStates,
      attentions: out.attentions,
      pastKeyValues: inputs.useCache ? presents : null,
    };
  }
}

// ---- heads

/** Keeps batch rows `rows` of every layer's cache, in that order (beam search). */
export function reorderLlamaCache(cache: LlamaCache, rows: readonly number[]): LlamaCache {
  return cache.map((kv) => reorderKV(kv, rows));
}

export class LlamaForCausalLM extends LlamaPreTrainedModel implements CausalLM<LlamaCache> {
  static readonly architecture: string = "LlamaForCausalLM";
  model: LlamaModel;
  lm_head: Linear;

  get maxPositions(): number {
    return this.config.max_position_embeddings;
  }

  constructor(config: DecoderConfig, opts: ModelOptions = {}) {
    super(config);
    this.model = new LlamaModel(config, { rng: opts.rng, initWeights: false });
    this.lm_head = new Linear(config.hidden_size, config.vocab_size, { bias: false, rng: opts.rng });
    if (config.tie_word_embeddings) this.lm_head.weight = this.model.embed_tokens.weight;
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** logits [B, T, V]; with labels [B, T] i32 the next-token loss (labels shifted inside, -100 ignored). */
  forward(inputs: LlamaInputs): CausalLMOutput<LlamaCache> {
    const out = this.model.forward(inputs);
    const logits = this.lm_head.forward(out.lastHiddenState);
    return {
      logits,
      loss: inputs.labels ? causalLmLoss(logits, inputs.labels) : null,
      pastKeyValues: out.pastKeyValues,
      hiddenStates: out.hiddenStates,
      attentions: out.attentions,
    };
  }

  reorderCache(cache: LlamaCache, rows: readonly number[]): LlamaCache {
    return reorderLlamaCache(cache, rows);
  }
}

export class LlamaForSequenceClassification extends LlamaPreTrainedModel {
  static readonly architecture: string = "LlamaForSequenceClassification";
  model: LlamaModel;
  score: Linear;

  constructor(config: DecoderConfig, opts: ModelOptions = {}) {
    super(config);
    this.model = new LlamaModel(config, { rng: opts.rng, initWeights: false });
    this.score = new Linear(config.hidden_size, numLabels(config), { bias: false, rng: opts.rng });
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** logits [B, num_labels] at each row's rightmost token that is not pad_token_id (transformers' generic head). */
  forward(inputs: LlamaInputs): ClassifierOutput {
    const base = this.model.forward(inputs);
    const [b, t] = inputs.inputIds.shape;
    const pad = this.config.pad_token_id;
    if (pad === null && b !== 1)
      throw new ArgumentError(
        `${this.architecture}: cannot handle batches of ${b} without pad_token_id in the config`,
        "set pad_token_id so the last real token of each row can be found",
      );
    const rows = inputs.inputIds.toRows();
    const classes = this.score.outFeatures;
    const idx = new Int32Array(b * classes);
    rows.forEach((r, i) => {
      let last = pad === null ? t - 1 : 0;
      if (pad !== null)
        for (let j = t - 1; j >= 0; j--)
          if (r[j] !== pad) {
            last = j;
            break;
          }
      idx.fill(last, i * classes, (i + 1) * classes);
    });
    const logits = takeAlong(this.score.forward(base.lastHiddenState), 1, tensor(idx, [b, classes], { dtype: "i32" }));
    return sequenceClassifierOutput(logits, inputs, this.config, base);
  }
}

// Qwen2: the same classes under Qwen2's names and config (biases on q/k/v, its defaults)

export class Qwen2Model extends LlamaModel {
  static override readonly configSchema: ConfigSchema = QWEN2_CONFIG;
  static override readonly architecture: string = "Qwen2Model";
}

export class Qwen2ForCausalLM extends LlamaForCausalLM {
  static override readonly configSchema: ConfigSchema = QWEN2_CONFIG;
  static override readonly architecture: string = "Qwen2ForCausalLM";
}

export class Qwen2ForSequenceClassification extends LlamaForSequenceClassification {
  static override readonly configSchema: ConfigSchema = QWEN2_CONFIG;
  static override readonly architecture: string = "Qwen2ForSequenceClassification";
}

// ---- the architectures

const decoderSpec = {
  dropoutFields: { hidden: [], attention: ["attention_dropout"], classifier: [] },
  tokenTypes: false,
  maxPositions: (c: DecoderConfig) => c.max_position_embeddings,
} as const;

/** Pre-training presets: the preset's width and depth, as many key/value heads as heads, tied embeddings (as SmolLM2). */
const sizedDecoder = (s: ModelSize) => ({
  vocab_size: s.vocabSize,
  hidden_size: s.hidden,
  num_hidden_layers: s.layers,
  num_attention_heads: s.heads,
  num_key_value_heads: s.heads,
  intermediate_size: s.ffn,
  max_position_embeddings: s.positions,
  tie_word_embeddings: true,
  pad_token_id: s.padTokenId,
  bos_token_id: s.eosTokenId,
  eos_token_id: s.eosTokenId,
});

export const LLAMA = defineArchitecture<LlamaConfig>({
  config: LLAMA_CONFIG,
  classPrefix: "Llama",
  heads: {
    base: LlamaModel,
    "causal-lm": LlamaForCausalLM,
    "sequence-classification": LlamaForSequenceClassification,
  },
  ...decoderSpec,
  sizedConfig: sizedDecoder,
});

export const QWEN2 = defineArchitecture<Qwen2Config>({
  config: QWEN2_CONFIG,
  classPrefix: "Qwen2",
  heads: {
    base: Qwen2Model,
    "causal-lm": Qwen2ForCausalLM,
    "sequence-classification": Qwen2ForSequenceClassification,
  },
  ...decoderSpec,
  sizedConfig: sizedDecoder,
});
