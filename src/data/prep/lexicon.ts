/**
 * User lexicons: word lists that map terms (single words or phrases, emoticons too) to
 *  - categories ("excellent<TAB>positive"; a term may be in several) → per-category features,
 *  - scores ("excellent<TAB>3.1", e.g. a sentiment lexicon) → score features,
 *  - canonical forms ("colour<TAB>color") → term normalization of the text.
 * Matching is on tokens (runs of word characters with inner apostrophes, or runs of symbols), longest phrase first,
 * case-insensitive unless asked otherwise.
 */
import { extname } from "node:path";
import { readFileSync } from "node:fs";
import { DataError, FormatError } from "../../util/errors.js";
import { excerpt, quoted } from "../../util/excerpt.js";
import { readLines, invalidUtf8Reason } from "../readers/lines.js";

export type LexiconKind = "category" | "score" | "normalize";

export interface LexiconState {
  kind: LexiconKind;
  caseSensitive: boolean;
  entries: [string, string | number][];
}

interface Token {
  start: number;
  end: number;
  text: string;
}

const TOKEN = /[\p{L}\p{N}_]+(?:['’][\p{L}\p{N}_]+)*|[^\s\p{L}\p{N}_]+/gu;
const WORD = /^[\p{L}\p{N}_]/u;

function tokens(text: string): Token[] {
  return Array.from(text.matchAll(TOKEN), (m) => ({ start: m.index!, end: m.index! + m[0].length, text: m[0] }));
}

const HEADER_TERM = new Set(["term", "word", "token", "variant", "phrase", "entry"]);

export class Lexicon {
  private readonly map = new Map<string, (string | number)[]>();
  private maxLen = 1;
  private readonly categoryList: string[];

  private constructor(
    readonly kind: LexiconKind,
    readonly caseSensitive: boolean,
    private readonly entries: [string, string | number][],
  ) {
    for (const [term, value] of entries) {
      const key = this.key(tokens(term).map((t) => t.text));
      if (key === "") throw new DataError(`lexicon term ${quoted(term)} has no word or symbol in it`);
      const list = this.map.get(key) ?? [];
      if (!list.includes(value)) list.push(value);
      this.map.set(key, list);
      this.maxLen = Math.max(this.maxLen, key.split(" ").length);
    }
    this.categoryList = kind === "category" ? [...new Set(entries.map(([, v]) => String(v)))].sort() : [];
  }

  static fromEntries(kind: LexiconKind, entries: Iterable<[string, string | number]>, caseSensitive = false): Lexicon {
    const list = [...entries];
    for (const [term, value] of list) {
      if (kind === "score" && typeof value !== "number")
        throw new DataError(`score lexicon: the score of ${quoted(term)} is not a number`);
      if (kind !== "score" && typeof value !== "string")
        throw new DataError(`${kind} lexicon: the value of ${quoted(term)} must be a string`);
    }
    return new Lexicon(kind, caseSensitive, list);
  }

  /**
   * Reads `term<TAB>value` lines (or `term,value`; "#" comments; an optional header such as `term<TAB>score`) or a
   * JSON object {term: value}. kind "auto": score when every value is a number, else category.
   */
  static async load(
    file: string,
    opts: { kind?: LexiconKind | "auto"; caseSensitive?: boolean } = {},
  ): Promise<Lexicon> {
    const raw: { term: string; value: string; line: number }[] = [];
    if (extname(file).toLowerCase() === ".json") {
      let obj: unknown;
      try {
        obj = JSON.parse(readFileSync(file, "utf8"));
      } catch (e) {
        throw new DataError(`invalid JSON: ${excerpt((e as Error).message)}`, { file });
      }
      if (typeof obj !== "object" || obj === null || Array.isArray(obj))
        throw new DataError('a JSON lexicon must be an object {"term": value, ...}', { file });
      for (const [term, value] of Object.entries(obj)) raw.push({ term, value: String(value), line: 0 });
    } else {
      let sep: string | undefined;
      for await (const l of readLines(file)) {
        if (l.invalidUtf8 !== undefined) throw new DataError(invalidUtf8Reason(l.invalidUtf8), { file, line: l.line });
        const text = l.text.trim();
        if (text === "" || text.startsWith("#")) continue;
        sep ??= text.includes("\t") ? "\t" : ",";
        const cut =
          sep === "\t"
            ? text.split("\t")
            : [text.slice(0, text.lastIndexOf(",")), text.slice(text.lastIndexOf(",") + 1)];
        if (cut.length !== 2 || !text.includes(sep))
          throw new DataError(
            `expected 2 columns (term and value) separated by ${sep === "\t" ? "a tab" : "a comma"}, found ${sep === "\t" ? cut.length : 1}`,
            { file, line: l.line },
          );
        const [term, value] = [cut[0]!.trim(), cut[1]!.trim()];
        if (raw.length === 0 && HEADER_TERM.has(term.toLowerCase()) && Number.isNaN(Number(value))) continue;
        if (term === "") throw new DataError("empty term", { file, line: l.line });
        if (value === "") throw new DataError(`no value for ${JSON.stringify(term)}`, { file, line: l.line });
        raw.push({ term, value, line: l.line });
      }
    }
    if (raw.length === 0) throw new DataError("the lexicon has no entries", { file });
    const numeric = raw.every((r) => isNumber(r.value));
    const kind = opts.kind === undefined || opts.kind === "auto" ? (numeric ? "score" : "category") : opts.kind;
    const seen = new Map<string, { value: string; line: number }>();
    const entries: [string, string | number][] = [];
    for (const r of raw) {
      const where = { file, ...(r.line > 0 ? { line: r.line } : {}) };
      if (kind === "score" && !isNumber(r.value))
        throw new DataError(`score for ${JSON.stringify(r.term)} is not a number: "${r.value}"`, where);
      const key = opts.caseSensitive ? r.term : r.term.toLowerCase();
      const prev = seen.get(key);
      if (prev && kind !== "category" && prev.value !== r.value) {
        throw new DataError(
          `${JSON.stringify(r.term)} is listed twice with different values ("${prev.value}" on line ${prev.line}, "${r.value}" here)`,
          where,
        );
      }
      seen.set(key, { value: r.value, line: r.line });
      entries.push([r.term, kind === "score" ? Number(r.value) : r.value]);
    }
    try {
      return new Lexicon(kind, opts.caseSensitive ?? false, entries);
    } catch (e) {
      throw e instanceof DataError ? new DataError(e.message, { file }) : e;
    }
  }

  static fromJSON(s: LexiconState): Lexicon {
    if (!s || !["category", "score", "normalize"].includes(s.kind) || !Array.isArray(s.entries))
      throw new FormatError("lexicon state: expected { kind, caseSensitive, entries }");
    return new Lexicon(s.kind, s.caseSensitive, s.entries);
  }

  toJSON(): LexiconState {
    return { kind: this.kind, caseSensitive: this.caseSensitive, entries: this.entries };
  }

  get size(): number {
    return this.map.size;
  }

  private key(parts: string[]): string {
    return (this.caseSensitive ? parts : parts.map((p) => p.toLowerCase())).join(" ");
  }

  /** Non-overlapping matches, left to right, longest phrase first. Phrase words must be separated by whitespace only. */
  matches(text: string): { start: number; end: number; values: (string | number)[] }[] {
    const toks = tokens(text);
    const out: { start: number; end: number; values: (string | number)[] }[] = [];
    for (let i = 0; i < toks.length; ) {
      let matched = 0;
      for (let len = Math.min(this.maxLen, toks.length - i); len >= 1 && matched === 0; len--) {
        let contiguous = true;
        for (let t = i + 1; t < i + len && contiguous; t++)
          contiguous = /^\s+$/.test(text.slice(toks[t - 1]!.end, toks[t]!.start));
        if (!contiguous) continue;
        const values = this.map.get(this.key(toks.slice(i, i + len).map((t) => t.text)));
        if (values) {
          out.push({ start: toks[i]!.start, end: toks[i + len - 1]!.end, values });
          matched = len;
        }
      }
      i += matched || 1;
    }
    return out;
  }

  featureNames(): string[] {
    if (this.kind === "category") return this.categoryList.map((c) => `lexicon:${c}`);
    if (this.kind === "score") return ["lexicon:score", "lexicon:positive", "lexicon:negative"];
    return [];
  }

  /**
   * Per-document features, each divided by the number of word tokens so they are comparable across lengths:
   * category → share of words in each category; score → summed score, share of positive and of negative terms.
   */
  features(text: string): Float64Array {
    const words = Math.max(1, tokens(text).filter((t) => WORD.test(t.text)).length);
    const f = new Float64Array(this.featureNames().length);
    for (const m of this.matches(text)) {
      if (this.kind === "category") {
        for (const v of m.values) f[this.categoryList.indexOf(String(v))]! += 1;
      } else if (this.kind === "score") {
        const s = m.values[0] as number;
        f[0]! += s;
        if (s > 0) f[1]! += 1;
        if (s < 0) f[2]! += 1;
      }
    }
    for (let k = 0; k < f.length; k++) f[k] = f[k]! / words;
    return f;
  }

  /** Replaces every matched term by its canonical form (normalize lexicons only). */
  normalize(text: string): string {
    if (this.kind !== "normalize")
      throw new DataError(`a ${this.kind} lexicon cannot normalize terms; load it with kind "normalize"`);
    let out = "";
    let at = 0;
    for (const m of this.matches(text)) {
      out += text.slice(at, m.start) + String(m.values[0]);
      at = m.end;
    }
    return out + text.slice(at);
  }
}

function isNumber(s: string): boolean {
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s.trim());
}
