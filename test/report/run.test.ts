import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parsePredictions, readPredictions, writePredictions } from "../../src/report/predictions.js";
import { classNamesFromConfig, parseMetrics, readRun } from "../../src/report/run.js";
import { parseLeaderboard, parseTrialsJsonl } from "../../src/report/study.js";
import { bestSoFar, rankTrials } from "../../src/report/study-view.js";
import { estimateTrainSeconds, flatten } from "../../src/report/sections.js";
import { FormatError } from "../../src/util/errors.js";
import { CLASSES, makeClassificationRun, makeStudy, tmpDir } from "./fixture.js";

test("metrics.jsonl splits into training and evaluation records; torn last lines and resumed duplicates are handled", () => {
  const text =
    [
      { step: 1, epoch: 0.1, loss: 2, lr: 1e-5, examples_per_s: 100 },
      { step: 2, epoch: 0.2, loss: 1.5, lr: 2e-5, grad_norm: 3, examples_per_s: 110 },
      { step: 2, epoch: 0.2, eval_loss: 1.4, eval_accuracy: 0.6 },
      { step: 2, epoch: 0.2, loss: 1.6, lr: 2e-5, examples_per_s: 90 }, // logged again after a resume: this one wins
      { epoch: 1 },
    ]
      .map((r) => JSON.stringify(r))
      .join("\n") + '\n{"step": 3, "lo';
  const notes: string[] = [];
  const { train, evals } = parseMetrics(text, notes);
  assert.deepEqual(
    train.map((r) => [r.step, r.loss, r.gradNorm]),
    [
      [1, 2, null],
      [2, 1.6, null],
    ],
  );
  assert.deepEqual(evals, [{ step: 2, epoch: 0.2, metrics: { loss: 1.4, accuracy: 0.6 } }]);
  assert.equal(notes.length, 1);
  assert.match(notes[0]!, /line 5: a record needs a numeric "step"/);
});

test("readRun reads the fixture run and names what is missing", () => {
  const dir = tmpDir();
  try {
    const made = makeClassificationRun(join(dir, "run"));
    const run = readRun(join(dir, "run"));
    assert.equal(run.train.length, 50);
    assert.deepEqual(
      run.evals.map((e) => e.step),
      [10, 20, 30, 40, 50],
    );
    assert.equal(run.evals[2]!.metrics.accuracy, made.evals[2]!.eval_accuracy);
    assert.equal(run.best?.metric, "accuracy");
    assert.equal(run.predictions?.task, "classification");
    assert.deepEqual(run.missing, []);

    makeClassificationRun(join(dir, "bare"), { predictions: false });
    rmSync(join(dir, "bare", "run.json"));
    const bare = readRun(join(dir, "bare"));
    assert.equal(bare.config, null);
    assert.equal(bare.missing.length, 2);
    assert.match(bare.missing.join("\n"), /run\.json/);
    assert.match(bare.missing.join("\n"), /eval_predictions\.jsonl.*confusion matrix/);

    mkdirSync(join(dir, "empty"));
    assert.throws(
      () => readRun(join(dir, "empty")),
      (e: unknown) => e instanceof FormatError && /not a graft run or study directory/.test(e.message),
    );
    assert.throws(() => readRun(join(dir, "nope")), /no such directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("class names come from the predictions header, else run.json, else the labels seen", () => {
  const rows = ['{"label": 1, "probs": [0.2, 0.7, 0.1]}', '{"label": 0, "pred": 2}'].join("\n");
  const fromRun = parsePredictions(rows, "p", ["a", "b", "c"]).value!;
  assert.equal(fromRun.task, "classification");
  if (fromRun.task !== "classification") return;
  assert.deepEqual(fromRun.classes, ["a", "b", "c"]);
  assert.deepEqual(fromRun.preds, [1, 2], "a missing pred is the argmax of probs");
  assert.equal(fromRun.probs, null, "probabilities on only some examples are not used");

  const named = parsePredictions(
    ['{"label": "spam", "pred": "ham"}', '{"label": "ham", "pred": "ham"}'].join("\n"),
    "p",
  ).value!;
  assert.ok(named.task === "classification");
  if (named.task === "classification") {
    assert.deepEqual(named.classes, ["ham", "spam"]);
    assert.deepEqual(named.labels, [1, 0]);
  }
  assert.deepEqual(classNamesFromConfig({ id2label: { "0": "neg", "1": "pos" } }), ["neg", "pos"]);
  assert.equal(classNamesFromConfig({ id2label: { "0": "neg", "2": "pos" } }), undefined);
});

test("bad prediction lines are skipped with a note naming the line; float32 rounding of probabilities is forgiven", () => {
  const text = [
    JSON.stringify({ meta: { task: "classification", classes: ["x", "y"] } }),
    '{"label": 0, "probs": [0.9, 0.1000001]}',
    '{"label": 5, "pred": 0}',
    '{"label": 1, "probs": [0.5]}',
    "not json",
    '{"label": 1, "probs": [0.3, 0.7]}',
  ].join("\n");
  const r = parsePredictions(text, "eval_predictions.jsonl");
  assert.equal(r.notes.length, 3);
  const all = r.notes.join("\n");
  assert.match(all, /line 3: label 5 is not one of the 2 classes/);
  assert.match(all, /line 4: probs must be 2 probabilities/);
  assert.match(all, /line 5: not valid JSON/);
  const v = r.value!;
  assert.ok(v.task === "classification");
  if (v.task === "classification") {
    assert.deepEqual(v.labels, [0, 1]);
    assert.ok(Math.abs(v.probs![0]![0]! + v.probs![0]![1]! - 1) < 1e-15);
  }
});

test("writePredictions writes a file readPredictions reads back", () => {
  const dir = tmpDir();
  try {
    writePredictions(dir, { task: "ner", split: "test" }, [
      { tokens: ["a", "b"], labels: ["B-X", "O"], preds: ["B-X", "B-Y"] },
    ]);
    const r = readPredictions(dir).value!;
    assert.equal(r.task, "ner");
    if (r.task === "ner")
      assert.deepEqual(r.sentences, [{ tokens: ["a", "b"], labels: ["B-X", "O"], preds: ["B-X", "B-Y"] }]);
    assert.equal(r.meta.split, "test");
    assert.throws(() => writePredictions(dir, {}, [{ labels: ["O"], preds: [] }]), /1 labels but 0 preds/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("graft finetune's files: predictions.jsonl with class names in run.json's order, summary.json's timing and test metrics", () => {
  const dir = tmpDir();
  try {
    // labels deliberately not in alphabetical order: probs columns follow run.json's "labels"
    writeFileSync(
      join(dir, "run.json"),
      JSON.stringify({ args: { batchSize: 4 }, finetune: { task: "classification" }, labels: ["pos", "neg"] }),
    );
    writeFileSync(join(dir, "metrics.jsonl"), '{"step":1,"loss":0.7,"lr":0.001,"examples_per_s":10}\n');
    writeFileSync(
      join(dir, "predictions.jsonl"),
      [
        { text: "good", label: "pos", pred: "pos", probs: [0.9, 0.1] },
        { text: "bad", label: "neg", pred: "pos", probs: [0.6, 0.4] },
        { text: "unlabelled", label: null, pred: "neg", probs: [0.2, 0.8] },
      ]
        .map((r) => JSON.stringify(r))
        .join("\n") + "\n",
    );
    writeFileSync(
      join(dir, "summary.json"),
      JSON.stringify({
        train: { globalStep: 1, trainSeconds: 3.5 },
        test: { accuracy: 0.5, f1_macro: 0.33 },
        testSplit: "test",
      }),
    );
    const run = readRun(dir);
    const p = run.predictions!;
    assert.ok(p.task === "classification");
    if (p.task === "classification") {
      assert.deepEqual(p.classes, ["pos", "neg"]);
      assert.deepEqual(p.labels, [0, 1]);
      assert.deepEqual(p.preds, [0, 0]);
      assert.equal(p.meta.split, "test");
    }
    assert.match(run.notes.join("\n"), /1 examples have no gold label/);
    assert.equal(run.summary?.trainSeconds, 3.5);
    assert.deepEqual(run.test, { accuracy: 0.5, f1_macro: 0.33 });
    assert.equal(run.missing.length, 1, "only the evaluation records are missing");
    assert.match(run.missing[0]!, /^evaluation records/);

    writeFileSync(join(dir, "run.json"), JSON.stringify({ finetune: { task: "regression" } }));
    writeFileSync(join(dir, "predictions.jsonl"), '{"text":"x","label":3.5,"pred":3.1}\n');
    const reg = readRun(dir);
    assert.equal(reg.predictions, null);
    assert.match(reg.notes.join("\n"), /predictions of a regression task are not charted/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("studies: leaderboard.json and trials.jsonl, best trial by direction, ranking and best-so-far", () => {
  const notes: string[] = [];
  const s = parseLeaderboard(
    JSON.stringify({
      metric: "eval_loss",
      trials: [
        { number: 2, value: 0.5, params: { lr: 1e-4 } },
        {
          number: 0,
          state: "complete",
          value: 0.7,
          params: { lr: 1e-3 },
          intermediate: [{ step: 1, value: 0.9 }, [2, 0.7]],
        },
        { number: 1, state: "PRUNED", params: { lr: 1e-2 } },
        { number: 3, state: "complete", value: 0.4 },
        { state: "complete" },
      ],
    }),
    "leaderboard.json",
    notes,
  )!;
  assert.equal(s.direction, "minimize");
  assert.match(notes.join("\n"), /no "direction"; assumed minimize/);
  assert.match(notes.join("\n"), /integer "number"/);
  assert.deepEqual(
    s.trials.map((t) => [t.number, t.state]),
    [
      [0, "complete"],
      [1, "pruned"],
      [2, "complete"],
      [3, "complete"],
    ],
  );
  assert.equal(s.best?.number, 3);
  assert.deepEqual(s.trials[0]!.intermediate, [
    [1, 0.9],
    [2, 0.7],
  ]);
  assert.deepEqual(
    rankTrials(s).map((t) => t.number),
    [3, 2, 0, 1],
  );
  assert.deepEqual(bestSoFar(s), [
    [0, 0.7],
    [2, 0.5],
    [3, 0.4],
  ]);

  const j = parseTrialsJsonl(
    [
      JSON.stringify({ meta: { metric: "f1", direction: "maximize" } }),
      JSON.stringify({ number: 0, state: "running", params: { lr: 1 } }),
      JSON.stringify({ number: 1, state: "complete", value: 0.8 }),
      JSON.stringify({ number: 0, state: "complete", value: 0.9, params: { lr: 1 } }),
    ].join("\n"),
    "trials.jsonl",
    [],
  )!;
  assert.equal(j.trials.length, 2);
  assert.equal(j.best?.number, 0);
});

test("readRun reads a study directory", () => {
  const dir = tmpDir();
  try {
    const { best } = makeStudy(dir);
    const run = readRun(dir);
    assert.equal(run.study?.trials.length, 12);
    assert.equal(run.study?.best?.value, best);
    assert.deepEqual(run.missing, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("training time is estimated from logged throughput; config flattens to dotted keys", () => {
  const train = [10, 20, 30].map((step) => ({ step, epoch: null, loss: 1, lr: 1, gradNorm: null, examplesPerS: 80 }));
  assert.equal(estimateTrainSeconds(train, 16), (30 * 16) / 80);
  assert.equal(estimateTrainSeconds(train, NaN), null);
  assert.deepEqual(flatten({ args: { lr: 5e-5, betas: [0.9, 0.999] }, model: "m", extra: {} }), [
    ["args.lr", "0.00005"],
    ["args.betas", "[0.9,0.999]"],
    ["model", "m"],
    ["extra", "{}"],
  ]);
});

test("a fixture written with odd class names survives the round trip", () => {
  const dir = tmpDir();
  try {
    writeFileSync(join(dir, "metrics.jsonl"), '{"step":1,"loss":1}\n');
    writePredictions(dir, { classes: ["<b>", "a&b"] }, [
      { label: 0, pred: 1 },
      { label: 1, pred: 1 },
    ]);
    const run = readRun(dir);
    assert.ok(run.predictions?.task === "classification");
    if (run.predictions?.task === "classification") assert.deepEqual(run.predictions.classes, ["<b>", "a&b"]);
    assert.equal(CLASSES.length, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
