/**
 * A command's option schema (util/options.ts) as commander flags, and `--config file.(json|yaml|yml)` merged with
 * the flags the user typed: defaults < file < flags. Keys of a config file are the schema's names (camelCase, the
 * long flag without dashes: `--batch-size` → batchSize, in its group: training.batchSize), so a file and a command
 * line describe a run in the same words; an unknown key in the file is an error with a did-you-mean hint.
 */
import { existsSync, readFileSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import { type Command, Option as Flag } from "commander";
import { parse as parseYaml } from "yaml";
import { ArgumentError, GraftError } from "../util/errors.js";
import { readRunJson } from "../train/index.js";
import {
  type Input,
  type Option,
  type Schema,
  flagName,
  isObject,
  kebab,
  mergeOptions,
  opt,
  type Resolved,
  resolveOptions,
  validateOptions,
} from "../util/options.js";

export type ConfigObject = Record<string, unknown>;

export function readConfigFile(path: string): ConfigObject {
  if (!existsSync(path)) throw new GraftError(`config file ${path} does not exist`);
  const text = readFileSync(path, "utf8");
  let value: unknown;
  try {
    value = [".yaml", ".yml"].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new GraftError(
      `config file ${path} is not valid ${extname(path).slice(1).toUpperCase() || "JSON"}: ${(e as Error).message}`,
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new GraftError(`config file ${path} must hold an object of settings`);
  return value as ConfigObject;
}

/** One command-line flag of a schema: the option, its key path, and commander's spelling. */
export interface FlagBinding {
  path: readonly string[];
  option: Option;
  /** Commander's spelling, e.g. "--grad-accum <n>". */
  spec: string;
  /** The long flag, e.g. "--grad-accum". */
  flag: string;
}

function placeholder(o: Option): string {
  switch (o.kind) {
    case "boolean":
      return "";
    case "integer":
      return " <n>";
    case "number":
      return " <x>";
    case "enum":
      return " <name>";
    case "list":
      return " <values...>";
    default:
      return " <value>";
  }
}

/** Every flag a schema declares, groups included (a group's own flag, such as --lora, switches it on). */
export function flagBindings(schema: Schema, prefix = "", path: readonly string[] = []): FlagBinding[] {
  const out: FlagBinding[] = [];
  for (const [name, o] of Object.entries(schema)) {
    const at = [...path, name];
    if (o.kind === "group") {
      if (typeof o.flag === "string") out.push({ path: at, option: o, spec: o.flag, flag: flagName(o, name) });
      out.push(...flagBindings(o.fields!, prefix + (o.flagPrefix ?? ""), at));
      continue;
    }
    if (o.flag === false) continue;
    const spec = o.flag ?? `${flagName(o, name, prefix)}${placeholder(o)}`;
    out.push({ path: at, option: o, spec, flag: flagName(o, name, prefix) });
  }
  return out;
}

function showDefault(o: Option): string | null {
  if (o.defaultHelp !== undefined) return o.defaultHelp;
  const d = o.default;
  if (d === undefined || d === null || d === false || o.kind === "group") return null;
  if (o.kind === "boolean") return null; // a --no-x switch: on unless given
  if (Array.isArray(d)) return d.length ? d.join(",") : null;
  if (isObject(d)) return null;
  if (typeof d === "number" && d !== 0 && Math.abs(d) < 1e-3) return d.toExponential().replace("e-", "e-");
  return String(d);
}

/** A flag's --help line: the schema's description and its default. */
export function helpLine(o: Option): string {
  const d = showDefault(o);
  const help = o.help ?? "";
  return d === null ? help : `${help}${help ? " " : ""}(default: ${d})`;
}

/** Registers schemas' flags on a command, in order (e.g. --config, the settings, then --json and --quiet). */
export function addOptions(cmd: Command, ...schemas: Schema[]): Command {
  for (const schema of schemas)
    for (const b of flagBindings(schema)) {
      const flag = new Flag(b.spec, helpLine(b.option));
      if (b.option.required && b.option.file === false) flag.makeOptionMandatory();
      cmd.addOption(b.option.flagChoices ? flag.choices(b.option.flagChoices) : flag);
    }
  return cmd;
}

/** `--config FILE`, a command-line switch (never a setting in a config file or run.json). */
export function configSwitch(help = "run configuration (JSON or YAML); flags override it") {
  return { config: opt.string({ file: false, flag: "--config <file>", help }) };
}

/**
 * The switches of a training run's lifecycle (finetune, pretrain): resume, start over, the data check on resume,
 * loading non-finite weights, and the output. `data` names what the run reads ("data files", "corpus files").
 */
export function runSwitches(data: string) {
  return {
    resume: opt.string({
      file: false,
      flag: "--resume <runDir>",
      help: "continue an interrupted run from its last complete checkpoint, with its recorded configuration",
    }),
    overwrite: opt.boolean({ file: false, help: "start over in an --output directory that holds a run (deletes it)" }),
    allowDataChange: opt.boolean({
      file: false,
      help: `with --resume: continue even though the ${data} changed since the run started`,
    }),
    allowNonfinite: opt.boolean({
      file: false,
      flag: "--allow-nonfinite",
      help: "load a model whose weights hold NaN or Infinity (refused otherwise), to inspect it",
    }),
    json: opt.boolean({ file: false, help: "print the result as JSON" }),
    quiet: opt.boolean({ file: false, help: "no progress output" }),
  };
}

/** The usual --json switch. */
export function jsonSwitch(help = "print the result as JSON") {
  return { json: opt.boolean({ file: false, help }) };
}

function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const p of path.slice(0, -1)) {
    if (!isObject(node[p])) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

/**
 * The settings the user typed as flags (commander's defaults and flags not given are left out), each parsed and
 * checked with an error naming the flag. A flag of a nullable group's field (--lora-r) switches the group on.
 */
export function flagOptions<S extends Schema>(schema: S, cmd: Command): Input<S> {
  const values = cmd.opts();
  const out: Record<string, unknown> = {};
  for (const b of flagBindings(schema)) {
    const attr = new Flag(b.spec).attributeName();
    const source = cmd.getOptionValueSource(attr);
    if (source !== "cli" && source !== "env") continue;
    const raw = values[attr];
    if (raw === undefined) continue;
    if (b.option.kind === "group") {
      if (raw === true && !isObject(out[b.path[0]])) setAt(out, b.path, {});
      continue;
    }
    const value = b.option.parse(raw, b.flag);
    if (!b.option.check(value).ok)
      throw new ArgumentError(
        `${b.flag} must be ${b.option.describe}, got "${Array.isArray(raw) ? raw.join(" ") : raw}"`,
      );
    setAt(out, b.path, value);
  }
  return out as Input<S>;
}

/** A command's switches (options that never come from a config file) resolved: the typed flags and the defaults. */
export function resolveFlags<S extends Schema>(schema: S, cmd: Command): Resolved<S> {
  return resolveOptions(schema, flagOptions(schema, cmd), { switches: true });
}

/** `--config FILE` (validated against the schema) overridden by the flags the user typed. */
export function configAndFlags<S extends Schema>(schema: S, cmd: Command, configFile?: string): Input<S> {
  const file = configFile ? validateOptions(schema, readConfigFile(configFile), { source: configFile }) : {};
  return mergeOptions(schema, file as Input<S>, flagOptions(schema, cmd));
}

/** The flag of an option given by its key path, for messages ("--grad-accum"). */
export function flagOf(schema: Schema, path: string): string {
  const b = flagBindings(schema).find((x) => x.path.join(".") === path);
  return b ? b.flag : `--${kebab(path.split(".").pop() ?? path)}`;
}

/** Settings that name files or directories: compared with a run's recorded (absolute) paths as absolute paths. */
const PATH_SETTINGS = new Set(["model", "data", "validation", "test", "output", "corpus", "tokenizer"]);

/**
 * The settings given together with --resume (flags and --config) that differ from the run's recorded
 * configuration, as "--flag VALUE (the run has RECORDED)". A resumed run continues its recorded configuration, so
 * the caller refuses these: to change a setting, start a new run. A setting that repeats the recorded value is fine.
 */
export function changedOnResume(
  schema: Schema,
  given: Record<string, unknown>,
  recorded: Record<string, unknown>,
  prefix = "",
  root: Schema = schema,
): string[] {
  const out: string[] = [];
  const show = (v: unknown) => (v === undefined ? "nothing" : JSON.stringify(v));
  for (const [key, value] of Object.entries(given)) {
    const o = schema[key];
    if (!o || value === undefined) continue;
    const path = prefix ? `${prefix}.${key}` : key;
    const was = recorded?.[key];
    if (o.kind === "group" && isObject(value)) {
      if (!isObject(was)) out.push(`${flagOf(root, path)} (the run has ${show(was)})`);
      else out.push(...changedOnResume(o.fields!, value, was, path, root));
      continue;
    }
    const abs = (v: unknown) =>
      PATH_SETTINGS.has(key) && !prefix
        ? Array.isArray(v)
          ? v.map((x) => (typeof x === "string" && existsSync(x) ? resolve(x) : x))
          : typeof v === "string" && existsSync(v)
            ? resolve(v)
            : v
        : v;
    if (JSON.stringify(abs(value)) !== JSON.stringify(abs(was)))
      out.push(`${flagOf(root, path)} ${show(value)} (the run has ${show(was)})`);
  }
  return out;
}

/** Refuses settings given with --resume that differ from the recorded ones (see changedOnResume), naming them. */
export function refuseChangedOnResume(
  schema: Schema,
  given: Record<string, unknown>,
  recorded: Record<string, unknown>,
  runDir: string,
): void {
  const changed = changedOnResume(schema, given, recorded);
  if (changed.length)
    throw new GraftError(
      `--resume continues ${runDir} with its recorded configuration; these settings differ from it: ${changed.join(", ")}`,
      "leave them out to resume, or start a new run (another --output, or --overwrite) to change them",
    );
}

/**
 * The configuration of the run to resume (`--resume DIR`): run.json's recorded `command` configuration, refusing
 * --overwrite and any setting given beside --resume that differs from it.
 */
export function resumedConfig<R extends object>(
  command: "finetune" | "pretrain",
  schema: Schema,
  cmd: Command,
  f: { resume?: string; overwrite?: boolean; config?: string },
): R & { output: string } {
  const runDir = resolve(f.resume!);
  if (f.overwrite) throw new GraftError("--resume and --overwrite contradict each other: give one");
  const run = readRunJson<Record<string, R | undefined>>(runDir);
  const recorded = run[command];
  if (!recorded) throw new GraftError(`${join(runDir, "run.json")} is not a ${command} run`);
  refuseChangedOnResume(schema, configAndFlags(schema, cmd, f.config), recorded as Record<string, unknown>, runDir);
  return { ...recorded, output: runDir };
}
