import { test } from "node:test";
import assert from "node:assert/strict";
import { Study } from "../../src/tune/study.js";
import { AshaPruner, MedianPruner, percentile } from "../../src/tune/pruners.js";
import { TrialPruned, type TrialContext } from "../../src/tune/context.js";

/** An objective whose trial k reports `curve(k, step)` at steps 1..steps and returns the last value. */
function reporting(curve: (k: number, step: number) => number, steps: number) {
  return async (t: TrialContext) => {
    const k = t.params.k as number;
    for (let s = 1; s <= steps; s++) {
      await t.report(s, curve(k, s));
      if (t.shouldPrune()) throw new TrialPruned();
    }
    return curve(k, steps);
  };
}

async function studyOver(
  qualities: number[],
  pruner: AshaPruner | MedianPruner,
  curve: (k: number, s: number) => number,
  steps: number,
) {
  const study = await Study.create({
    space: { k: { type: "int", low: 0, high: qualities.length - 1 } },
    pruner,
    sampler: "random",
  });
  for (let k = 0; k < qualities.length; k++) study.enqueue({ k });
  await study.optimize(reporting(curve, steps), { nTrials: qualities.length });
  return study;
}

test("ASHA (η = 3, rungs at steps 1, 3, 9) prunes exactly the trials successive halving should", async () => {
  // trial k reports the constant quality q[k] (minimized) at steps 1..8, one trial after another
  const q = [5, 3, 8, 1, 9, 2, 7, 4, 6];
  const study = await studyOver(q, new AshaPruner({ minResource: 1, reductionFactor: 3 }), (k) => q[k]!, 8);
  // Worked by hand. A rung keeps the best ⌊n/3⌋ of the n values recorded there (the best one while n < 3):
  //   rung 1: t0 [5] ok; t1 [5,3] ok (3 best); t2 8 > 3 pruned; t3 1 ok; t4 9 pruned; t5 n=6 keeps 2 → 2 ok;
  //           t6 7 > 2 pruned; t7 4 > 2 pruned; t8 n=9 keeps 3 → 6 > 3 pruned
  //   rung 3: t0 [5] ok; t1 [5,3] ok; t3 [5,3,1] ok; t5 [5,3,1,2] keeps 1 → 2 > 1 pruned
  const state = study.trials.map((t) => (t.state === "pruned" ? `pruned@${t.intermediate.at(-1)!.step}` : t.state));
  assert.deepEqual(state, [
    "complete",
    "complete",
    "pruned@1",
    "complete",
    "pruned@1",
    "pruned@3",
    "pruned@1",
    "pruned@1",
    "pruned@1",
  ]);
  // a pruned trial's value is its last intermediate value
  assert.deepEqual(study.trial(5).values, [2]);
});

test("ASHA judges each rung at the first report at or past it, and in the right direction", async () => {
  const asha = new AshaPruner({ minResource: 2, reductionFactor: 2 });
  assert.deepEqual(
    [0, 1, 2, 3].map((k) => asha.rungStep(k)),
    [2, 4, 8, 16],
  );
  // maximize: reports only every third step (3, 6, 9), so rungs 2 and 4 are judged at steps 3 and 6
  const q = [0.5, 0.9, 0.2, 0.8];
  const study = await Study.create({
    space: { k: { type: "int", low: 0, high: 3 } },
    directions: ["maximize"],
    pruner: asha,
    sampler: "random",
  });
  for (let k = 0; k < q.length; k++) study.enqueue({ k });
  await study.optimize(
    async (t) => {
      const k = t.params.k as number;
      for (let s = 3; s <= 9; s += 3) {
        await t.report(s, q[k]!);
        if (t.shouldPrune()) throw new TrialPruned();
      }
      return q[k]!;
    },
    { nTrials: 4 },
  );
  // t0 alone: kept. t1 0.9 best: kept. t2 0.2 vs [0.5, 0.9]: n=3 keeps 1 → pruned at step 3. t3 0.8 at rung 2:
  // n=4 keeps 2 ([0.9, 0.8]) → kept; at rung 4 (step 6): [0.5, 0.9, 0.8] keeps 1 → pruned at step 6
  assert.deepEqual(
    study.trials.map((t) => t.state),
    ["complete", "complete", "pruned", "pruned"],
  );
  assert.equal(study.trial(2).intermediate.at(-1)!.step, 3);
  assert.equal(study.trial(3).intermediate.at(-1)!.step, 6);
});

test("median pruning stops a trial whose best value so far is worse than the median at its step", async () => {
  // trials 0-2 complete (startup); then trial k's curve is compared with theirs step by step
  const curves = [
    [10, 8, 6],
    [12, 9, 7],
    [14, 10, 8],
    [9, 7, 5],
    [13, 12, 11],
    [11, 8.5, 6.5],
  ];
  const study = await studyOver(
    curves.map((_, k) => k),
    new MedianPruner({ nStartupTrials: 3 }),
    (k, s) => curves[k]![s - 1]!,
    3,
  );
  // medians of the complete trials at steps 1..3 when trial 3 runs: 12, 9, 7 → trial 3 (9, 7, 5) is never worse
  // trial 4: 13 > median(10, 12, 14, 9) = 11 → pruned at step 1
  // trial 5: 11 ≤ 11, then min(11, 8.5) ≤ median(8, 9, 10, 7) = 8.5, then 6.5 ≤ 6.5: completes
  assert.deepEqual(
    study.trials.map((t) => t.state),
    ["complete", "complete", "complete", "complete", "pruned", "complete"],
  );
  assert.equal(study.trial(4).intermediate.length, 1);
});

test("percentile interpolates like numpy", () => {
  assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
  assert.equal(percentile([5], 25), 5);
  assert.equal(percentile([1, 3, 2, 10], 25), 1.75);
});
