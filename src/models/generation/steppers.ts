/**
 * What the decoding loops call to get the next-token logits of every row: a decoder-only model reading its
 * left-padded prompt then one token a step, or an encoder-decoder whose encoder ran once and whose decoder steps
 * from its start token. Both keep the model's cache between steps and reorder it when beams change places.
 */
import { Tensor, reshape, slice } from "../../tensor/index.js";
import { type CausalLM, selectRows } from "../interfaces.js";
import type { EncoderOutput, Seq2SeqLM } from "../seq2seq.js";

export interface Stepper {
  /** Next-token logits [R, V] for rows given in full (every token the decoder has read, prompt included). */
  next(rows: readonly (readonly number[])[]): Tensor;
  /** Row r now continues old row origin[r] (beam search). */
  reorder(origin: readonly number[]): void;
}

const i32 = (rows: readonly (readonly number[])[]) =>
  new Tensor(Int32Array.from(rows.flat()), [rows.length, rows[0].length]);
const f32 = (rows: readonly (readonly number[])[]) =>
  new Tensor(Float32Array.from(rows.flat()), [rows.length, rows[0].length]);

/** logits [R, T, V] → the last position's [R, V]. */
function lastLogits(logits: Tensor): Tensor {
  const [r, t, v] = logits.shape;
  return reshape(slice(logits, 1, t - 1, t), [r, v]);
}

/**
 * transformers' generation positions: cumsum(mask) - 1, and 0 at padding (transformers 5.x's
 * _prepare_position_ids_for_generation; 4.x wrote 1 there), from column `from` on. No real token attends to padding,
 * so only the outputs at padding positions depend on it.
 */
function positions(mask: readonly (readonly number[])[], from: number): number[][] {
  return mask.map((m) => {
    let c = 0;
    return m
      .map((v) => (v ? c++ : -1))
      .slice(from)
      .map((p) => (p < 0 ? 0 : p));
  });
}

export class DecoderStepper<Cache> implements Stepper {
  private cache: Cache | null = null;
  private cachedLen = 0;

  /** promptMask: each row's mask over its padded prompt (1 token, 0 padding). */
  constructor(
    private readonly model: CausalLM<Cache>,
    private promptMask: number[][],
    private readonly useCache: boolean,
  ) {}

  next(rows: readonly (readonly number[])[]): Tensor {
    const t = rows[0].length;
    const p = this.promptMask[0].length;
    const mask = this.promptMask.map((m) => [...m, ...new Array<number>(t - p).fill(1)]);
    const cached = this.useCache && this.cache !== null;
    const from = cached ? this.cachedLen : 0;
    const out = this.model.forward({
      inputIds: i32(rows.map((r) => r.slice(from))),
      attentionMask: f32(mask),
      positionIds: i32(positions(mask, from)),
      pastKeyValues: cached ? this.cache : null,
      useCache: this.useCache,
      growCache: this.useCache, // keys and values written in place into preallocated buffers (kv-cache.ts)
    });
    this.cache = out.pastKeyValues;
    this.cachedLen = t;
    return lastLogits(out.logits);
  }

  reorder(origin: readonly number[]): void {
    this.promptMask = origin.map((o) => this.promptMask[o]);
    if (this.cache === null) return;
    // a model that cannot reorder its cache re-reads the whole sequence on the next step
    this.cache = this.model.reorderCache ? this.model.reorderCache(this.cache, origin) : null;
  }
}

export class Seq2SeqStepper<Cache> implements Stepper {
  private cache: Cache | null = null;
  private cachedLen = 0;
  private readonly encoderOutputs: EncoderOutput;
  private readonly mask: Tensor;

  /**
   * Runs the encoder once on inputIds/attentionMask [B, S]; rowOf[r] is the input row that decoder row r reads
   * (beam search repeats each input numBeams times).
   */
  constructor(
    private readonly model: Seq2SeqLM<Cache>,
    inputIds: Tensor,
    attentionMask: Tensor,
    rowOf: readonly number[],
    private readonly useCache: boolean,
  ) {
    const enc = model.encode({ inputIds, attentionMask });
    const same = rowOf.length === inputIds.shape[0] && rowOf.every((r, i) => r === i);
    this.encoderOutputs = { lastHiddenState: same ? enc.lastHiddenState : selectRows(enc.lastHiddenState, rowOf) };
    this.mask = same ? attentionMask : selectRows(attentionMask, rowOf);
  }

  next(rows: readonly (readonly number[])[]): Tensor {
    const cached = this.useCache && this.cache !== null;
    const from = cached ? this.cachedLen : 0;
    const out = this.model.forward({
      encoderOutputs: this.encoderOutputs,
      attentionMask: this.mask,
      decoderInputIds: i32(rows.map((r) => r.slice(from))),
      pastKeyValues: cached ? this.cache : null,
      useCache: this.useCache,
    });
    this.cache = out.pastKeyValues;
    this.cachedLen = rows[0].length;
    return lastLogits(out.logits);
  }

  /** Beams move within their own input, so the encoder's rows stay; the decoder's cache follows the beams. */
  reorder(origin: readonly number[]): void {
    if (this.cache !== null) this.cache = this.model.reorderCache(this.cache, origin);
  }
}
