/**
 * The sft task kind: {text}, {prompt, completion} and {messages} records, completion-only and assistant-only
 * loss, the over-length rule, packing, bad records, and `finetune --task sft` end to end on a tiny GPT-2.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { manualSeed, Rng } from "../../src/util/rng.js";
import { Tensor, tensor } from "../../src/tensor/index.js";
import { AutoModelForCausalLM, causalLmLoss, makeConfig } from "../../src/models/index.js";
import { loadTokenizer } from "../../src/tokenizers/auto.js";
import { loadChatTemplate } from "../../src/chat/index.js";
import { evaluateFile, finetune, loadPredictor } from "../../src/tasks/index.js";
import { taskSpec } from "../../src/tasks/registry.js";
import { encodeSftRecords, packRows, readSftFile } from "../../src/tasks/kinds/sft/index.js";
import { IGNORE_INDEX } from "../../src/train/index.js";
import { fixture, tmpDir } from "../io/helpers.js";

const CHATML = JSON.parse(readFileSync(fixture("chat", "expected.json"), "utf8")).templates.chatml as string;

/** A tiny GPT-2 with the chat fixture's byte-level BPE (ChatML special tokens) and a ChatML template. */
function tinyChatGpt2(dir: string, opts: { template?: boolean } = {}): string {
  mkdirSync(dir, { recursive: true });
  copyFileSync(fixture("chat", "tokenizer.json"), join(dir, "tokenizer.json"));
  const tok = loadTokenizer(dir);
  writeFileSync(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({
      eos_token: "<|im_end|>",
      pad_token: "<|im_end|>",
      bos_token: "<|im_start|>",
      ...(opts.template === false ? {} : { chat_template: CHATML }),
    }),
  );
  manualSeed(3);
  const config = makeConfig("gpt2", {
    vocab_size: tok.vocabSize,
    n_embd: 16,
    n_layer: 2,
    n_head: 2,
    n_positions: 128,
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
  });
  AutoModelForCausalLM.fromConfig(config).savePretrained(dir);
  return dir;
}

const work = tmpDir("graft-sft-");
const model = tinyChatGpt2(join(work, "gpt2"));

function conversations(path: string, n: number, seed: number): void {
  const r = new Rng(seed);
  const words = ["hello", "tensor", "road", "café", "joke", "short", "help", "Paris"];
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const w = words[r.int(words.length)];
    lines.push(
      JSON.stringify({
        messages: [
          { role: "user", content: `say ${w}` },
          { role: "assistant", content: `${w} ${w}` },
        ],
      }),
    );
  }
  writeFileSync(path, lines.join("\n") + "\n");
}

test("the task registry knows sft and its alias causal-lm", () => {
  assert.equal(taskSpec("sft").name, "sft");
  assert.equal(taskSpec("causal-lm").name, "causal-lm");
  assert.equal(taskSpec("causal-lm").prepare, taskSpec("sft").prepare);
});

test("assistant-only loss: labels and gradients touch only the assistant's tokens", async () => {
  const tok = loadTokenizer(model);
  const template = loadChatTemplate(model);
  const rec = {
    shape: "messages" as const,
    line: 1,
    messages: [
      { role: "system", content: "be brief" },
      { role: "user", content: "hello there" },
      { role: "assistant", content: "Hi!" },
      { role: "user", content: "a joke?" },
      { role: "assistant", content: "no." },
    ],
  };
  const opts = { tokenizer: tok, template, maxLength: 128, trainOn: "auto" as const, overLength: "truncate" as const };
  const { rows } = await encodeSftRecords([rec], "c.jsonl", opts);
  const row = rows[0];
  const learned = row.labels.flatMap((l, i) => (l === IGNORE_INDEX ? [] : [i]));
  const text = await tok.decode(learned.map((i) => row.ids[i]));
  assert.equal(text, "Hi!<|im_end|>\nno.<|im_end|>\n");
  // d loss / d logits is zero at every position whose next token is not the assistant's
  const v = tok.vocabSize;
  const t = row.ids.length;
  const logits = new Tensor(
    Float32Array.from({ length: t * v }, (_, i) => Math.sin(i)),
    [1, t, v],
    true,
  );
  causalLmLoss(logits, tensor(row.labels, [1, t], { dtype: "i32" })).backward();
  const g = logits.grad!.toArray();
  for (let p = 0; p < t; p++) {
    let norm = 0;
    for (let k = 0; k < v; k++) norm += Math.abs(g[p * v + k]);
    const predictsAssistant = p + 1 < t && row.labels[p + 1] !== IGNORE_INDEX;
    assert.equal(norm > 0, predictsAssistant, `position ${p}`);
  }
  // trainOn all: every token but the first
  const all = await encodeSftRecords([rec], "c.jsonl", { ...opts, trainOn: "all" });
  assert.equal(all.rows[0].labels.filter((l) => l !== IGNORE_INDEX).length, t - 1);
});

test("completion-only loss for {prompt, completion}; {text} learns every token and the eos", async () => {
  const tok = loadTokenizer(model);
  const opts = {
    tokenizer: tok,
    template: null,
    maxLength: 64,
    trainOn: "auto" as const,
    overLength: "truncate" as const,
  };
  const { rows } = await encodeSftRecords(
    [
      { shape: "prompt", prompt: "say hello", completion: " hello hello", line: 1 },
      { shape: "text", text: "the road", line: 2 },
    ],
    "p.jsonl",
    opts,
  );
  const learnedText = (i: number) => tok.decode(rows[i].labels.filter((l) => l !== IGNORE_INDEX));
  assert.equal(await learnedText(0), " hello hello<|im_end|>");
  assert.equal(await tok.decode(rows[1].ids), "the road<|im_end|>");
  assert.equal(rows[1].labels.filter((l) => l !== IGNORE_INDEX).length, rows[1].ids.length - 1);
});

test("over-length records are truncated from the left with a count, or rejected naming the line", async () => {
  const tok = loadTokenizer(model);
  const long = { shape: "prompt" as const, prompt: "hello ".repeat(40), completion: " joke", line: 7 };
  const opts = {
    tokenizer: tok,
    template: null,
    maxLength: 16,
    trainOn: "auto" as const,
    overLength: "truncate" as const,
  };
  const r = await encodeSftRecords([long], "l.jsonl", opts);
  assert.equal(r.rows[0].ids.length, 16);
  assert.equal(r.report.truncated, 1);
  assert.ok(r.report.tokensDropped > 20);
  assert.equal(await tok.decode(r.rows[0].labels.filter((l) => l !== IGNORE_INDEX)), " joke<|im_end|>");
  await assert.rejects(
    encodeSftRecords([long], "l.jsonl", { ...opts, overLength: "reject" }),
    /l\.jsonl, line 7: the record has \d+ tokens, more than the context of 16/,
  );
});

test("a conversation the template refuses is an error naming the file and line, with the template's message", async () => {
  const tok = loadTokenizer(model);
  const template = {
    text: "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{{ m['content'] }}{% endfor %}",
    source: "strict.jinja",
    specialTokens: {},
  };
  const rec = {
    shape: "messages" as const,
    line: 4,
    messages: [
      { role: "system", content: "x" },
      { role: "user", content: "y" },
    ],
  };
  await assert.rejects(
    encodeSftRecords([rec], "s.jsonl", {
      tokenizer: tok,
      template,
      maxLength: 64,
      trainOn: "auto",
      overLength: "truncate",
    }),
    /s\.jsonl, line 4, field "messages": the chat template \(strict\.jinja\) refused the conversation: System role not supported/,
  );
});

test("bad records name the file, line and field", () => {
  const f = join(work, "bad.jsonl");
  const cases: [string, RegExp][] = [
    ['{"messages": []}', /bad\.jsonl, line 2, field "messages": the conversation is empty/],
    ['{"messages": [{"role": "bot", "content": "x"}]}', /line 2, field "messages\[0\]\.role": unknown role "bot"/],
    ['{"prompt": "x"}', /line 2, field "completion": must be a string/],
    ['{"body": "x"}', /line 2: a record needs \{text\}/],
    ["{nope", /line 2: not valid JSON/],
  ];
  for (const [line, re] of cases) {
    writeFileSync(f, `{"text": "fine"}\n${line}\n`);
    assert.throws(() => readSftFile(f), re);
  }
});

test("packing: positions restart per sample, segments count samples, no row exceeds the context", () => {
  const rows = [5, 3, 7, 2, 6].map((n, k) => ({
    ids: Array.from({ length: n }, (_, i) => 10 * k + i),
    typeIds: new Array<number>(n).fill(0),
    labels: Array.from({ length: n }, (_, i) => (i === 0 ? IGNORE_INDEX : 10 * k + i)),
  }));
  const packed = packRows(rows, 10, new Rng(1));
  assert.ok(packed.every((r) => r.ids.length <= 10));
  assert.equal(
    packed.reduce((n, r) => n + r.ids.length, 0),
    23,
  );
  for (const r of packed) {
    for (let i = 0; i < r.ids.length; i++) {
      const starts = i === 0 || r.segmentIds![i] !== r.segmentIds![i - 1];
      assert.equal(r.positionIds![i] === 0, starts);
      assert.equal(r.labels[i] === IGNORE_INDEX, starts, "a sample's first token is never a target");
    }
  }
});

test("graft finetune --task sft on conversations: trains, evaluates perplexity, saves a loadable model", async () => {
  const data = join(work, "conversations.jsonl");
  conversations(data, 60, 1);
  for (const packing of [false, true]) {
    const r = await finetune({
      task: "sft",
      model,
      data,
      output: join(work, `run-${packing}`),
      packing,
      maxLength: 64,
      generationMetrics: !packing,
      generationMaxTokens: 8,
      training: { epochs: 8, lr: 1e-2, batchSize: 8, seed: 1 },
    });
    if (!packing) {
      // greedy replies to the held-out prompts, scored against the assistant turns
      for (const k of ["bleu_1", "bleu_2"]) assert.ok(r.test[k] >= 0 && r.test[k] <= 100, `${k} ${r.test[k]}`);
      for (const k of ["distinct_1", "distinct_2"]) assert.ok(r.test[k] >= 0 && r.test[k] <= 1, `${k} ${r.test[k]}`);
      assert.ok(
        r.notes.some((n) => /^sample reply: /.test(n)),
        r.notes.join("; "),
      );
    } else assert.equal(r.test.bleu_1, undefined, "generation metrics only when asked");
    assert.ok(Number.isFinite(r.validation.perplexity), `perplexity ${r.validation.perplexity}`);
    assert.ok(r.validation.perplexity < 30, `perplexity ${r.validation.perplexity} after training`);
    assert.ok(existsSync(join(r.bestDir, "model.safetensors")));
    const preds = readFileSync(join(r.runDir, "predictions.jsonl"), "utf8").trim().split("\n");
    assert.ok(JSON.parse(preds[0]).messages, "predictions show the conversation");
    AutoModelForCausalLM.fromPretrainedDir(r.bestDir);
  }
});

test("{messages} without a chat template: a clear error pointing to --chat-template, which fixes it", async () => {
  const bare = tinyChatGpt2(join(work, "bare"), { template: false });
  const data = join(work, "few.jsonl");
  conversations(data, 20, 2);
  await assert.rejects(
    finetune({ task: "sft", model: bare, data, output: join(work, "run-bare"), training: { epochs: 1 } }),
    (e: Error & { hint?: string }) => /needs a chat template/.test(e.message) && /--chat-template/.test(e.hint ?? ""),
  );
  const file = join(work, "chatml.jinja");
  writeFileSync(file, CHATML);
  const r = await finetune({
    task: "sft",
    model: bare,
    data,
    chatTemplate: file,
    output: join(work, "run-bare2"),
    training: { epochs: 1, batchSize: 8 },
  });
  assert.ok(Number.isFinite(r.validation.loss));
  // best/ keeps the template it was trained with: graft eval scores conversations with it
  assert.equal(loadChatTemplate(r.bestDir).text, CHATML);
  const e = await evaluateFile(r.bestDir, data);
  assert.equal(e.examples, 20);
  assert.ok(Number.isFinite(e.metrics.perplexity));
  // the Predictor of a fine-tuned causal LM generates
  const p = await loadPredictor(r.bestDir, { generation: { maxNewTokens: 3 } });
  const [out] = await p.generate!(["hello tensor"]);
  assert.equal(typeof out, "string");
});

test("the CLI: graft finetune --task sft --data conversations.jsonl --model DIR --packing", async () => {
  const { spawnSync } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const bin = fileURLToPath(new URL("../../../bin/graft.js", import.meta.url));
  const data = join(work, "cli.jsonl");
  conversations(data, 30, 4);
  // one conversation longer than the context: truncated from the left, and counted in a warning
  const long = { role: "user", content: "hello tensor road ".repeat(60) };
  appendFileSync(data, `${JSON.stringify({ messages: [long, { role: "assistant", content: "short" }] })}\n`);
  const args = ["finetune", "--task", "sft", "--data", data, "--model", model, "--packing", "--max-length", "128"];
  const r = spawnSync(
    process.execPath,
    [bin, ...args, "--epochs", "1", "--batch-size", "4", "--output", join(work, "cli-run"), "--json"],
    { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } },
  );
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.ok(Number.isFinite(result.test.perplexity));
  const warned =
    /cli\.jsonl: 1 of \d+ records were longer than 128 tokens and were truncated from the left \(\d+ tokens dropped\)/;
  assert.ok(
    result.notes.some((n: string) => warned.test(n)),
    `notes: ${JSON.stringify(result.notes)}`,
  );
  const dataJson = JSON.parse(readFileSync(join(work, "cli-run", "data.json"), "utf8"));
  assert.equal(dataJson.packing, true);
  assert.ok(dataJson.rows.train < 14, `packed rows ${dataJson.rows.train} for 28 samples of about 30 tokens`);
});

test("sft on a tiny Llama with LoRA on q/k/v/o and the MLP projections, packed: trains and merges", async () => {
  const dir = join(work, "llama");
  mkdirSync(dir, { recursive: true });
  copyFileSync(fixture("chat", "tokenizer.json"), join(dir, "tokenizer.json"));
  copyFileSync(join(model, "tokenizer_config.json"), join(dir, "tokenizer_config.json"));
  manualSeed(5);
  const config = makeConfig("llama", {
    vocab_size: loadTokenizer(dir).vocabSize,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 128,
  });
  AutoModelForCausalLM.fromConfig(config).savePretrained(dir);
  const data = join(work, "llama.jsonl");
  conversations(data, 40, 6);
  const targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];
  const r = await finetune({
    task: "sft",
    model: dir,
    data,
    packing: true,
    maxLength: 64,
    lora: { r: 4, alpha: 8, dropout: 0, targetModules: targets },
    output: join(work, "run-llama"),
    training: { epochs: 4, lr: 2e-2, batchSize: 4, seed: 2 },
  });
  assert.ok(
    r.notes.some((n) => /LoRA r=4 on 14 layers/.test(n)),
    r.notes.join("; "),
  );
  assert.ok(Number.isFinite(r.validation.perplexity));
  const adapter = JSON.parse(readFileSync(join(r.bestDir, "adapter", "adapter_config.json"), "utf8"));
  assert.deepEqual([...adapter.target_modules].sort(), [...targets].sort());
  assert.equal(adapter.task_type, "CAUSAL_LM");
  assert.deepEqual(adapter.modules_to_save ?? [], []);
  const merged = AutoModelForCausalLM.fromPretrainedDir(r.bestDir);
  assert.ok(!merged.namedParameters().some(([n]) => /lora/.test(n)), "best/ holds the merged weights");
});
