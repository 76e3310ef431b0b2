/**
 * The tune configuration file (JSON or YAML), e.g.
 *
 *   {
 *     "name": "lr-search",
 *     "objective": { "name": "builtin:sphere", "dims": 4 },
 *     "space": { "x0": { "type": "uniform", "low": -5, "high": 5 }, ... },   // default: the objective's own
 *     "directions": ["minimize"],                                            // or "direction": "maximize"
 *     "sampler": { "name": "tpe", "seed": 1 },                               // or "random", "grid", "de"
 *     "pruner": { "name": "asha", "minResource": 1, "reductionFactor": 3 },  // or "median", null
 *     "pbt": { "population": 8, "interval": 20, "generations": 10 },         // instead of independent trials
 *     "trials": 50, "parallel": 2, "timeout": 600, "retries": 1, "seed": 0,
 *     "redis": "redis://host:6379", "queue": "graft-trials"
 *   }
 *
 * Every key is checked (a misspelt key is an error, not a silent default); command-line flags override the file.
 */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { ArgumentError, FormatError } from "../util/errors.js";
import type { PbtOptions } from "./pbt.js";
import type { PrunerConfig } from "./pruners.js";
import type { SamplerConfig } from "./samplers/index.js";
import type { SpaceSpec } from "./space.js";
import type { Direction } from "./types.js";

export interface TuneConfig {
  name: string;
  objective: unknown;
  space: SpaceSpec | null;
  directions: Direction[] | null;
  /** Names of the objective values, one per direction (e.g. ["f1_macro", "latency_ms"]). */
  metrics: string[] | null;
  sampler: SamplerConfig;
  pruner: PrunerConfig | null;
  pruneDirection: Direction | null;
  pbt: PbtOptions | null;
  /** Total trials of the study (null: until the sampler is exhausted, or the time is up). */
  trials: number | null;
  parallel: number;
  /** Seconds a trial may run. */
  timeout: number | null;
  /** Seconds the study may start new trials. */
  studyTimeout: number | null;
  retries: number;
  seed: number;
  threads: number | null;
  redis: string | null;
  queue: string | null;
  /** The configuration a trial runs with (best-config.json is this with the best parameters written in). */
  base: Record<string, unknown> | null;
}

export const DEFAULT_TUNE: TuneConfig = {
  name: "study",
  objective: null,
  space: null,
  directions: null,
  metrics: null,
  sampler: { name: "tpe" },
  pruner: null,
  pruneDirection: null,
  pbt: null,
  trials: null,
  parallel: 1,
  timeout: null,
  studyTimeout: null,
  retries: 1,
  seed: 0,
  threads: null,
  redis: null,
  queue: null,
  base: null,
};

const KEYS = new Set([...Object.keys(DEFAULT_TUNE), "direction"]);

export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ArgumentError(
      `cannot read the config ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let raw: unknown;
  try {
    raw = [".yaml", ".yml"].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new FormatError(`${path}: ${(e as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new FormatError(`${path}: a tune config is an object`);
  return raw as Record<string, unknown>;
}

/** Validates a config object (from a file, flags or both) and fills defaults. */
export function resolveTuneConfig(raw: Record<string, unknown>, source = "the tune config"): TuneConfig {
  for (const k of Object.keys(raw))
    if (!KEYS.has(k))
      throw new ArgumentError(`${source}: unknown key "${k}"`, `known keys: ${[...KEYS].sort().join(", ")}`);
  const c: TuneConfig = {
    ...DEFAULT_TUNE,
    ...Object.fromEntries(Object.entries(raw).filter(([k, v]) => v !== undefined && k !== "direction")),
  } as TuneConfig;
  const bad = (key: string, want: string, got: unknown) =>
    new ArgumentError(`${source}: "${key}" must be ${want}, got ${JSON.stringify(got)}`);
  if (raw.direction !== undefined) {
    if (raw.directions !== undefined) throw new ArgumentError(`${source}: give "direction" or "directions", not both`);
    c.directions = [raw.direction as Direction];
  }
  if (c.directions !== null) {
    if (
      !Array.isArray(c.directions) ||
      c.directions.length === 0 ||
      c.directions.some((d) => d !== "minimize" && d !== "maximize")
    )
      throw bad("directions", 'a list of "minimize" / "maximize"', c.directions);
  }
  if (c.pruneDirection !== null && c.pruneDirection !== "minimize" && c.pruneDirection !== "maximize")
    throw bad("pruneDirection", '"minimize" or "maximize"', c.pruneDirection);
  if (c.metrics !== null && (!Array.isArray(c.metrics) || c.metrics.some((m) => typeof m !== "string")))
    throw bad("metrics", "a list of names", c.metrics);
  if (c.metrics !== null && c.directions !== null && c.metrics.length !== c.directions.length)
    throw new ArgumentError(
      `${source}: ${c.metrics.length} metrics but ${c.directions.length} directions`,
      "give one direction per objective value",
    );
  if (c.objective === null || c.objective === undefined)
    throw new ArgumentError(`${source}: no objective`, 'set "objective" (e.g. "builtin:sphere") or pass --objective');
  if (typeof c.name !== "string" || !c.name) throw bad("name", "a non-empty string", c.name);
  if (typeof c.sampler === "string") c.sampler = { name: c.sampler };
  if (typeof c.sampler !== "object" || c.sampler === null || typeof c.sampler.name !== "string")
    throw bad("sampler", 'a name or { "name": ... }', c.sampler);
  if (typeof c.pruner === "string") c.pruner = { name: c.pruner };
  if (c.pruner !== null && (typeof c.pruner !== "object" || typeof c.pruner.name !== "string"))
    throw bad("pruner", 'a name, { "name": ... } or null', c.pruner);
  const posInt = (key: keyof TuneConfig, allowNull: boolean, min = 1) => {
    const v = c[key];
    if (v === null && allowNull) return;
    if (!Number.isInteger(v) || (v as number) < min) throw bad(key, `an integer >= ${min}`, v);
  };
  posInt("trials", true, 0);
  posInt("parallel", false);
  posInt("retries", false, 0);
  posInt("threads", true);
  if (!Number.isInteger(c.seed)) throw bad("seed", "an integer", c.seed);
  for (const key of ["timeout", "studyTimeout"] as const)
    if (c[key] !== null && !(typeof c[key] === "number" && c[key]! > 0))
      throw bad(key, "a positive number of seconds", c[key]);
  if (c.redis !== null && (typeof c.redis !== "string" || !/^rediss?:\/\//.test(c.redis)))
    throw bad("redis", "a redis:// URL", c.redis);
  if (c.space !== null && (typeof c.space !== "object" || Array.isArray(c.space)))
    throw bad("space", "an object of parameters", c.space);
  if (c.base !== null && (typeof c.base !== "object" || Array.isArray(c.base))) throw bad("base", "an object", c.base);
  if (c.pbt !== null && (typeof c.pbt !== "object" || Array.isArray(c.pbt))) throw bad("pbt", "an object", c.pbt);
  // one seed for everything the study draws, unless a part has its own
  c.sampler = { ...c.sampler, seed: c.sampler.seed ?? c.seed };
  if (c.pbt) c.pbt = { ...c.pbt, seed: c.pbt.seed ?? c.seed };
  return c;
}
