/**
 * The worker side of the BullMQ executor (`graft worker --redis URL`): takes trial jobs from the queue and runs
 * each in a trial process of its own (concurrency processes, cores/concurrency threads each), relaying intermediate
 * values to the study through Redis and waiting for each pruning decision (a missing answer counts as "go on").
 *
 * Keeping the trial out of the worker's event loop matters: BullMQ renews the job's lock from that loop, and a lock
 * that lapses makes other workers take the job over. A worker that dies stops renewing, which is exactly how its
 * trial gets retried elsewhere (after `lockDurationMs`, found by a stall check every `stalledIntervalMs`).
 *
 * When Redis goes away, the connections reconnect with BullMQ's backoff (1 s growing to 20 s) and the worker says
 * so once per outage, and once when Redis is back. A job whose lock cannot be renewed (Redis restarted, or another
 * worker took it over) cannot be finished here: its trial is stopped, said once, and the study runs it again.
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
  const outage = outageLog(opts.url, log);
  /** The trials running here by job id; a job whose lock is lost is said once (`said`), not at every renewal. */
  const running = new Map<string, { proc: TrialProcess; lost: boolean }>();
  const said = new Set<string>();
  const sayOnce = (id: string, line: string) => {
    if (said.has(id)) return;
    said.add(id);
    log(line);
  };
  worker.on("lockRenewalFailed", (ids: string[]) => {
    for (const id of ids) {
      sayOnce(
        id,
        `job ${id}: its lock could not be renewed (Redis restarted, or another worker took the job over); stopping its trial here, the study runs it again`,
      );
      const r = running.get(id);
      if (r && !r.lost) {
        r.lost = true;
        r.proc.kill();
      }
    }
  });
  worker.on("error", (e) => {
    const job = /(?:could not renew lock for|Missing (?:lock|key) for) job ([^\s.]+(?:\.\d+)?)/.exec(e.message)?.[1];
    if (job !== undefined) sayOnce(job, `worker error: ${e.message}`);
    else outage.error(e);
  });
  void worker.client.then((c) => c.on("ready", outage.ready)).catch(() => {});

  async function processJob(job: Job<TrialJob, TrialOutcome>): Promise<TrialOutcome> {
    const data = job.data;
    const attempt = data.spec.attempt + job.attemptsStarted - 1;
    const number = data.spec.number;
    log(`trial ${number} of study ${data.study} (attempt ${attempt})`);
    const client = await worker.client;
    defineScripts(client);
    const blocking = client.duplicate();
    blocking.on("error", outage.error);
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
    const entry = { proc, lost: false };
    if (job.id) {
      running.set(job.id, entry);
      said.delete(job.id);
    }
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
      if (entry.lost) throw new UnrecoverableError(`trial ${number}: the job's lock was lost`);
      if (r.kind === "outcome") {
        log(`trial ${number}: ${r.outcome.state}`);
        return r.outcome;
      }
      log(`trial ${number}: ${r.error}`);
      if (r.kind === "timeout") throw new UnrecoverableError(r.error);
      throw new Error(r.error);
    } finally {
      if (job.id && running.get(job.id) === entry) running.delete(job.id);
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

/** Connection errors said once per outage (with how long it lasted once Redis is back); other errors each time. */
function outageLog(url: string, log: (line: string) => void): { error: (e: Error) => void; ready: () => void } {
  let since: number | null = null;
  return {
    error(e) {
      const code = (e as NodeJS.ErrnoException).code;
      const connection =
        (code !== undefined && /^E(CONNREFUSED|CONNRESET|TIMEDOUT|PIPE|NOTFOUND|AI_AGAIN|HOSTUNREACH)$/.test(code)) ||
        /Connection is closed|connect ETIMEDOUT|Stream isn't writeable/.test(e.message);
      if (!connection) return log(`worker error: ${e.message}`);
      if (since !== null) return;
      since = Date.now();
      log(`lost the connection to Redis at ${url} (${e.message}); reconnecting with backoff`);
    },
    ready() {
      if (since === null) return;
      log(`Redis is back after ${((Date.now() - since) / 1000).toFixed(1)} s`);
      since = null;
    },
  };
}
