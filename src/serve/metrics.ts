/**
 * The server's Prometheus metrics (prom-client), in a registry of its own so two servers in one process (tests,
 * an application embedding two) keep separate counts: requests and latencies by route and status, batch sizes,
 * queue depth, and tokens processed (a counter, and the rate over the last 10 seconds as a gauge).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class ServeMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: "graft_requests_total",
    help: "HTTP requests answered, by route and status",
    labelNames: ["route", "status"] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: "graft_request_duration_seconds",
    help: "Time from a request's arrival to its answer, by route and status",
    labelNames: ["route", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: "graft_batch_size",
    help: "Inputs per batch sent to a model",
    labelNames: ["model", "op"] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: "graft_queue_depth",
    help: "Inputs waiting for a batch",
    registers: [this.registry],
  });
  readonly inflight = new Gauge({
    name: "graft_requests_in_flight",
    help: "Requests admitted and not yet answered",
    registers: [this.registry],
  });
  readonly tokens = new Counter({
    name: "graft_tokens_total",
    help: "Tokens processed (inputs of batches, and generated tokens), by model and operation",
    labelNames: ["model", "op"] as const,
    registers: [this.registry],
  });
  readonly generations = new Counter({
    name: "graft_generations_total",
    help: "Generations finished, by model and how they ended (eos, stop, length, abort)",
    labelNames: ["model", "reason"] as const,
    registers: [this.registry],
  });
  readonly joined = new Counter({
    name: "graft_generations_joined_total",
    help: "Generations that joined a decode batch already decoding others (continuous batching), by model",
    labelNames: ["model"] as const,
    registers: [this.registry],
  });
  readonly decodeBatch = new Histogram({
    name: "graft_decode_batch_size",
    help: "The most sequences each finished generation was decoded with (continuous batching), by model",
    labelNames: ["model"] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });
  private readonly window: { at: number; tokens: number }[] = [];

  constructor() {
    const window = this.window;
    new Gauge({
      name: "graft_tokens_per_second",
      help: "Tokens processed per second over the last 10 seconds",
      registers: [this.registry],
      collect() {
        const now = performance.now();
        while (window.length && window[0].at < now - 10_000) window.shift();
        this.set(window.reduce((s, w) => s + w.tokens, 0) / 10);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: "graft_process_" });
  }

  /** Counts tokens processed now. */
  addTokens(model: string, op: string, n: number): void {
    this.tokens.inc({ model, op }, n);
    const now = performance.now();
    this.window.push({ at: now, tokens: n });
    while (this.window.length && this.window[0].at < now - 10_000) this.window.shift();
  }
}
