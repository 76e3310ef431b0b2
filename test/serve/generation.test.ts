/**
 * The generative routes on a tiny GPT-2 (byte-level: a prompt's tokens are its bytes) served from a worker thread:
 * TGI's /generate and OpenAI's /v1/completions and /v1/chat/completions, whole and streamed as server-sent events,
 * agreeing with the library's greedy generation; the chat template; a streaming client that disconnects stops its
 * generation.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "../../src/serve/index.js";
import { loadPredictor } from "../../src/tasks/index.js";
import { listen, makeClassifier, makeEncoder, makeTinyGpt2, post, sseEvents } from "./fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-serve-gen-"));
const TEMPLATE =
  "{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}";
const lm = makeTinyGpt2(join(work, "lm"), { positions: 1024, chatTemplate: TEMPLATE });
const plain = makeTinyGpt2(join(work, "plain"));
const classifier = makeClassifier(join(work, "classifier"), makeEncoder(join(work, "encoder")));
const app = await createServer({ models: { lm, plain, classifier }, workers: 1 });
const base = await listen(app);
test.after(async () => {
  await app.close();
  rmSync(work, { recursive: true, force: true });
});

const expected = async (prompt: string, maxNewTokens: number) =>
  (await loadPredictor(lm, { generation: { maxNewTokens } }).generate!([prompt]))[0];

type Ev = Record<string, any>;

test("/generate: TGI's generated_text (greedy, as the library generates) and its token stream", async () => {
  const want = await expected("Once upon", 12);
  const r = await post(`${base}/generate`, { inputs: "Once upon", parameters: { max_new_tokens: 12 } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.generated_text, want);
  assert.ok(["length", "eos_token"].includes(r.body.details.finish_reason));
  const s = await fetch(`${base}/generate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ inputs: "Once upon", parameters: { max_new_tokens: 12 }, stream: true }),
  });
  assert.equal(s.headers.get("content-type"), "text/event-stream");
  const events = sseEvents(await s.text()) as Ev[];
  const last = events.at(-1)!;
  assert.equal(last.generated_text, want);
  assert.equal(last.details.generated_tokens, r.body.details.generated_tokens);
  const tokens = events.slice(0, -1);
  assert.ok(tokens.length > 0);
  for (const [i, e] of tokens.entries()) {
    assert.equal(e.index, i + 1);
    assert.equal(typeof e.token.id, "number");
    assert.equal(e.generated_text, null);
  }
  assert.equal(tokens.map((e) => e.token.text).join(""), want);
});

test("/v1/completions: OpenAI's fields, whole and streamed, ending with [DONE]", async () => {
  const want = await expected("Hello", 8);
  const r = await post(`${base}/v1/completions`, { model: "lm", prompt: "Hello", max_tokens: 8, temperature: 0 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.object, "text_completion");
  assert.match(r.body.id, /^cmpl-/);
  assert.equal(r.body.model, "lm");
  assert.equal(r.body.choices[0].text, want);
  assert.equal(r.body.choices[0].index, 0);
  assert.ok(["length", "stop"].includes(r.body.choices[0].finish_reason));
  assert.equal(r.body.usage.prompt_tokens, 5, "five bytes");
  assert.equal(r.body.usage.total_tokens, 5 + r.body.usage.completion_tokens);
  const s = await post(`${base}/v1/completions`, { prompt: "Hello", max_tokens: 8, temperature: 0, stream: true });
  const events = sseEvents(s.body as string);
  assert.equal(events.at(-1), "[DONE]");
  const chunks = events.slice(0, -1) as Ev[];
  assert.equal(chunks.map((c) => c.choices[0].text).join(""), want);
  assert.equal(chunks.at(-1)!.choices[0].finish_reason, r.body.choices[0].finish_reason);
  for (const c of chunks.slice(0, -1)) assert.equal(c.choices[0].finish_reason, null);
  assert.ok(chunks.every((c) => c.object === "text_completion" && c.id === chunks[0].id));
  // a seeded sample repeats; a request may ask for more tokens than fit: it gets what fits
  const a = await post(`${base}/v1/completions`, { prompt: "Hi", max_tokens: 6, seed: 7, temperature: 0.9 });
  const b = await post(`${base}/v1/completions`, { prompt: "Hi", max_tokens: 6, seed: 7, temperature: 0.9 });
  assert.equal(a.body.choices[0].text, b.body.choices[0].text);
  const long = await post(`${base}/v1/completions`, {
    model: "plain",
    prompt: "x".repeat(60),
    max_tokens: 50,
    temperature: 0,
  });
  assert.equal(long.status, 200);
  assert.ok(long.body.usage.completion_tokens <= 4);
});

test("/v1/chat/completions: the chat template makes the prompt; chat.completion and its chunks", async () => {
  const messages = [{ role: "user", content: "hi" }];
  const want = await expected("<user>hi\n<assistant>", 6);
  const r = await post(`${base}/v1/chat/completions`, { messages, max_tokens: 6, temperature: 0 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.object, "chat.completion");
  assert.match(r.body.id, /^chatcmpl-/);
  assert.deepEqual(r.body.choices[0].message, { role: "assistant", content: want });
  assert.equal(r.body.usage.prompt_tokens, "<user>hi\n<assistant>".length);
  const s = await post(`${base}/v1/chat/completions`, { messages, max_tokens: 6, temperature: 0, stream: true });
  const events = sseEvents(s.body as string);
  assert.equal(events.at(-1), "[DONE]");
  const chunks = events.slice(0, -1) as Ev[];
  assert.deepEqual(chunks[0].choices[0].delta, { role: "assistant", content: "" });
  assert.ok(chunks.every((c) => c.object === "chat.completion.chunk"));
  assert.equal(chunks.map((c) => c.choices[0].delta.content ?? "").join(""), want);
  assert.deepEqual(chunks.at(-1)!.choices[0].delta, {});
  // no template: "role: content" lines, then "assistant:"
  const p = await post(`${base}/v1/chat/completions`, { model: "plain", messages, max_tokens: 2, temperature: 0 });
  assert.equal(p.body.usage.prompt_tokens, "user: hi\nassistant:".length);
  // validation and models that do not generate
  const bad = await post(`${base}/v1/chat/completions`, { messages: [{ role: "robot", content: "x" }] });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error.message, /body\.messages\[0\]\.role must be one of "system", "user", "assistant"/);
  const clf = await post(`${base}/generate`, { inputs: "x", model: "classifier" });
  assert.equal(clf.status, 400);
  assert.match(clf.body.error, /does not generate text/);
});

test("a streaming client that disconnects stops its generation", async () => {
  const metric = async (pattern: RegExp) => {
    const m = pattern.exec(await (await fetch(`${base}/metrics`)).text());
    return m ? Number(m[1]) : 0;
  };
  const ac = new AbortController();
  const res = await fetch(`${base}/generate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ inputs: "Once upon a time", parameters: { max_new_tokens: 1000 }, stream: true }),
    signal: ac.signal,
  });
  const reader = res.body!.getReader();
  const first = await reader.read();
  assert.match(new TextDecoder().decode(first.value), /^data: \{"index":1/);
  ac.abort();
  const aborted = /graft_generations_total\{model="lm",reason="abort"\} (\d+)/;
  for (let i = 0; i < 50 && (await metric(aborted)) === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await metric(aborted), 1, "the generation ended as aborted");
  const generated = await metric(/graft_tokens_total\{model="lm",op="generate"\} (\d+)/);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await metric(/graft_tokens_total\{model="lm",op="generate"\} (\d+)/), generated, "no more tokens");
  assert.equal(await metric(/graft_requests_in_flight (\d+)/), 0);
});
