/**
 * The pre-training corpus builder: raw text from many datasets of different shapes (books, one sentence per line,
 * a text column of a labelled table, CoNLL tokens, dialogues) into one JSONL corpus (`{"text", "source"}` per
 * document, the shape `graft pretrain --corpus` reads), exact duplicates dropped across all sources, and a manifest
 * of every source with its licence, files (bytes, SHA-256), documents and characters kept, for a model card.
 *
 * The spec names each source's files and how to cut them into documents; evaluation splits are left out by simply
 * not naming them (examples/corpus-shared.yaml lists the shared datasets' training text and says what it leaves out).
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { DataError } from "../util/errors.js";
import { writeFileAtomic, writeJsonAtomic, writeStreamAtomicAsync } from "../util/atomic.js";
import { corpusFiles } from "./readers/corpus.js";
import { readLines } from "./readers/lines.js";
import { readDelimited, resolveDelimited } from "./readers/delimited.js";
import { streamConll } from "./readers/conll.js";
import { dedupeKey } from "./split.js";

/** How a source's files are cut into documents. */
export const CORPUS_FORMATS = ["lines", "paragraphs", "jsonl", "column", "conll", "dialogues"] as const;
export type CorpusFormat = (typeof CORPUS_FORMATS)[number];

export interface CorpusSource {
  /** Its name in the manifest and in each document's `source`. */
  name: string;
  /** Files or glob patterns, relative to the spec's root. */
  files: string[];
  /**
   * lines: one document per non-blank line; paragraphs: blocks between blank lines, their lines joined by a space;
   * jsonl: one per record (`field`, default "text"); column: a delimited file with a header, the column `column`;
   * conll: one per sentence, tokens joined by a space; dialogues: DailyDialog's one dialogue per line, utterances
   * split at `__eou__` and joined by newlines.
   */
  format: CorpusFormat;
  /** The licence, as the dataset states it (kept in the manifest). */
  licence: string;
  /** jsonl: the text field; column: the column's header name. */
  field?: string;
  /** Anything a reader of the model card should know (e.g. which split this is). */
  note?: string;
}

export interface CorpusSpec {
  /** The directory the sources' files are relative to (absolute after reading a spec file). */
  root: string;
  sources: CorpusSource[];
  /** Documents shorter than this many characters (after trimming) are dropped (default 1). */
  minChars?: number;
  /** What the spec leaves out on purpose, and why (copied into the manifest). */
  excluded?: string[];
}

export interface SourceManifest {
  name: string;
  format: CorpusFormat;
  licence: string;
  note?: string;
  /** The spec's files and patterns, as written. */
  patterns: string[];
  files: { path: string; bytes: number; sha256: string }[];
  documents: number;
  characters: number;
  duplicatesDropped: number;
  shortDropped: number;
}

export interface CorpusManifest {
  created: string;
  /** The normalization two documents must share to count as duplicates. */
  dedupe: string;
  minChars: number;
  sources: SourceManifest[];
  excluded: string[];
  documents: number;
  characters: number;
  duplicatesDropped: number;
}

const SPEC_KEYS = new Set(["root", "sources", "minChars", "excluded"]);
const SOURCE_KEYS = new Set(["name", "files", "format", "licence", "field", "note"]);

/**
 * Checks a parsed spec (from YAML or JSON): an unknown key, a missing field or a format that does not exist is an
 * error naming the file and the field. `root` is resolved against the spec file's directory.
 */
export function checkCorpusSpec(raw: unknown, file: string): CorpusSpec {
  const fail = (message: string, field?: string): never => {
    throw new DataError(message, { file, ...(field ? { field } : {}) });
  };
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) fail("a corpus spec must be an object");
  const spec = raw as Record<string, unknown>;
  for (const k of Object.keys(spec))
    if (!SPEC_KEYS.has(k)) fail(`unknown key (known: ${[...SPEC_KEYS].join(", ")})`, k);
  if (typeof spec.root !== "string" || spec.root === "") fail("must be a directory", "root");
  if (!Array.isArray(spec.sources) || spec.sources.length === 0) fail("must be a non-empty list", "sources");
  if (spec.minChars !== undefined && !(Number.isInteger(spec.minChars) && (spec.minChars as number) >= 1))
    fail("must be an integer ≥ 1", "minChars");
  if (
    spec.excluded !== undefined &&
    !(Array.isArray(spec.excluded) && spec.excluded.every((x) => typeof x === "string"))
  )
    fail("must be a list of strings", "excluded");
  const names = new Set<string>();
  const sources = (spec.sources as unknown[]).map((s, i) => {
    const at = (k: string) => `sources[${i}].${k}`;
    if (s === null || typeof s !== "object" || Array.isArray(s)) return fail("must be an object", `sources[${i}]`);
    const src = s as Record<string, unknown>;
    for (const k of Object.keys(src))
      if (!SOURCE_KEYS.has(k)) fail(`unknown key (known: ${[...SOURCE_KEYS].join(", ")})`, at(k));
    if (typeof src.name !== "string" || src.name === "") fail("must be a non-empty string", at("name"));
    if (names.has(src.name as string)) fail(`"${src.name}" names two sources`, at("name"));
    names.add(src.name as string);
    const files = typeof src.files === "string" ? [src.files] : src.files;
    if (!Array.isArray(files) || files.length === 0 || !files.every((f) => typeof f === "string" && f !== ""))
      fail("must be a file, a glob or a list of them", at("files"));
    if (!CORPUS_FORMATS.includes(src.format as CorpusFormat))
      fail(`must be one of ${CORPUS_FORMATS.join(", ")}`, at("format"));
    if (typeof src.licence !== "string" || src.licence === "") fail("must say the licence", at("licence"));
    if (src.format === "column" && typeof src.field !== "string") fail("a column source names its column", at("field"));
    if (src.field !== undefined && typeof src.field !== "string") fail("must be a string", at("field"));
    if (src.note !== undefined && typeof src.note !== "string") fail("must be a string", at("note"));
    return {
      name: src.name as string,
      files: files as string[],
      format: src.format as CorpusFormat,
      licence: src.licence as string,
      ...(src.field !== undefined ? { field: src.field as string } : {}),
      ...(src.note !== undefined ? { note: src.note as string } : {}),
    };
  });
  return {
    root: resolve(dirname(file), spec.root as string),
    sources,
    ...(spec.minChars !== undefined ? { minChars: spec.minChars as number } : {}),
    ...(spec.excluded !== undefined ? { excluded: spec.excluded as string[] } : {}),
  };
}

/** One document with where it starts (for errors and for nothing else). */
interface Doc {
  text: string;
  line: number;
}

/** The documents of one file, cut as the source's format says. */
async function* documents(file: string, source: CorpusSource): AsyncGenerator<Doc> {
  switch (source.format) {
    case "lines":
      for await (const l of readLines(file)) {
        checkUtf8(file, l.line, l.invalidUtf8);
        if (l.text.trim() !== "") yield { text: l.text.trim(), line: l.line };
      }
      return;
    case "paragraphs": {
      let block: string[] = [];
      let start = 0;
      for await (const l of readLines(file)) {
        checkUtf8(file, l.line, l.invalidUtf8);
        const t = l.text.trim();
        if (t === "") {
          if (block.length) yield { text: block.join(" "), line: start };
          block = [];
        } else {
          if (!block.length) start = l.line;
          block.push(t);
        }
      }
      if (block.length) yield { text: block.join(" "), line: start };
      return;
    }
    case "jsonl": {
      const field = source.field ?? "text";
      for await (const l of readLines(file)) {
        checkUtf8(file, l.line, l.invalidUtf8);
        if (l.text.trim() === "") continue;
        let rec: unknown;
        try {
          rec = JSON.parse(l.text);
        } catch (e) {
          throw new DataError(`not valid JSON (${(e as Error).message})`, { file, line: l.line });
        }
        const text = (rec as Record<string, unknown> | null)?.[field];
        if (typeof text !== "string") throw new DataError("missing or not a string", { file, line: l.line, field });
        if (text.trim() !== "") yield { text: text.trim(), line: l.line };
      }
      return;
    }
    case "column": {
      const field = source.field!;
      let column = -1;
      for await (const r of readDelimited(file, resolveDelimited(file))) {
        if (r.invalidUtf8) checkUtf8(file, r.invalidUtf8.line, r.invalidUtf8.offset);
        if (column < 0) {
          column = r.fields.indexOf(field);
          if (column < 0)
            throw new DataError(`no column "${field}" in the header (${r.fields.join(", ")})`, { file, line: r.line });
          continue;
        }
        if (r.fields.length === 1 && r.fields[0] === "") continue;
        if (column >= r.fields.length)
          throw new DataError(`${r.fields.length} fields, no column ${column + 1}`, { file, line: r.line, field });
        const text = r.fields[column].trim();
        if (text !== "") yield { text, line: r.line };
      }
      return;
    }
    case "conll":
      for await (const s of streamConll(file)) if (s.tokens.length) yield { text: s.tokens.join(" "), line: s.line };
      return;
    case "dialogues":
      for await (const l of readLines(file)) {
        checkUtf8(file, l.line, l.invalidUtf8);
        const turns = l.text
          .split("__eou__")
          .map((u) => u.trim())
          .filter((u) => u !== "");
        if (turns.length) yield { text: turns.join("\n"), line: l.line };
      }
      return;
  }
}

function checkUtf8(file: string, line: number, offset: number | undefined): void {
  if (offset !== undefined) throw new DataError(`not valid UTF-8 (byte ${offset} of the line)`, { file, line });
}

/** Documents are duplicates when they share split.ts' dedupeKey (as `--dedupe` of fine-tuning); its SHA-1 is kept. */
const seenKey = (text: string) => createHash("sha1").update(dedupeKey(text)).digest("base64");

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/**
 * Builds `out/corpus.jsonl`, `out/manifest.json` and `out/SOURCES.md` (the manifest as a table for a model card).
 * Sources are read in the spec's order and files in corpusFiles' order, so the first copy of a duplicate is kept
 * and the same spec gives the same corpus byte for byte. Each file is written to a temp file and renamed.
 */
export async function buildCorpus(
  spec: CorpusSpec,
  out: string,
  log: (line: string) => void = () => {},
): Promise<CorpusManifest> {
  const minChars = spec.minChars ?? 1;
  const seen = new Set<string>();
  const manifests: SourceManifest[] = [];
  await writeStreamAtomicAsync(join(out, "corpus.jsonl"), async (write) => {
    for (const source of spec.sources) {
      const files = corpusFiles(source.files.map((f) => join(spec.root, f)));
      const m: SourceManifest = {
        name: source.name,
        format: source.format,
        licence: source.licence,
        ...(source.note ? { note: source.note } : {}),
        patterns: source.files,
        files: files.map((f) => ({ path: relative(spec.root, f), bytes: statSync(f).size, sha256: sha256(f) })),
        documents: 0,
        characters: 0,
        duplicatesDropped: 0,
        shortDropped: 0,
      };
      for (const file of files) {
        for await (const doc of documents(file, source)) {
          if (doc.text.length < minChars) {
            m.shortDropped++;
            continue;
          }
          const key = seenKey(doc.text);
          if (seen.has(key)) {
            m.duplicatesDropped++;
            continue;
          }
          seen.add(key);
          write(`${JSON.stringify({ text: doc.text, source: source.name })}\n`);
          m.documents++;
          m.characters += doc.text.length;
        }
      }
      log(
        `${source.name}: ${m.documents} documents, ${m.characters} characters (${m.duplicatesDropped} duplicates, ${m.shortDropped} short dropped)`,
      );
      manifests.push(m);
    }
  });
  const sum = (k: "documents" | "characters" | "duplicatesDropped") => manifests.reduce((a, m) => a + m[k], 0);
  const manifest: CorpusManifest = {
    created: new Date().toISOString(),
    dedupe: "exact, after NFC, lower-casing and collapsing whitespace (as --dedupe); the first copy is kept",
    minChars,
    sources: manifests,
    excluded: spec.excluded ?? [],
    documents: sum("documents"),
    characters: sum("characters"),
    duplicatesDropped: sum("duplicatesDropped"),
  };
  writeJsonAtomic(join(out, "manifest.json"), manifest);
  writeFileAtomic(join(out, "SOURCES.md"), sourcesTable(manifest));
  return manifest;
}

/** The manifest as Markdown: one row per source, then what was left out. */
export function sourcesTable(m: CorpusManifest): string {
  const rows = m.sources.map(
    (s) =>
      `| ${s.name} | ${s.patterns.join(", ")} (${s.files.length} file${s.files.length === 1 ? "" : "s"}) | ${s.documents} | ${s.characters} | ${s.duplicatesDropped} | ${s.licence} |`,
  );
  const lines = [
    "# Pre-training corpus sources",
    "",
    `${m.documents} documents, ${m.characters} characters; ${m.duplicatesDropped} duplicates dropped (${m.dedupe}).`,
    "",
    "| source | files | documents | characters | duplicates dropped | licence |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
  ];
  if (m.excluded.length) lines.push("", "Left out:", "", ...m.excluded.map((e) => `- ${e}`));
  return `${lines.join("\n")}\n`;
}
