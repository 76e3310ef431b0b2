/** The report of a real Trainer run: what train/ writes is what report/ reads. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Tensor, noGrad } from "../../src/tensor/index.js";
import { Trainer } from "../../src/train/index.js";
import { readRun, reportCallback, writePredictions, REPORT_FILE } from "../../src/report/index.js";
import { makeData, makeModel, task, type ToyModel } from "../train/toy.js";
import { tmpDir } from "./fixture.js";
import { findAll, parseXml, svgFragments, textOf } from "./xml.js";

test("a Trainer run with reportCallback ends with a report of its own curves, predictions and timing", async () => {
  const dir = tmpDir();
  try {
    const data = makeData(64, 1);
    const t = task(data);
    const model = makeModel(1);
    const predictions = {
      // a task writes its predictions after training; the report callback runs after it
      onTrainEnd: (tr: { run: { path: string } | null }) => {
        const ids = new Tensor(data.ids, [64, 4]);
        const logits = noGrad(() => (model as ToyModel).forward(ids)).toArray(); // [64 × 2], row-major
        writePredictions(
          tr.run!.path,
          { task: "classification", classes: ["absent", "present"], split: "train" },
          Array.from(data.labels, (label, i) => {
            const z = logits.slice(2 * i, 2 * i + 2),
              e = z.map((v) => Math.exp(v - Math.max(...z))),
              s = e[0]! + e[1]!;
            return { label, probs: e.map((v) => v / s) };
          }),
        );
      },
    };
    const trainer = new Trainer({
      model,
      trainSize: 64,
      ...t,
      runDir: dir,
      callbacks: [predictions, reportCallback()],
      args: {
        epochs: 2,
        batchSize: 8,
        lr: 0.05,
        logEvery: 1,
        evalEvery: 4,
        warmupRatio: 0.25,
        seed: 7,
        metricForBest: "accuracy",
      },
    });
    const summary = await trainer.train();
    const run = readRun(dir);
    assert.equal(run.train.length, summary.globalStep);
    assert.deepEqual(
      run.evals.map((e) => e.step),
      [4, 8, 12, 16],
    );
    assert.equal(run.best?.metric, "accuracy");
    assert.equal(run.summary?.globalStep, 16);
    assert.deepEqual(run.missing, []);
    const html = readFileSync(join(dir, REPORT_FILE), "utf8");
    for (const id of ["curves", "schedule", "evaluation", "timing", "config"])
      assert.match(html, new RegExp(`<section id="${id}">`));
    assert.match(html, /wall clock, including evaluation/);
    const titles = svgFragments(html).map((s) => textOf(findAll(parseXml(s), "title")[0]!));
    for (const c of [
      "Loss",
      "Validation accuracy",
      "Learning rate",
      "Confusion matrix",
      "ROC curve",
      "Precision-recall curve",
    ])
      assert.ok(titles.includes(c), `${c} in ${titles}`);
    assert.match(html, /<code>args\.lr<\/code><\/td><td>0\.05<\/td>/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
