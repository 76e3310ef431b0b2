/**
 * transformers' logits processors and warpers, one row at a time (-Infinity removes a token), and the list
 * GenerationMixin._get_logits_processor builds, in its order: repetition penalty → no-repeat n-gram → min length →
 * min new tokens → forced BOS → forced EOS, then (sampling only) temperature → top-k → top-p → min-p.
 *
 * `row` is what transformers calls input_ids: every token the decoder has read so far (a decoder's left padding and
 * prompt included, an encoder-decoder's decoder start token included).
 */
import type { Rng } from "../../util/rng.js";

export function applyTemperature(scores: Float64Array, temperature: number): void {
  for (let i = 0; i < scores.length; i++) scores[i] /= temperature;
}

/** Keeps tokens scoring at least the k-th largest score (ties at the boundary stay, as torch.topk + `<` does). */
export function applyTopK(scores: Float64Array, k: number, minTokensToKeep = 1): void {
  k = Math.max(k, minTokensToKeep);
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

/** transformers' MinPLogitsWarper: drops tokens whose probability is below minP × the best token's probability. */
export function applyMinP(scores: Float64Array, minP: number, minTokensToKeep = 1): void {
  const probs = softmax(scores);
  let top = 0;
  for (const p of probs) if (p > top) top = p;
  const keep = new Set(
    Array.from(probs.keys())
      .sort((a, b) => probs[b] - probs[a] || a - b)
      .slice(0, minTokensToKeep),
  );
  for (let i = 0; i < scores.length; i++) if (probs[i] < minP * top && !keep.has(i)) scores[i] = -Infinity;
}

/**
 * transformers' RepetitionPenaltyLogitsProcessor: every token already in the row scores score × penalty when
 * negative, score / penalty otherwise.
 */
export function applyRepetitionPenalty(scores: Float64Array, row: readonly number[], penalty: number): void {
  for (const t of new Set(row)) {
    if (t < 0 || t >= scores.length) continue;
    scores[t] = scores[t] < 0 ? scores[t] * penalty : scores[t] / penalty;
  }
}

/** transformers' NoRepeatNGramLogitsProcessor: bans each token that would complete an n-gram already in the row. */
export function applyNoRepeatNgram(scores: Float64Array, row: readonly number[], n: number): void {
  const len = row.length;
  if (len < n) return;
  const prefix = row.slice(len + 1 - n);
  for (let s = 0; s + n <= len; s++) {
    let match = true;
    for (let j = 0; j < n - 1 && match; j++) match = row[s + j] === prefix[j];
    const banned = row[s + n - 1];
    if (match && banned >= 0 && banned < scores.length) scores[banned] = -Infinity;
  }
}

/** Only `token` may come next (transformers' ForcedBOS/ForcedEOS processors). */
export function forceToken(scores: Float64Array, token: number | readonly number[]): void {
  scores.fill(-Infinity);
  for (const t of typeof token === "number" ? [token] : token) scores[t] = 0;
}

export function softmax(scores: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i] > m) m = scores[i];
  const out = new Float64Array(scores.length);
  let z = 0;
  for (let i = 0; i < scores.length; i++) z += out[i] = scores[i] === -Infinity ? 0 : Math.exp(scores[i] - m);
  for (let i = 0; i < out.length; i++) out[i] /= z;
  return out;
}

export function logSoftmax(scores: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i] > m) m = scores[i];
  let z = 0;
  for (let i = 0; i < scores.length; i++) z += Math.exp(scores[i] - m);
  const lse = m + Math.log(z);
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = scores[i] - lse;
  return out;
}

export function argmax(scores: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  return best;
}

/** One draw from softmax(scores). */
export function sample(scores: ArrayLike<number>, rng: Rng): number {
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

/** k distinct draws from softmax(scores), without replacement (torch.multinomial's replacement=False). */
export function sampleWithoutReplacement(scores: ArrayLike<number>, k: number, rng: Rng): number[] {
  const s = Float64Array.from(scores);
  const out: number[] = [];
  for (let i = 0; i < k; i++) {
    const t = sample(s, rng);
    out.push(t);
    s[t] = -Infinity;
  }
  return out;
}

/** What the processors need to know, already resolved from the options and the model's config. */
export interface ProcessorSettings {
  repetitionPenalty: number;
  noRepeatNgramSize: number;
  /** transformers' min_length: the row (prompt included) must be this long before an end token. */
  minLength: number;
  minNewTokens: number;
  /** Length of the rows before generation (a decoder's padded prompt; 1 for an encoder-decoder's start token). */
  promptLength: number;
  forcedBosTokenId: number | null;
  forcedEosTokenId: number | readonly number[] | null;
  /** transformers' max_length: promptLength + maxNewTokens. */
  maxLength: number;
  eos: ReadonlySet<number>;
  doSample: boolean;
  temperature: number;
  topK: number;
  topP: number;
  minP: number | null;
  /** 1 for sampling, number of end tokens + 1 for beam sampling (as transformers keeps one to continue). */
  minTokensToKeep: number;
}

/**
 * Whether processScores leaves greedy scores of a row of this length as they are, so the pick is the raw logits'
 * argmax (which a tensor op finds without reading the [rows, vocabulary] logits back).
 */
export function greedyScoresUntouched(len: number, s: ProcessorSettings): boolean {
  if (s.doSample || s.repetitionPenalty !== 1 || s.noRepeatNgramSize > 0) return false;
  if (
    s.eos.size > 0 &&
    ((s.minLength > 0 && len < s.minLength) || (s.minNewTokens > 0 && len - s.promptLength < s.minNewTokens))
  )
    return false;
  if (s.forcedBosTokenId !== null && len === 1) return false;
  return !(s.forcedEosTokenId !== null && len === s.maxLength - 1);
}

/** Applies the processors then, when sampling, the warpers to one row's scores, in place. */
export function processScores(scores: Float64Array, row: readonly number[], s: ProcessorSettings): void {
  const len = row.length;
  if (s.repetitionPenalty !== 1) applyRepetitionPenalty(scores, row, s.repetitionPenalty);
  if (s.noRepeatNgramSize > 0) applyNoRepeatNgram(scores, row, s.noRepeatNgramSize);
  if (s.eos.size > 0 && s.minLength > 0 && len < s.minLength) for (const e of s.eos) scores[e] = -Infinity;
  if (s.eos.size > 0 && s.minNewTokens > 0 && len - s.promptLength < s.minNewTokens)
    for (const e of s.eos) scores[e] = -Infinity;
  if (s.forcedBosTokenId !== null && len === 1) forceToken(scores, s.forcedBosTokenId);
  if (s.forcedEosTokenId !== null && len === s.maxLength - 1) forceToken(scores, s.forcedEosTokenId);
  if (!s.doSample) return;
  if (s.temperature !== 1) applyTemperature(scores, s.temperature);
  if (s.topK !== 0) applyTopK(scores, s.topK, s.minTokensToKeep);
  if (s.topP < 1) applyTopP(scores, s.topP, s.minTokensToKeep);
  if (s.minP !== null) applyMinP(scores, s.minP, s.minTokensToKeep);
}
