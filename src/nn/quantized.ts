/**
 * Int8 inference layers: QuantizedLinear (dynamic quantization: int8 weights per output channel, activations
 * quantized per row on every call, exact int32 products, fp32 out) and quantizeLinears(), which swaps a model's
 * Linear layers for it, as torch.ao.quantization.quantize_dynamic does. Inference only: the layer has no gradient.
 */
import { ArgumentError, ShapeError, fmtShape } from "../util/errors.js";
import { type Tensor, noGrad, packInt8, qlinear, quantizeRowsInt8 } from "../tensor/index.js";
import type { Activation } from "../backend/index.js";
import { Module, type Parameter, toRegExp, type NamePattern } from "./module.js";
import { Linear } from "./layers.js";

/** The scheme QuantizedLinear implements, as a model directory's config.json records it. */
export const INT8_SCHEME = {
  quant_method: "graft_dynamic_int8",
  weights: "int8, symmetric, per output channel (scale = max|W[j,:]| / 127, round half to even, [-127, 127])",
  activations: "int8, symmetric, per row, computed on the fly at inference",
  accumulation: "int32 (exact), then fp32: acc · (activation scale · weight scale) + bias",
} as const;

export class QuantizedLinear extends Module {
  /** Int8 weights [out, in] (saved as `<name>.weight`, I8). */
  readonly qweight: Tensor;
  /** Per-output-channel fp32 scales [out] (saved as `<name>.weight_scale`). */
  readonly weightScale: Tensor;
  bias: Parameter | null;
  /** qweight in the layout the int8 kernels read, packed once here. */
  private readonly _packed: Tensor;

  constructor(qweight: Tensor, weightScale: Tensor, bias: Parameter | null) {
    super();
    if (qweight.dtype !== "i8" || qweight.rank !== 2)
      throw new ShapeError(
        `QuantizedLinear: weight must be i8 [out, in], got ${qweight.dtype}${fmtShape(qweight.shape)}`,
      );
    const [out] = qweight.shape;
    if (weightScale.dtype !== "f32" || weightScale.rank !== 1 || weightScale.shape[0] !== out)
      throw new ShapeError(
        `QuantizedLinear: weight_scale must be f32 [${out}] (one per output channel), got ${weightScale.dtype}${fmtShape(weightScale.shape)}`,
      );
    if (bias && (bias.rank !== 1 || bias.shape[0] !== out))
      throw new ShapeError(`QuantizedLinear: bias must be [${out}], got ${fmtShape(bias.shape)}`);
    this.qweight = qweight;
    this.weightScale = weightScale;
    this.bias = bias;
    this._packed = packInt8(qweight);
  }

  /** The int8 version of a trained Linear layer (its bias is shared, not copied). */
  static fromLinear(linear: Linear): QuantizedLinear {
    const { q, scale } = noGrad(() => quantizeRowsInt8(linear.weight.detach()));
    return new QuantizedLinear(q, scale, linear.bias);
  }

  get inFeatures(): number {
    return this.qweight.shape[1];
  }

  get outFeatures(): number {
    return this.qweight.shape[0];
  }

  /** act(x·Wᵀ + b) in int8 (see qlinear); throws if a gradient is asked for. */
  forward(x: Tensor, act: Activation = "identity"): Tensor {
    return qlinear(x, this._packed, this.weightScale, this.outFeatures, this.bias, act);
  }
}

export interface QuantizeOptions {
  /** Module names (patterns as Module.freeze takes them) to leave in fp32. Default: none. */
  skip?: NamePattern[];
  /** Only modules for which this returns true are quantized (e.g. the backbone's, not a classifier head). */
  filter?: (name: string, layer: Linear) => boolean;
}

/** Calls fn for every Linear layer of the model with its dotted name and a setter that replaces it. */
function eachLinear(model: Module, fn: (name: string, layer: Linear, set: (v: Module) => void) => void): void {
  for (const [path, m] of model.namedModules()) {
    for (const [key, value] of Object.entries(m)) {
      if (key.startsWith("_")) continue;
      const visit = (child: unknown, name: string, set: (v: Module) => void) => {
        if (child instanceof Linear) fn(path ? `${path}.${name}` : name, child, set);
      };
      if (Array.isArray(value)) value.forEach((v, i) => visit(v, `${key}.${i}`, (l) => (value[i] = l)));
      else visit(value, key, (l) => ((m as unknown as Record<string, unknown>)[key] = l));
    }
  }
}

/**
 * Replaces the model's Linear layers, in place, by QuantizedLinear (all of them unless `skip`/`filter` say
 * otherwise). Embeddings, layer norms and attention products are not Linear layers and stay fp32. Returns the
 * names of the quantized modules. The model is then for inference only.
 */
export function quantizeLinears(model: Module, opts: QuantizeOptions = {}): string[] {
  const skips = (opts.skip ?? []).map(toRegExp);
  const done: string[] = [];
  const todo: [string, Linear, (v: Module) => void][] = [];
  eachLinear(model, (name, layer, set) => {
    if (skips.some((r) => r.test(name)) || (opts.filter && !opts.filter(name, layer))) return;
    todo.push([name, layer, set]);
  });
  for (const [name, layer, set] of todo) {
    set(QuantizedLinear.fromLinear(layer));
    done.push(name);
  }
  return done;
}

/**
 * Installs an int8 layer from checkpoint tensors: the Linear named `name` is replaced by a QuantizedLinear over
 * the given int8 weight and scales (its bias stays the module's, loaded as usual). Errors name the layer.
 */
export function installQuantizedLinear(model: Module, name: string, qweight: Tensor, weightScale: Tensor): void {
  let found: [Linear, (v: Module) => void] | null = null;
  eachLinear(model, (n, layer, set) => {
    if (n === name) found = [layer, set];
  });
  if (found === null)
    throw new ArgumentError(`quantized layer "${name}" is not a Linear layer of ${model.constructor.name}`);
  const [layer, set] = found as [Linear, (v: Module) => void];
  if (qweight.rank !== 2 || qweight.shape[0] !== layer.outFeatures || qweight.shape[1] !== layer.inFeatures)
    throw new ShapeError(
      `quantized layer "${name}": weight is ${fmtShape(qweight.shape)} but the model's layer is [${layer.outFeatures}, ${layer.inFeatures}]`,
    );
  set(new QuantizedLinear(qweight, weightScale, layer.bias));
}
