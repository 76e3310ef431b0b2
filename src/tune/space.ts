/**
 * Search spaces. A space is a JSON object of named parameters, each one of:
 *   { "type": "uniform",     "low": 0.0, "high": 0.3 }
 *   { "type": "loguniform",  "low": 1e-5, "high": 1e-3 }
 *   { "type": "int",         "low": 1, "high": 8, "step": 1, "log": false }
 *   { "type": "categorical", "choices": ["adamw", "sgd"] }
 * and any of them may carry `"when": { "optimizer": "sgd" }` (or a list of values): the parameter exists only when
 * the parameters it names exist and hold one of those values. A name is a dotted path into the configuration the
 * trial runs with ("args.lr", "lora.r"), so any Trainer or adaptation option can be searched.
 *
 * Every parameter also has a position on [0, 1] (linear in the value, or in its logarithm; one cell per integer or
 * choice), which is what differential evolution and TPE work on: a mixed space becomes a unit hypercube.
 */
import { ArgumentError } from "../util/errors.js";
import type { Rng } from "../util/rng.js";
import type { ParamValue, Params } from "./types.js";

export type Condition = Record<string, ParamValue | ParamValue[]>;

export type ParamSpec =
  | { type: "uniform"; low: number; high: number; when?: Condition }
  | { type: "loguniform"; low: number; high: number; when?: Condition }
  | { type: "int"; low: number; high: number; step?: number; log?: boolean; when?: Condition }
  | { type: "categorical"; choices: ParamValue[]; when?: Condition };

export type SpaceSpec = Record<string, ParamSpec>;

export interface ParamDef {
  readonly name: string;
  readonly spec: ParamSpec;
  /** Parent name → allowed values. */
  readonly when: Map<string, ParamValue[]>;
  /** Number of distinct values (Infinity for floats). */
  readonly cardinality: number;
  readonly numeric: boolean;
  decode(u: number): ParamValue;
  encode(v: ParamValue): number;
  contains(v: ParamValue): boolean;
}

const clamp01 = (u: number) => (u < 0 ? 0 : u > 1 ? 1 : u);

function makeDef(name: string, raw: unknown): ParamDef {
  const where = `search space parameter "${name}"`;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new ArgumentError(`${where} must be an object with a "type"`);
  const s = raw as Record<string, unknown>;
  const when = new Map<string, ParamValue[]>();
  if (s.when !== undefined) {
    if (typeof s.when !== "object" || s.when === null || Array.isArray(s.when))
      throw new ArgumentError(`${where}: "when" must map parameter names to a value or a list of values`);
    for (const [k, v] of Object.entries(s.when))
      when.set(k, Array.isArray(v) ? (v as ParamValue[]) : [v as ParamValue]);
  }
  const num = (key: string): number => {
    const v = s[key];
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new ArgumentError(`${where}: "${key}" must be a finite number, got ${JSON.stringify(v)}`);
    return v;
  };
  const base = { name, spec: s as unknown as ParamSpec, when };
  switch (s.type) {
    case "uniform":
    case "loguniform": {
      const low = num("low"),
        high = num("high");
      if (!(low < high)) throw new ArgumentError(`${where}: low (${low}) must be below high (${high})`);
      const log = s.type === "loguniform";
      if (log && low <= 0) throw new ArgumentError(`${where}: a loguniform range must be positive, got low ${low}`);
      const a = log ? Math.log(low) : low,
        b = log ? Math.log(high) : high;
      return {
        ...base,
        cardinality: Infinity,
        numeric: true,
        decode: (u) => {
          const y = a + clamp01(u) * (b - a);
          return Math.min(high, Math.max(low, log ? Math.exp(y) : y));
        },
        encode: (v) => ((log ? Math.log(v as number) : (v as number)) - a) / (b - a),
        contains: (v) => typeof v === "number" && v >= low && v <= high,
      };
    }
    case "int": {
      const low = num("low"),
        high = num("high");
      const step = s.step === undefined ? 1 : num("step");
      const log = s.log === true;
      if (!Number.isInteger(low) || !Number.isInteger(high) || low > high)
        throw new ArgumentError(`${where}: low and high must be integers with low <= high, got ${low} and ${high}`);
      if (!Number.isInteger(step) || step < 1)
        throw new ArgumentError(`${where}: step must be a positive integer, got ${step}`);
      if (log && (low < 1 || step !== 1))
        throw new ArgumentError(`${where}: a log-scaled integer needs low >= 1 and step 1`);
      const count = Math.floor((high - low) / step) + 1;
      if (log) {
        // each integer v owns the cell [v - 0.5, v + 0.5] in log space
        const a = Math.log(low - 0.5),
          b = Math.log(high + 0.5);
        return {
          ...base,
          cardinality: count,
          numeric: true,
          decode: (u) => Math.min(high, Math.max(low, Math.round(Math.exp(a + clamp01(u) * (b - a))))),
          encode: (v) => (Math.log(v as number) - a) / (b - a),
          contains: (v) => typeof v === "number" && Number.isInteger(v) && v >= low && v <= high,
        };
      }
      return {
        ...base,
        cardinality: count,
        numeric: true,
        decode: (u) => low + Math.min(count - 1, Math.floor(clamp01(u) * count)) * step,
        encode: (v) => (((v as number) - low) / step + 0.5) / count,
        contains: (v) =>
          typeof v === "number" && Number.isInteger(v) && v >= low && v <= high && (v - low) % step === 0,
      };
    }
    case "categorical": {
      const choices = s.choices;
      if (!Array.isArray(choices) || choices.length === 0)
        throw new ArgumentError(`${where}: "choices" must be a non-empty list`);
      for (const c of choices)
        if (!["number", "string", "boolean"].includes(typeof c))
          throw new ArgumentError(`${where}: choices must be numbers, strings or booleans, got ${JSON.stringify(c)}`);
      if (new Set(choices).size !== choices.length) throw new ArgumentError(`${where}: choices must be distinct`);
      const k = choices.length;
      return {
        ...base,
        cardinality: k,
        numeric: false,
        decode: (u) => choices[Math.min(k - 1, Math.floor(clamp01(u) * k))] as ParamValue,
        encode: (v) => (choices.indexOf(v) + 0.5) / k,
        contains: (v) => choices.includes(v),
      };
    }
    default:
      throw new ArgumentError(
        `${where}: unknown type ${JSON.stringify(s.type)}`,
        'use "uniform", "loguniform", "int" or "categorical"',
      );
  }
}

export class SearchSpace {
  /** Parameters ordered so that every parameter comes after those its condition names. */
  readonly params: readonly ParamDef[];
  private readonly byName: Map<string, ParamDef>;

  constructor(readonly spec: SpaceSpec) {
    if (typeof spec !== "object" || spec === null || Array.isArray(spec))
      throw new ArgumentError("a search space must be an object of named parameters");
    const defs = Object.entries(spec).map(([name, s]) => makeDef(name, s));
    if (defs.length === 0)
      throw new ArgumentError("the search space is empty", "name at least one parameter to search");
    this.byName = new Map(defs.map((d) => [d.name, d]));
    for (const d of defs) {
      for (const [parent, values] of d.when) {
        const p = this.byName.get(parent);
        if (!p)
          throw new ArgumentError(
            `search space parameter "${d.name}" is conditional on "${parent}", which is not in the space`,
          );
        for (const v of values)
          if (!p.contains(v))
            throw new ArgumentError(
              `search space parameter "${d.name}": its condition value ${JSON.stringify(v)} is not a possible value of "${parent}"`,
            );
      }
    }
    this.params = topoOrder(defs);
  }

  get names(): string[] {
    return this.params.map((p) => p.name);
  }

  get dims(): number {
    return this.params.length;
  }

  param(name: string): ParamDef {
    const d = this.byName.get(name);
    if (!d)
      throw new ArgumentError(`"${name}" is not a parameter of the search space (it has ${this.names.join(", ")})`);
    return d;
  }

  /** Whether `def` exists given the values already decided in `params`. */
  isActive(def: ParamDef, params: Params): boolean {
    for (const [parent, values] of def.when) {
      if (!(parent in params) || !values.includes(params[parent]!)) return false;
    }
    return true;
  }

  /** Independent uniform sample (on the unit scale of each parameter). */
  sample(rng: Rng): Params {
    return this.fromUnit(Float64Array.from(this.params, () => rng.uniform()));
  }

  /** Parameters from a point of the unit hypercube (one coordinate per parameter, in `params` order). */
  fromUnit(u: ArrayLike<number>): Params {
    const out: Params = {};
    this.params.forEach((d, i) => {
      if (this.isActive(d, out)) out[d.name] = d.decode(u[i]!);
    });
    return out;
  }

  /** The unit-cube point of `params`; inactive parameters take `fill(i)`. */
  toUnit(params: Params, fill: (i: number) => number = () => 0.5): Float64Array {
    return Float64Array.from(this.params, (d, i) => (d.name in params ? clamp01(d.encode(params[d.name]!)) : fill(i)));
  }

  /** Throws unless `params` holds exactly the active parameters, each a possible value. */
  validate(params: Params): void {
    const seen: Params = {};
    for (const d of this.params) {
      const active = this.isActive(d, seen);
      if (active && !(d.name in params)) throw new ArgumentError(`parameters lack "${d.name}"`);
      if (!active && d.name in params)
        throw new ArgumentError(
          `parameter "${d.name}" is given but inactive (its condition ${JSON.stringify(Object.fromEntries(d.when))} does not hold)`,
        );
      if (active) {
        if (!d.contains(params[d.name]!))
          throw new ArgumentError(
            `parameter "${d.name}" = ${JSON.stringify(params[d.name])} is outside its range ${JSON.stringify(d.spec)}`,
          );
        seen[d.name] = params[d.name]!;
      }
    }
    for (const k of Object.keys(params))
      if (!this.byName.has(k)) throw new ArgumentError(`parameter "${k}" is not in the search space`);
  }

  /** The values a grid visits: every choice or integer (thinned to `points` when there are more), `points` floats. */
  gridValues(def: ParamDef, points: number): ParamValue[] {
    if (def.spec.type === "categorical") return [...def.spec.choices];
    const n = Math.max(1, Math.min(points, def.cardinality));
    if (n === 1) return [def.decode(0.5)];
    const values = Array.from({ length: n }, (_, i) =>
      def.decode(def.cardinality === Infinity ? i / (n - 1) : (i + 0.5) / n),
    );
    return [...new Set(values)];
  }

  /** A canonical string for a parameter set (to spot duplicates). */
  static key(params: Params): string {
    return JSON.stringify(
      Object.keys(params)
        .sort()
        .map((k) => [k, params[k]]),
    );
  }
}

function topoOrder(defs: ParamDef[]): ParamDef[] {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const out: ParamDef[] = [];
  const state = new Map<string, 1 | 2>();
  const visit = (d: ParamDef, path: string[]) => {
    if (state.get(d.name) === 2) return;
    if (state.get(d.name) === 1)
      throw new ArgumentError(`search space conditions form a cycle: ${[...path, d.name].join(" → ")}`);
    state.set(d.name, 1);
    for (const parent of d.when.keys()) visit(byName.get(parent)!, [...path, d.name]);
    state.set(d.name, 2);
    out.push(d);
  };
  for (const d of defs) visit(d, []);
  return out;
}

/**
 * `base` with each parameter written at its dotted path ("args.lr" sets base.args.lr), creating objects on the
 * way; `base` itself is not modified.
 */
export function applyParams<T extends object>(base: T, params: Params): T {
  const out = structuredClone(base) as Record<string, unknown>;
  for (const [path, value] of Object.entries(params)) {
    const keys = path.split(".");
    let node = out;
    for (const k of keys.slice(0, -1)) {
      const next = node[k];
      if (next === undefined) node[k] = {};
      else if (typeof next !== "object" || next === null || Array.isArray(next))
        throw new ArgumentError(`cannot set "${path}": "${k}" is ${JSON.stringify(next)}, not an object`);
      node = node[k] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]!] = value;
  }
  return out as T;
}
