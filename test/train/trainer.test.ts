import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Trainer, applyFreeze, gradualUnfreeze, parameterGroups, RunDir } from "../../src/train/index.js";
import { makeData, makeModel, task } from "./toy.js";

const tmp = () => mkdtempSync(join(tmpdir(), "graft-trainer-"));
const weights = (m: { parameters(): { toArray(): number[] }[] }) => m.parameters().map((p) => p.toArray());

const base = { epochs: 3, batchSize: 8, lr: 0.05, logEvery: 1, warmupRatio: 0, seed: 7 };

test("trains, logs metrics.jsonl, evaluates each epoch and keeps best/ and the newest checkpoints", async () => {
  const dir = tmp();
  try {
    const data = makeData(64, 1);
    const t = task(data);
    const model = makeModel(1);
    const trainer = new Trainer({
      model,
      args: { ...base, metricForBest: "accuracy", saveEvery: 4, saveTotalLimit: 2 },
      trainSize: 64,
      ...t,
      runDir: dir,
    });
    const before = t.evaluate(model).loss;
    const summary = await trainer.train();
    assert.equal(summary.globalStep, 24);
    assert.ok(
      summary.lastMetrics!.loss < before,
      `eval loss ${summary.lastMetrics!.loss} did not drop below ${before}`,
    );
    const records = new RunDir(dir).readMetrics();
    assert.equal(records.filter((r) => "loss" in r).length, 24);
    assert.equal(records.filter((r) => "eval_accuracy" in r).length, 3);
    assert.ok(existsSync(join(dir, "best", "model.safetensors")));
    assert.ok(existsSync(join(dir, "run.json")));
    assert.deepEqual(readdirSync(join(dir, "checkpoints")).sort(), ["step-20", "step-24"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a run stopped mid-epoch and resumed ends with weights identical to an uninterrupted run", async () => {
  const data = makeData(40, 2);
  const args = { ...base, epochs: 2, gradAccumSteps: 2, batchSize: 6, saveEvery: 100 };
  const dirA = tmp(),
    dirB = tmp();
  try {
    const a = makeModel(3);
    await new Trainer({ model: a, args, trainSize: 40, ...task(data), runDir: dirA }).train();

    const b = makeModel(3);
    const first = new Trainer({
      model: b,
      args,
      trainSize: 40,
      ...task(data),
      runDir: dirB,
      callbacks: [
        {
          onLog: (t, r) => {
            if (r.step === 3) t.requestStop();
          },
        },
      ],
    });
    const s1 = await first.train();
    assert.equal(s1.interrupted, true);
    assert.equal(s1.globalStep, 3); // 4 steps per epoch: stopped mid-epoch

    const c = makeModel(99); // different initial weights: everything must come from the checkpoint
    const s2 = await new Trainer({ model: c, args, trainSize: 40, ...task(data), runDir: dirB }).train({
      resume: true,
    });
    assert.equal(s2.globalStep, 8);
    assert.deepEqual(weights(c), weights(a));
    const steps = new RunDir(dirB)
      .readMetrics()
      .filter((r) => "loss" in r)
      .map((r) => r.step);
    assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8]);
  } finally {
    rmSync(dirA, { recursive: true, force: true });
    rmSync(dirB, { recursive: true, force: true });
  }
});

test("resume refuses a checkpoint made with a different batch size, and a run with no checkpoint", async () => {
  const dir = tmp();
  try {
    const data = makeData(16, 3);
    await new Trainer({
      model: makeModel(1),
      args: { ...base, epochs: 1 },
      trainSize: 16,
      ...task(data),
      runDir: dir,
    }).train();
    await assert.rejects(
      new Trainer({
        model: makeModel(1),
        args: { ...base, epochs: 1, batchSize: 4 },
        trainSize: 16,
        ...task(data),
        runDir: dir,
      }).train({ resume: true }),
      /batchSize was 8 and is now 4/,
    );
    const empty = tmp();
    await assert.rejects(
      new Trainer({ model: makeModel(1), args: base, trainSize: 16, ...task(data), runDir: empty }).train({
        resume: true,
      }),
      // the hint must name --overwrite: a new run into the same directory is refused without it
      (e: Error & { hint?: string }) => /no complete checkpoint/.test(e.message) && /--overwrite/.test(e.hint ?? ""),
    );
    rmSync(empty, { recursive: true, force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("frozen parameters stay bit-identical and get no optimizer state", async () => {
  const data = makeData(32, 4);
  const model = makeModel(5);
  const frozen = applyFreeze(model, { firstLayers: 1 }, ["classifier.*"]);
  assert.deepEqual(frozen, [
    "embeddings.word_embeddings.weight",
    "encoder.layer.0.dense.weight",
    "encoder.layer.0.dense.bias",
  ]);
  const before = model.namedParameters().map(([n, p]) => [n, p.toArray()] as const);
  const trainer = new Trainer({ model, args: { ...base, epochs: 1, saveEvery: "none" }, trainSize: 32, ...task(data) });
  await trainer.train();
  const after = new Map(model.namedParameters().map(([n, p]) => [n, p.toArray()]));
  for (const [name, values] of before) {
    if (frozen.includes(name)) assert.deepEqual(after.get(name), values, `${name} changed`);
    else assert.notDeepEqual(after.get(name), values, `${name} did not train`);
  }
  const stateful = Object.keys(trainer.optimizer.stateDict().meta.steps).length;
  assert.equal(stateful, model.parameters().length - frozen.length);
  // linear probing: only the head trains
  const probe = makeModel(5);
  assert.equal(applyFreeze(probe, { backbone: true }, ["classifier.*"]).length, probe.parameters().length - 2);
});

test("gradual unfreezing opens one layer group per epoch from the top", async () => {
  const data = makeData(16, 5);
  const model = makeModel(6);
  const seen: string[][] = [];
  await new Trainer({
    model,
    args: { ...base, epochs: 4, saveEvery: "none" },
    trainSize: 16,
    ...task(data),
    callbacks: [
      {
        onEpochBegin: (t, epoch) => {
          seen.push(gradualUnfreeze(t.model, epoch));
        },
      },
    ],
  }).train();
  assert.deepEqual(
    seen.map((s) => s.length),
    [2, 4, 6, 7],
  );
  assert.deepEqual(seen[0], ["classifier.weight", "classifier.bias"]);
  assert.ok(seen[1].includes("encoder.layer.1.dense.weight") && !seen[1].includes("encoder.layer.0.dense.weight"));
  assert.ok(seen[3].includes("embeddings.word_embeddings.weight"));
});

test("layer-wise learning-rate decay and no weight decay on biases", () => {
  const model = makeModel(7);
  const groups = parameterGroups(model, { lr: 1, weightDecay: 0.1, layerDecay: 0.5 });
  const byName = new Map<string, { lr: number; wd: number }>();
  const names = new Map(model.namedParameters().map(([n, p]) => [p, n]));
  for (const g of groups) for (const p of g.params) byName.set(names.get(p as never)!, { lr: g.lr, wd: g.weightDecay });
  assert.deepEqual(byName.get("classifier.weight"), { lr: 1, wd: 0.1 });
  assert.deepEqual(byName.get("classifier.bias"), { lr: 1, wd: 0 });
  assert.deepEqual(byName.get("encoder.layer.1.dense.weight"), { lr: 0.5, wd: 0.1 });
  assert.deepEqual(byName.get("encoder.layer.0.dense.bias"), { lr: 0.25, wd: 0 });
  assert.deepEqual(byName.get("embeddings.word_embeddings.weight"), { lr: 0.125, wd: 0.1 });
});

test("early stopping after `patience` evaluations without improvement", async () => {
  const data = makeData(16, 6);
  let calls = 0;
  const t = task(data);
  const summary = await new Trainer({
    model: makeModel(8),
    args: { ...base, epochs: 10, metricForBest: "accuracy", earlyStoppingPatience: 2, saveEvery: "none" },
    trainSize: 16,
    ...t,
    evaluate: () => ({ accuracy: [0.5, 0.7, 0.6, 0.7, 0.65, 0.9][calls++] ?? 0 }),
  }).train();
  assert.equal(summary.stoppedEarly, true);
  assert.equal(calls, 4);
  assert.equal(summary.best, 0.7);
});
