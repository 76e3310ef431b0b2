/**
 * The fused tabular classifier (late fusion): each part of a record becomes a vector, the vectors are
 * concatenated, and one MLP head reads them:
 *   numeric [B, numeric_size] (standardized values and missing indicators, as they come)
 *   categorical column j → Embedding(vocab_j + 1, min(16, ⌈1.6·(vocab_j + 1)^0.56⌉)) (index 0: unknown)
 *   text columns' frozen encoder embeddings [B, text_size] → Linear(text_size, 32)
 *   concat x → Linear(·, hidden_size) → ReLU → Dropout → Linear(hidden_size, num_labels), plus a linear path
 *   Linear(·, num_labels) of x itself (wide & deep: the head is at least as expressive as a logistic regression)
 * The column schema (types, standardization, category vocabularies) lives in config.json's `tabular_schema`, so
 * the saved directory encodes new records the way training did; `text_encoder` names the model directory whose
 * mean-pooled last hidden states embed the text columns.
 */
import { ArgumentError } from "../../../util/errors.js";
import { Tensor, add, concat, relu } from "../../../tensor/index.js";
import { Dropout, Embedding, Linear } from "../../../nn/index.js";
import {
  type ConfigOfSchema,
  defineConfig,
  field,
  nonNegInt,
  nullable,
  posInt,
  prob,
  str,
} from "../../../io/config.js";
import {
  PreTrainedModel,
  defineArchitecture,
  fromPretrainedDir,
  registerArchitecture,
  type ClassificationModel,
  type ClassifierOutput,
  type FromPretrainedOptions,
  type ModelConfig,
  type ModelOptions,
} from "../../../models/index.js";
import type { TabularSchema } from "../../../data/tabular/index.js";

export const TABULAR_CONFIG = defineConfig("graft-tabular", {
  hidden_size: field(posInt, 64),
  numeric_size: field(nonNegInt, 0),
  /** Width of the text columns' embeddings together (0: no text column). */
  text_size: field(nonNegInt, 0),
  text_encoder: field(nullable(str), null),
  classifier_dropout: field(prob, 0.1),
});
export type TabularConfig = ConfigOfSchema<typeof TABULAR_CONFIG> & { tabular_schema: TabularSchema };

/** One record's model inputs: numeric block, category indices, text embeddings (all columns concatenated). */
export interface TabularFeatures {
  num: number[];
  cat: number[];
  text: number[];
}

export const embeddingSize = (vocab: number) => Math.min(16, Math.ceil(1.6 * (vocab + 1) ** 0.56));

export class GraftTabularForClassification extends PreTrainedModel<TabularConfig> {
  static readonly architecture = "GraftTabularForClassification";
  static readonly configSchema = TABULAR_CONFIG;
  static readonly baseModelPrefix = "";
  protected readonly coreModules: readonly string[] = [];
  categorical: Embedding[];
  text_projection: Linear | null;
  dense: Linear;
  dropout: Dropout;
  classifier: Linear;
  wide: Linear;

  constructor(config: TabularConfig, opts: ModelOptions = {}) {
    super(config);
    const schema = config.tabular_schema;
    if (!schema?.columns) throw new ArgumentError("graft-tabular: config.json has no tabular_schema");
    const vocabs = schema.columns.filter((c) => c.vocab).map((c) => c.vocab!.length);
    this.categorical = vocabs.map((v) => new Embedding(v + 1, embeddingSize(v), { rng: opts.rng }));
    this.text_projection = config.text_size > 0 ? new Linear(config.text_size, 32, { rng: opts.rng }) : null;
    const width =
      config.numeric_size + vocabs.reduce((s, v) => s + embeddingSize(v), 0) + (config.text_size > 0 ? 32 : 0);
    if (width === 0) throw new ArgumentError("graft-tabular: the table has no feature columns");
    this.dense = new Linear(width, config.hidden_size, { rng: opts.rng });
    this.dropout = new Dropout(config.classifier_dropout, opts.rng);
    const labels = Object.keys(config.id2label ?? {}).length;
    this.classifier = new Linear(config.hidden_size, labels, { rng: opts.rng });
    this.wide = new Linear(width, labels, { rng: opts.rng });
  }

  /** Logits [B, num_labels] of a batch of records. */
  forwardTabular(rows: readonly TabularFeatures[]): Tensor {
    const b = rows.length;
    const c = this.config;
    const parts: Tensor[] = [];
    if (c.numeric_size > 0) parts.push(new Tensor(Float32Array.from(rows.flatMap((r) => r.num)), [b, c.numeric_size]));
    this.categorical.forEach((emb, j) => {
      parts.push(
        emb.forward(
          new Tensor(
            Int32Array.from(rows, (r) => r.cat[j]),
            [b],
          ),
        ),
      );
    });
    if (this.text_projection)
      parts.push(
        this.text_projection.forward(new Tensor(Float32Array.from(rows.flatMap((r) => r.text)), [b, c.text_size])),
      );
    const x = parts.length === 1 ? parts[0] : concat(parts, 1);
    return add(this.classifier.forward(this.dropout.forward(relu(this.dense.forward(x)))), this.wide.forward(x));
  }

  forward(): ClassifierOutput {
    throw new ArgumentError(
      "graft-tabular reads records, not token ids",
      "use graft eval --model DIR --data FILE.csv (or forwardTabular)",
    );
  }
}

/**
 * The tabular kind's head builder: a fresh model when fine-tuning starts (`opts.config.tabular_schema` is the
 * schema prepare fitted, `dir` the pre-trained encoder that embeds text columns), or the saved model in `dir`.
 */
export const TabularAuto = {
  fromPretrainedDir(dir: string, opts: FromPretrainedOptions = {}): ClassificationModel {
    const fresh = opts.config?.tabular_schema as TabularSchema | undefined;
    if (!fresh) return fromPretrainedDir(GraftTabularForClassification, dir, opts) as unknown as ClassificationModel;
    const labels = opts.labels ?? fresh.classes;
    const config = {
      ...TABULAR_DEFAULTS,
      ...opts.config,
      model_type: "graft-tabular",
      architectures: [GraftTabularForClassification.architecture],
      id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
      label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    } as unknown as TabularConfig;
    const model = new GraftTabularForClassification(config, { rng: opts.rng });
    model.loadingInfo = {
      missingKeys: model.namedParameters().map(([n]) => n),
      unexpectedKeys: [],
      mismatchedKeys: [],
      ignoredKeys: [],
    };
    return model as unknown as ClassificationModel;
  },
};

// registered here, with the task kind that trains it (models/ knows no task): config.json of a saved run reads back
registerArchitecture(
  defineArchitecture<TabularConfig>({
    config: TABULAR_CONFIG as never,
    classPrefix: "GraftTabular",
    heads: { "sequence-classification": GraftTabularForClassification as never },
    dropoutFields: { hidden: [], attention: [], classifier: ["classifier_dropout"] },
    tokenTypes: false,
    maxPositions: () => null,
  }),
);

const TABULAR_DEFAULTS = {
  hidden_size: 64,
  numeric_size: 0,
  text_size: 0,
  text_encoder: null,
  classifier_dropout: 0.1,
};

export type { ModelConfig };
