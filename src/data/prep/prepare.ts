/**
 * Text preparation before features: Unicode normalization, masking of URLs / e-mail addresses / numbers,
 * lowercasing, accent stripping, term normalization by a lexicon, and stop-word removal, in that order
 * (masks first so a lowercased or accent-stripped URL is still recognized; stop words last so a normalized
 * variant of a stop word is removed too). Everything is off by default; the options are plain JSON so a saved
 * model carries exactly the preparation it was trained with.
 */
import { ArgumentError } from "../../util/errors.js";
import { stripAccentsAscii, stripAccentsUnicode } from "./unicode.js";
import { Lexicon, type LexiconState } from "./lexicon.js";

export interface PrepareOptions {
  normalize?: "NFC" | "NFKC" | null;
  lowercase?: boolean;
  stripAccents?: "unicode" | "ascii" | null;
  maskUrls?: boolean;
  maskEmails?: boolean;
  maskNumbers?: boolean;
  /** Words to remove (compared lowercased); see resolveStopWords for built-in lists and files. */
  stopWords?: readonly string[];
  /** A "normalize" lexicon: variant → canonical term. */
  normalizeTerms?: LexiconState | null;
}

/** Placeholders chosen to survive tokenization as ordinary words and to be unlikely in real text. */
export const MASKS = { url: "xxurl", email: "xxemail", number: "xxnum" } as const;

const URL_RE = /\b(?:https?:\/\/|ftp:\/\/|www\.)[^\s<>"]+/giu;
const EMAIL_RE = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu;
// digits with optional thousands/decimal separators, not glued to letters ("mp3", "4g" stay words)
const NUMBER_RE = /(?<![\p{L}\p{N}_])[+-]?\p{Nd}+(?:[.,:]\p{Nd}+)*(?![\p{L}_]|\p{Nd})/gu;
const WORD_RE = /[\p{L}\p{N}_]+(?:['’][\p{L}\p{N}_]+)*/gu;
const TRAILING_PUNCT = /[.,;:!?)\]}'"]+$/u;

export class TextPreparer {
  readonly options: PrepareOptions;
  private readonly stop: Set<string> | null;
  private readonly lexicon: Lexicon | null;

  constructor(options: PrepareOptions = {}) {
    if (options.normalize != null && options.normalize !== "NFC" && options.normalize !== "NFKC") {
      throw new ArgumentError(`normalize must be "NFC", "NFKC" or null, got ${JSON.stringify(options.normalize)}`);
    }
    if (options.stripAccents != null && options.stripAccents !== "unicode" && options.stripAccents !== "ascii") {
      throw new ArgumentError(
        `stripAccents must be "unicode", "ascii" or null, got ${JSON.stringify(options.stripAccents)}`,
      );
    }
    this.options = { ...options };
    this.stop =
      options.stopWords && options.stopWords.length > 0 ? new Set(options.stopWords.map((w) => w.toLowerCase())) : null;
    this.lexicon = options.normalizeTerms ? Lexicon.fromJSON(options.normalizeTerms) : null;
    if (this.lexicon && this.lexicon.kind !== "normalize")
      throw new ArgumentError(`normalizeTerms needs a "normalize" lexicon, got a "${this.lexicon.kind}" one`);
  }

  /** True when prepare() returns its input unchanged. */
  get identity(): boolean {
    const o = this.options;
    return (
      !o.normalize &&
      !o.lowercase &&
      !o.stripAccents &&
      !o.maskUrls &&
      !o.maskEmails &&
      !o.maskNumbers &&
      !this.stop &&
      !this.lexicon
    );
  }

  prepare(text: string): string {
    const o = this.options;
    let s = o.normalize ? text.normalize(o.normalize) : text;
    if (o.maskUrls) s = s.replace(URL_RE, (url) => MASKS.url + (url.match(TRAILING_PUNCT)?.[0] ?? ""));
    if (o.maskEmails) s = s.replace(EMAIL_RE, MASKS.email);
    if (o.maskNumbers) s = s.replace(NUMBER_RE, MASKS.number);
    if (o.lowercase) s = s.toLowerCase();
    if (o.stripAccents === "unicode") s = stripAccentsUnicode(s);
    else if (o.stripAccents === "ascii") s = stripAccentsAscii(s);
    if (this.lexicon) s = this.lexicon.normalize(s);
    if (this.stop) {
      const stop = this.stop;
      s = s
        .replace(WORD_RE, (w) => (stop.has(w.toLowerCase()) ? "" : w))
        .replace(/[ \t]{2,}/g, " ")
        .trim();
    }
    return s;
  }
}
