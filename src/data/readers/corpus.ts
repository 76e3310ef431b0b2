/**
 * The one reader of raw-text corpora, shared by `graft tokenizer train`, `graft word2vec train` and `graft pretrain`.
 * A corpus is a list of paths: files (read whatever their extension), directories (walked recursively in sorted
 * order for .txt / .text / .jsonl files, each optionally .gz; hidden entries skipped) and glob patterns (`*`, `?`,
 * `[...]`, `**`), so the same arguments give the same files in the same order on every machine. A .jsonl file gives
 * one document per record (its text field); any other file one per line. A .gz file is decompressed while it is
 * read (node:zlib). Files are streamed, never loaded whole.
 */
import { createReadStream, readdirSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { createGunzip } from "node:zlib";
import { pipeline } from "node:stream";
import { DataError } from "../../util/errors.js";
import { checkReadable, splitLines } from "./lines.js";
import { excerpt, quoted } from "../../util/excerpt.js";

/** File names a directory walk picks up. */
export const CORPUS_FILE = /\.(txt|text|jsonl)(\.gz)?$/i;
const GLOB_CHARS = /[*?[]/;

const isGzip = (file: string) => /\.gz$/i.test(file);
/** Whether a corpus file holds JSON records (.jsonl, .jsonl.gz). */
export const isJsonlCorpus = (file: string) => /\.jsonl(\.gz)?$/i.test(file);

function statOrThrow(p: string, what: string) {
  try {
    return statSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(
      code === "ENOENT" ? `${what} does not exist` : `cannot read ${what} (${code ?? String(e)})`,
      { file: p },
      code === "ENOENT" ? "give text files (.txt, .jsonl, optionally .gz), directories of them, or a glob" : undefined,
    );
  }
}

/** Every entry below `dir`, depth first in sorted order; symbolic-link loops are visited once. */
function walk(dir: string, keep: (rel: string, isDir: boolean) => boolean, maxDepth = Infinity): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (abs: string, rel: string, depth: number) => {
    const real = realpathSync(abs);
    if (seen.has(real)) return;
    seen.add(real);
    for (const name of readdirSync(abs).sort()) {
      if (name.startsWith(".")) continue;
      const p = join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      let isDir: boolean;
      try {
        isDir = statSync(p).isDirectory();
      } catch {
        continue; // a dangling link
      }
      if (keep(r, isDir)) out.push(p);
      if (isDir && depth + 1 < maxDepth) visit(p, r, depth + 1);
    }
  };
  visit(dir, "", 0);
  return out;
}

function directoryFiles(dir: string): string[] {
  const files = walk(dir, (rel, isDir) => !isDir && CORPUS_FILE.test(rel));
  if (files.length === 0)
    throw new DataError(
      "no corpus files in the directory",
      { file: dir },
      "a directory is searched recursively for .txt, .text and .jsonl files (optionally .gz)",
    );
  return files;
}

/** A glob pattern as a regular expression over "/"-separated relative paths. */
function globRegex(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*" && pattern[i + 1] === "*") {
      const slash = pattern[i + 2] === "/";
      re += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else if (ch === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        const body = pattern
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\");
        re += `[${body}]`;
        i = end;
      }
    } else re += ch.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function globFiles(pattern: string): string[] {
  const parts = pattern.split("/");
  const first = parts.findIndex((s) => GLOB_CHARS.test(s));
  const baseParts = parts.slice(0, first);
  const base = baseParts.length === 0 ? "." : baseParts.join("/") || "/";
  const rest = parts.slice(first);
  const re = globRegex(rest.join("/"));
  const deep = rest.some((s) => s.includes("**"));
  let matches: string[] = [];
  try {
    if (statSync(base).isDirectory())
      matches = walk(base, (rel) => re.test(rel), deep ? Infinity : rest.length).map((p) =>
        baseParts.length === 0 ? p.replace(/^\.\//, "") : p,
      );
  } catch {
    // no base directory: no match
  }
  const files = matches.flatMap((p) => (statSync(p).isDirectory() ? (deep ? [] : directoryFiles(p)) : [p]));
  if (files.length === 0) throw new DataError("no file matches the pattern", { file: pattern });
  return files;
}

/**
 * The files of a corpus, in a deterministic order: each path's files in turn (a directory's and a glob's sorted),
 * a file named twice read once. One path that does not exist, a directory without corpus files or a glob without a
 * match is an error naming it.
 */
export function corpusFiles(paths: string | readonly string[]): string[] {
  const list = typeof paths === "string" ? [paths] : paths;
  if (list.length === 0) throw new DataError("no corpus given", {}, "give text files, directories or globs");
  const out: string[] = [];
  const seen = new Set<string>();
  for (const p of list) {
    if (typeof p !== "string" || p === "")
      throw new DataError(`a corpus path must be a non-empty string, got ${quoted(String(p))}`);
    let files: string[];
    if (GLOB_CHARS.test(p) && !existsQuietly(p)) files = globFiles(p);
    else files = statOrThrow(p, "corpus path").isDirectory() ? directoryFiles(p) : [p];
    for (const f of files) {
      if (seen.has(f)) continue;
      seen.add(f);
      out.push(f);
    }
  }
  return out;
}

function existsQuietly(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

export interface CorpusLine {
  /** A line of a text file ("" for a blank one), or a JSONL record's text. */
  text: string;
  file: string;
  /** 1-based line number in the (decompressed) file. */
  line: number;
}

export interface CorpusReadOptions {
  /** The field of a JSONL record that holds its text (default "text"). */
  textField?: string;
}

/** The lines of one corpus file (decompressed when it ends in .gz); a .jsonl file's records give their text. */
export async function* readCorpusFile(file: string, opts: CorpusReadOptions = {}): AsyncGenerator<CorpusLine> {
  const field = opts.textField ?? "text";
  const jsonl = isJsonlCorpus(file);
  checkReadable(file);
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const stream = isGzip(file) ? pipeline(raw, createGunzip(), () => {}) : raw;
  try {
    for await (const { text, line } of splitLines(stream, file)) {
      if (!jsonl) {
        yield { text, file, line };
        continue;
      }
      if (!text.trim()) continue;
      let value: unknown;
      try {
        const o = JSON.parse(text) as unknown;
        value = o !== null && typeof o === "object" && !Array.isArray(o) ? (o as Record<string, unknown>)[field] : o;
        if (typeof value !== "string") throw new Error(`no string field "${field}"`);
      } catch (e) {
        throw new DataError(`not a JSON object with a "${field}" field (${excerpt((e as Error).message)})`, {
          file,
          line,
          field,
        });
      }
      yield { text: value, file, line };
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string" && code.startsWith("Z_"))
      throw new DataError(`not a valid gzip file (${(e as Error).message})`, { file });
    throw e;
  }
}

/** Every line (or JSONL record) of every corpus file, in order. */
export async function* readCorpus(files: readonly string[], opts: CorpusReadOptions = {}): AsyncGenerator<CorpusLine> {
  for (const f of files) yield* readCorpusFile(f, opts);
}
