/**
 * The architectures graft knows: one list of the specs the model files export (adding an architecture is one new
 * file and one line here), and everything that picks by architecture — reading and validating config.json, the
 * class for a head, and each architecture's quirks — so that nothing outside models/ names an architecture.
 */
import { ArgumentError, FormatError } from "../util/errors.js";
import {
  type BaseConfig,
  type Fail,
  buildConfig,
  readConfigJson,
  sortedConfigJson,
  writeConfigJson,
} from "../io/config.js";
import type { Tensor } from "../tensor/index.js";
import type { ArchitectureSpec, DropoutFields, Head, ModelSize } from "./architecture.js";
import type { PreTrainedModel, PreTrainedModelClass } from "./pretrained.js";
import type { ModelInputs } from "./interfaces.js";
import { BERT } from "./bert.js";
import { ROBERTA } from "./roberta.js";
import { ELECTRA } from "./electra.js";
import { DISTILBERT } from "./distilbert.js";
import { GPT2 } from "./gpt2.js";
import { BART } from "./bart.js";
import { LLAMA, QWEN2 } from "./llama.js";
import { GRAFT_LSTM } from "./lstm.js";
import { T5 } from "./t5.js";

/** The built-in architectures. */
const ARCHITECTURES = [BERT, ROBERTA, ELECTRA, DISTILBERT, GPT2, GRAFT_LSTM, T5, BART, LLAMA, QWEN2] as const;

type ConfigOfSpec<S> = S extends ArchitectureSpec<infer C> ? C : never;
/** The config of any built-in architecture. */
export type ModelConfig = ConfigOfSpec<(typeof ARCHITECTURES)[number]>;
export type ModelType = ModelConfig["model_type"];
export type ConfigOf<T extends ModelType> = Extract<ModelConfig, { model_type: T }>;

const registry = new Map<string, ArchitectureSpec>();
const classes = new Map<string, PreTrainedModelClass>();

/**
 * Adds an architecture (the built-in ones are added here; a program or a test may add its own). Its model_type
 * and class names must be new.
 */
export function registerArchitecture<C extends BaseConfig>(spec: ArchitectureSpec<C>): void {
  const type = spec.config.modelType;
  if (registry.has(type)) throw new ArgumentError(`model_type "${type}" is already registered`);
  const heads = Object.values(spec.heads) as PreTrainedModelClass[];
  for (const cls of heads)
    if (classes.has(cls.architecture)) throw new ArgumentError(`model class ${cls.architecture} is already registered`);
  registry.set(type, spec as unknown as ArchitectureSpec);
  for (const cls of heads) classes.set(cls.architecture, cls);
}

for (const spec of ARCHITECTURES) registerArchitecture<BaseConfig>(spec as unknown as ArchitectureSpec);

/** Every registered model_type, in registration order. */
export function modelTypes(): string[] {
  return [...registry.keys()];
}

/** Every model class graft has, by the name transformers gives it. */
export const MODEL_CLASSES: ReadonlyMap<string, PreTrainedModelClass> = classes;

const known = () => modelTypes().map((t) => `"${t}"`);

/** The spec of a model_type; errors name the known types. */
export function architecture(modelType: string, who = "graft"): ArchitectureSpec {
  const spec = registry.get(modelType);
  if (!spec)
    throw new FormatError(`${who}: model_type "${modelType}" is not supported`, `graft knows ${known().join(", ")}`);
  return spec;
}

/** The spec of a config (one that has passed validation). */
export function architectureOf(config: BaseConfig): ArchitectureSpec {
  return architecture(config.model_type);
}

// ---- config.json

/** The model type of raw config fields: model_type, or for configs without one, the prefix of `architectures`. */
function modelTypeOf(raw: Record<string, unknown>, fail: Fail): string {
  let type = raw.model_type;
  if (type === undefined) {
    const arch =
      Array.isArray(raw.architectures) && typeof raw.architectures[0] === "string" ? raw.architectures[0] : undefined;
    const byPrefix = [...registry.values()]
      .filter((s) => arch?.startsWith(s.classPrefix))
      .sort((a, b) => b.classPrefix.length - a.classPrefix.length);
    type = byPrefix[0]?.config.modelType;
    if (type === undefined) fail(`no "model_type" field`, `add "model_type": one of ${known().join(", ")}`);
  }
  if (typeof type !== "string" || !registry.has(type))
    fail(`model_type ${JSON.stringify(type)} is not supported`, `graft reads ${known().join(", ")}`);
  return type as string;
}

function build(raw: Record<string, unknown>, fail: Fail): ModelConfig {
  const spec = registry.get(modelTypeOf(raw, fail))!;
  return buildConfig({ ...raw }, spec.config, fail) as ModelConfig;
}

/**
 * A complete, validated config of a model type from its defaults and the given fields (for training from scratch),
 * as transformers' config classes fill it in.
 */
export function makeConfig<T extends ModelType>(
  modelType: T,
  fields?: Partial<Omit<ConfigOf<T>, "model_type">> & Record<string, unknown>,
): ConfigOf<T>;
export function makeConfig(modelType: string, fields?: Record<string, unknown>): BaseConfig;
export function makeConfig(modelType: string, fields: Record<string, unknown> = {}): BaseConfig {
  const fail: Fail = (msg, hint) => {
    throw new ArgumentError(`${modelType} config: ${msg}`, hint);
  };
  return build({ ...fields, model_type: modelType }, fail);
}

/** Validates a config object parsed from JSON; `where` names its source in errors. */
export function parseConfig(json: unknown, where = "config.json"): ModelConfig {
  const fail: Fail = (msg, hint) => {
    throw new FormatError(`${where}: ${msg}`, hint);
  };
  if (json === null || typeof json !== "object" || Array.isArray(json)) fail("expected a JSON object");
  return build(json as Record<string, unknown>, fail);
}

/** Reads and validates `config.json` of a model directory (or the given file), with transformers' defaults filled in. */
export function readConfig(dirOrFile: string): ModelConfig {
  const { json, path } = readConfigJson(dirOrFile);
  return parseConfig(json, path);
}

/** The JSON transformers expects: validated, keys sorted, id2label keys as strings. */
export function configToJson(config: BaseConfig): Record<string, unknown> {
  return sortedConfigJson(parseConfig(config, `${config.model_type} config`));
}

/** Validates and writes `config.json` into a model directory (atomically); returns its path. */
export function writeConfig(dir: string, config: BaseConfig): string {
  return writeConfigJson(dir, parseConfig(config, `${config.model_type} config`), architectureOf(config).config);
}

// ---- classes

/** The class of a head for a model type, or an error naming the types that have one. */
export function modelClassFor(head: Head, modelType: string, who = "AutoModel"): PreTrainedModelClass {
  const cls = architecture(modelType, who).heads[head];
  if (cls) return cls;
  const have = [...registry.values()]
    .filter((s) => s.heads[head])
    .map((s) => `"${s.config.modelType}"`)
    .join(", ");
  throw new ArgumentError(`${who}: model_type "${modelType}" has no ${head} model (${head} models exist for ${have})`);
}

/** The class config.json's `architectures` names (what a saved fine-tuned model was), if graft has it. */
export function modelClassForArchitecture(config: BaseConfig): PreTrainedModelClass | null {
  for (const name of config.architectures ?? []) {
    const cls = classes.get(name);
    if (cls && cls.modelType === config.model_type) return cls;
  }
  return null;
}

/** Whether a class is its architecture's model for a head ("causal-lm": the one that generates text). */
export function isHeadClass(cls: PreTrainedModelClass, head: Head): boolean {
  return registry.get(cls.modelType)?.heads[head] === cls;
}

// ---- quirks, asked by code outside models/

/** The model types that can be built from a size (pre-training from scratch) with a class for `head`. */
export function sizedModelTypes(head: Head): string[] {
  return [...registry.values()].filter((s) => s.sizedConfig && s.heads[head]).map((s) => s.config.modelType);
}

/** A complete config of a model type at a size (its own field names, its defaults for the rest). */
export function configOfSize(modelType: string, size: ModelSize): BaseConfig {
  const spec = architecture(modelType);
  if (!spec.sizedConfig) throw new ArgumentError(`model_type "${modelType}" has no size presets`);
  return makeConfig(modelType, spec.sizedConfig(size));
}

/** The longest input in tokens a config's model accepts (null: unbounded): RoBERTa's 514 positions hold 512 tokens. */
export function maxSequenceLength(config: BaseConfig): number | null {
  const spec = architectureOf(config);
  const positions = spec.maxPositions(config);
  return positions === null ? null : positions - (spec.positionOffset?.(config) ?? 0);
}

/** Whether a model of this type reads token type ids (segment ids) from the tokenizer. */
export function usesTokenTypes(modelType: string): boolean {
  return architecture(modelType).tokenTypes;
}

/**
 * The config fields to override so that every dropout of a role takes the given probability (fine-tuning's
 * `dropout` option), limited to the fields the config has.
 */
export function dropoutOverrides(
  config: BaseConfig,
  p: Partial<Record<keyof DropoutFields, number>>,
): Record<string, number> {
  const fields = architectureOf(config).dropoutFields;
  const out: Record<string, number> = {};
  for (const [role, v] of Object.entries(p) as [keyof DropoutFields, number][])
    for (const name of fields[role]) if (name in config) out[name] = v;
  return out;
}

/**
 * A masked LM's logits [M, V] at flat positions [M] of the batch only, for architectures that can skip the other
 * rows (pre-training scores ~15% of tokens); null when the architecture has no such path (use forward with labels).
 */
export function maskedLogitsAt(model: PreTrainedModel): ((inputs: ModelInputs, positions: Tensor) => Tensor) | null {
  const spec = architectureOf(model.config);
  const at = spec.maskedLogitsAt;
  const cls = spec.heads["masked-lm"];
  if (!at || !cls || !(model instanceof cls)) return null;
  return (inputs, positions) => at(model, inputs, positions);
}
