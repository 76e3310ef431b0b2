/**
 * Exact match rate, with the options of Hugging Face `evaluate`'s exact_match (regexes removed
 * first, then case, ASCII punctuation and digits ignored on request), or SQuAD's answer
 * normalization (lowercase, no punctuation, no articles a/an/the, single spaces).
 */
import { ArgumentError, ShapeError } from "../../util/errors.js";

export interface ExactMatchOptions {
  regexesToIgnore?: readonly (string | RegExp)[];
  ignoreCase?: boolean;
  ignorePunctuation?: boolean;
  ignoreNumbers?: boolean;
  /** SQuAD answer normalization instead of the options above. */
  squad?: boolean;
}

const PUNCT = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

export function squadNormalize(s: string): string {
  return s
    .toLowerCase()
    .replace(PUNCT, "")
    .replace(/\b(a|an|the)\b/g, " ")
    .split(/\s+/)
    .filter(Boolean)
    .join(" ");
}

function normalizer(o: ExactMatchOptions): (s: string) => string {
  if (o.squad) return squadNormalize;
  const regexes = (o.regexesToIgnore ?? []).map((r) =>
    typeof r === "string" ? new RegExp(r, "g") : new RegExp(r.source, r.flags.includes("g") ? r.flags : r.flags + "g"),
  );
  return (s) => {
    for (const re of regexes) s = s.replace(re, "");
    if (o.ignoreCase) s = s.toLowerCase();
    if (o.ignorePunctuation) s = s.replace(PUNCT, "");
    if (o.ignoreNumbers) s = s.replace(/[0-9]/g, "");
    return s;
  };
}

/** Fraction of predictions equal to (any of) their references. references[k][i] as for BLEU. */
export function exactMatch(
  predictions: readonly string[],
  references: readonly (readonly string[])[],
  options: ExactMatchOptions = {},
): number {
  if (references.length === 0) throw new ArgumentError("exactMatch: no references given");
  references.forEach((s, k) => {
    if (s.length !== predictions.length)
      throw new ShapeError(
        `exactMatch: ${predictions.length} predictions but reference stream ${k + 1} has ${s.length}`,
      );
  });
  if (predictions.length === 0) throw new ArgumentError("exactMatch: no predictions");
  const norm = normalizer(options);
  let hits = 0;
  predictions.forEach((p, i) => {
    const np = norm(p);
    if (references.some((s) => norm(s[i]!) === np)) hits++;
  });
  return hits / predictions.length;
}
