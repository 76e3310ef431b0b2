/**
 * `graft quantize`: an fp32 model directory → an int8 one that every loader (Predictor, predict, eval, serve)
 * reads transparently (see quantized.ts for the format). Dynamic quantization as PyTorch's quantize_dynamic and
 * ONNX Runtime's quantize_dynamic do it: the backbone's Linear layers get int8 weights (per output channel,
 * symmetric), activations are quantized per row at run time. Embeddings, layer norms, attention products, and the
 * layers outside the backbone (pooler, classifier / tagger head, LM head) stay fp32: they are a small share of the
 * work, and the head decides the label directly.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ArgumentError } from "../util/errors.js";
import { saveSafetensors } from "../io/safetensors.js";
import { findWeights, WEIGHTS_NAME } from "../io/checkpoint.js";
import { readConfigJson } from "../io/config.js";
import type { Tensor } from "../tensor/index.js";
import { INT8_SCHEME, type QuantizedLinear, quantizeLinears } from "../nn/index.js";
import { fromPretrainedDir } from "./pretrained.js";
import { modelClassForArchitecture } from "./registry.js";
import { QUANTIZATION_KEY, SCALE_SUFFIX } from "./quantized.js";

export interface QuantizeResult {
  out: string;
  /** Linear modules now int8. */
  quantized: string[];
  /** Linear modules left in fp32 (outside the backbone). */
  kept: string[];
  bytesBefore: number;
  bytesAfter: number;
}

/** Writes the int8 version of the model directory `src` into `out` (created; must not hold a model already). */
export function quantizeModelDir(src: string, out: string): QuantizeResult {
  const { json, path } = readConfigJson(src);
  if (json[QUANTIZATION_KEY] !== undefined)
    throw new ArgumentError(`${path} is already quantized (it has ${QUANTIZATION_KEY})`, "quantize the fp32 model");
  const cls = modelClassForArchitecture(json as never);
  if (!cls)
    throw new ArgumentError(
      `${path}: architectures ${JSON.stringify(json.architectures)} names no model class graft can load`,
    );
  if (resolve(src) === resolve(out)) throw new ArgumentError("quantize: --out must differ from --model");
  if (existsSync(join(out, "config.json")))
    throw new ArgumentError(`${out} already holds a model (config.json)`, "choose an empty --out directory");
  const model = fromPretrainedDir(cls, src);
  const kept: string[] = [];
  const quantized = quantizeLinears(model, {
    filter: (name) => {
      const inBackbone = model.isCoreWeight(`${name}.weight`);
      if (!inBackbone) kept.push(name);
      return inBackbone;
    },
  });
  if (quantized.length === 0)
    throw new ArgumentError(`${path}: ${cls.architecture} has no Linear layers in its backbone to quantize`);
  const tensors = new Map<string, Tensor>(model.stateDict());
  const layers = new Map(model.namedModules());
  for (const name of quantized) {
    const q = layers.get(name) as QuantizedLinear;
    tensors.set(`${name}.weight`, q.qweight);
    tensors.set(`${name}${SCALE_SUFFIX}`, q.weightScale);
  }
  mkdirSync(out, { recursive: true });
  const bytesAfter = saveSafetensors(join(out, WEIGHTS_NAME), tensors, {
    metadata: { quantization: INT8_SCHEME.quant_method },
  });
  const config = {
    ...json,
    [QUANTIZATION_KEY]: { ...INT8_SCHEME, modules: quantized, fp32_modules: kept },
  };
  writeFileSync(join(out, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  // everything else of the directory (tokenizer, task and label files) comes along unchanged
  const weights = findWeights(src);
  let bytesBefore = 0;
  for (const f of readdirSync(src)) {
    const from = join(src, f);
    if (!statSync(from).isFile()) continue;
    const isWeights =
      f === WEIGHTS_NAME || /^model-\d+-of-\d+\.safetensors$/.test(f) || f === `${WEIGHTS_NAME}.index.json`;
    if (isWeights) bytesBefore += statSync(from).size;
    if (isWeights || f === "config.json") continue;
    copyFileSync(from, join(out, f));
  }
  if (weights.kind === "single") bytesBefore = statSync(weights.file).size;
  return { out, quantized, kept, bytesBefore, bytesAfter };
}
