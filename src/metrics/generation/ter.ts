/**
 * TER as sacrebleu's metric reports it: edits (with shifts) divided by the average reference
 * length, ×100, lowercased by default (Tercom's defaults: no normalization, punctuation kept).
 * With several references the fewest edits count, against the average of their lengths.
 */
import { ArgumentError } from "../../util/errors.js";
import { pyFixed } from "../format.js";
import { formatSignature, segmentReferences, sumStats, type CorpusMetric, type CorpusScore } from "./corpus.js";
import { translationEditRate } from "./ter-lib.js";
import { tercomTokenize, type TercomOptions } from "./ter-tokenizer.js";
import { pyRstrip, pySplit } from "../../util/pytext.js";

export type TerOptions = TercomOptions;

export interface TerScore extends CorpusScore {
  name: "TER";
  numEdits: number;
  refLength: number;
  format(width?: number, signature?: string): string;
}

export class TER implements CorpusMetric<TerScore> {
  readonly name = "TER";
  readonly options: Required<TerOptions>;
  private numRefs: number | "var" | undefined;

  constructor(options: TerOptions = {}) {
    this.options = {
      normalized: options.normalized ?? false,
      noPunct: options.noPunct ?? false,
      asianSupport: options.asianSupport ?? false,
      caseSensitive: options.caseSensitive ?? false,
    };
  }

  private preprocess(s: string): string {
    return tercomTokenize(pyRstrip(s), this.options);
  }

  segmentStats(hypotheses: readonly string[], references: readonly (readonly string[])[]): Float64Array[] {
    const { refs, numRefs } = segmentReferences("TER", hypotheses, references);
    this.numRefs = numRefs;
    return hypotheses.map((hyp, i) => {
      const hypWords = pySplit(this.preprocess(hyp));
      let best = 1e16,
        lengths = 0;
      for (const ref of refs[i]!) {
        // sacrebleu preprocesses references twice (when caching them and when splitting them).
        const refWords = pySplit(this.preprocess(this.preprocess(ref)));
        const [edits, len] = translationEditRate(hypWords, refWords);
        lengths += len;
        if (edits < best) best = edits;
      }
      return Float64Array.of(best, lengths / refs[i]!.length);
    });
  }

  scoreFromStats(stats: ArrayLike<number>): TerScore {
    const edits = stats[0]!,
      refLength = stats[1]!;
    // Empty references: 1 if the hypothesis needs edits at all, else 0.
    const ratio = refLength > 0 ? edits / refLength : edits > 0 ? 1 : 0;
    const score = 100 * ratio;
    return {
      name: "TER",
      score,
      numEdits: Math.trunc(edits),
      refLength,
      format(width = 2, signature = "") {
        return `${signature ? `TER|${signature}` : "TER"} = ${pyFixed(score, width)}`;
      },
    };
  }

  corpusScore(hypotheses: readonly string[], references: readonly (readonly string[])[]): TerScore {
    return this.scoreFromStats(sumStats(this.segmentStats(hypotheses, references), 2));
  }

  sentenceScore(hypothesis: string, references: readonly string[]): TerScore {
    return this.corpusScore(
      [hypothesis],
      references.map((r) => [r]),
    );
  }

  signature(short = false): string {
    if (this.numRefs === undefined)
      throw new ArgumentError("TER.signature: score something first (the signature records the number of references)");
    return formatSignature(
      [
        ["nrefs", "#", this.numRefs],
        ["case", "c", this.options.caseSensitive ? "mixed" : "lc"],
        ["tok", "t", "tercom"],
        ["norm", "nr", this.options.normalized],
        ["punct", "pn", !this.options.noPunct],
        ["asian", "as", this.options.asianSupport],
      ],
      short,
    );
  }
}

export function corpusTer(
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
  options: TerOptions = {},
): TerScore {
  return new TER(options).corpusScore(hypotheses, references);
}

export function sentenceTer(hypothesis: string, references: readonly string[], options: TerOptions = {}): TerScore {
  return new TER(options).sentenceScore(hypothesis, references);
}
