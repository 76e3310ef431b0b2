/**
 * `graft predict` on model directories, as a user runs it: a sequence classifier prints labels and probabilities,
 * a causal LM prints generated text; directories it cannot run are refused with the reason.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  AutoModelForSequenceClassification,
  fromPretrainedDir,
  BertForSequenceClassification,
  BertForMaskedLM,
} from "../../src/models/index.js";
import { batchToTensors, loadTokenizer } from "../../src/tokenizers/index.js";
import { Tensor, noGrad } from "../../src/tensor/index.js";
import { loadSafetensors, saveSafetensors } from "../../src/io/safetensors.js";
import { loadPredictor } from "../../src/cli/predict.js";
import { fixtureDir, makeTinyGpt2, tmpDir } from "./helpers.js";

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), "../../src/cli/main.js");

function graft(args: string[]): { code: number; stdout: string; stderr: string } {
  const code = `const { run } = await import(${JSON.stringify(pathToFileURL(MAIN).href)}); process.exitCode = await run(process.argv);`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code, "graft", ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", GRAFT_BACKEND: "js" },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** 99 WordPiece entries for the 99-token fixture vocabulary: the five specials, then w5 ... w98. */
function writeVocab(dir: string): void {
  const words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...Array.from({ length: 94 }, (_, i) => `w${i + 5}`)];
  writeFileSync(join(dir, "vocab.txt"), words.join("\n") + "\n");
}

test("graft predict --model DIR: a sequence classifier prints each text's label and probabilities", async () => {
  const dir = tmpDir();
  const model = fromPretrainedDir(BertForSequenceClassification, fixtureDir("bert"));
  model.savePretrained(dir);
  writeVocab(dir);
  const r = graft(["predict", "--model", dir, "--text", "w7 w9 w33", "w50"]);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { line: number; text: string; label: string; probabilities: Record<string, number> });
  assert.deepEqual(
    rows.map((x) => x.text),
    ["w7 w9 w33", "w50"],
  );
  // the same texts through the library: tokenizer → model → softmax
  const tok = loadTokenizer(dir);
  const enc = batchToTensors(await tok.encodeBatch(["w7 w9 w33", "w50"], { padding: true }));
  const logits = noGrad(
    () =>
      model.forward({ inputIds: enc.inputIds, attentionMask: enc.attentionMask, tokenTypeIds: enc.tokenTypeIds })
        .logits,
  );
  rows.forEach((row, i) => {
    const l = logits.toArray().slice(3 * i, 3 * i + 3);
    const z = l.reduce((s, v) => s + Math.exp(v), 0);
    const probs = l.map((v) => Math.exp(v) / z);
    assert.deepEqual(Object.keys(row.probabilities), ["negative", "neutral", "positive"]);
    Object.values(row.probabilities).forEach((p, k) => assert.ok(Math.abs(p - probs[k]) < 1e-5));
    assert.equal(row.label, ["negative", "neutral", "positive"][probs.indexOf(Math.max(...probs))]);
  });
});

test("graft predict --model DIR: a causal LM prints the text it generates (greedy, or seeded sampling)", () => {
  const dir = tmpDir();
  makeTinyGpt2(dir, { positions: 32 }); // a byte-level vocabulary: every byte one token, <|endoftext|> last
  const greedy = graft(["predict", "--model", dir, "--text", "Once upon", "a time", "--max-new-tokens", "5"]);
  assert.equal(greedy.code, 0, greedy.stderr);
  const rows = greedy.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { text: string; generated: string; generated_text: string });
  assert.equal(rows.length, 2);
  for (const r of rows) {
    assert.equal(typeof r.generated, "string");
    assert.equal(r.generated_text, r.text + r.generated);
  }
  const sampled = graft([
    "predict",
    "--model",
    dir,
    "--text",
    "Once upon",
    "--max-new-tokens",
    "8",
    "--do-sample",
    "--top-k",
    "0",
    "--seed",
    "3",
    "--output-format",
    "tsv",
  ]);
  assert.equal(sampled.code, 0, sampled.stderr);
  assert.match(sampled.stdout, /\tOnce upon\n$/, "tsv: generated text, tab, prompt");
});

test("graft predict refuses models it cannot run, saying why", async () => {
  const mlm = tmpDir();
  fromPretrainedDir(BertForMaskedLM, fixtureDir("bert")).savePretrained(mlm);
  writeVocab(mlm);
  // an encoder without a task head loads (it embeds texts, for graft serve) and refuses to label them
  const encoder = loadPredictor(mlm);
  assert.equal(typeof encoder.embed, "function");
  await assert.rejects(encoder.predict(["a text"]), /holds a BertForMaskedLM, an encoder without a task head/);
  const noTokenizer = tmpDir();
  AutoModelForSequenceClassification.fromPretrainedDir(fixtureDir("bert")).savePretrained(noTokenizer);
  assert.throws(() => loadPredictor(noTokenizer), /no tokenizer\.json, vocab\.txt/);
  const pretraining = tmpDir();
  copyFileSync(join(fixtureDir("bert"), "config.json"), join(pretraining, "config.json")); // architectures: BertForPreTraining
  copyFileSync(join(fixtureDir("bert"), "model.safetensors"), join(pretraining, "model.safetensors"));
  writeVocab(pretraining);
  assert.throws(
    () => loadPredictor(pretraining),
    /config\.json names no model class graft can run \(architectures: \["BertForPreTraining"\]\)/,
  );
  const headless = tmpDir();
  fromPretrainedDir(BertForSequenceClassification, fixtureDir("bert")).savePretrained(headless);
  writeVocab(headless);
  const tensors = loadSafetensors(join(headless, "model.safetensors"));
  tensors.delete("classifier.weight");
  saveSafetensors(join(headless, "model.safetensors"), tensors);
  assert.throws(
    () => loadPredictor(headless),
    /BertForSequenceClassification would run with untrained weights \(classifier\.weight is not in the checkpoint\)/,
  );
});

test("a model whose weights hold NaN is refused naming the tensor; --allow-nonfinite loads it for inspection", () => {
  const dir = tmpDir();
  fromPretrainedDir(BertForSequenceClassification, fixtureDir("bert")).savePretrained(dir);
  writeVocab(dir);
  const path = join(dir, "model.safetensors");
  const tensors = loadSafetensors(path);
  const name = "bert.encoder.layer.0.attention.self.query.weight";
  const values = tensors.get(name)!.toFloat32Array();
  values[5] = NaN;
  values[9] = Infinity;
  tensors.set(name, new Tensor(values, [...tensors.get(name)!.shape]));
  saveSafetensors(path, tensors);

  const refused = graft(["predict", "--model", dir, "--text", "w7 w9"]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(
    refused.stderr,
    new RegExp(`tensor "${name.replace(/\./g, "\\.")}".*2 non-finite value\\(s\\).*index 5`),
  );
  assert.match(refused.stderr, /--allow-nonfinite/);
  assert.equal(refused.stdout, "");

  const allowed = graft(["predict", "--model", dir, "--text", "w7 w9", "--allow-nonfinite"]);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal(allowed.stdout.trim().split("\n").length, 1);
});
