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
 * Every key is checked against TUNE_SCHEMA (a misspelt key is an error with a did-you-mean hint, not a silent
 * default); command-line flags override the file.
 */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { ArgumentError, FormatError } from "../util/errors.js";
import {
  type Resolved,
  closestName,
  isObject,
  opt,
  optionDefaults,
  resolveOptions,
  validateOptions,
} from "../util/options.js";
import type { PbtOptions } from "./pbt.js";
import type { PrunerConfig } from "./pruners.js";
import type { SamplerConfig } from "./samplers/index.js";
import type { SpaceSpec } from "./space.js";
import type { Direction } from "./types.js";

const isDirection = (v: unknown) => v === "minimize" || v === "maximize";
const isNamed = (v: unknown) => typeof v === "string" || (isObject(v) && typeof v.name === "string");

/** Every setting of a study: type, default, checks, flag and help declared once (util/options.ts). */
export const TUNE_SCHEMA = {
  name: opt.string({ default: "study", nonEmpty: true, flag: "--name <name>", help: "study name" }),
  /** What to optimize: "builtin:NAME", "module:PATH#EXPORT", a registered name, or { name, ...options }. */
  objective: opt.value<unknown>({
    flag: "--objective <name>",
    help: "what to optimize: builtin:sphere, builtin:rosenbrock, builtin:noisy-quadratic (synthetic, for trying the tuner) or module:PATH#EXPORT",
    describe: "a name or an object",
    check: (v) => v === null || typeof v === "string" || isObject(v),
    parse: (s) => s,
  }),
  /** The search space (default: the objective's own). */
  space: opt.value<SpaceSpec | null>({
    default: null,
    flag: false,
    describe: "an object of parameters",
    check: (v) => v === null || isObject(v),
  }),
  directions: opt.value<Direction[] | null>({
    default: null,
    flag: "--direction <dir>",
    help: "minimize or maximize (comma-separated, one per objective)",
    describe: 'a list of "minimize" / "maximize"',
    check: (v) => v === null || (Array.isArray(v) && v.length > 0 && v.every(isDirection)),
    parse: (s) => s.split(",").map((d) => d.trim()),
  }),
  /** One direction, instead of `directions`. */
  direction: opt.enum(["minimize", "maximize"], { flag: false }),
  /** Names of the objective values, one per direction (e.g. ["f1_macro", "latency_ms"]). */
  metrics: opt.list("string", { default: null, nullable: true, flag: false }),
  sampler: opt.value<string | SamplerConfig>({
    default: { name: "tpe" },
    flag: "--sampler <name>",
    flagChoices: ["tpe", "random", "grid", "de"],
    help: "how parameters are chosen",
    defaultHelp: "tpe",
    describe: 'a name or { "name": ... }',
    check: isNamed,
    parse: (s) => s,
  }),
  pruner: opt.value<string | PrunerConfig | null>({
    default: null,
    flag: "--pruner <name>",
    flagChoices: ["asha", "median", "none"],
    help: "stop bad trials early from their intermediate values",
    describe: 'a name, { "name": ... } or null',
    check: (v) => v === null || isNamed(v),
    parse: (s) => (s === "none" ? null : s),
  }),
  pruneDirection: opt.enum(["minimize", "maximize"], { default: null, nullable: true, flag: false }),
  pbt: opt.value<PbtOptions | null>({
    default: null,
    flag: false,
    describe: "an object",
    check: (v) => v === null || isObject(v),
  }),
  /** Total trials of the study (null: until the sampler is exhausted, or the time is up). */
  trials: opt.integer({ default: null, nullable: true, min: 0, help: "total trials of the study" }),
  parallel: opt.integer({
    default: 1,
    min: 1,
    help: "trials at once: local processes with cores/N threads each (with --redis: trials queued at once)",
  }),
  /** Seconds a trial may run. */
  timeout: opt.number({
    default: null,
    nullable: true,
    gt: 0,
    flag: "--timeout <seconds>",
    help: "a trial running longer is stopped and recorded as failed",
  }),
  /** Seconds the study may start new trials. */
  studyTimeout: opt.number({
    default: null,
    nullable: true,
    gt: 0,
    flag: "--study-timeout <seconds>",
    help: "start no new trials after this long",
  }),
  retries: opt.integer({
    default: 1,
    min: 0,
    help: "extra attempts for a trial whose process crashed; trials of lost workers are retried by the other workers",
  }),
  seed: opt.integer({ default: 0, help: "seed of the sampler and PBT" }),
  threads: opt.integer({
    default: null,
    nullable: true,
    min: 1,
    help: "threads per trial",
    defaultHelp: "cores / parallel",
  }),
  redis: opt.value<string | null>({
    default: null,
    flag: "--redis <url>",
    help: "run trials as BullMQ jobs on this Redis (start workers with graft worker --redis URL)",
    describe: "a redis:// URL",
    check: (v) => v === null || (typeof v === "string" && /^rediss?:\/\//.test(v)),
    parse: (s) => s,
  }),
  queue: opt.string({
    default: null,
    nullable: true,
    nonEmpty: true,
    flag: "--queue <name>",
    help: "BullMQ queue name",
    defaultHelp: "graft-trials",
  }),
  /** Earlier studies (directories or study.sqlite files) this new study learns from (tune/warm.ts). */
  warmStart: opt.list("string", {
    default: null,
    nullable: true,
    minLength: 1,
    flag: "--warm-start <study...>",
    help: "warm-start from earlier studies: their best configurations run first and their trials shape TPE's prior, weighted by dataset similarity",
  }),
  /** Best configurations of each earlier study enqueued. */
  warmStartTop: opt.integer({
    default: 1,
    min: 0,
    flag: "--warm-start-top <n>",
    help: "best configurations of each earlier study run as the first trials",
  }),
  /** This study's dataset meta-features (size, classes, meanLength, labelEntropy, logme), kept for later warm starts. */
  metaFeatures: opt.value<Record<string, number> | null>({
    default: null,
    flag: false,
    describe: "an object of numbers",
    check: (v) =>
      v === null || (isObject(v) && Object.values(v).every((x) => typeof x === "number" && Number.isFinite(x))),
  }),
  /** The configuration a trial runs with (best-config.json is this with the best parameters written in). */
  base: opt.value<Record<string, unknown> | null>({
    default: null,
    flag: false,
    describe: "an object",
    check: (v) => v === null || isObject(v),
  }),
};

type Declared = Resolved<typeof TUNE_SCHEMA>;
/** A study's resolved configuration: the schema's, with `direction` folded into `directions` and named parts expanded. */
export type TuneConfig = Omit<Declared, "direction" | "sampler" | "pruner" | "objective"> & {
  objective: unknown;
  sampler: SamplerConfig;
  pruner: PrunerConfig | null;
};

export const DEFAULT_TUNE: TuneConfig = {
  ...(optionDefaults(TUNE_SCHEMA) as Omit<TuneConfig, "objective">),
  objective: null,
};

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
  const keys = Object.keys(TUNE_SCHEMA);
  for (const k of Object.keys(raw))
    if (!Object.hasOwn(TUNE_SCHEMA, k)) {
      const guess = closestName(k, keys);
      throw new ArgumentError(
        `${source}: unknown key "${k}"${guess ? ` (did you mean "${guess}"?)` : ""}`,
        `known keys: ${[...keys].sort().join(", ")}`,
      );
    }
  const given = validateOptions(TUNE_SCHEMA, raw, { source });
  const { direction, ...rest } = resolveOptions(TUNE_SCHEMA, given, { source });
  if (given.direction !== undefined) {
    if (given.directions !== undefined)
      throw new ArgumentError(`${source}: give "direction" or "directions", not both`);
    rest.directions = [direction as Direction];
  }
  const c = { ...rest, objective: rest.objective ?? null } as TuneConfig & { sampler: unknown; pruner: unknown };
  if (c.metrics !== null && c.directions !== null && c.metrics.length !== c.directions.length)
    throw new ArgumentError(
      `${source}: ${c.metrics.length} metrics but ${c.directions.length} directions`,
      "give one direction per objective value",
    );
  if (c.objective === null || c.objective === undefined)
    throw new ArgumentError(`${source}: no objective`, 'set "objective" (e.g. "builtin:sphere") or pass --objective');
  if (typeof c.sampler === "string") c.sampler = { name: c.sampler };
  if (typeof c.pruner === "string") c.pruner = { name: c.pruner };
  // one seed for everything the study draws, unless a part has its own
  c.sampler = { ...c.sampler, seed: c.sampler.seed ?? c.seed };
  if (c.pbt) c.pbt = { ...c.pbt, seed: c.pbt.seed ?? c.seed };
  return c;
}
