/**
 * Moving weights between models and directories: save → load round trips, the names and shapes transformers writes,
 * base checkpoints into head models and back (what is newly initialized, what goes unused), legacy names, stale
 * buffers, and the errors for unknown model types, missing and mis-shaped weights.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Tensor, noGrad, tensor } from "../../src/tensor/index.js";
import { FormatError, ArgumentError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";
import { loadSafetensors, readSafetensorsHeader, saveSafetensors } from "../../src/io/safetensors.js";
import { saveCheckpoint } from "../../src/io/checkpoint.js";
import { readConfig } from "../../src/models/index.js";
import {
  AutoConfig,
  AutoModel,
  AutoModelForMaskedLM,
  AutoModelForSequenceClassification,
  AutoModelForTokenClassification,
  BertForSequenceClassification,
  BertForTokenClassification,
  BertModel,
  GPT2LMHeadModel,
  MODEL_CLASSES,
  describeLoadingInfo,
  fromPretrainedDir,
  modelClassFor,
  savePretrained,
} from "../../src/models/index.js";
import { assertClose, expected, fixtureDir, ids, maxAbsDiff, nested, tmpDir } from "./helpers.js";

const FAMILIES = ["bert", "roberta", "distilbert", "gpt2", "graft-lstm"] as const;

/** A model directory made of the given tensors and a config.json (copied from a fixture unless given). */
function modelDir(tensors: Map<string, Tensor>, configFrom: string, patch: Record<string, unknown> = {}): string {
  const dir = tmpDir();
  const config = { ...JSON.parse(readFileSync(join(fixtureDir(configFrom), "config.json"), "utf8")), ...patch };
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  saveSafetensors(join(dir, "model.safetensors"), tensors);
  return dir;
}

function fixtureTensors(family: string): Map<string, Tensor> {
  return loadSafetensors(join(fixtureDir(family), "model.safetensors"));
}

test("save → load gives identical tensors and outputs, for every class of every family", () => {
  for (const family of FAMILIES) {
    const e = expected(family);
    const inputs = { inputIds: ids(e.input_ids), attentionMask: nested(e.attention_mask) };
    for (const cls of MODEL_CLASSES.values()) {
      if (cls.modelType !== readConfig(fixtureDir(family)).model_type) continue;
      const a = fromPretrainedDir(cls, fixtureDir(family));
      const dir = tmpDir();
      const files = a.savePretrained(dir);
      assert.deepEqual(
        files.map((f: string) => f.slice(dir.length + 1)),
        ["config.json", "model.safetensors"],
      );
      const b = fromPretrainedDir(cls, dir);
      assert.deepEqual(
        b.loadingInfo,
        { missingKeys: [], unexpectedKeys: [], mismatchedKeys: [], ignoredKeys: [] },
        `${cls.architecture} reloads without surprises`,
      );
      const sa = a.stateDict(),
        sb = b.stateDict();
      assert.deepEqual([...sb.keys()], [...sa.keys()]);
      for (const [k, t] of sa)
        assert.deepEqual(sb.get(k)!.toArray(), t.toArray(), `${cls.architecture}.${k} changed in the round trip`);
      noGrad(() => {
        const ya = a.forward(inputs) as Record<string, Tensor | null>;
        const yb = b.forward(inputs) as Record<string, Tensor | null>;
        for (const k of Object.keys(ya))
          if (ya[k] instanceof Tensor)
            assert.equal(maxAbsDiff(ya[k] as Tensor, yb[k] as Tensor), 0, `${cls.architecture} ${k}`);
      });
      assert.deepEqual(readConfig(dir).architectures, [cls.architecture]);
    }
  }
});

test("a checkpoint saved by graft has exactly the names and shapes transformers' save_pretrained writes (F32, little-endian, format pt)", () => {
  const hf = JSON.parse(readFileSync(join(fixtureDir("."), "hf-saved-keys.json"), "utf8")) as {
    classes: Record<string, Record<string, number[]>>;
  };
  let compared = 0;
  for (const family of ["bert", "roberta", "distilbert", "gpt2"]) {
    const config = AutoConfig.fromPretrainedDir(fixtureDir(family));
    for (const cls of MODEL_CLASSES.values()) {
      if (cls.modelType !== config.model_type) continue;
      const want = hf.classes[cls.architecture];
      assert.ok(want, `hf-saved-keys.json lists ${cls.architecture}`);
      const dir = tmpDir();
      savePretrained(new cls(config as never, { rng: new Rng(1) }), dir);
      const header = readSafetensorsHeader(join(dir, "model.safetensors"));
      const got = Object.fromEntries(header.tensors.map((t) => [t.name, [...t.shape]]));
      assert.deepEqual(got, want, `${cls.architecture}: names/shapes differ from transformers'`);
      assert.ok(header.tensors.every((t) => t.dtype === "F32"));
      assert.equal(header.metadata.format, "pt");
      compared++;
    }
  }
  assert.equal(compared, 16);
});

test("the safetensors bytes are the parameters' little-endian f32 values, contiguous", () => {
  const model = BertModel.fromPretrainedDir(fixtureDir("bert"));
  const dir = tmpDir();
  model.savePretrained(dir);
  const bytes = readFileSync(join(dir, "model.safetensors"));
  const header = readSafetensorsHeader(join(dir, "model.safetensors"));
  const q = header.tensors.find((t) => t.name === "encoder.layer.0.attention.self.query.weight")!;
  const view = new DataView(bytes.buffer, bytes.byteOffset + header.dataStart + q.begin, q.end - q.begin);
  const w = model.encoder.layer[0].attention.self.query.weight;
  const wv = w.toFloat32Array();
  for (let i = 0; i < w.size; i += 97) assert.equal(view.getFloat32(4 * i, true), wv[i]);
  assert.equal(q.end - q.begin, 4 * w.size);
});

test("a base checkpoint into a head model: only the head is newly initialized, and reported as transformers reports it", () => {
  const base = BertModel.fromPretrainedDir(fixtureDir("bert"));
  const dir = tmpDir();
  base.savePretrained(dir); // names without the bert. prefix, with the pooler
  const seq = BertForSequenceClassification.fromPretrainedDir(dir, { numLabels: 4, rng: new Rng(3) });
  assert.deepEqual(seq.loadingInfo!.missingKeys, ["classifier.weight", "classifier.bias"]);
  assert.deepEqual(seq.loadingInfo!.unexpectedKeys, []);
  assert.deepEqual(
    seq.bert.encoder.layer[1].output.dense.weight.toArray(),
    base.encoder.layer[1].output.dense.weight.toArray(),
    "the encoder comes from the checkpoint",
  );
  // transformers' init for the new head: N(0, initializer_range) weights, zero bias
  const w = seq.classifier.weight.toArray();
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(std > 0.01 && std < 0.03, `classifier weight std ${std} should be near 0.02`);
  assert.ok(seq.classifier.bias!.toArray().every((v) => v === 0));
  assert.equal(seq.config.id2label[3], "LABEL_3");
  const lines = describeLoadingInfo(seq.loadingInfo!, seq.architecture, dir);
  assert.match(
    lines.join("\n"),
    /Some weights of BertForSequenceClassification were not initialized from the checkpoint at .* and are newly initialized: classifier\.weight, classifier\.bias/,
  );

  const tok = BertForTokenClassification.fromPretrainedDir(dir);
  assert.deepEqual(
    [...tok.loadingInfo!.unexpectedKeys].sort(),
    ["pooler.dense.bias", "pooler.dense.weight"],
    "the token classifier has no pooler",
  );
  noGrad(() => {
    const e = expected("bert");
    const h = seq.bert.forward({
      inputIds: ids(e.input_ids),
      attentionMask: nested(e.attention_mask),
      tokenTypeIds: ids(e.token_type_ids),
    });
    assertClose("base weights through the head model", h.lastHiddenState, e.last_hidden_state);
  });
});

test("a head checkpoint into the base model strips the prefix; head weights go unused", () => {
  const model = AutoModel.fromPretrainedDir(fixtureDir("bert"));
  const info = model.loadingInfo!;
  assert.deepEqual(info.missingKeys, []);
  assert.deepEqual([...info.unexpectedKeys].sort(), [
    "classifier.bias",
    "classifier.weight",
    "cls.predictions.bias",
    "cls.predictions.transform.LayerNorm.bias",
    "cls.predictions.transform.LayerNorm.weight",
    "cls.predictions.transform.dense.bias",
    "cls.predictions.transform.dense.weight",
    "cls.seq_relationship.bias",
    "cls.seq_relationship.weight",
  ]);
  assert.match(
    describeLoadingInfo(info, model.architecture, "fixture").join("\n"),
    /were not used when initializing BertModel: .*cls\.seq_relationship\.weight/,
  );
  // the MLM head's decoder is tied: neither its weight nor its bias is missing although the checkpoint names neither
  const mlm = AutoModelForMaskedLM.fromPretrainedDir(fixtureDir("bert"));
  assert.deepEqual(mlm.loadingInfo!.missingKeys, []);
});

test("old checkpoints: LayerNorm gamma/beta and stale position_ids / attn.bias buffers load as transformers loads them", () => {
  const legacy = new Map<string, Tensor>();
  for (const [k, t] of fixtureTensors("bert")) {
    if (!k.startsWith("bert.")) continue;
    legacy.set(
      k
        .slice(5)
        .replace(/LayerNorm\.weight$/, "LayerNorm.gamma")
        .replace(/LayerNorm\.bias$/, "LayerNorm.beta"),
      t,
    );
  }
  legacy.set(
    "embeddings.position_ids",
    tensor(
      Array.from({ length: 64 }, (_, i) => i),
      [1, 64],
      { dtype: "i32" },
    ),
  );
  const dir = modelDir(legacy, "bert");
  const model = BertForSequenceClassification.fromPretrainedDir(dir);
  assert.deepEqual(model.loadingInfo!.ignoredKeys, ["embeddings.position_ids"]);
  assert.deepEqual(model.loadingInfo!.missingKeys, ["classifier.weight", "classifier.bias"]);
  const e = expected("bert");
  noGrad(() =>
    assertClose(
      "legacy-named weights",
      model.bert.forward({
        inputIds: ids(e.input_ids),
        attentionMask: nested(e.attention_mask),
        tokenTypeIds: ids(e.token_type_ids),
      }).lastHiddenState,
      e.last_hidden_state,
    ),
  );

  const gpt = new Map<string, Tensor>();
  for (const [k, t] of fixtureTensors("gpt2")) if (k.startsWith("transformer.")) gpt.set(k.slice(12), t); // the hub's gpt2 has no prefix
  gpt.set("h.0.attn.bias", new Tensor(new Float32Array(64 * 64), [1, 1, 64, 64]));
  gpt.set("h.1.attn.masked_bias", tensor([-1e4]));
  const lm = GPT2LMHeadModel.fromPretrainedDir(modelDir(gpt, "gpt2"));
  assert.deepEqual(lm.loadingInfo!.missingKeys, [], "lm_head is tied to wte");
  assert.deepEqual([...lm.loadingInfo!.ignoredKeys].sort(), ["h.0.attn.bias", "h.1.attn.masked_bias"]);
  noGrad(() =>
    assertClose(
      "gpt2 from a prefix-less checkpoint",
      lm.forward({ inputIds: ids(expected("gpt2").input_ids), attentionMask: nested(expected("gpt2").attention_mask) })
        .logits,
      expected("gpt2").lm_logits,
    ),
  );
});

test("errors: an unknown model_type names the type, the file and what graft knows", () => {
  const dir = modelDir(fixtureTensors("bert"), "bert", { model_type: "mamba", architectures: ["MambaForCausalLM"] });
  assert.throws(
    () => AutoModel.fromPretrainedDir(dir),
    (err: Error) => {
      assert.ok(err instanceof FormatError);
      assert.match(err.message, /config\.json: model_type "mamba" is not supported/);
      assert.match(err.message, new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
      assert.match((err as FormatError).hint ?? "", /"bert".*"gpt2"/);
      return true;
    },
  );
  assert.throws(
    () => modelClassFor("masked-lm", "gpt2", "AutoModelForMaskedLM"),
    (err: Error) =>
      err instanceof ArgumentError &&
      /model_type "gpt2" has no masked-lm model.*"bert", "roberta", "electra", "distilbert"/.test(err.message),
  );
  assert.throws(
    () => BertModel.fromPretrainedDir(fixtureDir("gpt2")),
    /model_type is "gpt2" but BertModel is a bert model/,
  );
});

test("errors: missing backbone weights are named with the file; they are never silently initialized", () => {
  const t = fixtureTensors("bert");
  t.delete("bert.encoder.layer.1.output.dense.weight");
  t.delete("bert.embeddings.LayerNorm.bias");
  const dir = modelDir(t, "bert");
  assert.throws(
    () => AutoModelForSequenceClassification.fromPretrainedDir(dir),
    (err: Error) => {
      assert.ok(err instanceof FormatError);
      assert.match(
        err.message,
        /model\.safetensors: 2 weight\(s\) of BertForSequenceClassification are missing from the checkpoint/,
      );
      assert.match(err.message, /bert\.embeddings\.LayerNorm\.bias/);
      assert.match(err.message, /bert\.encoder\.layer\.1\.output\.dense\.weight/);
      assert.match((err as FormatError).hint ?? "", /cannot be newly initialized/);
      return true;
    },
  );
});

test("errors: mis-shaped weights are all listed with both shapes; a head of another size needs ignoreMismatchedSizes", () => {
  const t = fixtureTensors("bert");
  t.set("bert.encoder.layer.0.intermediate.dense.weight", new Tensor(new Float32Array(40 * 32), [40, 32]));
  assert.throws(
    () => AutoModel.fromPretrainedDir(modelDir(t, "bert")),
    (err: Error) => {
      assert.ok(err instanceof FormatError);
      assert.match(
        err.message,
        /encoder\.layer\.0\.intermediate\.dense\.weight: checkpoint \[40, 32\], model \[37, 32\]/,
      );
      assert.match((err as FormatError).hint ?? "", /another config/);
      return true;
    },
  );
  assert.throws(
    () => AutoModelForSequenceClassification.fromPretrainedDir(fixtureDir("bert"), { numLabels: 5 }),
    (err: Error) => {
      assert.match(err.message, /classifier\.weight: checkpoint \[3, 32\], model \[5, 32\]/);
      assert.match(err.message, /classifier\.bias: checkpoint \[3\], model \[5\]/);
      assert.match((err as FormatError).hint ?? "", /ignoreMismatchedSizes/);
      return true;
    },
  );
  const five = AutoModelForSequenceClassification.fromPretrainedDir(fixtureDir("bert"), {
    labels: ["a", "b", "c", "d", "e"],
    ignoreMismatchedSizes: true,
  });
  assert.deepEqual(five.loadingInfo!.mismatchedKeys.map((m) => m.name).sort(), [
    "classifier.bias",
    "classifier.weight",
  ]);
  assert.match(
    describeLoadingInfo(five.loadingInfo!, five.architecture, "x").join("\n"),
    /because the shapes did not match: .*classifier\.weight: found \[3, 32\], expected \[5, 32\]/,
  );
  const e = expected("bert");
  noGrad(() =>
    assert.deepEqual(
      [...five.forward({ inputIds: ids(e.input_ids), attentionMask: nested(e.attention_mask) }).logits.shape],
      [3, 5],
    ),
  );
  assert.deepEqual(five.config.label2id, { a: 0, b: 1, c: 2, d: 3, e: 4 });

  const ints = fixtureTensors("distilbert");
  ints.set("distilbert.embeddings.LayerNorm.weight", tensor([1, 2, 3], [3], { dtype: "i32" }));
  assert.throws(
    () => AutoModel.fromPretrainedDir(modelDir(ints, "distilbert")),
    /"distilbert\.embeddings\.LayerNorm\.weight" holds integers \(i32\[3\]\) but DistilBertModel\.embeddings\.LayerNorm\.weight is a float weight/,
  );
});

test("errors: the same weight under two names, and a directory without weights", () => {
  const t = fixtureTensors("bert");
  t.set("embeddings.word_embeddings.weight", t.get("bert.embeddings.word_embeddings.weight")!);
  assert.throws(
    () => AutoModel.fromPretrainedDir(modelDir(t, "bert")),
    /"embeddings\.word_embeddings\.weight" and "bert\.embeddings\.word_embeddings\.weight" both load into embeddings\.word_embeddings\.weight|"bert\.embeddings\.word_embeddings\.weight" and "embeddings\.word_embeddings\.weight" both load/,
  );
  const empty = tmpDir();
  copyFileSync(join(fixtureDir("bert"), "config.json"), join(empty, "config.json"));
  assert.throws(() => AutoModel.fromPretrainedDir(empty), /no model\.safetensors or model\.safetensors\.index\.json/);
});

test("errors: a weight holding NaN or Infinity is refused naming the file, the tensor, the count and the first index; allowNonFinite loads it", () => {
  for (const dtype of ["F32", "F16"] as const) {
    const t = fixtureTensors("bert");
    const name = "bert.encoder.layer.1.output.dense.weight";
    const values = t.get(name)!.toFloat32Array();
    values[3] = -Infinity;
    values[7] = NaN;
    values[values.length - 1] = NaN;
    t.set(name, new Tensor(values, [...t.get(name)!.shape]));
    const dir = tmpDir();
    writeFileSync(join(dir, "config.json"), readFileSync(join(fixtureDir("bert"), "config.json")));
    saveSafetensors(join(dir, "model.safetensors"), t, { floatDType: dtype });
    assert.throws(
      () => AutoModel.fromPretrainedDir(dir),
      (e: Error) =>
        e instanceof FormatError &&
        e.message.includes(join(dir, "model.safetensors")) &&
        e.message.includes(`tensor "${name}" (${dtype}[`) &&
        /3 non-finite value\(s\).*first at flat index 3 \(-Infinity\)/.test(e.message),
      dtype,
    );
    const model = AutoModel.fromPretrainedDir(dir, { allowNonFinite: true });
    const loaded = model.stateDict().get("encoder.layer.1.output.dense.weight")!.toArray() as number[];
    assert.ok(Number.isNaN(loaded[7]) && loaded[3] === -Infinity, dtype);
  }
  // a sharded checkpoint is checked too; the file reader itself returns what the file holds unless asked to check
  const sd = fixtureTensors("bert");
  const name = "bert.encoder.layer.0.attention.output.dense.bias";
  const values = sd.get(name)!.toFloat32Array();
  values[0] = NaN;
  sd.set(name, new Tensor(values, [...sd.get(name)!.shape]));
  const dir = tmpDir();
  writeFileSync(join(dir, "config.json"), readFileSync(join(fixtureDir("bert"), "config.json")));
  saveCheckpoint(dir, sd, { maxShardBytes: 40_000 });
  assert.ok(existsSync(join(dir, "model.safetensors.index.json")));
  assert.throws(() => AutoModel.fromPretrainedDir(dir), new RegExp(`"${name.replace(/\./g, "\\.")}".*1 non-finite`));
  assert.doesNotThrow(() => AutoModel.fromPretrainedDir(dir, { allowNonFinite: true }));
  const one = join(tmpDir(), "x.safetensors");
  saveSafetensors(one, sd);
  assert.throws(() => loadSafetensors(one, { checkFinite: true }), /1 non-finite value\(s\).*index 0 \(NaN\)/);
  assert.ok(Number.isNaN(loadSafetensors(one).get(name)!.toArray()[0] as number));
});

test("sharded saves load back; a tokenizer passed to savePretrained writes its files beside the model", () => {
  const model = AutoModelForTokenClassification.fromPretrainedDir(fixtureDir("roberta"));
  const dir = tmpDir();
  const saved: string[] = [];
  const files = model.savePretrained(dir, {
    maxShardBytes: 40_000,
    tokenizer: { savePretrained: (d: string) => saved.push(d) },
  });
  assert.ok(
    files.some((f) => f.endsWith("model.safetensors.index.json")) &&
      files.filter((f) => /model-\d{5}-of-\d{5}/.test(f)).length >= 2,
  );
  assert.deepEqual(saved, [dir]);
  const back = AutoModelForTokenClassification.fromPretrainedDir(dir);
  for (const [k, t] of model.stateDict()) assert.deepEqual(back.stateDict().get(k)!.toArray(), t.toArray(), k);
});

test("fromPretrained (async) resolves a local directory; config overrides are validated", async () => {
  const model = await AutoModelForSequenceClassification.fromPretrained(fixtureDir("distilbert"), {
    config: { seq_classif_dropout: 0.3 },
  });
  assert.equal(model.config.model_type, "distilbert");
  assert.equal((model.config as { seq_classif_dropout: number }).seq_classif_dropout, 0.3);
  assert.equal(model.training, false, "from_pretrained returns the model in eval mode");
  await assert.rejects(
    AutoModel.fromPretrained(fixtureDir("distilbert"), { config: { n_heads: 5 } }),
    /dim \(32\) must be a multiple of n_heads \(5\)/,
  );
});
