/**
 * `config.json`, typed per model type, with the defaults Hugging Face's config classes apply
 * (BertConfig, RobertaConfig, DistilBertConfig, GPT2Config in transformers; `graft-lstm` is graft's own).
 * Field names are Hugging Face's, so a config read and written again is one transformers loads unchanged;
 * fields graft does not interpret are kept as they are. Aliases in a class's attribute_map (GPT-2's
 * `hidden_size` for `n_embd`, ...) are folded into the canonical name on read, as transformers does.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { FormatError, ArgumentError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/atomic.js";

export const CONFIG_NAME = "config.json";

export type ProblemType = "regression" | "single_label_classification" | "multi_label_classification";

/** What every config carries (PretrainedConfig). Unknown fields stay on the object. */
export interface BaseConfig {
  model_type: string;
  architectures: string[] | null;
  /** Class index → label name; its size is the number of labels (2 when a config names none). */
  id2label: Record<number, string>;
  label2id: Record<string, number>;
  problem_type: ProblemType | null;
  tie_word_embeddings: boolean;
  is_decoder: boolean;
  pad_token_id: number | null;
  bos_token_id: number | null;
  eos_token_id: number | null;
  [key: string]: unknown;
}

/** BERT and RoBERTa share their fields; only model_type and the special token ids differ. */
export interface BertFields extends BaseConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: string;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  initializer_range: number;
  layer_norm_eps: number;
  position_embedding_type: "absolute" | "relative_key" | "relative_key_query";
  use_cache: boolean;
  classifier_dropout: number | null;
}
export interface BertConfig extends BertFields {
  model_type: "bert";
}
export interface RobertaConfig extends BertFields {
  model_type: "roberta";
}

export interface DistilBertConfig extends BaseConfig {
  model_type: "distilbert";
  vocab_size: number;
  max_position_embeddings: number;
  sinusoidal_pos_embds: boolean;
  n_layers: number;
  n_heads: number;
  dim: number;
  hidden_dim: number;
  dropout: number;
  attention_dropout: number;
  activation: string;
  initializer_range: number;
  qa_dropout: number;
  seq_classif_dropout: number;
}

export interface Gpt2Config extends BaseConfig {
  model_type: "gpt2";
  vocab_size: number;
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  /** Feed-forward width; null means 4 × n_embd. */
  n_inner: number | null;
  activation_function: string;
  resid_pdrop: number;
  embd_pdrop: number;
  attn_pdrop: number;
  layer_norm_epsilon: number;
  initializer_range: number;
  summary_type: string;
  summary_use_proj: boolean;
  summary_activation: string | null;
  summary_proj_to_labels: boolean;
  summary_first_dropout: number;
  scale_attn_weights: boolean;
  use_cache: boolean;
  scale_attn_by_inverse_layer_idx: boolean;
  reorder_and_upcast_attn: boolean;
}

/** graft's LSTM language model (AWD-LSTM as in ULMFiT; defaults from fastai's awd_lstm_lm_config). */
export interface GraftLstmConfig extends BaseConfig {
  model_type: "graft-lstm";
  vocab_size: number;
  embedding_size: number;
  hidden_size: number;
  num_layers: number;
  bidirectional: boolean;
  /** Dropout on the decoder input (fastai output_p). */
  output_dropout: number;
  /** Dropout between LSTM layers (hidden_p). */
  hidden_dropout: number;
  /** Dropout on the embedding output (input_p). */
  input_dropout: number;
  /** Dropout of whole embedding rows (embed_p). */
  embedding_dropout: number;
  /** DropConnect on the hidden-to-hidden weights (weight_p). */
  weight_dropout: number;
}

export type ModelConfig = BertConfig | RobertaConfig | DistilBertConfig | Gpt2Config | GraftLstmConfig;
export type ModelType = ModelConfig["model_type"];
export type ConfigOf<T extends ModelType> = Extract<ModelConfig, { model_type: T }>;

// ---- field checks

type Check = (v: unknown) => string | null; // null when valid, else what was expected

const posInt: Check = (v) => (Number.isSafeInteger(v) && (v as number) > 0 ? null : "a positive integer");
const nonNegInt: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? null : "a non-negative integer");
const int: Check = (v) => (Number.isSafeInteger(v) ? null : "an integer");
const prob: Check = (v) => (typeof v === "number" && v >= 0 && v <= 1 ? null : "a probability in [0, 1]");
const positive: Check = (v) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? null : "a positive number");
const str: Check = (v) => (typeof v === "string" && v !== "" ? null : "a non-empty string");
const bool: Check = (v) => (typeof v === "boolean" ? null : "true or false");
const nullable =
  (c: Check): Check =>
  (v) =>
    v === null ? null : c(v) === null ? null : `${c(v)} or null`;
const oneOf =
  (...xs: string[]): Check =>
  (v) =>
    xs.includes(v as string) ? null : `one of ${xs.map((x) => `"${x}"`).join(", ")}`;
const strArray: Check = (v) =>
  Array.isArray(v) && v.every((x) => typeof x === "string") ? null : "an array of strings";

interface Spec {
  defaults: Record<string, unknown>;
  checks: Record<string, Check>;
  /** Alias → canonical field (transformers' attribute_map). */
  aliases: Record<string, string>;
  /** Cross-field rule; returns an error message or null. */
  rule?: (c: Record<string, unknown>) => string | null;
}

const BASE_DEFAULTS = {
  architectures: null,
  problem_type: null,
  tie_word_embeddings: true,
  is_decoder: false,
  pad_token_id: null,
  bos_token_id: null,
  eos_token_id: null,
};
const BASE_CHECKS: Record<string, Check> = {
  architectures: nullable(strArray),
  problem_type: nullable(oneOf("regression", "single_label_classification", "multi_label_classification")),
  tie_word_embeddings: bool,
  is_decoder: bool,
  pad_token_id: nullable(int),
  bos_token_id: nullable(int),
  eos_token_id: nullable(int),
};

const headsDivide = (width: string, heads: string) => (c: Record<string, unknown>) =>
  (c[width] as number) % (c[heads] as number) === 0
    ? null
    : `${width} (${c[width]}) must be a multiple of ${heads} (${c[heads]})`;

const BERT_DEFAULTS = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: "gelu",
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
  position_embedding_type: "absolute",
  use_cache: true,
  classifier_dropout: null,
};
const BERT_CHECKS: Record<string, Check> = {
  vocab_size: posInt,
  hidden_size: posInt,
  num_hidden_layers: nonNegInt,
  num_attention_heads: posInt,
  intermediate_size: posInt,
  hidden_act: str,
  hidden_dropout_prob: prob,
  attention_probs_dropout_prob: prob,
  max_position_embeddings: posInt,
  type_vocab_size: posInt,
  initializer_range: positive,
  layer_norm_eps: positive,
  position_embedding_type: oneOf("absolute", "relative_key", "relative_key_query"),
  use_cache: bool,
  classifier_dropout: nullable(prob),
};

const SPECS: Record<ModelType, Spec> = {
  bert: {
    defaults: BERT_DEFAULTS,
    checks: BERT_CHECKS,
    aliases: {},
    rule: headsDivide("hidden_size", "num_attention_heads"),
  },
  roberta: {
    defaults: { ...BERT_DEFAULTS, pad_token_id: 1, bos_token_id: 0, eos_token_id: 2 },
    checks: BERT_CHECKS,
    aliases: {},
    rule: headsDivide("hidden_size", "num_attention_heads"),
  },
  distilbert: {
    defaults: {
      vocab_size: 30522,
      max_position_embeddings: 512,
      sinusoidal_pos_embds: false,
      n_layers: 6,
      n_heads: 12,
      dim: 768,
      hidden_dim: 3072,
      dropout: 0.1,
      attention_dropout: 0.1,
      activation: "gelu",
      initializer_range: 0.02,
      qa_dropout: 0.1,
      seq_classif_dropout: 0.2,
      pad_token_id: 0,
    },
    checks: {
      vocab_size: posInt,
      max_position_embeddings: posInt,
      sinusoidal_pos_embds: bool,
      n_layers: nonNegInt,
      n_heads: posInt,
      dim: posInt,
      hidden_dim: posInt,
      dropout: prob,
      attention_dropout: prob,
      activation: str,
      initializer_range: positive,
      qa_dropout: prob,
      seq_classif_dropout: prob,
    },
    aliases: { hidden_size: "dim", num_attention_heads: "n_heads", num_hidden_layers: "n_layers" },
    rule: headsDivide("dim", "n_heads"),
  },
  gpt2: {
    defaults: {
      vocab_size: 50257,
      n_positions: 1024,
      n_embd: 768,
      n_layer: 12,
      n_head: 12,
      n_inner: null,
      activation_function: "gelu_new",
      resid_pdrop: 0.1,
      embd_pdrop: 0.1,
      attn_pdrop: 0.1,
      layer_norm_epsilon: 1e-5,
      initializer_range: 0.02,
      summary_type: "cls_index",
      summary_use_proj: true,
      summary_activation: null,
      summary_proj_to_labels: true,
      summary_first_dropout: 0.1,
      scale_attn_weights: true,
      use_cache: true,
      bos_token_id: 50256,
      eos_token_id: 50256,
      scale_attn_by_inverse_layer_idx: false,
      reorder_and_upcast_attn: false,
    },
    checks: {
      vocab_size: posInt,
      n_positions: posInt,
      n_embd: posInt,
      n_layer: nonNegInt,
      n_head: posInt,
      n_inner: nullable(posInt),
      activation_function: str,
      resid_pdrop: prob,
      embd_pdrop: prob,
      attn_pdrop: prob,
      layer_norm_epsilon: positive,
      initializer_range: positive,
      summary_type: str,
      summary_use_proj: bool,
      summary_activation: nullable(str),
      summary_proj_to_labels: bool,
      summary_first_dropout: prob,
      scale_attn_weights: bool,
      use_cache: bool,
      scale_attn_by_inverse_layer_idx: bool,
      reorder_and_upcast_attn: bool,
    },
    aliases: {
      hidden_size: "n_embd",
      max_position_embeddings: "n_positions",
      num_attention_heads: "n_head",
      num_hidden_layers: "n_layer",
    },
    rule: headsDivide("n_embd", "n_head"),
  },
  "graft-lstm": {
    defaults: {
      vocab_size: 32000,
      embedding_size: 400,
      hidden_size: 1152,
      num_layers: 3,
      bidirectional: false,
      output_dropout: 0.1,
      hidden_dropout: 0.15,
      input_dropout: 0.25,
      embedding_dropout: 0.02,
      weight_dropout: 0.2,
      pad_token_id: 0,
    },
    checks: {
      vocab_size: posInt,
      embedding_size: posInt,
      hidden_size: posInt,
      num_layers: posInt,
      bidirectional: bool,
      output_dropout: prob,
      hidden_dropout: prob,
      input_dropout: prob,
      embedding_dropout: prob,
      weight_dropout: prob,
    },
    aliases: { num_hidden_layers: "num_layers" },
  },
};

export const MODEL_TYPES = Object.keys(SPECS) as ModelType[];

/** Architecture class prefixes, for configs that lack model_type (as some old exports do). */
const ARCH_PREFIX: [string, ModelType][] = [
  ["DistilBert", "distilbert"],
  ["Roberta", "roberta"],
  ["Bert", "bert"],
  ["GPT2", "gpt2"],
  ["GraftLstm", "graft-lstm"],
];

// ---- building and validating

type Fail = (msg: string, hint?: string) => never;

function build(raw: Record<string, unknown>, fail: Fail): ModelConfig {
  let type = raw.model_type;
  if (type === undefined) {
    const arch =
      Array.isArray(raw.architectures) && typeof raw.architectures[0] === "string" ? raw.architectures[0] : undefined;
    type = arch ? ARCH_PREFIX.find(([p]) => arch.startsWith(p))?.[1] : undefined;
    if (type === undefined)
      fail(`no "model_type" field`, `add "model_type": one of ${MODEL_TYPES.map((t) => `"${t}"`).join(", ")}`);
  }
  if (typeof type !== "string" || !(type in SPECS)) {
    fail(
      `model_type ${JSON.stringify(type)} is not supported`,
      `graft reads ${MODEL_TYPES.map((t) => `"${t}"`).join(", ")}`,
    );
  }
  const spec = SPECS[type as ModelType];
  const c: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const canonical = spec.aliases[k];
    if (canonical !== undefined) {
      if (k in raw && canonical in raw && raw[canonical] !== v)
        fail(
          `field "${k}" (${JSON.stringify(v)}) is an alias of "${canonical}" (${JSON.stringify(raw[canonical])}) and disagrees with it`,
        );
      c[canonical] = v;
    } else c[k] = v;
  }
  c.model_type = type;
  for (const [k, v] of Object.entries({ ...BASE_DEFAULTS, ...spec.defaults })) if (!(k in c)) c[k] = v;
  for (const [k, check] of Object.entries({ ...BASE_CHECKS, ...spec.checks })) {
    const problem = check(c[k]);
    if (problem !== null) fail(`field "${k}" must be ${problem}, got ${JSON.stringify(c[k])}`);
  }
  labels(c, fail);
  const broken = spec.rule?.(c);
  if (broken) fail(broken);
  return c as ModelConfig;
}

/** Sets id2label/label2id the way PretrainedConfig does: from id2label if given, else num_labels (default 2) generic labels. */
function labels(c: Record<string, unknown>, fail: Fail): void {
  const numLabels = c.num_labels;
  delete c.num_labels; // a property in transformers, never stored: id2label is the truth
  if (c.id2label === undefined || c.id2label === null) {
    const n = numLabels ?? 2;
    if (!Number.isSafeInteger(n) || (n as number) < 1)
      fail(`field "num_labels" must be a positive integer, got ${JSON.stringify(numLabels)}`);
    c.id2label = Object.fromEntries(Array.from({ length: n as number }, (_, i) => [i, `LABEL_${i}`]));
  } else {
    if (typeof c.id2label !== "object" || Array.isArray(c.id2label))
      fail(`field "id2label" must be an object { "0": "label", ... }`);
    for (const [k, v] of Object.entries(c.id2label as object)) {
      if (!/^(0|[1-9]\d*)$/.test(k)) fail(`field "id2label" has key "${k}", not a class index`);
      if (typeof v !== "string") fail(`field "id2label"["${k}"] must be a string, got ${JSON.stringify(v)}`);
    }
  }
  const id2label = c.id2label as Record<string, string>;
  if (c.label2id === undefined || c.label2id === null) {
    c.label2id = Object.fromEntries(Object.entries(id2label).map(([i, l]) => [l, Number(i)]));
  } else {
    if (typeof c.label2id !== "object" || Array.isArray(c.label2id))
      fail(`field "label2id" must be an object { "label": 0, ... }`);
    for (const [l, i] of Object.entries(c.label2id as object)) {
      if (!Number.isSafeInteger(i)) fail(`field "label2id"["${l}"] must be an integer, got ${JSON.stringify(i)}`);
    }
  }
}

/** Number of labels of a classification config (the size of id2label). */
export function numLabels(config: BaseConfig): number {
  return Object.keys(config.id2label).length;
}

/** A copy of config whose labels are the given names, or `n` generic LABEL_i names. */
export function withLabels<C extends ModelConfig>(config: C, labelsOrCount: readonly string[] | number): C {
  const names =
    typeof labelsOrCount === "number"
      ? Array.from({ length: labelsOrCount }, (_, i) => `LABEL_${i}`)
      : [...labelsOrCount];
  if (names.length < 1) throw new ArgumentError("withLabels: at least one label is needed");
  if (new Set(names).size !== names.length)
    throw new ArgumentError(`withLabels: duplicate label names in ${JSON.stringify(names)}`);
  return {
    ...config,
    id2label: Object.fromEntries(names.map((l, i) => [i, l])),
    label2id: Object.fromEntries(names.map((l, i) => [l, i])),
  };
}

/** A complete, validated config of a model type from its defaults and the given fields (for training from scratch). */
export function makeConfig<T extends ModelType>(
  modelType: T,
  fields: Partial<Omit<ConfigOf<T>, "model_type">> & Record<string, unknown> = {},
): ConfigOf<T> {
  const fail: Fail = (msg, hint) => {
    throw new ArgumentError(`${modelType} config: ${msg}`, hint);
  };
  return build({ ...fields, model_type: modelType }, fail) as ConfigOf<T>;
}

/** Validates a config object parsed from JSON; `where` names its source in errors. */
export function parseConfig(json: unknown, where = CONFIG_NAME): ModelConfig {
  const fail: Fail = (msg, hint) => {
    throw new FormatError(`${where}: ${msg}`, hint);
  };
  if (json === null || typeof json !== "object" || Array.isArray(json)) fail("expected a JSON object");
  return build({ ...(json as Record<string, unknown>) }, fail);
}

/** Reads `config.json` from a model directory (or the given file). */
export function readConfig(dirOrFile: string): ModelConfig {
  const path = existsSync(dirOrFile) && statSync(dirOrFile).isDirectory() ? join(dirOrFile, CONFIG_NAME) : dirOrFile;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new FormatError(
      `${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      "a model directory needs a config.json",
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FormatError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return parseConfig(json, path);
}

/** The JSON transformers expects: keys sorted, id2label keys as strings. */
export function configToJson(config: ModelConfig): Record<string, unknown> {
  const checked = parseConfig(config, `${config.model_type} config`);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(checked).sort()) out[k] = checked[k];
  return out;
}

/** Writes `config.json` into a model directory (atomically); returns its path. */
export function writeConfig(dir: string, config: ModelConfig): string {
  const path = join(dir, CONFIG_NAME);
  writeJsonAtomic(path, configToJson(config));
  return path;
}
