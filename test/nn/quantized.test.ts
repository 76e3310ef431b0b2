/**
 * Int8 inference: QuantizedLinear against Linear, the refusal of gradients, quantizeModelDir → fromPretrainedDir
 * round trip on a tiny BERT classifier (backbone int8, head fp32, logits close to fp32), and the refusal of
 * corrupt int8 checkpoints.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Linear, QuantizedLinear, quantizeLinears } from "../../src/nn/index.js";
import { Tensor, noGrad, randn } from "../../src/tensor/index.js";
import { Rng, manualSeed } from "../../src/util/rng.js";
import {
  AutoModelForSequenceClassification,
  type ClassifierOutput,
  fromPretrainedDir,
  makeConfig,
  modelClassForArchitecture,
  quantizeModelDir,
  readConfig,
} from "../../src/models/index.js";
import { loadSafetensors, saveSafetensors } from "../../src/io/safetensors.js";

const relErr = (a: number[], b: number[]) => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
};

test("QuantizedLinear is close to Linear, fuses the activation and refuses gradients", () => {
  manualSeed(3);
  const lin = new Linear(37, 19, { rng: new Rng(1) });
  const q = QuantizedLinear.fromLinear(lin);
  assert.equal(q.qweight.dtype, "i8");
  assert.deepEqual(q.qweight.shape, [19, 37]);
  const x = randn([5, 37], new Rng(2));
  for (const act of ["identity", "gelu"] as const) {
    const want = noGrad(() => lin.forward(x, act)).toArray();
    const got = noGrad(() => q.forward(x, act)).toArray();
    assert.ok(relErr(got, want) < 0.02, `${act}: relative error ${relErr(got, want)}`);
  }
  const xg = randn([2, 37], new Rng(4));
  xg.requiresGrad = true;
  assert.throws(() => q.forward(xg), /inference only and have no gradient/);
  assert.equal(q.parameters().length, 1, "only the bias is a parameter");
});

function tinyClassifier() {
  manualSeed(0);
  const config = makeConfig("bert", {
    vocab_size: 50,
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 48,
    max_position_embeddings: 16,
    num_labels: 3,
  });
  return AutoModelForSequenceClassification.fromConfig(config);
}

test("graft quantize's directory loads with int8 layers and predicts like the fp32 model", () => {
  const dir = mkdtempSync(join(tmpdir(), "graft-int8-"));
  try {
    const model = tinyClassifier();
    model.savePretrained(join(dir, "fp32"));
    const r = quantizeModelDir(join(dir, "fp32"), join(dir, "int8"));
    assert.equal(r.quantized.length, 12, "2 layers × (q, k, v, attention output, intermediate, output)");
    assert.deepEqual(r.kept.sort(), ["bert.pooler.dense", "classifier"]);
    const header = loadSafetensors(join(dir, "int8", "model.safetensors"));
    assert.ok(header.has("bert.encoder.layer.0.attention.self.query.weight_scale"));
    const config = readConfig(join(dir, "int8"));
    const cls = modelClassForArchitecture(config)!;
    const q = fromPretrainedDir(cls, join(dir, "int8"));
    const int8Layers = q.namedModules().filter(([, m]) => m instanceof QuantizedLinear);
    assert.equal(int8Layers.length, 12);
    const ids = new Tensor(
      Int32Array.from({ length: 2 * 9 }, (_, i) => (i * 7) % 50),
      [2, 9],
    );
    const want = noGrad(() => (model.eval().forward({ inputIds: ids }) as ClassifierOutput).logits).toArray();
    const got = noGrad(() => (q.forward({ inputIds: ids }) as unknown as ClassifierOutput).logits).toArray();
    assert.ok(relErr(got, want) < 0.05, `logits relative error ${relErr(got, want)}`);
    assert.throws(() => quantizeModelDir(join(dir, "int8"), join(dir, "again")), /already quantized/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a corrupt int8 checkpoint is refused with the tensor named", () => {
  const dir = mkdtempSync(join(tmpdir(), "graft-int8-bad-"));
  try {
    tinyClassifier().savePretrained(join(dir, "fp32"));
    quantizeModelDir(join(dir, "fp32"), join(dir, "int8"));
    const file = join(dir, "int8", "model.safetensors");
    const good = loadSafetensors(file);
    const cls = modelClassForArchitecture(readConfig(join(dir, "int8")))!;
    const scale = "bert.encoder.layer.1.output.dense.weight_scale";
    const missing = new Map(good);
    missing.delete(scale);
    saveSafetensors(file, missing);
    assert.throws(() => fromPretrainedDir(cls, join(dir, "int8")), /weight_scale is missing/);
    const wrong = new Map(good);
    wrong.set(scale, new Tensor(new Float32Array(3), [3]));
    saveSafetensors(file, wrong);
    assert.throws(() => fromPretrainedDir(cls, join(dir, "int8")), /weight_scale must be F32 \[32\]/);
    saveSafetensors(file, good);
    const cfgPath = join(dir, "int8", "config.json");
    const cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
    cfg.quantization_config.quant_method = "gptq";
    writeFileSync(cfgPath, JSON.stringify(cfg));
    assert.throws(() => fromPretrainedDir(cls, join(dir, "int8")), /quant_method "gptq"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("quantizeLinears skips what it is told to", () => {
  const model = tinyClassifier();
  const done = quantizeLinears(model, { skip: ["**.intermediate.*", "classifier", "bert.pooler.*"] });
  assert.equal(done.length, 10);
  assert.ok(done.every((n) => !n.includes("intermediate")));
});
