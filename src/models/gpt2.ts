/**
 * GPT-2, as transformers' modeling_gpt2.py computes it, read top to bottom: config → Conv1D → attention (with a
 * key/value cache) → MLP → block → GPT2Model → heads (causal LM, sequence classification, token classification) →
 * the architecture spec.
 * Names: `transformer.{wte, wpe, h.N.{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj}, ln_f}`, `lm_head`.
 *
 * Details that decide equality with transformers: Conv1D stores its weight as [in, out] (the OpenAI layout), so it
 * computes x·W + b with no transpose and checkpoints load as they are; pre-LN blocks with eps layer_norm_epsilon
 * (1e-5); activation_function "gelu_new" is the tanh GELU; scores scaled by 1/√d_head (scale_attn_weights, and
 * 1/(layer+1) more with scale_attn_by_inverse_layer_idx); the causal mask and the padding mask are combined, masked
 * scores get the most negative f32 (a left-padding position, which may attend to nothing, gets a zero context as
 * in transformers' default SDPA attention); positions continue from the cached length; lm_head shares wte's matrix.
 * The sequence classifier scores the rightmost token that is not pad_token_id.
 */
import { ArgumentError, ShapeError, fmtShape } from "../util/errors.js";
import type { Rng } from "../util/rng.js";
import { Tensor, add, concat, matmul, slice, takeAlong, tensor } from "../tensor/index.js";
import {
  Dropout,
  Embedding,
  LayerNorm,
  Linear,
  Module,
  Parameter,
  activation,
  init,
  mergeHeads,
  splitHeads,
} from "../nn/index.js";
import {
  type ConfigOfSchema,
  bool,
  defineConfig,
  field,
  headsDivide,
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
  runLayers,
  segmentPositions,
  type BaseModelOutput,
  type CausalLM,
  type CausalLMInputs,
  type CausalLMOutput,
  type ClassifierOutput,
} from "./interfaces.js";
import { type CachedKV, appendKV, attendCached, cachedLength, growsInPlace, reorderKV } from "./kv-cache.js";
import { causalLmLoss, sequenceClassifierOutput, tokenOutput } from "./losses.js";
import { defineArchitecture } from "./architecture.js";

// ---- config

export const GPT2_CONFIG = defineConfig(
  "gpt2",
  {
    vocab_size: field(posInt, 50257),
    n_positions: field(posInt, 1024),
    n_embd: field(posInt, 768),
    n_layer: field(nonNegInt, 12),
    n_head: field(posInt, 12),
    /** Feed-forward width; null means 4 × n_embd. */
    n_inner: field(nullable(posInt), null),
    activation_function: field(str, "gelu_new"),
    resid_pdrop: field(prob, 0.1),
    embd_pdrop: field(prob, 0.1),
    attn_pdrop: field(prob, 0.1),
    layer_norm_epsilon: field(positive, 1e-5),
    initializer_range: field(positive, 0.02),
    summary_type: field(str, "cls_index"),
    summary_use_proj: field(bool, true),
    summary_activation: field(nullable(str), null),
    summary_proj_to_labels: field(bool, true),
    summary_first_dropout: field(prob, 0.1),
    scale_attn_weights: field(bool, true),
    use_cache: field(bool, true),
    scale_attn_by_inverse_layer_idx: field(bool, false),
    reorder_and_upcast_attn: field(bool, false),
  },
  {
    baseDefaults: { bos_token_id: 50256, eos_token_id: 50256 },
    aliases: {
      hidden_size: "n_embd",
      max_position_embeddings: "n_positions",
      num_attention_heads: "n_head",
      num_hidden_layers: "n_layer",
    },
    rule: headsDivide("n_embd", "n_head"),
    // GPT2Model: wte, wpe, per block ln_1, c_attn, c_proj, ln_2, c_fc, c_proj; ln_f
    parameters: (c) => {
      const h = c.n_embd;
      const i = c.n_inner ?? 4 * h;
      const block = 2 * h + (3 * h * h + 3 * h) + (h * h + h) + 2 * h + (h * i + i) + (i * h + h);
      return (c.vocab_size + c.n_positions) * h + c.n_layer * block + 2 * h;
    },
  },
);
export type Gpt2Config = ConfigOfSchema<typeof GPT2_CONFIG>;

/**
 * One layer's cached keys and values, [B, nh, T_past, dh] each; a cache grown in place (growCache) holds
 * [B, nh, capacity, dh] buffers of which `length` rows are filled (kv-cache.ts).
 */
export interface LayerKV extends CachedKV {
  key: Tensor;
  value: Tensor;
}

/** Every layer's cache; the sequence length seen so far is cachedLength(cache[0]) (key.shape[2] unless grown in place). */
export type KVCache = LayerKV[];

export type Gpt2Inputs = CausalLMInputs<KVCache>;

export interface Gpt2ModelOutput extends BaseModelOutput {
  pastKeyValues: KVCache | null;
}

/** What an attention layer or a block gives: its output, its keys/values, its attention probabilities if asked. */
interface Gpt2LayerOutput {
  output: Tensor;
  present: LayerKV;
  attention: Tensor | null;
}

// ---- Conv1D

/** transformers' Conv1D: a linear layer whose weight is stored transposed, [nx, nf]. */
export class Conv1D extends Module {
  weight: Parameter;
  bias: Parameter;

  constructor(
    readonly nf: number,
    readonly nx: number,
  ) {
    super();
    this.weight = Parameter.zeros([nx, nf]);
    this.bias = Parameter.zeros([nf]);
  }

  /** x [..., nx] → [..., nf] */
  forward(x: Tensor): Tensor {
    return add(matmul(x, this.weight), this.bias);
  }
}

// ---- attention, MLP, block

export class GPT2Attention extends Module {
  c_attn: Conv1D;
  c_proj: Conv1D;
  attn_dropout: Dropout;
  resid_dropout: Dropout;
  private readonly _heads: number;
  private readonly _scale: number;

  constructor(c: Gpt2Config, layerIdx: number, rng?: Rng) {
    super();
    this._heads = c.n_head;
    this.c_attn = new Conv1D(3 * c.n_embd, c.n_embd);
    this.c_proj = new Conv1D(c.n_embd, c.n_embd);
    this.attn_dropout = new Dropout(c.attn_pdrop, rng);
    this.resid_dropout = new Dropout(c.resid_pdrop, rng);
    let scale = c.scale_attn_weights ? 1 / Math.sqrt(c.n_embd / c.n_head) : 1;
    if (c.scale_attn_by_inverse_layer_idx) scale /= layerIdx + 1;
    this._scale = scale;
  }

  /**
   * x [B, T, H] → output [B, T, H], this layer's keys/values including x (mask: padding over T_past + T keys,
   * causal), and the attention probabilities when asked.
   */
  forward(
    x: Tensor,
    mask: AttentionMask,
    past: LayerKV | null,
    outputAttentions = false,
    grow = false,
  ): Gpt2LayerOutput {
    const h = x.shape[2];
    const qkv = this.c_attn.forward(x); // [B, T, 3H]
    const q = splitHeads(slice(qkv, 2, 0, h), this._heads); // [B, nh, T, dh]
    let k = splitHeads(slice(qkv, 2, h, 2 * h), this._heads);
    let v = splitHeads(slice(qkv, 2, 2 * h, 3 * h), this._heads);
    if (grow) {
      // the decode path: this step's keys and values go into the cache's buffers, read there in place
      const kv = appendKV(past, k, v);
      const opts = { scale: this._scale, dropout: this.attn_dropout, outputAttentions };
      const a = past ? attendCached(q, kv, mask, opts) : attend(q, k, v, mask, opts);
      const output = this.resid_dropout.forward(this.c_proj.forward(mergeHeads(a.context)));
      return { output, present: kv, attention: a.probs };
    }
    if (past) {
      k = concat([past.key, k], 2); // [B, nh, T_past + T, dh]
      v = concat([past.value, v], 2);
    }
    const a = attend(q, k, v, mask, { scale: this._scale, dropout: this.attn_dropout, outputAttentions });
    const output = this.resid_dropout.forward(this.c_proj.forward(mergeHeads(a.context)));
    return { output, present: { key: k, value: v }, attention: a.probs };
  }
}

export class GPT2MLP extends Module {
  c_fc: Conv1D;
  c_proj: Conv1D;
  dropout: Dropout;
  private readonly _act: (x: Tensor) => Tensor;

  constructor(c: Gpt2Config, rng?: Rng) {
    super();
    const inner = c.n_inner ?? 4 * c.n_embd;
    this.c_fc = new Conv1D(inner, c.n_embd);
    this.c_proj = new Conv1D(c.n_embd, inner);
    this._act = activation(c.activation_function);
    this.dropout = new Dropout(c.resid_pdrop, rng);
  }

  forward(x: Tensor): Tensor {
    return this.dropout.forward(this.c_proj.forward(this._act(this.c_fc.forward(x))));
  }
}

export class GPT2Block extends Module {
  ln_1: LayerNorm;
  attn: GPT2Attention;
  ln_2: LayerNorm;
  mlp: GPT2MLP;

  constructor(c: Gpt2Config, layerIdx: number, rng?: Rng) {
    super();
    this.ln_1 = new LayerNorm(c.n_embd, c.layer_norm_epsilon);
    this.attn = new GPT2Attention(c, layerIdx, rng);
    this.ln_2 = new LayerNorm(c.n_embd, c.layer_norm_epsilon);
    this.mlp = new GPT2MLP(c, rng);
  }

  forward(
    x: Tensor,
    mask: AttentionMask,
    past: LayerKV | null,
    outputAttentions = false,
    grow = false,
  ): Gpt2LayerOutput {
    const a = this.attn.forward(this.ln_1.forward(x), mask, past, outputAttentions, grow);
    const h = add(x, a.output);
    return { output: add(h, this.mlp.forward(this.ln_2.forward(h))), present: a.present, attention: a.attention };
  }
}

// ---- the model

abstract class GPT2PreTrainedModel extends PreTrainedModel<Gpt2Config> {
  static readonly configSchema = GPT2_CONFIG;
  static readonly baseModelPrefix = "transformer";
  protected readonly coreModules = ["wte", "wpe", "h", "ln_f"];

  /** The causal-mask buffers old checkpoints saved; transformers builds masks instead. */
  protected override get ignoredKeys(): readonly RegExp[] {
    return [/\.attn\.(bias|masked_bias)$/, /\.crossattention\.(bias|masked_bias)$/];
  }

  protected override initModule(
    name: string,
    m: Module,
    rng: Rng,
    fresh: (p: Parameter | null) => p is Parameter,
  ): void {
    const std = this.initializerRange;
    if (m instanceof GPT2Attention || m instanceof GPT2MLP) {
      // GPT-2's scaled init: residual projections N(0, range / √(2 · n_layer))
      if (fresh(m.c_proj.weight)) init.normal_(m.c_proj.weight, std / Math.sqrt(2 * this.config.n_layer), rng);
    } else if (m instanceof Conv1D) {
      if (fresh(m.weight)) init.normal_(m.weight, std, rng);
      if (fresh(m.bias)) init.constant_(m.bias, 0);
    } else {
      super.initModule(name, m, rng, fresh);
    }
  }
}

export class GPT2Model extends GPT2PreTrainedModel {
  static readonly architecture = "GPT2Model";
  wte: Embedding;
  wpe: Embedding;
  drop: Dropout;
  h: GPT2Block[];
  ln_f: LayerNorm;

  constructor(config: Gpt2Config, opts: ModelOptions = {}) {
    super(config);
    if (config.add_cross_attention)
      throw new ArgumentError("gpt2: add_cross_attention (GPT-2 as an encoder-decoder's decoder) is not supported");
    this.wte = new Embedding(config.vocab_size, config.n_embd, { rng: opts.rng });
    this.wpe = new Embedding(config.n_positions, config.n_embd, { rng: opts.rng });
    this.drop = new Dropout(config.embd_pdrop, opts.rng);
    this.h = Array.from({ length: config.n_layer }, (_, i) => new GPT2Block(config, i, opts.rng));
    this.ln_f = new LayerNorm(config.n_embd, config.layer_norm_epsilon);
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /**
   * inputIds [B, T] (only the new tokens when pastKeyValues is given); attentionMask [B, T_past + T] covers the
   * cached tokens too. Returns lastHiddenState [B, T, H] and, with useCache, the cache including these tokens.
   */
  forward(inputs: Gpt2Inputs): Gpt2ModelOutput {
    const past = inputs.pastKeyValues ?? null;
    const ids = inputs.inputIds;
    if (!(ids instanceof Tensor) || ids.dtype !== "i32" || ids.rank !== 2)
      throw new ShapeError(
        `${this.architecture}: inputIds must be an i32 tensor [batch, seq], got ${ids instanceof Tensor ? ids.dtype + fmtShape(ids.shape) : typeof ids}`,
      );
    const [b, t] = ids.shape;
    const c = this.config;
    if (past && past.length !== c.n_layer)
      throw new ShapeError(`${this.architecture}: pastKeyValues has ${past.length} layers, the model ${c.n_layer}`);
    const pastLen = past ? cachedLength(past[0]) : 0;
    if (past && past[0].key.shape[0] !== b)
      throw new ShapeError(
        `${this.architecture}: pastKeyValues is for a batch of ${past[0].key.shape[0]}, inputIds for ${b}`,
      );
    checkInputs(this.architecture, { ...inputs, attentionMask: null });
    const mask = inputs.attentionMask ?? null;
    if (mask && (mask.rank !== 2 || mask.shape[0] !== b || mask.shape[1] !== pastLen + t)) {
      throw new ShapeError(
        `${this.architecture}: attentionMask must be [${b}, ${pastLen + t}] (cached + new tokens), got ${fmtShape(mask.shape)}`,
      );
    }
    checkRange("gpt2", "input id", ids, c.vocab_size);
    // packed samples: segment ids cover the cached and the new tokens; positions restart at each new segment
    const segments = inputs.segmentIds ?? null;
    if (
      segments &&
      (segments.dtype !== "i32" || segments.rank !== 2 || segments.shape[0] !== b || segments.shape[1] !== pastLen + t)
    )
      throw new ShapeError(
        `${this.architecture}: segmentIds must be i32 [${b}, ${pastLen + t}] (cached + new tokens), got ${segments.dtype}${fmtShape(segments.shape)}`,
      );
    if (!inputs.positionIds && !segments && pastLen + t > c.n_positions)
      throw new ShapeError(`gpt2: ${pastLen + t} tokens exceed n_positions (${c.n_positions})`);
    const pos =
      inputs.positionIds ??
      (segments ? slice(segmentPositions(segments), 1, pastLen, pastLen + t) : positionRange(t, pastLen));
    checkRange("gpt2", "position id", pos, c.n_positions);
    let h = add(this.wte.forward(ids), this.wpe.forward(pos)); // [B, T, H]
    if (inputs.tokenTypeIds) {
      checkRange("gpt2", "token type id", inputs.tokenTypeIds, c.vocab_size);
      h = add(h, this.wte.forward(inputs.tokenTypeIds)); // GPT-2 embeds token types with wte
    }
    h = this.drop.forward(h);
    // [B or 1, 1, T, T_past + T]: key j visible to query i when j ≤ T_past + i and j is not padding
    // with segmentIds also block-diagonal: a token sees only earlier tokens of its own sample
    const attn = attentionMaskFor({
      batch: b,
      queryLen: t,
      keyLen: pastLen + t,
      paddingMask: mask,
      causal: true,
      segmentIds: segments,
    });
    const presents: KVCache = [];
    const grow = !!inputs.useCache && growsInPlace(inputs.growCache);
    const out = runLayers(
      h,
      this.h,
      (block, x, i) => {
        const r = block.forward(x, attn, past ? past[i] : null, inputs.outputAttentions, grow);
        if (inputs.useCache) presents.push(r.present); // (a checkpointed layer runs twice; its keys are not kept)
        return r;
      },
      inputs,
    );
    const last = this.ln_f.forward(out.lastHiddenState);
    // transformers' last hidden state in the tuple is after ln_f
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

export class GPT2LMHeadModel extends GPT2PreTrainedModel implements CausalLM<KVCache> {
  static readonly architecture = "GPT2LMHeadModel";
  transformer: GPT2Model;
  lm_head: Linear;

  get maxPositions(): number {
    return this.config.n_positions;
  }

  constructor(config: Gpt2Config, opts: ModelOptions = {}) {
    super(config);
    this.transformer = new GPT2Model(config, { rng: opts.rng, initWeights: false });
    this.lm_head = new Linear(config.n_embd, config.vocab_size, { bias: false, rng: opts.rng });
    if (config.tie_word_embeddings) this.lm_head.weight = this.transformer.wte.weight;
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** logits [B, T, V]; with labels [B, T] i32 the next-token loss (labels shifted inside, -100 ignored). */
  forward(inputs: Gpt2Inputs): CausalLMOutput<KVCache> {
    const out = this.transformer.forward(inputs);
    const logits = this.lm_head.forward(out.lastHiddenState);
    return {
      logits,
      loss: inputs.labels ? causalLmLoss(logits, inputs.labels) : null,
      pastKeyValues: out.pastKeyValues,
      hiddenStates: out.hiddenStates,
      attentions: out.attentions,
    };
  }

  /** The cache keeping batch rows `rows` (beam search): each layer's keys and values gathered along the batch. */
  reorderCache(cache: KVCache, rows: readonly number[]): KVCache {
    return cache.map((l) => reorderKV(l, rows));
  }
}

/** For each row, the rightmost position whose token is not `pad` (0 when all are), as transformers picks it. */
export function lastNonPadIndex(ids: Tensor, pad: number): Tensor {
  const [b, t] = ids.shape;
  const d = ids.toArray();
  const idx = new Int32Array(b);
  for (let i = 0; i < b; i++) {
    for (let j = t - 1; j >= 0; j--) {
      if (d[i * t + j] !== pad) {
        idx[i] = j;
        break;
      }
    }
  }
  return tensor(idx, [b], { dtype: "i32" });
}

export class GPT2ForSequenceClassification extends GPT2PreTrainedModel {
  static readonly architecture = "GPT2ForSequenceClassification";
  transformer: GPT2Model;
  score: Linear;

  constructor(config: Gpt2Config, opts: ModelOptions = {}) {
    super(config);
    this.transformer = new GPT2Model(config, { rng: opts.rng, initWeights: false });
    this.score = new Linear(config.n_embd, numLabels(config), { bias: false, rng: opts.rng });
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** logits [B, num_labels] at each row's last token that is not pad_token_id. */
  forward(inputs: Gpt2Inputs): ClassifierOutput {
    const base = this.transformer.forward(inputs);
    const h = base.lastHiddenState; // [B, T, H]
    const [b, t] = inputs.inputIds.shape;
    const pad = this.config.pad_token_id;
    if (pad === null && b !== 1)
      throw new ArgumentError(
        `${this.architecture}: cannot handle batches of ${b} without pad_token_id in the config`,
        "set pad_token_id (often the eos token, 50256 for GPT-2) so the last real token of each row can be found",
      );
    const last =
      pad === null
        ? tensor(new Int32Array(b).fill(t - 1), [b], { dtype: "i32" })
        : lastNonPadIndex(inputs.inputIds, pad);
    const logits = takeAlong(this.score.forward(h), 1, expandIndex(last, this.score.outFeatures)); // [B, C]
    return sequenceClassifierOutput(logits, inputs, this.config, base);
  }
}

/** idx [B] → [B, C] (the same position for every class), the index takeAlong needs to pick one row per batch item. */
function expandIndex(idx: Tensor, classes: number): Tensor {
  const b = idx.size;
  const d = idx.toArray();
  const out = new Int32Array(b * classes);
  for (let i = 0; i < b; i++) out.fill(d[i], i * classes, (i + 1) * classes);
  return tensor(out, [b, classes], { dtype: "i32" });
}

export class GPT2ForTokenClassification extends GPT2PreTrainedModel {
  static readonly architecture = "GPT2ForTokenClassification";
  transformer: GPT2Model;
  dropout: Dropout;
  classifier: Linear;

  constructor(config: Gpt2Config, opts: ModelOptions = {}) {
    super(config);
    this.transformer = new GPT2Model(config, { rng: opts.rng, initWeights: false });
    const p =
      typeof config.classifier_dropout === "number"
        ? config.classifier_dropout
        : typeof config.hidden_dropout === "number"
          ? config.hidden_dropout
          : 0.1;
    this.dropout = new Dropout(p, opts.rng);
    this.classifier = new Linear(config.n_embd, numLabels(config), { rng: opts.rng });
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** logits [B, T, num_labels]; labels [B, T] i32 with -100 on positions not scored. */
  forward(inputs: Gpt2Inputs): ClassifierOutput {
    const base = this.transformer.forward(inputs);
    return tokenOutput(this.classifier.forward(this.dropout.forward(base.lastHiddenState)), inputs, base);
  }
}

// ---- the architecture

export const GPT2 = defineArchitecture<Gpt2Config>({
  config: GPT2_CONFIG,
  classPrefix: "GPT2",
  heads: {
    base: GPT2Model,
    "causal-lm": GPT2LMHeadModel,
    "sequence-classification": GPT2ForSequenceClassification,
    "token-classification": GPT2ForTokenClassification,
  },
  dropoutFields: {
    hidden: ["resid_pdrop", "embd_pdrop"],
    attention: ["attn_pdrop"],
    classifier: ["classifier_dropout", "summary_first_dropout"],
  },
  tokenTypes: false,
  maxPositions: (c) => c.n_positions,
  sizedConfig: (s) => ({
    vocab_size: s.vocabSize,
    n_embd: s.hidden,
    n_layer: s.layers,
    n_head: s.heads,
    n_inner: s.ffn,
    n_positions: s.positions,
    bos_token_id: s.eosTokenId,
    eos_token_id: s.eosTokenId,
  }),
});
