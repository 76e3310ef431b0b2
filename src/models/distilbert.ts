/**
 * DistilBERT, as transformers' modeling_distilbert.py computes it, read top to bottom: config → embeddings →
 * self-attention → feed-forward → transformer block → transformer → DistilBertModel → heads → the architecture spec.
 * (transformers names the block and the stack TransformerBlock and Transformer; graft prefixes them with DistilBert,
 * as nn/ has a generic TransformerBlock. Module class names are not part of checkpoint names.)
 * Names: `distilbert.embeddings.{word_embeddings, position_embeddings, LayerNorm}`,
 * `distilbert.transformer.layer.N.{attention.{q,k,v,out}_lin, sa_layer_norm, ffn.lin1, ffn.lin2, output_layer_norm}`.
 *
 * What differs from BERT: no token types, no pooler; every LayerNorm uses eps 1e-12 whatever the config says;
 * the classification head is `pre_classifier` + ReLU on the first token, then `classifier`; the masked-LM head is
 * `vocab_transform` + the config's activation + `vocab_layer_norm` + `vocab_projector` (weight tied to the word
 * embeddings, bias its own). With sinusoidal_pos_embds the position table starts as sin/cos (and is saved as weights).
 */
import { ShapeError } from "../util/errors.js";
import type { Rng } from "../util/rng.js";
import { Tensor, add, copy_, relu, reshape, slice } from "../tensor/index.js";
import type { Activation as KernelActivation } from "../backend/index.js";
import { Dropout, Embedding, LayerNorm, Linear, Module, type Parameter, fusedActivation } from "../nn/index.js";
import {
  type ConfigOfSchema,
  bool,
  defineConfig,
  field,
  headsDivide,
  nonNegInt,
  numLabels,
  posInt,
  positive,
  prob,
  str,
} from "../io/config.js";
import { PreTrainedModel, type ModelOptions } from "./pretrained.js";
import {
  attentionMaskFor,
  type AttentionMask,
  checkInputs,
  checkRange,
  positionRange,
  runLayers,
  selfAttention,
  type BaseModelOutput,
  type ClassifierOutput,
  type LayerStep,
  type LMOutput,
  type ModelInputs,
} from "./interfaces.js";
import { sequenceClassifierOutput, tokenOutput } from "./losses.js";
import { defineArchitecture } from "./architecture.js";

// ---- config

export const DISTILBERT_CONFIG = defineConfig(
  "distilbert",
  {
    vocab_size: field(posInt, 30522),
    max_position_embeddings: field(posInt, 512),
    sinusoidal_pos_embds: field(bool, false),
    n_layers: field(nonNegInt, 6),
    n_heads: field(posInt, 12),
    dim: field(posInt, 768),
    hidden_dim: field(posInt, 3072),
    dropout: field(prob, 0.1),
    attention_dropout: field(prob, 0.1),
    activation: field(str, "gelu"),
    initializer_range: field(positive, 0.02),
    qa_dropout: field(prob, 0.1),
    seq_classif_dropout: field(prob, 0.2),
  },
  {
    baseDefaults: { pad_token_id: 0 },
    aliases: { hidden_size: "dim", num_attention_heads: "n_heads", num_hidden_layers: "n_layers" },
    rule: headsDivide("dim", "n_heads"),
    // DistilBertModel: embeddings + LayerNorm, per layer attention, sa_layer_norm, ffn, output_layer_norm
    parameters: (c) => {
      const { dim: d, hidden_dim: f } = c;
      const layer = 4 * (d * d + d) + 2 * d + (d * f + f) + (f * d + d) + 2 * d;
      return (c.vocab_size + c.max_position_embeddings) * d + 2 * d + c.n_layers * layer;
    },
  },
);
export type DistilBertConfig = ConfigOfSchema<typeof DISTILBERT_CONFIG>;

/** transformers hard-codes this epsilon in every DistilBERT LayerNorm. */
const EPS = 1e-12;

/** The fixed table of "Attention is all you need": even columns sin(pos / 10000^(2⌊j/2⌋/dim)), odd columns cos. */
export function sinusoidalPositions(nPos: number, dim: number, out: Float32Array): void {
  for (let pos = 0; pos < nPos; pos++) {
    for (let j = 0; j < dim; j++) {
      const angle = pos / Math.pow(10000, (2 * Math.floor(j / 2)) / dim);
      out[pos * dim + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
}

// ---- embeddings

export class DistilBertEmbeddings extends Module {
  word_embeddings: Embedding;
  position_embeddings: Embedding;
  LayerNorm: LayerNorm;
  dropout: Dropout;

  constructor(
    private readonly _config: DistilBertConfig,
    rng?: Rng,
  ) {
    super();
    const c = _config;
    this.word_embeddings = new Embedding(c.vocab_size, c.dim, { paddingIdx: c.pad_token_id ?? undefined, rng });
    this.position_embeddings = new Embedding(c.max_position_embeddings, c.dim, { rng });
    this.LayerNorm = new LayerNorm(c.dim, EPS);
    this.dropout = new Dropout(c.dropout, rng);
  }

  /** ids [B, T] → [B, T, dim] */
  forward(ids: Tensor, positionIds: Tensor | null = null): Tensor {
    const t = ids.shape[1];
    const c = this._config;
    checkRange("distilbert", "input id", ids, c.vocab_size);
    if (!positionIds && t > c.max_position_embeddings)
      throw new ShapeError(
        `distilbert: a sequence of ${t} tokens is longer than max_position_embeddings (${c.max_position_embeddings})`,
      );
    const pos = positionIds ?? positionRange(t);
    checkRange("distilbert", "position id", pos, c.max_position_embeddings);
    const h = add(this.word_embeddings.forward(ids), this.position_embeddings.forward(pos));
    return this.dropout.forward(this.LayerNorm.forward(h));
  }
}

// ---- attention, feed-forward, block

export class DistilBertSelfAttention extends Module {
  q_lin: Linear;
  k_lin: Linear;
  v_lin: Linear;
  out_lin: Linear;
  dropout: Dropout;

  constructor(
    private readonly _heads: number,
    dim: number,
    dropout: number,
    rng?: Rng,
  ) {
    super();
    this.q_lin = new Linear(dim, dim, { rng });
    this.k_lin = new Linear(dim, dim, { rng });
    this.v_lin = new Linear(dim, dim, { rng });
    this.out_lin = new Linear(dim, dim, { rng });
    this.dropout = new Dropout(dropout, rng);
  }

  /** x [B, T, dim] → [B, T, dim] (padding mask in `mask`), and the probabilities when asked */
  forward(x: Tensor, mask: AttentionMask, outputAttentions = false): LayerStep {
    const proj = { q: this.q_lin, k: this.k_lin, v: this.v_lin };
    const a = selfAttention(x, proj, this._heads, mask, { dropout: this.dropout, outputAttentions });
    return { output: this.out_lin.forward(a.output), attention: a.attention };
  }
}

export class DistilBertFFN extends Module {
  dropout: Dropout;
  lin1: Linear;
  lin2: Linear;
  private readonly _act: KernelActivation;

  constructor(c: DistilBertConfig, rng?: Rng) {
    super();
    this.dropout = new Dropout(c.dropout, rng);
    this.lin1 = new Linear(c.dim, c.hidden_dim, { rng });
    this.lin2 = new Linear(c.hidden_dim, c.dim, { rng });
    this._act = fusedActivation(c.activation);
  }

  forward(x: Tensor): Tensor {
    return this.dropout.forward(this.lin2.forward(this.lin1.forward(x, this._act)));
  }
}

export class DistilBertTransformerBlock extends Module {
  attention: DistilBertSelfAttention;
  sa_layer_norm: LayerNorm;
  ffn: DistilBertFFN;
  output_layer_norm: LayerNorm;

  constructor(c: DistilBertConfig, rng?: Rng) {
    super();
    this.attention = new DistilBertSelfAttention(c.n_heads, c.dim, c.attention_dropout, rng);
    this.sa_layer_norm = new LayerNorm(c.dim, EPS);
    this.ffn = new DistilBertFFN(c, rng);
    this.output_layer_norm = new LayerNorm(c.dim, EPS);
  }

  forward(x: Tensor, mask: AttentionMask, outputAttentions = false): LayerStep {
    const sa = this.attention.forward(x, mask, outputAttentions);
    const a = this.sa_layer_norm.forward(add(sa.output, x));
    return { output: this.output_layer_norm.forward(add(this.ffn.forward(a), a)), attention: sa.attention };
  }
}

export class DistilBertTransformer extends Module {
  layer: DistilBertTransformerBlock[];

  constructor(c: DistilBertConfig, rng?: Rng) {
    super();
    this.layer = Array.from({ length: c.n_layers }, () => new DistilBertTransformerBlock(c, rng));
  }

  forward(x: Tensor, mask: AttentionMask, want: { outputHiddenStates?: boolean; outputAttentions?: boolean } = {}) {
    return runLayers(x, this.layer, (l, h) => l.forward(h, mask, want.outputAttentions), want);
  }
}

// ---- the model

abstract class DistilBertPreTrainedModel extends PreTrainedModel<DistilBertConfig> {
  static readonly configSchema = DISTILBERT_CONFIG;
  static readonly baseModelPrefix = "distilbert";
  protected readonly coreModules = ["embeddings", "transformer"];

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
    if (m instanceof DistilBertEmbeddings && this.config.sinusoidal_pos_embds && fresh(m.position_embeddings.weight)) {
      const table = new Float32Array(m.position_embeddings.weight.size);
      sinusoidalPositions(this.config.max_position_embeddings, this.config.dim, table);
      copy_(m.position_embeddings.weight, new Tensor(table, m.position_embeddings.weight.shape));
    }
    super.initModule(name, m, rng, fresh);
  }
}

export class DistilBertModel extends DistilBertPreTrainedModel {
  static readonly architecture = "DistilBertModel";
  embeddings: DistilBertEmbeddings;
  transformer: DistilBertTransformer;

  constructor(config: DistilBertConfig, opts: ModelOptions = {}) {
    super(config);
    this.embeddings = new DistilBertEmbeddings(config, opts.rng);
    this.transformer = new DistilBertTransformer(config, opts.rng);
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** lastHiddenState [B, T, dim]; DistilBERT has no pooler (poolerOutput is null). */
  forward(inputs: ModelInputs): BaseModelOutput {
    const [b, t] = checkInputs(this.architecture, inputs);
    if (inputs.tokenTypeIds)
      throw new ShapeError("DistilBertModel: DistilBERT has no token types; do not pass tokenTypeIds");
    const h0 = this.embeddings.forward(inputs.inputIds, inputs.positionIds ?? null);
    const mask = attentionMaskFor({ batch: b, queryLen: t, keyLen: t, paddingMask: inputs.attentionMask ?? null });
    return { ...this.transformer.forward(h0, mask, inputs), poolerOutput: null };
  }
}

// ---- heads

export class DistilBertForMaskedLM extends DistilBertPreTrainedModel {
  static readonly architecture = "DistilBertForMaskedLM";
  distilbert: DistilBertModel;
  vocab_transform: Linear;
  vocab_layer_norm: LayerNorm;
  vocab_projector: Linear;
  private readonly _act: KernelActivation;

  constructor(config: DistilBertConfig, opts: ModelOptions = {}) {
    super(config);
    this._act = fusedActivation(config.activation);
    this.distilbert = new DistilBertModel(config, { rng: opts.rng, initWeights: false });
    this.vocab_transform = new Linear(config.dim, config.dim, { rng: opts.rng });
    this.vocab_layer_norm = new LayerNorm(config.dim, EPS);
    this.vocab_projector = new Linear(config.dim, config.vocab_size, { rng: opts.rng });
    if (config.tie_word_embeddings) this.vocab_projector.weight = this.distilbert.embeddings.word_embeddings.weight;
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** logits [B, T, V]; labels [B, T] i32 with -100 where no prediction is scored. */
  forward(inputs: ModelInputs): LMOutput {
    const base = this.distilbert.forward(inputs);
    const h = this.vocab_layer_norm.forward(this.vocab_transform.forward(base.lastHiddenState, this._act));
    return tokenOutput(this.vocab_projector.forward(h), inputs, base);
  }
}

export class DistilBertForSequenceClassification extends DistilBertPreTrainedModel {
  static readonly architecture = "DistilBertForSequenceClassification";
  distilbert: DistilBertModel;
  pre_classifier: Linear;
  classifier: Linear;
  dropout: Dropout;

  constructor(config: DistilBertConfig, opts: ModelOptions = {}) {
    super(config);
    this.distilbert = new DistilBertModel(config, { rng: opts.rng, initWeights: false });
    this.pre_classifier = new Linear(config.dim, config.dim, { rng: opts.rng });
    this.classifier = new Linear(config.dim, numLabels(config), { rng: opts.rng });
    this.dropout = new Dropout(config.seq_classif_dropout, opts.rng);
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** logits [B, num_labels] from the first token through pre_classifier + ReLU. */
  forward(inputs: ModelInputs): ClassifierOutput {
    const base = this.distilbert.forward(inputs);
    const h = base.lastHiddenState;
    const [b, , d] = h.shape;
    const pooled = this.dropout.forward(relu(this.pre_classifier.forward(reshape(slice(h, 1, 0, 1), [b, d]))));
    return sequenceClassifierOutput(this.classifier.forward(pooled), inputs, this.config, base);
  }
}

export class DistilBertForTokenClassification extends DistilBertPreTrainedModel {
  static readonly architecture = "DistilBertForTokenClassification";
  distilbert: DistilBertModel;
  dropout: Dropout;
  classifier: Linear;

  constructor(config: DistilBertConfig, opts: ModelOptions = {}) {
    super(config);
    this.distilbert = new DistilBertModel(config, { rng: opts.rng, initWeights: false });
    this.dropout = new Dropout(config.dropout, opts.rng);
    this.classifier = new Linear(config.dim, numLabels(config), { rng: opts.rng });
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** logits [B, T, num_labels]; labels [B, T] i32 with -100 on positions not scored. */
  forward(inputs: ModelInputs): ClassifierOutput {
    const base = this.distilbert.forward(inputs);
    return tokenOutput(this.classifier.forward(this.dropout.forward(base.lastHiddenState)), inputs, base);
  }
}

// ---- the architecture

export const DISTILBERT = defineArchitecture<DistilBertConfig>({
  config: DISTILBERT_CONFIG,
  classPrefix: "DistilBert",
  heads: {
    base: DistilBertModel,
    "masked-lm": DistilBertForMaskedLM,
    "sequence-classification": DistilBertForSequenceClassification,
    "token-classification": DistilBertForTokenClassification,
  },
  dropoutFields: { hidden: ["dropout"], attention: ["attention_dropout"], classifier: ["seq_classif_dropout"] },
  tokenTypes: false,
  maxPositions: (c) => c.max_position_embeddings,
});
