/**
 * Where word2vec's text comes from and how it becomes words. A corpus is re-readable (one pass builds the
 * vocabulary, then one pass per epoch trains), and files are streamed line by line, never loaded whole.
 */
import { ArgumentError } from "../../util/errors.js";
import { isJsonlCorpus, readCorpusFile } from "../../data/readers/corpus.js";

/** A re-readable source of text lines. */
export interface TextSource {
  /** Names the source in messages (a file path, or "<memory>"). */
  readonly name: string;
  /** A fresh pass over the lines, from the start. */
  lines(): AsyncIterable<string> | Iterable<string>;
}

/**
 * A corpus file read line by line by the shared corpus reader (UTF-8, a bad byte decoding to U+FFFD, which no word
 * pattern matches; .gz decompressed). A .jsonl file's records give their "text", each ending a paragraph.
 */
export function fileSource(path: string): TextSource {
  const jsonl = isJsonlCorpus(path);
  return {
    name: path,
    async *lines() {
      for await (const l of readCorpusFile(path)) {
        yield l.text;
        if (jsonl) yield "";
      }
    },
  };
}

/** Lines held in memory (tests, small corpora). */
export function memorySource(lines: readonly string[], name = "<memory>"): TextSource {
  return { name, lines: () => lines };
}

/**
 * Letters, marks, digits and underscores (word2phrase joins phrases as "new_york"), with inner apostrophes kept
 * ("don't", "king's"): a simple Unicode word. word2vec.c splits on whitespace only, which leaves punctuation
 * glued to words ("king," ≠ "king").
 */
export const DEFAULT_TOKEN_PATTERN = "[\\p{L}\\p{M}\\p{N}\\p{Pc}]+(?:['\u2019][\\p{L}\\p{M}\\p{N}\\p{Pc}]+)*";

export interface TokenizeOptions {
  /** Lowercase before matching (default true). */
  lowercase?: boolean;
  /** A regular expression (source text or RegExp) matching one word; default DEFAULT_TOKEN_PATTERN. */
  tokenPattern?: string | RegExp;
}

/** A function from a line to its words. */
export function makeTokenizer(opts: TokenizeOptions = {}): (line: string) => string[] {
  const lower = opts.lowercase ?? true;
  const src = opts.tokenPattern ?? DEFAULT_TOKEN_PATTERN;
  let re: RegExp;
  try {
    // "g" to find every word; "u" so \p{...} classes work and astral characters stay whole
    re =
      src instanceof RegExp ? new RegExp(src.source, [...new Set(src.flags + "gu")].join("")) : new RegExp(src, "gu");
  } catch (e) {
    throw new ArgumentError(`word2vec: invalid token pattern ${JSON.stringify(String(src))} (${(e as Error).message})`);
  }
  if (re.test(""))
    throw new ArgumentError(
      `word2vec: token pattern ${JSON.stringify(re.source)} matches the empty string`,
      "use + rather than * so a word has at least one character",
    );
  return (line) => {
    const s = lower ? line.toLowerCase() : line;
    re.lastIndex = 0;
    return s.match(re) ?? [];
  };
}

/** How lines become sentences (the window never crosses a sentence boundary). */
export type SentenceMode = "line" | "paragraph";

/**
 * Every sentence of every source, as arrays of words. "line": each line is a sentence (word2vec.c, gensim's
 * LineSentence). "paragraph": lines are joined until a blank line, for hard-wrapped text such as Project Gutenberg.
 */
export async function* sentences(
  sources: readonly TextSource[],
  tokenize: (line: string) => string[],
  mode: SentenceMode,
): AsyncGenerator<string[]> {
  for (const src of sources) {
    let para: string[] = [];
    for await (const line of src.lines()) {
      const words = tokenize(line);
      if (mode === "line") {
        if (words.length > 0) yield words;
      } else if (words.length > 0) {
        for (const w of words) para.push(w);
      } else if (line.trim() === "" && para.length > 0) {
        yield para;
        para = [];
      }
    }
    if (para.length > 0) yield para;
  }
}
