/**
 * Dynamic batching. Each input of a request is one queue item; a batch groups items of the same model and
 * operation, under a budget of padded tokens (items × the longest of them ≤ maxBatchTokens) and of items
 * (≤ maxBatchSize). A batch always holds the oldest waiting item (no input starves) and is filled with the items
 * closest to it in length, so short inputs are not padded to long ones. A batch leaves when a slot is free and it
 * is full or its oldest item has waited maxWaitMs; while every slot is busy the queue fills, so batches grow with
 * the load and stay small (low latency) when it is light.
 */
import type { Job, JobResult } from "./jobs.js";
import type { Slot } from "./engine.js";

export interface BatchingOptions {
  /** Padded tokens per batch (items × longest). */
  maxBatchTokens: number;
  /** Items per batch. */
  maxBatchSize: number;
  /** How long the oldest item may wait for others to join its batch. */
  maxWaitMs: number;
}

/** What the batcher reports (the server turns it into metrics). */
export interface BatcherEvents {
  batch?(size: number, tokens: number, key: string): void;
  queueDepth?(items: number): void;
}

interface Item {
  key: string;
  /** The job of a batch made of this item alone; batches merge items of the same key. */
  job: Job;
  tokens: number;
  enqueued: number;
  cancelled: boolean;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/** One input of a request: its job (a single input) and its length in tokens. */
export interface BatchInput {
  job: Job;
  tokens: number;
}

/** The key items must share to go in one batch. */
function keyOf(job: Job): string {
  return job.op === "embed" ? `${job.model}\0embed\0${job.pooling}` : `${job.model}\0${job.op}`;
}

/** A job of several single-input jobs with the same key. */
function merge(items: readonly Item[]): Job {
  const first = items[0].job;
  if (first.op === "predict") return { ...first, inputs: items.flatMap((i) => (i.job as typeof first).inputs) };
  return { ...first, texts: items.flatMap((i) => (i.job as typeof first).texts) };
}

export class Batcher {
  private queue: Item[] = [];
  private readonly free: Slot[];
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;

  constructor(
    private readonly opts: BatchingOptions,
    slots: readonly Slot[],
    private readonly events: BatcherEvents = {},
  ) {
    this.free = [...slots];
  }

  /** Items waiting for a slot. */
  get depth(): number {
    return this.queue.length;
  }

  /**
   * Queues the inputs of one request; resolves with one result per input, in order. Aborting `signal` takes the
   * inputs still waiting out of the queue (a batch already running finishes; its results are dropped).
   */
  submit(inputs: readonly BatchInput[], signal?: AbortSignal): Promise<unknown[]> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = performance.now();
    const items: Item[] = [];
    const done = inputs.map(
      (input) =>
        new Promise<unknown>((resolve, reject) => {
          items.push({
            key: keyOf(input.job),
            job: input.job,
            tokens: input.tokens,
            enqueued: now,
            cancelled: false,
            resolve,
            reject,
          });
        }),
    );
    this.queue.push(...items);
    this.events.queueDepth?.(this.queue.length);
    if (signal) {
      const cancel = () => {
        const waiting = new Set(this.queue);
        for (const it of items) it.cancelled = true;
        this.queue = this.queue.filter((it) => !it.cancelled);
        for (const it of items) if (waiting.has(it)) it.reject(signal.reason);
        this.events.queueDepth?.(this.queue.length);
      };
      signal.addEventListener("abort", cancel, { once: true });
      const all = Promise.all(done);
      all.then(
        () => signal.removeEventListener("abort", cancel),
        () => signal.removeEventListener("abort", cancel),
      );
      this.schedule();
      return all;
    }
    this.schedule();
    return Promise.all(done);
  }

  /** Picks the next batch: the oldest item, then the items of its key closest to it in length, within the budget. */
  private take(): Item[] {
    const oldest = this.queue[0];
    const same = this.queue.filter((it) => it !== oldest && it.key === oldest.key);
    same.sort((a, b) => Math.abs(a.tokens - oldest.tokens) - Math.abs(b.tokens - oldest.tokens));
    const batch = [oldest];
    let longest = Math.max(1, oldest.tokens);
    for (const it of same) {
      if (batch.length >= this.opts.maxBatchSize) break;
      const l = Math.max(longest, it.tokens);
      if ((batch.length + 1) * l > this.opts.maxBatchTokens) continue;
      batch.push(it);
      longest = l;
    }
    const chosen = new Set(batch);
    this.queue = this.queue.filter((it) => !chosen.has(it));
    return batch.sort((a, b) => a.tokens - b.tokens);
  }

  /** Whether the oldest item's key already fills a batch. */
  private full(): boolean {
    const key = this.queue[0].key;
    let n = 0,
      longest = 0;
    for (const it of this.queue) {
      if (it.key !== key) continue;
      n++;
      longest = Math.max(longest, it.tokens);
      if (n >= this.opts.maxBatchSize || n * longest >= this.opts.maxBatchTokens) return true;
    }
    return false;
  }

  private schedule(): void {
    while (this.queue.length > 0 && this.free.length > 0) {
      const waited = performance.now() - this.queue[0].enqueued;
      if (waited < this.opts.maxWaitMs && !this.full()) {
        const at = this.queue[0].enqueued + this.opts.maxWaitMs;
        if (this.timer && this.timerAt <= at) return;
        if (this.timer) clearTimeout(this.timer);
        this.timerAt = at;
        this.timer = setTimeout(
          () => {
            this.timer = null;
            this.schedule();
          },
          Math.max(0, at - performance.now()),
        );
        return;
      }
      this.dispatch(this.free.pop()!, this.take());
    }
  }

  private dispatch(slot: Slot, batch: Item[]): void {
    this.events.queueDepth?.(this.queue.length);
    const tokens = batch.length * Math.max(...batch.map((it) => it.tokens));
    this.events.batch?.(batch.length, tokens, batch[0].key);
    const finish = () => {
      this.free.push(slot);
      this.schedule();
    };
    slot.run(merge(batch)).then(
      (results: JobResult) => {
        batch.forEach((it, i) => it.resolve(results[i]));
        finish();
      },
      (e: unknown) => {
        for (const it of batch) it.reject(e);
        finish();
      },
    );
  }
}
