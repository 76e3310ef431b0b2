/**
 * scikit-learn's analyzers (CountVectorizer.build_analyzer), reproduced to the character: preprocessing
 * (lowercase, then accent stripping), the default token pattern, stop words, word n-grams, and the "char" and
 * "char_wb" n-grams with Python's whitespace handling. Strings are cut by code point, as Python slices them.
 */
import { ArgumentError } from "../../util/errors.js";
import { collapseSpaceRuns, pySplit, stripAccentsAscii, stripAccentsUnicode } from "../prep/unicode.js";

export type Analyzer = "word" | "char" | "char_wb";
export type StripAccents = "unicode" | "ascii" | null;

/**
 * JS equivalent of scikit-learn's default token_pattern r"(?u)\b\w\w+\b": Python's \w is [\p{L}\p{N}_], and
 * "\b two or more word characters \b" is exactly a maximal run of at least two of them (JS \b is ASCII-only, so
 * it cannot be used).
 */
export const DEFAULT_TOKEN_PATTERN = "[\\p{L}\\p{N}_]{2,}";

export interface AnalyzerOptions {
  analyzer: Analyzer;
  ngramRange: [number, number];
  lowercase: boolean;
  stripAccents: StripAccents;
  /** A JS regular expression source, compiled with the "u" flag; with one capture group the group is the token. */
  tokenPattern: string;
  stopWords: readonly string[] | null;
}

export function preprocess(doc: string, lowercase: boolean, stripAccents: StripAccents): string {
  let s = lowercase ? doc.toLowerCase() : doc;
  if (stripAccents === "unicode") s = stripAccentsUnicode(s);
  else if (stripAccents === "ascii") s = stripAccentsAscii(s);
  return s;
}

/** Python's re.findall: the whole match, or group 1 when the pattern has exactly one group. */
export function tokenizer(pattern: string): (doc: string) => string[] {
  let re: RegExp;
  try {
    re = new RegExp(pattern, "gu");
  } catch (e) {
    throw new ArgumentError(
      `token pattern ${JSON.stringify(pattern)} is not a valid regular expression: ${(e as Error).message}`,
    );
  }
  const groups = new RegExp(`${pattern}|`, "u").exec("")!.length - 1;
  if (groups > 1)
    throw new ArgumentError(
      `token pattern ${JSON.stringify(pattern)} has ${groups} capture groups; at most one is allowed (its text is the token)`,
    );
  return (doc) => {
    const out: string[] = [];
    for (const m of doc.matchAll(re)) {
      const t = groups === 1 ? m[1] : m[0];
      // Python's findall yields "" for a group that did not take part
      out.push(t ?? "");
    }
    return out;
  };
}

export function wordNgrams(
  tokens: string[],
  stopWords: ReadonlySet<string> | null,
  minN: number,
  maxN: number,
): string[] {
  if (stopWords) tokens = tokens.filter((t) => !stopWords.has(t));
  if (maxN === 1) return tokens;
  return ngrams(tokens, minN, maxN, " ");
}

export function charNgrams(text: string, minN: number, maxN: number): string[] {
  return ngrams(Array.from(collapseSpaceRuns(text)), minN, maxN, "");
}

/** The n-grams of a sequence for minN ≤ n ≤ maxN, joined by `sep`, in scikit-learn's order: by n, then position. */
function ngrams(items: readonly string[], minN: number, maxN: number, sep: string): string[] {
  const n = items.length;
  const out = minN === 1 ? items.slice() : [];
  if (minN === 1) minN += 1;
  for (let k = minN; k <= Math.min(maxN, n); k++) {
    for (let i = 0; i + k <= n; i++) out.push(items.slice(i, i + k).join(sep));
  }
  return out;
}

/** n-grams inside word boundaries, each word padded with one space on each side (scikit-learn's _char_wb_ngrams). */
export function charWbNgrams(text: string, minN: number, maxN: number): string[] {
  const out: string[] = [];
  for (const word of pySplit(collapseSpaceRuns(text))) {
    const w = Array.from(" " + word + " ");
    const len = w.length;
    for (let k = minN; k <= maxN; k++) {
      let offset = 0;
      out.push(w.slice(offset, offset + k).join(""));
      while (offset + k < len) {
        offset += 1;
        out.push(w.slice(offset, offset + k).join(""));
      }
      if (offset === 0) break; // a word shorter than k: counted once
    }
  }
  return out;
}

/** The full analyzer: document → list of features (with repeats). */
export function buildAnalyzer(o: AnalyzerOptions): (doc: string) => string[] {
  const [minN, maxN] = o.ngramRange;
  if (!(Number.isInteger(minN) && Number.isInteger(maxN) && minN >= 1 && minN <= maxN)) {
    throw new ArgumentError(`ngram range must be two integers 1 <= min <= max, got [${minN}, ${maxN}]`);
  }
  if (o.analyzer === "char") return (doc) => charNgrams(preprocess(doc, o.lowercase, o.stripAccents), minN, maxN);
  if (o.analyzer === "char_wb") return (doc) => charWbNgrams(preprocess(doc, o.lowercase, o.stripAccents), minN, maxN);
  if (o.analyzer !== "word")
    throw new ArgumentError(`analyzer must be "word", "char" or "char_wb", got "${String(o.analyzer)}"`);
  const tokenize = tokenizer(o.tokenPattern);
  const stop = o.stopWords ? new Set(o.stopWords) : null;
  return (doc) => wordNgrams(tokenize(preprocess(doc, o.lowercase, o.stripAccents)), stop, minN, maxN);
}
