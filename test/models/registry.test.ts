/**
 * The architecture registry: a toy architecture (one file, test/models/toy-architecture.ts, and one
 * registerArchitecture call) runs end to end through the Auto classes; the built-in specs answer the questions
 * the rest of graft asks of an architecture.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../../src/util/rng.js";
import { noGrad, tensor } from "../../src/tensor/index.js";
import {
  AutoConfig,
  AutoModel,
  AutoModelForMaskedLM,
  AutoModelForSequenceClassification,
  BertForMaskedLM,
  RobertaForMaskedLM,
  GPT2LMHeadModel,
  architecture,
  configOfSize,
  dropoutOverrides,
  isHeadClass,
  makeConfig,
  maskedLogitsAt,
  maxSequenceLength,
  modelClassForArchitecture,
  modelTypes,
  padBatch,
  parseConfig,
  registerArchitecture,
  sizedModelTypes,
  usesTokenTypes,
} from "../../src/models/index.js";
import { TOY, ToyForSequenceClassification, ToyModel } from "./toy-architecture.js";
import { assertClose, fixtureDir, tmpDir } from "./helpers.js";

registerArchitecture(TOY);

test("a toy architecture, one file + one registration, runs end to end: config, load with a new head, forward, save, load", async () => {
  assert.ok(modelTypes().includes("toy"));
  // a base checkpoint, saved as a pre-training run would save it
  const base = AutoModel.fromConfig(AutoConfig.forModel("toy", { vocab_size: 20, hidden_size: 6 }), {
    rng: new Rng(1),
  });
  assert.ok(base instanceof ToyModel);
  const baseDir = tmpDir();
  base.savePretrained(baseDir);

  const config = await AutoConfig.fromPretrained(baseDir);
  assert.equal(config.model_type as string, "toy");
  assert.deepEqual([config.vocab_size, config.hidden_size, config.num_layers], [20, 6, 2], "defaults filled in");
  assert.deepEqual(config.architectures, ["ToyModel"]);

  const model = await AutoModelForSequenceClassification.fromPretrained(baseDir, { labels: ["a", "b", "c"] });
  assert.equal(model.constructor, ToyForSequenceClassification);
  assert.deepEqual(model.loadingInfo!.missingKeys, ["classifier.weight", "classifier.bias"], "only the head is new");
  const batch = padBatch(
    [
      [3, 4, 5],
      [7, 8],
    ],
    0,
  );
  const out = model.forward({ ...batch, labels: tensor([2, 0], [2], { dtype: "i32" }) });
  assert.deepEqual([...out.logits.shape], [2, 3]);
  assert.ok(Number.isFinite(out.loss!.item()));
  assert.equal(model.config.problem_type, "single_label_classification");

  const fineDir = tmpDir();
  model.savePretrained(fineDir);
  const saved = JSON.parse(readFileSync(join(fineDir, "config.json"), "utf8"));
  assert.deepEqual(saved.architectures, ["ToyForSequenceClassification"]);
  assert.deepEqual(saved.id2label, { 0: "a", 1: "b", 2: "c" });
  assert.equal(modelClassForArchitecture(parseConfig(saved)), ToyForSequenceClassification);
  const again = AutoModelForSequenceClassification.fromPretrainedDir(fineDir);
  assert.deepEqual(again.loadingInfo!.missingKeys, []);
  noGrad(() =>
    assertClose("toy logits after save and load", again.forward(batch).logits, model.forward(batch).logits, 0),
  );

  // what the registry knows of it
  assert.equal(parseConfig({ architectures: ["ToyForSequenceClassification"] }).model_type, "toy");
  assert.throws(() => AutoModelForMaskedLM.fromConfig(config), /model_type "toy" has no masked-lm model/);
  assert.deepEqual(dropoutOverrides(config, { hidden: 0.3, attention: 0.2 }), { dropout: 0.3 });
  assert.equal(maxSequenceLength(config), null);
  assert.throws(() => registerArchitecture(TOY), /model_type "toy" is already registered/);
});

test("the built-in specs: position offset, token types, dropout fields, the sparse masked-LM path", () => {
  assert.equal(maxSequenceLength(makeConfig("bert", { max_position_embeddings: 512 })), 512);
  assert.equal(maxSequenceLength(makeConfig("roberta", { max_position_embeddings: 514 })), 512, "pad_token_id 1 + 1");
  assert.equal(maxSequenceLength(makeConfig("gpt2", { n_positions: 64 })), 64);
  assert.equal(maxSequenceLength(makeConfig("graft-lstm")), null);
  assert.deepEqual(
    modelTypes().filter((t) => t !== "toy" && usesTokenTypes(t)),
    ["bert", "electra"],
  );
  assert.deepEqual(dropoutOverrides(makeConfig("distilbert"), { hidden: 0.2, attention: 0.3, classifier: 0.4 }), {
    dropout: 0.2,
    attention_dropout: 0.3,
    seq_classif_dropout: 0.4,
  });
  assert.deepEqual(dropoutOverrides(makeConfig("gpt2"), { hidden: 0.2, classifier: 0.4 }), {
    resid_pdrop: 0.2,
    embd_pdrop: 0.2,
    summary_first_dropout: 0.4,
  });
  for (const t of modelTypes()) {
    const spec = architecture(t);
    for (const cls of Object.values(spec.heads)) assert.equal(cls!.modelType, t, `${cls!.architecture} reads ${t}`);
  }

  // BERT's masked LM scores chosen positions alone, equal to its full logits there
  const mlm = AutoModelForMaskedLM.fromPretrainedDir(fixtureDir("bert"));
  assert.ok(mlm instanceof BertForMaskedLM);
  const at = maskedLogitsAt(mlm)!;
  const inputs = padBatch(
    [
      [5, 6, 7],
      [8, 9],
    ],
    0,
  );
  noGrad(() => {
    const full = mlm.forward(inputs).logits; // [2, 3, V]
    const v = full.shape[2];
    const picked = at(inputs, tensor([1, 3], [2], { dtype: "i32" })).toArray();
    const all = full.toArray();
    assert.deepEqual(
      picked.map((x) => Math.round(x * 1e4)),
      [...all.slice(v, 2 * v), ...all.slice(3 * v, 4 * v)].map((x) => Math.round(x * 1e4)),
    );
  });
  assert.equal(maskedLogitsAt(AutoModelForMaskedLM.fromPretrainedDir(fixtureDir("roberta"))), null);
  assert.ok(AutoModelForMaskedLM.classFor("roberta") === RobertaForMaskedLM);
});

test("pre-training presets and text generation ask the registry, not architecture names", () => {
  assert.deepEqual(sizedModelTypes("masked-lm"), ["bert", "electra"]);
  assert.deepEqual(sizedModelTypes("causal-lm"), ["gpt2", "llama", "qwen2"]);
  const size = {
    layers: 2,
    hidden: 64,
    heads: 4,
    ffn: 128,
    positions: 128,
    vocabSize: 500,
    padTokenId: 3,
    eosTokenId: 7,
  };
  const bert = configOfSize("bert", size) as Record<string, unknown>;
  assert.deepEqual(
    [bert.num_hidden_layers, bert.hidden_size, bert.num_attention_heads, bert.intermediate_size, bert.pad_token_id],
    [2, 64, 4, 128, 3],
  );
  const gpt2 = configOfSize("gpt2", size) as Record<string, unknown>;
  assert.deepEqual([gpt2.n_layer, gpt2.n_embd, gpt2.n_positions, gpt2.eos_token_id], [2, 64, 128, 7]);
  assert.throws(() => configOfSize("distilbert", size), /no size presets/);
  assert.equal(isHeadClass(GPT2LMHeadModel, "causal-lm"), true);
  assert.equal(isHeadClass(BertForMaskedLM, "causal-lm"), false);
});
