/**
 * Stop-word lists. Built-in lists come from the npm package stopwords-iso (github.com/stopwords-iso, MIT,
 * maintained collection for 58 languages; its English list is broad: 1,298 words including "not" and "no", so
 * prefer a custom file for sentiment tasks). Custom files: one word per line, "#" starts a comment, UTF-8.
 */
import { createRequire } from "node:module";
import { DataError } from "../../util/errors.js";
import { quoted } from "../../util/excerpt.js";
import { readLines, invalidUtf8Reason } from "../readers/lines.js";

const require = createRequire(import.meta.url);
let lists: Record<string, string[]> | undefined;

function all(): Record<string, string[]> {
  lists ??= require("stopwords-iso") as Record<string, string[]>;
  return lists;
}

const ALIASES: Record<string, string> = {
  english: "en",
  german: "de",
  deutsch: "de",
  french: "fr",
  français: "fr",
  spanish: "es",
  español: "es",
  italian: "it",
  portuguese: "pt",
  dutch: "nl",
};

export const STOP_WORD_SOURCE = "stopwords-iso (npm, MIT)";

export function stopWordLanguages(): string[] {
  return Object.keys(all()).sort();
}

/** The built-in list for an ISO 639-1 code ("en", "de", "fr", "es", ...) or an English name ("german"). */
export function stopWords(language: string): string[] {
  const code = ALIASES[language.toLowerCase()] ?? language.toLowerCase();
  const list = all()[code];
  if (!list)
    throw new DataError(
      `no built-in stop-word list for "${language}"; available: ${stopWordLanguages().join(", ")}`,
      {},
      "or pass a file of your own with --stop-words-file",
    );
  return list.slice();
}

export async function readStopWordFile(file: string): Promise<string[]> {
  const words: string[] = [];
  for await (const l of readLines(file)) {
    if (l.invalidUtf8 !== undefined) throw new DataError(invalidUtf8Reason(l.invalidUtf8), { file, line: l.line });
    const w = l.text.replace(/#.*$/, "").trim();
    if (w === "") continue;
    if (/\s/.test(w))
      throw new DataError(`one stop word per line expected, found ${quoted(w)}`, { file, line: l.line });
    words.push(w);
  }
  return words;
}

/** Built-in lists for the given languages plus the words of the given files, lowercased, de-duplicated, sorted. */
export async function resolveStopWords(
  languages: readonly string[] = [],
  files: readonly string[] = [],
): Promise<string[]> {
  const set = new Set<string>();
  for (const lang of languages) for (const w of stopWords(lang)) set.add(w.toLowerCase());
  for (const f of files) for (const w of await readStopWordFile(f)) set.add(w.toLowerCase());
  return [...set].sort();
}
