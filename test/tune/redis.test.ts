/**
 * The BullMQ executor against a real redis-server (started here on a free port; the test is skipped, saying so,
 * when redis-server is not installed): a worker killed mid-trial leads to the trial being retried once, on another
 * worker, and recorded once; crashes are retried, timeouts and objective errors are not.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer, connect } from "node:net";
import { join } from "node:path";
import { Queue, UnrecoverableError, Worker } from "bullmq";
import { Study } from "../../src/tune/study.js";
import { RedisExecutor, jobId } from "../../src/tune/executors/redis.js";
import { BUILTINS_MODULE } from "../../src/tune/objectives/ref.js";
import { evaluateBuiltin } from "../../src/tune/objectives/builtins.js";
import type { Trial } from "../../src/tune/types.js";
import { HERE, spawnGraft, waitFor } from "./helpers.js";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, "127.0.0.1");
    c.on("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.on("error", () => resolve(false));
  });
}

async function startRedis(port?: number): Promise<{ url: string; port: number; stop: () => Promise<void> } | string> {
  const probe = spawnSync("redis-server", ["--version"]);
  if (probe.error)
    return `redis-server cannot be started (${(probe.error as NodeJS.ErrnoException).code}); install it (Debian: apt-get install -y redis-server) to run this test`;
  port ??= await freePort();
  const server = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  try {
    await waitFor(() => accepting(port), 10000, "redis-server to accept connections");
  } catch (e) {
    server.kill("SIGKILL");
    return `redis-server did not start: ${(e as Error).message}`;
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      if (server.exitCode !== null || server.signalCode !== null) return resolve();
      server.once("exit", () => resolve());
      server.kill("SIGKILL");
    });
  return { url: `redis://127.0.0.1:${port}`, port, stop };
}

const space = {
  x0: { type: "uniform" as const, low: -2, high: 2 },
  x1: { type: "uniform" as const, low: -2, high: 2 },
};
const workerFlags = (url: string, queue: string) => [
  "worker",
  "--redis",
  url,
  "--queue",
  queue,
  "--lock-duration",
  "1000",
  "--stalled-interval",
  "300",
];

function stopWorker(w: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (w.exitCode !== null || w.signalCode !== null) return resolve();
    w.on("exit", () => resolve());
    w.kill("SIGTERM");
  });
}

test("BullMQ executor: a worker killed mid-trial means one retry elsewhere and one record", {
  timeout: 90_000,
}, async (t) => {
  const redis = await startRedis();
  if (typeof redis === "string") return t.skip(redis);
  const queue = `test-${process.pid}-kill`;
  const workers: ChildProcess[] = [];
  let executor: RedisExecutor | undefined;
  try {
    const study = await Study.create({ space, sampler: { name: "random", seed: 1 } });
    executor = await RedisExecutor.connect(
      { module: BUILTINS_MODULE, export: "builtinObjective", options: { name: "sphere", steps: 6, stepMs: 150 } },
      { url: redis.url, studyId: study.id, queue, slots: 1, retries: 1, pollMs: 50 },
    );
    const recorded: number[] = [];
    const a = spawnGraft(workerFlags(redis.url, queue), { detached: true });
    workers.push(a);
    const done = study.optimize(executor, { nTrials: 3, onTrialEnd: (tr: Trial) => recorded.push(tr.number) });
    await waitFor(
      () => study.trials[0]?.intermediate.length >= 2,
      20000,
      `trial 0 to report twice on worker A (worker output: ${a.output()})`,
    );
    process.kill(-a.pid!, "SIGKILL"); // the worker and its trial process, mid-trial
    const b = spawnGraft(workerFlags(redis.url, queue));
    workers.push(b);
    await done;

    assert.deepEqual(
      study.trials.map((tr) => tr.state),
      ["complete", "complete", "complete"],
      b.output() + study.trials.map((tr) => tr.error).join("\n"),
    );
    assert.deepEqual(recorded.sort(), [0, 1, 2], "each trial recorded once");
    const t0 = study.trial(0);
    assert.equal(t0.attempt, 2, "trial 0 ran a second time");
    assert.deepEqual(
      t0.intermediate.map((v) => v.step),
      [1, 2, 3, 4, 5, 6],
      "only the second attempt's values are kept",
    );
    assert.equal(t0.values![0], evaluateBuiltin("sphere", t0.params));
    assert.deepEqual(
      study.trials.slice(1).map((tr) => tr.attempt),
      [1, 1],
    );
    const q = new Queue(queue, { connection: { url: redis.url } });
    const job = await q.getJob(jobId(study.id, 0));
    assert.equal(job!.attemptsStarted, 2, "BullMQ started the job twice: once on A, once on B");
    assert.match(b.output(), /trial 0 of study .* \(attempt 2\)/);
    // once the study has the results, closing the executor removes the finished jobs from Redis
    await executor.close();
    assert.equal(await q.getJob(jobId(study.id, 0)), undefined);
    await q.close();
  } finally {
    await executor?.close().catch(() => {});
    await Promise.all(workers.map(stopWorker));
    await redis.stop();
  }
});

test("BullMQ executor: a crashed trial process is retried, a timeout and an objective error are not", {
  timeout: 90_000,
}, async (t) => {
  const redis = await startRedis();
  if (typeof redis === "string") return t.skip(redis);
  const queue = `test-${process.pid}-fail`;
  const worker = spawnGraft(workerFlags(redis.url, queue));
  let executor: RedisExecutor | undefined;
  try {
    const study = await Study.create({
      space: { x: { type: "uniform", low: 0, high: 1 } },
      sampler: { name: "random", seed: 0 },
    });
    executor = await RedisExecutor.connect(
      { module: join(HERE, "..", "objectives.js"), export: "misbehaving" },
      { url: redis.url, studyId: study.id, queue, slots: 2, retries: 1, timeoutSeconds: 1.5, pollMs: 50 },
    );
    await study.optimize(executor, { nTrials: 5 });
    const q = new Queue(queue, { connection: { url: redis.url } });
    const started = await Promise.all(
      [0, 1, 2, 3, 4].map(async (n) => (await q.getJob(jobId(study.id, n)))!.attemptsStarted),
    );
    await q.close();
    await executor.close();
    assert.deepEqual(
      study.trials.map((tr) => tr.state),
      ["complete", "failed", "failed", "failed", "complete"],
    );
    assert.match(study.trial(1).error!, /killed by SIGKILL/);
    assert.match(study.trial(2).error!, /timed out after 1.5 s/);
    assert.match(study.trial(3).error!, /the objective's own error/);
    assert.deepEqual(started, [1, 2, 1, 1, 1], "only the crash was retried");
  } finally {
    await executor?.close().catch(() => {});
    await stopWorker(worker);
    await redis.stop();
  }
});

test("BullMQ executor: after a Redis restart the trial in flight is requeued, and the worker logs the outage once", {
  timeout: 90_000,
}, async (t) => {
  const first = await startRedis();
  if (typeof first === "string") return t.skip(first);
  let redis = first;
  const queue = `test-${process.pid}-restart`;
  const worker = spawnGraft(workerFlags(redis.url, queue));
  let executor: RedisExecutor | undefined;
  try {
    const study = await Study.create({ space, sampler: { name: "random", seed: 1 } });
    executor = await RedisExecutor.connect(
      { module: BUILTINS_MODULE, export: "builtinObjective", options: { name: "sphere", steps: 8, stepMs: 150 } },
      { url: redis.url, studyId: study.id, queue, slots: 1, retries: 1, pollMs: 50 },
    );
    const done = study.optimize(executor, { nTrials: 2 });
    await waitFor(
      () => study.trials[0]?.intermediate.length >= 2,
      20000,
      `trial 0 to report twice (worker output: ${worker.output()})`,
    );
    // the server dies with everything in it (no persistence) and comes back empty on the same port
    await redis.stop();
    await new Promise((r) => setTimeout(r, 2500));
    const again = await startRedis(redis.port);
    assert.equal(typeof again, "object", String(again));
    redis = again as typeof redis;
    await done;

    const out = worker.output();
    assert.deepEqual(
      study.trials.map((tr) => tr.state),
      ["complete", "complete"],
      out + study.trials.map((tr) => tr.error).join("\n"),
    );
    const t0 = study.trial(0);
    assert.equal(t0.attempt, 2, "trial 0 was requeued once");
    assert.deepEqual(
      t0.intermediate.map((v) => v.step),
      [1, 2, 3, 4, 5, 6, 7, 8],
      "only the requeued attempt's values are kept",
    );
    assert.equal(t0.values![0], evaluateBuiltin("sphere", t0.params));
    assert.doesNotMatch(out, /Unhandled error event/, out);
    assert.equal(out.match(/lost the connection to Redis/g)?.length, 1, out);
    assert.ok((out.match(/could not renew lock/g)?.length ?? 0) <= 1, out);
    assert.match(out, /Redis is back/);
  } finally {
    await executor?.close().catch(() => {});
    await stopWorker(worker);
    await redis.stop();
  }
});

test("BullMQ executor: on a resumed study, a trial whose job failed while the study was down is requeued", {
  timeout: 60_000,
}, async (t) => {
  const redis = await startRedis();
  if (typeof redis === "string") return t.skip(redis);
  const queue = `test-${process.pid}-resume`;
  let worker: ReturnType<typeof spawnGraft> | undefined;
  let executor: RedisExecutor | undefined;
  const q = new Queue(queue, { connection: { url: redis.url } });
  try {
    const study = await Study.create({ space, sampler: { name: "random", seed: 2 } });
    // the job of trial 0 as an earlier run of the study left it: failed by the queue (here: a lost lock), not by
    // the trial; a worker of the test's own fails it
    const spec = { number: 0, params: { x0: 0.5, x1: -0.5 }, attempt: 1 };
    await q.add(
      "trial",
      { study: study.id, spec, objective: { module: BUILTINS_MODULE }, timeoutSeconds: null, reportsKey: "unused" },
      { jobId: jobId(study.id, 0), attempts: 1 },
    );
    const failing = new Worker(
      queue,
      async () => {
        throw new UnrecoverableError("Missing lock for job 0. moveToFinished");
      },
      { connection: { url: redis.url, maxRetriesPerRequest: null } },
    );
    await waitFor(async () => (await q.getJobState(jobId(study.id, 0))) === "failed", 10000, "the job to fail");
    await failing.close();
    worker = spawnGraft(workerFlags(redis.url, queue));
    executor = await RedisExecutor.connect(
      { module: BUILTINS_MODULE, export: "builtinObjective", options: { name: "sphere", steps: 2, stepMs: 10 } },
      { url: redis.url, studyId: study.id, queue, slots: 1, retries: 1, pollMs: 50 },
    );
    await study.optimize(executor, { nTrials: 1 });
    assert.equal(study.trial(0).state, "complete", study.trial(0).error ?? "");
  } finally {
    await q.close();
    await executor?.close().catch(() => {});
    if (worker) await stopWorker(worker);
    await redis.stop();
  }
});

test("BullMQ executor: an unreachable Redis is a clear error", async () => {
  const port = await freePort();
  await assert.rejects(
    RedisExecutor.connect(
      { module: BUILTINS_MODULE },
      { url: `redis://127.0.0.1:${port}`, studyId: "x", connectTimeoutMs: 1000 },
    ),
    /cannot reach Redis at redis:\/\/127.0.0.1:\d+/,
  );
});
