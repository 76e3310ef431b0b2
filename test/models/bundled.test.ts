/**
 * The bundled base model, models/graft-base, as transformers sees it: its weights are float16 on disk, so its
 * config.json declares float32 (`dtype`, read by transformers 5's from_pretrained, and `torch_dtype`, the older
 * name) or transformers would compute in float16. graft reads the same config (the keys are kept) and computes in
 * f32 whatever the file's type. scripts/check_base_model_dtype.py checks the transformers side where torch exists.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bundled } from "../../src/cli/bundled.js";
import { readSafetensorsHeader } from "../../src/io/safetensors.js";
import { AutoModelForMaskedLM, readConfig } from "../../src/models/index.js";
import { tmpDir } from "./helpers.js";

test("models/graft-base declares float32 for transformers, though its safetensors are float16; graft loads it and keeps the keys", () => {
  const dir = bundled.model();
  const dtypes = new Set(readSafetensorsHeader(join(dir, "model.safetensors")).tensors.map((t) => t.dtype));
  assert.deepEqual([...dtypes], ["F16"]);
  const json = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  assert.equal(json.dtype, "float32", "transformers 5 reads `dtype` (from_pretrained's dtype='auto')");
  assert.equal(json.torch_dtype, "float32", "the name transformers 4 wrote, still read by 5");
  const config = readConfig(dir);
  assert.equal(config.dtype, "float32");
  const model = AutoModelForMaskedLM.fromPretrainedDir(dir);
  assert.ok(model.parameters().every((p) => p.dtype === "f32"));
  // a model graft saves from it is written as F32, so the declaration it carries along stays true
  const out = tmpDir();
  model.savePretrained(out);
  assert.equal(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).dtype, "float32");
  assert.deepEqual(
    [...new Set(readSafetensorsHeader(join(out, "model.safetensors")).tensors.map((t) => t.dtype))],
    ["F32"],
  );
});
