/**
 * Objectives that must run in another process (the local pool, BullMQ workers) are named, not passed: a module and
 * the factory it exports, called with JSON options. "graft:tune/objectives/builtins.js" names a module of graft's
 * own build (resolved on each host against its own installation); anything else is a path or file: URL.
 */
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ArgumentError } from "../../util/errors.js";
import type { Objective } from "../context.js";

export interface ObjectiveRef {
  module: string;
  /** The exported factory: (options) => objective (default "default"). */
  export?: string;
  options?: unknown;
}

export const BUILTINS_MODULE = "graft:tune/objectives/builtins.js";

/** The compiled src/ directory of this graft installation. */
const SRC_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

export function moduleUrl(spec: string): string {
  if (spec.startsWith("graft:")) return pathToFileURL(resolve(SRC_ROOT, spec.slice("graft:".length))).href;
  if (spec.startsWith("file:")) return spec;
  return pathToFileURL(isAbsolute(spec) ? spec : resolve(spec)).href;
}

/** A ref usable on other hosts: relative paths made absolute (graft: names stay as they are). */
export function normalizeRef(ref: ObjectiveRef): ObjectiveRef {
  if (ref.module.startsWith("graft:") || ref.module.startsWith("file:") || isAbsolute(ref.module)) return ref;
  return { ...ref, module: resolve(ref.module) };
}

export async function loadObjective(ref: ObjectiveRef): Promise<Objective> {
  const url = moduleUrl(ref.module);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    throw new ArgumentError(`cannot load the objective module ${ref.module}: ${(e as Error).message}`);
  }
  const name = ref.export ?? "default";
  const factory = mod[name];
  if (typeof factory !== "function")
    throw new ArgumentError(
      `the objective module ${ref.module} exports no function "${name}"`,
      `it exports: ${Object.keys(mod).join(", ") || "nothing"}`,
    );
  const objective = await (factory as (o: unknown) => unknown)(ref.options);
  if (typeof objective !== "function")
    throw new ArgumentError(`${ref.module}#${name}(options) returned ${typeof objective}, not an objective function`);
  return objective as Objective;
}
