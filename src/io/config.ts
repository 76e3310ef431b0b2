/**
 * `config.json`, read generically: the fields every Hugging Face config carries (PretrainedConfig), the label maps,
 * and a small schema language (a field's check and default, attribute_map aliases, a cross-field rule) that each
 * architecture uses to declare its own fields.
 *
 * Why the architectures' schemas are not here: io/ sits below models/ in the layering (DESIGN.md), so it cannot
 * know the architectures. Each model file in models/ declares its schema with `defineConfig` below (the one place
 * its fields, defaults and checks are written, and the TypeScript type is derived from it), and models/registry.ts
 * picks the schema by model_type and calls `buildConfig`. This file only reads and writes the JSON and applies a
 * schema it is given. Field names are Hugging Face's, so a config read and written again is one transformers loads
 * unchanged; fields graft does not interpret are kept as they are.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError, FormatError } from "../util/errors.js";
import { writeFileAtomic } from "../util/atomic.js";
import { maxMemory } from "../util/env.js";

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

// ---- field checks

/** A field check: null when the value is valid, else what was expected. `T` is the type a valid value has. */
export interface Check<T> {
  (v: unknown): string | null;
  /** Carries T for type inference only; never set. */
  readonly _type?: T;
}

const check = <T>(f: (v: unknown) => string | null): Check<T> => f as Check<T>;

export const posInt = check<number>((v) =>
  Number.isSafeInteger(v) && (v as number) > 0 ? null : "a positive integer",
);
export const nonNegInt = check<number>((v) =>
  Number.isSafeInteger(v) && (v as number) >= 0 ? null : "a non-negative integer",
);
export const int = check<number>((v) => (Number.isSafeInteger(v) ? null : "an integer"));
export const prob = check<number>((v) =>
  typeof v === "number" && v >= 0 && v <= 1 ? null : "a probability in [0, 1]",
);
export const positive = check<number>((v) =>
  typeof v === "number" && Number.isFinite(v) && v > 0 ? null : "a positive number",
);
export const str = check<string>((v) => (typeof v === "string" && v !== "" ? null : "a non-empty string"));
export const bool = check<boolean>((v) => (typeof v === "boolean" ? null : "true or false"));
export const strArray = check<string[]>((v) =>
  Array.isArray(v) && v.every((x) => typeof x === "string") ? null : "an array of strings",
);
export function nullable<T>(c: Check<T>): Check<T | null> {
  return check<T | null>((v) => (v === null ? null : c(v) === null ? null : `${c(v)} or null`));
}
export function oneOf<const S extends string>(...xs: S[]): Check<S> {
  return check<S>((v) => (xs.includes(v as S) ? null : `one of ${xs.map((x) => `"${x}"`).join(", ")}`));
}

/** The field checks, by name (for `field(checks.posInt, 8)` where the flat names would be ambiguous). */
export const checks = { posInt, nonNegInt, int, prob, positive, str, bool, strArray, nullable, oneOf };

/** A config field: its check and the default transformers' config class gives it. */
export interface Field<T> {
  check: Check<T>;
  default: T;
  /**
   * transformers types the field `float` only (strict config classes refuse an int there, e.g. BART's
   * encoder_layerdrop or T5's initializer_factor): config.json writes a whole value as `0.0`, not `0`.
   */
  float?: boolean;
}

export function field<T>(check: Check<T>, dflt: NoInfer<T>, opts: { float?: boolean } = {}): Field<T> {
  return opts.float ? { check, default: dflt, float: true } : { check, default: dflt };
}

// ---- schemas

/** An architecture's fields by name. */
export type Fields = Record<string, Field<any>>;

/** The config type a set of fields describes (on top of BaseConfig). */
export type FieldTypes<F extends Fields> = { [K in keyof F]: F[K] extends Field<infer T> ? T : never };

/** The part of BaseConfig an architecture may give other defaults (RoBERTa's pad_token_id 1, ...). */
export type BaseDefaults = Partial<
  Pick<BaseConfig, "tie_word_embeddings" | "is_decoder" | "pad_token_id" | "bos_token_id" | "eos_token_id">
>;

export interface ConfigSchema<C extends BaseConfig = BaseConfig> {
  /** The model_type this schema reads (config.json's "model_type"). */
  readonly modelType: string;
  readonly fields: Fields;
  readonly baseDefaults: BaseDefaults;
  /** Alias → canonical field (transformers' attribute_map), folded into the canonical name on read. */
  readonly aliases: Readonly<Record<string, string>>;
  /** Cross-field rule; returns an error message or null. */
  rule?(c: C): string | null;
  /**
   * How many parameters the base model of a config has (counted from its sizes, before anything is allocated):
   * a config whose f32 weights would not fit in memory is refused, naming the field that makes it so.
   */
  parameters?(c: C): number;
  /** Carries the config type for inference only; never set. */
  readonly _config?: C;
}

/** The config type of a schema. */
export type ConfigOfSchema<S> = S extends { readonly _config?: infer C } ? Exclude<C, undefined> : never;

/**
 * Declares an architecture's config: its fields (check + default), other defaults for the common fields, aliases
 * and a cross-field rule. The returned schema carries the config's TypeScript type
 * (`ConfigOfSchema<typeof schema>`): BaseConfig with model_type `T` and one property per field.
 */
export function defineConfig<const T extends string, F extends Fields>(
  modelType: T,
  fields: F,
  opts: {
    baseDefaults?: BaseDefaults;
    aliases?: Record<string, string>;
    rule?: (c: BaseConfig & { model_type: T } & FieldTypes<F>) => string | null;
    parameters?: (c: BaseConfig & { model_type: T } & FieldTypes<F>) => number;
  } = {},
): ConfigSchema<BaseConfig & { model_type: T } & FieldTypes<F>> {
  return {
    modelType,
    fields,
    baseDefaults: opts.baseDefaults ?? {},
    aliases: opts.aliases ?? {},
    rule: opts.rule,
    parameters: opts.parameters,
  };
}

/** A rule: `width` must be a multiple of `heads` (hidden size and attention heads). */
export function headsDivide(width: string, heads: string): (c: BaseConfig) => string | null {
  return (c) =>
    (c[width] as number) % (c[heads] as number) === 0
      ? null
      : `${width} (${c[width]}) must be a multiple of ${heads} (${c[heads]})`;
}

const BASE_FIELDS: Fields = {
  architectures: field(nullable(strArray), null),
  problem_type: field(nullable(oneOf("regression", "single_label_classification", "multi_label_classification")), null),
  tie_word_embeddings: field(bool, true),
  is_decoder: field(bool, false),
  pad_token_id: field(nullable(int), null),
  bos_token_id: field(nullable(int), null),
  eos_token_id: field(nullable(int), null),
};

// ---- building and validating

export type Fail = (msg: string, hint?: string) => never;

/**
 * A complete config from raw fields and the schema of its model type: aliases folded, defaults filled in (the
 * common ones, then the architecture's), every field checked, labels set as PretrainedConfig sets them, the rule
 * checked. `raw.model_type` is set to the schema's.
 */
export function buildConfig<C extends BaseConfig>(
  raw: Record<string, unknown>,
  schema: ConfigSchema<C>,
  fail: Fail,
): C {
  const c: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const canonical = schema.aliases[k];
    if (canonical !== undefined) {
      if (canonical in raw && raw[canonical] !== v)
        fail(
          `field "${k}" (${JSON.stringify(v)}) is an alias of "${canonical}" (${JSON.stringify(raw[canonical])}) and disagrees with it`,
        );
      c[canonical] = v;
    } else c[k] = v;
  }
  c.model_type = schema.modelType;
  const fields: Fields = { ...BASE_FIELDS, ...schema.fields };
  const defaults: Record<string, unknown> = { ...schema.baseDefaults };
  for (const [k, f] of Object.entries(fields)) if (!(k in defaults)) defaults[k] = f.default;
  for (const [k, v] of Object.entries(defaults)) if (!(k in c)) c[k] = v;
  for (const [k, f] of Object.entries(fields)) {
    const problem = f.check(c[k]);
    if (problem !== null) fail(`field "${k}" must be ${problem}, got ${JSON.stringify(c[k])}`);
  }
  labels(c, fail);
  const broken = schema.rule?.(c as C);
  if (broken) fail(broken);
  checkParameterMemory(c as C, schema, fail);
  return c as C;
}

const fmtBytes = (b: number): string =>
  b >= 1e12
    ? `${(b / 1e12).toPrecision(3)} TB`
    : b >= 1e9
      ? `${(b / 1e9).toPrecision(3)} GB`
      : `${(b / 1e6).toPrecision(3)} MB`;

/**
 * Refuses a config whose weights (f32, as graft holds them) exceed the memory there is (GRAFT_MAX_MEMORY or the
 * machine's), before a model is built: a typo such as `num_hidden_layers: 1000000` would otherwise end in an
 * out-of-memory abort. Names the size field whose default would shrink the model most.
 */
function checkParameterMemory<C extends BaseConfig>(c: C, schema: ConfigSchema<C>, fail: Fail): void {
  const count = schema.parameters;
  if (!count) return;
  const n = count(c);
  const limit = maxMemory();
  if (n * 4 <= limit.bytes) return;
  let culprit: string | null = null;
  let smallest = n;
  for (const [k, f] of Object.entries(schema.fields)) {
    if (typeof f.default !== "number" || !Number.isInteger(f.default) || c[k] === f.default) continue;
    const m = count({ ...c, [k]: f.default });
    if (m < smallest) {
      smallest = m;
      culprit = k;
    }
  }
  const what = culprit ? `field "${culprit}" (${c[culprit]}) makes` : "the sizes make";
  fail(
    `${what} a model of ${n.toPrecision(3)} parameters (${fmtBytes(n * 4)} as f32), more than the ${fmtBytes(limit.bytes)} of ${limit.source}`,
    culprit
      ? `is ${culprit} a typo? (transformers' default is ${schema.fields[culprit]!.default}); GRAFT_MAX_MEMORY sets the limit`
      : "check the config's sizes; GRAFT_MAX_MEMORY sets the limit",
  );
}

/** The most labels a config may declare (id2label is built in memory from num_labels). */
const MAX_LABELS = 1_000_000;

/** Sets id2label/label2id the way PretrainedConfig does: from id2label if given, else num_labels (default 2) generic labels. */
function labels(c: Record<string, unknown>, fail: Fail): void {
  const numLabels = c.num_labels;
  delete c.num_labels; // a property in transformers, never stored: id2label is the truth
  if (c.id2label === undefined || c.id2label === null) {
    const n = numLabels ?? 2;
    if (!Number.isSafeInteger(n) || (n as number) < 1 || (n as number) > MAX_LABELS)
      fail(`field "num_labels" must be a positive integer up to ${MAX_LABELS}, got ${JSON.stringify(numLabels)}`);
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
export function withLabels<C extends BaseConfig>(config: C, labelsOrCount: readonly string[] | number): C {
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

// ---- the file

/** The path of config.json in a model directory (or the file itself). */
export function configPath(dirOrFile: string): string {
  return existsSync(dirOrFile) && statSync(dirOrFile).isDirectory() ? join(dirOrFile, CONFIG_NAME) : dirOrFile;
}

/** config.json of a model directory (or the given file) as the JSON object it holds, not yet validated. */
export function readConfigJson(dirOrFile: string): { json: Record<string, unknown>; path: string } {
  const path = configPath(dirOrFile);
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
  if (json === null || typeof json !== "object" || Array.isArray(json))
    throw new FormatError(`${path}: expected a JSON object`);
  return { json: json as Record<string, unknown>, path };
}

/** The JSON transformers expects of a (validated) config: keys sorted, id2label keys as strings. */
export function sortedConfigJson(config: BaseConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(config).sort()) out[k] = config[k];
  return out;
}

/**
 * The text of config.json: sortedConfigJson, indented as transformers writes it; with the schema, fields it marks
 * `float` keep a decimal point when whole (`0.0`), since Python's json reads `0` as an int.
 */
export function configJsonText(config: BaseConfig, schema?: ConfigSchema): string {
  const json = sortedConfigJson(config);
  const floats = new Set(Object.entries(schema?.fields ?? {}).flatMap(([k, f]) => (f.float ? [k] : [])));
  const marker = "\u0000float:";
  const text = JSON.stringify(
    json,
    function (this: unknown, k, v) {
      return this === json && floats.has(k) && Number.isInteger(v) ? `${marker}${v}` : v;
    },
    2,
  );
  return `${text.replace(/"\\u0000float:(-?\d+)"/g, "$1.0")}\n`;
}

/** Writes a (validated) config as `config.json` into a model directory (atomically); returns its path. */
export function writeConfigJson(dir: string, config: BaseConfig, schema?: ConfigSchema): string {
  const path = join(dir, CONFIG_NAME);
  writeFileAtomic(path, configJsonText(config, schema));
  return path;
}
