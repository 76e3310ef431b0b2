/**
 * The worker side of the BullMQ executor (`graft worker --redis URL`): takes trial jobs from the queue and runs
 * each in a trial process of its own (concurrency processes, cores/concurrency threads each), relaying intermediate
 * values to the study through Redis and waiting for each pruning decision (a missing answer counts as "go on").
 *
 * Keeping the trial out of the worker's event loop matters: BullMQ renews the job's lock from that loop, and a lock
 * that lapses makes other workers take the job over. A worker that dies stops renewing, which is exactly how its
 * trial gets retried elsewhere (after `lockDurationMs`, found by a stall check every `stalledIntervalMs`).
 */
import { hostname } from "node:os";
import type { Job, Worker as BullWorker } from "bullmq";
import { ArgumentError, GraftError } from "../../util/errors.js";
import type { TrialOutcome } from "../types.js";
import { threadBudget } from "./pool.js";
import { DEFAULT_QUEUE, decisionKey, defineScripts, type TrialJob, type WireReport } from "./redis.js";
import { TrialProcess } from "./trial-process.js";

export interface RedisWorkerOptions {
  url: string;
  queue?: string;
  /** Trials run at once on this host. */
  concurrency?: number;
  threadsPerTrial?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Times a job may be taken over from a lost worker before it fails. */
  maxStalledCount?: number;
  /** How long a trial waits for a pruning decision before going on. */
  decisionTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface RunningWorker {
  readonly name: string;
  close(): Promise<void>;
}

export async function startRedisWorker(opts: RedisWorkerOptions): Promise<RunningWorker> {
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new ArgumentError(`--concurrency must be a positive integer, got ${opts.concurrency}`);
  const threads = opts.threadsPerTrial ?? threadBudget(concurrency);
  const queueName = opts.queue ?? DEFAULT_QUEUE;
  const name = `${hostname()}:${process.pid}`;
  const log = opts.log ?? (() => {});
  const idle: TrialProcess[] = [];
  const all = new Set<TrialProcess>();

  const { Worker, UnrecoverableError } = await import("bullmq");
  const worker: BullWorker<TrialJob, TrialOutcome> = new Worker<TrialJob, TrialOutcome>(
    queueName,
    (job) => processJob(job),
    {
      connection: { url: opts.url, maxRetriesPerRequest: null },
      concurrency,
      name,
      lockDuration: opts.lockDurationMs ?? 30000,
      stalledInterval: opts.stalledIntervalMs ?? 30000,
      maxStalledCount: opts.maxStalledCount ?? 1,
      autorun: false,
    },
  );
  worker.on("error", (e) => log(`worker error: ${e.message}`));

  async function processJob(job: Job<TrialJob, TrialOutcome>): Promise<TrialOutcome> {
    const data = job.data;
    const attempt = data.spec.attempt + job.attemptsStarted - 1;
    const number = data.spec.number;
    log(`trial ${number} of study ${data.study} (attempt ${attempt})`);
    const client = await worker.client;
    defineScripts(client);
    const blocking = client.duplicate();
    let proc = idle.pop();
    while (proc && !proc.alive) {
      all.delete(proc);
      proc = idle.pop();
    }
    if (!proc) {
      proc = new TrialProcess(threads);
      all.add(proc);
    }
    const push = (r: WireReport) => client.runCommand("graftPush", [data.reportsKey, JSON.stringify(r)]);
    const dk = decisionKey(queueName, data.study, number, attempt);
    const timeoutS = (opts.decisionTimeoutMs ?? 10000) / 1000;
    try {
      const r = await proc.run(
        { ...data.spec, attempt },
        data.objective,
        {
          report: async (step, value) => {
            await push({ kind: "report", number, attempt, step, value });
            for (;;) {
              const got = await blocking.bzpopmin(dk, timeoutS);
              if (!got) return false;
              const d = JSON.parse(got[1]) as { step: number; prune: boolean };
              if (d.step === step) return d.prune;
              // an answer to an earlier report that timed out: skip it
            }
          },
          attr: (key, value) => void push({ kind: "attr", number, attempt, key, value }),
        },
        data.timeoutSeconds ? data.timeoutSeconds * 1000 : undefined,
      );
      if (r.kind === "outcome") {
        log(`trial ${number}: ${r.outcome.state}`);
        return r.outcome;
      }
      log(`trial ${number}: ${r.error}`);
      if (r.kind === "timeout") throw new UnrecoverableError(r.error);
      throw new Error(r.error);
    } finally {
      blocking.disconnect();
      if (proc.alive) idle.push(proc);
      else all.delete(proc);
    }
  }

  void worker.run();
  const ready = await Promise.race([
    worker.waitUntilReady().then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), 10000).unref()),
  ]);
  if (!ready) {
    void worker.close(true).catch(() => {});
    throw new GraftError(
      `cannot reach Redis at ${opts.url} (no answer in 10 s)`,
      "start redis-server, or check the --redis URL (redis://host:port)",
    );
  }
  return {
    name,
    async close() {
      await worker.close();
      for (const p of all) p.close();
    },
  };
}
