/**
 * A toy architecture, written as a new model file would be: config → model → heads → spec. test/models/registry.test.ts registers it with one call and runs it end to end, to show that an architecture is one file plus one line.
 */
import { type Tensor, reshape, slice, tanh } from "../../src/tensor/index.js";
import { Dropout, Embedding, Linear } from "../../src/nn/index.js";
import { type ConfigOfSchema, defineConfig, field, numLabels, posInt, positive, prob } from "../../src/io/config.js";
import {
  type BaseModelOutput,
  type ClassifierOutput,
  type ModelInputs,
  type ModelOptions,
  PreTrainedModel,
  defineArchitecture,
  sequenceClassificationLoss,
} from "../../src/models/index.js";

// ---- config

export const TOY_CONFIG = defineConfig("toy", {
  vocab_size: field(posInt, 100),
  hidden_size: field(posInt, 8),
  num_layers: field(posInt, 2),
  dropout: field(prob, 0.1),
  initializer_range: field(positive, 0.02),
});
export type ToyConfig = ConfigOfSchema<typeof TOY_CONFIG>;

// ---- the model: embeddings, then num_layers of h = tanh(dense(h))

abstract class ToyPreTrainedModel extends PreTrainedModel<ToyConfig> {
  static readonly configSchema = TOY_CONFIG;
  static readonly baseModelPrefix = "toy";
  protected readonly coreModules = ["embeddings", "layer"];
}

export class ToyModel extends ToyPreTrainedModel {
  static readonly architecture = "ToyModel";
  embeddings: Embedding;
  layer: Linear[];

  constructor(config: ToyConfig, opts: ModelOptions = {}) {
    super(config);
    this.embeddings = new Embedding(config.vocab_size, config.hidden_size, { rng: opts.rng });
    this.layer = Array.from(
      { length: config.num_layers },
      () => new Linear(config.hidden_size, config.hidden_size, { rng: opts.rng }),
    );
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  forward(inputs: ModelInputs): BaseModelOutput {
    let h = this.embeddings.forward(inputs.inputIds);
    const hiddenStates = inputs.outputHiddenStates ? [h] : null;
    for (const l of this.layer) {
      h = tanh(l.forward(h));
      hiddenStates?.push(h);
    }
    return { lastHiddenState: h, poolerOutput: null, hiddenStates };
  }
}

// ---- heads

export class ToyForSequenceClassification extends ToyPreTrainedModel {
  static readonly architecture = "ToyForSequenceClassification";
  toy: ToyModel;
  dropout: Dropout;
  classifier: Linear;

  constructor(config: ToyConfig, opts: ModelOptions = {}) {
    super(config);
    this.toy = new ToyModel(config, { rng: opts.rng, initWeights: false });
    this.dropout = new Dropout(config.dropout, opts.rng);
    this.classifier = new Linear(config.hidden_size, numLabels(config), { rng: opts.rng });
    if (opts.initWeights !== false) this.initWeights(opts.rng);
  }

  /** logits [B, C] from the first token. */
  forward(inputs: ModelInputs): ClassifierOutput {
    const h = this.toy.forward(inputs).lastHiddenState;
    const [b, , d] = h.shape;
    const logits: Tensor = this.classifier.forward(this.dropout.forward(reshape(slice(h, 1, 0, 1), [b, d])));
    return { logits, loss: inputs.labels ? sequenceClassificationLoss(logits, inputs.labels, this.config) : null };
  }
}

// ---- the architecture

export const TOY = defineArchitecture<ToyConfig>({
  config: TOY_CONFIG,
  classPrefix: "Toy",
  heads: { base: ToyModel, "sequence-classification": ToyForSequenceClassification },
  dropoutFields: { hidden: ["dropout"], attention: [], classifier: ["dropout"] },
  tokenTypes: false,
  maxPositions: () => null,
});
