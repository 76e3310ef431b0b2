/**
 * The bundled model, models/graft-base, against transformers itself: test/fixtures/roundtrip/graft-base.json was
 * written by scripts/fixtures/roundtrip/make_bundled_roundtrip.py (transformers' AutoModelForMaskedLM and
 * AutoTokenizer on the same directory, float32 parameters). graft must tokenize the same sentences to the same ids,
 * compute the same MLM logits (checked at transformers' top-5 ids of every position, plus each position's mean and
 * root mean square over the vocabulary), last hidden state and loss, and load a directory holding exactly the
 * config.json and tensor names, dtypes and shapes transformers' save_pretrained wrote.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bundled } from "../../src/cli/bundled.js";
import { readSafetensorsHeader, saveSafetensors } from "../../src/io/index.js";
import type { SafeDType } from "../../src/io/index.js";
import { AutoModelForMaskedLM } from "../../src/models/index.js";
import { type Tensor, noGrad } from "../../src/tensor/index.js";
import { AutoTokenizer, batchToTensors } from "../../src/tokenizers/index.js";
import { assertClose, ids, maxAbsDiff, nested, tmpDir } from "./helpers.js";

interface Fixture {
  sentences: string[];
  input_ids: number[][];
  token_type_ids: number[][];
  attention_mask: number[][];
  labels: number[][];
  loss: number;
  vocab_size: number;
  top_k_ids: number[][][];
  top_k_logits: number[][][];
  logits_mean: number[][];
  logits_rms: number[][];
  hidden_rows: number;
  last_hidden_state_rows: number[][][];
  saved: {
    files: string[];
    config: Record<string, unknown>;
    tensors: Record<string, { dtype: string; shape: number[] }>;
  };
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const fixture = JSON.parse(
  readFileSync(join(root, "test", "fixtures", "roundtrip", "graft-base.json"), "utf8"),
) as Fixture;
const ATOL = 1e-4;

test("graft's tokenizer gives the bundled model's padded batch the ids, types and mask transformers gives", async () => {
  const tok = await AutoTokenizer.fromPretrained(bundled.model());
  const b = await tok.encodeBatch(fixture.sentences, { padding: true });
  assert.deepEqual(b.inputIds, fixture.input_ids);
  assert.deepEqual(b.attentionMask, fixture.attention_mask);
  assert.deepEqual(b.tokenTypeIds, fixture.token_type_ids);
});

test("the bundled model computes transformers' MLM logits, last hidden state and loss on a padded batch", async () => {
  const model = await AutoModelForMaskedLM.fromPretrained(bundled.model());
  assert.ok(
    model.parameters().every((p) => p.dtype === "f32"),
    "every parameter is f32, as transformers loads it",
  );
  const tok = await AutoTokenizer.fromPretrained(bundled.model());
  const inputs = batchToTensors(await tok.encodeBatch(fixture.sentences, { padding: true }));
  noGrad(() => {
    const out = model.forward({ ...inputs, labels: ids(fixture.labels), outputHiddenStates: true });
    const [B, T, V] = out.logits.shape;
    assert.deepEqual([B, T, V], [fixture.input_ids.length, fixture.input_ids[0]!.length, fixture.vocab_size]);
    const logits = out.logits.toArray();
    let worst = 0;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const row = logits.slice((b * T + t) * V, (b * T + t + 1) * V);
        const where = `sequence ${b}, position ${t}`;
        const topIds = fixture.top_k_ids[b]![t]!;
        const topLogits = fixture.top_k_logits[b]![t]!;
        topIds.forEach((id, k) => {
          worst = Math.max(worst, Math.abs(row[id]! - topLogits[k]!));
        });
        // no other id scores above transformers' fifth best: graft's top 5 are transformers' (up to near ties)
        const kth = topLogits[topLogits.length - 1]!;
        const others = row.reduce((m, v, i) => (topIds.includes(i) ? m : Math.max(m, v)), Number.NEGATIVE_INFINITY);
        assert.ok(others <= kth + ATOL, `${where}: an id outside transformers' top 5 scores ${others} > ${kth}`);
        const mean = row.reduce((s, v) => s + v, 0) / V;
        const rms = Math.sqrt(row.reduce((s, v) => s + v * v, 0) / V);
        assert.ok(Math.abs(mean - fixture.logits_mean[b]![t]!) <= ATOL, `${where}: mean logit ${mean}`);
        assert.ok(Math.abs(rms - fixture.logits_rms[b]![t]!) <= ATOL, `${where}: rms of the logits ${rms}`);
      }
    }
    assert.ok(worst <= ATOL, `logits at transformers' top-5 ids: max |difference| ${worst.toExponential(3)}`);

    const last = out.hiddenStates![out.hiddenStates!.length - 1]!;
    const H = last.shape[2]!;
    const rows = fixture.hidden_rows;
    const h = last.toArray();
    const firstRows = Array.from({ length: B }, (_, b) =>
      Array.from({ length: rows }, (_, t) => h.slice((b * T + t) * H, (b * T + t + 1) * H)),
    );
    assertClose("last hidden state, first rows", nested(firstRows), fixture.last_hidden_state_rows, ATOL);

    const loss = out.loss!.item();
    assert.ok(
      Math.abs(loss - fixture.loss) <= 1e-5 * Math.abs(fixture.loss),
      `loss ${loss} vs transformers' ${fixture.loss}`,
    );
  });
});

test("graft loads a directory with the config, tensor names, dtypes and shapes transformers' save_pretrained writes", () => {
  const model = AutoModelForMaskedLM.fromPretrainedDir(bundled.model());
  const saved = fixture.saved;
  assert.ok(saved.files.includes("model.safetensors") && saved.files.includes("config.json"));
  // graft's own save writes the same tensors transformers does
  const own = tmpDir();
  model.savePretrained(own);
  const ownHeader = Object.fromEntries(
    readSafetensorsHeader(join(own, "model.safetensors")).tensors.map((t) => [
      t.name,
      { dtype: t.dtype, shape: [...t.shape] },
    ]),
  );
  assert.deepEqual(ownHeader, saved.tensors, "graft's savePretrained writes transformers' names, dtypes and shapes");

  // the directory transformers writes, built from graft's weights
  const dir = tmpDir();
  writeFileSync(join(dir, "config.json"), `${JSON.stringify(saved.config, null, 2)}\n`);
  const params = new Map(model.namedParameters({ removeDuplicate: false }));
  const tensors = new Map<string, Tensor>();
  const dtypes: Record<string, SafeDType> = {};
  for (const [name, { dtype, shape }] of Object.entries(saved.tensors)) {
    const p = params.get(name);
    assert.ok(p, `transformers saves ${name}, which graft's model does not have`);
    assert.deepEqual([...p.shape], shape, name);
    tensors.set(name, p);
    dtypes[name] = dtype as SafeDType;
  }
  saveSafetensors(join(dir, "model.safetensors"), tensors, { dtypes });
  const loaded = AutoModelForMaskedLM.fromPretrainedDir(dir);
  assert.deepEqual(loaded.loadingInfo!.missingKeys, [], "nothing is newly initialized");
  assert.deepEqual(loaded.loadingInfo!.unexpectedKeys, []);
  assert.deepEqual(loaded.loadingInfo!.mismatchedKeys, []);
  assert.equal(loaded.config.dtype, "float32");
  const input = { inputIds: ids(fixture.input_ids), attentionMask: ids(fixture.attention_mask) };
  noGrad(() => {
    const d = maxAbsDiff(loaded.forward(input).logits, model.forward(input).logits);
    assert.equal(d, 0, "the reloaded model computes the same logits");
  });
});
