/**
 * chrF (Popović 2015) and chrF++ (Popović 2017) as sacrebleu 2.x computes them: character n-gram
 * F-beta (orders 1..6, whitespace removed by default) plus, for chrF++, word n-grams of orders 1..2
 * after splitting one punctuation mark off each word's end (or start). Precision and recall are
 * averaged over the orders that occur in both hypothesis and reference ("effective order"); with
 * epsSmoothing, per-order F scores are averaged instead (chrF++.py, NLTK and Moses). With several
 * references the one giving the best segment F score is used.
 */
import { ArgumentError } from "../../util/errors.js";
import { pyFixed } from "../format.js";
import { formatSignature, segmentReferences, sumStats, type CorpusMetric, type CorpusScore } from "./corpus.js";
import { codePoints, pySplit, removeWhitespace } from "../../util/pytext.js";

export interface ChrfOptions {
  /** Character n-gram order (default 6). */
  charOrder?: number;
  /** Word n-gram order: 0 for chrF (default), 2 for chrF++. */
  wordOrder?: number;
  /** Recall is beta times as important as precision (default 2). */
  beta?: number;
  lowercase?: boolean;
  /** Keep whitespace inside character n-grams. */
  whitespace?: boolean;
  epsSmoothing?: boolean;
}

export interface ChrfScore extends CorpusScore {
  /** "chrF2", or "chrF2++" for word order 2. */
  name: string;
  charOrder: number;
  wordOrder: number;
  beta: number;
  format(width?: number, signature?: string): string;
}

// string.punctuation: chrF++ splits one of these off a word's end, else its start.
const PUNCTS = new Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");
const HAS_SURROGATE = /[\uD800-\uDFFF]/;

function charNgrams(line: string, maxOrder: number, whitespace: boolean): Map<string, number>[] {
  if (!whitespace) line = removeWhitespace(line);
  const chars = HAS_SURROGATE.test(line) ? codePoints(line) : null;
  const len = chars ? chars.length : line.length;
  const out: Map<string, number>[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    const m = new Map<string, number>();
    for (let i = 0; i + n <= len; i++) {
      const g = chars ? chars.slice(i, i + n).join("") : line.slice(i, i + n);
      m.set(g, (m.get(g) ?? 0) + 1);
    }
    out.push(m);
  }
  return out;
}

/** chrF's primitive word tokenization: words, with one punctuation mark split off. */
export function chrfWords(sent: string): string[] {
  const out: string[] = [];
  for (const w of pySplit(sent)) {
    const cps = codePoints(w);
    if (cps.length === 1) out.push(w);
    else if (PUNCTS.has(cps[cps.length - 1]!)) out.push(cps.slice(0, -1).join(""), cps[cps.length - 1]!);
    else if (PUNCTS.has(cps[0]!)) out.push(cps[0]!, cps.slice(1).join(""));
    else out.push(w);
  }
  return out;
}

function wordNgrams(words: string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= words.length; i++) {
    const g = words.slice(i, i + n).join(" ");
    m.set(g, (m.get(g) ?? 0) + 1);
  }
  return m;
}

export class CHRF implements CorpusMetric<ChrfScore> {
  readonly name: string;
  readonly options: Required<ChrfOptions>;
  private numRefs: number | "var" | undefined;

  constructor(options: ChrfOptions = {}) {
    this.options = {
      charOrder: options.charOrder ?? 6,
      wordOrder: options.wordOrder ?? 0,
      beta: options.beta ?? 2,
      lowercase: options.lowercase ?? false,
      whitespace: options.whitespace ?? false,
      epsSmoothing: options.epsSmoothing ?? false,
    };
    const { charOrder, wordOrder, beta } = this.options;
    if (!Number.isInteger(charOrder) || charOrder < 1)
      throw new ArgumentError(`chrF: charOrder must be a positive integer, got ${charOrder}`);
    if (!Number.isInteger(wordOrder) || wordOrder < 0)
      throw new ArgumentError(`chrF: wordOrder must be a non-negative integer, got ${wordOrder}`);
    if (!(beta > 0)) throw new ArgumentError(`chrF: beta must be positive, got ${beta}`);
    this.name = `chrF${beta}${"+".repeat(wordOrder)}`;
  }

  private ngrams(s: string): Map<string, number>[] {
    if (this.options.lowercase) s = s.toLowerCase();
    const all = charNgrams(s, this.options.charOrder, this.options.whitespace);
    if (this.options.wordOrder > 0) {
      const words = chrfWords(s);
      for (let n = 1; n <= this.options.wordOrder; n++) all.push(wordNgrams(words, n));
    }
    return all;
  }

  /** The F score (0-100) of statistics [hyp, ref, match] × (charOrder + wordOrder). */
  fScore(stats: ArrayLike<number>): number {
    const eps = 1e-16;
    const order = this.options.charOrder + this.options.wordOrder;
    const factor = this.options.beta ** 2;
    let score = 0,
      avgPrec = 0,
      avgRec = 0,
      effective = 0;
    for (let i = 0; i < order; i++) {
      const nHyp = stats[3 * i]!,
        nRef = stats[3 * i + 1]!,
        nMatch = stats[3 * i + 2]!;
      const prec = nHyp > 0 ? nMatch / nHyp : eps;
      const rec = nRef > 0 ? nMatch / nRef : eps;
      const denom = factor * prec + rec;
      score += denom > 0 ? ((1 + factor) * prec * rec) / denom : eps;
      if (nHyp > 0 && nRef > 0) {
        avgPrec += prec;
        avgRec += rec;
        effective++;
      }
    }
    if (this.options.epsSmoothing) return (100 * score) / order;
    if (effective === 0) avgPrec = avgRec = 0;
    else {
      avgPrec /= effective;
      avgRec /= effective;
    }
    if (avgPrec + avgRec) {
      let f = (1 + factor) * avgPrec * avgRec;
      f /= factor * avgPrec + avgRec;
      return 100 * f;
    }
    return 0;
  }

  segmentStats(hypotheses: readonly string[], references: readonly (readonly string[])[]): Float64Array[] {
    const { refs, numRefs } = segmentReferences(this.name, hypotheses, references);
    this.numRefs = numRefs;
    const order = this.options.charOrder + this.options.wordOrder;
    return hypotheses.map((hyp, i) => {
      const hypNgrams = this.ngrams(hyp);
      let best = new Float64Array(3 * order),
        bestF = -1;
      for (const ref of refs[i]!) {
        const refNgrams = this.ngrams(ref);
        const stats = new Float64Array(3 * order);
        for (let k = 0; k < order; k++) {
          const h = hypNgrams[k]!,
            r = refNgrams[k]!;
          let match = 0,
            hypCount = 0,
            refCount = 0;
          for (const [g, c] of h) {
            hypCount += c;
            const rc = r.get(g);
            if (rc !== undefined) match += Math.min(c, rc);
          }
          for (const c of r.values()) refCount += c;
          // No hypothesis count when the reference has no n-grams of this order.
          stats[3 * k] = r.size > 0 ? hypCount : 0;
          stats[3 * k + 1] = refCount;
          stats[3 * k + 2] = match;
        }
        const f = this.fScore(stats);
        if (f > bestF) {
          bestF = f;
          best = stats;
        }
      }
      return best;
    });
  }

  scoreFromStats(stats: ArrayLike<number>): ChrfScore {
    const { charOrder, wordOrder, beta } = this.options;
    const score = this.fScore(stats);
    const name = this.name;
    return {
      name,
      score,
      charOrder,
      wordOrder,
      beta,
      format(width = 2, signature = "") {
        return `${signature ? `${name}|${signature}` : name} = ${pyFixed(score, width)}`;
      },
    };
  }

  corpusScore(hypotheses: readonly string[], references: readonly (readonly string[])[]): ChrfScore {
    const order = this.options.charOrder + this.options.wordOrder;
    return this.scoreFromStats(sumStats(this.segmentStats(hypotheses, references), 3 * order));
  }

  sentenceScore(hypothesis: string, references: readonly string[]): ChrfScore {
    return this.corpusScore(
      [hypothesis],
      references.map((r) => [r]),
    );
  }

  signature(short = false): string {
    if (this.numRefs === undefined)
      throw new ArgumentError("chrF.signature: score something first (the signature records the number of references)");
    return formatSignature(
      [
        ["nrefs", "#", this.numRefs],
        ["case", "c", this.options.lowercase ? "lc" : "mixed"],
        ["eff", "e", !this.options.epsSmoothing],
        ["nc", "nc", this.options.charOrder],
        ["nw", "nw", this.options.wordOrder],
        ["space", "s", this.options.whitespace],
      ],
      short,
    );
  }
}

/** Corpus chrF (sacrebleu.corpus_chrf); wordOrder 2 gives chrF++. */
export function corpusChrf(
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
  options: ChrfOptions = {},
): ChrfScore {
  return new CHRF(options).corpusScore(hypotheses, references);
}

export function sentenceChrf(hypothesis: string, references: readonly string[], options: ChrfOptions = {}): ChrfScore {
  return new CHRF(options).sentenceScore(hypothesis, references);
}
