/**
 * Optional user features for the two-tower model's user tower: a delimited file with one user a line (the user id
 * and numeric or categorical columns; MovieLens' `u.user` has age, gender, occupation and zip). The column types
 * are the tabular kind's (data/tabular: inferred, overridable as NAME=TYPE): numeric columns are standardized with
 * the file's mean and standard deviation (a missing value becomes the mean, 0); categorical and boolean columns
 * become an index into the file's values, 0 for a category the file did not have; id columns are dropped.
 * A user id of the file that the interactions do not have is ignored and counted; a user of the interactions
 * that the file lacks gets the missing indicator (a last categorical column: 1 missing, 0 present) and zeros.
 */
import { readFileSync } from "node:fs";
import { ArgumentError, DataError } from "../util/errors.js";
import { tabular } from "../data/index.js";

type ColumnType = tabular.ColumnType;
const { inferColumnType, isMissing, parseNumber } = tabular;

export interface UserFeatureColumn {
  name: string;
  type: "numeric" | "categorical";
  mean?: number;
  std?: number;
  /** Categorical: the file's values; a value's index is its position + 1 (0: unknown). */
  vocab?: string[];
}

/** The fitted encoding of a user-feature file (saved with a recommender to encode a new user's features). */
export interface UserFeatureSchema {
  columns: UserFeatureColumn[];
}

export interface UserFeatureReadOptions {
  sep?: string;
  /** The first line names the columns (without one they are named by 0-based index: "1", "2", ...). */
  header?: boolean;
  /** The user id column (a name or 0-based index; default the first). */
  idColumn?: string;
  /** Column types by name, overriding the inferred ones: numeric, categorical, boolean or id (dropped). */
  types?: Record<string, ColumnType>;
  encoding?: BufferEncoding;
}

/** A user-feature file read and fitted: the schema and each user's encoded features by external id. */
export interface UserFeatureFile {
  file: string;
  schema: UserFeatureSchema;
  byId: Map<string, EncodedUser>;
}

/** One user's features: standardized numeric values and categorical indexes, in schema order. */
export interface EncodedUser {
  numeric: number[];
  categorical: number[];
}

/** Users' features aligned with dense user ids, as the user tower reads them. */
export interface UserFeatures {
  schema: UserFeatureSchema;
  nNumeric: number;
  /** nUsers × nNumeric. */
  numeric: Float32Array;
  /** nUsers × (categorical columns + 1): indexes, the last column the missing indicator (0 present, 1 missing). */
  categorical: Int32Array;
  /** Rows of each categorical column's table, the missing indicator's (2) last. */
  catSizes: number[];
  /** Users of the interactions that the file lacks. */
  missing: number;
  /** Users of the file that the interactions lack (ignored). */
  ignored: number;
}

export function numericColumns(s: UserFeatureSchema): UserFeatureColumn[] {
  return s.columns.filter((c) => c.type === "numeric");
}

export function categoricalColumns(s: UserFeatureSchema): UserFeatureColumn[] {
  return s.columns.filter((c) => c.type === "categorical");
}

/** Rows of each categorical table: the vocabulary plus the unknown index, then 2 for the missing indicator. */
export function categorySizes(s: UserFeatureSchema): number[] {
  return [...categoricalColumns(s).map((c) => c.vocab!.length + 1), 2];
}

/** Reads a user-feature file, infers or takes its column types, and fits the encoding on it. */
export function readUserFeatures(file: string, o: UserFeatureReadOptions = {}): UserFeatureFile {
  let text: string;
  try {
    text = readFileSync(file, o.encoding ?? "utf8");
  } catch (e) {
    throw new DataError(`cannot read: ${(e as Error).message}`, { file });
  }
  const all = text.split(/\r?\n/);
  const first = all.find((l) => l.trim() !== "") ?? "";
  const sep = o.sep ?? (first.includes("\t") ? "\t" : first.includes("|") && !first.includes(",") ? "|" : ",");
  const rows: { fields: string[]; line: number }[] = [];
  all.forEach((l, k) => {
    if (l.trim() !== "") rows.push({ fields: l.split(sep).map((f) => f.trim()), line: k + 1 });
  });
  if (rows.length === 0) throw new DataError("the user-feature file is empty", { file });
  const width = rows[0]!.fields.length;
  const header = o.header ? rows.shift()!.fields : Array.from({ length: width }, (_, i) => String(i));
  for (const r of rows)
    if (r.fields.length !== header.length)
      throw new DataError(`${r.fields.length} fields, expected ${header.length}`, { file, line: r.line });
  const idSpec = o.idColumn ?? header[0]!;
  const idAt = header.indexOf(idSpec) >= 0 ? header.indexOf(idSpec) : /^\d+$/.test(idSpec) ? Number(idSpec) : -1;
  if (idAt < 0 || idAt >= header.length)
    throw new ArgumentError(`the user-feature file has no id column "${idSpec}"`, `its columns: ${header.join(", ")}`);
  for (const name of Object.keys(o.types ?? {}))
    if (!header.includes(name))
      throw new ArgumentError(
        `--user-feature-types names "${name}", which ${file} does not have`,
        `its columns: ${header.join(", ")}`,
      );
  const columns: (UserFeatureColumn & { at: number })[] = [];
  header.forEach((name, at) => {
    if (at === idAt) return;
    const values = rows.map((r) => r.fields[at]!);
    const type = o.types?.[name] ?? inferColumnType(name, values);
    if (type === "id") return;
    if (type === "text")
      throw new ArgumentError(
        `user-feature column "${name}" looks like free text, which the user tower does not read`,
        `declare its type: --user-feature-types '${name}=categorical' or '${name}=id' (dropped)`,
      );
    if (type === "numeric") {
      const nums = values.map((v, k) => numeric(v, file, rows[k]!.line, name));
      const present = nums.filter((v): v is number => v !== null);
      const mean = present.length ? present.reduce((a, b) => a + b, 0) / present.length : 0;
      const variance = present.length ? present.reduce((a, b) => a + (b - mean) ** 2, 0) / present.length : 0;
      columns.push({ name, at, type: "numeric", mean, std: Math.sqrt(variance) || 1 });
    } else {
      const vocab = [...new Set(values.filter((v) => !isMissing(v)))].sort();
      columns.push({ name, at, type: "categorical", vocab });
    }
  });
  const schema: UserFeatureSchema = { columns: columns.map(({ at: _at, ...c }) => c) };
  const byId = new Map<string, EncodedUser>();
  const lineOf = new Map<string, number>();
  for (const r of rows) {
    const id = r.fields[idAt]!;
    if (lineOf.has(id))
      throw new DataError(`user "${id}" is listed twice (also on line ${lineOf.get(id)})`, {
        file,
        line: r.line,
        field: header[idAt],
      });
    lineOf.set(id, r.line);
    const record: Record<string, string> = {};
    for (const c of columns) record[c.name] = r.fields[c.at]!;
    byId.set(id, encodeUserRecord(schema, record, { file, line: r.line }));
  }
  return { file, schema, byId };
}

function numeric(v: string, file: string, line: number, name: string): number | null {
  if (isMissing(v)) return null;
  const x = parseNumber(v);
  if (x === null || !Number.isFinite(x))
    throw new DataError(
      `column "${name}" is numeric but holds ${JSON.stringify(v)}`,
      { file, line, field: name },
      `fix the value, or declare the column's type: --user-feature-types '${name}=categorical' (or '${name}=id' to drop it)`,
    );
  return x;
}

/**
 * One user's features by column name (a served request's, or a file row's): numbers or numeric strings for numeric
 * columns (missing: the mean), any value for categorical ones (unknown or missing: index 0).
 */
export function encodeUserRecord(
  schema: UserFeatureSchema,
  record: Record<string, unknown>,
  where: { file?: string; line?: number; field?: string } = {},
): EncodedUser {
  const out: EncodedUser = { numeric: [], categorical: [] };
  for (const c of schema.columns) {
    const raw = record[c.name];
    const v = raw === undefined || raw === null ? "" : String(raw).trim();
    if (c.type === "numeric") {
      let x: number | null = null;
      if (typeof raw === "number" && Number.isFinite(raw)) x = raw;
      else if (!isMissing(v)) {
        x = parseNumber(v);
        if (x === null || !Number.isFinite(x)) {
          if (where.file !== undefined) x = numeric(v, where.file, where.line ?? 0, c.name);
          else
            throw new ArgumentError(
              `${where.field ?? "features"}.${c.name} must be a number, got ${JSON.stringify(raw)}`,
            );
        }
      }
      out.numeric.push(x === null ? 0 : (x - c.mean!) / c.std!);
    } else out.categorical.push(isMissing(v) ? 0 : c.vocab!.indexOf(v) + 1);
  }
  return out;
}

/** Aligns a feature file with the interactions' dense user ids; counts ignored and missing users. */
export function alignUserFeatures(f: UserFeatureFile, users: readonly string[]): UserFeatures {
  const nn = numericColumns(f.schema).length;
  const nc = categoricalColumns(f.schema).length;
  const numericOut = new Float32Array(users.length * nn);
  const categorical = new Int32Array(users.length * (nc + 1));
  let missing = 0;
  const known = new Set(users);
  users.forEach((u, k) => {
    const e = f.byId.get(u);
    if (!e) {
      missing++;
      categorical[k * (nc + 1) + nc] = 1;
      return;
    }
    numericOut.set(e.numeric, k * nn);
    categorical.set(e.categorical, k * (nc + 1));
  });
  let ignored = 0;
  for (const id of f.byId.keys()) if (!known.has(id)) ignored++;
  return {
    schema: f.schema,
    nNumeric: nn,
    numeric: numericOut,
    categorical,
    catSizes: categorySizes(f.schema),
    missing,
    ignored,
  };
}
