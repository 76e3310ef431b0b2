import { test } from "node:test";
import assert from "node:assert/strict";
import { kFold, meanStd, stratifiedKFold, crossValidate } from "../../src/tune/cv.js";
import { Study } from "../../src/tune/study.js";
import { TrialPruned } from "../../src/tune/context.js";

function checkPartition(folds: { train: Int32Array; valid: Int32Array }[], n: number): void {
  const seen = new Int32Array(n);
  for (const f of folds) {
    assert.equal(f.train.length + f.valid.length, n);
    const v = new Set(f.valid);
    for (const i of f.train) assert.ok(!v.has(i), "an example is in both train and valid");
    for (const i of f.valid) seen[i]!++;
  }
  assert.ok(
    seen.every((c) => c === 1),
    "every example is validated exactly once",
  );
}

test("stratified k-fold keeps each class's share in every fold (within one example) and partitions the data", () => {
  // 3 classes of 50, 30 and 7 examples
  const labels = [...Array(50).fill("a"), ...Array(30).fill("b"), ...Array(7).fill("c")];
  const folds = stratifiedKFold(labels, 5, 1);
  checkPartition(folds, labels.length);
  for (const c of ["a", "b", "c"]) {
    const counts = folds.map((f) => [...f.valid].filter((i) => labels[i] === c).length);
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `class ${c}: ${counts}`);
  }
  const sizes = folds.map((f) => f.valid.length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `fold sizes ${sizes}`);
  assert.deepEqual(stratifiedKFold(labels, 5, 1), folds, "seeded");
  assert.notDeepEqual(stratifiedKFold(labels, 5, 2), folds);
});

test("plain k-fold partitions shuffled data; bad k is an error", () => {
  const folds = kFold(23, 4, 0);
  checkPartition(folds, 23);
  assert.deepEqual(folds.map((f) => f.valid.length).sort(), [5, 6, 6, 6]);
  assert.throws(() => kFold(3, 4), /4 folds need at least 4 examples/);
  assert.throws(() => stratifiedKFold([0, 1], 1), /k must be an integer >= 2/);
});

test("mean ± std as scikit-learn reports it (population std)", () => {
  assert.deepEqual(meanStd([1, 2, 3, 4]), { mean: 2.5, std: Math.sqrt(1.25) });
});

test("a cross-validated trial is pruned between folds from its running mean", async () => {
  const folds = kFold(30, 3, 0);
  const study = await Study.create({
    space: { q: { type: "uniform", low: 0, high: 1 } },
    pruner: { name: "median", nStartupTrials: 2 },
    sampler: "random",
  });
  for (const q of [0.1, 0.2, 0.9, 0.15]) study.enqueue({ q });
  const ran: number[] = [];
  await study.optimize(
    crossValidate(
      (trial, _fold, i) => {
        ran.push(trial.number);
        return (trial.params.q as number) + i * 0.01;
      },
      { folds },
    ),
    { nTrials: 4 },
  );
  assert.deepEqual(
    study.trials.map((t) => t.state),
    ["complete", "complete", "pruned", "complete"],
  );
  assert.equal(ran.filter((n) => n === 2).length, 1, "the bad trial stopped after its first fold");
  assert.ok(new TrialPruned() instanceof Error);
});
