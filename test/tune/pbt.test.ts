/**
 * Population-based training on a toy whose best learning rate falls over time (SGD on a noisy quadratic: large
 * steps to get down from the start, small ones to settle below the gradient noise).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Study } from "../../src/tune/study.js";
import { noisyQuadratic } from "../../src/tune/objectives/builtins.js";
import { memberSchedule, pbtLineage, replaySchedule } from "../../src/tune/pbt.js";
import { plotData } from "../../src/tune/outputs.js";
import { tempDir } from "./helpers.js";

const space = { lr: { type: "loguniform" as const, low: 1e-3, high: 1 } };
const STEPS = 200;
const pbt = { population: 8, interval: 20, generations: STEPS / 20, seed: 0 };

test("PBT beats the best fixed learning rate on a problem whose best learning rate changes over time", async () => {
  // the fixed baseline: 31 learning rates from 1e-3 to 1, each trained 8 times (different noise), best run kept
  let bestFixed = { lr: 0, loss: Infinity };
  for (let i = 0; i <= 30; i++) {
    const lr = 10 ** (-3 + (3 * i) / 30);
    const study = await Study.create({ space, sampler: "random" });
    for (let s = 0; s < 8; s++) study.enqueue({ lr });
    await study.optimize(noisyQuadratic({ steps: STEPS, reportEvery: STEPS }), { nTrials: 8 });
    const loss = study.bestTrial!.values![0]!;
    if (loss < bestFixed.loss) bestFixed = { lr, loss };
  }
  const study = await Study.create({ dir: tempDir(), space, sampler: { name: "random", seed: 0 }, pbt });
  await study.optimize(noisyQuadratic());
  const best = study.bestTrial!;
  assert.equal(study.trials.length, 80);
  assert.ok(
    best.values![0]! < 0.75 * bestFixed.loss,
    `PBT ${best.values![0]} vs the best fixed rate ${bestFixed.lr.toPrecision(3)}: ${bestFixed.loss}`,
  );
  // and the schedule it found does what the toy wants: the learning rate ends far below where it started
  const schedule = memberSchedule(study, best.number).map((e) => e.params.lr as number);
  assert.equal(schedule.length, pbt.generations);
  assert.ok(schedule.at(-1)! < 0.5 * schedule[0]!, `lr schedule ${schedule.map((v) => v.toPrecision(2))}`);
  study.close();
});

test("the lineage is recorded: exploiters copy a top-quantile member's checkpoint and explore its hyperparameters", async () => {
  // no resampling, so every explored learning rate is the donor's ×0.8 or ×1.2
  const study = await Study.create({
    dir: tempDir(),
    space,
    sampler: { name: "random", seed: 1 },
    pbt: { ...pbt, generations: 5, resampleProbability: 0 },
  });
  await study.optimize(noisyQuadratic());
  const lineage = pbtLineage(study);
  assert.equal(lineage.members.length, 8);
  for (let g = 1; g < 5; g++) {
    const prev = study.trials.filter((t) => (t.system.pbt as { generation: number }).generation === g - 1);
    const ranked = [...prev].sort((a, b) => a.values![0]! - b.values![0]!);
    const top = ranked.slice(0, 2).map((t) => (t.system.pbt as { member: number }).member);
    const bottom = ranked.slice(6).map((t) => (t.system.pbt as { member: number }).member);
    for (const m of lineage.members) {
      const seg = m.segments[g]!;
      const parent = study.trial(seg.parentTrial!);
      assert.equal(seg.startStep, g * 20);
      if (bottom.includes(m.member)) {
        assert.ok(
          seg.donor !== null && top.includes(seg.donor),
          `gen ${g}: member ${m.member} copied member ${seg.donor}, not a top one (${top})`,
        );
        assert.equal((parent.system.pbt as { member: number }).member, seg.donor);
        const ratio = (seg.params.lr as number) / (parent.params.lr as number);
        const clamped = seg.params.lr === 1 || seg.params.lr === 1e-3;
        assert.ok(
          Math.abs(ratio - 0.8) < 1e-9 || Math.abs(ratio - 1.2) < 1e-9 || clamped,
          `gen ${g}: member ${m.member} lr ${seg.params.lr} from ${parent.params.lr}`,
        );
      } else {
        assert.equal(seg.donor, null);
        assert.equal(
          (parent.system.pbt as { member: number }).member,
          m.member,
          "a kept member continues its own checkpoint",
        );
        assert.deepEqual(seg.params, m.segments[g - 1]!.params);
      }
    }
  }
  const plotted = plotData(study)["pbt-lineage"] as { members: unknown[] };
  assert.equal(plotted.members.length, 8);
  study.close();
});

test("a member's recorded hyperparameter schedule replays to the same result from scratch", async () => {
  const dir = tempDir();
  const study = await Study.create({
    dir,
    space,
    sampler: { name: "random", seed: 2 },
    pbt: { ...pbt, generations: 6 },
  });
  await study.optimize(noisyQuadratic());
  // a final member whose weights passed through other members (the schedule crosses an exploit)
  const last = study.trials.filter((t) => (t.system.pbt as { generation: number }).generation === 5);
  const mixed = last.find((t) => new Set(memberSchedule(study, t.number).map((e) => e.member)).size > 1);
  assert.ok(mixed, "some final member descends from an exploit");
  const schedule = memberSchedule(study, mixed.number);
  assert.equal(schedule.length, 6);
  assert.ok(new Set(schedule.map((e) => e.params.lr)).size > 1, "the schedule changes the learning rate");
  const scores = await replaySchedule(noisyQuadratic(), schedule, join(dir, "replay"));
  assert.equal(scores.at(-1), mixed.values![0]);
  assert.deepEqual(
    scores,
    schedule.map((e) => e.score),
  );
  study.close();
});

test("an interrupted PBT study resumes to exactly the result of an uninterrupted one", async () => {
  const whole = await Study.create({
    dir: tempDir(),
    space,
    sampler: { name: "random", seed: 3 },
    pbt: { ...pbt, generations: 4 },
  });
  await whole.optimize(noisyQuadratic());
  const dir = tempDir();
  const first = await Study.create({
    dir,
    space,
    sampler: { name: "random", seed: 3 },
    pbt: { ...pbt, generations: 4 },
  });
  const stop = new AbortController();
  await first.optimize(noisyQuadratic(), {
    onTrialEnd: (t) => {
      if (t.number === 13) stop.abort();
    },
    signal: stop.signal,
  });
  assert.equal(first.trials.length, 14);
  first.close();
  const resumed = await Study.load(dir);
  await resumed.optimize(noisyQuadratic());
  assert.deepEqual(
    resumed.trials.map((t) => [t.params, t.values, t.system]),
    whole.trials.map((t) => [
      t.params,
      t.values,
      (() => {
        const s = structuredClone(t.system) as { pbt: { restoreFrom: string | null } };
        if (s.pbt.restoreFrom) s.pbt.restoreFrom = s.pbt.restoreFrom.replace(whole.dir!, dir);
        return s;
      })(),
    ]),
  );
  whole.close();
  resumed.close();
});
