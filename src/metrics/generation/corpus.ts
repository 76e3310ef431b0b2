/**
 * What BLEU, chrF and TER share, as in sacrebleu: references arrive as streams (refs[k][i] is the
 * k-th reference of segment i). An empty line is a reference like any other, with no words (sacrebleu
 * 2.6 keeps it: BLEU counts its length 0 and no matches, TER counts every hypothesis word as an edit,
 * chrF takes no statistics from it); only a missing one (null or undefined, through the API) is dropped,
 * so that a segment may have fewer references ("nrefs:var");
 * each metric turns a segment into a vector of sufficient statistics whose sum over any set of
 * segments determines the corpus score. That is what makes bootstrap resampling cheap.
 */
import { ArgumentError, ShapeError } from "../../util/errors.js";

/** The sacrebleu release whose definitions, defaults and signature format graft follows. */
export const SACREBLEU_VERSION = "2.6.0";

export interface CorpusScore {
  name: string;
  score: number;
}

/** A corpus-level metric defined by summed per-segment statistics. */
export interface CorpusMetric<S extends CorpusScore = CorpusScore> {
  readonly name: string;
  /** One statistics vector per segment. */
  segmentStats(hypotheses: readonly string[], references: readonly (readonly string[])[]): Float64Array[];
  /** The score of the summed statistics. */
  scoreFromStats(stats: ArrayLike<number>): S;
  /** sacrebleu-style reproducibility signature (after segmentStats has seen the references). */
  signature(short?: boolean): string;
}

/** Transposes reference streams into per-segment lists, checking line counts. */
export function segmentReferences(
  what: string,
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
): { refs: string[][]; numRefs: number | "var" } {
  if (!Array.isArray(references) || references.length === 0) throw new ArgumentError(`${what}: no references given`);
  if (typeof references[0] === "string") {
    throw new ArgumentError(
      `${what}: references must be a list of reference streams (string[][]), one stream per reference set`,
      "for a single reference per segment pass [refs]",
    );
  }
  references.forEach((stream, k) => {
    if (stream.length !== hypotheses.length) {
      throw new ShapeError(
        `${what}: ${hypotheses.length} hypotheses but reference stream ${k + 1} has ${stream.length} segments`,
        "every reference file needs exactly one line per hypothesis line",
      );
    }
  });
  const counts = new Set<number>();
  const refs = hypotheses.map((_, i) => {
    const lines: string[] = [];
    for (const stream of references) {
      const r = stream[i];
      if (r !== undefined && r !== null) lines.push(r);
    }
    if (lines.length === 0)
      throw new ArgumentError(`${what}: segment ${i + 1} has no reference (null in every stream)`);
    counts.add(lines.length);
    return lines;
  });
  hypotheses.forEach((h, i) => {
    if (typeof h !== "string")
      throw new ArgumentError(`${what}: hypothesis ${i + 1} is ${h === null ? "null" : typeof h}, not a string`);
  });
  return { refs, numRefs: counts.size === 1 ? [...counts][0]! : counts.size === 0 ? references.length : "var" };
}

/** Sums segment statistics (in order, as sacrebleu's sum_of_lists). */
export function sumStats(stats: readonly ArrayLike<number>[], width: number): Float64Array {
  const out = new Float64Array(width);
  for (const s of stats) for (let j = 0; j < width; j++) out[j] += s[j]!;
  return out;
}

/** sacrebleu's signature string: key:value pairs joined by "|", version last. */
export function formatSignature(
  pairs: [key: string, short: string, value: string | number | boolean | undefined][],
  short = false,
): string {
  const all = [...pairs, ["version", "v", SACREBLEU_VERSION] as [string, string, string]];
  return all
    .filter(([, , v]) => v !== undefined)
    .map(([k, s, v]) => `${short ? s : k}:${typeof v === "boolean" ? (v ? "yes" : "no") : v}`)
    .join("|");
}
