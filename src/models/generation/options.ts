/** What generate takes and returns (a module of its own so that config.ts can name the options without a cycle). */
import type { Rng } from "../../util/rng.js";
import type { Tensor } from "../../tensor/index.js";
import type { CausalLM } from "../interfaces.js";
import type { Seq2SeqLM } from "../seq2seq.js";

/** generation_config.json's fields (transformers' names); values as JSON holds them (see config.ts). */
export type GenerationConfig = Record<string, unknown>;

export interface GenerateOptions {
  /** Tokens to add to each prompt (default 20, or the generation config's max_new_tokens / max_length). */
  maxNewTokens?: number;
  /** transformers' max_length: prompt (padded) plus new tokens; used when maxNewTokens is not given. */
  maxLength?: number;
  /** No end token before this many new tokens (end tokens get -inf). */
  minNewTokens?: number;
  /** transformers' min_length: no end token before the row (prompt included) is this long. */
  minLength?: number;
  /** Sample instead of taking the most likely token (default false: greedy, or beam search with numBeams > 1). */
  doSample?: boolean;
  /** Divide logits by this before sampling (default 1). */
  temperature?: number;
  /** Sample among the k most likely tokens only (default 50, as transformers; 0 turns it off). */
  topK?: number;
  /** Sample among the smallest set of most likely tokens whose probabilities sum to ≥ p (default 1: off). */
  topP?: number;
  /** Sample among tokens at least minP × as likely as the best one (default off). */
  minP?: number | null;
  /** > 1 makes tokens already in the sequence (prompt included) less likely (transformers' CTRL penalty; default 1). */
  repetitionPenalty?: number;
  /** No n-gram of this size occurs twice (prompt included; default 0: off). */
  noRepeatNgramSize?: number;
  /** Beam search with this many beams (default 1: greedy or sampling). */
  numBeams?: number;
  /** Finished beams score sum(log p) / (generated length, end token counted) ** lengthPenalty (default 1). */
  lengthPenalty?: number;
  /**
   * Beam search stops: true as soon as numBeams hypotheses are finished; false (default) when no running beam can
   * still beat the finished ones judged at the current length; "never" judged at the longest possible length.
   */
  earlyStopping?: boolean | "never";
  /** Beam search returns this many of the best hypotheses per input (default 1; at most numBeams). */
  numReturnSequences?: number;
  /** Token(s) that end a sequence (default the generation config's, then the model config's eos_token_id). */
  eosTokenId?: number | readonly number[] | null;
  /** More tokens that end a sequence (added to eosTokenId). */
  stopTokenIds?: readonly number[];
  /** Strings that end a sequence when the generated text contains one that ends in the newest token (needs decode). */
  stopStrings?: string | readonly string[];
  /** Turns token ids into text: needed by stopStrings (and by generateStream's text). */
  decode?: (ids: number[]) => string;
  /** Token that fills prompts on the left and rows that have ended (default pad_token_id, else the first eos). */
  padTokenId?: number | null;
  /** Encoder-decoders: the decoder's first token (default the config's decoder_start_token_id). */
  decoderStartTokenId?: number | null;
  /** The token forced right after the decoder start token (BART's forced_bos_token_id; default the config's). */
  forcedBosTokenId?: number | null;
  /** The token(s) forced last when maxNewTokens is reached (default the config's forced_eos_token_id). */
  forcedEosTokenId?: number | readonly number[] | null;
  /** Drives sampling (default the process-wide generator). */
  rng?: Rng;
  /** Reuse keys/values (or LSTM state) between steps (default true). */
  useCache?: boolean;
  /** Also return each step's raw next-token logits [R, V]. */
  outputLogits?: boolean;
  /** Also return each step's processed scores [R, V] (beam search: log-probabilities after the processors). */
  outputScores?: boolean;
  /** Defaults for every option above (HF field names); by default the model's generation_config.json. */
  generationConfig?: GenerationConfig | null;
}

export interface GenerateOutput {
  /**
   * Decoders: each prompt followed by its new tokens (no padding before the prompt; padding after an end token).
   * Encoder-decoders: the decoder's tokens, starting with the decoder start token (as transformers returns them).
   * Beam search: numReturnSequences rows per input, best first.
   */
  sequences: number[][];
  /** Only the new tokens of each row. */
  newTokens: number[][];
  /** Beam search: each returned sequence's score (sum of log-probabilities / length ** lengthPenalty). */
  sequencesScores?: number[];
  /** With outputLogits: the raw next-token logits of each step, [R, V] each (R = inputs × beams). */
  logits?: Tensor[];
  /** With outputScores: the processed scores of each step, [R, V] each. */
  scores?: Tensor[];
}

/** A step of greedy or sampled decoding: each row's new token, or null for a row that had already ended. */
export interface StepEvent {
  step: number;
  tokens: (number | null)[];
  /** Why each row ended at this step: an end token (or stop id), a stop string; null for rows going on. */
  ended: ("eos" | "stop" | null)[];
}

export type Prompts = readonly (readonly number[])[] | { inputIds: Tensor; attentionMask?: Tensor | null };

/** Any model generate accepts. */
export type GenerativeModel = CausalLM<unknown> | Seq2SeqLM<unknown>;
