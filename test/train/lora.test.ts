import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tensor, copy_, fill_, noGrad, tensor } from "../../src/tensor/index.js";
import { loadSafetensors } from "../../src/io/safetensors.js";
import {
  type LoraLinear,
  Trainer,
  baseStateDict,
  injectLora,
  loadLoraAdapter,
  mergeLora,
  saveLoraAdapter,
  type LoraConfig,
} from "../../src/train/index.js";
import { checkModuleGradients } from "../nn/module-gradcheck.js";
import { makeData, makeModel, task } from "./toy.js";

const config: LoraConfig = { r: 2, alpha: 4, dropout: 0, targetModules: ["dense"], modulesToSave: ["classifier"] };
const ids = new Tensor(Int32Array.from([1, 3, 5, 7, 2, 2, 9, 0]), [2, 4]);

test("LoRA: starts equal to the base, trains only adapters and head, base weights unchanged", async () => {
  const model = makeModel(1);
  model.eval();
  const reference = noGrad(() => model.forward(ids)).toArray();
  const adapted = injectLora(model, config);
  assert.deepEqual(adapted, ["encoder.layer.0.dense", "encoder.layer.1.dense"]);
  assert.deepEqual(noGrad(() => model.forward(ids)).toArray(), reference);
  assert.deepEqual(
    model
      .namedParameters()
      .filter(([, p]) => p.requiresGrad)
      .map(([n]) => n),
    [
      "encoder.layer.0.dense.lora_A.weight",
      "encoder.layer.0.dense.lora_B.weight",
      "encoder.layer.1.dense.lora_A.weight",
      "encoder.layer.1.dense.lora_B.weight",
      "classifier.weight",
      "classifier.bias",
    ],
  );
  const base = new Map([...baseStateDict(model)].map(([n, t]) => [n, t.toArray()]));
  await new Trainer({
    model,
    args: { epochs: 2, batchSize: 8, lr: 0.05, saveEvery: "none" },
    trainSize: 32,
    ...task(makeData(32, 2)),
  }).train();
  for (const [n, t] of baseStateDict(model)) {
    if (n.startsWith("classifier.")) continue;
    assert.deepEqual(t.toArray(), base.get(n), `${n} changed`);
  }
  assert.ok((model.encoder.layer[0].dense as LoraLinear).lora_B.weight.toArray().some((v) => v !== 0));
});

test("LoRA: gradients of the adapter are right", () => {
  const model = makeModel(2);
  injectLora(model, { ...config, targetModules: ["encoder.layer.1.dense"] });
  for (const p of model.parameters())
    if (p.requiresGrad)
      copy_(
        p,
        tensor(
          p.toArray().map((v, i) => v + 0.1 * Math.sin(i + 1)),
          p.shape,
        ),
      );
  model.eval();
  // small steps: the toy model has ReLUs, and a large step can cross a kink
  checkModuleGradients("LoRA", model, [], () => model.forward(ids), { eps: 1e-3, atol: 5e-3 });
});

test("LoRA: merged model gives the same outputs as base + adapter; PEFT layout round trip restores the head", async () => {
  const dir = mkdtempSync(join(tmpdir(), "graft-lora-"));
  try {
    const model = makeModel(3);
    injectLora(model, config);
    await new Trainer({
      model,
      args: { epochs: 1, batchSize: 8, lr: 0.05, saveEvery: "none" },
      trainSize: 16,
      ...task(makeData(16, 3)),
    }).train();
    model.eval();
    const adaptedOut = noGrad(() => model.forward(ids)).toArray();
    saveLoraAdapter(model, dir, config, { baseModel: "toy", taskType: "SEQ_CLS" });
    const keys = [...loadSafetensors(join(dir, "adapter_model.safetensors")).keys()].sort();
    assert.deepEqual(keys, [
      "base_model.model.classifier.bias",
      "base_model.model.classifier.weight",
      "base_model.model.encoder.layer.0.dense.lora_A.weight",
      "base_model.model.encoder.layer.0.dense.lora_B.weight",
      "base_model.model.encoder.layer.1.dense.lora_A.weight",
      "base_model.model.encoder.layer.1.dense.lora_B.weight",
    ]);
    const cfg = JSON.parse(readFileSync(join(dir, "adapter_config.json"), "utf8"));
    assert.equal(cfg.peft_type, "LORA");
    assert.deepEqual(cfg.modules_to_save, ["classifier"]);

    // a fresh base model (same base weights, different head init) + the adapter reproduces the outputs
    const fresh = makeModel(3);
    fill_(fresh.classifier.weight, 0);
    loadLoraAdapter(fresh, dir);
    fresh.eval();
    const reloaded = noGrad(() => fresh.forward(ids)).toArray();
    reloaded.forEach((v, i) => assert.ok(Math.abs(v - adaptedOut[i]) < 1e-6));

    mergeLora(fresh);
    const merged = noGrad(() => fresh.forward(ids)).toArray();
    merged.forEach((v, i) => assert.ok(Math.abs(v - adaptedOut[i]) < 1e-5, `merged ${v} vs ${adaptedOut[i]}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
