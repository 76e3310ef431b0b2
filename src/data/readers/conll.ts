/**
 * CoNLL-style token/tag columns (CoNLL-2003 NER, CoNLL-U-like files): one token per line, sentences separated by
 * blank lines, `-DOCSTART-` lines marking documents. A line whose column count differs from the file's makes its
 * whole sentence a bad row (tags would be misaligned otherwise).
 */
import { DataError } from "../../util/errors.js";
import { quoted } from "../../util/excerpt.js";
import { BadRowLog } from "../badrows.js";
import type { BadRowPolicy, ReadReport, TaggedSentence } from "../types.js";
import { readLines, invalidUtf8Reason, type LineOptions } from "./lines.js";

export interface ConllOptions extends LineOptions {
  /** 0-based column of the token (default 0). */
  tokenColumn?: number;
  /** 0-based column of the tag; negative counts from the end (default -1, the last column). */
  tagColumn?: number;
  /** Columns per token line; default: the count on the first token line. */
  columns?: number;
  /** Skip lines starting with "#" (CoNLL-U comments). Off by default: "#" is a real token in CoNLL-2003. */
  comments?: boolean;
  onBadRow?: BadRowPolicy;
}

export async function* streamConll(
  file: string,
  opts: ConllOptions = {},
  report?: ReadReport,
): AsyncGenerator<TaggedSentence> {
  const rep = report ?? { file, format: "conll", columns: [], rows: 0, kept: 0, blankLines: 0, skipped: [] };
  const log = new BadRowLog(opts.onBadRow ?? "fail", rep.skipped);
  let width = opts.columns ?? 0;
  let widthFrom = opts.columns !== undefined ? "--columns" : "";
  let document = 0;
  let sawDocstart = false;
  let cur: TaggedSentence | undefined;
  let bad = false;

  const finish = (): TaggedSentence | undefined => {
    const s = cur;
    cur = undefined;
    if (s === undefined) return undefined;
    rep.rows++;
    if (bad) {
      bad = false;
      return undefined;
    }
    rep.kept++;
    return s;
  };

  for await (const l of readLines(file, opts)) {
    const text = l.text.trim();
    if (l.invalidUtf8 === undefined && text === "") {
      // a blank line ends the current sentence; only a blank line with no sentence to end is counted as blank
      if (cur === undefined) rep.blankLines++;
      const s = finish();
      if (s) yield s;
      continue;
    }
    if (opts.comments && text.startsWith("#")) continue;
    const cols = text.split(/\s+/);
    if (cols[0] === "-DOCSTART-") {
      const s = finish();
      if (s) yield s;
      if (sawDocstart || rep.rows > 0) document++;
      sawDocstart = true;
      continue;
    }
    if (cur === undefined) cur = { tokens: [], tags: [], columns: [], line: l.line, document };
    if (bad) continue;
    if (l.invalidUtf8 !== undefined) {
      bad = true;
      log.reject(file, l.line, invalidUtf8Reason(l.invalidUtf8));
      continue;
    }
    if (width === 0) {
      width = cols.length;
      widthFrom = `line ${l.line}`;
      if (width < 2 && opts.tagColumn === undefined)
        throw new DataError(
          `expected at least 2 columns (token and tag), found 1: ${quoted(text)}`,
          { file, line: l.line },
          "is this a CoNLL file? columns are separated by spaces or tabs",
        );
      rep.columns = cols.map((_, i) => String(i));
    }
    if (cols.length !== width) {
      bad = true;
      log.reject(
        file,
        l.line,
        `expected ${width} columns (as on ${widthFrom}), found ${cols.length}: ${quoted(text, 60)} (the whole sentence starting at line ${cur.line} is rejected)`,
      );
      continue;
    }
    const tokenAt = opts.tokenColumn ?? 0;
    const tagAt = (opts.tagColumn ?? -1) < 0 ? width + (opts.tagColumn ?? -1) : opts.tagColumn!;
    if (tokenAt >= width || tagAt < 0 || tagAt >= width) {
      throw new DataError(
        `token column ${tokenAt} / tag column ${opts.tagColumn ?? -1} is outside the ${width} columns`,
        { file, line: l.line },
      );
    }
    cur.tokens.push(cols[tokenAt]!);
    cur.tags.push(cols[tagAt]!);
    cur.columns.push(cols);
  }
  const s = finish();
  if (s) yield s;
}

export async function readConll(
  file: string,
  opts: ConllOptions = {},
): Promise<{ sentences: TaggedSentence[]; report: ReadReport }> {
  const report: ReadReport = { file, format: "conll", columns: [], rows: 0, kept: 0, blankLines: 0, skipped: [] };
  const sentences: TaggedSentence[] = [];
  for await (const s of streamConll(file, opts, report)) sentences.push(s);
  if (report.rows === 0) throw new DataError("no sentences (the file is empty)", { file });
  return { sentences, report };
}
