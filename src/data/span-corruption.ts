/**
 * T5's span-corruption objective on token ids (Raffel et al. 2020, t5/data/preprocessors.py): about 15% of a
 * block's tokens, in spans of mean length 3, are cut out; the inputs keep the other tokens with one sentinel
 * (`<extra_id_0>`, `<extra_id_1>`, ...) in place of each cut span, and the targets list each sentinel followed by
 * the tokens it replaced. Both end with EOS:
 *
 *     tokens   A B C D E F G H        (noise: C D and H)
 *     inputs   A B <0> E F G <1> </s>
 *     targets  <0> C D <1> H </s>
 *
 * The arithmetic follows T5 exactly: `random_spans_noise_mask` (counts in float32, rounded half to even as
 * tf.round does; spans interleaved starting with non-noise, as many non-noise spans as noise spans) and
 * `random_spans_helper` (the block length that packs into a given input length, and the target length).
 */
import { ArgumentError, DataError } from "../util/errors.js";
import type { Rng } from "../util/rng.js";

export interface SpanCorruptionOptions {
  /** Fraction of tokens cut out (T5: 0.15). */
  noiseDensity?: number;
  /** Mean length of a cut span (T5: 3). */
  meanNoiseSpanLength?: number;
}

const IGNORE_INDEX = -100;

function resolve(o: SpanCorruptionOptions): Required<SpanCorruptionOptions> {
  const noiseDensity = o.noiseDensity ?? 0.15;
  const meanNoiseSpanLength = o.meanNoiseSpanLength ?? 3;
  if (!(noiseDensity > 0 && noiseDensity <= 0.5))
    throw new ArgumentError(`span corruption: noise density must be in (0, 0.5], got ${noiseDensity}`);
  if (!(meanNoiseSpanLength >= 1))
    throw new ArgumentError(`span corruption: mean noise span length must be >= 1, got ${meanNoiseSpanLength}`);
  return { noiseDensity, meanNoiseSpanLength };
}

/** Rounds half to even, as tf.round, numpy.round and Python's round do (2.5 → 2, 3.5 → 4). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * How many tokens of a block of `length` are noise and in how many spans, as random_spans_noise_mask computes
 * them (TensorFlow float32 arithmetic): at least one noise token and one non-noise token, at least one span.
 */
export function noiseSpanCounts(
  length: number,
  opts: SpanCorruptionOptions = {},
): { noiseTokens: number; nonNoiseTokens: number; noiseSpans: number } {
  const o = resolve(opts);
  const n = Math.max(length, 2); // T5: "increase length to avoid degeneracy"
  const f = Math.fround;
  let noiseTokens = roundHalfEven(f(f(n) * f(o.noiseDensity)));
  noiseTokens = Math.min(Math.max(noiseTokens, 1), n - 1);
  const noiseSpans = Math.max(roundHalfEven(f(f(noiseTokens) / f(o.meanNoiseSpanLength))), 1);
  const nonNoiseTokens = n - noiseTokens;
  if (noiseSpans > nonNoiseTokens)
    throw new ArgumentError(
      `span corruption: ${noiseSpans} noise spans need as many non-noise tokens, a block of ${length} has ${nonNoiseTokens}`,
    );
  return { noiseTokens, nonNoiseTokens, noiseSpans };
}

/** Splits `items` into `segments` non-empty runs at random (T5's _random_segmentation): their lengths. */
function randomSegmentation(items: number, segments: number, rng: Rng): number[] {
  // a shuffled 0/1 vector over the items - 1 gaps, with segments - 1 ones: a one starts a new segment
  const perm = rng.permutation(items - 1);
  const starts = new Uint8Array(items);
  for (let i = 0; i < items - 1; i++) if (perm[i] < segments - 1) starts[i + 1] = 1;
  const lengths: number[] = [];
  for (let i = 0; i < items; i++) {
    if (i === 0 || starts[i]) lengths.push(0);
    lengths[lengths.length - 1]++;
  }
  return lengths;
}

/**
 * T5's random_spans_noise_mask: 1 marks a noise token. Non-noise and noise spans alternate, starting with
 * non-noise, so a block always ends in noise; every span is non-empty.
 */
export function randomSpansNoiseMask(length: number, rng: Rng, opts: SpanCorruptionOptions = {}): Uint8Array {
  if (!Number.isInteger(length) || length < 1)
    throw new ArgumentError(`span corruption: block length must be a positive integer, got ${length}`);
  const n = Math.max(length, 2);
  const { noiseTokens, nonNoiseTokens, noiseSpans } = noiseSpanCounts(length, opts);
  const noise = randomSegmentation(noiseTokens, noiseSpans, rng);
  const nonNoise = randomSegmentation(nonNoiseTokens, noiseSpans, rng);
  const mask = new Uint8Array(n);
  let at = 0;
  for (let s = 0; s < noiseSpans; s++) {
    at += nonNoise[s];
    mask.fill(1, at, at + noise[s]);
    at += noise[s];
  }
  return mask.subarray(0, length);
}

/**
 * T5's random_spans_helper (transformers' compute_input_and_target_lengths): the longest block of raw tokens whose
 * corrupted inputs (kept tokens, one sentinel per span, EOS) fit in `inputsLength`, and the length of its targets
 * (cut tokens, one sentinel per span, EOS). Python float64 arithmetic with round half to even, as T5's.
 */
export function computeInputAndTargetLengths(
  inputsLength: number,
  opts: SpanCorruptionOptions = {},
): { tokensLength: number; targetsLength: number } {
  const o = resolve(opts);
  if (!Number.isInteger(inputsLength) || inputsLength < 2)
    throw new ArgumentError(`span corruption: inputs length must be an integer >= 2, got ${inputsLength}`);
  const lengths = (tokens: number): [number, number] => {
    const noise = roundHalfEven(tokens * o.noiseDensity);
    const spans = roundHalfEven(noise / o.meanNoiseSpanLength);
    return [tokens - noise + spans + 1, noise + spans + 1];
  };
  let tokensLength = inputsLength - 1;
  while (lengths(tokensLength + 1)[0] <= inputsLength) tokensLength++;
  let targetsLength = lengths(tokensLength)[1];
  // T5's "minor hack": at density 0.5 the targets come out as long as the inputs
  if (o.noiseDensity === 0.5 && targetsLength > inputsLength) {
    tokensLength--;
    targetsLength--;
  }
  return { tokensLength, targetsLength };
}

/** One block corrupted: inputs (kept tokens, sentinels, EOS) and targets (sentinels, cut tokens, EOS). */
export function corruptSpans(
  tokens: ArrayLike<number>,
  mask: ArrayLike<number>,
  sentinels: readonly number[],
  eosId: number | null,
): { inputs: number[]; targets: number[] } {
  if (mask.length !== tokens.length)
    throw new ArgumentError(`span corruption: a mask of ${mask.length} for ${tokens.length} tokens`);
  const inputs: number[] = [];
  const targets: number[] = [];
  let noiseSpan = 0,
    keptSpan = 0;
  for (let i = 0; i < tokens.length; i++) {
    const noise = mask[i] === 1;
    const first = i === 0 || (mask[i - 1] === 1) !== noise;
    if (first) {
      const k = noise ? noiseSpan++ : keptSpan++;
      if (k >= sentinels.length)
        throw new ArgumentError(`span corruption: more than ${sentinels.length} spans in a block; add sentinels`);
      (noise ? inputs : targets).push(sentinels[k]);
    }
    (noise ? targets : inputs).push(tokens[i]);
  }
  if (eosId !== null) {
    inputs.push(eosId);
    targets.push(eosId);
  }
  return { inputs, targets };
}

export interface SpanCorruptionBatch {
  /** [N, inputsLength] */
  inputIds: Int32Array;
  /** [N, targetsLength]; -100 after a shorter row's end. */
  labels: Int32Array;
  /** [N, inputsLength]: 1 for tokens, 0 after a shorter row's end. */
  attentionMask: Float32Array;
  inputsLength: number;
  targetsLength: number;
}

/**
 * Corrupts `blocks` (N rows of `tokensLength` ids, one fresh mask each from `rng`) into fixed-length model rows.
 * Every block of the same length has the same counts, so rows come out `inputsLength` and `targetsLength` long;
 * padding (pad id in the inputs, -100 in the labels) only fills a row that is shorter than the lengths asked.
 */
export function spanCorruptBatch(
  blocks: Int32Array,
  tokensLength: number,
  rng: Rng,
  o: SpanCorruptionOptions & {
    sentinels: readonly number[];
    eosId: number | null;
    padId: number;
    inputsLength: number;
    targetsLength: number;
  },
): SpanCorruptionBatch {
  if (blocks.length % tokensLength !== 0)
    throw new ArgumentError(`span corruption: ${blocks.length} ids do not split into blocks of ${tokensLength}`);
  const n = blocks.length / tokensLength;
  const { inputsLength: I, targetsLength: T } = o;
  const inputIds = new Int32Array(n * I).fill(o.padId);
  const attentionMask = new Float32Array(n * I);
  const labels = new Int32Array(n * T).fill(IGNORE_INDEX);
  for (let r = 0; r < n; r++) {
    const tokens = blocks.subarray(r * tokensLength, (r + 1) * tokensLength);
    const { inputs, targets } = corruptSpans(tokens, randomSpansNoiseMask(tokensLength, rng, o), o.sentinels, o.eosId);
    if (inputs.length > I || targets.length > T)
      throw new ArgumentError(
        `span corruption: a block of ${tokensLength} tokens gives ${inputs.length} inputs and ${targets.length} targets, more than ${I} and ${T}`,
      );
    inputIds.set(inputs, r * I);
    attentionMask.fill(1, r * I, r * I + inputs.length);
    labels.set(targets, r * T);
  }
  return { inputIds, labels, attentionMask, inputsLength: I, targetsLength: T };
}

/**
 * The original tokens from corrupted inputs and targets: each sentinel of the inputs is replaced by what follows
 * the same sentinel in the targets (EOS and trailing -100 dropped). The inverse of corruptSpans.
 */
export function uncorruptSpans(
  inputs: ArrayLike<number>,
  targets: ArrayLike<number>,
  sentinels: readonly number[],
  eosId: number | null,
): number[] {
  const which = new Map(sentinels.map((id, k) => [id, k]));
  const strip = (a: ArrayLike<number>) => {
    const out = Array.from(a).filter((x) => x !== IGNORE_INDEX);
    if (eosId !== null && out[out.length - 1] === eosId) out.pop();
    return out;
  };
  const spans = new Map<number, number[]>();
  let current: number[] | null = null;
  for (const t of strip(targets)) {
    const k = which.get(t);
    if (k !== undefined) spans.set(k, (current = []));
    else if (current) current.push(t);
    else throw new DataError("span corruption: the targets do not start with a sentinel");
  }
  const out: number[] = [];
  for (const t of strip(inputs)) {
    const k = which.get(t);
    if (k === undefined) out.push(t);
    else {
      const span = spans.get(k);
      if (!span) throw new DataError(`span corruption: sentinel <extra_id_${k}> of the inputs is not in the targets`);
      out.push(...span);
    }
  }
  return out;
}
