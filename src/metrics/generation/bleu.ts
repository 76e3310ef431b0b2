/**
 * BLEU (Papineni et al. 2002) exactly as sacrebleu computes it: clipped n-gram precisions up to
 * order 4 against the union (max count) of the references, the brevity penalty against the closest
 * reference length (the shorter on a tie), and the smoothing methods of Chen & Cherry (2014):
 * "exp" (default, mteval's), "floor", "add-k", "none". Scores are on the 0-100 scale.
 */
import { ArgumentError } from "../../util/errors.js";
import { pyFixed } from "../format.js";
import { warn } from "../warnings.js";
import { formatSignature, segmentReferences, sumStats, type CorpusMetric, type CorpusScore } from "./corpus.js";
import { pyRstrip, pySplit } from "../../util/pytext.js";
import { bleuTokenizer, type BleuTokenizerName } from "./tokenizers.js";

export type SmoothMethod = "none" | "floor" | "add-k" | "exp";

const SMOOTH_DEFAULTS: Record<SmoothMethod, number | undefined> = {
  none: undefined,
  floor: 0.1,
  "add-k": 1,
  exp: undefined,
};

export interface BleuOptions {
  lowercase?: boolean;
  /** Default "13a". */
  tokenize?: BleuTokenizerName;
  /** Default "exp". */
  smoothMethod?: SmoothMethod;
  /** For floor (default 0.1) and add-k (default 1). */
  smoothValue?: number;
  /** Default 4. */
  maxNgramOrder?: number;
  /** Average only over the orders that have n-grams (sentence-level BLEU). Default false for corpora. */
  effectiveOrder?: boolean;
  /** Do not warn about hypotheses that look tokenized. */
  force?: boolean;
}

export interface BleuScore extends CorpusScore {
  name: "BLEU";
  counts: number[];
  totals: number[];
  precisions: number[];
  bp: number;
  sysLen: number;
  refLen: number;
  ratio: number;
  /** sacrebleu's one-line rendering, e.g. "BLEU = 20.52 53.4/26.1/14.3/8.0 (BP = 1.000 ratio = ...)". */
  format(width?: number, signature?: string): string;
}

/** log with sacrebleu's stand-in for log(0). */
function myLog(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

/** BLEU from its sufficient statistics (sacrebleu's BLEU.compute_bleu). */
export function computeBleu(
  correctIn: ArrayLike<number>,
  totalIn: ArrayLike<number>,
  sysLen: number,
  refLen: number,
  options: { smoothMethod?: SmoothMethod; smoothValue?: number; effectiveOrder?: boolean; maxNgramOrder?: number } = {},
): BleuScore {
  const method = options.smoothMethod ?? "none";
  if (!(method in SMOOTH_DEFAULTS))
    throw new ArgumentError(`BLEU: unknown smoothMethod "${method}"`, 'use "exp", "floor", "add-k" or "none"');
  const smoothValue = options.smoothValue ?? SMOOTH_DEFAULTS[method] ?? 0;
  const order = options.maxNgramOrder ?? 4;
  const correct = Array.from(correctIn),
    total = Array.from(totalIn);
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(order).fill(0);
  const make = (score: number): BleuScore => bleuScore(score, correct, total, precisions, bp, sysLen, refLen);
  if (!correct.some((c) => c !== 0)) return make(0);
  let smoothMteval = 1;
  let effOrder = order;
  for (let n = 1; n <= order; n++) {
    if (method === "add-k" && n > 1) {
      correct[n - 1] += smoothValue;
      total[n - 1] += smoothValue;
    }
    if (total[n - 1] === 0) break;
    if (options.effectiveOrder) effOrder = n;
    if (correct[n - 1] === 0) {
      if (method === "exp") {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * total[n - 1]!);
      } else if (method === "floor") precisions[n - 1] = (100 * smoothValue) / total[n - 1]!;
    } else precisions[n - 1] = (100 * correct[n - 1]!) / total[n - 1]!;
  }
  let logSum = 0;
  for (let i = 0; i < effOrder; i++) logSum += myLog(precisions[i]!);
  return make(bp * Math.exp(logSum / effOrder));
}

function bleuScore(
  score: number,
  counts: number[],
  totals: number[],
  precisions: number[],
  bp: number,
  sysLen: number,
  refLen: number,
): BleuScore {
  const ratio = refLen ? sysLen / refLen : 0;
  return {
    name: "BLEU",
    score,
    counts,
    totals,
    precisions,
    bp,
    sysLen,
    refLen,
    ratio,
    format(width = 2, signature = "") {
      const head = signature ? `BLEU|${signature}` : "BLEU";
      const prec = precisions.map((p) => pyFixed(p, 1)).join("/");
      return `${head} = ${pyFixed(score, width)} ${prec} (BP = ${pyFixed(bp, 3)} ratio = ${pyFixed(ratio, 3)} hyp_len = ${sysLen} ref_len = ${refLen})`;
    },
  };
}

/** n-gram counts of a tokenized line, all orders in one map (keys: tokens joined by spaces). */
function ngramCounts(tokens: string[], maxOrder: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < tokens.length; i++) {
    let key = tokens[i]!;
    for (let n = 1; n <= maxOrder && i + n <= tokens.length; n++) {
      if (n > 1) key += " " + tokens[i + n - 1]!;
      m.set(key, (m.get(key) ?? 0) + 1);
    }
  }
  return m;
}

export class BLEU implements CorpusMetric<BleuScore> {
  readonly name = "BLEU";
  readonly options: Required<Omit<BleuOptions, "smoothValue">> & { smoothValue: number | undefined };
  private readonly tok: (s: string) => string;
  private numRefs: number | "var" | undefined;

  constructor(options: BleuOptions = {}) {
    const smoothMethod = options.smoothMethod ?? "exp";
    if (!(smoothMethod in SMOOTH_DEFAULTS))
      throw new ArgumentError(`BLEU: unknown smoothMethod "${smoothMethod}"`, 'use "exp", "floor", "add-k" or "none"');
    const maxNgramOrder = options.maxNgramOrder ?? 4;
    if (!Number.isInteger(maxNgramOrder) || maxNgramOrder < 1)
      throw new ArgumentError(`BLEU: maxNgramOrder must be a positive integer, got ${maxNgramOrder}`);
    this.options = {
      lowercase: options.lowercase ?? false,
      tokenize: options.tokenize ?? "13a",
      smoothMethod,
      smoothValue: options.smoothValue,
      maxNgramOrder,
      effectiveOrder: options.effectiveOrder ?? false,
      force: options.force ?? false,
    };
    this.tok = bleuTokenizer(this.options.tokenize);
  }

  private preprocess(s: string): string[] {
    if (this.options.lowercase) s = s.toLowerCase();
    return pySplit(this.tok(pyRstrip(s)));
  }

  segmentStats(hypotheses: readonly string[], references: readonly (readonly string[])[]): Float64Array[] {
    const { refs, numRefs } = segmentReferences("BLEU", hypotheses, references);
    this.numRefs = numRefs;
    const order = this.options.maxNgramOrder;
    let tokenizedLooking = 0;
    const out = hypotheses.map((hyp, i) => {
      if (!this.options.force && hyp.endsWith(" .")) tokenizedLooking++;
      // Reference n-grams: the maximum count over the references.
      let refNgrams: Map<string, number> | undefined;
      const refLens: number[] = [];
      for (const r of refs[i]!) {
        const toks = this.preprocess(r);
        refLens.push(toks.length);
        const c = ngramCounts(toks, order);
        if (!refNgrams) refNgrams = c;
        else for (const [k, v] of c) if (v > (refNgrams.get(k) ?? 0)) refNgrams.set(k, v);
      }
      const htoks = this.preprocess(hyp);
      const hypLen = htoks.length;
      // Closest reference length; the shorter one on a tie.
      let closestDiff = -1,
        refLen = -1;
      for (const l of refLens) {
        const d = Math.abs(hypLen - l);
        if (closestDiff === -1 || d < closestDiff) {
          closestDiff = d;
          refLen = l;
        } else if (d === closestDiff && l < refLen) refLen = l;
      }
      const stats = new Float64Array(2 + 2 * order);
      stats[0] = hypLen;
      stats[1] = refLen;
      for (const [k, v] of ngramCounts(htoks, order)) {
        let n = 1;
        for (let j = 0; j < k.length; j++) if (k.charCodeAt(j) === 32) n++;
        stats[2 + order + n - 1] += v;
        const r = refNgrams!.get(k);
        if (r !== undefined) stats[2 + n - 1] += Math.min(v, r);
      }
      return stats;
    });
    if (tokenizedLooking >= 100) {
      warn(
        `${tokenizedLooking} hypotheses end in a tokenized period (" ."): it looks like you forgot to detokenize, which may hurt the score; pass force to silence this.`,
      );
    }
    return out;
  }

  scoreFromStats(stats: ArrayLike<number>): BleuScore {
    const order = this.options.maxNgramOrder;
    const s = Array.from(stats);
    return computeBleu(s.slice(2, 2 + order), s.slice(2 + order, 2 + 2 * order), s[0]!, s[1]!, this.options);
  }

  corpusScore(hypotheses: readonly string[], references: readonly (readonly string[])[]): BleuScore {
    return this.scoreFromStats(sumStats(this.segmentStats(hypotheses, references), 2 + 2 * this.options.maxNgramOrder));
  }

  /** One hypothesis against its references (a list of strings). */
  sentenceScore(hypothesis: string, references: readonly string[]): BleuScore {
    return this.corpusScore(
      [hypothesis],
      references.map((r) => [r]),
    );
  }

  signature(short = false): string {
    if (this.numRefs === undefined)
      throw new ArgumentError("BLEU.signature: score something first (the signature records the number of references)");
    const { smoothMethod, smoothValue } = this.options;
    const def = SMOOTH_DEFAULTS[smoothMethod];
    const smooth = def === undefined ? smoothMethod : `${smoothMethod}[${pyFixed(smoothValue ?? def, 2)}]`;
    return formatSignature(
      [
        ["nrefs", "#", this.numRefs],
        ["case", "c", this.options.lowercase ? "lc" : "mixed"],
        ["eff", "e", this.options.effectiveOrder],
        ["tok", "tok", this.options.tokenize],
        ["smooth", "s", smooth],
      ],
      short,
    );
  }
}

/** Corpus BLEU (sacrebleu.corpus_bleu): references[k][i] is the k-th reference of hypothesis i. */
export function corpusBleu(
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
  options: BleuOptions = {},
): BleuScore {
  return new BLEU(options).corpusScore(hypotheses, references);
}

/** Sentence BLEU (sacrebleu.sentence_bleu): effective order on by default. */
export function sentenceBleu(hypothesis: string, references: readonly string[], options: BleuOptions = {}): BleuScore {
  return new BLEU({ effectiveOrder: true, ...options }).sentenceScore(hypothesis, references);
}
