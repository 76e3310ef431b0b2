/**
 * Parallel text for translation: two line-aligned files (line i of one translates line i of the other), or one
 * CSV/TSV/JSONL file with a source and a target column. Files of different lengths are misaligned: that is always
 * an error, since no single row can be skipped to repair it.
 */
import { DataError } from "../../util/errors.js";
import { BadRowLog } from "../badrows.js";
import type { BadRowPolicy, ParallelPair, ReadReport } from "../types.js";
import { readLines, invalidUtf8Reason, type LineOptions, type Line } from "./lines.js";
import { streamExamples, type ExampleReadOptions } from "./examples.js";

export interface ParallelOptions extends LineOptions {
  onBadRow?: BadRowPolicy;
  /** Strip surrounding whitespace (default true). */
  trim?: boolean;
}

export async function* streamParallel(
  sourceFile: string,
  targetFile: string,
  opts: ParallelOptions = {},
  report?: ReadReport,
): AsyncGenerator<ParallelPair> {
  const rep = report ?? emptyReport(`${sourceFile} + ${targetFile}`);
  const log = new BadRowLog(opts.onBadRow ?? "fail", rep.skipped);
  const trim = opts.trim ?? true;
  const src = readLines(sourceFile, opts);
  const tgt = readLines(targetFile, opts);
  try {
    for (;;) {
      const [a, b] = await Promise.all([src.next(), tgt.next()]);
      if (a.done && b.done) break;
      if (a.done || b.done) {
        const [shortFile, longFile, extra] = a.done
          ? [sourceFile, targetFile, b.value as Line]
          : [targetFile, sourceFile, a.value as Line];
        throw new DataError(
          `misaligned parallel files: ${shortFile} ends after ${extra.line - 1} lines but ${longFile} goes on`,
          { file: longFile, line: extra.line },
          "line i of one file must translate line i of the other; check for a missing or extra line (an embedded newline?)",
        );
      }
      const s = a.value,
        t = b.value;
      const sText = trim ? s.text.trim() : s.text,
        tText = trim ? t.text.trim() : t.text;
      if (s.invalidUtf8 === undefined && t.invalidUtf8 === undefined && sText === "" && tText === "") {
        rep.blankLines++;
        continue;
      }
      rep.rows++;
      if (s.invalidUtf8 !== undefined) log.reject(sourceFile, s.line, invalidUtf8Reason(s.invalidUtf8));
      else if (t.invalidUtf8 !== undefined) log.reject(targetFile, t.line, invalidUtf8Reason(t.invalidUtf8));
      else if (sText === "")
        log.reject(sourceFile, s.line, `empty source line (its target on line ${t.line} of ${targetFile} has text)`);
      else if (tText === "")
        log.reject(targetFile, t.line, `empty target line (its source on line ${s.line} of ${sourceFile} has text)`);
      else {
        rep.kept++;
        yield { source: sText, target: tText, line: s.line };
      }
    }
  } finally {
    await Promise.all([src.return(undefined), tgt.return(undefined)]);
  }
}

/** Pairs from one file with a source and a target column (e.g. a TSV `en<TAB>de`). */
export async function* streamParallelColumns(
  file: string,
  columns: { source: string; target: string },
  opts: Omit<ExampleReadOptions, "textColumn" | "textPairColumn" | "labelColumn"> = {},
  report?: ReadReport,
): AsyncGenerator<ParallelPair> {
  const rep = report ?? emptyReport(file);
  const rows = streamExamples(
    file,
    { ...opts, textColumn: columns.source, textPairColumn: columns.target, labelColumn: null },
    rep,
  );
  for await (const ex of rows) yield { source: ex.text, target: ex.textPair!, line: ex.line };
}

export async function readParallel(
  source: string,
  target: string | { sourceColumn: string; targetColumn: string },
  opts: ParallelOptions & Omit<ExampleReadOptions, "textColumn" | "textPairColumn" | "labelColumn"> = {},
): Promise<{ pairs: ParallelPair[]; report: ReadReport }> {
  const report = emptyReport(typeof target === "string" ? `${source} + ${target}` : source);
  const pairs: ParallelPair[] = [];
  const it =
    typeof target === "string"
      ? streamParallel(source, target, opts, report)
      : streamParallelColumns(source, { source: target.sourceColumn, target: target.targetColumn }, opts, report);
  for await (const p of it) pairs.push(p);
  if (report.rows === 0) throw new DataError("no sentence pairs (the files are empty)", { file: report.file });
  return { pairs, report };
}

function emptyReport(file: string): ReadReport {
  return { file, format: "parallel", columns: ["source", "target"], rows: 0, kept: 0, blankLines: 0, skipped: [] };
}
