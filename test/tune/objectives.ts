/**
 * Objective factories the executor tests load by module path in trial processes (and an interrupted study for the
 * resume test, run as `node objectives.js interrupted-study DIR`). Imported with no arguments, nothing runs.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { TrialPruned, type Objective } from "../../src/tune/context.js";

/** Records where and how each trial ran (pid, GRAFT_THREADS) in `<log>`, sleeping `ms` first. */
export function recording(opts: { log: string; ms?: number }): Objective {
  return async (t) => {
    const started = Date.now();
    await sleep(opts.ms ?? 0);
    appendFileSync(
      opts.log,
      JSON.stringify({
        trial: t.number,
        attempt: t.attempt,
        pid: process.pid,
        threads: process.env.GRAFT_THREADS,
        started,
        ended: Date.now(),
      }) + "\n",
    );
    return (t.params.x as number) ** 2;
  };
}

/** Trial 1 kills its own process (a native crash, an out-of-memory kill); trial 2 hangs past any timeout. */
export function misbehaving(): Objective {
  return async (t) => {
    if (t.number === 1) process.kill(process.pid, "SIGKILL");
    if (t.number === 2) await sleep(60_000);
    if (t.number === 3) throw new Error("the objective's own error");
    return t.params.x as number;
  };
}

/** Reports (x² + 1/step) at steps 1..steps, honouring pruning. */
export function curve(opts: { steps: number; ms?: number }): Objective {
  return async (t) => {
    const x = t.params.x as number;
    for (let s = 1; s <= opts.steps; s++) {
      await sleep(opts.ms ?? 0);
      await t.report(s, x * x + 1 / s);
      if (t.shouldPrune()) throw new TrialPruned();
    }
    return x * x;
  };
}

if (process.argv[2] === "interrupted-study") {
  // runs a study whose 6th trial kills the whole process midway, leaving the record as a crash would
  const { Study } = await import("../../src/tune/study.js");
  const dir = process.argv[3]!;
  const study = await Study.create({
    dir,
    space: { x: { type: "uniform", low: -1, high: 1 } },
    sampler: { name: "random", seed: 4 },
  });
  await study.optimize(
    async (t) => {
      appendFileSync(join(dir, "calls.log"), `${t.number}\n`);
      await t.report(1, 1);
      if (t.number === 5) process.kill(process.pid, "SIGKILL");
      return (t.params.x as number) ** 2;
    },
    { nTrials: 10 },
  );
}
