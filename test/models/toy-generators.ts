/**
 * Test-only models with hand-written next-token distributions, so a test knows the best beam by arithmetic: a
 * bigram decoder (the next token depends on the last one only) and an encoder-decoder whose next token depends on
 * the source's first token and the decoder's last token. Both count what they read, to show the cache is used.
 */
import type { CausalLM, CausalLMInputs, CausalLMOutput } from "../../src/models/interfaces.js";
import type { EncoderOutput, Seq2SeqLM, Seq2SeqLMInputs, Seq2SeqLMOutput } from "../../src/models/seq2seq.js";
import { Tensor } from "../../src/tensor/index.js";

/** Log-probabilities over `vocab` tokens from a sparse table of probabilities (the rest share what is left). */
export function logProbs(vocab: number, probs: Record<number, number>): number[] {
  const given = Object.values(probs).reduce((a, b) => a + b, 0);
  const others = vocab - Object.keys(probs).length;
  const rest = others > 0 ? (1 - given) / others : 0;
  return Array.from({ length: vocab }, (_, t) => Math.log(probs[t] ?? rest));
}

function logitsTensor(rows: number[][][]): Tensor {
  const b = rows.length;
  const t = rows[0].length;
  const v = rows[0][0].length;
  return new Tensor(Float32Array.from(rows.flat(2)), [b, t, v]);
}

/** A decoder whose next-token log-probabilities are table[last token]. */
export class BigramLM implements CausalLM<number[][]> {
  readonly config: { model_type: string; pad_token_id: number | null; eos_token_id: number | null; vocab_size: number };
  readonly maxPositions = null;
  training = false;
  /** Tokens read by forward, in all. */
  tokensRead = 0;

  constructor(
    readonly table: number[][],
    eos: number | null,
    pad: number,
  ) {
    this.config = { model_type: "toy-bigram", pad_token_id: pad, eos_token_id: eos, vocab_size: table.length };
  }

  forward(inputs: CausalLMInputs<number[][]>): CausalLMOutput<number[][]> {
    const ids = inputs.inputIds.toRows();
    this.tokensRead += ids.length * ids[0].length;
    const past = inputs.pastKeyValues ?? ids.map(() => []);
    const logits = logitsTensor(ids.map((row) => row.map((tok) => this.table[tok])));
    return {
      logits,
      loss: null,
      pastKeyValues: inputs.useCache ? ids.map((row, i) => [...past[i], ...row]) : null,
    };
  }

  reorderCache(cache: number[][], rows: readonly number[]): number[][] {
    return rows.map((r) => cache[r].slice());
  }

  eval(): this {
    this.training = false;
    return this;
  }

  train(mode = true): this {
    this.training = mode;
    return this;
  }
}

/**
 * An encoder-decoder whose next-token log-probabilities are table[source's first token][decoder's last token]
 * (missing entries: uniform). Its cache holds each row's decoder tokens, so a wrong reorder changes nothing the
 * model computes; `cacheRows` records each reorder for the tests to check.
 */
export class TableSeq2Seq implements Seq2SeqLM<number[][]> {
  readonly config: {
    model_type: string;
    pad_token_id: number | null;
    eos_token_id: number | null;
    decoder_start_token_id: number | null;
    vocab_size: number;
    forced_bos_token_id?: number | null;
  };
  readonly maxPositions = 16;
  readonly maxTargetPositions = 32;
  training = false;
  encodeCalls = 0;
  decoderTokensRead = 0;
  /** The source rows each decoder row read in the last forward (from the encoder output it was given). */
  lastSources: number[] = [];

  constructor(
    readonly table: Record<number, Record<number, number[]>>,
    readonly vocab: number,
    ids: { eos: number; pad: number; start: number; forcedBos?: number | null },
  ) {
    this.config = {
      model_type: "toy-seq2seq",
      pad_token_id: ids.pad,
      eos_token_id: ids.eos,
      decoder_start_token_id: ids.start,
      vocab_size: vocab,
      forced_bos_token_id: ids.forcedBos ?? null,
    };
  }

  /** The "hidden state" of a source is its token ids, [B, S, 1]. */
  encode(inputs: { inputIds: Tensor; attentionMask?: Tensor | null }): EncoderOutput {
    this.encodeCalls++;
    const [b, s] = inputs.inputIds.shape;
    return { lastHiddenState: new Tensor(Float32Array.from(inputs.inputIds.toArray()), [b, s, 1]) };
  }

  forward(inputs: Seq2SeqLMInputs<number[][]>): Seq2SeqLMOutput<number[][]> {
    const enc = inputs.encoderOutputs ?? this.encode({ inputIds: inputs.inputIds as Tensor });
    const [b, s] = enc.lastHiddenState.shape;
    const src = enc.lastHiddenState.toRows().map((r) => r[0]);
    this.lastSources = Array.from({ length: b }, (_, i) => src[i * s]);
    const dec = (inputs.decoderInputIds as Tensor).toRows();
    this.decoderTokensRead += dec.length * dec[0].length;
    const uniform = new Array<number>(this.vocab).fill(-Math.log(this.vocab));
    const logits = logitsTensor(
      dec.map((row, i) => row.map((tok) => this.table[this.lastSources[i]]?.[tok] ?? uniform)),
    );
    const past = inputs.pastKeyValues ?? dec.map(() => []);
    return {
      logits,
      loss: null,
      pastKeyValues: inputs.useCache ? dec.map((row, i) => [...past[i], ...row]) : null,
      encoderLastHiddenState: enc.lastHiddenState,
    };
  }

  reorderCache(cache: number[][], rows: readonly number[]): number[][] {
    return rows.map((r) => cache[r].slice());
  }

  eval(): this {
    this.training = false;
    return this;
  }

  train(mode = true): this {
    this.training = mode;
    return this;
  }
}
