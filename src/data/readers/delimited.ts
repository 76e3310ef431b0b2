/**
 * CSV / TSV records, streamed. Quoted files go through csv-parse (quoted fields, embedded newlines, doubled quotes);
 * unquoted files (the TSV convention: no tab or newline inside a field) are split on the delimiter directly, because
 * a stray `"` at the start of a TSV field is text, not a quote. Bytes are decoded by readLines, so CRLF, BOM and
 * invalid UTF-8 are handled the same way for every format and every record knows the lines it spans.
 *
 * A broken quote always stops reading, whatever the bad-row policy: after it the record boundaries are unknowable,
 * and skipping "the rest of the file" would be silent data loss.
 */
import { openSync, readSync, closeSync } from "node:fs";
import { extname } from "node:path";
import { Readable } from "node:stream";
import { parse, CsvError } from "csv-parse";
import { DataError } from "../../util/errors.js";
import { excerpt } from "../../util/excerpt.js";
import { readLines, checkReadable, type LineOptions } from "./lines.js";

export interface DelimitedOptions extends LineOptions {
  /** Field delimiter; default: sniffed from the first lines, preferring the one the extension implies. */
  delimiter?: string;
  /** Quote character, or null for none. Default `"` for CSV and none for TSV (tab-delimited). */
  quote?: string | null;
}

export interface RawRecord {
  /** Line where the record starts, and where it ends (they differ when a quoted field holds newlines). */
  line: number;
  endLine: number;
  fields: string[];
  /** The first line of the record that is not valid UTF-8, with the byte offset in it. */
  invalidUtf8?: { line: number; offset: number };
}

export interface DelimitedFormat {
  delimiter: string;
  quote: string | null;
}

const CANDIDATES = ["\t", ",", ";", "|"] as const;

/** The delimiter and quote a file will be read with (flags first, then the extension, then a look at its first lines). */
export function resolveDelimited(file: string, opts: DelimitedOptions = {}): DelimitedFormat {
  const ext = extname(file).toLowerCase();
  const byExt = ext === ".tsv" || ext === ".tab" ? "\t" : ext === ".csv" ? "," : undefined;
  const delimiter = opts.delimiter ?? sniffDelimiter(readHead(file), byExt) ?? byExt ?? ",";
  if (delimiter.length === 0 || delimiter === "\n" || delimiter === "\r")
    throw new DataError(`invalid delimiter ${JSON.stringify(delimiter)}`, { file });
  const quote = opts.quote !== undefined ? opts.quote : delimiter === "\t" ? null : '"';
  if (quote !== null && quote.length !== 1)
    throw new DataError(`the quote must be one character or none, got ${JSON.stringify(quote)}`, { file });
  return { delimiter, quote };
}

function readHead(file: string, bytes = 64 * 1024): string {
  checkReadable(file);
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf
      .subarray(0, n)
      .toString("utf8")
      .replace(/^\uFEFF/, "");
  } finally {
    closeSync(fd);
  }
}

/**
 * The candidate whose per-record count is the same non-zero number on the most sampled records (quotes respected).
 * Returns undefined when no candidate occurs at all (a one-column file).
 */
export function sniffDelimiter(head: string, preferred?: string): string | undefined {
  const records = splitRecordsForSniff(head, 20);
  if (records.length === 0) return undefined;
  let best: { d: string; score: number; mode: number } | undefined;
  for (const d of CANDIDATES) {
    const counts = records.map((r) => countOutsideQuotes(r, d));
    const freq = new Map<number, number>();
    for (const c of counts) if (c > 0) freq.set(c, (freq.get(c) ?? 0) + 1);
    let mode = 0,
      modeFreq = 0;
    for (const [c, f] of freq) if (f > modeFreq || (f === modeFreq && c > mode)) [mode, modeFreq] = [c, f];
    if (mode === 0) continue;
    const score = modeFreq / records.length + (d === preferred ? 0.05 : 0);
    if (!best || score > best.score) best = { d, score, mode };
  }
  return best?.d;
}

function splitRecordsForSniff(head: string, max: number): string[] {
  const out: string[] = [];
  let inQuote = false,
    start = 0;
  for (let i = 0; i < head.length && out.length < max; i++) {
    const c = head[i];
    if (c === '"') inQuote = !inQuote;
    else if (c === "\n" && !inQuote) {
      const rec = head.slice(start, i).replace(/\r$/, "");
      if (rec.trim() !== "") out.push(rec);
      start = i + 1;
    }
  }
  // the last record may be cut by the 64 KiB head; use it only if it is the whole file
  if (out.length === 0 && head.trim() !== "") out.push(head);
  return out;
}

function countOutsideQuotes(s: string, d: string): number {
  let n = 0,
    inQuote = false;
  for (const c of s) {
    if (c === '"') inQuote = !inQuote;
    else if (c === d && !inQuote) n++;
  }
  return n;
}

/** All records of the file, header included (the caller decides whether record 1 is a header). Blank lines are yielded with fields [""]. */
export async function* readDelimited(
  file: string,
  format: DelimitedFormat,
  opts: LineOptions = {},
): AsyncGenerator<RawRecord> {
  if (format.quote === null) {
    for await (const l of readLines(file, opts)) {
      yield {
        line: l.line,
        endLine: l.line,
        fields: l.text.split(format.delimiter),
        ...(l.invalidUtf8 !== undefined ? { invalidUtf8: { line: l.line, offset: l.invalidUtf8 } } : {}),
      };
    }
    return;
  }
  yield* readQuoted(file, format.delimiter, format.quote, opts);
}

async function* readQuoted(
  file: string,
  delimiter: string,
  quote: string,
  opts: LineOptions,
): AsyncGenerator<RawRecord> {
  // line -> offset of its first invalid byte; filled by the source, which always runs ahead of the parser's output
  const invalid = new Map<number, number>();
  async function* source(): AsyncGenerator<string> {
    let batch = "";
    for await (const l of readLines(file, opts)) {
      if (l.invalidUtf8 !== undefined) invalid.set(l.line, l.invalidUtf8);
      batch += l.text + "\n";
      if (batch.length >= 1 << 16) {
        yield batch;
        batch = "";
      }
    }
    if (batch) yield batch;
  }
  const parser = parse({
    delimiter,
    quote,
    escape: quote,
    record_delimiter: "\n",
    relax_column_count: true,
    skip_empty_lines: false,
    info: true,
    raw: true,
  });
  const input = Readable.from(source());
  input.on("error", (e) => parser.destroy(e));
  input.pipe(parser);
  try {
    for await (const r of parser as AsyncIterable<{ record: string[]; info: { lines: number }; raw: string }>) {
      const newlines = countNewlines(r.raw);
      // info.lines is the line the record ends on; raw includes the record's own trailing newline
      const endLine = r.info.lines;
      const line = endLine - newlines + (r.raw.endsWith("\n") ? 1 : 0);
      let bad: { line: number; offset: number } | undefined;
      if (invalid.size > 0) {
        for (let l = line; l <= endLine; l++) {
          const off = invalid.get(l);
          if (off !== undefined) {
            bad = { line: l, offset: off };
            break;
          }
        }
      }
      yield { line, endLine, fields: r.record, ...(bad ? { invalidUtf8: bad } : {}) };
    }
  } catch (e) {
    throw e instanceof CsvError ? quoteError(file, e, quote, delimiter) : e;
  } finally {
    input.destroy();
  }
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf("\n"); i >= 0; i = s.indexOf("\n", i + 1)) n++;
  return n;
}

function quoteError(file: string, e: CsvError, quote: string, delimiter: string): DataError {
  const info = e as unknown as { lines?: number; raw?: string };
  const raw = info.raw ?? "";
  const lines = info.lines ?? 0;
  const start = Math.max(1, lines - countNewlines(raw) + (raw.endsWith("\n") ? 1 : 0));
  const q = JSON.stringify(quote);
  const hint =
    `a field that contains ${q}, ${JSON.stringify(delimiter)} or a line break must be quoted with ${q}, and a ${q} inside it doubled; ` +
    `if ${q} is plain text in this file, pass --quote none`;
  switch (e.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      return new DataError(
        `unbalanced quote: the quoted field that starts in this row is never closed (it would swallow the rest of the file, ${lines - start + 1} lines)`,
        { file, line: start },
        hint,
      );
    case "INVALID_OPENING_QUOTE":
      return new DataError(`unexpected quote ${q} inside an unquoted field`, { file, line: lines }, hint);
    case "CSV_INVALID_CLOSING_QUOTE":
      return new DataError(
        `text after a closing quote ${q} (expected a delimiter or the end of the row)`,
        { file, line: lines },
        hint,
      );
    default:
      return new DataError(`cannot parse this row: ${excerpt(e.message)}`, { file, line: start }, hint);
  }
}
