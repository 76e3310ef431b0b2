/** The Trainer as an objective: pruning through requestStop, cross-validation folds, and PBT with checkpoints. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Study } from "../../src/tune/study.js";
import { trainerObjective, trainingArgsFrom } from "../../src/tune/objectives/trainer.js";
import { crossValidate, stratifiedKFold, type Fold } from "../../src/tune/cv.js";
import { RunDir } from "../../src/train/index.js";
import { loadSafetensors } from "../../src/io/safetensors.js";
import { makeData, makeModel, task } from "../train/toy.js";
import { tempDir } from "./helpers.js";

const data = makeData(64, 1);

function subset(d: { ids: Int32Array; labels: Int32Array }, idx: Int32Array) {
  const ids = new Int32Array(idx.length * 4),
    labels = new Int32Array(idx.length);
  idx.forEach((e, i) => {
    ids.set(d.ids.subarray(e * 4, e * 4 + 4), i * 4);
    labels[i] = d.labels[e]!;
  });
  return { ids, labels };
}

const args = {
  optimizer: "sgd" as const,
  schedule: "constant" as const,
  warmupRatio: 0,
  batchSize: 8,
  epochs: 2,
  evalEvery: 2,
  logEvery: 1,
  metricForBest: "accuracy",
  seed: 5,
};

test("trainerObjective reports evaluations, stops pruned runs with requestStop, and returns the best metric", async () => {
  const dir = tempDir();
  const study = await Study.create({
    dir,
    space: { lr: { type: "loguniform", low: 1e-4, high: 0.5 } },
    directions: ["maximize"],
    sampler: { name: "random", seed: 0 },
    pruner: { name: "median", nStartupTrials: 2, nWarmupSteps: 2 },
  });
  for (const lr of [0.2, 0.3, 1e-4, 2e-4]) study.enqueue({ lr });
  await study.optimize(
    trainerObjective({
      objectives: "accuracy",
      setup: (params) => ({
        model: makeModel(3),
        args: { ...args, ...trainingArgsFrom(params) },
        trainSize: 64,
        ...task(data),
      }),
    }),
    { nTrials: 4 },
  );
  // the two small learning rates are below the median of the first two at step 2, and stop there
  const states = study.trials.map((t) => t.state);
  assert.deepEqual(
    states,
    ["complete", "complete", "pruned", "pruned"],
    JSON.stringify(study.trials.map((t) => t.intermediate)),
  );
  for (const t of study.trials) {
    const run = new RunDir(study.trialDir(t.number));
    const steps = run
      .readMetrics()
      .filter((r) => "loss" in r)
      .map((r) => r.step as number);
    const evals = run.readMetrics().filter((r) => "eval_accuracy" in r);
    assert.deepEqual(
      t.intermediate.map((v) => v.step),
      evals.map((r) => r.step),
      "every evaluation was reported",
    );
    if (t.state === "pruned")
      assert.ok(Math.max(...steps) < 16, `trial ${t.number} trained ${Math.max(...steps)} of 16 steps`);
    else {
      assert.equal(Math.max(...steps), 16);
      assert.equal(
        t.values![0],
        Math.max(...evals.map((r) => r.eval_accuracy as number)),
        "the best evaluation is the objective",
      );
      assert.ok(existsSync(join(study.trialDir(t.number), "best", "model.safetensors")));
    }
  }
  study.close();
});

test("cross-validation: stratified folds, per-fold training, mean and std recorded, running mean reported", async () => {
  const folds = stratifiedKFold(data.labels, 3, 0);
  const perFold = (fold: Fold) =>
    trainerObjective({
      objectives: "accuracy",
      setup: (params) => {
        const train = subset(data, fold.train),
          valid = subset(data, fold.valid);
        return {
          model: makeModel(3),
          args: { ...args, evalEvery: "epoch" as const, ...trainingArgsFrom(params) },
          trainSize: fold.train.length,
          ...task(train),
          evaluate: task(valid).evaluate,
        };
      },
    });
  const study = await Study.create({
    dir: tempDir(),
    space: { lr: { type: "loguniform", low: 0.01, high: 0.5 } },
    directions: ["maximize"],
    sampler: { name: "random", seed: 1 },
  });
  await study.optimize(
    crossValidate((trial, fold) => perFold(fold)(trial), { folds }),
    { nTrials: 2 },
  );
  assert.ok(
    study.trials.every((t) => t.state === "complete"),
    study.trials.map((t) => t.error).join("\n"),
  );
  for (const t of study.trials) {
    const cv = t.attrs.cv as { scores: number[]; mean: number; std: number };
    assert.equal(cv.scores.length, 3);
    const mean = cv.scores.reduce((a, b) => a + b, 0) / 3;
    assert.ok(Math.abs(cv.mean - mean) < 1e-12 && Math.abs(t.values![0]! - mean) < 1e-12);
    assert.ok(Math.abs(cv.std - Math.sqrt(cv.scores.reduce((a, s) => a + (s - mean) ** 2, 0) / 3)) < 1e-12);
    assert.deepEqual(
      t.intermediate.map((v) => v.step),
      [1, 2, 3],
    );
    assert.ok(Math.abs(t.intermediate[0]!.value - cv.scores[0]!) < 1e-12);
    assert.ok(
      existsSync(join(study.trialDir(t.number), "fold-2", "best", "model.safetensors")),
      "each fold trains in its own run directory",
    );
  }
  study.close();
});

test("PBT with the Trainer: segments resume checkpoints, exploiters start from the donor's weights with their own learning rate", async () => {
  const dir = tempDir();
  const study = await Study.create({
    dir,
    space: { lr: { type: "loguniform", low: 1e-3, high: 0.5 } },
    directions: ["maximize"],
    sampler: { name: "random", seed: 4 },
    pbt: { population: 4, interval: 4, generations: 3, seed: 4, resampleProbability: 0 },
  });
  await study.optimize(
    trainerObjective({
      objectives: "accuracy",
      setup: (params, trial) => ({
        model: makeModel(3),
        args: { ...args, ...trainingArgsFrom(params) },
        trainSize: 64,
        ...task(data),
        callbacks: [
          {
            onTrainBegin: (t) => trial.setAttr("startWeights", t.model.stateDict().get("classifier.weight")!.toArray()),
          },
        ],
      }),
    }),
  );
  assert.equal(study.trials.length, 12);
  assert.ok(
    study.trials.every((t) => t.state === "complete"),
    study.trials.map((t) => t.error).join("\n"),
  );
  const exploits = study.trials.filter((t) => (t.system.pbt as { donor: number | null }).donor !== null);
  assert.equal(exploits.length, 2, "one exploit per generation after the first (quantile 0.25 of 4)");
  for (const t of study.trials) {
    const seg = t.system.pbt as {
      startStep: number;
      endStep: number;
      restoreFrom: string | null;
      donor: number | null;
      parentTrial: number | null;
    };
    const state = JSON.parse(readFileSync(join(study.trialDir(t.number), "checkpoint", "trainer_state.json"), "utf8"));
    assert.equal(state.globalStep, seg.endStep, "the segment left its checkpoint at its end step");
    const records = new RunDir(study.trialDir(t.number)).readMetrics().filter((r) => "loss" in r);
    assert.deepEqual(
      records.map((r) => r.step),
      Array.from({ length: 4 }, (_, i) => seg.startStep + i + 1),
      "trained exactly its own steps",
    );
    for (const r of records)
      assert.ok(
        Math.abs((r.lr as number) - (t.params.lr as number)) < 1e-12,
        `trial ${t.number} trained with lr ${r.lr}, its own is ${t.params.lr}`,
      );
    if (seg.restoreFrom) {
      // the weights it started from are those the parent (itself earlier, or the donor) saved
      const saved = loadSafetensors(join(seg.restoreFrom, "model.safetensors"));
      assert.deepEqual(t.attrs.startWeights, saved.get("classifier.weight")!.toArray());
      assert.equal(seg.restoreFrom, join(study.trialDir(seg.parentTrial!), "checkpoint"));
    }
  }
  study.close();
});

test("multi-objective training runs: an evaluation metric against a measured one (model size)", async () => {
  const study = await Study.create({
    dir: tempDir(),
    space: { lr: { type: "loguniform", low: 0.01, high: 0.5 }, hidden: { type: "categorical", choices: [4, 12] } },
    directions: ["maximize", "minimize"],
    sampler: { name: "random", seed: 2 },
  });
  await study.optimize(
    trainerObjective({
      objectives: ["accuracy", "size"],
      // the toy model has one size; the measured number stands for what a real setup would count or time
      setup: (params) => ({
        model: makeModel(3),
        args: { ...args, ...trainingArgsFrom(params) },
        trainSize: 64,
        ...task(data),
        measure: () => ({ size: (params.hidden as number) * 2 + 2 }),
      }),
    }),
    { nTrials: 4 },
  );
  for (const t of study.trials) {
    assert.equal(t.state, "complete", t.error ?? "");
    assert.equal(t.values![1], (t.params.hidden as number) * 2 + 2);
    assert.ok(t.values![0]! > 0 && t.values![0]! <= 1);
  }
  assert.ok(study.paretoFront.length >= 1);
  study.close();
});
