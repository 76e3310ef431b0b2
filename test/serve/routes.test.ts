/**
 * graft serve's routes against a real server on 127.0.0.1: the shapes of /predict, /embed, /rerank, /v1/embeddings,
 * /v1/models, /health, /metrics and /openapi.json; bodies validated with 400s that name the field; the limits
 * (413 for bodies, input counts and tokens; 401 without the key); answers that agree with the library's Predictor.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "../../src/serve/index.js";
import { loadPredictor } from "../../src/tasks/index.js";
import type { ClassPrediction } from "../../src/tasks/index.js";
import { listen, makeClassifier, makeEncoder, post } from "./fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-serve-"));
const encoder = makeEncoder(join(work, "encoder"));
const classifier = makeClassifier(join(work, "classifier"), encoder);

const app = await createServer({
  models: { sentiment: classifier, encoder },
  workers: 1,
  maxInputs: 4,
  maxInputTokens: 12,
  bodyLimit: 4096,
});
const base = await listen(app);
test.after(async () => {
  await app.close();
  rmSync(work, { recursive: true, force: true });
});

test("/predict: TEI's labels with scores, highest first, for a text, a pair and a batch; as the Predictor says", async () => {
  const predictor = loadPredictor(classifier);
  const [expected] = (await predictor.predict(["a good film"])) as ClassPrediction[];
  const one = await post(`${base}/predict`, { inputs: "a good film" });
  assert.equal(one.status, 200, JSON.stringify(one.body));
  assert.deepEqual(one.body.map((x: { label: string }) => x.label).sort(), ["neg", "pos"]);
  assert.ok(one.body[0].score >= one.body[1].score);
  assert.ok(Math.abs(one.body.find((x: { label: string }) => x.label === "pos").score - expected.scores.pos) < 1e-5);
  // two strings are one pair (TEI); an array of arrays is a batch
  const pair = await post(`${base}/predict`, { inputs: ["a good film", "the plot"] });
  assert.equal(pair.status, 200);
  assert.equal(pair.body.length, 2);
  assert.equal(typeof pair.body[0].label, "string");
  const [pairExpected] = (await predictor.predict([
    { text: "a good film", textPair: "the plot" },
  ])) as ClassPrediction[];
  assert.ok(
    Math.abs(pair.body.find((x: { label: string }) => x.label === "pos").score - pairExpected.scores.pos) < 1e-5,
  );
  const batch = await post(`${base}/predict`, {
    inputs: [["a good film"], ["awful", "plot"], "dull"],
    model: "sentiment",
  });
  assert.equal(batch.status, 200);
  assert.equal(batch.body.length, 3);
  for (const row of batch.body) assert.equal(row.length, 2);
});

test("/embed and /v1/embeddings: unit vectors (mean pooling by default), OpenAI's fields, base64 as float32", async () => {
  const r = await post(`${base}/embed`, { inputs: ["a good film", "dull"], model: "encoder" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.length, 2);
  assert.equal(r.body[0].length, 16);
  assert.ok(Math.abs(Math.hypot(...r.body[0]) - 1) < 1e-5);
  const direct = await loadPredictor(encoder).embed!(["a good film"]);
  r.body[0].forEach((x: number, i: number) => assert.ok(Math.abs(x - direct[0][i]) < 1e-5));
  const raw = await post(`${base}/embed`, {
    inputs: "a good film",
    model: "encoder",
    normalize: false,
    pooling: "cls",
  });
  assert.equal(raw.status, 200);
  assert.ok(Math.abs(Math.hypot(...raw.body[0]) - 1) > 1e-3, "cls pooling without normalization");
  // a classifier embeds too (its encoder's last layer)
  assert.equal((await post(`${base}/embed`, { inputs: "a good film" })).status, 200);

  const oa = await post(`${base}/v1/embeddings`, { input: ["a good film", "dull"], model: "encoder" });
  assert.equal(oa.status, 200);
  assert.equal(oa.body.object, "list");
  assert.equal(oa.body.model, "encoder");
  assert.deepEqual(
    oa.body.data.map((d: { object: string; index: number }) => [d.object, d.index]),
    [
      ["embedding", 0],
      ["embedding", 1],
    ],
  );
  assert.ok(oa.body.usage.prompt_tokens > 0 && oa.body.usage.total_tokens === oa.body.usage.prompt_tokens);
  const b64 = await post(`${base}/v1/embeddings`, {
    input: "a good film",
    model: "encoder",
    encoding_format: "base64",
  });
  const bytes = Buffer.from(b64.body.data[0].embedding, "base64");
  const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  floats.forEach((x, i) => assert.ok(Math.abs(x - oa.body.data[0].embedding[i]) < 1e-6));
});

test("/rerank: a classifier scores (query, text) pairs; an encoder ranks by cosine; highest first", async () => {
  const texts = ["a good film", "awful plot", "the actors"];
  const cross = await post(`${base}/rerank`, { query: "good", texts, return_text: true });
  assert.equal(cross.status, 200, JSON.stringify(cross.body));
  assert.deepEqual(cross.body.map((x: { index: number }) => x.index).sort(), [0, 1, 2]);
  for (let i = 1; i < 3; i++) assert.ok(cross.body[i - 1].score >= cross.body[i].score);
  assert.equal(cross.body[0].text, texts[cross.body[0].index]);
  const pairs = (await loadPredictor(classifier).predict(
    texts.map((t) => ({ text: "good", textPair: t })),
  )) as ClassPrediction[];
  for (const x of cross.body) assert.ok(Math.abs(x.score - pairs[x.index].scores.pos) < 1e-5);
  const cos = await post(`${base}/rerank`, { query: "a good film", texts, model: "encoder" });
  assert.equal(cos.status, 200);
  assert.equal(cos.body[0].index, 0, "the text equal to the query ranks first");
  assert.ok(Math.abs(cos.body[0].score - 1) < 1e-5);
  assert.equal(cos.body[0].text, undefined);
});

test("/v1/models, /health, /metrics and /openapi.json", async () => {
  const models = (await (await fetch(`${base}/v1/models`)).json()) as {
    object: string;
    data: { id: string; object: string }[];
  };
  assert.equal(models.object, "list");
  assert.deepEqual(
    models.data.map((m) => [m.id, m.object]),
    [
      ["sentiment", "model"],
      ["encoder", "model"],
    ],
  );
  const health = (await (await fetch(`${base}/health`)).json()) as {
    status: string;
    models: Record<string, unknown>[];
  };
  assert.equal(health.status, "ok");
  assert.deepEqual(health.models[0], {
    name: "sentiment",
    kind: "BertForSequenceClassification",
    task: "classification",
    labels: ["neg", "pos"],
    max_input_tokens: 12,
    embed: true,
    generate: false,
  });
  assert.equal(health.models[1].task, null);
  await post(`${base}/predict`, { inputs: "good" });
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /graft_requests_total\{route="\/predict",status="200"\} \d+/);
  assert.match(metrics, /graft_request_duration_seconds_bucket\{le="[\d.]+",route="\/predict",status="200"\}/);
  assert.match(metrics, /graft_batch_size_count\{model="sentiment",op="predict"\} \d+/);
  assert.match(metrics, /graft_queue_depth 0/);
  assert.match(metrics, /graft_tokens_total\{model="sentiment",op="predict"\} \d+/);
  assert.match(metrics, /graft_tokens_per_second [\d.]+/);
  const api = (await (await fetch(`${base}/openapi.json`)).json()) as { openapi: string; paths: Record<string, any> };
  assert.equal(api.openapi, "3.1.0");
  for (const p of ["/predict", "/embed", "/rerank", "/v1/embeddings", "/v1/models", "/health", "/metrics"])
    assert.ok(api.paths[p], `${p} is documented`);
  assert.deepEqual(api.paths["/predict"].post.requestBody.content["application/json"].schema.required, ["inputs"]);
});

test("validation: 400 with a message naming the field", async () => {
  const cases: [string, unknown, RegExp][] = [
    ["/predict", {}, /body\.inputs is required/],
    ["/predict", { inputs: 3 }, /body\.inputs must be a string or an array/],
    ["/predict", { inputs: [["a", "b", "c"]] }, /body\.inputs\[0\] must NOT have more than 2 items/],
    ["/predict", { inputs: "good", truncate: "yes" }, /body\.truncate must be a boolean/],
    ["/predict", { inputs: "good", model: "nope" }, /body\.model: no model "nope" is served/],
    ["/embed", { inputs: ["good", 1] }, /body\.inputs\[1\] must be a string/],
    ["/embed", { inputs: "good", pooling: "max" }, /body\.pooling must be one of "cls", "mean"/],
    ["/rerank", { query: "good" }, /body\.texts is required/],
    ["/v1/embeddings", { input: [] }, /body\.input must NOT have fewer than 1 items/],
    ["/predict", { inputs: "good", model: "encoder" }, /has no task head/],
    ["/predict", "{not json", /JSON/],
  ];
  for (const [route, body, message] of cases) {
    const r = await post(`${base}${route}`, body);
    assert.equal(r.status, 400, `${route} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    const text = route.startsWith("/v1/") ? r.body.error.message : r.body.error;
    assert.match(text, message);
  }
});

test("limits: 413 for a body over the limit, too many inputs, or an input over the token limit unless truncated", async () => {
  const big = await post(`${base}/predict`, { inputs: "good ".repeat(2000) });
  assert.equal(big.status, 413);
  assert.match(big.body.error, /over the server's limit of 4096 bytes/);
  const many = await post(`${base}/predict`, { inputs: ["a", "b", "c", "d", "e"] });
  assert.equal(many.status, 413);
  assert.match(many.body.error, /5 inputs; this server takes at most 4 per request \(--max-inputs\)/);
  const long = "good film ".repeat(10);
  const tooLong = await post(`${base}/predict`, { inputs: ["fine", long, "dull"] });
  assert.equal(tooLong.status, 413);
  assert.match(tooLong.body.error, /body\.inputs\[1\] has 22 tokens; model "sentiment" takes at most 12/);
  const cut = await post(`${base}/predict`, { inputs: ["fine", long, "dull"], truncate: true });
  assert.equal(cut.status, 200);
  // truncated to 12 tokens: the same as the first 10 words ([CLS] + 10 + [SEP])
  const short = await post(`${base}/predict`, { inputs: "good film ".repeat(5) });
  assert.deepEqual(cut.body[1], short.body);
});
