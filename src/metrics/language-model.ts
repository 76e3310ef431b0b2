/**
 * Language-model scores from summed negative log-likelihoods (in nats, as cross-entropy losses
 * are): perplexity exp(L/N_tokens), bits per token L/(N_tokens·ln 2) and bits per character
 * L/(N_chars·ln 2). Sum losses over the whole evaluation set before dividing: the mean of batch
 * perplexities is not the perplexity of the set.
 */
import { ArgumentError } from "../util/errors.js";
import type { NumericArray } from "./numeric.js";

export interface LossTotals {
  /** Sum of per-token negative log-likelihoods, natural log. */
  lossSum: number;
  /** Number of predicted tokens in the sum. */
  tokens: number;
  /** Characters of text those tokens cover (for bits per character). */
  characters?: number;
}

function checkTotals(what: string, t: LossTotals): void {
  if (!Number.isFinite(t.lossSum) || t.lossSum < 0)
    throw new ArgumentError(`${what}: lossSum must be a finite non-negative number of nats, got ${t.lossSum}`);
  if (!(t.tokens > 0) || !Number.isFinite(t.tokens))
    throw new ArgumentError(`${what}: tokens must be positive, got ${t.tokens}`);
}

export function perplexity(t: LossTotals): number {
  checkTotals("perplexity", t);
  return Math.exp(t.lossSum / t.tokens);
}

export function bitsPerToken(t: LossTotals): number {
  checkTotals("bitsPerToken", t);
  return t.lossSum / t.tokens / Math.LN2;
}

export function bitsPerCharacter(t: LossTotals): number {
  checkTotals("bitsPerCharacter", t);
  if (!(t.characters !== undefined && t.characters > 0))
    throw new ArgumentError(`bitsPerCharacter: characters must be positive, got ${t.characters}`);
  return t.lossSum / t.characters / Math.LN2;
}

/** Accumulates loss sums batch by batch (e.g. during evaluation) and reports the scores at the end. */
export class LossAccumulator implements LossTotals {
  lossSum = 0;
  tokens = 0;
  characters = 0;

  /** Adds a batch: its summed loss (nats), its token count and, optionally, its character count. */
  add(lossSum: number, tokens: number, characters = 0): this {
    if (!Number.isFinite(lossSum) || lossSum < 0)
      throw new ArgumentError(`LossAccumulator.add: lossSum must be finite and ≥ 0, got ${lossSum}`);
    if (!(tokens >= 0) || !Number.isFinite(tokens))
      throw new ArgumentError(`LossAccumulator.add: tokens must be ≥ 0, got ${tokens}`);
    this.lossSum += lossSum;
    this.tokens += tokens;
    this.characters += characters;
    return this;
  }

  /** Adds per-token losses (nats). */
  addTokenLosses(losses: NumericArray, characters = 0): this {
    let s = 0;
    for (let i = 0; i < losses.length; i++) s += losses[i]!;
    return this.add(s, losses.length, characters);
  }

  perplexity(): number {
    return perplexity(this);
  }

  bitsPerToken(): number {
    return bitsPerToken(this);
  }

  bitsPerCharacter(): number {
    return bitsPerCharacter(this);
  }
}
