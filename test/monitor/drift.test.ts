/** The drift reference (from predictions.jsonl or given samples) and the drift report/status against a log. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { driftReport, driftStatus } from "../../src/monitor/drift.js";
import { SampleLog, type ServedSample } from "../../src/monitor/log.js";
import {
  buildReference,
  readDriftReference,
  REFERENCE_FILE,
  type ReferenceSample,
  samplesFromPredictions,
  writeDriftReference,
} from "../../src/monitor/reference.js";
import { Rng } from "../../src/util/rng.js";

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** A binary classifier's outputs: logit ~ N(mean, 1), with an 8-d embedding whose first axis is shifted by `embShift`. */
function predictions(rng: Rng, n: number, mean: number, embShift = 0): ReferenceSample[] {
  return Array.from({ length: n }, () => {
    const p = sigmoid(rng.normal(mean, 1));
    return {
      label: p > 0.5 ? "pos" : "neg",
      scores: { neg: 1 - p, pos: p },
      embedding: Array.from({ length: 8 }, (_, k) => rng.normal(k === 0 ? embShift : 0, 1)),
    };
  });
}

function served(samples: ReferenceSample[], model = "clf"): ServedSample[] {
  return samples.map((s, i) => ({ time: i, model, route: "/predict", input: `text ${i}`, ...s }));
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "graft-monitor-drift-"));
}

test("buildReference keeps seeded samples of scores and embeddings and the label counts", () => {
  const rng = new Rng(1);
  const samples = predictions(rng, 300, 0.5);
  const r = buildReference(samples, { maxValues: 100, maxEmbeddings: 20, seed: 3 });
  assert.equal(r.count, 300);
  assert.equal(r.scores.pos!.length, 100);
  assert.equal(r.scores.neg!.length, 100);
  assert.equal(r.embeddings!.length, 20);
  assert.equal(r.embeddings![0]!.length, 8);
  assert.equal(
    Object.values(r.labels).reduce((a, b) => a + b, 0),
    300,
  );
  assert.equal(r.labels.pos, samples.filter((s) => s.label === "pos").length);
  // same seed, same sample
  const again = buildReference(samples, { maxValues: 100, maxEmbeddings: 20, seed: 3 });
  assert.deepEqual(again.scores, r.scores);
  assert.throws(() => buildReference([]), /no predictions/);
});

test("a reference from a run's predictions.jsonl, named by the model's config.json, round-trips through the model dir", () => {
  const dir = tmp();
  try {
    const model = join(dir, "best");
    mkdirSync(model);
    writeFileSync(join(model, "config.json"), JSON.stringify({ id2label: { 0: "neg", 1: "pos" } }));
    const lines = [
      { text: "bad", label: "neg", pred: "neg", probs: [0.9, 0.1] },
      { text: "good", label: "pos", pred: "pos", probs: [0.2, 0.8] },
      { text: "meh", label: "pos", pred: "neg", probs: [0.6, 0.4] },
    ];
    const preds = join(dir, "predictions.jsonl");
    writeFileSync(preds, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const { path, reference } = writeDriftReference(model, { predictions: preds });
    assert.equal(path, join(model, REFERENCE_FILE));
    assert.deepEqual(reference.scores, { neg: [0.9, 0.2, 0.6], pos: [0.1, 0.8, 0.4] });
    assert.deepEqual(reference.labels, { neg: 2, pos: 1 });
    assert.equal(reference.embeddings, null);
    assert.deepEqual(readDriftReference(model), reference);
    // regression predictions: a "value" score
    const reg = join(dir, "reg.jsonl");
    writeFileSync(reg, '{"text":"a","label":1.5,"pred":1.25}\n{"text":"b","label":2,"pred":2.5}\n');
    assert.deepEqual(samplesFromPredictions(reg), [{ scores: { value: 1.25 } }, { scores: { value: 2.5 } }]);
    // errors name the file, line and field
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"pred":"pos","probs":[0.5,0.5]}\n{"pred":"pos","probs":[0.2,0.3,0.5]}\n');
    assert.throws(
      () => samplesFromPredictions(bad, ["neg", "pos"]),
      /bad\.jsonl, line 2, field "probs": probs has 3 values/,
    );
    writeFileSync(bad, '{"tokens":["a"],"labels":["O"],"preds":["O"]}\n');
    assert.throws(() => samplesFromPredictions(bad), /line 1: token-level \(NER\) predictions/);
    // a damaged reference is refused
    writeFileSync(join(model, REFERENCE_FILE), '{"format":"something else"}');
    assert.throws(() => readDriftReference(model), /not a graft drift reference/);
    assert.throws(() => readDriftReference(join(dir, "nowhere")), /does not exist.*no drift reference/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("no drift on served predictions from the reference's distribution: status ok", () => {
  const rng = new Rng(5);
  const reference = buildReference(predictions(rng, 500, 0.5));
  const r = driftReport(reference, served(predictions(rng, 300, 0.5)));
  assert.equal(r.status, "ok", r.reasons.join("; "));
  assert.equal(r.samples, 300);
  assert.deepEqual(
    r.features.map((f) => [f.feature, f.test]),
    [
      ["score:neg", "ks"],
      ["score:pos", "ks"],
      ["label", "z"],
    ],
  );
  assert.equal(r.features.filter((f) => f.drift).length, 0);
  assert.ok(r.embeddings && !r.embeddings.drift);
  assert.ok(r.features.every((f) => f.kind === "cat" || (f.psi !== null && f.psi < 0.1)));
  JSON.parse(JSON.stringify(r)); // serializable for GET /drift
});

test("shifted scores make the status degraded, naming what drifted", () => {
  const rng = new Rng(6);
  const reference = buildReference(predictions(rng, 500, 0.5));
  const r = driftReport(reference, served(predictions(rng, 300, -0.5)), { mmd: false });
  assert.equal(r.status, "degraded");
  assert.deepEqual(
    r.features.filter((f) => f.drift).map((f) => f.feature),
    ["score:neg", "score:pos", "label"],
  );
  assert.match(r.reasons[0]!, /3 of 3 scores\/labels drifted/);
  assert.equal(r.embeddings, null);
  // a stricter share and thresholds are options
  const lax = driftReport(reference, served(predictions(rng, 300, -0.5)), {
    mmd: false,
    thresholds: { ks: 1e-300, z: 1e-300 },
  });
  assert.equal(lax.status, "ok");
});

test("shifted input embeddings alone make the status degraded (MMD); too few samples are not judged", () => {
  const rng = new Rng(8);
  const reference = buildReference(predictions(rng, 400, 0.5));
  const r = driftReport(reference, served(predictions(rng, 150, 0.5, 1.5)));
  assert.equal(r.features.filter((f) => f.drift).length, 0);
  assert.equal(r.status, "degraded");
  assert.ok(r.embeddings?.drift);
  assert.match(r.reasons.join("\n"), /input embeddings drifted/);
  const few = driftReport(reference, served(predictions(rng, 10, -3, 5)));
  assert.equal(few.status, "ok");
  assert.match(few.reasons[0]!, /10 served samples, fewer than the 30/);
});

test("driftStatus reads the newest window of a SampleLog, one model's samples", async () => {
  const dir = tmp();
  try {
    const rng = new Rng(9);
    const reference = buildReference(predictions(rng, 500, 0.5));
    const log = await SampleLog.open(join(dir, "s.sqlite"), { sampleRate: 1, flushIntervalMs: 0 });
    // old, shifted traffic, then fresh traffic like the reference; another model's traffic is shifted too
    for (const s of served(predictions(rng, 400, -1))) log.add(s);
    for (const s of served(predictions(rng, 200, 0.5))) log.add(s);
    for (const s of served(predictions(rng, 200, -1), "other")) log.add(s);
    assert.equal(driftStatus(reference, log, { model: "clf", window: 200 }).status, "ok");
    assert.equal(driftStatus(reference, log, { model: "clf", window: 600 }).status, "degraded");
    assert.equal(driftStatus(reference, log.samples(), { model: "other" }).status, "degraded");
    log.close();
    assert.ok(readFileSync(join(dir, "s.sqlite")).length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
