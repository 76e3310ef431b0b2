/**
 * ELECTRA against transformers 5.18 (test/fixtures/models/electra-*, written by scripts/fixtures/models/
 * make_electra.py with transformers itself): the discriminator's logits, loss over attention-mask positions, hidden
 * states and gradients; the generator's logits and loss with its LM head tied to the word embeddings; both
 * classification heads; the keys save_pretrained writes. Tolerance 1e-4 absolute.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { noGrad } from "../../src/tensor/index.js";
import { SafetensorsFile } from "../../src/io/safetensors.js";
import {
  AutoModelForMaskedLM,
  AutoModelForSequenceClassification,
  AutoModelForTokenClassification,
  ElectraForMaskedLM,
  ElectraForPreTraining,
  ElectraForSequenceClassification,
  ElectraForTokenClassification,
  savePretrained,
} from "../../src/models/index.js";
import { assertClose, expected, fixtureDir, nested, tmpDir } from "./helpers.js";

const batch = (e: Record<string, unknown>) => ({
  inputIds: nested(e.input_ids, "i32"),
  attentionMask: nested(e.attention_mask, "i32"),
  tokenTypeIds: nested(e.token_type_ids, "i32"),
});

function savedKeys(d: string): Record<string, number[]> {
  const f = SafetensorsFile.open(join(d, "model.safetensors"));
  try {
    return Object.fromEntries(f.names.sort().map((n) => [n, [...f.info(n)!.shape]]));
  } finally {
    f.close();
  }
}

test("electra discriminator: logits, the loss over unpadded tokens, hidden states and gradients match transformers", () => {
  const e = expected("electra-disc");
  const m = ElectraForPreTraining.fromPretrainedDir(fixtureDir("electra-disc"));
  assert.deepEqual(m.loadingInfo?.missingKeys, []);
  assert.deepEqual(m.loadingInfo?.unexpectedKeys, []);
  m.eval();
  const out = m.forward({ ...batch(e), labels: nested(e.labels, "i32"), outputHiddenStates: true });
  assertClose("logits", out.logits, e.logits);
  assert.ok(Math.abs(out.loss!.item() - (e.loss as number)) < 1e-5, `loss ${out.loss!.item()} vs ${e.loss}`);
  (e.hidden_states as unknown[]).forEach((h, i) => assertClose(`hidden state ${i}`, out.hiddenStates![i], h));
  out.loss!.backward();
  const params = new Map(m.namedParameters({ removeDuplicate: false }));
  for (const [name, g] of Object.entries(e.grads as Record<string, unknown>))
    assertClose(`grad ${name}`, params.get(name)!.grad!, g);
});

test("electra generator: logits and masked-LM loss match; the LM head is the word-embedding matrix", () => {
  const e = expected("electra-gen");
  const m = AutoModelForMaskedLM.fromPretrainedDir(fixtureDir("electra-gen"));
  assert.ok(m instanceof ElectraForMaskedLM);
  assert.deepEqual(m.loadingInfo?.missingKeys, []);
  assert.equal(m.generator_lm_head.weight, m.electra.embeddings.word_embeddings.weight);
  m.eval();
  const out = noGrad(() => m.forward({ ...batch(e), labels: nested(e.labels, "i32") }));
  assertClose("logits", out.logits, e.logits);
  assert.ok(Math.abs(out.loss!.item() - (e.loss as number)) < 1e-5);
});

test("electra classification heads match transformers; saved keys are transformers' own", () => {
  for (const [name, Auto, Cls] of [
    ["electra-cls", AutoModelForSequenceClassification, ElectraForSequenceClassification],
    ["electra-tok", AutoModelForTokenClassification, ElectraForTokenClassification],
  ] as const) {
    const e = expected(name);
    const m = Auto.fromPretrainedDir(fixtureDir(name));
    assert.ok(m instanceof Cls, name);
    m.eval();
    const out = noGrad(() => m.forward({ ...batch(e), labels: nested(e.labels, "i32") }));
    assertClose(`${name} logits`, out.logits, e.logits);
    assert.ok(Math.abs(out.loss!.item() - (e.loss as number)) < 1e-5, `${name} loss`);
    const dir = tmpDir();
    savePretrained(m, dir);
    assert.deepEqual(savedKeys(dir), e.saved_keys);
  }
  const disc = ElectraForPreTraining.fromPretrainedDir(fixtureDir("electra-disc"));
  const dir = tmpDir();
  savePretrained(disc, dir);
  assert.deepEqual(savedKeys(dir), expected("electra-disc").saved_keys);
  // a discriminator checkpoint fine-tunes as a classifier: the backbone loads, the new head is initialized
  const cls = AutoModelForSequenceClassification.fromPretrainedDir(fixtureDir("electra-disc"), { numLabels: 2 });
  assert.deepEqual(
    cls.loadingInfo?.missingKeys.filter((k) => k.startsWith("electra.")),
    [],
  );
});
