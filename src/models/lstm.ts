/**
 * graft's LSTM language model and classifier in the spirit of ULMFiT (Howard & Ruder 2018; fastai's AWD_LSTM):
 * embedding → stacked LSTM layers → decoder tied to the embedding (language model), or concat pooling of the last
 * layer — its state at the last real token, the max and the mean over real tokens — into a small classifier.
 * Saved in the Hugging Face directory layout (config.json + model.safetensors) with graft's own model_type
 * "graft-lstm"; names are flat: `embeddings.weight`, `lstm.weight_ih_l0`, ..., `decoder.weight` (tied, so saved once),
 * `decoder.bias`, `pre_classifier.*`, `classifier.*`.
 *
 * As in AWD-LSTM, layer l maps (l = 0 ? embedding_size : hidden_size) → (last ? embedding_size : hidden_size), so
 * the last layer's output can share the embedding matrix; its five dropouts are: embedding_dropout (whole rows of
 * the embedding matrix), input_dropout (on the embeddings), hidden_dropout (between layers), output_dropout
 * (before the decoder / pooling) — the three "variational" ones with one mask per sequence for all time steps —
 * and weight_dropout (DropConnect on each layer's hidden-to-hidden matrix). All are off in eval mode.
 */
import { ArgumentError, ShapeError, fmtShape } from "../util/errors.js";
import { defaultRng, type Rng } from "../util/rng.js";
import {
  Tensor,
  cast,
  concat,
  div,
  dropout,
  embedding,
  fill_,
  max,
  mul,
  ones,
  relu,
  reshape,
  slice,
  sum,
  where,
} from "../tensor/index.js";
import {
  Dropout,
  Embedding,
  LSTM,
  Linear,
  Module,
  type Parameter,
  init,
  type RecurrentInput,
  type RecurrentOutput,
} from "../nn/index.js";
import { type ConfigOfSchema, bool, defineConfig, field, numLabels, posInt, prob } from "../io/config.js";
import { PreTrainedModel, type ModelOptions } from "./pretrained.js";
import {
  checkInputs,
  checkRange,
  type BaseModelOutput,
  type CausalLM,
  type CausalLMInputs,
  type CausalLMOutput,
  type ClassifierOutput,
  selectRows,
} from "./interfaces.js";
import { causalLmLoss, sequenceClassifierOutput } from "./losses.js";
import { defineArchitecture } from "./architecture.js";

// ---- config

/** graft's LSTM language model (AWD-LSTM as in ULMFiT; defaults from fastai's awd_lstm_lm_config). */
export const GRAFT_LSTM_CONFIG = defineConfig(
  "graft-lstm",
  {
    vocab_size: field(posInt, 32000),
    embedding_size: field(posInt, 400),
    hidden_size: field(posInt, 1152),
    num_layers: field(posInt, 3),
    bidirectional: field(bool, false),
    /** Dropout on the decoder input (fastai output_p). */
    output_dropout: field(prob, 0.1),
    /** Dropout between LSTM layers (hidden_p). */
    hidden_dropout: field(prob, 0.15),
    /** Dropout on the embedding output (input_p). */
    input_dropout: field(prob, 0.25),
    /** Dropout of whole embedding rows (embed_p). */
    embedding_dropout: field(prob, 0.02),
    /** DropConnect on the hidden-to-hidden weights (weight_p). */
    weight_dropout: field(prob, 0.2),
  },
  {
    baseDefaults: { pad_token_id: 0 },
    aliases: { num_hidden_layers: "num_layers" },
    // embeddings, then LSTM layers of sizes embedding → hidden × (num_layers − 1) → embedding: 4 gates of W_ih, W_hh, b_ih, b_hh
    parameters: (c) => {
      const { embedding_size: e, hidden_size: h, num_layers: n } = c;
      const lstm = (i: number, o: number) => 4 * o * (i + o + 2);
      return c.vocab_size * e + (n === 1 ? lstm(e, e) : lstm(e, h) + (n - 2) * lstm(h, h) + lstm(h, e));
    },
  },
);
export type GraftLstmConfig = ConfigOfSchema<typeof GRAFT_LSTM_CONFIG>;

/** Each layer's final hidden and cell state, [1, B, size of that layer] each: the "cache" generation carries on. */
export interface LstmState {
  h: Tensor[];
  c: Tensor[];
}

/** Same dropout mask for every time step of a sequence: x [B, T, D] · mask [B, 1, D]. */
function variationalDropout(x: Tensor, p: number, training: boolean, rng: Rng): Tensor {
  if (!training || p === 0) return x;
  const mask = dropout(ones([x.shape[0], 1, x.shape[2]]), p, rng.nextU32()); // 0 or 1/(1-p)
  return mul(x, mask);
}

// ---- one LSTM layer with DropConnect

/**
 * torch.nn.LSTM (one layer) that, in training, runs with a dropped copy of its hidden-to-hidden matrix — what
 * fastai's WeightDropout does. The copy is made once per forward (one mask per batch, as AWD-LSTM) and gradients
 * reach the raw weight through the dropout op. Train/eval follows the stack that owns it.
 */
class DropConnectLSTM extends LSTM {
  private _droppedHH: Tensor | null = null;

  constructor(
    inputSize: number,
    hiddenSize: number,
    private readonly _p: number,
    private readonly _isTraining: () => boolean,
    private readonly _rng: Rng | undefined,
  ) {
    super(inputSize, hiddenSize, { numLayers: 1, rng: _rng });
  }

  override forward(x: Tensor, input: RecurrentInput = {}): RecurrentOutput {
    if (!this._isTraining() || this._p === 0) return super.forward(x, input);
    this._droppedHH = dropout(super.param("weight_hh", 0), this._p, (this._rng ?? defaultRng()).nextU32());
    try {
      return super.forward(x, input);
    } finally {
      this._droppedHH = null;
    }
  }

  protected override param(name: string, layer: number): Parameter {
    // the recurrence reads its weights through here; the dropped copy is a Tensor standing in for the Parameter
    if (name === "weight_hh" && this._droppedHH) return this._droppedHH as Parameter;
    return super.param(name, layer);
  }

  weight(name: "weight_ih" | "weight_hh" | "bias_ih" | "bias_hh"): Parameter {
    return super.param(name, 0);
  }
}

/**
 * The stacked layers, named as one multi-layer torch.nn.LSTM names its parameters (weight_ih_l0, weight_hh_l0,
 * bias_ih_l0, bias_hh_l0, weight_ih_l1, ...): the parameters are this module's fields, shared with the per-layer
 * LSTMs that compute (which differ in size, so one torch LSTM could not hold them).
 */
export class LstmStack extends Module {
  private readonly _layers: DropConnectLSTM[];

  constructor(
    readonly sizes: readonly number[],
    weightDropout: number,
    rng?: Rng,
  ) {
    super();
    this._layers = [];
    const fields = this as unknown as Record<string, Parameter>;
    for (let l = 0; l + 1 < sizes.length; l++) {
      const layer = new DropConnectLSTM(sizes[l], sizes[l + 1], weightDropout, () => this.training, rng);
      this._layers.push(layer);
      for (const name of ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] as const)
        fields[`${name}_l${l}`] = layer.weight(name);
    }
  }

  get numLayers(): number {
    return this._layers.length;
  }

  /** torch's default for every weight and bias of a layer: U(-1/√H, 1/√H) with H that layer's size. */
  resetParameters(rng: Rng = defaultRng()): void {
    for (const l of this._layers) l.resetParameters(rng);
  }

  /**
   * x [B, T, E] with mask [B, T] (1 = real token) → the top layer's outputs [B, T, E] (zeros at padding), each
   * layer's final state (at each row's last real token) and, with `outputHiddenStates`, x and each layer's output
   * (before `between`, which is applied to each layer's output but the last).
   */
  forward(
    x: Tensor,
    mask: Tensor | null,
    state: LstmState | null,
    between: (h: Tensor) => Tensor,
    outputHiddenStates = false,
  ): { output: Tensor; state: LstmState; hiddenStates: Tensor[] | null } {
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    const hiddenStates = outputHiddenStates ? [x] : null;
    let h = x;
    this._layers.forEach((layer, l) => {
      const r = layer.forward(h, { mask: mask ?? undefined, h0: state?.h[l], c0: state?.c[l] });
      hiddenStates?.push(r.output);
      h = l + 1 < this._layers.length ? between(r.output) : r.output;
      hs.push(r.h);
      cs.push(r.c!);
    });
    return { output: h, state: { h: hs, c: cs }, hiddenStates };
  }
}

// ---- the model

export interface LstmModelOutput extends BaseModelOutput {
  /** Each layer's state after the last real token of each row. */
  state: LstmState;
}

abstract class GraftLstmPreTrainedModel extends PreTrainedModel<GraftLstmConfig> {
  static readonly configSchema = GRAFT_LSTM_CONFIG;
  static readonly baseModelPrefix = "";
  protected readonly coreModules = ["embeddings", "lstm"];
  embeddings: Embedding;
  lstm: LstmStack;
  protected readonly _rng: Rng | undefined;

  /** Every class holds the backbone itself, so the names stay flat: embeddings.weight, lstm.weight_ih_l0, ... */
  constructor(config: GraftLstmConfig, opts: ModelOptions) {
    super(config);
    if (config.bidirectional)
      throw new ArgumentError("graft-lstm: bidirectional is not supported (the language model reads left to right)");
    this._rng = opts.rng;
    const { vocab_size: v, embedding_size: e, hidden_size: h, num_layers: n } = config;
    this.embeddings = new Embedding(v, e, { paddingIdx: config.pad_token_id ?? undefined, rng: opts.rng });
    this.lstm = new LstmStack([e, ...Array.from({ length: n - 1 }, () => h), e], config.weight_dropout, opts.rng);
  }

  /** fastai's initialization: embeddings and an untied decoder U(-0.1, 0.1), LSTMs torch's default, zero decoder bias. */
  protected override initModule(
    name: string,
    m: Module,
    rng: Rng,
    fresh: (p: Parameter | null) => p is Parameter,
  ): void {
    if (m instanceof LstmStack) {
      if (
        m
          .parameters()
          .map((p) => fresh(p))
          .some(Boolean)
      )
        m.resetParameters(rng);
    } else if (m instanceof Embedding || (m instanceof Linear && name === "decoder")) {
      if (fresh(m.weight)) {
        init.uniform_(m.weight, -0.1, 0.1, rng);
        const pad = this.config.pad_token_id;
        if (m instanceof Embedding && pad !== null && pad >= 0 && pad < m.numEmbeddings)
          fill_(m.weight, 0, pad * m.embeddingDim, (pad + 1) * m.embeddingDim);
      }
      if (m instanceof Linear && fresh(m.bias)) init.constant_(m.bias, 0);
    } else if (m instanceof Linear) {
      if (fresh(m.weight)) init.linearDefault_(m.weight, m.inFeatures, rng);
      if (fresh(m.bias)) init.linearDefault_(m.bias, m.inFeatures, rng);
    }
  }

  protected get rng(): Rng {
    return this._rng ?? defaultRng();
  }

  /**
   * inputIds [B, T], attentionMask [B, T] (or [B, T_past + T] with a state: only its last T columns are read) →
   * lastHiddenState [B, T, E] (zeros at padding) and each layer's state after each row's last real token; with
   * outputHiddenStates, the embeddings' output and each layer's (num_layers + 1; an LSTM has no attentions).
   */
  protected encode(inputs: CausalLMInputs<LstmState>): LstmModelOutput {
    const ids = inputs.inputIds;
    checkInputs(this.architecture, { inputIds: ids });
    const [b, t] = ids.shape;
    const c = this.config;
    checkRange("graft-lstm", "input id", ids, c.vocab_size);
    let mask = inputs.attentionMask ?? null;
    if (mask) {
      if (mask.rank !== 2 || mask.shape[0] !== b || mask.shape[1] < t)
        throw new ShapeError(
          `${this.architecture}: attentionMask must be [${b}, ${t}] (or longer, covering a past state), got ${fmtShape(mask.shape)}`,
        );
      if (mask.shape[1] > t) mask = slice(mask, 1, mask.shape[1] - t);
    }
    const state = inputs.pastKeyValues ?? null;
    if (state && (state.h.length !== this.lstm.numLayers || state.h[0].shape[1] !== b)) {
      throw new ShapeError(
        `${this.architecture}: the state is for ${state.h.length} layers and a batch of ${state.h[0]?.shape[1]}, the model has ${this.lstm.numLayers} layers and the batch ${b}`,
      );
    }
    const training = this.training;
    let table: Tensor = this.embeddings.weight;
    if (training && c.embedding_dropout > 0) {
      const rows = dropout(ones([c.vocab_size, 1]), c.embedding_dropout, this.rng.nextU32()); // whole words dropped
      table = mul(table, rows);
    }
    const x = variationalDropout(embedding(ids, table), c.input_dropout, training, this.rng); // [B, T, E]
    const between = (h: Tensor) => variationalDropout(h, c.hidden_dropout, training, this.rng);
    const r = this.lstm.forward(x, mask, state, between, inputs.outputHiddenStates);
    return { lastHiddenState: r.output, poolerOutput: null, state: r.state, hiddenStates: r.hiddenStates };
  }
}

export class GraftLstmModel extends GraftLstmPreTrainedModel {
  static readonly architecture = "GraftLstmModel";

  constructor(config: GraftLstmConfig, opts: ModelOptions = {}) {
    super(config, opts);
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  forward(inputs: CausalLMInputs<LstmState>): LstmModelOutput {
    return this.encode(inputs);
  }
}

// ---- heads

export class GraftLstmForCausalLM extends GraftLstmPreTrainedModel implements CausalLM<LstmState> {
  static readonly architecture = "GraftLstmForCausalLM";
  readonly maxPositions = null;
  decoder: Linear;

  constructor(config: GraftLstmConfig, opts: ModelOptions = {}) {
    super(config, opts);
    this.decoder = new Linear(config.embedding_size, config.vocab_size, { rng: opts.rng });
    if (config.tie_word_embeddings) this.decoder.weight = this.embeddings.weight;
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** logits [B, T, V]; with labels [B, T] i32 the next-token loss; with useCache the state to continue from. */
  forward(inputs: CausalLMInputs<LstmState>): CausalLMOutput<LstmState> {
    const out = this.encode(inputs);
    const h = variationalDropout(out.lastHiddenState, this.config.output_dropout, this.training, this.rng);
    const logits = this.decoder.forward(h);
    return {
      logits,
      loss: inputs.labels ? causalLmLoss(logits, inputs.labels) : null,
      pastKeyValues: inputs.useCache ? out.state : null,
      hiddenStates: out.hiddenStates,
    };
  }

  /** The state keeping batch rows `rows` (beam search): each layer's h and c, [1, B, size], gathered along B. */
  reorderCache(state: LstmState, rows: readonly number[]): LstmState {
    const pick = (t: Tensor) => reshape(selectRows(reshape(t, t.shape.slice(1)), rows), [1, rows.length, t.shape[2]]);
    return { h: state.h.map(pick), c: state.c.map(pick) };
  }
}

/**
 * ULMFiT's concat pooling over real tokens: [the last layer's state at the last real token, max over time, mean
 * over time]. output [B, T, E] (zeros at padding), last [B, E], mask [B, T] or null → [B, 3E].
 */
export function concatPool(output: Tensor, last: Tensor, mask: Tensor | null): Tensor {
  const [b, t, e] = output.shape;
  const m = mask ? reshape(cast(mask, "f32"), [b, t, 1]) : null; // tokenizers give i32 masks
  const lengths = new Float32Array(b);
  const keep = mask?.toArray() ?? null;
  for (let i = 0; i < b; i++) {
    let n = t;
    if (keep) {
      n = 0;
      for (let j = 0; j < t; j++) if (keep[i * t + j]) n++;
    }
    if (n === 0) throw new ShapeError(`concatPool: row ${i} of the batch has no real tokens`);
    lengths[i] = n;
  }
  const maxPool = max(m ? where(m, output, -Infinity) : output, 1); // [B, E]
  const meanPool = div(sum(m ? mul(output, m) : output, 1), new Tensor(lengths, [b, 1])); // [B, E]
  return concat([reshape(last, [b, e]), maxPool, meanPool], 1);
}

export class GraftLstmForSequenceClassification extends GraftLstmPreTrainedModel {
  static readonly architecture = "GraftLstmForSequenceClassification";
  pre_classifier: Linear;
  dropout: Dropout;
  classifier: Linear;

  constructor(config: GraftLstmConfig, opts: ModelOptions = {}) {
    super(config, opts);
    const hidden = config.classifier_hidden_size ?? 50;
    if (!Number.isInteger(hidden) || (hidden as number) < 1)
      throw new ArgumentError(
        `graft-lstm: classifier_hidden_size must be a positive integer, got ${JSON.stringify(hidden)}`,
      );
    this.pre_classifier = new Linear(3 * config.embedding_size, hidden as number, { rng: opts.rng });
    this.dropout = new Dropout(config.output_dropout, opts.rng);
    this.classifier = new Linear(hidden as number, numLabels(config), { rng: opts.rng });
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** logits [B, num_labels]: concat pooling → dropout → pre_classifier → ReLU → dropout → classifier. */
  forward(inputs: CausalLMInputs<LstmState>): ClassifierOutput {
    const out = this.encode({ ...inputs, pastKeyValues: null });
    const top = out.state.h[out.state.h.length - 1]; // [1, B, E]
    const pooled = this.dropout.forward(concatPool(out.lastHiddenState, top, inputs.attentionMask ?? null)); // [B, 3E]
    const logits = this.classifier.forward(this.dropout.forward(relu(this.pre_classifier.forward(pooled))));
    return sequenceClassifierOutput(logits, inputs, this.config, out);
  }
}

// ---- the architecture

export const GRAFT_LSTM = defineArchitecture<GraftLstmConfig>({
  config: GRAFT_LSTM_CONFIG,
  classPrefix: "GraftLstm",
  heads: {
    base: GraftLstmModel,
    "causal-lm": GraftLstmForCausalLM,
    "sequence-classification": GraftLstmForSequenceClassification,
  },
  // fine-tuning's dropout option leaves AWD-LSTM's five dropouts as configured
  dropoutFields: { hidden: [], attention: [], classifier: [] },
  tokenTypes: false,
  maxPositions: () => null,
});
