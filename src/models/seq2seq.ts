/**
 * What encoder-decoder models (T5, BART) take and return, named as transformers names them, and what generation
 * needs of them: the encoder runs once per input (`encode`), then the decoder steps over the target with a cache of
 * its self-attention keys/values and of the cross-attention keys/values of the encoder output.
 */
import { Tensor } from "../tensor/index.js";
import type { LayerOutputs } from "./interfaces.js";

/** The encoder's output, as transformers' BaseModelOutput (kept between decoder steps). */
export interface EncoderOutput extends LayerOutputs {
  /** [B, S, H] */
  lastHiddenState: Tensor;
}

export interface Seq2SeqLMInputs<Cache = unknown> {
  /** [B, S] i32 source token ids (not needed when encoderOutputs is given). */
  inputIds?: Tensor | null;
  /** [B, S]: 1 for source tokens, 0 for padding (default: all 1). Needed with encoderOutputs too. */
  attentionMask?: Tensor | null;
  /** The encoder's output for these inputs (generation runs the encoder once). */
  encoderOutputs?: EncoderOutput | null;
  /** [B, T] i32 decoder inputs; derived from labels by shiftTokensRight when absent. With a cache: only new tokens. */
  decoderInputIds?: Tensor | null;
  /** [B, T_past + T]: 1 for target tokens, 0 for padding (default: all 1). */
  decoderAttentionMask?: Tensor | null;
  /** [B, T] i32 target ids; -100 is ignored by the loss. A loss is returned when given. */
  labels?: Tensor | null;
  /** The decoder's cache from the previous steps (self-attention and cross-attention keys/values per layer). */
  pastKeyValues?: Cache | null;
  /** Return the cache including these tokens (generation). */
  useCache?: boolean;
  outputHiddenStates?: boolean;
  outputAttentions?: boolean;
}

export interface Seq2SeqLMOutput<Cache = unknown> {
  /** [B, T, V] */
  logits: Tensor;
  /** Mean cross-entropy over labels that are not -100; null without labels. */
  loss: Tensor | null;
  pastKeyValues: Cache | null;
  /** [B, S, H] */
  encoderLastHiddenState: Tensor;
  /** With outputHiddenStates: embeddings' output then each layer's ([B, S, H]; layers + 1). */
  encoderHiddenStates?: Tensor[] | null;
  /** With outputHiddenStates: the decoder's, [B, T, H] each. */
  decoderHiddenStates?: Tensor[] | null;
  /** With outputAttentions: [B, heads, S, S] per encoder layer. */
  encoderAttentions?: Tensor[] | null;
  /** With outputAttentions: [B, heads, T, T_past + T] per decoder layer. */
  decoderAttentions?: Tensor[] | null;
  /** With outputAttentions: [B, heads, T, S] per decoder layer. */
  crossAttentions?: Tensor[] | null;
}

/** What generation and seq2seq fine-tuning need of an encoder-decoder model. */
export interface Seq2SeqLM<Cache = unknown> {
  readonly config: {
    model_type: string;
    pad_token_id: number | null;
    eos_token_id: number | null;
    bos_token_id?: number | null;
    decoder_start_token_id: number | null;
    vocab_size: number;
    /** BART: the token forced first after decoder_start_token_id (null: none). */
    forced_bos_token_id?: number | null;
    /** BART: the token forced when the length limit is reached (null: none). */
    forced_eos_token_id?: number | null;
  };
  /** Longest source the encoder reads (null: unbounded, as T5's relative positions). */
  readonly maxPositions: number | null;
  /** Longest target the decoder can produce (null: unbounded). */
  readonly maxTargetPositions: number | null;
  /** Runs the encoder alone. */
  encode(inputs: {
    inputIds: Tensor;
    attentionMask?: Tensor | null;
    outputHiddenStates?: boolean;
    outputAttentions?: boolean;
  }): EncoderOutput;
  forward(inputs: Seq2SeqLMInputs<Cache>): Seq2SeqLMOutput<Cache>;
  /** The cache keeping only batch rows `rows` (in that order; a row may repeat): beam search reorders beams. */
  reorderCache(cache: Cache, rows: readonly number[]): Cache;
  eval(): unknown;
  train(mode?: boolean): unknown;
  readonly training: boolean;
}

/** Whether a model is an encoder-decoder (has encode and a decoder start token). */
export function isSeq2SeqLM(model: unknown): model is Seq2SeqLM {
  return (
    typeof model === "object" &&
    model !== null &&
    typeof (model as Seq2SeqLM).encode === "function" &&
    typeof (model as Seq2SeqLM).reorderCache === "function" &&
    "decoder_start_token_id" in ((model as Seq2SeqLM).config ?? {})
  );
}

/**
 * transformers' shift_tokens_right: the decoder's inputs are the labels shifted one step right, starting with the
 * decoder start token, with -100 (ignored labels) replaced by the pad id. labels [B, T] i32 → [B, T] i32.
 */
export function shiftTokensRight(labels: Tensor, padTokenId: number, decoderStartTokenId: number): Tensor {
  const [b, t] = labels.shape;
  const src = labels.toArray();
  const out = new Int32Array(b * t);
  for (let i = 0; i < b; i++) {
    out[i * t] = decoderStartTokenId;
    for (let j = 1; j < t; j++) {
      const v = src[i * t + j - 1];
      out[i * t + j] = v === -100 ? padTokenId : v;
    }
  }
  return new Tensor(out, [b, t]);
}
