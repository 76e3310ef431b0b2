/**
 * Option schemas: a command's settings declared once — name (the config-file key, camelCase), type, default,
 * checks, flag spelling and help — from which the rest follows: the TypeScript type of the resolved configuration
 * (inferred from the schema literal), the defaults, validation of a config object (an unknown key anywhere is an
 * error with a did-you-mean hint naming its path), deep merging of layers (defaults < file < flags) and the resolved
 * object a run records. cli/options.ts turns a schema into commander flags.
 *
 *   const S = { maxLength: opt.integer({ default: 128, min: 8, help: "tokens per example" }),
 *               training: opt.group({ lr: opt.number({ default: 5e-5, gt: 0 }) }) };
 *   type Config = Resolved<typeof S>;          // { maxLength: number; training: { lr: number } }
 *   resolveOptions(S, { training: { lr: 1e-4 } }, { source: "run.yaml" });   // every default filled in
 */
import { ArgumentError } from "./errors.js";
import { didYouMean, editDistance } from "./suggest.js";

export type OptionKind = "number" | "integer" | "string" | "boolean" | "enum" | "list" | "group" | "value";

/** What every option declares besides its type. */
export interface OptionMeta {
  /** Commander spelling, e.g. "--grad-accum <n>"; default `--kebab-name <placeholder>` (`--no-x` for a default-true
   * boolean); false: no flag (config file only). */
  flag?: string | false;
  /** One line for --help (the default is appended to it). */
  help?: string;
  /** May appear in a config file (default true; false for command-line switches such as --resume or --json). */
  file?: boolean;
  /** Other spellings users write (learningRate for lr): never accepted, only suggested in a did-you-mean hint. */
  aliases?: readonly string[];
  /** What --help shows as the default when the declared one depends on other settings. */
  defaultHelp?: string;
  /** The values a flag accepts (commander refuses others), where the config file accepts more (an object). */
  flagChoices?: readonly string[];
}

/**
 * One declared option. `T` is its resolved value's type; `D` whether a resolved configuration always holds it
 * (a default, or required); both exist only for type inference.
 */
export interface Option<T = unknown, D extends boolean = boolean> extends OptionMeta {
  readonly kind: OptionKind;
  readonly default?: T;
  readonly required?: boolean;
  readonly nullable?: boolean;
  /** The allowed values of an enum. */
  readonly choices?: readonly string[];
  /** The fields of a group. */
  readonly fields?: Schema;
  /** Flags of a group's fields start with this (e.g. "lora-" for --lora-r). */
  readonly flagPrefix?: string;
  /** How the value is described in messages ("an integer >= 1"). */
  readonly describe: string;
  /** The value as given (any JSON/YAML value) checked, and in its canonical form when accepted. */
  check(v: unknown): { ok: true; value: T } | { ok: false };
  /** A command-line string (or string[] for variadic flags, true for switches) as a value; throws naming the flag. */
  parse(raw: unknown, flag: string): T;
  readonly __d?: D;
}

export interface Schema {
  readonly [name: string]: Option;
}

type ValueOf<O> = O extends Option<infer T, boolean> ? T : never;
type Always<S> = { [K in keyof S]: S[K] extends Option<unknown, true> ? K : never }[keyof S];
type Flat<T> = { [K in keyof T]: T[K] };

/** The resolved configuration of a schema: defaulted and required options always present, the others optional. */
export type Resolved<S extends Schema> = Flat<
  { -readonly [K in Always<S>]: ValueOf<S[K]> } & { -readonly [K in Exclude<keyof S, Always<S>>]?: ValueOf<S[K]> }
>;

type InputOf<O> = O extends GroupOption<infer F, infer N> ? Input<F> | (N extends true ? null : never) : ValueOf<O>;
/** What a config file or the flags may give: every key optional, groups too (deep partial). */
export type Input<S extends Schema> = { -readonly [K in keyof S]?: InputOf<S[K]> };

/** The resolved configuration with its groups as given (deep partial): a configuration before defaults. */
export type Settings<S extends Schema> = Flat<
  { -readonly [K in Always<S>]: InputOf<S[K]> } & { -readonly [K in Exclude<keyof S, Always<S>>]?: InputOf<S[K]> }
>;

export interface GroupOption<F extends Schema, N extends boolean>
  extends Option<Resolved<F> | (N extends true ? null : never), true> {
  readonly fields: F;
}

type HasDefault<O> = O extends { default: unknown } ? true : O extends { required: true } ? true : false;
type OrNull<O> = O extends { nullable: true } ? null : never;

interface NumberOpts extends OptionMeta {
  default?: number | null;
  required?: boolean;
  nullable?: boolean;
  /** Inclusive bounds. */
  min?: number;
  max?: number;
  /** Exclusive bounds. */
  gt?: number;
  lt?: number;
}
interface StringOpts extends OptionMeta {
  default?: string | null;
  required?: boolean;
  nullable?: boolean;
  /** A string that must not be empty. */
  nonEmpty?: boolean;
}
interface BoolOpts extends OptionMeta {
  default?: boolean;
}
interface EnumOpts<C extends string> extends OptionMeta {
  default?: C | null;
  required?: boolean;
  nullable?: boolean;
}
interface ListOpts<T> extends OptionMeta {
  default?: readonly T[] | null;
  nullable?: boolean;
  required?: boolean;
  /** A flag value is split on this (e.g. "," for --lora-targets query,value); default: a variadic flag. */
  separator?: string;
  /** A single string stands for a list of one (`corpus: books.txt`). */
  single?: boolean;
  /** Exactly this many items. */
  length?: number;
  minLength?: number;
}
interface GroupOpts extends OptionMeta {
  /** null when not given; given as an object (or true), the defaults fill it. */
  nullable?: boolean;
  flagPrefix?: string;
}
interface ValueOpts<T> extends OptionMeta {
  default?: T;
  required?: boolean;
  describe: string;
  check(v: unknown): boolean;
  /** From a flag's string; default: a number if it reads as one, else the string. */
  parse?(raw: string): unknown;
  /** The accepted value in its one canonical form (e.g. ngram 1 → "1"). */
  coerce?(v: unknown): T;
}

const fail = { ok: false } as const;

function rangeText(o: NumberOpts): string {
  const parts: string[] = [];
  if (o.min !== undefined && o.max !== undefined) return `in [${o.min}, ${o.max}]`;
  if (o.gt !== undefined && o.max !== undefined) return `in (${o.gt}, ${o.max}]`;
  if (o.min !== undefined && o.lt !== undefined) return `in [${o.min}, ${o.lt})`;
  if (o.gt !== undefined && o.lt !== undefined) return `in (${o.gt}, ${o.lt})`;
  if (o.min !== undefined) parts.push(`>= ${o.min}`);
  if (o.gt !== undefined) parts.push(o.gt === 0 ? "positive" : `> ${o.gt}`);
  if (o.max !== undefined) parts.push(`<= ${o.max}`);
  if (o.lt !== undefined) parts.push(`< ${o.lt}`);
  return parts.join(" and ");
}

function inRange(n: number, o: NumberOpts): boolean {
  return (
    (o.min === undefined || n >= o.min) &&
    (o.max === undefined || n <= o.max) &&
    (o.gt === undefined || n > o.gt) &&
    (o.lt === undefined || n < o.lt)
  );
}

function numberOption(o: NumberOpts, integer: boolean): Option {
  const range = rangeText(o);
  const base = integer ? "an integer" : "a number";
  const describe = range
    ? range === "positive"
      ? `a positive ${integer ? "integer" : "number"}`
      : `${base} ${range}`
    : base;
  const ok = (v: unknown): v is number =>
    typeof v === "number" && Number.isFinite(v) && (!integer || Number.isInteger(v)) && inRange(v, o);
  return {
    ...o,
    kind: integer ? "integer" : "number",
    describe: o.nullable ? `${describe} or null` : describe,
    check: (v) => (ok(v) || (o.nullable && v === null) ? { ok: true, value: v } : fail),
    parse: (raw, flag) => {
      const n = Number(raw);
      if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n)))
        throw new ArgumentError(`${flag} must be ${base}, got "${raw}"`);
      return n;
    },
  };
}

function itemOption(item: "string" | "number" | "integer"): Option {
  return item === "string" ? opt.string({}) : opt[item]({});
}

/** Option builders; each returns an Option whose type parameters carry the value type to `Resolved`. */
export const opt = {
  number<const O extends NumberOpts>(o: O): Option<number | OrNull<O>, HasDefault<O>> {
    return numberOption(o, false) as Option<number | OrNull<O>, HasDefault<O>>;
  },
  integer<const O extends NumberOpts>(o: O): Option<number | OrNull<O>, HasDefault<O>> {
    return numberOption(o, true) as Option<number | OrNull<O>, HasDefault<O>>;
  },
  string<const O extends StringOpts>(o: O): Option<string | OrNull<O>, HasDefault<O>> {
    const describe = o.nonEmpty ? "a non-empty string" : "a string";
    return {
      ...o,
      kind: "string",
      describe: o.nullable ? `${describe} or null` : describe,
      check: (v) =>
        (typeof v === "string" && (!o.nonEmpty || v !== "")) || (o.nullable && v === null)
          ? { ok: true, value: v as string }
          : fail,
      parse: (raw) => String(raw),
    } as Option<string | OrNull<O>, HasDefault<O>>;
  },
  boolean<const O extends BoolOpts>(o: O = {} as O): Option<boolean, HasDefault<O>> {
    return {
      ...o,
      kind: "boolean",
      describe: "true or false",
      check: (v) => (typeof v === "boolean" ? { ok: true, value: v } : fail),
      parse: (raw) => raw === true || raw === "true",
    } as Option<boolean, HasDefault<O>>;
  },
  enum<const C extends readonly string[], const O extends EnumOpts<C[number]>>(
    choices: C,
    o: O,
  ): Option<C[number] | OrNull<O>, HasDefault<O>> {
    const describe = `one of ${choices.join(", ")}`;
    return {
      ...o,
      kind: "enum",
      choices,
      describe: o.nullable ? `${describe} or null` : describe,
      check: (v) =>
        (typeof v === "string" && choices.includes(v)) || (o.nullable && v === null)
          ? { ok: true, value: v as C[number] }
          : fail,
      parse: (raw, flag) => {
        if (typeof raw !== "string" || !choices.includes(raw))
          throw new ArgumentError(`${flag} must be one of ${choices.join(", ")}, got "${String(raw)}"`);
        return raw;
      },
    } as Option<C[number] | OrNull<O>, HasDefault<O>>;
  },
  list<const I extends "string" | "number" | "integer", const O extends ListOpts<unknown>>(
    item: I,
    o: O,
  ): Option<(I extends "string" ? string : number)[] | OrNull<O>, HasDefault<O>> {
    const it = itemOption(item);
    const size =
      o.length !== undefined ? ` of ${o.length}` : o.minLength !== undefined ? ` of at least ${o.minLength}` : "";
    const describe = `a list${size} of ${item === "string" ? "strings" : `${it.describe.slice(2)}s`}`;
    const sized = (n: number) =>
      (o.length === undefined || n === o.length) && (o.minLength === undefined || n >= o.minLength);
    return {
      ...o,
      kind: "list",
      describe: o.nullable ? `${describe} or null` : describe,
      check: (v) => {
        if (o.single && typeof v === "string" && it.check(v).ok && sized(1)) return { ok: true, value: [v] as never };
        return (Array.isArray(v) && sized(v.length) && v.every((x) => it.check(x).ok)) || (o.nullable && v === null)
          ? { ok: true, value: v as never }
          : fail;
      },
      parse: (raw, flag) => {
        const parts =
          typeof raw === "string"
            ? o.separator
              ? raw
                  .split(o.separator)
                  .map((s) => s.trim())
                  .filter((s) => s !== "")
              : [raw]
            : (raw as string[]);
        const out = parts.map((s) => it.parse(s, flag));
        if (!sized(out.length)) throw new ArgumentError(`${flag} must be ${describe}, got "${String(raw)}"`);
        return out as never;
      },
    } as Option<(I extends "string" ? string : number)[] | OrNull<O>, HasDefault<O>>;
  },
  /** Settings nested under one key (`training`, `lora`): resolved field by field; nullable groups default to null. */
  group<const F extends Schema, const O extends GroupOpts>(
    fields: F,
    o: O = {} as O,
  ): GroupOption<F, O extends { nullable: true } ? true : false> {
    return {
      ...o,
      kind: "group",
      fields,
      describe: o.nullable ? "an object of settings or null" : "an object of settings",
      check: (v: unknown) =>
        isObject(v) || (o.nullable && (v === null || v === true)) ? { ok: true, value: v as never } : fail,
      parse: () => ({}) as never,
    } as unknown as GroupOption<F, O extends { nullable: true } ? true : false>;
  },
  /** Anything else (a union such as `number | "epoch"`): a predicate and its description. */
  value,
};

function value<T>(o: ValueOpts<T> & { default: T }): Option<T, true>;
function value<T>(o: ValueOpts<T> & { required: true }): Option<T, true>;
function value<T>(o: ValueOpts<T>): Option<T, false>;
function value<T>(o: ValueOpts<T>): Option<T> {
  return {
    ...o,
    kind: "value",
    check: (v) => (o.check(v) ? { ok: true, value: o.coerce ? o.coerce(v) : (v as T) } : fail),
    parse: (raw, flag) => {
      const s = String(raw);
      const v = o.parse ? o.parse(s) : s.trim() !== "" && Number.isFinite(Number(s)) ? Number(s) : s;
      if (!o.check(v)) throw new ArgumentError(`${flag} must be ${o.describe}, got "${s}"`);
      return o.coerce ? o.coerce(v) : (v as T);
    },
  };
}

/** A schema of command-line switches only (--json, --resume, ...): none may appear in a config file. */
export function switchesOnly<S extends Schema>(schema: S): S {
  return Object.fromEntries(Object.entries(schema).map(([k, o]) => [k, { ...o, file: false }])) as unknown as S;
}

/**
 * A schema with some options changed (another default, help or flag), e.g. pre-training's training defaults; with
 * `flags`, only the named options keep a command-line flag (the others stay config-file settings).
 */
export function adjustOptions<S extends Schema>(
  schema: S,
  changes: { [K in keyof S]?: OptionMeta & { default?: unknown } },
  flags?: readonly (keyof S)[],
): S {
  const out: Record<string, Option> = {};
  for (const [name, o] of Object.entries(schema)) {
    const next = { ...o, ...(changes[name] ?? {}) } as Option;
    out[name] = flags && !flags.includes(name) ? { ...next, flag: false } : next;
  }
  return out as unknown as S;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** camelCase → kebab-case (gradAccumSteps → grad-accum-steps). */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The defaults of a schema: groups filled with their fields' defaults, nullable groups null, no-default keys absent. */
export function optionDefaults<S extends Schema>(schema: S): Input<S> {
  const out: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(schema)) {
    if (o.kind === "group") out[name] = o.nullable ? null : optionDefaults(o.fields!);
    else if (o.default !== undefined) out[name] = clone(o.default);
  }
  return out as Input<S>;
}

function clone<T>(v: T): T {
  return Array.isArray(v)
    ? (v.map(clone) as T)
    : isObject(v)
      ? (Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)])) as T)
      : v;
}

const join = (prefix: string, name: string) => (prefix ? `${prefix}.${name}` : name);

/** Every key path of a schema with its option (groups and their fields). */
export function optionPaths(schema: Schema, prefix = ""): [string, Option][] {
  const out: [string, Option][] = [];
  for (const [name, o] of Object.entries(schema)) {
    out.push([join(prefix, name), o]);
    if (o.kind === "group") out.push(...optionPaths(o.fields!, join(prefix, name)));
  }
  return out;
}

const normal = (s: string) => s.toLowerCase().replace(/[-_\s]/g, "");

/** The candidate closest to `name` (case, `_` and `-` ignored; a few edits at most), or null. */
export function closestName(name: string, candidates: readonly string[]): string | null {
  return didYouMean(name, candidates, { normalize: normal, maxEdits: 3 }) ?? null;
}

/**
 * The known key path closest to an unknown one, for a did-you-mean hint: a key spelt another way (max_length,
 * learningRate as an alias of lr), a typo (maxLenght) or a key put in the wrong group (a top-level maxSteps that
 * belongs in training). Keys in the same group win ties. null when nothing is close.
 */
export function suggestKey(schema: Schema, path: string): string | null {
  const dot = path.lastIndexOf(".");
  const group = path.slice(0, Math.max(dot, 0));
  const key = path.slice(dot + 1);
  let best: { path: string; score: number } | null = null;
  for (const [p, o] of optionPaths(schema)) {
    if (o.file === false) continue;
    const leaf = p.slice(p.lastIndexOf(".") + 1);
    const names = [leaf, ...(o.aliases ?? [])];
    const hit = closestName(key, names);
    if (hit === null) continue;
    const d = editDistance(normal(key), normal(hit));
    const samePlace = p.slice(0, Math.max(p.lastIndexOf("."), 0)) === group;
    const score = d * 2 + (samePlace ? 0 : 1);
    if (!best || score < best.score) best = { path: p, score };
  }
  return best?.path ?? null;
}

/** Where settings come from, for messages: the file ("config.yaml") and the path of the settings inside it. */
export interface OptionSource {
  /** A file or a phrase ("the flags"); empty for settings from code. */
  source?: string;
  /** A path the settings sit under in that file ("objective.config"), prefixed to every key in messages. */
  at?: string;
  /** Settings from the command line: command-line switches (`file: false`) are allowed too. */
  switches?: boolean;
}

const where = (s: OptionSource) => (s.source ? ` in ${s.source}` : "");

function unknownKey(root: Schema, path: string, known: readonly string[], s: OptionSource): ArgumentError {
  const guess = suggestKey(root, path);
  const shown = (p: string) => join(s.at ?? "", p);
  const group = path.includes(".") ? path.slice(0, path.lastIndexOf(".")) : "";
  return new ArgumentError(
    `unknown setting "${shown(path)}"${where(s)}${guess ? ` (did you mean "${shown(guess)}"?)` : ""}`,
    `known settings${group ? ` of ${shown(group)}` : s.at ? ` of ${s.at}` : ""}: ${known.join(", ")}`,
  );
}

function badValue(path: string, o: Option, v: unknown, s: OptionSource): ArgumentError {
  const text = JSON.stringify(v) ?? String(v);
  return new ArgumentError(
    `${join(s.at ?? "", path)}${where(s)} must be ${o.describe}, got ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`,
  );
}

/**
 * Checks settings as given (a config file, flags, a study's objective config): every key known and every value of
 * its type and range; keys not given are not required here. Returns the settings with nullable groups given as
 * `true` turned into `{}`.
 */
export function validateOptions<S extends Schema>(schema: S, raw: unknown, from: OptionSource = {}): Input<S> {
  return check(schema, raw, from, schema, "") as Input<S>;
}

function check(schema: Schema, raw: unknown, s: OptionSource, root: Schema, prefix: string): Record<string, unknown> {
  if (!isObject(raw)) {
    const what = join(s.at ?? "", prefix);
    throw new ArgumentError(
      `${what ? `${what}${where(s)}` : `the settings${where(s)}`} must be an object of settings, got ${JSON.stringify(raw)}`,
    );
  }
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(raw)) {
    const path = join(prefix, name);
    const o = Object.hasOwn(schema, name) ? schema[name] : undefined;
    if (!o || (o.file === false && !s.switches)) {
      const known = Object.entries(schema)
        .filter(([, x]) => x.file !== false)
        .map(([k]) => k);
      throw unknownKey(root, path, known, s);
    }
    if (v === undefined) continue;
    const checked = o.check(v);
    if (!checked.ok) throw badValue(path, o, v, s);
    if (o.kind === "group" && v !== null) out[name] = check(o.fields!, v === true ? {} : v, s, root, path);
    else out[name] = checked.value;
  }
  return out;
}

/**
 * Layers of settings merged left to right, a later layer winning key by key (undefined never overrides); groups
 * merge field by field, a null nullable group replaces what came before and an object replaces a null.
 */
export function mergeOptions<S extends Schema>(schema: S, ...layers: readonly (Input<S> | undefined)[]): Input<S> {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const [name, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      const o = schema[name];
      if (o?.kind === "group" && isObject(v)) {
        const before = isObject(out[name]) ? (out[name] as Input<Schema>) : undefined;
        out[name] = mergeOptions(o.fields!, before, v as Input<Schema>);
      } else out[name] = o?.kind === "group" && v === true ? (isObject(out[name]) ? out[name] : {}) : clone(v);
    }
  }
  return out as Input<S>;
}

/**
 * Settings validated and completed with the defaults: the resolved configuration, every defaulted key present.
 * Throws on an unknown key (did-you-mean hint), a value of the wrong type or range, or a missing required key.
 */
export function resolveOptions<S extends Schema>(schema: S, given: unknown, from: OptionSource = {}): Resolved<S> {
  const valid = validateOptions(schema, given ?? {}, from);
  return fill(schema, valid, from, "") as Resolved<S>;
}

function fill(
  schema: Schema,
  given: Record<string, unknown>,
  s: OptionSource,
  prefix: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(schema)) {
    if (o.file === false && !s.switches) continue;
    const path = join(prefix, name);
    const v = given[name];
    if (o.kind === "group") {
      if (v === null || (v === undefined && o.nullable)) out[name] = null;
      else out[name] = fill(o.fields!, (v ?? {}) as Record<string, unknown>, s, path);
    } else if (v !== undefined) out[name] = v;
    else if (o.default !== undefined) out[name] = clone(o.default);
    else if (o.required)
      throw new ArgumentError(
        `${join(s.at ?? "", path)}${where(s)} is required`,
        o.flag !== false ? `give it in the config or as ${flagName(o, name)}` : undefined,
      );
  }
  return out;
}

/** The long flag of an option, e.g. "--grad-accum" (without the value placeholder). */
export function flagName(o: Option, name: string, prefix = ""): string {
  if (typeof o.flag === "string") {
    const parts = o.flag.split(/[ ,|]+/);
    return parts.find((p) => p.startsWith("--")) ?? parts[0];
  }
  return `--${o.kind === "boolean" && o.default === true ? "no-" : ""}${prefix}${kebab(name)}`;
}
