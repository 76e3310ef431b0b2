/**
 * What an architecture tells the rest of graft: each model file (bert.ts, gpt2.ts, ...) exports one
 * ArchitectureSpec, and models/registry.ts lists them. The Auto classes, config reading, fine-tuning and
 * pre-training ask the registry instead of naming architectures.
 */
import type { Tensor } from "../tensor/index.js";
import type { BaseConfig, ConfigSchema } from "../io/config.js";
import type { PreTrainedModel, PreTrainedModelClass } from "./pretrained.js";
import type { ModelInputs } from "./interfaces.js";

/** The model classes an architecture may have, one per head (as transformers' AutoModelFor… mappings). */
export type Head =
  | "base"
  | "masked-lm"
  | "causal-lm"
  | "seq2seq-lm"
  | "sequence-classification"
  | "token-classification";

/** Config fields holding dropout probabilities, by role: what fine-tuning's `dropout` option overrides. */
export interface DropoutFields {
  /** Dropout on hidden states (embeddings, residual branches). */
  hidden: readonly string[];
  /** Dropout on attention probabilities. */
  attention: readonly string[];
  /** Dropout before a classification head. */
  classifier: readonly string[];
}

/** A model size in the words every transformer shares (pre-training's presets), with the tokenizer's ids. */
export interface ModelSize {
  layers: number;
  hidden: number;
  heads: number;
  /** Width of the feed-forward layer. */
  ffn: number;
  /** Longest input in tokens. */
  positions: number;
  vocabSize: number;
  padTokenId: number;
  /** The tokenizer's end-of-text token (decoders use it as bos and eos). */
  eosTokenId: number;
}

export interface ArchitectureSpec<C extends BaseConfig = BaseConfig> {
  /** model_type, fields with their defaults and checks, aliases: the one declaration of the config. */
  readonly config: ConfigSchema<C>;
  /**
   * The prefix of the architecture's class names ("Bert", "GPT2"): a config.json without model_type is read as
   * this architecture when its `architectures` entry starts with it (the longest matching prefix wins).
   */
  readonly classPrefix: string;
  /** The class for each head it has (each class's `baseModelPrefix` is its checkpoint prefix: `bert.`, ...). */
  readonly heads: Partial<Record<Head, PreTrainedModelClass>>;
  /** Its dropout fields, by role. */
  readonly dropoutFields: DropoutFields;
  /** Whether its models read token type ids (segment ids) as the tokenizer gives them. */
  readonly tokenTypes: boolean;
  /** Size of the position table (null: unbounded, as an LSTM). */
  maxPositions(config: C): number | null;
  /** Positions the model uses before the first token (RoBERTa's padding_idx + 1; default 0). */
  positionOffset?(config: C): number;
  /**
   * Masked-LM logits [M, V] at `positions` (flat indices into [B, T]) only: pre-training scores the ~15% masked
   * tokens without running the decoder on the rest. Absent: the model's forward with labels is used.
   */
  maskedLogitsAt?(model: PreTrainedModel, inputs: ModelInputs, positions: Tensor): Tensor;
  /** Config fields of a model of this size (pre-training from scratch); absent: it has no presets. */
  sizedConfig?(size: ModelSize): Record<string, unknown>;
}

/** An architecture, after checking that each of its classes reads its config (the same schema, so model_type). */
export function defineArchitecture<C extends BaseConfig>(spec: ArchitectureSpec<C>): ArchitectureSpec<C> {
  for (const [head, cls] of Object.entries(spec.heads)) {
    if (cls && (cls.configSchema as unknown) !== spec.config)
      throw new Error(`${spec.config.modelType}: the ${head} class ${cls.architecture} reads another config`);
  }
  return spec;
}
