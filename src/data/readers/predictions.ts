/**
 * Prediction and reference files, as `graft score` reads them: plain text with one item per line, or JSONL with
 * one record per line and the value in a (dotted) field, or the whole record. A file is read once; its values are
 * then converted to what a metric takes (a value kind: text, number, class label, score row, tags, item ids,
 * relevance grades, loss record), and every conversion error names the file, the line and, for JSONL, the field.
 */
import { readFileSync } from "node:fs";
import { DataError } from "../../util/errors.js";
import { excerpt } from "../../util/excerpt.js";
import { pyRstrip } from "../../util/pytext.js";
import { checkReadable, firstInvalidUtf8, invalidUtf8Reason } from "./lines.js";

export type ValueFormat = "text" | "jsonl";

/** The value kinds and what each becomes. */
export interface ValueKinds {
  /** A sentence: the line without trailing whitespace (as Python's rstrip), or a JSON string. */
  text: string;
  /** A finite number, or a row of them (regression values; a row holds one per output): whitespace-separated or JSON. */
  number: number | number[];
  /** A score, or a row of class scores: a JSON array or whitespace-separated numbers. */
  scores: number | number[];
  /** A class label (string, or a JSON number/boolean), or a multilabel 0/1 row (JSON array). */
  label: string | number | boolean | number[];
  /** Tags of one sentence: space-separated, or a JSON array of strings. */
  tags: string[];
  /** Ranked item ids: space-separated, or a JSON array. */
  items: (string | number)[];
  /** Relevant item ids, or an object of graded relevances. */
  relevance: (string | number)[] | Record<string, number>;
  /** Summed loss (nats) over a number of tokens (and characters): a record, or a per-token loss on a line. */
  losses: LossRecord;
}
export type ValueKind = keyof ValueKinds;

export interface LossRecord {
  loss: number;
  tokens: number;
  /** Read when LossFields names a characters field (bits per character); absent otherwise. */
  characters?: number;
}

export interface ValueFileOptions {
  /** Default: jsonl for .jsonl / .ndjson files, text otherwise. */
  format?: ValueFormat;
  /** JSONL: the field holding the value ("a.b" reaches into objects); absent: the whole record. */
  field?: string;
}

export interface ValueFile {
  file: string;
  format: ValueFormat;
  field?: string;
  /** One entry per text line, or per non-blank JSONL line. */
  items: { value: unknown; line: number }[];
}

/** Field names of a loss record; `characters`, when given, is required too. */
export interface LossFields {
  loss: string;
  tokens: string;
  characters?: string;
}

export function valueFormatOf(file: string, format?: ValueFormat): ValueFormat {
  return format ?? (/\.(jsonl|ndjson)$/i.test(file) ? "jsonl" : "text");
}

/** Reads a prediction or reference file: one value per line. A final newline does not start an empty item. */
export function readValueFile(file: string, opts: ValueFileOptions = {}): ValueFile {
  checkReadable(file);
  const format = valueFormatOf(file, opts.format);
  const bytes = readFileSync(file);
  const lines = bytes.toString("utf8").split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  if (lines.some((l) => l.includes("\ufffd"))) checkUtf8(file, bytes);
  const field = format === "jsonl" && opts.field ? opts.field : undefined;
  const items: ValueFile["items"] = [];
  lines.forEach((text, i) => {
    const line = i + 1;
    if (format === "text") {
      items.push({ value: pyRstrip(text), line });
      return;
    }
    if (text.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new DataError(`not valid JSON (${excerpt((e as Error).message)})`, { file, line });
    }
    if (field !== undefined) value = fieldOf(value, field, { file, line });
    items.push({ value, line });
  });
  return { file, format, field, items };
}

/** U+FFFD in the decoded text is either written in the file or a byte that is not UTF-8: only the second is an error. */
function checkUtf8(file: string, bytes: Buffer): void {
  let start = 0;
  for (let line = 1; start <= bytes.length; line++) {
    let end = bytes.indexOf(10, start);
    if (end < 0) end = bytes.length;
    const bad = firstInvalidUtf8(bytes.subarray(start, end));
    if (bad >= 0) throw new DataError(invalidUtf8Reason(bad), { file, line });
    start = end + 1;
  }
}

function fieldOf(record: unknown, field: string, where: { file: string; line: number }): unknown {
  let v = record;
  for (const part of field.split(".")) {
    if (v === null || typeof v !== "object" || !(part in (v as Record<string, unknown>)))
      throw new DataError(
        `no field "${field}" in this record`,
        { ...where, field },
        "choose the field with --hyp-field / --ref-field",
      );
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

type Where = { file: string; line: number; field?: string };

/** Converts every value of a file to a kind; the first bad value is an error naming its file, line and field. */
export function parseValues<K extends ValueKind>(vf: ValueFile, kind: K, fields?: LossFields): ValueKinds[K][] {
  const convert = CONVERTERS[kind] as (v: unknown, w: Where, f?: LossFields) => ValueKinds[K];
  return vf.items.map((it) => convert(it.value, { file: vf.file, line: it.line, field: vf.field }, fields));
}

const show = (v: unknown) => excerpt(JSON.stringify(v) ?? String(v));

function asNumber(v: unknown, where: Where): number {
  const x = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  if (typeof x !== "number" || !Number.isFinite(x))
    throw new DataError(`expected a finite number, got ${show(v)}`, where);
  return x;
}

/** A regression value: a number, or a row of numbers (one per output) as a score row is written. */
function asNumbers(v: unknown, where: Where): number | number[] {
  if (Array.isArray(v) || (typeof v === "string" && /\S\s+\S|^\s*\[/.test(v))) {
    try {
      return asScores(v, where);
    } catch {
      throw new DataError(`expected a finite number or a row of them, got ${show(v)}`, where);
    }
  }
  return asNumber(v, where);
}

function asScores(value: unknown, where: Where): number | number[] {
  let v = value;
  if (typeof v === "string") {
    const s = v.trim();
    if (s.startsWith("[")) {
      try {
        v = JSON.parse(s);
      } catch {
        throw new DataError(`not a JSON array of numbers: ${excerpt(s)}`, where);
      }
    } else {
      const parts = s.split(/\s+/).map((x) => (x === "" ? NaN : Number(x)));
      v = parts.length === 1 ? parts[0] : parts;
    }
  }
  const arr = Array.isArray(v) ? v : [v];
  if (arr.length === 0 || arr.some((x) => typeof x !== "number" || !Number.isFinite(x))) {
    throw new DataError(
      `expected finite scores, got ${show(value)}`,
      where,
      "NaN and infinite scores cannot be ranked; fix the model output",
    );
  }
  return Array.isArray(v) ? (arr as number[]) : (arr[0] as number);
}

function asLabel(v: unknown, where: Where): ValueKinds["label"] {
  if (typeof v === "string") {
    const s = v.trim();
    if (s === "") throw new DataError("empty label", where);
    if (s.startsWith("[")) return asScores(s, where) as number[];
    return s;
  }
  if (typeof v === "number" || typeof v === "boolean") return v;
  if (Array.isArray(v)) return asScores(v, where) as number[];
  throw new DataError(`expected a label, got ${show(v)}`, where);
}

function asItems(value: unknown, where: Where, grades: boolean): ValueKinds["relevance"] {
  let v = value;
  if (typeof v === "string") {
    const s = v.trim();
    if (s.startsWith("[") || s.startsWith("{")) {
      try {
        v = JSON.parse(s);
      } catch {
        throw new DataError(`not valid JSON: ${excerpt(s)}`, where);
      }
    } else v = s === "" ? [] : s.split(/\s+/);
  }
  if (Array.isArray(v) && v.every((x) => typeof x === "string" || typeof x === "number")) return v;
  if (grades && v !== null && typeof v === "object" && !Array.isArray(v)) return v as Record<string, number>;
  throw new DataError(
    `expected a list of item ids${grades ? " (or an object of relevance grades)" : ""}, got ${show(value)}`,
    where,
  );
}

const CONVERTERS: { [K in ValueKind]: (v: unknown, where: Where, fields?: LossFields) => ValueKinds[K] } = {
  text: (v, where) => {
    if (typeof v !== "string") throw new DataError(`expected a string, got ${show(v)}`, where);
    return v;
  },
  number: asNumbers,
  scores: asScores,
  label: asLabel,
  tags: (v, where) => {
    if (typeof v === "string") return v.trim() === "" ? [] : v.trim().split(/\s+/);
    if (Array.isArray(v) && v.every((t) => typeof t === "string")) return v as string[];
    throw new DataError(`expected tags (space-separated, or a JSON array of strings), got ${show(v)}`, where);
  },
  items: (v, where) => asItems(v, where, false) as (string | number)[],
  relevance: (v, where) => asItems(v, where, true),
  losses: (v, where, fields = { loss: "loss", tokens: "tokens" }) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return { loss: asNumber(v, where), tokens: 1 };
    const rec = v as Record<string, unknown>;
    const get = (key: string) => {
      if (!(key in rec))
        throw new DataError(
          `no field "${key}" in this record`,
          { ...where, field: key },
          "set --loss-field / --tokens-field / --chars-field",
        );
      return asNumber(rec[key], { ...where, field: key });
    };
    const out: LossRecord = { loss: get(fields.loss), tokens: get(fields.tokens) };
    if (fields.characters !== undefined) out.characters = get(fields.characters);
    return out;
  },
};
