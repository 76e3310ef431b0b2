/**
 * What `graft data inspect` reports about a file: rows (kept, skipped, blank), columns and their roles, label
 * distribution, text length percentiles (characters and words), duplicates, and overlap with another file
 * (e.g. how many test rows also occur in train). Streams the file; keeps only lengths and text keys.
 */
import { createHash } from "node:crypto";
import type { BadRow, ReadReport } from "./types.js";
import { streamExamples, type ExampleReadOptions } from "./readers/examples.js";
import { streamConll, type ConllOptions } from "./readers/conll.js";
import { summarizeBadRows } from "./badrows.js";
import { dedupeKey } from "./split.js";

export interface Percentiles {
  min: number;
  p5: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
  max: number;
  mean: number;
}

export interface InspectReport {
  file: string;
  format: string;
  /** What a row is: a CSV/JSONL/text row, or a CoNLL sentence (then labels count tags and words count tokens). */
  unit: "row" | "sentence";
  columns: string[];
  roles?: ReadReport["roles"];
  rows: number;
  kept: number;
  blankLines: number;
  skipped: { total: number; byReason: Record<string, number>; first: BadRow[] };
  /** Most frequent first; null for unlabelled data. */
  labels: { label: string; count: number; share: number }[] | null;
  length: { chars: Percentiles; words: Percentiles } | null;
  duplicates: { rows: number; distinctDuplicated: number; conflictingLabels: number };
  overlap?: { file: string; rows: number; rowsAlsoInFile: number; distinctShared: number };
}

/** numpy.percentile's default (linear interpolation between closest ranks) on sorted values. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos),
    hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function percentiles(values: number[]): Percentiles {
  const s = Float64Array.from(values).sort();
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  return {
    min: s[0] ?? NaN,
    p5: percentile(s, 5),
    p25: percentile(s, 25),
    p50: percentile(s, 50),
    p75: percentile(s, 75),
    p95: percentile(s, 95),
    max: s[s.length - 1] ?? NaN,
    mean,
  };
}

/** A short digest of the normalized text (and pair), so large files do not keep every text in memory. */
function key(text: string, pair: string | undefined): string {
  return createHash("sha1")
    .update(dedupeKey(text))
    .update("\u0000")
    .update(dedupeKey(pair ?? ""))
    .digest("base64");
}

export async function inspectFile(
  file: string,
  opts: ExampleReadOptions = {},
  against?: { file: string; opts?: ExampleReadOptions },
): Promise<InspectReport> {
  const report: ReadReport = {
    file,
    format: opts.format ?? "",
    columns: [],
    rows: 0,
    kept: 0,
    blankLines: 0,
    skipped: [],
  };
  const labels = new Map<string, number>();
  const chars: number[] = [];
  const words: number[] = [];
  // key → [count, first label, label conflict]
  const seen = new Map<string, { count: number; label: string; conflict: boolean }>();
  let labelled = false;
  for await (const ex of streamExamples(file, { ...opts, onBadRow: opts.onBadRow ?? "skip" }, report)) {
    const text = ex.textPair !== undefined ? `${ex.text} ${ex.textPair}` : ex.text;
    chars.push([...text].length);
    words.push(text.split(/\s+/u).filter((w) => w !== "").length);
    const label = ex.label === undefined ? "" : String(ex.label);
    if (ex.label !== undefined) {
      labelled = true;
      labels.set(label, (labels.get(label) ?? 0) + 1);
    }
    const k = key(ex.text, ex.textPair);
    const s = seen.get(k);
    if (s) {
      s.count++;
      if (s.label !== label) s.conflict = true;
    } else seen.set(k, { count: 1, label, conflict: false });
  }
  let dupRows = 0,
    dupDistinct = 0,
    conflicting = 0;
  for (const s of seen.values()) {
    if (s.count > 1) {
      dupRows += s.count - 1;
      dupDistinct++;
      if (s.conflict) conflicting++;
    }
  }
  const bad = summarizeBadRows(report.skipped);
  const out: InspectReport = {
    file,
    format: report.format,
    unit: "row",
    columns: report.columns,
    ...(report.roles ? { roles: report.roles } : {}),
    rows: report.rows,
    kept: report.kept,
    blankLines: report.blankLines,
    skipped: { ...bad, first: report.skipped.slice(0, 20) },
    labels: labelled
      ? [...labels]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .map(([label, count]) => ({ label, count, share: count / report.kept }))
      : null,
    length: chars.length > 0 ? { chars: percentiles(chars), words: percentiles(words) } : null,
    duplicates: { rows: dupRows, distinctDuplicated: dupDistinct, conflictingLabels: conflicting },
  };
  if (against) {
    let rows = 0,
      also = 0;
    const shared = new Set<string>();
    const otherOpts = against.opts ?? opts;
    for await (const ex of streamExamples(against.file, { ...otherOpts, onBadRow: otherOpts.onBadRow ?? "skip" })) {
      rows++;
      const k = key(ex.text, ex.textPair);
      if (seen.has(k)) {
        also++;
        shared.add(k);
      }
    }
    out.overlap = { file: against.file, rows, rowsAlsoInFile: also, distinctShared: shared.size };
  }
  return out;
}

/** The same report for a CoNLL file: sentences as rows, tag distribution as labels, tokens per sentence as words. */
export async function inspectConll(file: string, opts: ConllOptions = {}): Promise<InspectReport> {
  const report: ReadReport = { file, format: "conll", columns: [], rows: 0, kept: 0, blankLines: 0, skipped: [] };
  const tags = new Map<string, number>();
  const chars: number[] = [];
  const words: number[] = [];
  const seen = new Map<string, number>();
  let tokens = 0;
  for await (const s of streamConll(file, { ...opts, onBadRow: opts.onBadRow ?? "skip" }, report)) {
    for (const t of s.tags) tags.set(t, (tags.get(t) ?? 0) + 1);
    tokens += s.tokens.length;
    const text = s.tokens.join(" ");
    chars.push([...text].length);
    words.push(s.tokens.length);
    const k = key(text, s.tags.join(" "));
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  let dupRows = 0,
    dupDistinct = 0;
  for (const c of seen.values()) if (c > 1) [dupRows, dupDistinct] = [dupRows + c - 1, dupDistinct + 1];
  const tagColumn = opts.tagColumn ?? -1;
  return {
    file,
    format: "conll",
    unit: "sentence",
    columns: report.columns,
    roles: {
      text: String(opts.tokenColumn ?? 0),
      label: String(tagColumn < 0 ? report.columns.length + tagColumn : tagColumn),
    },
    rows: report.rows,
    kept: report.kept,
    blankLines: report.blankLines,
    skipped: { ...summarizeBadRows(report.skipped), first: report.skipped.slice(0, 20) },
    labels: [...tags]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([label, count]) => ({ label, count, share: count / Math.max(1, tokens) })),
    length: chars.length > 0 ? { chars: percentiles(chars), words: percentiles(words) } : null,
    duplicates: { rows: dupRows, distinctDuplicated: dupDistinct, conflictingLabels: 0 },
  };
}
