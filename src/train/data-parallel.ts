/**
 * Data parallelism across MPI ranks, as PyTorch's DistributedDataParallel does it on CPU clusters: every rank holds
 * the whole model, computes the gradients of its shard of each global batch, and the gradients are summed across
 * ranks before the optimizer step, so every rank takes the same step.
 *
 * Gradients travel in buckets of about 25 MB, filled in reverse parameter order (the order backward produces them).
 * The backward pass calls tensor's grad-ready hook as soon as a parameter's gradient is final, and a bucket's
 * non-blocking all-reduce starts the moment all of its parameters are in, while backward goes on with the layers
 * below (buckets start strictly in order on every rank, so the collectives always match). Open MPI moves a started
 * all-reduce only inside MPI calls, so each hook call also tests the buckets in flight. Parameters that received no
 * gradient on any rank in the previous step (e.g. BERT's pooler under MLM) go into a last bucket sent after the
 * backward, so they never hold the others back; every bucket carries one presence flag per parameter, and a
 * parameter no rank gave a gradient keeps none (the optimizer skips it, as in one process).
 */
import { Tensor, setGradReadyHook } from "../tensor/index.js";
import type { Module } from "../nn/index.js";
import type { RngState } from "../util/rng.js";
import type { World } from "./distributed.js";

/** The bucket size PyTorch DDP uses by default. */
export const BUCKET_BYTES = 25 * 1024 * 1024;

interface Bucket {
  params: Tensor[];
  /** Offset of each parameter's gradient in the flat buffer. */
  offsets: number[];
  /** Gradient floats (the presence flags follow them). */
  length: number;
  ready: Set<Tensor>;
  buf: Float32Array | null;
  handle: number | null;
}

/** What the reducer measured over its lifetime. */
export interface ReducerStats {
  steps: number;
  buckets: number;
  bytes: number;
  /** Seconds the trainer waited for all-reduces after the backward (the communication backward did not hide). */
  exposedSeconds: number;
}

export class GradientReducer {
  private readonly world: World;
  private readonly bucketFloats: number;
  private buckets: Bucket[] = [];
  private where = new Map<Tensor, number>();
  private layoutKey = "";
  /** Parameters that got a gradient on some rank in the last step (null: assume all). */
  private expected: Set<Tensor> | null = null;
  private params: Tensor[] = [];
  private nextLaunch = 0;
  private armed = false;
  readonly stats: ReducerStats = { steps: 0, buckets: 0, bytes: 0, exposedSeconds: 0 };

  constructor(world: World, opts: { bucketBytes?: number } = {}) {
    this.world = world;
    this.bucketFloats = Math.max(1, Math.floor((opts.bucketBytes ?? BUCKET_BYTES) / 4));
  }

  /**
   * Arms the reducer for the backward of the last micro-batch of a step: `params` are the trainable parameters in
   * model order (the layout is rebuilt when they change, e.g. by gradual unfreezing).
   */
  begin(params: Tensor[]): void {
    const key = params.length + ":" + params.map((p) => p.id).join(",");
    if (key !== this.layoutKey || this.params.length !== params.length) {
      this.layoutKey = key;
      this.params = params;
      this.expected = null;
      this.layout();
    }
    for (const b of this.buckets) {
      b.ready.clear();
      b.buf = null;
      b.handle = null;
    }
    this.nextLaunch = 0;
    this.armed = true;
    setGradReadyHook((leaf) => this.onReady(leaf));
  }

  /** Buckets in reverse parameter order; parameters no rank gave a gradient last step go into the last bucket. */
  private layout(): void {
    const regular = [...this.params].reverse().filter((p) => !this.expected || this.expected.has(p));
    const idle = [...this.params].reverse().filter((p) => this.expected && !this.expected.has(p));
    this.buckets = [];
    let cur: Bucket | null = null;
    for (const p of regular) {
      if (!cur || (cur.length > 0 && cur.length + p.size > this.bucketFloats)) {
        cur = { params: [], offsets: [], length: 0, ready: new Set(), buf: null, handle: null };
        this.buckets.push(cur);
      }
      cur.params.push(p);
      cur.offsets.push(cur.length);
      cur.length += p.size;
    }
    if (idle.length) {
      const last: Bucket = { params: [], offsets: [], length: 0, ready: new Set(), buf: null, handle: null };
      for (const p of idle) {
        last.params.push(p);
        last.offsets.push(last.length);
        last.length += p.size;
      }
      this.buckets.push(last);
    }
    this.where = new Map();
    this.buckets.forEach((b, i) => {
      for (const p of b.params) this.where.set(p, i);
    });
  }

  private onReady(leaf: Tensor): void {
    const i = this.where.get(leaf);
    if (i === undefined) return;
    const b = this.buckets[i];
    if (b.handle !== null || b.buf !== null)
      throw new Error("data parallel: a gradient changed after its bucket's all-reduce started (two backward passes?)");
    b.ready.add(leaf);
    const idleBucket = this.expected !== null && i === this.buckets.length - 1 && !this.expected.has(leaf);
    if (!idleBucket) {
      while (this.nextLaunch < this.buckets.length && this.complete(this.buckets[this.nextLaunch])) {
        this.launch(this.buckets[this.nextLaunch]);
        this.nextLaunch++;
      }
    }
    // Open MPI progresses non-blocking collectives only inside MPI calls
    for (let j = 0; j < this.nextLaunch; j++) {
      const h = this.buckets[j].handle;
      if (h !== null && this.world.mpi.test(h)) this.buckets[j].handle = null;
    }
  }

  private complete(b: Bucket): boolean {
    if (this.expected && b === this.buckets[this.buckets.length - 1] && b.params.every((p) => !this.expected!.has(p)))
      return false; // the idle parameters' bucket goes after the backward
    return b.params.every((p) => b.ready.has(p) || !p.requiresGrad);
  }

  private launch(b: Bucket): void {
    const buf = new Float32Array(b.length + b.params.length);
    b.params.forEach((p, k) => {
      if (!p.grad) return;
      buf.set(p.grad.toFloat32Array(), b.offsets[k]);
      buf[b.length + k] = 1;
    });
    b.buf = buf;
    b.handle = this.world.mpi.iallreduce(buf);
    this.stats.buckets++;
    this.stats.bytes += buf.byteLength;
  }

  /**
   * After the backward: starts the buckets not yet started (in order), waits for all, and replaces every
   * parameter's gradient by the sum over ranks. The trainer scales each rank's loss by its share of the global
   * batch, so the sum is the combined batch's gradient.
   */
  finish(): void {
    if (!this.armed) throw new Error("data parallel: finish() without begin()");
    setGradReadyHook(null);
    this.armed = false;
    const t0 = performance.now();
    while (this.nextLaunch < this.buckets.length) this.launch(this.buckets[this.nextLaunch++]);
    const seen = new Set<Tensor>();
    for (const b of this.buckets) {
      if (b.handle !== null) this.world.mpi.wait(b.handle);
      b.handle = null;
      const buf = b.buf!;
      b.params.forEach((p, k) => {
        if (buf[b.length + k] > 0) {
          p.grad = new Tensor(buf.slice(b.offsets[k], b.offsets[k] + p.size), p.shape);
          seen.add(p);
        } else p.grad = null;
      });
      b.buf = null;
    }
    this.stats.exposedSeconds += (performance.now() - t0) / 1000;
    this.stats.steps++;
    // the next step's layout: parameters no rank gave a gradient wait in the last bucket
    const same = this.expected
      ? seen.size === this.expected.size && [...seen].every((p) => this.expected!.has(p))
      : seen.size === this.params.length;
    if (!same) {
      this.expected = seen;
      this.layout();
    }
  }

  /** Disarms the hook (after an error in the backward). */
  abandon(): void {
    if (this.armed) setGradReadyHook(null);
    this.armed = false;
  }

  /** The bucket sizes in floats (tests and the benchmark read the layout). */
  bucketSizes(): number[] {
    return this.buckets.map((b) => b.length);
  }
}

/** Rank 0's values of every parameter into every rank's model (the same initial weights everywhere). */
export function broadcastParameters(world: World, model: Module): void {
  const loaded = new Map<string, Tensor>();
  for (const [name, p] of model.namedParameters()) {
    const buf = p.toFloat32Array();
    world.mpi.broadcast(buf, 0);
    if (world.rank !== 0) loaded.set(name, new Tensor(buf, p.shape));
  }
  if (world.rank !== 0) model.loadStateDict(loaded, { strict: false });
}

/** A number from rank 0 (e.g. the seed) on every rank. */
export function broadcastNumber(world: World, value: number): number {
  const buf = new Float64Array([value]);
  world.mpi.broadcast(buf, 0);
  return buf[0];
}

/** Every rank's generator state, on every rank (each rank broadcasts its own in turn), indexed by rank. */
export function allRngStates(world: World, mine: RngState): RngState[] {
  const out: RngState[] = [];
  for (let r = 0; r < world.size; r++) {
    const buf = new Float64Array(5);
    if (r === world.rank) {
      buf.set(mine.s, 0);
      buf[4] = mine.spare ?? Number.NaN;
    }
    world.mpi.broadcast(buf, r);
    out.push({ s: [buf[0], buf[1], buf[2], buf[3]], spare: Number.isNaN(buf[4]) ? null : buf[4] });
  }
  return out;
}

/** The seed of rank r's generator: rank 0 draws exactly what one process would; the others draw their own streams. */
export function rankSeed(seed: number, rank: number): number {
  return rank === 0 ? seed : seed * 1000003 + rank * 2654435761;
}

/**
 * The examples of this rank in global micro-batch `idx` (N × the per-rank batch, in the global order): rank r takes
 * the r-th slice of `batchSize`, so the ranks together see exactly the batch one process would (a last, short
 * global batch leaves later ranks fewer examples, or none).
 */
export function shardOf(idx: Int32Array, batchSize: number, rank: number): Int32Array {
  return idx.subarray(Math.min(idx.length, rank * batchSize), Math.min(idx.length, (rank + 1) * batchSize));
}

/** Sums a few numbers over all ranks (losses, counts, the stop flag of a step). */
export function sumOverRanks(world: World, values: number[]): number[] {
  const buf = Float32Array.from(values);
  world.mpi.allreduce(buf);
  return Array.from(buf);
}
