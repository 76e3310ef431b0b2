/** The local process pool: parallel trials with their own thread budgets, crashes and timeouts, pruning across processes. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Study } from "../../src/tune/study.js";
import { PoolExecutor, threadBudget } from "../../src/tune/executors/pool.js";
import { tempDir, HERE } from "./helpers.js";

const MODULE = join(HERE, "..", "objectives.js");
const space = { x: { type: "uniform" as const, low: -1, high: 1 } };

test("thread budgets split the cores between parallel trials", () => {
  assert.equal(threadBudget(1, 16), 16);
  assert.equal(threadBudget(4, 16), 4);
  assert.equal(threadBudget(3, 16), 5);
  assert.equal(threadBudget(32, 16), 1);
});

test("--parallel 2 runs two trials at once, each in its own process with its share of the threads", async () => {
  const dir = tempDir();
  const log = join(dir, "calls.jsonl");
  const pool = new PoolExecutor(
    { module: MODULE, export: "recording", options: { log, ms: 400 } },
    { parallel: 2, threadsPerTrial: 3 },
  );
  const study = await Study.create({ dir, space, sampler: { name: "random", seed: 0 } });
  try {
    await study.optimize(pool, { nTrials: 4 });
  } finally {
    await pool.close();
  }
  assert.ok(study.trials.every((t) => t.state === "complete"));
  const calls = readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { pid: number; threads: string; started: number; ended: number });
  assert.equal(calls.length, 4);
  assert.ok(
    calls.every((c) => c.threads === "3"),
    "GRAFT_THREADS is the trial's budget",
  );
  assert.equal(new Set(calls.map((c) => c.pid)).size, 2, "two processes, reused across trials");
  assert.ok(calls.every((c) => c.pid !== process.pid));
  const overlap = calls.some((a, i) => calls.some((b, j) => i !== j && a.started < b.ended && b.started < a.ended));
  assert.ok(overlap, "trials ran at the same time");
  for (const t of study.trials) assert.equal(t.values![0], (t.params.x as number) ** 2);
  study.close();
});

test("a killed trial process, a timeout and a throwing objective are failed trials; the study goes on", async () => {
  const pool = new PoolExecutor({ module: MODULE, export: "misbehaving" }, { parallel: 2, timeoutSeconds: 1.5 });
  const study = await Study.create({ space, sampler: { name: "random", seed: 0 } });
  try {
    await study.optimize(pool, { nTrials: 6 });
  } finally {
    await pool.close();
  }
  assert.deepEqual(
    study.trials.map((t) => t.state),
    ["complete", "failed", "failed", "failed", "complete", "complete"],
  );
  assert.match(study.trial(1).error!, /the trial process was killed by SIGKILL/);
  assert.match(study.trial(2).error!, /trial 2 timed out after 1.5 s/);
  assert.match(study.trial(3).error!, /the objective's own error/);
});

test("pruning decisions cross the process boundary", async () => {
  const pool = new PoolExecutor({ module: MODULE, export: "curve", options: { steps: 9 } }, { parallel: 2 });
  const study = await Study.create({
    space,
    sampler: { name: "random", seed: 3 },
    pruner: { name: "asha", minResource: 1, reductionFactor: 3 },
  });
  try {
    await study.optimize(pool, { nTrials: 12 });
  } finally {
    await pool.close();
  }
  const pruned = study.trials.filter((t) => t.state === "pruned");
  assert.ok(pruned.length >= 4, `${pruned.length} pruned`);
  // a pruned trial stops right after the report at a rung (steps 1, 3, 9): at 9 too, when trials running in
  // parallel reach the last rung before enough others have been judged there (as ASHA does); some stop early
  for (const t of pruned)
    assert.ok([1, 3, 9].includes(t.intermediate.length), `trial ${t.number} stopped at step ${t.intermediate.length}`);
  assert.ok(
    pruned.some((t) => t.intermediate.length < 9),
    pruned.map((t) => t.intermediate.length).join(","),
  );
  assert.ok(study.trials.some((t) => t.state === "complete"));
});
