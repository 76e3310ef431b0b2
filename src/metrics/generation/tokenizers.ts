/**
 * sacrebleu's BLEU tokenizers. `13a` reproduces mteval-v13a.pl (WMT's standard): it unescapes a
 * few XML entities and splits off punctuation, except periods and commas inside numbers and
 * dashes after digits. `intl` is mteval-v14's international tokenizer on Unicode classes
 * (punctuation P, symbols S, numbers N). `char` splits every character; `none` trusts the input.
 */
import { ArgumentError } from "../../util/errors.js";
import { codePoints, pySplit } from "../../util/pytext.js";

export type BleuTokenizerName = "13a" | "intl" | "char" | "none";

// Without the u flag [^0-9] may match half of a surrogate pair; it is put back unchanged beside
// the other half, so the output equals Python's code-point matching (and is faster).
const RE_13A: [RegExp, string][] = [
  // language-dependent part (assuming Western languages): ASCII punctuation except ' , - .
  [/([{-~[-`\u0020-&(-+:-@/])/g, " $1 "],
  // period and comma unless preceded by a digit
  [/([^0-9])([.,])/g, "$1 $2 "],
  // period and comma unless followed by a digit
  [/([.,])([^0-9])/g, " $1 $2"],
  // dash when preceded by a digit
  [/([0-9])(-)/g, "$1 $2 "],
];

export function tokenize13a(line: string): string {
  line = line.replaceAll("<skipped>", "").replaceAll("-\n", "").replaceAll("\n", " ");
  if (line.includes("&"))
    line = line.replaceAll("&quot;", '"').replaceAll("&amp;", "&").replaceAll("&lt;", "<").replaceAll("&gt;", ">");
  line = ` ${line} `;
  for (const [re, rep] of RE_13A) line = line.replace(re, rep);
  return pySplit(line).join(" ");
}

const RE_INTL: [RegExp, string][] = [
  // punctuation preceded by a non-digit
  [/(\P{N})(\p{P})/gu, "$1 $2 "],
  // punctuation followed by a non-digit
  [/(\p{P})(\P{N})/gu, " $1 $2"],
  // symbols
  [/(\p{S})/gu, " $1 "],
];

export function tokenizeIntl(line: string): string {
  for (const [re, rep] of RE_INTL) line = line.replace(re, rep);
  return pySplit(line).join(" ");
}

export function tokenizeChar(line: string): string {
  return codePoints(line).join(" ");
}

export function bleuTokenizer(name: BleuTokenizerName): (line: string) => string {
  switch (name) {
    case "13a":
      return tokenize13a;
    case "intl":
      return tokenizeIntl;
    case "char":
      return tokenizeChar;
    case "none":
      return (s) => s;
    default:
      throw new ArgumentError(
        `unknown BLEU tokenizer "${String(name)}"`,
        'use one of "13a" (default), "intl", "char", "none"',
      );
  }
}
