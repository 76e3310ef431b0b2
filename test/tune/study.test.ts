import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Study } from "../../src/tune/study.js";
import { TrialPruned } from "../../src/tune/context.js";
import { leaderboard, parameterImportance, writeStudyOutputs } from "../../src/tune/outputs.js";
import { dominates } from "../../src/tune/pareto.js";
import { tempDir } from "./helpers.js";

const OBJECTIVES = fileURLToPath(new URL("./objectives.js", import.meta.url));
const space = { x: { type: "uniform" as const, low: -1, high: 1 } };

test("the study record survives closing: trials, values, intermediate values and attributes come back", async () => {
  const dir = tempDir();
  const a = await Study.create({ dir, space, sampler: { name: "random", seed: 1 }, config: { note: "kept" } });
  await a.optimize(
    async (t) => {
      await t.report(1, 10);
      await t.report(2, 5);
      t.setAttr("latency_ms", 3.5);
      return (t.params.x as number) ** 2;
    },
    { nTrials: 4 },
  );
  const before = a.trials.map((t) => ({ ...t }));
  // a second coordinator cannot open a study that is in use
  await assert.rejects(Study.load(dir), /in use by process/);
  a.close();
  const b = await Study.load(dir);
  assert.equal(b.trials.length, 4);
  for (const [i, t] of b.trials.entries()) {
    assert.deepEqual(t.params, before[i]!.params);
    assert.deepEqual(t.values, before[i]!.values);
    assert.deepEqual(t.intermediate, [
      { step: 1, value: 10 },
      { step: 2, value: 5 },
    ]);
    assert.equal(t.attrs.latency_ms, 3.5);
  }
  assert.equal(b.config.note, "kept");
  assert.equal(b.sampler.name, "random");
  b.close();
  await assert.rejects(Study.create({ dir, space }), /already holds a study/);
});

test("resume skips finished trials and reruns only the one a crash interrupted, with the same parameters", async () => {
  const dir = tempDir();
  // a process that dies (SIGKILL) in the middle of trial 5
  assert.throws(() => execFileSync(process.execPath, [OBJECTIVES, "interrupted-study", dir], { stdio: "pipe" }));
  assert.deepEqual(readFileSync(join(dir, "calls.log"), "utf8").trim().split("\n").map(Number), [0, 1, 2, 3, 4, 5]);
  const study = await Study.load(dir);
  assert.deepEqual(
    study.trials.map((t) => t.state),
    ["complete", "complete", "complete", "complete", "complete", "waiting"],
  );
  const interrupted = { ...study.trial(5).params };
  const finishedValues = study.trials.slice(0, 5).map((t) => t.values);
  const calls: number[] = [];
  await study.optimize(
    (t) => {
      calls.push(t.number);
      return (t.params.x as number) ** 2;
    },
    { nTrials: 10 },
  );
  assert.deepEqual(calls, [5, 6, 7, 8, 9], "only the interrupted trial and the missing ones ran");
  assert.deepEqual(study.trial(5).params, interrupted);
  assert.equal(study.trial(5).attempt, 2);
  assert.deepEqual(
    study.trials.slice(0, 5).map((t) => t.values),
    finishedValues,
  );
  assert.equal(study.trials.filter((t) => t.state === "complete").length, 10);
  // the random sampler continues its stream: trials 6.. have the parameters an uninterrupted run would give
  const fresh = await Study.create({ space, sampler: { name: "random", seed: 4 } });
  await fresh.optimize((t) => (t.params.x as number) ** 2, { nTrials: 10 });
  assert.deepEqual(
    study.trials.map((t) => t.params),
    fresh.trials.map((t) => t.params),
  );
  study.close();
});

test("a crashing trial is recorded as failed with its error, and the study goes on", async () => {
  const study = await Study.create({ space, sampler: { name: "random", seed: 0 } });
  await study.optimize(
    (t) => {
      if (t.number === 2) throw new RangeError("the data loader ran out of examples");
      if (t.number === 4) return NaN;
      return t.params.x as number;
    },
    { nTrials: 6 },
  );
  assert.deepEqual(
    study.trials.map((t) => t.state),
    ["complete", "complete", "failed", "complete", "failed", "complete"],
  );
  assert.match(study.trial(2).error!, /^RangeError: the data loader ran out of examples/);
  assert.match(study.trial(4).error!, /non-finite/);
  assert.equal(leaderboard(study).filter((r) => r.state === "failed").length, 2);
});

test("a result is recorded once: telling a finished trial again changes nothing", async () => {
  const study = await Study.create({ space });
  const t = study.ask() as Exclude<ReturnType<Study["ask"]>, "wait" | null>;
  assert.equal(study.tell(t.number, { state: "complete", values: [0.5] }), true);
  assert.equal(study.tell(t.number, { state: "complete", values: [0.1] }), false);
  assert.equal(study.tell(t.number, { state: "failed", error: "late duplicate" }), false);
  assert.deepEqual(study.trial(t.number).values, [0.5]);
  assert.equal(study.trial(t.number).state, "complete");
});

test("reports from an older attempt are dropped; a newer attempt starts the intermediate values afresh", async () => {
  const study = await Study.create({ space });
  const t = study.ask() as Exclude<ReturnType<Study["ask"]>, "wait" | null>;
  study.report(t.number, 1, 9, 1);
  study.report(t.number, 2, 8, 1);
  study.report(t.number, 1, 7, 2); // the trial restarted elsewhere
  assert.equal(study.report(t.number, 3, 6, 1), true, "a zombie attempt is told to stop");
  assert.deepEqual(study.trial(t.number).intermediate, [{ step: 1, value: 7 }]);
  assert.equal(study.trial(t.number).attempt, 2);
});

test("multi-objective: the Pareto front, the leaderboard's fronts, and pruning on the intermediate metric", async () => {
  // ZDT1-like on x ∈ [0, 1], y ∈ [0, 1]: f1 = x, f2 = g·(1 − √(x/g)) with g = 1 + 9y; the front is y = 0
  const study = await Study.create({
    space: { x: { type: "uniform", low: 0, high: 1 }, y: { type: "uniform", low: 0, high: 1 } },
    directions: ["minimize", "minimize"],
    sampler: { name: "tpe", seed: 3 },
    pruner: { name: "median", nStartupTrials: 5 },
  });
  await study.optimize(
    async (t) => {
      const x = t.params.x as number,
        y = t.params.y as number;
      const g = 1 + 9 * y;
      for (let s = 1; s <= 3; s++) {
        await t.report(s, g + 1 / s); // the training loss behind both objectives
        if (t.shouldPrune()) throw new TrialPruned();
      }
      return [x, g * (1 - Math.sqrt(x / g))];
    },
    { nTrials: 60 },
  );
  const front = study.paretoFront;
  const complete = study.trials.filter((t) => t.state === "complete");
  assert.ok(
    study.trials.some((t) => t.state === "pruned"),
    "pruning worked in a multi-objective study",
  );
  assert.ok(front.length >= 3);
  for (const p of front)
    for (const q of complete)
      assert.ok(!dominates(q.values!, p.values!), `trial ${q.number} dominates front member ${p.number}`);
  for (const q of complete)
    if (!front.includes(q))
      assert.ok(
        front.some((p) => dominates(p.values!, q.values!)),
        `trial ${q.number} is dominated by the front`,
      );
  const rows = leaderboard(study);
  assert.deepEqual(
    rows
      .filter((r) => r.front === 0)
      .map((r) => r.number)
      .sort((a, b) => a - b),
    front.map((t) => t.number).sort((a, b) => a - b),
  );
  assert.throws(() => study.bestTrial, /no single best trial/);
});

test("outputs: leaderboard, best trial and config, plot series; importance ranks the parameter that matters", async () => {
  const dir = tempDir();
  const study = await Study.create({
    dir,
    space: {
      a: { type: "uniform", low: -1, high: 1 },
      b: { type: "uniform", low: -1, high: 1 },
      c: { type: "categorical", choices: ["p", "q"] },
    },
    sampler: { name: "random", seed: 7 },
    config: { base: { args: { epochs: 2 } }, metrics: ["loss"] },
  });
  await study.optimize((t) => 10 * (t.params.a as number) ** 2 + 0.5 * (t.params.b as number) ** 2, { nTrials: 60 });
  const imp = parameterImportance(study);
  assert.deepEqual(
    imp.map((i) => i.param),
    ["a", "b", "c"],
  );
  assert.ok(imp[0]!.importance > 0.6, JSON.stringify(imp));
  const out = writeStudyOutputs(study);
  const lb = JSON.parse(readFileSync(join(dir, "leaderboard.json"), "utf8"));
  assert.equal(lb.metric, "loss");
  assert.equal(lb.trials.length, 60);
  assert.equal(lb.trials[0].number, study.bestTrial!.number);
  assert.equal(lb.trials[0].run_dir, join("trials", `trial-${String(study.bestTrial!.number).padStart(4, "0")}`));
  const best = JSON.parse(readFileSync(out.best!, "utf8"));
  assert.deepEqual(best.params, study.bestTrial!.params);
  assert.deepEqual(JSON.parse(readFileSync(out.bestConfig!, "utf8")), {
    args: { epochs: 2 },
    ...study.bestTrial!.params,
  });
  for (const name of ["history", "importance", "parallel-coordinates"])
    assert.ok(existsSync(join(dir, "plots", `${name}.json`)), name);
  const history = JSON.parse(readFileSync(join(dir, "plots", "history.json"), "utf8"));
  const bests = history.points.map((p: { best: number }) => p.best);
  for (let i = 1; i < bests.length; i++) assert.ok(bests[i] <= bests[i - 1], "best so far never rises");
  assert.match(readFileSync(out.leaderboard, "utf8"), /^rank\s+trial\s+state\s+loss \(minimize\)/);
  study.close();
});

test("a process killed while creating a study leaves no half-made study.sqlite: a new study can start there", async () => {
  const dir = tempDir();
  const storage = fileURLToPath(new URL("../../src/tune/storage.js", import.meta.url));
  // the child opens the record and writes part of a study's meta as Study.create does, then dies (SIGKILL-like)
  const child = `import(${JSON.stringify(storage)}).then(async ({ StudyStorage }) => {
    const s = await StudyStorage.open(${JSON.stringify(join(dir, "study.sqlite"))});
    s.setMeta("id", "x", true);
    s.setMeta("name", "half", true);
    process.kill(process.pid, "SIGKILL");
  })`;
  assert.throws(() => execFileSync(process.execPath, ["-e", child], { stdio: "pipe" }));
  assert.equal(existsSync(join(dir, "study.sqlite")), false, "nothing written before the record is whole");
  const study = await Study.create({ dir, space: { x: { type: "uniform", low: 0, high: 1 } } });
  study.close();
  const again = await Study.load(dir);
  assert.equal(again.name, "study");
  again.close();
});
