/**
 * Continuous batching for decoder-only models whose cache is each layer's keys and values (GPT-2, Llama): every
 * sequence streamed through one ContinuousBatcher shares a single running decode batch. A new sequence joins it
 * between two decode steps (its prompt runs alone, then its cache is stacked under the batch's), and a sequence
 * that ends (an end token, a stop string, its token limit, an abort, or a consumer that stops reading) leaves it
 * between two steps; each decode step is one forward pass of [B, 1] tokens for all B running sequences.
 *
 * The batch keeps one cache, left-padded: the sequences' caches have different lengths, so each row is padded on
 * the left to the longest with zero columns that its attention mask hides, and each row's position ids count only
 * its own tokens (as left-padded batched generation does); when rows leave, columns that every remaining row pads
 * are dropped. Each sequence picks its tokens with its own settings (greedy or sampled, its own seed, repetition
 * penalty, stop strings, limits), resolved as decodeSteps resolves them for one prompt, and streams its text
 * through the same TextDeltas as generateStream, so a sequence decoded in a batch gives generateStream's chunks.
 */
import { ArgumentError, GraftError } from "../../util/errors.js";
import { Tensor, argmax as argmaxOp, noGrad, reshape, slice } from "../../tensor/index.js";
import type { CausalLM } from "../interfaces.js";
import { type CachedKV, cachedLength, dropLeadingKV, joinKV, reorderKV } from "../kv-cache.js";
import { argmax, greedyScoresUntouched, processScores, sample } from "./processors.js";
import { type SequenceSettings, sequenceSettings } from "./search.js";
import { type StreamChunk, type StreamOptions, TextDeltas, streamStops } from "./stream.js";

export interface ContinuousOptions {
  /** Sequences decoded together at most (default 32); later ones wait for a place. */
  maxBatchSize?: number;
}

/** What a batcher has done so far. */
export interface ContinuousStats {
  /** Decode steps (one forward pass of the whole batch each). */
  steps: number;
  /** Sequences that joined a batch already decoding other sequences. */
  joined: number;
  /** The most sequences one decode step ran. */
  largestBatch: number;
  /**
   * Rows of next-token logits read back from the tensors to pick from on the host (sampled rows, and greedy rows
   * whose processors change the scores); a greedy row that no processor touches takes the logits' argmax op instead.
   */
  rowsRead: number;
}

type Reason = NonNullable<StreamChunk["reason"]>;

interface Sequence {
  /** Prompt and new tokens. */
  row: number[];
  /** New tokens. */
  ids: number[];
  settings: SequenceSettings;
  text: TextDeltas;
  signal: AbortSignal | undefined;
  /** The consumer stopped reading. */
  cancelled: boolean;
  /** Next-token logits, waiting to be processed and picked from, or (greedy, no processor acting) the pick. */
  scores: Float64Array | null;
  pick: number | null;
  /** This row's mask over the batch cache's columns (0: padding). */
  mask: number[];
  /** Tokens of its own in the cache (the next token's position). */
  real: number;
  joinedRunning: boolean;
  largestBatch: number;
  ended: Reason | null;
  /** Chunks not yet read; the error that ended it; how to wake its reader. */
  queue: StreamChunk[];
  error: Error | null;
  wake: (() => void) | null;
}

const isKVList = (c: unknown): c is CachedKV[] =>
  Array.isArray(c) &&
  c.length > 0 &&
  c.every((l) => l && (l as CachedKV).key instanceof Tensor && (l as CachedKV).key.rank === 4);

export class ContinuousBatcher<Cache> {
  private readonly maxBatchSize: number;
  private readonly waiting: Sequence[] = [];
  private active: Sequence[] = [];
  private cache: CachedKV[] | null = null;
  private running = false;
  readonly stats: ContinuousStats = { steps: 0, joined: 0, largestBatch: 0, rowsRead: 0 };

  constructor(
    private readonly model: CausalLM<Cache>,
    opts: ContinuousOptions = {},
  ) {
    this.maxBatchSize = opts.maxBatchSize ?? 32;
    if (!Number.isInteger(this.maxBatchSize) || this.maxBatchSize < 1)
      throw new ArgumentError(`ContinuousBatcher: maxBatchSize must be a positive integer, got ${opts.maxBatchSize}`);
  }

  /** Sequences decoding now, and waiting for a place. */
  get size(): { running: number; waiting: number } {
    return { running: this.active.length, waiting: this.waiting.length };
  }

  /**
   * Streams the continuation of one prompt (token ids) as generateStream does (greedy or sampling; the same
   * chunks), decoding it in the shared batch. The last chunk also says whether the sequence joined a batch that was
   * already decoding others, and the largest batch it was decoded in.
   */
  async *stream(prompt: readonly number[], opts: StreamOptions = {}): AsyncGenerator<StreamChunk, void> {
    if (!Array.isArray(prompt) || prompt.length === 0 || prompt.some((t) => !Number.isInteger(t)))
      throw new ArgumentError("ContinuousBatcher: the prompt must be a non-empty list of token ids");
    if ((opts.numBeams ?? 1) > 1) throw new ArgumentError("ContinuousBatcher: beam search cannot stream; use generate");
    if (opts.useCache === false)
      throw new ArgumentError("ContinuousBatcher: continuous batching decodes with the cache");
    const { signal, decode, stopStrings, ...genOpts } = opts;
    const text = new TextDeltas(decode, streamStops("ContinuousBatcher", { stopStrings, decode }));
    const seq: Sequence = {
      row: [...prompt],
      ids: [],
      settings: sequenceSettings(this.model, prompt.length, { ...genOpts, numBeams: 1 }),
      text,
      signal,
      cancelled: false,
      scores: null,
      pick: null,
      mask: [],
      real: 0,
      joinedRunning: false,
      largestBatch: 0,
      ended: null,
      queue: [],
      error: null,
      wake: null,
    };
    this.waiting.push(seq);
    this.kick();
    try {
      for (;;) {
        while (seq.queue.length) {
          const c = seq.queue.shift()!;
          yield c;
          if (c.done) return;
        }
        if (seq.error) throw seq.error;
        await new Promise<void>((resolve) => {
          seq.wake = resolve;
        });
      }
    } finally {
      seq.cancelled = true; // a reader that stops early takes its sequence out of the batch
    }
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      while (this.waiting.length || this.active.length) {
        try {
          await this.iteration();
        } catch (e) {
          // a failed forward pass fails every sequence of the batch
          const err = e instanceof Error ? e : new GraftError(String(e));
          for (const s of this.active) this.fail(s, err);
          this.active = [];
          this.cache = null;
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.running = false;
    }
  }

  /** Runs fn as generation does: the model in eval mode, no gradients recorded. */
  private run<T>(fn: () => T): T {
    const wasTraining = this.model.training;
    this.model.eval();
    try {
      return noGrad(fn);
    } finally {
      if (wasTraining) this.model.train(true);
    }
  }

  private push(seq: Sequence, chunk: StreamChunk): void {
    seq.queue.push(chunk);
    seq.wake?.();
    seq.wake = null;
  }

  private end(seq: Sequence, reason: Reason): void {
    seq.ended = reason;
    this.push(seq, {
      tokenId: null,
      text: seq.text.rest(reason),
      done: true,
      reason,
      tokenIds: seq.ids.slice(),
      joinedRunning: seq.joinedRunning,
      largestBatch: seq.largestBatch,
    });
  }

  private fail(seq: Sequence, e: Error): void {
    seq.error = e;
    seq.ended = "abort";
    seq.wake?.();
    seq.wake = null;
  }

  private stopped = (s: Sequence) => s.cancelled || !!s.signal?.aborted;

  /** One round: admit waiting sequences, pick every running sequence's next token, let ended ones go, step. */
  private async iteration(): Promise<void> {
    const decoding = this.active.length;
    while (this.waiting.length && this.active.length < this.maxBatchSize) {
      const seq = this.waiting.shift()!;
      if (this.stopped(seq)) this.end(seq, "abort");
      else if (seq.settings.maxNew === 0) this.end(seq, "length");
      else {
        try {
          this.prefill(seq);
        } catch (e) {
          this.fail(seq, e instanceof Error ? e : new GraftError(String(e)));
          continue;
        }
        seq.joinedRunning = decoding > 0;
        if (seq.joinedRunning) this.stats.joined++;
        this.active.push(seq);
      }
    }
    for (const seq of this.active) {
      if (this.stopped(seq)) {
        seq.ended = "abort";
        continue;
      }
      const { proc, rng, eos, maxNew } = seq.settings;
      let tok = seq.pick;
      if (tok === null) {
        const scores = seq.scores!;
        processScores(scores, seq.row, proc);
        tok = proc.doSample ? sample(scores, rng) : argmax(scores);
      }
      seq.row.push(tok);
      seq.ids.push(tok);
      const isEos = eos.has(tok);
      const { text, stop } = await seq.text.next(seq.ids, isEos);
      this.push(seq, { tokenId: tok, text, done: false, tokenIds: seq.ids.slice() });
      if (isEos || stop) seq.ended = stop ? "stop" : "eos";
      else if (seq.ids.length >= maxNew) seq.ended = "length";
      // a sequence stopped while its text was decoded ends before the next step
      else if (this.stopped(seq)) seq.ended = "abort";
    }
    this.leave();
    if (this.active.length) this.step();
  }

  /** Runs a new sequence's prompt alone (as generateStream's first step does) and stacks its cache under the batch's. */
  private prefill(seq: Sequence): void {
    const n = seq.row.length;
    const out = this.run(() =>
      this.model.forward({
        inputIds: new Tensor(Int32Array.from(seq.row), [1, n]),
        attentionMask: new Tensor(new Float32Array(n).fill(1), [1, n]),
        positionIds: new Tensor(Int32Array.from(seq.row.keys()), [1, n]),
        pastKeyValues: null,
        useCache: true,
        growCache: true,
      }),
    );
    const cache = out.pastKeyValues as unknown;
    if (!isKVList(cache))
      throw new GraftError(
        "continuous batching needs a model whose cache is each layer's keys and values (GPT-2, Llama)",
        "generate with generateStream instead",
      );
    const v = out.logits.shape[2];
    this.pickInputs([seq], reshape(slice(out.logits, 1, n - 1, n), [1, v]));
    seq.real = n;
    seq.largestBatch = 1;
    if (this.cache === null) {
      this.cache = cache;
      seq.mask = new Array<number>(n).fill(1);
      return;
    }
    const len = cachedLength(this.cache[0]);
    const joined = Math.max(len, n);
    for (const s of this.active) s.mask = [...new Array<number>(joined - len).fill(0), ...s.mask];
    seq.mask = [...new Array<number>(joined - n).fill(0), ...new Array<number>(n).fill(1)];
    const batch = this.cache;
    this.cache = batch.map((kv, i) => joinKV([kv, cache[i]]));
  }

  /** Ended sequences leave the batch (their chunks already sent), and columns every remaining row pads go. */
  private leave(): void {
    const keep: number[] = [];
    this.active.forEach((s, i) => {
      if (s.ended === null) keep.push(i);
      else if (s.error === null) this.end(s, s.ended);
    });
    if (keep.length === this.active.length) return;
    this.active = keep.map((i) => this.active[i]);
    if (!keep.length || this.cache === null) {
      this.cache = null;
      return;
    }
    const pad = Math.min(...this.active.map((s) => s.mask.indexOf(1)));
    this.cache = this.cache.map((kv) => {
      const kept = reorderKV(kv, keep);
      return pad > 0 ? dropLeadingKV(kept, pad) : kept;
    });
    if (pad > 0) for (const s of this.active) s.mask = s.mask.slice(pad);
  }

  /** One decode step of the whole batch: each row's newest token at its own position. */
  private step(): void {
    const b = this.active.length;
    for (const s of this.active) s.mask.push(1);
    const t = this.active[0].mask.length;
    const out = this.run(() =>
      this.model.forward({
        inputIds: new Tensor(Int32Array.from(this.active.map((s) => s.row[s.row.length - 1])), [b, 1]),
        attentionMask: new Tensor(Float32Array.from(this.active.flatMap((s) => s.mask)), [b, t]),
        positionIds: new Tensor(Int32Array.from(this.active.map((s) => s.real)), [b, 1]),
        pastKeyValues: this.cache as unknown as Cache,
        useCache: true,
        growCache: true,
      }),
    );
    this.cache = out.pastKeyValues as unknown as CachedKV[];
    this.pickInputs(this.active, reshape(out.logits, [b, out.logits.shape[2]]));
    this.active.forEach((s) => {
      s.real++;
      s.largestBatch = Math.max(s.largestBatch, b);
    });
    this.stats.steps++;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, b);
  }

  /**
   * What each sequence picks its next token from, given the next-token logits ([seqs, vocabulary]) of the sequences
   * in order: a greedy row that no processor changes takes the logits' argmax op (as decodeSteps does), so a batch of
   * such rows reads no [rows, vocabulary] logits back; only the other rows are read, as scores.
   */
  private pickInputs(seqs: readonly Sequence[], logits: Tensor): void {
    const fast = seqs.map((s) => !s.settings.proc.doSample && greedyScoresUntouched(s.row.length, s.settings.proc));
    const picks = fast.some(Boolean) ? (argmaxOp(logits, -1).toArray() as number[]) : null;
    const slow = fast.filter((f) => !f).length;
    const all = slow === seqs.length ? logits.toRows() : null;
    seqs.forEach((s, i) => {
      s.pick = fast[i] ? picks![i] : null;
      s.scores = fast[i] ? null : Float64Array.from(all ? all[i] : slice(logits, 0, i, i + 1).toRows()[0]);
    });
    this.stats.rowsRead += slow;
  }
}
