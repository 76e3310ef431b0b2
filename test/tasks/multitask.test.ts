/**
 * Multi-task heads on one shared encoder: the task samplers' proportions, a two-task run that trains both heads
 * through one encoder, the saved directory loading per task with the same predictions, and clear errors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  evaluateFile,
  loadMultitaskTask,
  loadPredictor,
  multitaskFinetune,
  taskProbabilities,
  taskSchedule,
  type ClassPrediction,
  type EntitiesPrediction,
} from "../../src/tasks/index.js";
import { AutoModelForSequenceClassification } from "../../src/models/index.js";
import { makeTinyBert, nerConll, sentimentCsv } from "./fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-multitask-"));
const bert = makeTinyBert(join(work, "bert"));
test.after(() => rmSync(work, { recursive: true, force: true }));

test("task probabilities: round-robin uniform, proportional to size, temperature n^(1/T)", () => {
  const sizes = [100, 400, 900];
  assert.deepEqual(taskProbabilities(sizes, "round-robin"), [1 / 3, 1 / 3, 1 / 3]);
  const p = taskProbabilities(sizes, "proportional");
  [100 / 1400, 400 / 1400, 900 / 1400].forEach((x, i) => assert.ok(Math.abs(p[i]! - x) < 1e-12));
  const t = taskProbabilities(sizes, "temperature", 2); // √n: 10, 20, 30
  [1 / 6, 2 / 6, 3 / 6].forEach((x, i) => assert.ok(Math.abs(t[i]! - x) < 1e-12));
  // T = 1 is proportional; a large T tends to uniform
  assert.deepEqual(taskProbabilities(sizes, "temperature", 1), p);
  const flat = taskProbabilities(sizes, "temperature", 1000);
  assert.ok(flat.every((x) => Math.abs(x - 1 / 3) < 0.01));
  assert.throws(() => taskProbabilities([10, 0], "proportional"), /training examples/);
});

test("task schedule: round-robin cycles; drawn schedules follow the probabilities and the seed", () => {
  assert.deepEqual([...taskSchedule([5, 50], 5, { sampling: "round-robin" })], [0, 1, 0, 1, 0]);
  const sizes = [100, 400, 900];
  const steps = 20000;
  for (const [sampling, temperature] of [
    ["proportional", 1],
    ["temperature", 2],
  ] as const) {
    const s = taskSchedule(sizes, steps, { sampling, temperature, seed: 3 });
    const p = taskProbabilities(sizes, sampling, temperature);
    const counts = [0, 0, 0];
    for (const i of s) counts[i]!++;
    counts.forEach((c, i) =>
      assert.ok(Math.abs(c / steps - p[i]!) < 0.015, `${sampling} task ${i}: ${c / steps} vs ${p[i]}`),
    );
    assert.deepEqual(s, taskSchedule(sizes, steps, { sampling, temperature, seed: 3 }));
  }
});

test("two tasks on one encoder: both heads train, the directory loads per task with the same predictions", async () => {
  sentimentCsv(join(work, "sent.csv"), 160, 1);
  sentimentCsv(join(work, "sent-test.csv"), 40, 2);
  nerConll(join(work, "ner.txt"), 120, 3);
  const out = join(work, "mt");
  const r = await multitaskFinetune({
    model: bert,
    output: out,
    steps: 200,
    sampling: "round-robin",
    batchSize: 16,
    lr: 3e-3,
    seed: 5,
    logEvery: 0,
    tasks: [
      { name: "sentiment", task: "classification", data: join(work, "sent.csv"), test: join(work, "sent-test.csv") },
      { name: "people", task: "ner", data: join(work, "ner.txt"), weight: 2 },
    ],
  });
  assert.deepEqual(
    r.tasks.map((t) => [t.name, t.task, t.steps]),
    [
      ["sentiment", "classification", 100],
      ["people", "ner", 100],
    ],
  );
  const [sent, ner] = r.tasks;
  assert.ok(sent!.test.accuracy! >= 0.9, `sentiment accuracy ${sent!.test.accuracy}`);
  assert.ok(ner!.validation.f1! >= 0.9, `ner f1 ${ner!.validation.f1}`);
  for (const f of [
    "config.json",
    "model.safetensors",
    "multitask.json",
    "heads/sentiment.safetensors",
    "heads/people.safetensors",
  ])
    assert.ok(existsSync(join(out, f)), f);

  // per task: graft eval's metrics equal the run's, and a reloaded Predictor predicts the same
  const evaluated = await evaluateFile(out, join(work, "sent-test.csv"), { task: "sentiment" });
  assert.ok(Math.abs(evaluated.metrics.accuracy! - sent!.test.accuracy!) < 1e-9);
  const texts = ["the movie was great", "a dull plot", "really awful film"];
  const a = (await loadPredictor(out, { task: "sentiment" }).predict(texts)) as ClassPrediction[];
  const b = (await loadPredictor(out, { task: "sentiment" }).predict(texts)) as ClassPrediction[];
  assert.deepEqual(a, b);
  assert.deepEqual(
    a.map((p) => p.label),
    ["pos", "neg", "neg"],
  );
  const ents = (await loadPredictor(out, { task: "people" }).predict(["bob visited rome ."])) as EntitiesPrediction[];
  assert.deepEqual(
    ents[0]!.entities.map((e) => [e.type, e.text]),
    [
      ["PER", "bob"],
      ["LOC", "rome"],
    ],
  );
  // both task models read the same encoder weights from the one file
  const s = loadMultitaskTask(out, "sentiment").model.stateDict();
  const n = loadMultitaskTask(out, "people").model.stateDict();
  const key = "bert.encoder.layer.0.attention.self.query.weight";
  assert.deepEqual(s.get(key)!.toArray(), n.get(key)!.toArray());

  // a missing or unknown task name is a clear error naming the tasks
  assert.throws(() => loadPredictor(out), /multi-task model: say which task[\s\S]*sentiment, people/);
  assert.throws(() => loadPredictor(out, { task: "topic" }), /has no task "topic"[\s\S]*sentiment, people/);
  await assert.rejects(evaluateFile(out, join(work, "sent-test.csv"), { task: "nope" }), /has no task "nope"/);
  assert.throws(() => loadPredictor(bert, { task: "sentiment" }), /not a multi-task model/);
});

test("multitask from a classifier tuned on another number of labels: each task's head starts fresh", async () => {
  // a 3-class sentence classifier over the tiny BERT; the tasks have 2 classes and 5 entity tags
  const clf = join(work, "clf3");
  cpSync(bert, clf, { recursive: true });
  AutoModelForSequenceClassification.fromPretrainedDir(bert, {
    labels: ["a", "b", "c"],
    problemType: "single_label_classification",
  }).savePretrained(clf);
  sentimentCsv(join(work, "sent-small.csv"), 32, 4);
  nerConll(join(work, "ner-small.txt"), 32, 5);
  const lines: string[] = [];
  const r = await multitaskFinetune(
    {
      model: clf,
      output: join(work, "mt-clf"),
      steps: 4,
      sampling: "round-robin",
      batchSize: 8,
      seed: 5,
      logEvery: 0,
      tasks: [
        { name: "sentiment", task: "classification", data: join(work, "sent-small.csv") },
        { name: "people", task: "ner", data: join(work, "ner-small.txt") },
      ],
    },
    { log: (l) => lines.push(l) },
  );
  assert.deepEqual(
    r.tasks.map((t) => [t.name, t.steps]),
    [
      ["sentiment", 2],
      ["people", 2],
    ],
  );
  for (const name of ["sentiment", "people"])
    assert.ok(
      lines.some(
        (l) =>
          l.startsWith(`task ${name}: `) &&
          /head \(.*classifier\.weight.*\) has other labels and was re-initialized/.test(l),
      ),
      `${name}'s head re-initialized:\n${lines.join("\n")}`,
    );
  assert.equal(loadMultitaskTask(join(work, "mt-clf"), "sentiment").info.labels.length, 2);
});

test("multitask config errors name the task", async () => {
  const base = { model: bert, output: join(work, "bad"), steps: 2 };
  await assert.rejects(multitaskFinetune({ ...base, tasks: [] }), /non-empty list/);
  await assert.rejects(
    multitaskFinetune({
      ...base,
      tasks: [
        { name: "a", data: join(work, "sent.csv") },
        { name: "a", data: join(work, "sent.csv") },
      ],
    }),
    /tasks\[1\]\.name "a" appears twice/,
  );
  await assert.rejects(
    multitaskFinetune({ ...base, tasks: [{ name: "a", data: join(work, "sent.csv"), training: { lr: 1 } } as never] }),
    /tasks\[0\]\.training is a setting of the whole run/,
  );
});
