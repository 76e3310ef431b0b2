/**
 * Where inference runs: `workers` worker threads (worker.ts), each holding every served model, so the event loop
 * never waits on a forward pass; or, with workers 0, the main thread itself (tests, tiny models). Each worker (a
 * "slot") runs one batch at a time; the batcher hands a batch to a free slot.
 *
 * Threads: the native kernels' thread pool is one per process and serves one kernel call at a time; a worker that
 * finds it busy runs its kernel on its own thread. So with N workers on C cores the pool gets C - (N - 1) threads
 * (unless GRAFT_THREADS says otherwise): one worker's batch uses the pool, the others one core each, C in all.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { GraftError } from "../util/errors.js";
import {
  type GenerateJob,
  type GenerationDone,
  type Job,
  type JobResult,
  type ModelInfo,
  type ModelSource,
  loadModels,
  modelInfo,
  runGeneration,
  runJob,
} from "./jobs.js";
import type { FromWorker, ToWorker } from "./worker.js";

/** One place a batch can run. */
export interface Slot {
  run(job: Job): Promise<JobResult>;
  /** Runs a generation, streaming its text; aborting `signal` stops it between two steps. */
  generate?(
    job: GenerateJob,
    onChunk: (text: string, tokenId: number) => void,
    signal: AbortSignal,
  ): Promise<GenerationDone>;
  /** Generations running here (the engine sends a new one to the least busy slot). */
  generating?: number;
}

interface Pending {
  resolve(v: never): void;
  reject(e: Error): void;
  onChunk?(text: string, tokenId: number): void;
}

class WorkerSlot implements Slot {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | null = null;

  private constructor(readonly worker: Worker) {}

  /** Starts a worker and waits until it has loaded every model. */
  static start(sources: readonly ModelSource[]): Promise<{ slot: WorkerSlot; models: ModelInfo[] }> {
    const worker = new Worker(new URL("./worker.js", import.meta.url), { workerData: { models: sources } });
    const slot = new WorkerSlot(worker);
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on("message", (m: FromWorker) => {
        if (m.type === "ready") {
          ready = true;
          resolve({ slot, models: m.models });
        } else if (m.type === "fatal") reject(new GraftError(m.message));
        else slot.settle(m);
      });
      worker.on("error", (e) => (ready ? slot.fail(e) : reject(e)));
      worker.on("exit", (code) => {
        const e = new GraftError(`an inference worker exited (code ${code})`);
        if (ready) slot.fail(e);
        else reject(e);
      });
    });
  }

  generating = 0;

  private settle(m: FromWorker): void {
    if (m.type === "ready" || m.type === "fatal") return;
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === "chunk") {
      p.onChunk?.(m.text, m.tokenId);
      return;
    }
    this.pending.delete(m.id);
    if (m.type === "result" || m.type === "done") p.resolve(m.value as never);
    else p.reject(new GraftError(m.message));
  }

  private fail(e: Error): void {
    this.failure = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  run(job: Job): Promise<JobResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: "job", id, job } satisfies ToWorker);
    });
  }

  async generate(
    job: GenerateJob,
    onChunk: (text: string, tokenId: number) => void,
    signal: AbortSignal,
  ): Promise<GenerationDone> {
    if (this.failure) throw this.failure;
    const id = this.nextId++;
    const cancel = () => this.worker.postMessage({ type: "cancel", id } satisfies ToWorker);
    signal.addEventListener("abort", cancel, { once: true });
    this.generating++;
    try {
      return await new Promise<GenerationDone>((resolve, reject) => {
        this.pending.set(id, { resolve, reject, onChunk });
        this.worker.postMessage({ type: "generate", id, job } satisfies ToWorker);
      });
    } finally {
      this.generating--;
      signal.removeEventListener("abort", cancel);
    }
  }
}

export class Engine {
  private constructor(
    readonly models: ModelInfo[],
    readonly slots: Slot[],
    private readonly workers: Worker[],
  ) {}

  /** Loads the models in `workers` threads (0: in this thread). */
  static async start(sources: readonly ModelSource[], workers: number): Promise<Engine> {
    if (!Number.isInteger(workers) || workers < 0)
      throw new GraftError(`workers must be a non-negative integer, got ${workers}`);
    if (workers === 0) {
      const loaded = loadModels(sources);
      const slot: Slot = {
        run: (job) => runJob(loaded, job),
        generate: (job, onChunk, signal) => runGeneration(loaded, job, signal, onChunk),
      };
      return new Engine(
        [...loaded].map(([name, p]) => modelInfo(name, p)),
        [slot],
        [],
      );
    }
    // the process-wide native pool, sized before any worker loads the addon (see the file comment)
    if (workers > 1 && !process.env.GRAFT_THREADS)
      process.env.GRAFT_THREADS = String(Math.max(1, availableParallelism() - (workers - 1)));
    const started = await Promise.allSettled(Array.from({ length: workers }, () => WorkerSlot.start(sources)));
    const ok = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) {
      await Promise.all(ok.map((s) => s.slot.worker.terminate()));
      throw failed.reason;
    }
    return new Engine(
      ok[0].models,
      ok.map((s) => s.slot),
      ok.map((s) => s.slot.worker),
    );
  }

  /** Runs a generation on the slot with the fewest running. */
  generate(
    job: GenerateJob,
    onChunk: (text: string, tokenId: number) => void,
    signal: AbortSignal,
  ): Promise<GenerationDone> {
    const slot = this.slots.reduce((a, b) => ((b.generating ?? 0) < (a.generating ?? 0) ? b : a));
    return slot.generate!(job, onChunk, signal);
  }

  /** Stops the worker threads. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
