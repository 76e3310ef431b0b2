/**
 * The server with drift monitoring (createServer's `drift`, as `graft serve --sample-log` wires it): served requests
 * land in the sample log with the model's name, GET /drift reports each model against its reference, and /health
 * says "degraded" (still 200) while a report is.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "../../src/serve/index.js";
import { SampleLog, buildReference, driftStatus } from "../../src/monitor/index.js";
import { listen, makeClassifier, makeEncoder, post } from "./fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-serve-drift-"));
test.after(() => rmSync(work, { recursive: true, force: true }));

test("GET /drift and /health: served samples against the reference; degraded when the scores moved", async () => {
  const encoder = makeEncoder(join(work, "encoder"));
  const classifier = makeClassifier(join(work, "classifier"), encoder);
  const texts = Array.from({ length: 40 }, (_, i) => `a good film number ${i % 7} was fine`);
  // a reference far from what the model now says: its "pos" score was near 0 and its label always "neg"
  const shifted = buildReference(
    Array.from({ length: 200 }, (_, i) => ({
      label: "neg",
      scores: { neg: 0.99 - (i % 10) / 1000, pos: 0.01 + (i % 10) / 1000 },
    })),
  );
  const log = await SampleLog.open(join(work, "samples.sqlite"), { sampleRate: 1, flushIntervalMs: 0 });
  const references: Record<string, typeof shifted> = { moved: shifted };
  const app = await createServer({
    models: { moved: classifier, steady: classifier, plain: classifier },
    workers: 0,
    sampleRate: 1,
    onServed: log.hook(),
    drift: {
      status: (name) => (references[name] ? driftStatus(references[name], log, { model: name }) : null),
      refreshMs: 0,
    },
  });
  const base = await listen(app);
  try {
    const before = (await fetch(`${base}/health`).then((r) => r.json())) as { status: string };
    assert.equal(before.status, "ok"); // fewer samples than a test needs: nothing is judged
    for (const model of ["moved", "steady"]) {
      const r = await post(`${base}/predict`, { inputs: texts, model });
      assert.equal(r.status, 200);
    }
    assert.equal(log.samples({ model: "moved" }).length, texts.length);
    assert.equal(log.samples({ model: "steady" }).length, texts.length);
    assert.equal(log.samples({ model: "plain" }).length, 0);
    // a reference that matches what was served: the served samples themselves
    references.steady = buildReference(log.samples({ model: "steady" }));

    const drift = (await fetch(`${base}/drift`).then((r) => r.json())) as {
      models: Record<string, { status: string; reasons: string[] } | null>;
    };
    assert.equal(drift.models.moved?.status, "degraded", JSON.stringify(drift.models.moved));
    assert.equal(drift.models.steady?.status, "ok", JSON.stringify(drift.models.steady));
    assert.equal(drift.models.plain, null);
    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
    const body = (await health.json()) as { status: string; drift_degraded?: string[] };
    assert.equal(body.status, "degraded");
    assert.deepEqual(body.drift_degraded, ["moved"]);
  } finally {
    await app.close();
    log.close();
  }
});

test("without drift monitoring there is no /drift route", async () => {
  const encoder = makeEncoder(join(work, "encoder2"));
  const app = await createServer({ models: { e: encoder }, workers: 0 });
  const base = await listen(app);
  try {
    assert.equal((await fetch(`${base}/drift`)).status, 404);
  } finally {
    await app.close();
  }
});
