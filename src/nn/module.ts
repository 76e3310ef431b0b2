/**
 * Module and Parameter: the module tree is the transfer-learning API.
 *
 * A Module's children and parameters are its own fields, discovered in declaration order: a Parameter, a Module,
 * or an array of Modules (named `field.0`, `field.1`, ...). Field names therefore ARE the state-dict keys, so a
 * model whose fields carry Hugging Face's names (`encoder.layer.0.attention.self.query.weight`) loads their
 * checkpoints 1:1. Fields starting with `_` are private and never walked.
 */
import { ShapeError, fmtShape } from "../util/errors.js";
import { Tensor, copy_, sizeOf } from "../tensor/index.js";

export class Parameter extends Tensor {
  constructor(data: Float32Array, shape: readonly number[], requiresGrad = true) {
    super(data, shape, requiresGrad);
  }

  static zeros(shape: readonly number[]): Parameter {
    return new Parameter(new Float32Array(sizeOf(shape)), shape);
  }
}

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

export type NamePattern = string | RegExp;

/** Glob-ish name patterns: `*` matches within a dotted segment run, `**` anything; a RegExp is used as is. */
export function toRegExp(pattern: NamePattern): RegExp {
  if (pattern instanceof RegExp) return pattern;
  const esc = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*\*/g, "\u0000")
    .replace(/\*/g, "[^.]*")
    .replace(/\u0000/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${esc}$`);
}

export abstract class Module {
  protected _training = true;
  protected _gradientCheckpointing = false;

  /** Direct children (name, module) in declaration order. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (key.startsWith("_")) continue;
      if (value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value))
        value.forEach((v, i) => {
          if (v instanceof Module) out.push([`${key}.${i}`, v]);
        });
    }
    return out;
  }

  /** This module and all its descendants with dotted names ("" for this one). */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren())
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  /** Parameters directly held by this module. */
  private ownParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [key, value] of Object.entries(this))
      if (!key.startsWith("_") && value instanceof Parameter) out.push([key, value]);
    return out;
  }

  /**
   * Every parameter with its dotted name. A parameter shared by two modules (tied weights) is listed once, under
   * its first name, unless `removeDuplicate` is false.
   */
  namedParameters(opts: { removeDuplicate?: boolean } = {}): [string, Parameter][] {
    const removeDuplicate = opts.removeDuplicate ?? true;
    const seen = new Set<Parameter>();
    const out: [string, Parameter][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m.ownParameters()) {
        if (removeDuplicate && seen.has(p)) continue;
        seen.add(p);
        out.push([prefix ? `${prefix}.${name}` : name, p]);
      }
    }
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Parameters that will be trained (requiresGrad). */
  trainableParameters(): Parameter[] {
    return this.parameters().filter((p) => p.requiresGrad);
  }

  /** Number of parameter values (tied weights counted once). */
  numParameters(opts: { trainableOnly?: boolean } = {}): number {
    return this.parameters()
      .filter((p) => !opts.trainableOnly || p.requiresGrad)
      .reduce((s, p) => s + p.size, 0);
  }

  /** Name → tensor (sharing data with the parameters), tied weights once. */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParameters());
  }

  /**
   * Copies tensors into the parameters of the same names. Every shape mismatch is reported in one error with both
   * shapes; with `strict` (default) missing or unexpected keys are an error too, otherwise they are returned.
   * Names of tied parameters (aliases) are all accepted.
   */
  loadStateDict(sd: Map<string, Tensor> | Record<string, Tensor>, opts: { strict?: boolean } = {}): LoadResult {
    const strict = opts.strict ?? true;
    const entries = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const all = this.namedParameters({ removeDuplicate: false });
    const byName = new Map(all);
    const mismatched: string[] = [];
    for (const [name, t] of entries) {
      const p = byName.get(name);
      if (p && (p.size !== t.size || p.shape.some((d, i) => d !== t.shape[i]) || p.rank !== t.rank)) {
        mismatched.push(`${name}: checkpoint ${fmtShape(t.shape)} vs model ${fmtShape(p.shape)}`);
      }
    }
    // a parameter counts as present when any of its names (aliases) is in the state dict
    const loaded = new Set<Parameter>();
    for (const [name, p] of all) if (entries.has(name)) loaded.add(p);
    const missingKeys = this.namedParameters()
      .filter(([, p]) => !loaded.has(p))
      .map(([n]) => n);
    const unexpectedKeys = [...entries.keys()].filter((k) => !byName.has(k));
    const problems: string[] = [];
    if (mismatched.length)
      problems.push(`size mismatch for ${mismatched.length} tensor(s):\n  ${mismatched.join("\n  ")}`);
    if (strict && missingKeys.length) problems.push(`missing keys (${missingKeys.length}): ${missingKeys.join(", ")}`);
    if (strict && unexpectedKeys.length)
      problems.push(`unexpected keys (${unexpectedKeys.length}): ${unexpectedKeys.join(", ")}`);
    if (problems.length) throw new ShapeError(`loadStateDict(${this.constructor.name}): ${problems.join("\n")}`);
    for (const [name, t] of entries) {
      const p = byName.get(name);
      if (!p) continue;
      if (t.dtype !== "f32") throw new ShapeError(`loadStateDict: ${name} is ${t.dtype}; parameters are f32`);
      copy_(p, t);
    }
    return { missingKeys, unexpectedKeys };
  }

  get training(): boolean {
    return this._training;
  }

  /** Sets training mode (dropout on) for this module and all descendants. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m._training = mode;
    return this;
  }

  /**
   * Whether a layer stack (models' runLayers) runs this module as one checkpoint in training: its forward keeps no
   * activations, and the backward recomputes them (less memory for one more forward per layer).
   */
  get gradientCheckpointing(): boolean {
    return this._gradientCheckpointing;
  }

  /** Turns activation checkpointing on (or off) for this module and all descendants (transformers' gradient_checkpointing_enable). */
  gradientCheckpointingEnable(on = true): this {
    for (const [, m] of this.namedModules()) m._gradientCheckpointing = on;
    return this;
  }

  /** Evaluation mode (dropout off). */
  eval(): this {
    return this.train(false);
  }

  /** Stops gradients for parameters whose names match (all when no pattern). Returns the names frozen. */
  freeze(pattern?: NamePattern | NamePattern[]): string[] {
    return this.setRequiresGrad(false, pattern);
  }

  /** Re-enables gradients for parameters whose names match (all when no pattern). Returns the names unfrozen. */
  unfreeze(pattern?: NamePattern | NamePattern[]): string[] {
    return this.setRequiresGrad(true, pattern);
  }

  private setRequiresGrad(flag: boolean, pattern?: NamePattern | NamePattern[]): string[] {
    const res = pattern === undefined ? null : (Array.isArray(pattern) ? pattern : [pattern]).map(toRegExp);
    const changed: string[] = [];
    for (const [name, p] of this.namedParameters()) {
      if (res && !res.some((r) => r.test(name))) continue;
      p.requiresGrad = flag;
      if (!flag) p.grad = null;
      changed.push(name);
    }
    return changed;
  }

  /** Clears every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }
}
