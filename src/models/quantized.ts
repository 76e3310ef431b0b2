/**
 * Int8 checkpoints (written by `graft quantize`, see quantize.ts): how fromPretrainedDir loads them.
 *
 * config.json's `quantization_config` states the scheme (INT8_SCHEME) and lists the quantized Linear modules; for
 * each module `<name>` the weights file holds `<name>.weight` as I8 [out, in] and `<name>.weight_scale` as F32
 * [out] (one scale per output channel), next to its usual fp32 `<name>.bias`. Anything missing or inconsistent
 * is refused with the file and the tensor named, before a single layer is built.
 */
import { FormatError, fmtShape } from "../util/errors.js";
import { cast, type Tensor } from "../tensor/index.js";
import { INT8_SCHEME, installQuantizedLinear, type Module } from "../nn/index.js";

export const QUANTIZATION_KEY = "quantization_config";
export const SCALE_SUFFIX = ".weight_scale";

export interface QuantizationConfig {
  quant_method: string;
  /** The quantized Linear modules (the model's dotted names). */
  modules: string[];
  [key: string]: unknown;
}

/** config.json's quantization_config, checked (errors name `where`). */
export function parseQuantizationConfig(raw: unknown, where: string): QuantizationConfig {
  const fail = (msg: string): never => {
    throw new FormatError(`${where}: ${QUANTIZATION_KEY} ${msg}`, "re-create the directory with graft quantize");
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("must be an object");
  const qc = raw as Record<string, unknown>;
  if (qc.quant_method !== INT8_SCHEME.quant_method)
    fail(`has quant_method ${JSON.stringify(qc.quant_method)}; graft loads "${INT8_SCHEME.quant_method}" only`);
  const modules = qc.modules;
  if (!Array.isArray(modules) || modules.some((m) => typeof m !== "string" || m === ""))
    fail("must list the quantized modules as strings in `modules`");
  return qc as QuantizationConfig;
}

/**
 * Replaces the listed Linear layers of `model` by int8 layers built from `tensors` (consuming their `.weight` and
 * `.weight_scale` entries, so the fp32 loader sees only the rest). `where` names the weights file in errors.
 */
export function loadQuantizedLayers(
  model: Module,
  qc: QuantizationConfig,
  tensors: Map<string, Tensor>,
  where: string,
): void {
  const problems: string[] = [];
  const built: [string, Tensor, Tensor][] = [];
  for (const name of qc.modules) {
    const w = tensors.get(`${name}.weight`);
    const s = tensors.get(`${name}${SCALE_SUFFIX}`);
    if (!w) problems.push(`${name}.weight is missing`);
    if (!s) problems.push(`${name}${SCALE_SUFFIX} is missing`);
    if (!w || !s) continue;
    if (w.dtype === "f32" || w.rank !== 2) {
      problems.push(
        `${name}.weight must be I8 [out, in], got ${w.dtype === "f32" ? "a float tensor" : w.dtype}${fmtShape(w.shape)}`,
      );
      continue;
    }
    if (s.dtype !== "f32" || s.rank !== 1 || s.shape[0] !== w.shape[0]) {
      problems.push(
        `${name}${SCALE_SUFFIX} must be F32 [${w.shape[0]}] (one per output channel), got ${fmtShape(s.shape)}`,
      );
      continue;
    }
    const values = w.toArray();
    const bad = values.findIndex((v) => v < -127 || v > 127);
    if (bad >= 0) {
      problems.push(`${name}.weight element ${bad} is ${values[bad]}, outside the int8 range [-127, 127]`);
      continue;
    }
    const scales = s.toArray();
    const badScale = scales.findIndex((v) => !(v >= 0) || !Number.isFinite(v));
    if (badScale >= 0) {
      problems.push(`${name}${SCALE_SUFFIX} element ${badScale} is ${scales[badScale]}, not a finite scale >= 0`);
      continue;
    }
    built.push([name, w.dtype === "i8" ? w : cast(w, "i8"), s]);
  }
  const listed = new Set(qc.modules.map((m) => `${m}${SCALE_SUFFIX}`));
  for (const key of tensors.keys())
    if (key.endsWith(SCALE_SUFFIX) && !listed.has(key))
      problems.push(`${key} belongs to no module listed in ${QUANTIZATION_KEY}.modules`);
  if (problems.length > 0)
    throw new FormatError(
      `${where}: inconsistent int8 checkpoint (${problems.length} problem(s)):\n  ${problems.join("\n  ")}`,
      "the directory was changed after graft quantize wrote it; quantize the fp32 model again",
    );
  for (const [name, w, s] of built) {
    try {
      installQuantizedLinear(model, name, w, s);
    } catch (e) {
      throw new FormatError(
        `${where}: ${(e as Error).message}`,
        "the config.json and the weights do not belong together",
      );
    }
    tensors.delete(`${name}.weight`);
    tensors.delete(`${name}${SCALE_SUFFIX}`);
  }
}
