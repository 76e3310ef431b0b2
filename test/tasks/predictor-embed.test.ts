/**
 * The Predictor's embeddings: CLS pooling is the encoder's first hidden state, mean pooling the mean over the text's
 * own tokens (padding excluded, so a text embeds the same alone or beside a longer one); normalize gives unit length;
 * a masked-LM checkpoint loads as an embedder; maxLength caps the tokens.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPredictor } from "../../src/tasks/index.js";
import { AutoModel } from "../../src/models/index.js";
import { batchToTensors, loadTokenizer } from "../../src/tokenizers/index.js";
import { noGrad } from "../../src/tensor/index.js";
import { makeTinyBert } from "./fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-embed-"));
const bert = makeTinyBert(join(work, "bert"));
test.after(() => rmSync(work, { recursive: true, force: true }));

/** Each text's last hidden states from the base model ([T][H], padded to the longest) and its length in tokens. */
async function hiddenStates(dir: string, texts: string[]) {
  const enc = await loadTokenizer(dir).encodeBatch(texts, { padding: true });
  const model = AutoModel.fromPretrainedDir(dir);
  model.eval();
  const out = noGrad(() => model.forward(batchToTensors(enc)));
  const t = out.lastHiddenState.shape[1];
  const rows = out.lastHiddenState.toRows();
  const states = texts.map((_, i) => rows.slice(i * t, (i + 1) * t));
  const lengths = enc.attentionMask.map((m) => m.reduce((s, v) => s + v, 0));
  return { states, lengths };
}

const close = (a: readonly number[], b: readonly number[], tol = 1e-5) =>
  a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) < tol);

test("embed: CLS and mean pooling of the last hidden layer, padding excluded; unit length by default", async () => {
  const p = loadPredictor(bert);
  assert.equal(p.task, null);
  assert.match(p.kind, /BertForMaskedLM \(embeddings\)/);
  await assert.rejects(p.predict(["good"]), /encoder without a task head/);
  const texts = ["a good film", "the plot was really very dull and the actors poor"];
  const { states, lengths } = await hiddenStates(bert, texts);
  const cls = await p.embed!(texts, { pooling: "cls", normalize: false });
  const mean = await p.embed!(texts, { normalize: false });
  texts.forEach((_, i) => {
    assert.ok(close(cls[i], states[i][0]), "the first token's state");
    const want = states[i][0].map((_, h) => states[i].slice(0, lengths[i]).reduce((s, r) => s + r[h], 0) / lengths[i]);
    assert.ok(close(mean[i], want), "the mean over the text's tokens");
  });
  const alone = await p.embed!([texts[0]], { normalize: false });
  assert.ok(close(alone[0], mean[0]), "padding beside a longer text changes nothing");
  const unit = await p.embed!(texts);
  for (const v of unit) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-6);
  assert.deepEqual(await p.embed!([]), []);
  await assert.rejects(p.embed!(["x"], { pooling: "max" as never }), /pooling must be "cls" or "mean"/);
});

test("maxLength caps the tokens an input keeps", async () => {
  const p = loadPredictor(bert, { maxLength: 4 });
  assert.equal(p.maxLength, 4);
  const long = await p.embed!(["the plot was really very dull"]);
  const cut = await loadPredictor(bert).embed!(["the plot"]); // [CLS] the plot [SEP]
  assert.ok(close(long[0], cut[0]));
  assert.throws(() => loadPredictor(bert, { maxLength: 0 }), /maxLength must be a positive integer/);
});
