/**
 * POST /recommend against a real server on 127.0.0.1 serving a saved two-tower recommender beside an encoder:
 * answers by user id and by history that agree with the RecommendPredictor, seen items excluded unless asked,
 * bodies validated with 400s naming the field, 404 for an unknown user, the route in /openapi.json, and the
 * recommender listed by /health and /v1/models with its kind.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "../../src/serve/index.js";
import { RecommendPredictor, trainRecommender } from "../../src/recommend/index.js";
import { Rng } from "../../src/util/rng.js";
import { plantedInteractions } from "../recommend/fixtures.js";
import { listen, makeEncoder, post } from "./fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-serve-rec-"));
const encoder = makeEncoder(join(work, "encoder"));
// 8 users × 10 items, 4 items each
const data = plantedInteractions(new Rng(4), { groups: 1, users: 8, items: 10, perUser: 4 });
const texts = [
  "good film",
  "bad film",
  "the plot",
  "alice in paris",
  "bob in rome",
  "dull story",
  "great actors",
  "oslo",
  "carol",
  "dave",
];
const recDir = join(work, "rec");
await trainRecommender(
  { data, texts, userFeatures: null },
  { model: "two-tower", threshold: 4, output: recDir, encoder, settings: { dim: 4, epochs: 2, batchSize: 8, seed: 1 } },
);
// the recommender first: the encoder behind it still answers requests that name no model
const app = await createServer({ models: { movies: recDir, encoder }, workers: 0 });
const base = await listen(app);
test.after(async () => {
  await app.close();
  rmSync(work, { recursive: true, force: true });
});

test("/recommend: a user's top k as the Predictor says, seen items left out unless asked", async () => {
  const p = RecommendPredictor.load(recDir);
  const r = await post(`${base}/recommend`, { user: "u3", k: 4 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.model, "movies");
  assert.deepEqual(
    r.body.items.map((x: { item: string }) => x.item),
    p.recommend("u3", 4).map((x) => x.item),
  );
  const seen = new Set(p.history("u3"));
  assert.ok(r.body.items.every((x: { item: string; text: string }) => !seen.has(x.item) && typeof x.text === "string"));
  const all = await post(`${base}/recommend`, { user: "u3", k: 10, exclude_seen: false, model: "movies" });
  assert.equal(all.body.items.length, 10);
  // a new user given by a history: ranked by the user tower, the history left out
  const h = await post(`${base}/recommend`, { history: ["i1", "i2"], k: 3 });
  assert.equal(h.status, 200, JSON.stringify(h.body));
  assert.deepEqual(
    h.body.items.map((x: { item: string }) => x.item),
    p.request({ history: ["i1", "i2"], k: 3 }).map((x) => x.item),
  );
  assert.ok(h.body.items.every((x: { item: string }) => x.item !== "i1" && x.item !== "i2"));
  // the encoder beside it still answers its own routes
  assert.equal((await post(`${base}/embed`, { inputs: "good film" })).status, 200);
});

test("/health and /v1/models list the recommender with its kind beside the other models", async () => {
  const health = (await (await fetch(`${base}/health`)).json()) as { status: string; models: unknown[] };
  assert.equal(health.status, "ok");
  assert.deepEqual(health.models[0], {
    name: "movies",
    kind: "two-tower",
    task: "recommendation",
    labels: [],
    max_input_tokens: null,
    embed: false,
    generate: false,
  });
  assert.deepEqual(
    health.models.map((m) => (m as { name: string }).name),
    ["movies", "encoder"],
  );
  assert.equal((health.models[1] as { embed: boolean }).embed, true);
  const list = (await (await fetch(`${base}/v1/models`)).json()) as { data: { id: string; object: string }[] };
  assert.deepEqual(
    list.data.map((m) => [m.id, m.object]),
    [
      ["movies", "model"],
      ["encoder", "model"],
    ],
  );
});

test("/recommend: bad bodies are 400s naming the field, an unknown user 404; the route is documented", async () => {
  const k = await post(`${base}/recommend`, { user: "u1", k: "ten" });
  assert.equal(k.status, 400);
  assert.match(k.body.error, /body\.k must be an integer/);
  const none = await post(`${base}/recommend`, { k: 3 });
  assert.equal(none.status, 400);
  assert.match(none.body.error, /body\.user or body\.history is required/);
  const item = await post(`${base}/recommend`, { history: ["i1", "zzz"] });
  assert.equal(item.status, 400);
  assert.match(item.body.error, /body\.history\[1\]: unknown item "zzz"/);
  const user = await post(`${base}/recommend`, { user: "nobody" });
  assert.equal(user.status, 404);
  assert.match(user.body.error, /unknown user "nobody"/);
  const model = await post(`${base}/recommend`, { user: "u1", model: "encoder" });
  assert.equal(model.status, 400);
  assert.match(model.body.error, /body\.model: no recommender "encoder"/);
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
    paths: Record<string, { post?: { requestBody?: unknown } }>;
  };
  assert.ok(doc.paths["/recommend"]?.post?.requestBody);
});
