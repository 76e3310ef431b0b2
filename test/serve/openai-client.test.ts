/**
 * graft serve's OpenAI-compatible routes through the official `openai` npm client pointed at 127.0.0.1 (baseURL,
 * apiKey sent as the bearer token): /v1/models, /v1/embeddings (the client asks for base64 and decodes it),
 * /v1/completions and /v1/chat/completions, whole and streamed, with the field names the client's types promise.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { createServer } from "../../src/serve/index.js";
import { loadPredictor } from "../../src/tasks/index.js";
import { listen, makeEncoder, makeTinyGpt2, post } from "./fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-serve-openai-"));
const lm = makeTinyGpt2(join(work, "lm"));
const encoder = makeEncoder(join(work, "encoder"));
const app = await createServer({ models: { lm, encoder }, workers: 0, apiKey: "sk-test" });
const base = await listen(app);
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "sk-test", maxRetries: 0, timeout: 20_000 });
test.after(async () => {
  await app.close();
  rmSync(work, { recursive: true, force: true });
});

const greedy = async (prompt: string, maxNewTokens: number) =>
  (await loadPredictor(lm, { generation: { maxNewTokens } }).generate!([prompt]))[0];

test("openai client: models.list and embeddings.create (base64, decoded by the client) as the float route gives", async () => {
  const models = await client.models.list();
  assert.deepEqual(
    models.data.map((m) => [m.id, m.object, m.owned_by]),
    [
      ["lm", "model", "graft"],
      ["encoder", "model", "graft"],
    ],
  );
  const e = await client.embeddings.create({ model: "encoder", input: ["a good film", "the plot"] });
  assert.equal(e.object, "list");
  assert.equal(e.model, "encoder");
  assert.deepEqual(
    e.data.map((d) => [d.object, d.index]),
    [
      ["embedding", 0],
      ["embedding", 1],
    ],
  );
  assert.equal(e.usage.prompt_tokens, e.usage.total_tokens);
  assert.ok(e.usage.prompt_tokens > 0);
  const floats = await post(
    `${base}/v1/embeddings`,
    { model: "encoder", input: ["a good film", "the plot"], encoding_format: "float" },
    { authorization: "Bearer sk-test" },
  );
  assert.equal(floats.status, 200);
  for (const [i, d] of e.data.entries()) {
    assert.equal(d.embedding.length, floats.body.data[i].embedding.length);
    d.embedding.forEach((x, j) => assert.ok(Math.abs(x - floats.body.data[i].embedding[j]) < 1e-6));
  }
  // a wrong key is refused through the client too
  const wrong = new OpenAI({ baseURL: `${base}/v1`, apiKey: "sk-wrong", maxRetries: 0 });
  await assert.rejects(
    () => wrong.models.list(),
    (err: { status?: number }) => err.status === 401,
  );
});

test("openai client: completions.create, whole and streamed (text deltas, then a finish_reason)", async () => {
  const want = await greedy("Hello", 8);
  const c = await client.completions.create({ model: "lm", prompt: "Hello", max_tokens: 8, temperature: 0 });
  assert.equal(c.object, "text_completion");
  assert.equal(c.model, "lm");
  assert.equal(c.choices[0].text, want);
  assert.ok(["length", "stop"].includes(c.choices[0].finish_reason));
  assert.equal(c.usage!.prompt_tokens, 5);
  assert.equal(c.usage!.total_tokens, 5 + c.usage!.completion_tokens);
  const stream = await client.completions.create({
    model: "lm",
    prompt: "Hello",
    max_tokens: 8,
    temperature: 0,
    stream: true,
  });
  const texts: string[] = [];
  let finish: string | null = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, "text_completion");
    texts.push(chunk.choices[0].text);
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  assert.ok(texts.filter((t) => t !== "").length > 1, "more than one delta");
  assert.equal(texts.join(""), want);
  assert.equal(finish, c.choices[0].finish_reason);
});

test("openai client: chat.completions.create, whole and streamed (a role delta, content deltas, finish_reason)", async () => {
  const messages = [{ role: "user" as const, content: "hi" }];
  const want = await greedy("user: hi\nassistant:", 6);
  const c = await client.chat.completions.create({ model: "lm", messages, max_tokens: 6, temperature: 0 });
  assert.equal(c.object, "chat.completion");
  assert.match(c.id, /^chatcmpl-/);
  assert.equal(c.choices[0].message.role, "assistant");
  assert.equal(c.choices[0].message.content, want);
  assert.equal(c.usage!.prompt_tokens, "user: hi\nassistant:".length);
  const stream = await client.chat.completions.create({
    model: "lm",
    messages,
    max_completion_tokens: 6,
    temperature: 0,
    stream: true,
  });
  const deltas: { role?: string; content?: string | null }[] = [];
  let finish: string | null = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, "chat.completion.chunk");
    deltas.push(chunk.choices[0].delta);
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  assert.equal(deltas[0].role, "assistant");
  assert.ok(deltas.filter((d) => d.content).length > 1, "more than one content delta");
  assert.equal(deltas.map((d) => d.content ?? "").join(""), want);
  assert.equal(finish, c.choices[0].finish_reason);
});
