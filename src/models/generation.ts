/**
 * Text generation for causal language models, following transformers' GenerationMixin: greedy decoding, or
 * sampling from logits warped by temperature → top-k → top-p (that order, as transformers builds its warpers);
 * rows that produced an end-of-sequence token continue with padding until every row is done.
 *
 * With the cache (default) the prompt runs once and each new token costs one step: GPT-2 keeps every layer's keys
 * and values, the LSTM its state. Without it every step re-reads the whole sequence; both give the same tokens.
 * Prompts of different lengths are left-padded; positions count real tokens (cumsum(mask) - 1, as transformers'
 * prepare_inputs_for_generation computes them), so padding does not shift a prompt's positions.
 */
import { ArgumentError } from "../util/errors.js";
import { defaultRng, type Rng } from "../util/rng.js";
import { Tensor, noGrad, reshape, slice } from "../tensor/index.js";
import { padBatch, type CausalLM } from "./interfaces.js";

export interface GenerateOptions {
  /** Tokens to add to each prompt (default 20). */
  maxNewTokens?: number;
  /** Sample instead of taking the most likely token (default false: greedy). */
  doSample?: boolean;
  /** Divide logits by this before sampling (default 1). */
  temperature?: number;
  /** Sample among the k most likely tokens only (default 50, as transformers; 0 turns it off). */
  topK?: number;
  /** Sample among the smallest set of most likely tokens whose probabilities sum to ≥ p (default 1: off). */
  topP?: number;
  /** Token(s) that end a sequence (default the config's eos_token_id). */
  eosTokenId?: number | readonly number[] | null;
  /** Token that fills prompts on the left and rows that have ended (default pad_token_id, else eos). */
  padTokenId?: number | null;
  /** Drives sampling (default the process-wide generator). */
  rng?: Rng;
  /** Reuse keys/values (or LSTM state) between steps (default true). */
  useCache?: boolean;
  /** Also return each step's raw next-token logits [B, V]. */
  outputLogits?: boolean;
}

export interface GenerateOutput {
  /** Each prompt followed by its new tokens (no padding before the prompt; padding after an end token). */
  sequences: number[][];
  /** Only the new tokens of each row. */
  newTokens: number[][];
  /** With outputLogits: the raw next-token logits of each step, [B, V] each. */
  logits?: Tensor[];
}

// ---- logits warpers (one row at a time; -Infinity removes a token)

export function applyTemperature(scores: Float64Array, temperature: number): void {
  for (let i = 0; i < scores.length; i++) scores[i] /= temperature;
}

/** Keeps tokens scoring at least the k-th largest score (ties at the boundary stay, as torch.topk + `<` does). */
export function applyTopK(scores: Float64Array, k: number): void {
  if (k <= 0 || k >= scores.length) return;
  const kth = Float64Array.from(scores).sort().reverse()[k - 1];
  for (let i = 0; i < scores.length; i++) if (scores[i] < kth) scores[i] = -Infinity;
}

/**
 * transformers' TopPLogitsWarper: sort ascending, cumulative softmax, drop the tokens whose cumulative probability
 * is ≤ 1 - p (the least likely ones), always keeping the most likely token.
 */
export function applyTopP(scores: Float64Array, p: number, minTokensToKeep = 1): void {
  if (p >= 1) return;
  const order = Array.from(scores.keys()).sort((a, b) => scores[a] - scores[b] || a - b);
  const probs = softmax(scores);
  let cum = 0;
  const remove: number[] = [];
  order.forEach((idx, rank) => {
    cum += probs[idx];
    if (cum <= 1 - p && rank < order.length - minTokensToKeep) remove.push(idx);
  });
  for (const idx of remove) scores[idx] = -Infinity;
}

function softmax(scores: Float64Array): Float64Array {
  let m = -Infinity;
  for (const s of scores) if (s > m) m = s;
  const out = new Float64Array(scores.length);
  let z = 0;
  for (let i = 0; i < scores.length; i++) z += out[i] = scores[i] === -Infinity ? 0 : Math.exp(scores[i] - m);
  for (let i = 0; i < out.length; i++) out[i] /= z;
  return out;
}

function argmax(scores: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  return best;
}

/** One draw from softmax(scores). */
function sample(scores: Float64Array, rng: Rng): number {
  const probs = softmax(scores);
  const u = rng.uniform();
  let cum = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue;
    last = i;
    cum += probs[i];
    if (u < cum) return i;
  }
  return last; // rounding left u above the total
}

// ---- the loop

/** Generates from prompts given as token-id lists (left-padded here) or as a padded batch with its mask. */
export function generate<Cache>(
  model: CausalLM<Cache>,
  prompts: readonly (readonly number[])[] | { inputIds: Tensor; attentionMask?: Tensor | null },
  opts: GenerateOptions = {},
): GenerateOutput {
  const maxNew = opts.maxNewTokens ?? 20;
  if (!Number.isInteger(maxNew) || maxNew < 0)
    throw new ArgumentError(`generate: maxNewTokens must be a non-negative integer, got ${maxNew}`);
  const doSample = opts.doSample ?? false;
  const temperature = opts.temperature ?? 1;
  const topK = opts.topK ?? 50;
  const topP = opts.topP ?? 1;
  if (doSample && !(temperature > 0))
    throw new ArgumentError(
      `generate: temperature must be > 0, got ${temperature}`,
      "for greedy decoding leave doSample off",
    );
  if (!Number.isInteger(topK) || topK < 0)
    throw new ArgumentError(`generate: topK must be a non-negative integer, got ${topK}`);
  if (!(topP > 0 && topP <= 1)) throw new ArgumentError(`generate: topP must be in (0, 1], got ${topP}`);
  const eosOpt = opts.eosTokenId === undefined ? model.config.eos_token_id : opts.eosTokenId;
  const eos = new Set(eosOpt === null ? [] : typeof eosOpt === "number" ? [eosOpt] : eosOpt);
  const pad = opts.padTokenId ?? model.config.pad_token_id ?? (eos.size ? [...eos][0] : 0);
  const rng = opts.rng ?? defaultRng();
  const useCache = opts.useCache ?? true;

  // rows of ids and mask, left-padded
  const p = Array.isArray(prompts)
    ? padBatch(prompts as readonly (readonly number[])[], pad, "left")
    : (prompts as { inputIds: Tensor; attentionMask?: Tensor | null });
  const ids = p.inputIds.toRows();
  const mask = p.attentionMask ? p.attentionMask.toRows() : ids.map((r) => new Array<number>(r.length).fill(1));
  const b = ids.length;
  const promptLen = ids[0].length;
  mask.forEach((m, i) => {
    if (m.some((v, j) => !v && j > 0 && m[j - 1]))
      throw new ArgumentError(
        `generate: prompt ${i} has padding after its tokens`,
        "generation continues the last column: pad prompts on the left (or pass token-id lists)",
      );
  });
  const realLen = mask.map((m) => m.reduce((s, v) => s + (v ? 1 : 0), 0));
  const limit = model.maxPositions;
  if (limit !== null && Math.max(...realLen) + maxNew > limit) {
    throw new ArgumentError(
      `generate: a prompt of ${Math.max(...realLen)} tokens plus ${maxNew} new ones exceeds the ${limit} positions the model has`,
      "shorten the prompt or ask for fewer tokens",
    );
  }

  const i32 = (rows: number[][]) => new Tensor(Int32Array.from(rows.flat()), [rows.length, rows[0].length]);
  const f32 = (rows: number[][]) => new Tensor(Float32Array.from(rows.flat()), [rows.length, rows[0].length]);
  /** transformers' generation positions: cumsum(mask) - 1, and 1 at padding. */
  const positions = (rows: number[][], from: number) =>
    rows.map((m) => {
      let c = 0;
      return m
        .map((v) => (v ? c++ : -1))
        .slice(from)
        .map((p) => (p < 0 ? 1 : p));
    });

  const wasTraining = model.training;
  model.eval();
  const finished = new Array<boolean>(b).fill(false);
  const stepLogits: Tensor[] = [];
  let cache: Cache | null = null;
  try {
    noGrad(() => {
      for (let step = 0; step < maxNew; step++) {
        const first = step === 0 || !useCache;
        const from = first ? 0 : ids[0].length - 1;
        const out = model.forward({
          inputIds: i32(ids.map((r) => r.slice(from))),
          attentionMask: f32(mask),
          positionIds: i32(positions(mask, from)),
          pastKeyValues: first ? null : cache,
          useCache,
        });
        cache = out.pastKeyValues;
        const [, t, v] = out.logits.shape;
        const last = reshape(slice(out.logits, 1, t - 1, t), [b, v]); // [B, V]
        if (opts.outputLogits) stepLogits.push(last);
        const lastRows = last.toRows();
        for (let i = 0; i < b; i++) {
          let next: number;
          if (finished[i]) next = pad;
          else {
            const scores = Float64Array.from(lastRows[i]);
            if (doSample) {
              if (temperature !== 1) applyTemperature(scores, temperature);
              applyTopK(scores, topK);
              applyTopP(scores, topP);
              next = sample(scores, rng);
            } else next = argmax(scores);
            if (eos.has(next)) finished[i] = true;
          }
          ids[i].push(next);
          mask[i].push(1);
        }
        if (finished.every(Boolean)) break;
      }
    });
  } finally {
    if (wasTraining) model.train(true);
  }
  const newTokens = ids.map((r) => r.slice(promptLen));
  const sequences = ids.map((r, i) => r.slice(promptLen - realLen[i]));
  return opts.outputLogits ? { sequences, newTokens, logits: stepLogits } : { sequences, newTokens };
}
