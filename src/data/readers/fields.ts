/**
 * Column mapping (--text-column, --text-pair-column, --label-column) and per-row validation shared by the
 * column-based readers (CSV/TSV and JSONL). A row either becomes an Example or is rejected with a reason.
 */
import { DataError } from "../../util/errors.js";
import { quoted } from "../../util/excerpt.js";
import type { BadRowLog } from "../badrows.js";
import type { Example } from "../types.js";

export type LabelType = "string" | "int" | "float";

export interface ColumnOptions {
  /** Text column: a header name, or a 0-based index. Default: the first of text, sentence, sentence1, review, ... present. */
  textColumn?: string;
  /** Second text of a pair. Default: sentence2 next to sentence1, text_pair next to text, otherwise none. */
  textPairColumn?: string;
  /** Label column (name or index); null = unlabelled data. Default: the first of label, labels, class, ... present, else none. */
  labelColumn?: string | null;
  /** "string" (class names, default), "int" (class ids, validated) or "float" (regression targets). */
  labelType?: LabelType;
  /** When given, a label outside this set is a bad row. */
  labels?: readonly string[];
  /** Column whose value groups rows that must stay on one side of a split (user, document, ...), for group k-fold. */
  groupColumn?: string;
  /** Strip leading/trailing whitespace from texts (default true; GLUE files end every sentence with a space). */
  trim?: boolean;
}

export const TEXT_COLUMNS = [
  "text",
  "sentence",
  "sentence1",
  "review",
  "content",
  "document",
  "comment",
  "message",
  "body",
  "question",
];
export const LABEL_COLUMNS = ["label", "labels", "class", "category", "target", "sentiment", "y"];

/** Names quoted for a message, each cut to ~200 characters, the first 20 then a count of the rest. */
function listOf(names: readonly string[], max = 20): string {
  const shown = names.slice(0, max).map((c) => quoted(c));
  return names.length > max
    ? `${shown.join(", ")}, … (${names.length.toLocaleString("en-US")} in all)`
    : shown.join(", ");
}

/** The columns of a file for a message. */
export function columnList(columns: readonly string[]): string {
  return columns.length > 0 ? listOf(columns) : "(none)";
}

/** Where each role's value comes from: an index into the row (delimited) or a key (JSONL). */
export interface ColumnMap<K> {
  text: K;
  textName: string;
  pair?: K;
  pairName?: string;
  label?: K;
  labelName?: string;
  group?: K;
  groupName?: string;
}

/** Resolves the roles against known column names; `lookup` turns a flag value into a key, or undefined if absent. */
export function mapColumns<K>(
  file: string,
  columns: readonly string[],
  opts: ColumnOptions,
  lookup: (spec: string) => K | undefined,
  nameOf: (k: K) => string,
): ColumnMap<K> {
  const list = columnList(columns);
  const need = (spec: string, role: string): K => {
    const k = lookup(spec);
    if (k === undefined)
      throw new DataError(
        `no ${role} column ${quoted(spec)}; the columns are ${list}`,
        { file },
        `pass --${role}-column with one of the column names (or a 0-based index)`,
      );
    return k;
  };
  const firstPresent = (names: string[]): K | undefined => {
    for (const n of names) {
      const k = columns.includes(n) ? lookup(n) : undefined;
      if (k !== undefined) return k;
    }
    return undefined;
  };
  const text = opts.textColumn !== undefined ? need(opts.textColumn, "text") : firstPresent(TEXT_COLUMNS);
  if (text === undefined) {
    throw new DataError(
      `no text column found; the columns are ${list}`,
      { file },
      "pass --text-column NAME (or a 0-based index when the file has no header)",
    );
  }
  const map: ColumnMap<K> = { text, textName: nameOf(text) };
  const pairDefault = map.textName === "sentence1" ? "sentence2" : map.textName === "text" ? "text_pair" : undefined;
  const pair =
    opts.textPairColumn !== undefined
      ? need(opts.textPairColumn, "text-pair")
      : pairDefault !== undefined
        ? firstPresent([pairDefault])
        : undefined;
  if (pair !== undefined) [map.pair, map.pairName] = [pair, nameOf(pair)];
  const label =
    opts.labelColumn === null
      ? undefined
      : opts.labelColumn !== undefined
        ? need(opts.labelColumn, "label")
        : firstPresent(LABEL_COLUMNS);
  if (label !== undefined) [map.label, map.labelName] = [label, nameOf(label)];
  if (opts.groupColumn !== undefined) {
    const group = need(opts.groupColumn, "group");
    [map.group, map.groupName] = [group, nameOf(group)];
  }
  if (map.label !== undefined && map.label === map.text)
    throw new DataError(`the text and label columns are the same column (${quoted(map.textName)})`, { file });
  return map;
}

/** Validates one row's values; returns the example or rejects the row through the log and returns undefined. */
export function buildExample(
  file: string,
  line: number,
  values: { text: unknown; pair?: unknown; label?: unknown; group?: unknown },
  map: ColumnMap<unknown>,
  opts: ColumnOptions,
  log: BadRowLog,
): Example | undefined {
  const trim = opts.trim ?? true;
  const bad = (reason: string, field: string | undefined): undefined => {
    log.reject(file, line, reason, field);
    return undefined;
  };
  const text = asText(values.text, trim);
  if (values.text === undefined) return bad("missing field", map.textName);
  if (text === undefined) return bad(`text is ${describe(values.text)}, expected a string`, map.textName);
  if (text === "") return bad("empty text", map.textName);
  const ex: Example = { text, line };
  if (map.pair !== undefined) {
    const pair = asText(values.pair, trim);
    if (values.pair === undefined) return bad("missing field", map.pairName);
    if (pair === undefined) return bad(`text pair is ${describe(values.pair)}, expected a string`, map.pairName);
    if (pair === "") return bad("empty text pair", map.pairName);
    ex.textPair = pair;
  }
  if (map.label !== undefined) {
    const parsed = parseLabel(values.label, opts.labelType ?? "string");
    if (typeof parsed === "object") return bad(parsed.error, map.labelName);
    if (opts.labels && !opts.labels.includes(String(parsed))) {
      return bad(`label ${quoted(String(parsed))} is not one of ${listOf(opts.labels)}`, map.labelName);
    }
    ex.label = parsed;
  }
  if (map.group !== undefined) {
    const g = values.group;
    if (g === undefined) return bad("missing field", map.groupName);
    if (g === null || typeof g === "object" || String(g).trim() === "")
      return bad("missing group (empty)", map.groupName);
    ex.group = String(g).trim();
  }
  return ex;
}

function asText(v: unknown, trim: boolean): string | undefined {
  if (typeof v !== "string") return undefined;
  return trim ? v.trim() : v;
}

function describe(v: unknown): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  return Array.isArray(v) ? "an array" : `a ${typeof v}`;
}

/** A label as a class name (string), a validated integer class id (string), or a regression target (number). */
export function parseLabel(v: unknown, type: LabelType): string | number | { error: string } {
  if (v === undefined) return { error: "missing field" };
  if (v === null) return { error: "missing label (null)" };
  if (typeof v === "object")
    return {
      error: `unparsable label: expected a ${type === "string" ? "string or number" : type}, got ${Array.isArray(v) ? "an array" : "an object"}`,
    };
  const s = String(v).trim();
  if (s === "") return { error: "missing label (empty)" };
  if (type === "string") return s;
  if (type === "int") {
    if (!/^[+-]?\d+$/.test(s)) return { error: `unparsable label: expected an integer, got ${quoted(s)}` };
    return String(Number.parseInt(s, 10));
  }
  const x = Number(s);
  if (!Number.isFinite(x) || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s))
    return { error: `unparsable label: expected a number, got ${quoted(s)}` };
  return x;
}
