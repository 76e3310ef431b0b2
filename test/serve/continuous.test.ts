/**
 * Continuous batching in graft serve, against a real server on 127.0.0.1 (a tiny byte-level GPT-2 on a worker
 * thread): requests that arrive while another generation decodes join its batch before it finishes (counted by
 * graft_generations_joined_total, not timed), their greedy outputs are the ones each gives alone, streaming still
 * works per request, and the disconnected client's sequence leaves the batch. With continuousBatching off, nothing
 * joins and the outputs are the same.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "../../src/serve/index.js";
import { loadPredictor } from "../../src/tasks/index.js";
import { listen, makeTinyGpt2, post, sseEvents } from "./fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-serve-cb-"));
const lm = makeTinyGpt2(join(work, "lm"), { positions: 1024 });
const app = await createServer({ models: { lm }, workers: 1 });
const base = await listen(app);
test.after(async () => {
  await app.close();
  rmSync(work, { recursive: true, force: true });
});

const greedy = async (prompt: string, maxNewTokens: number) =>
  (await loadPredictor(lm, { generation: { maxNewTokens } }).generate!([prompt]))[0];

const metric = async (url: string, pattern: RegExp) => {
  const m = pattern.exec(await (await fetch(`${url}/metrics`)).text());
  return m ? Number(m[1]) : 0;
};
const joined = /graft_generations_joined_total\{model="lm"\} (\d+)/;

test("requests arriving while a generation decodes join its batch; each gives its greedy output alone; a disconnect leaves", async () => {
  const ac = new AbortController();
  const long = await fetch(`${base}/generate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ inputs: "Once upon a time", parameters: { max_new_tokens: 1000 }, stream: true }),
    signal: ac.signal,
  });
  const reader = long.body!.getReader();
  assert.match(new TextDecoder().decode((await reader.read()).value), /^data: \{"index":1/);
  // two requests while the long one decodes: a short prompt and a longer one than its cache, one streamed
  const [whole, streamed] = await Promise.all([
    post(`${base}/v1/completions`, { prompt: "Hi", max_tokens: 9, temperature: 0 }),
    post(`${base}/generate`, {
      inputs: "The quick brown fox jumps over the lazy dog, again and again",
      parameters: { max_new_tokens: 7 },
      stream: true,
    }),
  ]);
  assert.equal(whole.status, 200, JSON.stringify(whole.body));
  assert.equal(whole.body.choices[0].text, await greedy("Hi", 9));
  const events = sseEvents(streamed.body as string) as Record<string, any>[];
  const want = await greedy("The quick brown fox jumps over the lazy dog, again and again", 7);
  assert.equal(events.at(-1)!.generated_text, want);
  assert.equal(
    events
      .slice(0, -1)
      .map((e) => e.token.text)
      .join(""),
    want,
  );
  assert.equal(await metric(base, joined), 2, "both joined the running batch before the long generation ended");
  const text = await (await fetch(`${base}/metrics`)).text();
  assert.match(text, /graft_decode_batch_size_count\{model="lm"\} 2/);
  assert.match(text, /graft_decode_batch_size_bucket\{le="1",model="lm"\} 0/, "each decoded beside the long one");
  // the long generation's client goes away: its sequence leaves the batch
  ac.abort();
  const aborted = /graft_generations_total\{model="lm",reason="abort"\} (\d+)/;
  for (let i = 0; i < 50 && (await metric(base, aborted)) === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await metric(base, aborted), 1);
  const tokens = /graft_tokens_total\{model="lm",op="generate"\} (\d+)/;
  const generated = await metric(base, tokens);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await metric(base, tokens), generated, "no more tokens");
  // the batch is empty again: a new request starts a batch of its own
  const alone = await post(`${base}/generate`, { inputs: "Hi", parameters: { max_new_tokens: 9 } });
  assert.equal(alone.body.generated_text, whole.body.choices[0].text);
  assert.equal(await metric(base, joined), 2);
});

test("continuousBatching: false decodes each generation alone, with the same outputs", async () => {
  const off = await createServer({ models: { lm }, workers: 0, continuousBatching: false });
  const url = await listen(off);
  try {
    const [a, b] = await Promise.all([
      post(`${url}/generate`, { inputs: "Once upon", parameters: { max_new_tokens: 12 } }),
      post(`${url}/generate`, { inputs: "Hi", parameters: { max_new_tokens: 9 } }),
    ]);
    assert.equal(a.body.generated_text, await greedy("Once upon", 12));
    assert.equal(b.body.generated_text, await greedy("Hi", 9));
    assert.equal(await metric(url, joined), 0);
    assert.doesNotMatch(await (await fetch(`${url}/metrics`)).text(), /graft_decode_batch_size_count\{model="lm"\}/);
  } finally {
    await off.close();
  }
});
