/**
 * Run configuration for commands: `--config file.(json|yaml|yml)` merged with flags, flags winning.
 * Keys are the camelCase names of the long flags (`--batch-size` → batchSize), so a config file and a command
 * line describe a run in the same words; the resolved result is what a run saves in run.json.
 */
import { readFileSync, existsSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { GraftError } from "../util/errors.js";

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

/**
 * File settings overridden by the flags the user actually typed (commander reports defaults too; `explicit`
 * names the options that came from the command line, so a flag's default never overrides the file).
 */
export function mergeConfig(
  file: ConfigObject,
  flags: ConfigObject,
  explicit: ReadonlySet<string>,
  known: ReadonlySet<string>,
): ConfigObject {
  const unknown = Object.keys(file).filter((k) => !known.has(k));
  if (unknown.length)
    throw new GraftError(
      `unknown setting(s) in the config file: ${unknown.join(", ")}`,
      `known settings: ${[...known].sort().join(", ")}`,
    );
  const out: ConfigObject = {};
  for (const k of known) {
    if (explicit.has(k) && flags[k] !== undefined) out[k] = flags[k];
    else if (file[k] !== undefined) out[k] = file[k];
    else if (flags[k] !== undefined) out[k] = flags[k];
  }
  return out;
}

/** A numeric flag's value (undefined when not given), with an error naming the flag. */
export function numberOption(flag: string, v: string | undefined, integer = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)))
    throw new GraftError(`--${flag} must be ${integer ? "an integer" : "a number"}, got "${v}"`);
  return n;
}

/** The entries of o that are set: flags the user did not give must not override a config file. */
export function definedOnly<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
