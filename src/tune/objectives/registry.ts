/**
 * Objectives by name, for configs and the command line. A provider turns the config's objective entry into a
 * loadable reference (so trials can run in other processes and on other hosts) plus, optionally, a default search
 * space and directions. "builtin:NAME" are the synthetic objectives; "module" names any module exporting a
 * factory; layers above tune/ register theirs (the fine-tuning objective registers "finetune"). A provider that
 * names its metrics but no directions gets the metric registry's directions.
 */
import { ArgumentError } from "../../util/errors.js";
import type { SpaceSpec } from "../space.js";
import type { Direction } from "../types.js";
import { BUILTIN_NAMES, builtinSpace } from "./builtins.js";
import { knownDirections } from "./metrics.js";
import { BUILTINS_MODULE, type ObjectiveRef } from "./ref.js";

export interface ResolvedObjective {
  ref: ObjectiveRef;
  /** Used when the config names no space. */
  space?: SpaceSpec;
  /** One per objective value; when absent, taken from the metric registry for the metrics it names. */
  directions?: Direction[];
  /** Names of the objective values. */
  metrics?: string[];
  /** The configuration a trial runs with; the best parameters are written into it for best-config.json. */
  base?: Record<string, unknown>;
}

export type ObjectiveProvider = (options: Record<string, unknown>) => ResolvedObjective;

const providers = new Map<string, ObjectiveProvider>();

export function registerObjective(name: string, provider: ObjectiveProvider): void {
  providers.set(name, provider);
}

export function registeredObjectives(): string[] {
  return [...BUILTIN_NAMES.map((n) => `builtin:${n}`), "module", ...providers.keys()];
}

/**
 * `spec` is "builtin:sphere", "module:/path/to/file.js#export", a registered name, or an object
 * { name, ...options } / { module, export?, options? }.
 */
export function resolveObjective(spec: unknown): ResolvedObjective {
  let name: string;
  let options: Record<string, unknown>;
  if (typeof spec === "string") {
    name = spec;
    options = {};
  } else if (typeof spec === "object" && spec !== null && !Array.isArray(spec)) {
    const o = spec as Record<string, unknown>;
    if (typeof o.module === "string")
      return {
        ref: { module: o.module, export: typeof o.export === "string" ? o.export : undefined, options: o.options },
      };
    if (typeof o.name !== "string")
      throw new ArgumentError(`the objective needs a "name" (or a "module"), got ${JSON.stringify(spec)}`);
    ({ name, ...options } = o as { name: string });
  } else {
    throw new ArgumentError(`the objective must be a name or an object, got ${JSON.stringify(spec)}`);
  }
  if (name.startsWith("builtin:")) {
    const builtin = name.slice("builtin:".length);
    const opts = { ...options, name: builtin };
    return {
      ref: { module: BUILTINS_MODULE, export: "builtinObjective", options: opts },
      space: builtinSpace(opts),
      directions: ["minimize"],
      metrics: [builtin],
      base: { objective: name, ...options },
    };
  }
  if (name.startsWith("module:")) {
    const [module, exportName] = name.slice("module:".length).split("#");
    return { ref: { module: module!, export: exportName, options } };
  }
  const provider = providers.get(name);
  if (!provider) {
    const hint =
      name === "finetune"
        ? "from code, call registerFinetuneObjective() (tasks/tune-objective) first; graft tune registers it itself"
        : `known objectives: ${registeredObjectives().join(", ")}`;
    throw new ArgumentError(`unknown objective "${name}"`, hint);
  }
  const resolved = provider(options);
  if (resolved.directions === undefined && resolved.metrics !== undefined) {
    const directions = knownDirections(resolved.metrics);
    if (directions) return { ...resolved, directions };
  }
  return resolved;
}
