import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { withLabels, numLabels } from "../../src/io/config.js";
import {
  readConfig,
  writeConfig,
  parseConfig,
  makeConfig,
  type BertConfig,
  type Gpt2Config,
  AutoModel,
  architecture,
} from "../../src/models/index.js";
import { FormatError, ArgumentError } from "../../src/util/errors.js";
import { fixture, tmpDir } from "../io/helpers.js";
import { fixtureDir } from "./helpers.js";

test("BertConfig defaults, as transformers applies them to a config that names only its type", () => {
  const c = parseConfig({ model_type: "bert" }) as BertConfig;
  assert.deepEqual(
    {
      vocab_size: c.vocab_size,
      hidden_size: c.hidden_size,
      num_hidden_layers: c.num_hidden_layers,
      num_attention_heads: c.num_attention_heads,
      intermediate_size: c.intermediate_size,
      hidden_act: c.hidden_act,
      hidden_dropout_prob: c.hidden_dropout_prob,
      attention_probs_dropout_prob: c.attention_probs_dropout_prob,
      max_position_embeddings: c.max_position_embeddings,
      type_vocab_size: c.type_vocab_size,
      initializer_range: c.initializer_range,
      layer_norm_eps: c.layer_norm_eps,
      pad_token_id: c.pad_token_id,
      bos_token_id: c.bos_token_id,
      eos_token_id: c.eos_token_id,
      position_embedding_type: c.position_embedding_type,
      use_cache: c.use_cache,
      classifier_dropout: c.classifier_dropout,
      tie_word_embeddings: c.tie_word_embeddings,
      id2label: c.id2label,
      label2id: c.label2id,
    },
    {
      vocab_size: 30522,
      hidden_size: 768,
      num_hidden_layers: 12,
      num_attention_heads: 12,
      intermediate_size: 3072,
      hidden_act: "gelu",
      hidden_dropout_prob: 0.1,
      attention_probs_dropout_prob: 0.1,
      max_position_embeddings: 512,
      type_vocab_size: 2,
      initializer_range: 0.02,
      layer_norm_eps: 1e-12,
      pad_token_id: 0,
      bos_token_id: null,
      eos_token_id: null,
      position_embedding_type: "absolute",
      use_cache: true,
      classifier_dropout: null,
      tie_word_embeddings: true,
      id2label: { 0: "LABEL_0", 1: "LABEL_1" },
      label2id: { LABEL_0: 0, LABEL_1: 1 },
    },
  );
});

test("RoBERTa, DistilBERT, GPT-2 and graft-lstm defaults", () => {
  const r = parseConfig({ model_type: "roberta" });
  assert.deepEqual(
    [r.pad_token_id, r.bos_token_id, r.eos_token_id, r.layer_norm_eps, r.max_position_embeddings],
    [1, 0, 2, 1e-12, 512],
  );
  const d = parseConfig({ model_type: "distilbert" });
  assert.deepEqual(
    [
      d.dim,
      d.n_layers,
      d.n_heads,
      d.hidden_dim,
      d.activation,
      d.dropout,
      d.attention_dropout,
      d.qa_dropout,
      d.seq_classif_dropout,
      d.sinusoidal_pos_embds,
      d.pad_token_id,
    ],
    [768, 6, 12, 3072, "gelu", 0.1, 0.1, 0.1, 0.2, false, 0],
  );
  const g = parseConfig({ model_type: "gpt2" }) as Gpt2Config;
  assert.deepEqual(
    [
      g.vocab_size,
      g.n_positions,
      g.n_embd,
      g.n_layer,
      g.n_head,
      g.n_inner,
      g.activation_function,
      g.layer_norm_epsilon,
      g.resid_pdrop,
      g.embd_pdrop,
      g.attn_pdrop,
      g.bos_token_id,
      g.eos_token_id,
      g.pad_token_id,
      g.scale_attn_weights,
      g.summary_first_dropout,
    ],
    [50257, 1024, 768, 12, 12, null, "gelu_new", 1e-5, 0.1, 0.1, 0.1, 50256, 50256, null, true, 0.1],
  );
  const l = makeConfig("graft-lstm", { vocab_size: 1000 });
  assert.deepEqual(
    [l.vocab_size, l.embedding_size, l.hidden_size, l.num_layers, l.weight_dropout],
    [1000, 400, 1152, 3, 0.2],
  );
});

test("real Hub configs read with their values, and unknown fields survive a write/read round trip", () => {
  for (const name of ["bert-base-uncased", "gpt2", "roberta-base", "distilbert-sst2"]) {
    const path = fixture("io", "configs", `${name}.json`);
    const raw = JSON.parse(readFileSync(path, "utf8"));
    const c = readConfig(path);
    for (const [k, v] of Object.entries(raw)) if (k !== "id2label") assert.deepEqual(c[k], v, `${name}: ${k}`);
    const dir = tmpDir();
    writeConfig(dir, c);
    const written = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    assert.deepEqual(Object.keys(written), Object.keys(written).sort(), "keys sorted, as transformers writes them");
    for (const [k, v] of Object.entries(raw)) assert.deepEqual(written[k], v, `${name}: ${k} written back unchanged`);
    assert.deepEqual(readConfig(dir), c);
  }
  const d = readConfig(fixture("io", "configs", "distilbert-sst2.json"));
  assert.deepEqual(d.id2label, { 0: "NEGATIVE", 1: "POSITIVE" });
  assert.equal(numLabels(d), 2);
  assert.equal(d.tie_weights_, true);
  assert.equal(readConfig(fixture("io", "configs", "roberta-base.json")).type_vocab_size, 1);
});

test("attribute_map aliases fold into the canonical field; contradictions and bad values are refused with the field named", () => {
  const g = parseConfig({
    model_type: "gpt2",
    hidden_size: 64,
    num_attention_heads: 4,
    num_hidden_layers: 2,
    max_position_embeddings: 128,
  });
  assert.deepEqual([g.n_embd, g.n_head, g.n_layer, g.n_positions, "hidden_size" in g], [64, 4, 2, 128, false]);
  const d = parseConfig({ model_type: "distilbert", hidden_size: 32, num_attention_heads: 2, num_hidden_layers: 1 });
  assert.deepEqual([d.dim, d.n_heads, d.n_layers], [32, 2, 1]);
  assert.throws(
    () => parseConfig({ model_type: "gpt2", hidden_size: 64, n_embd: 32 }),
    /"hidden_size" \(64\) is an alias of "n_embd" \(32\)/,
  );

  const bad: [Record<string, unknown>, RegExp][] = [
    [
      { model_type: "bert", hidden_size: 100, num_attention_heads: 12 },
      /hidden_size \(100\) must be a multiple of num_attention_heads \(12\)/,
    ],
    [{ model_type: "bert", vocab_size: -3 }, /field "vocab_size" must be a positive integer, got -3/],
    [{ model_type: "bert", hidden_dropout_prob: 1.5 }, /field "hidden_dropout_prob" must be a probability in \[0, 1\]/],
    [
      { model_type: "bert", position_embedding_type: "rotary" },
      /field "position_embedding_type" must be one of "absolute"/,
    ],
    [{ model_type: "gpt2", n_inner: "big" }, /field "n_inner" must be a positive integer or null/],
    [{ model_type: "xlnet" }, /model_type "xlnet" is not supported/],
    [{ vocab_size: 10 }, /no "model_type" field/],
    [{ model_type: "bert", id2label: { x: "a" } }, /field "id2label" has key "x", not a class index/],
    [{ model_type: "bert", num_labels: 0 }, /field "num_labels" must be a positive integer/],
  ];
  for (const [json, why] of bad) {
    assert.throws(
      () => parseConfig(json, "m/config.json"),
      (e: Error) => e instanceof FormatError && /^m\/config\.json: /.test(e.message) && why.test(e.message),
      JSON.stringify(json),
    );
  }
  assert.throws(
    () => makeConfig("bert", { hidden_size: 10, num_attention_heads: 3 }),
    (e: Error) => e instanceof ArgumentError && /^bert config: hidden_size/.test(e.message),
  );
});

test("model_type is inferred from architectures when missing; labels come from num_labels or id2label", () => {
  assert.equal(parseConfig({ architectures: ["RobertaForSequenceClassification"] }).model_type, "roberta");
  assert.equal(parseConfig({ architectures: ["GPT2LMHeadModel"] }).model_type, "gpt2");
  const c = parseConfig({ model_type: "bert", num_labels: 3 });
  assert.deepEqual(c.id2label, { 0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2" });
  assert.equal("num_labels" in c, false, "num_labels is derived, never stored (as in transformers)");
  const named = withLabels(c, ["neg", "neu", "pos", "mixed"]);
  assert.equal(numLabels(named), 4);
  assert.deepEqual(named.label2id, { neg: 0, neu: 1, pos: 2, mixed: 3 });
  assert.throws(() => withLabels(c, ["a", "a"]), /duplicate label/);
});

test("readConfig names the file when it is missing or not JSON", () => {
  const dir = tmpDir();
  assert.throws(
    () => readConfig(dir),
    (e: Error) => e instanceof FormatError && e.message === `${join(dir, "config.json")}: cannot read (ENOENT)`,
  );
  writeFileSync(join(dir, "config.json"), "{ nope");
  assert.throws(() => readConfig(dir), /config\.json: not valid JSON/);
});

test("each architecture counts its base model's parameters from the config, exactly", () => {
  const configs: [string, Record<string, unknown>][] = [
    ["bert", { vocab_size: 50, hidden_size: 8, num_hidden_layers: 3, num_attention_heads: 2, intermediate_size: 12 }],
    ["roberta", { vocab_size: 40, hidden_size: 12, num_hidden_layers: 1, num_attention_heads: 3, type_vocab_size: 1 }],
    ["distilbert", { vocab_size: 30, dim: 8, n_layers: 2, n_heads: 2, hidden_dim: 20, max_position_embeddings: 16 }],
    ["gpt2", { vocab_size: 30, n_embd: 8, n_layer: 2, n_head: 2, n_positions: 16 }],
    ["gpt2", { vocab_size: 30, n_embd: 8, n_layer: 1, n_head: 2, n_positions: 16, n_inner: 5 }],
    ["graft-lstm", { vocab_size: 30, embedding_size: 6, hidden_size: 10, num_layers: 3 }],
    ["graft-lstm", { vocab_size: 30, embedding_size: 6, hidden_size: 10, num_layers: 1 }],
    ["graft-lstm", { vocab_size: 30, embedding_size: 6, hidden_size: 10, num_layers: 2 }],
    ["t5", { vocab_size: 30, d_model: 8, d_kv: 3, d_ff: 12, num_layers: 2, num_heads: 2 }],
    [
      "t5",
      { vocab_size: 30, d_model: 8, d_ff: 12, num_layers: 1, num_decoder_layers: 3, feed_forward_proj: "gated-gelu" },
    ],
  ];
  for (const [type, fields] of configs) {
    const config = makeConfig(type, type === "gpt2" ? fields : { max_position_embeddings: 32, ...fields });
    const model = AutoModel.fromConfig(config);
    const built = model.parameters().reduce((s, p) => s + p.size, 0);
    assert.equal(architecture(type).config.parameters!(config), built, `${type} ${JSON.stringify(fields)}`);
  }
});

/** A model directory holding only a config.json: the fixture's BERT config with `patch` applied. */
function configDir(patch: Record<string, unknown>): string {
  const dir = tmpDir();
  const base = JSON.parse(readFileSync(join(fixtureDir("bert"), "config.json"), "utf8"));
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...base, ...patch }));
  return dir;
}

function withMaxMemory<T>(value: string, f: () => T): T {
  const before = process.env.GRAFT_MAX_MEMORY;
  process.env.GRAFT_MAX_MEMORY = value;
  try {
    return f();
  } finally {
    if (before === undefined) delete process.env.GRAFT_MAX_MEMORY;
    else process.env.GRAFT_MAX_MEMORY = before;
  }
}

test("a config whose weights would not fit in memory is refused before anything is allocated, naming the field and file", () => {
  for (const [patch, field] of [
    [{ num_hidden_layers: 1000000 }, "num_hidden_layers"],
    [{ hidden_size: 1e9, num_attention_heads: 1 }, "hidden_size"],
    [{ vocab_size: 2 ** 40 }, "vocab_size"],
    [{ intermediate_size: 1e12 }, "intermediate_size"],
  ] as const) {
    const dir = configDir(patch);
    assert.throws(
      () => withMaxMemory("1G", () => AutoModel.fromPretrainedDir(dir)),
      (e: Error) =>
        e instanceof FormatError &&
        e.message.startsWith(
          `${join(dir, "config.json")}: field "${field}" (${patch[field as keyof typeof patch]}) makes a model of`,
        ) &&
        /more than the 1\.07 GB of GRAFT_MAX_MEMORY=1G/.test(e.message),
      JSON.stringify(patch),
    );
  }
  // the limit is what is there: the same config passes under a larger one, and a tiny limit refuses a tiny model
  const dir = configDir({ num_hidden_layers: 1000 });
  assert.throws(() => withMaxMemory("1M", () => readConfig(dir)), /field "num_hidden_layers" \(1000\) makes a model/);
  assert.equal(withMaxMemory("1T", () => readConfig(dir)).num_hidden_layers, 1000);
  assert.throws(() => withMaxMemory("lots", () => readConfig(dir)), /GRAFT_MAX_MEMORY must be a number of bytes/);
  // pre-training from scratch builds its config through the same check
  assert.throws(
    () => withMaxMemory("1G", () => makeConfig("gpt2", { n_layer: 100000 })),
    (e: Error) =>
      e instanceof ArgumentError && /^gpt2 config: field "n_layer" \(100000\) makes a model/.test(e.message),
  );
});

test("sizes that are not sane integers are refused naming the field", () => {
  for (const [patch, field] of [
    [{ hidden_size: 2.5 }, "hidden_size"],
    [{ num_hidden_layers: "4" }, "num_hidden_layers"],
    [{ intermediate_size: -1 }, "intermediate_size"],
    [{ vocab_size: 1e300 }, "vocab_size"],
    [{ max_position_embeddings: null }, "max_position_embeddings"],
    [{ num_labels: 1e12, id2label: null }, "num_labels"],
  ] as const) {
    const dir = configDir(patch);
    assert.throws(
      () => AutoModel.fromPretrainedDir(dir),
      (e: Error) =>
        e instanceof FormatError && e.message.startsWith(`${join(dir, "config.json")}: field "${field}" must be`),
      JSON.stringify(patch),
    );
  }
});

test("graft predict on a config with a million layers says which field, instead of aborting out of memory", () => {
  const dir = configDir({ num_hidden_layers: 1000000, architectures: ["BertForSequenceClassification"] });
  copyFileSync(join(fixtureDir("bert"), "model.safetensors"), join(dir, "model.safetensors"));
  const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...Array.from({ length: 94 }, (_, i) => `w${i + 5}`)];
  writeFileSync(join(dir, "vocab.txt"), vocab.join("\n") + "\n");
  const main = join(dirname(fileURLToPath(import.meta.url)), "../../src/cli/main.js");
  const code = `const { run } = await import(${JSON.stringify(pathToFileURL(main).href)}); process.exitCode = await run(process.argv);`;
  const r = spawnSync(
    process.execPath,
    ["--max-old-space-size=256", "--input-type=module", "-e", code, "graft", "predict", "--model", dir, "--text", "x"],
    { encoding: "utf8", env: { ...process.env, GRAFT_MAX_MEMORY: "2G", NO_COLOR: "1" }, timeout: 60_000 },
  );
  assert.equal(r.status, 1, r.stderr.slice(0, 2000));
  assert.match(r.stderr, /config\.json: field "num_hidden_layers" \(1000000\) makes a model of [\d.e+]+ parameters/);
});
