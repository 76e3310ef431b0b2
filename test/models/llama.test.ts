/**
 * Llama-family decoders against transformers 5.18 itself: test/fixtures/models/{llama,qwen2} were written by
 * scripts/fixtures/models/make_llama_fixtures.py (transformers' save_pretrained, its forward, backward and
 * generate). llama: grouped-query attention, untied lm_head, f32 in one file; qwen2: q/k/v biases, tied embeddings,
 * bf16 weights in three shards. Tolerance 1e-4 absolute.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Tensor, noGrad, slice, square, sum } from "../../src/tensor/index.js";
import { AdamW } from "../../src/optim/index.js";
import { pretrain } from "../../src/tasks/index.js";
import {
  AutoModelForCausalLM,
  AutoModelForSequenceClassification,
  LlamaForCausalLM,
  LlamaForSequenceClassification,
  MODEL_CLASSES,
  Qwen2ForCausalLM,
  type LlamaConfig,
  generate,
  configOfSize,
  makeConfig,
  padBatch,
  parseConfig,
  readConfig,
} from "../../src/models/index.js";
import { SafetensorsFile, readSafetensorsHeader } from "../../src/io/safetensors.js";
import { Rng } from "../../src/util/rng.js";
import { assertClose, expected, fixtureDir, ids, maxAbsDiff, nested, tmpDir } from "./helpers.js";

const FAMILIES = ["llama", "qwen2"] as const;

function batch(e: Record<string, unknown>) {
  return { inputIds: ids(e.input_ids), attentionMask: nested(e.attention_mask), labels: ids(e.labels) };
}

for (const family of FAMILIES) {
  test(`${family}: logits, hidden states, loss and gradients equal transformers'`, () => {
    const e = expected(family);
    const model = AutoModelForCausalLM.fromPretrainedDir(fixtureDir(family));
    assert.equal(model.architecture, family === "llama" ? "LlamaForCausalLM" : "Qwen2ForCausalLM");
    assert.deepEqual(model.loadingInfo?.missingKeys, []);
    assert.deepEqual(model.loadingInfo?.unexpectedKeys, []);
    const out = model.forward({ ...batch(e), outputHiddenStates: true });
    assertClose(`${family} logits`, out.logits, e.logits);
    const hs = e.hidden_states as unknown[];
    assert.equal(out.hiddenStates?.length, hs.length);
    hs.forEach((h, i) => assertClose(`${family} hidden state ${i}`, out.hiddenStates![i], h));
    assert.ok(Math.abs(out.loss!.item() - (e.loss as number)) <= 1e-4, `loss ${out.loss!.item()} vs ${e.loss}`);
    out.loss!.backward();
    const params = new Map(model.namedParameters());
    for (const [name, want] of Object.entries(e.grads as Record<string, unknown>)) {
      const p = params.get(name);
      assert.ok(p?.grad, `${name} has a gradient`);
      assertClose(`${family} gradient of ${name}`, p.grad, want);
    }
  });

  test(`${family}: greedy generation from left-padded prompts gives transformers' tokens, with and without the cache`, () => {
    const g = expected(family).generate as { prompts: number[][]; max_new_tokens: number; new_tokens: number[][] };
    const model = AutoModelForCausalLM.fromPretrainedDir(fixtureDir(family));
    for (const useCache of [true, false]) {
      const out = generate(model, g.prompts, { maxNewTokens: g.max_new_tokens, useCache });
      // in both fixtures some row runs to max_new_tokens, so both produce every step (rows that ended get padding)
      assert.deepEqual(out.newTokens, g.new_tokens, `useCache ${useCache}`);
    }
  });

  test(`${family}: logits from the cache, one token at a time on a left-padded batch, equal a full forward`, () => {
    const model = (family === "llama" ? LlamaForCausalLM : Qwen2ForCausalLM).fromPretrainedDir(fixtureDir(family));
    const seqs = [
      [5, 17, 99, 3, 42, 8, 77],
      [9, 120, 4, 61],
    ];
    const { inputIds, attentionMask } = padBatch(seqs, 0, "left");
    const t = inputIds.shape[1];
    const rows = attentionMask.toRows();
    const positions = (from: number, to: number) => {
      const p = rows.map((m) => {
        let c = 0;
        return m.map((v) => (v ? c++ : 0)).slice(from, to);
      });
      return new Tensor(Int32Array.from(p.flat()), [p.length, to - from]);
    };
    noGrad(() => {
      const full = model.forward({ inputIds, attentionMask, positionIds: positions(0, t) }).logits;
      // the first 3 columns at once, then one column per step
      let out = model.forward({
        inputIds: slice(inputIds, 1, 0, 3),
        attentionMask: slice(attentionMask, 1, 0, 3),
        positionIds: positions(0, 3),
        useCache: true,
      });
      for (let j = 3; j < t; j++) {
        out = model.forward({
          inputIds: slice(inputIds, 1, j, j + 1),
          attentionMask: slice(attentionMask, 1, 0, j + 1),
          positionIds: positions(j, j + 1),
          pastKeyValues: out.pastKeyValues,
          useCache: true,
        });
        // real tokens only: row 1 is padding before column 3
        for (let b = 0; b < 2; b++) {
          if (!rows[b][j]) continue;
          const want = slice(slice(full, 0, b, b + 1), 1, j, j + 1);
          const got = slice(out.logits, 0, b, b + 1);
          assert.ok(maxAbsDiff(got, want) <= 1e-4, `row ${b} column ${j}: cached logits differ`);
        }
      }
      assert.equal(out.pastKeyValues![0].key.shape[1], model.config.num_key_value_heads, "the cache keeps kv heads");
      assert.equal(out.pastKeyValues![0].key.shape[2], t);
    });
  });

  test(`${family}: savePretrained writes exactly the names transformers writes, and the directory loads back equal`, () => {
    const e = expected(family);
    const model = AutoModelForCausalLM.fromPretrainedDir(fixtureDir(family));
    const dir = tmpDir();
    model.savePretrained(dir);
    const f = SafetensorsFile.open(join(dir, "model.safetensors"));
    const names = [...f.names].sort();
    f.close();
    assert.deepEqual(names, e.saved_keys);
    const json = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    const original = JSON.parse(readFileSync(join(fixtureDir(family), "config.json"), "utf8"));
    assert.deepEqual(json.rope_parameters, original.rope_parameters);
    assert.equal(json.num_key_value_heads, 2);
    assert.equal("rope_theta" in json || "rope_scaling" in json, false, "the 5.x form only");
    assert.deepEqual(json.architectures, [model.architecture]);
    const again = AutoModelForCausalLM.fromPretrainedDir(dir);
    const inputs = { inputIds: ids(e.input_ids), attentionMask: nested(e.attention_mask) };
    noGrad(() => assert.equal(maxAbsDiff(again.forward(inputs).logits, model.forward(inputs).logits), 0));
  });
}

test("every Llama/Qwen2 class saves the names and shapes transformers' save_pretrained writes for it", () => {
  let compared = 0;
  for (const family of FAMILIES) {
    const want = expected(family).class_keys as Record<string, Record<string, number[]>>;
    const config = readConfig(fixtureDir(family));
    for (const cls of MODEL_CLASSES.values()) {
      if (cls.modelType !== family) continue;
      const dir = tmpDir();
      new cls(config as never, { rng: new Rng(1) }).savePretrained(dir);
      const header = readSafetensorsHeader(join(dir, "model.safetensors"));
      const got = Object.fromEntries(header.tensors.map((t) => [t.name, [...t.shape]]));
      assert.deepEqual(got, want[cls.architecture], `${cls.architecture}: names/shapes differ from transformers'`);
      compared++;
    }
  }
  assert.equal(compared, 6);
});

test("qwen2: the fixture is bf16 in shards (as save_pretrained(max_shard_size) writes it) and loads as f32", () => {
  const dir = fixtureDir("qwen2");
  const shards = readdirSync(dir).filter((n) => n.endsWith(".safetensors"));
  assert.ok(shards.length > 1, "several shards");
  const f = SafetensorsFile.open(join(dir, shards[0]));
  assert.equal(f.header.tensors[0].dtype, "BF16");
  f.close();
  const model = Qwen2ForCausalLM.fromPretrainedDir(dir);
  assert.equal(model.lm_head.weight, model.model.embed_tokens.weight, "tied embeddings");
  assert.ok(model.model.layers[0].self_attn.q_proj.bias, "q has a bias");
  assert.equal(model.model.layers[0].self_attn.o_proj.bias, null, "o has none");
  assert.equal(model.model.layers[0].self_attn.k_proj.weight.dtype, "f32");
});

test("llama: RoPE settings linear, dynamic (past max_position_embeddings), llama3 and the pre-5.x spelling match transformers", () => {
  const rope = expected("llama").rope as {
    input_ids: number[][];
    variants: Record<string, { config: Record<string, unknown>; rope_parameters: unknown; logits: unknown }>;
  };
  for (const [name, v] of Object.entries(rope.variants)) {
    const model = LlamaForCausalLM.fromPretrainedDir(fixtureDir("llama"), { config: v.config });
    assert.deepEqual(
      model.config.rope_parameters,
      v.rope_parameters,
      `${name}: rope_parameters as transformers reads them`,
    );
    const logits = noGrad(() => model.forward({ inputIds: ids(rope.input_ids) }).logits);
    const t = logits.shape[1];
    assertClose(`${name} logits`, slice(logits, 1, t - 4, t), v.logits);
  }
});

test("config: legacy rope fields fold into rope_parameters; derived fields; bad settings are refused by name", () => {
  const legacy = makeConfig("llama", {
    hidden_size: 64,
    num_attention_heads: 8,
    rope_theta: 500000,
    rope_scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4 },
    max_position_embeddings: 128,
  });
  assert.deepEqual(legacy.rope_parameters, {
    rope_type: "llama3",
    factor: 8,
    low_freq_factor: 1,
    high_freq_factor: 4,
    rope_theta: 500000,
    original_max_position_embeddings: 128,
  });
  assert.equal("rope_theta" in legacy, false);
  assert.equal(legacy.num_key_value_heads, 8);
  assert.equal(legacy.head_dim, 8);
  const q = makeConfig("qwen2", { hidden_size: 64, num_attention_heads: 4, num_key_value_heads: 2 });
  assert.deepEqual(q.rope_parameters, { rope_theta: 10000, rope_type: "default" });
  assert.equal("head_dim" in q, false, "Qwen2 configs have no head_dim field");
  assert.throws(
    () => makeConfig("llama", { rope_parameters: { rope_type: "yarn", rope_theta: 1e4, factor: 4 } }),
    /rope_type "yarn" is not supported/,
  );
  assert.throws(
    () => makeConfig("llama", { hidden_size: 64, num_attention_heads: 8, num_key_value_heads: 3 }),
    /num_attention_heads \(8\) must be a multiple of num_key_value_heads \(3\)/,
  );
  assert.throws(
    () => makeConfig("llama", { rope_scaling: { rope_type: "linear" } }),
    /factor must be a positive number/,
  );
  assert.throws(() => parseConfig({ model_type: "llama", rope_scaling: 3 }), /config.json: field "rope_scaling"/);
  assert.throws(
    () => makeConfig("qwen2", { use_sliding_window: true, sliding_window: 16 }),
    /use_sliding_window .* is not supported/,
  );
  const dir = fixtureDir("llama");
  assert.equal(readConfig(dir).model_type, "llama");
});

test("head_dim larger than hidden_size / heads builds q/k/v of heads × head_dim (as Gemma-style configs do)", () => {
  const c = makeConfig("llama", {
    vocab_size: 16,
    hidden_size: 8,
    intermediate_size: 12,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    head_dim: 6,
  });
  const model = new LlamaForCausalLM(c, { rng: new Rng(3) });
  assert.deepEqual([...model.model.layers[0].self_attn.q_proj.weight.shape], [12, 8]);
  assert.deepEqual([...model.model.layers[0].self_attn.k_proj.weight.shape], [6, 8]);
  assert.deepEqual([...model.model.layers[0].self_attn.o_proj.weight.shape], [8, 12]);
  const out = model.forward({ inputIds: ids([[1, 2, 3]]) });
  assert.deepEqual([...out.logits.shape], [1, 3, 16]);
});

test("reorderCache keeps the asked rows of every layer's keys and values, in order", () => {
  const model = LlamaForCausalLM.fromPretrainedDir(fixtureDir("llama"));
  const out = noGrad(() =>
    model.forward({
      inputIds: ids([
        [5, 6],
        [7, 8],
        [9, 10],
      ]),
      useCache: true,
    }),
  );
  const cache = out.pastKeyValues!;
  const re = model.reorderCache(cache, [2, 0, 0]);
  assert.equal(re.length, cache.length);
  assert.deepEqual([...re[1].key.shape], [3, ...cache[1].key.shape.slice(1)]);
  const row = (t: Tensor, r: number) => slice(t, 0, r, r + 1);
  assert.equal(maxAbsDiff(row(re[1].key, 0), row(cache[1].key, 2)), 0);
  assert.equal(maxAbsDiff(row(re[1].value, 2), row(cache[1].value, 0)), 0);
  assert.throws(() => model.reorderCache(cache, [3]), /row 3 is outside \[0, 3\)/);
});

test("sequence classification scores each row's last non-pad token; a base checkpoint loads with a new score head", () => {
  const model = AutoModelForSequenceClassification.fromPretrainedDir(fixtureDir("llama"), { numLabels: 3 });
  assert.ok(model instanceof LlamaForSequenceClassification);
  assert.deepEqual(model.loadingInfo?.missingKeys, ["score.weight"]);
  const { inputIds, attentionMask } = padBatch(
    [
      [5, 17, 99],
      [9, 120],
    ],
    0,
  );
  noGrad(() => {
    const logits = model.forward({ inputIds, attentionMask }).logits;
    const alone = model.forward({ inputIds: ids([[9, 120]]) }).logits;
    assertClose("row 1 scored at its last real token", slice(logits, 0, 1, 2), alone);
  });
  const loss = model.forward({ inputIds, attentionMask, labels: ids([0, 2]) }).loss!;
  assert.ok(Number.isFinite(loss.item()));
  loss.backward();
  assert.ok(sum(square(model.score.weight.grad!)).item() > 0, "the score head gets a gradient");
});

test("a model built from a size preset (pre-training from scratch) trains: the loss falls on a repeated sequence", () => {
  const size = {
    layers: 2,
    hidden: 16,
    heads: 4,
    ffn: 32,
    positions: 32,
    vocabSize: 32,
    padTokenId: 0,
    eosTokenId: 31,
  };
  for (const type of ["llama", "qwen2"]) {
    const c = configOfSize(type, size);
    assert.equal(c.tie_word_embeddings, true);
    assert.equal(c.max_position_embeddings, 32);
  }
  const model = new LlamaForCausalLM(configOfSize("llama", size) as LlamaConfig, { rng: new Rng(11) });
  model.train();
  const inputIds = ids([[1, 5, 9, 13, 17, 21, 25, 29]]);
  const opt = new AdamW(model.parameters(), { lr: 1e-2 });
  const lossAt = () => model.forward({ inputIds, labels: inputIds }).loss!;
  const first = lossAt().item();
  for (let step = 0; step < 20; step++) {
    opt.zeroGrad();
    lossAt().backward();
    opt.step();
  }
  const last = lossAt().item();
  assert.ok(last < first * 0.5, `loss ${first} → ${last}`);
});

test("causal-LM pre-training of a Llama-style model from a preset: it learns, and the saved model generates", async () => {
  const work = tmpDir("graft-llama-pretrain-");
  const words = "the cat sat on a mat while dogs ran in parks and birds sang over quiet green hills".split(" ");
  const r = new Rng(5);
  const lines = Array.from({ length: 400 }, () =>
    Array.from({ length: 6 + r.int(8) }, () => words[r.int(words.length)]).join(" "),
  );
  writeFileSync(join(work, "corpus.txt"), `${lines.join(".\n")}.\n`);
  const out = await pretrain({
    objective: "clm",
    architecture: "llama",
    corpus: [join(work, "corpus.txt")],
    output: join(work, "run"),
    preset: "tiny",
    vocabSize: 300,
    blockSize: 32,
    training: { maxSteps: 20, batchSize: 8, lr: 2e-3, logEvery: 5, evalEvery: 10, saveEvery: 10, warmupRatio: 0 },
  });
  assert.ok(out.validation.perplexity < 300, `perplexity ${out.validation.perplexity}`);
  const model = AutoModelForCausalLM.fromPretrainedDir(out.bestDir);
  assert.equal(model.architecture, "LlamaForCausalLM");
  assert.equal(generate(model, [[1, 2, 3]], { maxNewTokens: 4, eosTokenId: null }).newTokens[0].length, 4);
});
