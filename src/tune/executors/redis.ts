/**
 * Distributed trials on BullMQ over Redis: the study's process adds each trial as a job; `graft worker --redis URL`
 * processes on any number of hosts run them (see redis-worker.ts) and send intermediate values back through a
 * Redis list; the study answers each with a pruning decision.
 *
 * Delivery is at-least-once and recording is exactly-once. A job's id is `<study id>.<trial number>`, so adding a
 * trial twice (a resumed study) finds the existing job instead of duplicating it: a job that completed while the
 * study was down is collected, one still running is waited for. A worker that dies mid-trial stops renewing its
 * lock, another worker's stall check puts the job back in the queue, and it runs again as the next attempt;
 * intermediate values from an older attempt are then dropped, and the study records a trial's result only once.
 * A crashed trial process is retried up to `retries` times; an objective that throws, or a trial past its
 * timeout, fails for good (retrying would fail the same way).
 *
 * Redis itself may restart. A job that vanishes while its trial is in flight (a server that came back empty) is
 * added again as the trial's next attempt, and a resumed study that finds a trial's job failed (e.g. a worker lost
 * its lock while the study was down) queues it again: the study never recorded that failure, and a trial that was
 * running when the study stopped runs again, as with every executor.
 */
// bullmq is loaded on first use: most studies never touch Redis
import type { IRedisClient, Job, Queue } from "bullmq";
import { ArgumentError, GraftError } from "../../util/errors.js";
import type { TrialSpec } from "../context.js";
import { normalizeRef, type ObjectiveRef } from "../objectives/ref.js";
import type { TrialOutcome } from "../types.js";
import type { Executor, TrialHooks } from "./executor.js";

export const DEFAULT_QUEUE = "graft-trials";

/** What a job carries: everything a worker needs, as plain data. */
export interface TrialJob {
  study: string;
  spec: TrialSpec;
  objective: ObjectiveRef;
  timeoutSeconds: number | null;
  /** The list reports go to. */
  reportsKey: string;
}

/** A report or attribute on its way from a worker to the study. */
export type WireReport =
  | { kind: "report"; number: number; attempt: number; step: number; value: number }
  | { kind: "attr"; number: number; attempt: number; key: string; value: unknown };

/**
 * The few list and sorted-set operations graft needs, as Lua commands through BullMQ's client interface (which
 * works the same over every Redis client library BullMQ supports). Decisions go into a sorted set scored by step,
 * so a worker's blocking pop (BZPOPMIN) sees them in step order.
 */
const SCRIPTS: Record<string, { numberOfKeys: number; lua: string }> = {
  graftPush: { numberOfKeys: 1, lua: "return redis.call('RPUSH', KEYS[1], ARGV[1])" },
  graftPopMany: {
    numberOfKeys: 1,
    lua: "local out = {} for i = 1, tonumber(ARGV[1]) do local v = redis.call('LPOP', KEYS[1]) if not v then break end out[i] = v end return out",
  },
  graftDecide: {
    numberOfKeys: 1,
    lua: "redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2]) redis.call('EXPIRE', KEYS[1], 3600) return 1",
  },
};

const defined = new WeakSet<IRedisClient>();

export function defineScripts(client: IRedisClient): void {
  if (defined.has(client)) return;
  for (const [name, def] of Object.entries(SCRIPTS)) client.defineCommand(name, def);
  defined.add(client);
}

export function reportsKey(queue: string, study: string): string {
  return `graft:${queue}:${study}:reports`;
}

export function decisionKey(queue: string, study: string, number: number, attempt: number): string {
  return `graft:${queue}:${study}:decision:${number}:${attempt}`;
}

export function jobId(study: string, number: number): string {
  return `${study}.${number}`;
}

export interface RedisExecutorOptions {
  url: string;
  studyId: string;
  queue?: string;
  /** Trials in flight at once (the queue's depth; workers decide how many run). */
  slots?: number;
  /** Extra attempts for a trial whose process crashed. */
  retries?: number;
  timeoutSeconds?: number;
  pollMs?: number;
  /** How long to wait for Redis before giving up. */
  connectTimeoutMs?: number;
}

interface Active {
  spec: TrialSpec;
  hooks: TrialHooks;
  /** Maps the attempt numbers of a job created by an earlier run of the study onto the trial's. */
  offset: number;
  startedSeen: number;
  /** The trial's attempt that a worker last started (null: none yet). */
  lastStarted: number | null;
  /** Times the trial's job was added again after it vanished from Redis. */
  requeued: number;
  resolve: (o: TrialOutcome) => void;
}

/** Times a trial's job is added again after vanishing from Redis before the trial fails. */
const MAX_REQUEUES = 3;

export class RedisExecutor implements Executor {
  readonly kind = "redis";
  readonly slots: number;
  /** Workers set their own thread budgets. */
  readonly threadsPerTrial = 0;
  private readonly active = new Map<number, Active>();
  /** Jobs whose outcome went to the study: removed from Redis on close (the study's record has them). */
  private readonly delivered: string[] = [];
  private loop: Promise<void> | null = null;
  private closed = false;
  private readonly queueName: string;

  private constructor(
    private readonly queue: Queue,
    private readonly client: IRedisClient,
    private readonly objective: ObjectiveRef,
    private readonly opts: RedisExecutorOptions,
  ) {
    this.slots = opts.slots ?? 4;
    this.queueName = opts.queue ?? DEFAULT_QUEUE;
  }

  static async connect(objective: ObjectiveRef, opts: RedisExecutorOptions): Promise<RedisExecutor> {
    const slots = opts.slots ?? 4;
    if (!Number.isInteger(slots) || slots < 1)
      throw new ArgumentError(`the number of trials in flight must be a positive integer, got ${slots}`);
    const retries = opts.retries ?? 1;
    if (!Number.isInteger(retries) || retries < 0)
      throw new ArgumentError(`retries must be a non-negative integer, got ${retries}`);
    const { Queue } = await import("bullmq");
    const queue = new Queue(opts.queue ?? DEFAULT_QUEUE, {
      connection: { url: opts.url, maxRetriesPerRequest: null, enableOfflineQueue: true },
    });
    queue.on("error", () => {}); // connection errors surface through the commands below
    try {
      const client = await withTimeout(queue.client, opts.connectTimeoutMs ?? 10000, opts.url);
      await withTimeout(client.info(), opts.connectTimeoutMs ?? 10000, opts.url);
      defineScripts(client);
      return new RedisExecutor(queue, client, normalizeRef(objective), { ...opts, retries });
    } catch (e) {
      void queue.close().catch(() => {});
      throw e;
    }
  }

  async run(spec: TrialSpec, hooks: TrialHooks): Promise<TrialOutcome> {
    const id = jobId(this.opts.studyId, spec.number);
    let job = (await this.queue.getJob(id)) as Job<TrialJob> | undefined;
    // a job an earlier run of the study left failed: the study never recorded it, and runs the trial again
    if (job && (await this.queue.getJobState(id)) === "failed") {
      await job.remove();
      job = undefined;
    }
    job ??= await this.addJob(spec);
    const offset = spec.attempt - job.data.spec.attempt;
    return new Promise<TrialOutcome>((resolve) => {
      this.active.set(spec.number, { spec, hooks, offset, startedSeen: 0, lastStarted: null, requeued: 0, resolve });
      this.loop ??= this.poll();
    });
  }

  private async addJob(spec: TrialSpec): Promise<Job<TrialJob>> {
    const data: TrialJob = {
      study: this.opts.studyId,
      spec,
      objective: this.objective,
      timeoutSeconds: this.opts.timeoutSeconds ?? null,
      reportsKey: reportsKey(this.queueName, this.opts.studyId),
    };
    return (await this.queue.add("trial", data, {
      jobId: jobId(this.opts.studyId, spec.number),
      attempts: 1 + (this.opts.retries ?? 1),
      backoff: { type: "fixed", delay: 1000 },
      removeOnComplete: false,
      removeOnFail: false,
    })) as Job<TrialJob>;
  }

  /** One loop for all trials in flight: relay reports, answer them, and collect finished jobs. */
  private async poll(): Promise<void> {
    const pollMs = this.opts.pollMs ?? 200;
    try {
      while (!this.closed && this.active.size > 0) {
        await this.relayReports();
        for (const [number, a] of [...this.active]) {
          const outcome = await this.check(number, a);
          if (outcome) {
            this.active.delete(number);
            this.delivered.push(jobId(this.opts.studyId, number));
            a.resolve(outcome);
          }
        }
        await this.relayReports();
        if (this.active.size > 0) await new Promise((r) => setTimeout(r, pollMs));
      }
    } catch (e) {
      const error = `lost the connection to Redis at ${this.opts.url}: ${(e as Error).message}`;
      for (const a of this.active.values()) a.resolve({ state: "failed", error });
      this.active.clear();
    } finally {
      this.loop = null;
    }
  }

  private async relayReports(): Promise<void> {
    const key = reportsKey(this.queueName, this.opts.studyId);
    for (;;) {
      const items = (await this.client.runCommand("graftPopMany", [key, 100])) as string[] | null;
      if (!items || items.length === 0) return;
      for (const raw of items) {
        const r = JSON.parse(raw) as WireReport;
        const a = this.active.get(r.number);
        if (!a) continue; // a report for a trial this run is not waiting on (a zombie attempt)
        if (r.kind === "attr") {
          a.hooks.attr(r.key, r.value);
          continue;
        }
        const prune = a.hooks.report(r.step, r.value, r.attempt + a.offset);
        const dk = decisionKey(this.queueName, this.opts.studyId, r.number, r.attempt);
        await this.client.runCommand("graftDecide", [dk, r.step, JSON.stringify({ step: r.step, prune })]);
      }
    }
  }

  private async check(number: number, a: Active): Promise<TrialOutcome | null> {
    const id = jobId(this.opts.studyId, number);
    // the state first, then the job: a job read after it completed carries its return value
    const state = await this.queue.getJobState(id);
    const job = (await this.queue.getJob(id)) as Job<TrialJob> | undefined;
    if (!job || state === "unknown") {
      if (a.requeued >= MAX_REQUEUES)
        return {
          state: "failed",
          error: `the job of trial ${number} disappeared from the queue "${this.queueName}" ${a.requeued + 1} times (was it cleaned or obliterated?)`,
        };
      // Redis lost it (a restart without persistence): the trial's next attempt, as a new job; a worker still
      // running the old attempt has its reports answered "prune" once the new attempt starts
      a.requeued++;
      const attempt = a.lastStarted === null ? a.spec.attempt : a.lastStarted + 1;
      await this.addJob({ ...a.spec, attempt });
      a.offset = 0;
      a.startedSeen = 0;
      return null;
    }
    if (job.attemptsStarted > a.startedSeen) {
      a.startedSeen = job.attemptsStarted;
      a.lastStarted = job.data.spec.attempt + job.attemptsStarted - 1 + a.offset;
      a.hooks.started?.(a.lastStarted, job.processedBy ?? "redis");
    }
    if (state === "completed") return asOutcome(job.returnvalue, number);
    if (state === "failed") return { state: "failed", error: job.failedReason || "the job failed" };
    return null;
  }

  /** Stops polling and removes the jobs already delivered; jobs still queued or running stay for a resumed study. */
  async close(): Promise<void> {
    this.closed = true;
    await this.loop;
    for (const id of this.delivered) await this.queue.remove(id).catch(() => 0);
    this.delivered.length = 0;
    await this.queue.close();
  }
}

function asOutcome(v: unknown, number: number): TrialOutcome {
  const o = v as TrialOutcome | null;
  if (o && (o.state === "complete" || o.state === "pruned" || o.state === "failed")) return o;
  return { state: "failed", error: `trial ${number}: the worker returned ${JSON.stringify(v)}, not an outcome` };
}

function withTimeout<T>(p: Promise<T>, ms: number, url: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(
      () =>
        reject(
          new GraftError(
            `cannot reach Redis at ${url} (no answer in ${ms / 1000} s)`,
            "start redis-server, or check the --redis URL (redis://host:port)",
          ),
        ),
      ms,
    );
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
