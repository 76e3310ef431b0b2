/**
 * Tables of customer records (CSV/TSV with a header) for the tabular task and the anomaly detectors: reading,
 * column types (inferred, overridable), and the fitted encoding of each type:
 * - numeric: standardized with the training mean and standard deviation; a missing value becomes 0 and, when the
 *   training column had missing values, a 0/1 missing-value indicator column follows it;
 * - categorical and boolean: an index into the training values (index 0: unknown, for a missing value or a
 *   category the training data did not have);
 * - text: kept as strings (the task embeds them with the pre-trained encoder);
 * - id: dropped.
 * Missing: an empty field or one of NA, N/A, NaN, null, None, ?, - (case-insensitive, after trimming).
 */
import { ArgumentError, DataError } from "../../util/errors.js";
import { readDelimited, resolveDelimited, type DelimitedOptions } from "../readers/delimited.js";

export type ColumnType = "numeric" | "categorical" | "boolean" | "text" | "id";
export const COLUMN_TYPES: readonly ColumnType[] = ["numeric", "categorical", "boolean", "text", "id"];

/** A table read whole: its header, and each record's fields with the line it starts on. */
export interface Table {
  file: string;
  header: string[];
  rows: string[][];
  lines: number[];
}

const MISSING = new Set(["", "na", "n/a", "nan", "null", "none", "?", "-"]);
const BOOLEAN = new Set(["yes", "no", "true", "false", "y", "n", "t", "f", "0", "1"]);

export function isMissing(v: string): boolean {
  return MISSING.has(v.trim().toLowerCase());
}

/** The number a field holds, or null when it is not a plain number. */
export function parseNumber(v: string): number | null {
  const t = v.trim();
  if (t === "" || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return null;
  return Number(t);
}

/** Reads a delimited file with a header; a record with another number of fields is an error naming its line. */
export async function readTable(file: string, opts: DelimitedOptions = {}): Promise<Table> {
  const format = resolveDelimited(file, opts);
  const table: Table = { file, header: [], rows: [], lines: [] };
  for await (const r of readDelimited(file, format, opts)) {
    if (table.header.length === 0) {
      table.header = r.fields.map((f) => f.trim());
      const dup = table.header.find((h, i) => table.header.indexOf(h) !== i);
      if (dup !== undefined) throw new DataError(`the header names the column "${dup}" twice`, { file, line: r.line });
      continue;
    }
    if (r.fields.length === 1 && r.fields[0].trim() === "") continue; // blank line
    if (r.fields.length !== table.header.length)
      throw new DataError(`${r.fields.length} fields, the header has ${table.header.length}`, { file, line: r.line });
    table.rows.push(r.fields);
    table.lines.push(r.line);
  }
  if (table.header.length === 0) throw new DataError("the file is empty (no header)", { file });
  return table;
}

/** Parses "col=type,col=type" (e.g. `TotalCharges=numeric,customerID=id`). */
export function parseColumnTypes(spec: string): Record<string, ColumnType> {
  const out: Record<string, ColumnType> = {};
  for (const part of spec.split(",").filter((p) => p.trim() !== "")) {
    const at = part.lastIndexOf("=");
    const name = part.slice(0, at).trim();
    const type = part.slice(at + 1).trim() as ColumnType;
    if (at <= 0 || !COLUMN_TYPES.includes(type))
      throw new ArgumentError(
        `column type "${part}" is not NAME=TYPE`,
        `TYPE is one of ${COLUMN_TYPES.join(", ")}, e.g. TotalCharges=numeric,customerID=id`,
      );
    out[name] = type;
  }
  return out;
}

/** The type a column's values suggest (see the file comment); `name` helps tell an identifier. */
export function inferColumnType(name: string, values: readonly string[]): ColumnType {
  const present = values.map((v) => v.trim()).filter((v) => !isMissing(v));
  if (present.length === 0) return "categorical";
  const distinct = new Set(present);
  const lower = new Set(present.map((v) => v.toLowerCase()));
  const idName = /(^id$|[_\s-]id$|[a-z]Id$|ID$|^uuid$|^key$)/.test(name);
  const unique = distinct.size === present.length && present.length > 1;
  if (lower.size <= 2 && [...lower].every((v) => BOOLEAN.has(v)) && present.length > 1) return "boolean";
  const numeric = present.filter((v) => parseNumber(v) !== null).length;
  if (numeric >= 0.95 * present.length) return idName && unique ? "id" : "numeric";
  if (unique && (idName || present.every((v) => !/\s/.test(v)))) return "id";
  const words = present.reduce((s, v) => s + v.split(/\s+/).length, 0) / present.length;
  if (words >= 3 || distinct.size > Math.max(50, 0.5 * present.length)) return "text";
  return "categorical";
}

export interface ColumnSchema {
  name: string;
  type: ColumnType;
  /** numeric: training mean and standard deviation (1 when constant), whether it had missing values. */
  mean?: number;
  std?: number;
  missing?: boolean;
  /** categorical / boolean: the training values; a value's index is its position + 1 (0: unknown). */
  vocab?: string[];
}

/** The fitted encoding of a table: feature columns in file order (the label and ids left out), and the classes. */
export interface TabularSchema {
  label: string;
  classes: string[];
  columns: ColumnSchema[];
  /** Identifier columns dropped at training (a prediction file may hold them). */
  dropped: string[];
}

/** A table encoded by a schema; the row order is the table's. */
export interface EncodedTable {
  n: number;
  /** n × numericWidth: standardized numeric columns, each followed by its missing indicator when it has one. */
  numeric: Float64Array;
  numericWidth: number;
  /** n × (number of categorical/boolean columns): indices, 0 for unknown. */
  categorical: Int32Array;
  /** Per text column, its n strings. */
  texts: string[][];
  /** Class ids (−1 where the table has no label column). */
  labels: Int32Array;
}

function sortClasses(values: Iterable<string>): string[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Column index of `name`, or an error listing the header. */
function columnIndex(table: Table, name: string, what: string): number {
  const i = table.header.indexOf(name);
  if (i < 0)
    throw new DataError(
      `no ${what} column "${name}"`,
      { file: table.file },
      `the header has ${table.header.join(", ")}`,
    );
  return i;
}

/**
 * Column types of every feature (inferred unless `overrides` names it) and their fitted encoding on the training
 * table. A label column with a single class, and a numeric column holding text, are errors naming the file,
 * line and value.
 */
export function fitSchema(
  table: Table,
  label: string,
  overrides: Record<string, ColumnType> = {},
): { schema: TabularSchema; inferred: Record<string, ColumnType> } {
  const li = columnIndex(table, label, "label");
  for (const name of Object.keys(overrides))
    if (!table.header.includes(name))
      throw new ArgumentError(`--column-types names "${name}", which ${table.file} does not have`);
  const labels: string[] = [];
  table.rows.forEach((r, k) => {
    const v = r[li].trim();
    if (isMissing(v))
      throw new DataError("the label is missing", { file: table.file, line: table.lines[k], field: label });
    labels.push(v);
  });
  const classes = sortClasses(labels);
  if (classes.length < 2)
    throw new DataError(
      `the label column "${label}" has a single class (${JSON.stringify(classes[0] ?? "")}); a classifier needs two or more`,
      { file: table.file, field: label },
    );
  const inferred: Record<string, ColumnType> = {};
  const columns: ColumnSchema[] = [];
  const dropped: string[] = [];
  table.header.forEach((name, c) => {
    if (c === li) return;
    const values = table.rows.map((r) => r[c]);
    const type = overrides[name] ?? inferColumnType(name, values);
    inferred[name] = type;
    if (type === "id") {
      dropped.push(name);
      return;
    }
    if (type === "numeric") {
      const nums = values.map((v, k) => numericValue(v, table, k, name));
      const present = nums.filter((v): v is number => v !== null);
      const mean = present.length ? present.reduce((a, b) => a + b, 0) / present.length : 0;
      const variance = present.length ? present.reduce((a, b) => a + (b - mean) ** 2, 0) / present.length : 0;
      columns.push({ name, type, mean, std: Math.sqrt(variance) || 1, missing: present.length < nums.length });
    } else if (type === "categorical" || type === "boolean") {
      columns.push({ name, type, vocab: sortClasses(values.map((v) => v.trim()).filter((v) => !isMissing(v))) });
    } else columns.push({ name, type });
  });
  return { schema: { label, classes, columns, dropped }, inferred };
}

function numericValue(v: string, table: Table, k: number, name: string): number | null {
  if (isMissing(v)) return null;
  const x = parseNumber(v);
  if (x === null || !Number.isFinite(x))
    throw new DataError(
      `column "${name}" is numeric but holds ${JSON.stringify(v)}`,
      { file: table.file, line: table.lines[k], field: name },
      `fix the value, or declare the column's type: --column-types '${name}=categorical'`,
    );
  return x;
}

/** Width of the numeric block: one per numeric column, plus one per missing-value indicator. */
export function numericWidth(schema: TabularSchema): number {
  return schema.columns.reduce((s, c) => s + (c.type === "numeric" ? (c.missing ? 2 : 1) : 0), 0);
}

/**
 * Checks a header (or a record's keys) against a fitted schema: every feature column present, nothing unknown
 * (identifier columns dropped at training and the label may be there or not). The error names each difference.
 */
export function checkColumns(
  schema: TabularSchema,
  header: readonly string[],
  where: { file?: string; line?: number },
): void {
  const expected = new Set([...schema.columns.map((c) => c.name), schema.label, ...schema.dropped]);
  const missingCols = schema.columns.map((c) => c.name).filter((n) => !header.includes(n));
  const extra = header.filter((h) => !expected.has(h));
  if (missingCols.length || extra.length)
    throw new DataError(
      `the columns differ from the training data's: ${[
        ...missingCols.map((c) => `"${c}" missing`),
        ...extra.map((c) => `"${c}" unknown`),
      ].join(", ")}`,
      where,
      `training used the columns ${schema.columns.map((c) => c.name).join(", ")} (label ${schema.label})`,
    );
}

/**
 * Encodes a table with a fitted schema. Its header must hold every column the schema uses (extra columns are an
 * error too, so a file from another source is not silently misread); the label column is optional (`labels` −1).
 */
export function encodeTable(schema: TabularSchema, table: Table): EncodedTable {
  checkColumns(schema, table.header, { file: table.file, line: 1 });
  const n = table.rows.length;
  const width = numericWidth(schema);
  const cats = schema.columns.filter((c) => c.type === "categorical" || c.type === "boolean");
  const numeric = new Float64Array(n * width);
  const categorical = new Int32Array(n * cats.length);
  const texts: string[][] = [];
  let off = 0,
    ci = 0;
  for (const col of schema.columns) {
    const at = table.header.indexOf(col.name);
    if (col.type === "numeric") {
      for (let k = 0; k < n; k++) {
        const v = numericValue(table.rows[k][at], table, k, col.name);
        numeric[k * width + off] = v === null ? 0 : (v - col.mean!) / col.std!;
        if (col.missing) numeric[k * width + off + 1] = v === null ? 1 : 0;
      }
      off += col.missing ? 2 : 1;
    } else if (col.type === "text") texts.push(table.rows.map((r) => r[at]));
    else if (col.vocab) {
      const index = new Map(col.vocab.map((v, i) => [v, i + 1]));
      for (let k = 0; k < n; k++) categorical[k * cats.length + ci] = index.get(table.rows[k][at].trim()) ?? 0;
      ci++;
    }
  }
  const li = table.header.indexOf(schema.label);
  const labels = new Int32Array(n).fill(-1);
  if (li >= 0) {
    const index = new Map(schema.classes.map((c, i) => [c, i]));
    table.rows.forEach((r, k) => {
      const id = index.get(r[li].trim());
      if (id === undefined)
        throw new DataError(
          `label ${JSON.stringify(r[li])} is not one of the training classes (${schema.classes.join(", ")})`,
          { file: table.file, line: table.lines[k], field: schema.label },
        );
      labels[k] = id;
    });
  }
  return { n, numeric, numericWidth: width, categorical, texts, labels };
}

/**
 * Dense features for the classical models: the numeric block, then one 0/1 column per categorical value (the
 * unknown index included), then `extra` (e.g. text embeddings, n × extraWidth). Names describe each column.
 */
export function denseFeatures(
  schema: TabularSchema,
  enc: EncodedTable,
  extra: { x: Float64Array; width: number } | null = null,
): { x: Float64Array; d: number; names: string[]; source: number[] } {
  const names: string[] = [];
  const source: number[] = []; // the schema column each feature comes from
  schema.columns.forEach((c, i) => {
    if (c.type === "numeric") {
      names.push(c.name);
      source.push(i);
      if (c.missing) {
        names.push(`${c.name} (missing)`);
        source.push(i);
      }
    }
  });
  const cats = schema.columns.map((c, i) => [c, i] as const).filter(([c]) => c.vocab);
  for (const [c, i] of cats)
    ["(unknown)", ...c.vocab!].forEach((v) => {
      names.push(`${c.name}=${v}`);
      source.push(i);
    });
  const textCols = schema.columns.map((c, i) => [c, i] as const).filter(([c]) => c.type === "text");
  const perText = extra && textCols.length ? extra.width / textCols.length : 0;
  for (const [c, i] of textCols)
    for (let j = 0; j < perText; j++) {
      names.push(`${c.name}[${j}]`);
      source.push(i);
    }
  const d = names.length;
  const x = new Float64Array(enc.n * d);
  const nc = cats.length;
  for (let k = 0; k < enc.n; k++) {
    const o = k * d;
    for (let j = 0; j < enc.numericWidth; j++) x[o + j] = enc.numeric[k * enc.numericWidth + j];
    let at = enc.numericWidth;
    for (let c = 0; c < nc; c++) {
      x[o + at + enc.categorical[k * nc + c]] = 1;
      at += cats[c][0].vocab!.length + 1;
    }
    if (extra) for (let j = 0; j < extra.width; j++) x[o + at + j] = extra.x[k * extra.width + j];
  }
  return { x, d, names, source };
}
