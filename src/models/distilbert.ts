/**
 * DistilBERT, as transformers' modeling_distilbert.py computes it, read top to bottom: embeddings → self-attention →
 * feed-forward → transformer block → transformer → DistilBertModel → heads.
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
import {
  Dropout,
  Embedding,
  LayerNorm,
  Linear,
  Module,
  type Parameter,
  fusedActivation,
  mergeHeads,
  scaledDotProductAttention,
  splitHeads,
} from "../nn/index.js";
import { numLabels, type DistilBertConfig } from "../io/config.js";
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

  /** x [B, T, dim] → [B, T, dim] (padding mask in `mask`) */
  forward(x: Tensor, mask: AttentionMask): Tensor {
    const q = splitHeads(this.q_lin.forward(x), this._heads); // [B, nh, T, dh]
    const k = splitHeads(this.k_lin.forward(x), this._heads);
    const v = splitHeads(this.v_lin.forward(x), this._heads);
    return this.out_lin.forward(
      mergeHeads(scaledDotProductAttention(q, k, v, { keep: mask.keep, causal: mask.causal, dropout: this.dropout })),
    );
  }
}

export class FFN extends Module {
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

export class TransformerBlock extends Module {
  attention: DistilBertSelfAttention;
  sa_layer_norm: LayerNorm;
  ffn: FFN;
  output_layer_norm: LayerNorm;

  constructor(c: DistilBertConfig, rng?: Rng) {
    super();
    this.attention = new DistilBertSelfAttention(c.n_heads, c.dim, c.attention_dropout, rng);
    this.sa_layer_norm = new LayerNorm(c.dim, EPS);
    this.ffn = new FFN(c, rng);
    this.output_layer_norm = new LayerNorm(c.dim, EPS);
  }

  forward(x: Tensor, mask: AttentionMask): Tensor {
    const a = this.sa_layer_norm.forward(add(this.attention.forward(x, mask), x));
    return this.output_layer_norm.forward(add(this.ffn.forward(a), a));
  }
}

export class Transformer extends Module {
  layer: TransformerBlock[];

  constructor(c: DistilBertConfig, rng?: Rng) {
    super();
    this.layer = Array.from({ length: c.n_layers }, () => new TransformerBlock(c, rng));
  }

  forward(x: Tensor, mask: AttentionMask): Tensor {
    let h = x;
    for (const l of this.layer) h = l.forward(h, mask);
    return h;
  }
}

// ---- the model

abstract class DistilBertPreTrainedModel extends PreTrainedModel<DistilBertConfig> {
  static readonly modelType = "distilbert";
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
  transformer: Transformer;

  constructor(config: DistilBertConfig, opts: ModelOptions = {}) {
    super(config);
    this.embeddings = new DistilBertEmbeddings(config, opts.rng);
    this.transformer = new Transformer(config, opts.rng);
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** lastHiddenState [B, T, dim]; DistilBERT has no pooler (poolerOutput is null). */
  forward(inputs: ModelInputs): BaseModelOutput {
    const [b, t] = checkInputs(this.architecture, inputs);
    if (inputs.tokenTypeIds)
      throw new ShapeError("DistilBertModel: DistilBERT has no token types; do not pass tokenTypeIds");
    const h0 = this.embeddings.forward(inputs.inputIds, inputs.positionIds ?? null);
    const mask = attentionMaskFor({ batch: b, queryLen: t, keyLen: t, paddingMask: inputs.attentionMask ?? null });
    return { lastHiddenState: this.transformer.forward(h0, mask), poolerOutput: null };
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
    const h = this.distilbert.forward(inputs).lastHiddenState;
    const logits = this.vocab_projector.forward(
      this.vocab_layer_norm.forward(this.vocab_transform.forward(h, this._act)),
    );
    return { logits, loss: inputs.labels ? tokenLoss(logits, inputs.labels) : null };
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
    const h = this.distilbert.forward(inputs).lastHiddenState;
    const [b, , d] = h.shape;
    const pooled = this.dropout.forward(relu(this.pre_classifier.forward(reshape(slice(h, 1, 0, 1), [b, d]))));
    const logits = this.classifier.forward(pooled);
    return { logits, loss: inputs.labels ? sequenceClassificationLoss(logits, inputs.labels, this.config) : null };
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
    const logits = this.classifier.forward(this.dropout.forward(this.distilbert.forward(inputs).lastHiddenState));
    return { logits, loss: inputs.labels ? tokenLoss(logits, inputs.labels) : null };
  }
}
