/**
 * Examples from a user's file: format detection, then the CSV/TSV, JSONL or plain-text reader, column mapping and
 * row validation. `streamExamples` never holds the file in memory; `readExamples` collects and checks that
 * something was read. Every row ends up either kept or in report.skipped (with file, line and reason).
 */
import { extname } from "node:path";
import { openSync, readSync, closeSync } from "node:fs";
import { DataError } from "../../util/errors.js";
import { excerpt } from "../../util/excerpt.js";
import { BadRowLog } from "../badrows.js";
import type { BadRowPolicy, Example, ReadReport } from "../types.js";
import { readLines, checkReadable, invalidUtf8Reason, type Line, type LineOptions } from "./lines.js";
import { readDelimited, resolveDelimited, sniffDelimiter, type DelimitedOptions } from "./delimited.js";
import { buildExample, mapColumns, type ColumnMap, type ColumnOptions } from "./fields.js";

export type DataFormat = "csv" | "tsv" | "jsonl" | "text";
export const DATA_FORMATS: readonly DataFormat[] = ["csv", "tsv", "jsonl", "text"];

export interface ExampleReadOptions extends DelimitedOptions, ColumnOptions, LineOptions {
  format?: DataFormat;
  /** Whether the first row of a CSV/TSV file is a header (default true). Without one, columns are named "0", "1", ... */
  header?: boolean;
  onBadRow?: BadRowPolicy;
}

/** The format from the extension; for .txt or no extension, a tab-separated look makes it TSV, a leading "{" JSONL. */
export function detectFormat(file: string): DataFormat {
  const ext = extname(file).toLowerCase();
  if (ext === ".csv") return "csv";
  if (ext === ".tsv" || ext === ".tab") return "tsv";
  if (ext === ".jsonl" || ext === ".ndjson" || ext === ".json") return "jsonl";
  checkReadable(file);
  const fd = openSync(file, "r");
  const buf = Buffer.alloc(16 * 1024);
  const n = readSync(fd, buf, 0, buf.length, 0);
  closeSync(fd);
  const head = buf
    .subarray(0, n)
    .toString("utf8")
    .replace(/^\uFEFF/, "");
  if (head.trimStart().startsWith("{")) return "jsonl";
  return sniffDelimiter(head) === "\t" ? "tsv" : "text";
}

export async function* streamExamples(
  file: string,
  opts: ExampleReadOptions = {},
  report?: ReadReport,
): AsyncGenerator<Example> {
  const format = opts.format ?? detectFormat(file);
  if (!DATA_FORMATS.includes(format))
    throw new DataError(`unknown format "${String(format)}"; expected one of ${DATA_FORMATS.join(", ")}`, { file });
  const rep = report ?? emptyReport(file, format);
  rep.format = format;
  const log = new BadRowLog(opts.onBadRow ?? "fail", rep.skipped);
  if (format === "jsonl") yield* jsonlExamples(file, opts, rep, log);
  else if (format === "text") yield* textExamples(file, opts, rep, log);
  else yield* delimitedExamples(file, format, opts, rep, log);
}

export async function readExamples(
  file: string,
  opts: ExampleReadOptions = {},
): Promise<{ examples: Example[]; report: ReadReport }> {
  const report = emptyReport(file, opts.format ?? "");
  const examples: Example[] = [];
  for await (const ex of streamExamples(file, opts, report)) examples.push(ex);
  if (report.rows === 0) {
    const what = report.columns.length > 0 ? "no data rows (only a header)" : "the file is empty";
    throw new DataError(
      what,
      { file },
      report.blankLines > 0 ? `it has ${report.blankLines} blank lines and nothing else` : undefined,
    );
  }
  if (examples.length === 0)
    throw new DataError(
      `all ${report.rows} rows were rejected (first: line ${report.skipped[0]?.line}: ${report.skipped[0]?.reason})`,
      { file },
    );
  return { examples, report };
}

function emptyReport(file: string, format: string): ReadReport {
  return { file, format, columns: [], rows: 0, kept: 0, blankLines: 0, skipped: [] };
}

async function* delimitedExamples(
  file: string,
  format: "csv" | "tsv",
  opts: ExampleReadOptions,
  rep: ReadReport,
  log: BadRowLog,
): AsyncGenerator<Example> {
  const delim = resolveDelimited(file, { ...opts, delimiter: opts.delimiter ?? (format === "tsv" ? "\t" : undefined) });
  const header = opts.header ?? true;
  let map: ReturnType<typeof mapColumns<number>> | undefined;
  let width = 0;
  for await (const rec of readDelimited(file, delim, opts)) {
    const blank = rec.fields.length === 1 && rec.fields[0] === "" && rec.line === rec.endLine;
    if (map === undefined) {
      if (blank) {
        rep.blankLines++;
        continue;
      }
      if (rec.invalidUtf8 && header)
        throw new DataError(`header: ${invalidUtf8Reason(rec.invalidUtf8.offset)}`, {
          file,
          line: rec.invalidUtf8.line,
        });
      width = rec.fields.length;
      rep.columns = header ? rec.fields.map((f) => f.trim()) : rec.fields.map((_, i) => String(i));
      const names = rep.columns;
      map = mapColumns<number>(
        file,
        names,
        opts,
        (spec) => lookupIndex(spec, names),
        (i) => names[i]!,
      );
      rep.roles = roles(map);
      if (header) continue;
    }
    if (blank) {
      rep.blankLines++;
      continue;
    }
    rep.rows++;
    if (rec.invalidUtf8) {
      log.reject(file, rec.invalidUtf8.line, invalidUtf8Reason(rec.invalidUtf8.offset));
      continue;
    }
    if (rec.fields.length !== width) {
      const was = header ? "the header has" : "the first row has";
      log.reject(
        file,
        rec.line,
        `ragged row: ${rec.fields.length} field${rec.fields.length === 1 ? "" : "s"} where ${was} ${width} (delimiter ${JSON.stringify(delim.delimiter)})`,
      );
      continue;
    }
    const ex = rowExample(file, rec.line, rec.fields, map, opts, rep, log);
    if (ex) yield ex;
  }
}

/** The example of one row (fields by index or by key, as the column map names them), counted as kept; undefined when rejected. */
function rowExample<K extends string | number>(
  file: string,
  line: number,
  row: Record<K, unknown> | unknown[],
  map: ColumnMap<K>,
  opts: ExampleReadOptions,
  rep: ReadReport,
  log: BadRowLog,
): Example | undefined {
  const values = {
    text: pick(row, map.text),
    pair: pick(row, map.pair),
    label: pick(row, map.label),
    group: pick(row, map.group),
  };
  const ex = buildExample(file, line, values, map, opts, log);
  if (ex) rep.kept++;
  return ex;
}

function pick<K extends string | number>(row: Record<K, unknown> | unknown[], key: K | undefined): unknown {
  return key === undefined ? undefined : (row as Record<K, unknown>)[key];
}

function roles<K>(map: ColumnMap<K>): NonNullable<ReadReport["roles"]> {
  return {
    text: map.textName,
    ...(map.pairName !== undefined ? { textPair: map.pairName } : {}),
    ...(map.labelName !== undefined ? { label: map.labelName } : {}),
  };
}

/** A column flag: a header name first, then a 0-based index. */
function lookupIndex(spec: string, names: readonly string[]): number | undefined {
  const byName = names.indexOf(spec);
  if (byName >= 0) return byName;
  if (/^\d+$/.test(spec)) {
    const i = Number(spec);
    return i < names.length ? i : undefined;
  }
  return undefined;
}

async function* jsonlExamples(
  file: string,
  opts: ExampleReadOptions,
  rep: ReadReport,
  log: BadRowLog,
): AsyncGenerator<Example> {
  let map: ReturnType<typeof mapColumns<string>> | undefined;
  for await (const l of rowLines(file, opts, rep, log)) {
    let obj: unknown;
    try {
      obj = JSON.parse(l.text);
    } catch (e) {
      log.reject(file, l.line, `invalid JSON: ${excerpt((e as Error).message)}`);
      continue;
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
      log.reject(
        file,
        l.line,
        `expected a JSON object per line, got ${Array.isArray(obj) ? "an array" : obj === null ? "null" : `a ${typeof obj}`}`,
      );
      continue;
    }
    const row = obj as Record<string, unknown>;
    if (map === undefined) {
      // the first object names the columns; a key that later rows lack is a "missing" field there
      rep.columns = Object.keys(row);
      map = mapColumns<string>(
        file,
        rep.columns,
        opts,
        (spec) => (rep.columns.includes(spec) ? spec : undefined),
        (k) => k,
      );
      rep.roles = roles(map);
    }
    const ex = rowExample(file, l.line, row, map, opts, rep, log);
    if (ex) yield ex;
  }
}

/** The non-blank lines of a line-per-row file, counted in rep; lines that are not valid UTF-8 are rejected. */
async function* rowLines(file: string, opts: LineOptions, rep: ReadReport, log: BadRowLog): AsyncGenerator<Line> {
  for await (const l of readLines(file, opts)) {
    if (l.invalidUtf8 === undefined && l.text.trim() === "") {
      rep.blankLines++;
      continue;
    }
    rep.rows++;
    if (l.invalidUtf8 !== undefined) {
      log.reject(file, l.line, invalidUtf8Reason(l.invalidUtf8));
      continue;
    }
    yield l;
  }
}

/** One example per non-blank line; blank lines separate nothing and are only counted. */
async function* textExamples(
  file: string,
  opts: ExampleReadOptions,
  rep: ReadReport,
  log: BadRowLog,
): AsyncGenerator<Example> {
  const trim = opts.trim ?? true;
  if (opts.labelColumn)
    throw new DataError("plain-text files have no label column; use a CSV/TSV or JSONL file for labelled data", {
      file,
    });
  for await (const l of rowLines(file, opts, rep, log)) {
    rep.kept++;
    yield { text: trim ? l.text.trim() : l.text, line: l.line };
  }
}
