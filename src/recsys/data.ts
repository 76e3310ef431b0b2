/**
 * Interactions and item texts for recommendation, read from delimited text files. An interaction file has one
 * (user, item, rating, timestamp) row a line: MovieLens' `u.data` (tab-separated, no header) and `ratings.csv`
 * (comma-separated, a header) are both read by naming the columns. Users and items get dense ids in order of first
 * appearance. Duplicate (user, item) rows follow one documented rule: "last" keeps the latest by timestamp (the
 * later line on a tie), "sum" adds the ratings (keeping the latest timestamp), "error" refuses them. Bad input is a
 * DataError naming the file, line and field.
 */
import { readFileSync } from "node:fs";
import { DataError } from "../util/errors.js";

export type DuplicateRule = "last" | "sum" | "error";

/** Interactions with dense ids: row r is (user[r], item[r], rating[r], time[r]) from line line[r] of `file`. */
export interface Interactions {
  file: string;
  /** External id of each dense user id. */
  users: string[];
  /** External id of each dense item id (the item file's order when one was given). */
  items: string[];
  user: Int32Array;
  item: Int32Array;
  rating: Float32Array;
  time: Float64Array;
  line: Int32Array;
  /** Rows merged into an earlier row by the duplicate rule. */
  duplicates: number;
}

export interface InteractionReadOptions {
  /** Field separator: "\t", ",", "::", "|" ...; default: a tab when the first line has one, else a comma. */
  sep?: string;
  /**
   * Columns of user, item, rating and timestamp: 0-based indexes or header names. A name makes the first line a
   * header. `rating: null` reads implicit feedback (every row rates 1); `time: null` orders rows by line.
   */
  columns?: {
    user?: number | string;
    item?: number | string;
    rating?: number | string | null;
    time?: number | string | null;
  };
  /** The first line is a header even though the columns are given by index. */
  header?: boolean;
  duplicates?: DuplicateRule;
  /** Known item ids (the item text file's): an interaction with any other item is an error. */
  knownItems?: readonly string[];
  encoding?: BufferEncoding;
}

function splitter(sep: string | undefined, first: string): (line: string) => string[] {
  const s = sep ?? (first.includes("\t") ? "\t" : ",");
  return (line) => line.split(s).map((f) => f.trim());
}

function lines(file: string, encoding: BufferEncoding): string[] {
  let text: string;
  try {
    text = readFileSync(file, encoding);
  } catch (e) {
    throw new DataError(`cannot read: ${(e as Error).message}`, { file });
  }
  return text.split(/\r?\n/);
}

function columnIndex(
  file: string,
  header: string[] | null,
  spec: number | string | null | undefined,
  fallback: number | null,
  what: string,
): number | null {
  if (spec === null) return null;
  if (spec === undefined) return fallback;
  if (typeof spec === "number") return spec;
  if (/^\d+$/.test(spec)) return Number(spec);
  const i = header?.indexOf(spec) ?? -1;
  if (i < 0)
    throw new DataError(
      `no ${what} column "${spec}"`,
      { file, line: 1 },
      `the header has: ${header?.join(", ") ?? ""}`,
    );
  return i;
}

/** Reads an interaction file (see the module comment). */
export function readInteractions(file: string, opts: InteractionReadOptions = {}): Interactions {
  const all = lines(file, opts.encoding ?? "utf8");
  const firstIdx = all.findIndex((l) => l.trim() !== "");
  if (firstIdx < 0) throw new DataError("no interactions: the file is empty", { file });
  const split = splitter(opts.sep, all[firstIdx]!);
  const c = opts.columns ?? {};
  const byName = [c.user, c.item, c.rating, c.time].some((v) => typeof v === "string" && !/^\d+$/.test(v));
  const hasHeader = opts.header ?? byName;
  const header = hasHeader ? split(all[firstIdx]!) : null;
  const uc = columnIndex(file, header, c.user, 0, "user")!;
  const ic = columnIndex(file, header, c.item, 1, "item")!;
  const rc = columnIndex(file, header, c.rating, 2, "rating");
  const tc = columnIndex(file, header, c.time, 3, "timestamp");
  const need = Math.max(uc, ic, rc ?? 0, tc ?? 0) + 1;
  const rule = opts.duplicates ?? "last";

  const userId = new Map<string, number>();
  const itemId = new Map<string, number>();
  const users: string[] = [];
  const items: string[] = [];
  if (opts.knownItems) for (const it of opts.knownItems) if (!itemId.has(it)) itemId.set(it, items.push(it) - 1);
  const u: number[] = [];
  const it: number[] = [];
  const r: number[] = [];
  const t: number[] = [];
  const ln: number[] = [];
  const pair = new Map<number, number>();
  let duplicates = 0;
  const nameOf = (col: number, fallback: string) => header?.[col] ?? fallback;
  for (let li = hasHeader ? firstIdx + 1 : firstIdx; li < all.length; li++) {
    const raw = all[li]!;
    if (raw.trim() === "") continue;
    const lineNo = li + 1;
    const f = split(raw);
    if (f.length < need)
      throw new DataError(
        `${f.length} fields, expected at least ${need}`,
        { file, line: lineNo },
        "set the separator and the columns (--sep, --columns)",
      );
    const us = f[uc]!,
      is = f[ic]!;
    if (us === "") throw new DataError("empty user id", { file, line: lineNo, field: nameOf(uc, "user") });
    if (is === "") throw new DataError("empty item id", { file, line: lineNo, field: nameOf(ic, "item") });
    let rating = 1;
    if (rc !== null) {
      rating = Number(f[rc]);
      if (f[rc] === "" || !Number.isFinite(rating))
        throw new DataError(`rating "${f[rc]}" is not a number`, { file, line: lineNo, field: nameOf(rc, "rating") });
    }
    let time = lineNo;
    if (tc !== null) {
      time = Number(f[tc]);
      if (f[tc] === "" || !Number.isFinite(time))
        throw new DataError(`timestamp "${f[tc]}" is not a number`, {
          file,
          line: lineNo,
          field: nameOf(tc, "timestamp"),
        });
    }
    let ui = userId.get(us);
    if (ui === undefined) userId.set(us, (ui = users.push(us) - 1));
    let ii = itemId.get(is);
    if (ii === undefined) {
      if (opts.knownItems)
        throw new DataError(
          `item "${is}" is not in the item file`,
          { file, line: lineNo, field: nameOf(ic, "item") },
          "every interaction's item needs a row in the item file",
        );
      itemId.set(is, (ii = items.push(is) - 1));
    }
    const key = ui * 4294967296 + ii;
    const prev = pair.get(key);
    if (prev !== undefined) {
      if (rule === "error")
        throw new DataError(
          `user "${us}" and item "${is}" already interacted on line ${ln[prev]}`,
          { file, line: lineNo },
          "pass --duplicates last or sum",
        );
      duplicates++;
      if (rule === "sum") {
        r[prev] = r[prev]! + rating;
        if (time >= t[prev]!) t[prev] = time;
      } else if (time >= t[prev]!) {
        r[prev] = rating;
        t[prev] = time;
        ln[prev] = lineNo;
      }
      continue;
    }
    pair.set(key, u.length);
    u.push(ui);
    it.push(ii);
    r.push(rating);
    t.push(time);
    ln.push(lineNo);
  }
  if (u.length === 0) throw new DataError("no interactions: only a header or blank lines", { file });
  return {
    file,
    users,
    items,
    user: Int32Array.from(u),
    item: Int32Array.from(it),
    rating: Float32Array.from(r),
    time: Float64Array.from(t),
    line: Int32Array.from(ln),
    duplicates,
  };
}

export interface ItemTextOptions {
  sep?: string;
  header?: boolean;
  /** Column of the item id (index or header name); default 0. */
  idColumn?: number | string;
  /**
   * How the columns join into one text: `{1}` or `{title}` is a column, `{flags}` the names of the flag columns that
   * are 1. Default: every column but the id, joined with ". ".
   */
  template?: string;
  /** Binary flag columns (MovieLens' genres) from this index on, named by `flagNames` in order. */
  flagFirst?: number;
  flagNames?: readonly string[];
  encoding?: BufferEncoding;
}

/** Item id → text, in file order. */
export function readItemTexts(file: string, opts: ItemTextOptions = {}): Map<string, string> {
  const all = lines(file, opts.encoding ?? "utf8");
  const firstIdx = all.findIndex((l) => l.trim() !== "");
  if (firstIdx < 0) throw new DataError("no items: the file is empty", { file });
  const split = splitter(opts.sep, all[firstIdx]!);
  const byName = typeof opts.idColumn === "string" && !/^\d+$/.test(opts.idColumn);
  const header = (opts.header ?? byName) ? split(all[firstIdx]!) : null;
  const idc = columnIndex(file, header, opts.idColumn, 0, "item id")!;
  const template = opts.template;
  const refs = template ? [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!) : [];
  for (const ref of refs)
    if (ref !== "flags" && !/^\d+$/.test(ref) && !header?.includes(ref))
      throw new DataError(`the item template names "{${ref}}", which is no column`, { file, line: 1 });
  const out = new Map<string, string>();
  for (let li = header ? firstIdx + 1 : firstIdx; li < all.length; li++) {
    const raw = all[li]!;
    if (raw.trim() === "") continue;
    const f = split(raw);
    const id = f[idc];
    if (id === undefined || id === "") throw new DataError("no item id", { file, line: li + 1 });
    if (out.has(id)) throw new DataError(`item "${id}" appears twice`, { file, line: li + 1 });
    const flags = () => {
      if (opts.flagFirst === undefined || !opts.flagNames) return "";
      return opts.flagNames.filter((_, k) => f[opts.flagFirst! + k] === "1").join(", ");
    };
    const text = template
      ? template.replace(/\{([^}]+)\}/g, (_, ref: string) => {
          if (ref === "flags") return flags();
          const col = /^\d+$/.test(ref) ? Number(ref) : header!.indexOf(ref);
          const v = f[col];
          if (v === undefined)
            throw new DataError(`no column ${ref}: the line has ${f.length} fields`, { file, line: li + 1 });
          return v;
        })
      : f.filter((_, k) => k !== idc && (opts.flagFirst === undefined || k < opts.flagFirst)).join(". ");
    out.set(id, text.trim());
  }
  if (out.size === 0) throw new DataError("no items", { file });
  return out;
}

/** The first field of each non-empty line (MovieLens' u.genre: "Action|1" → "Action"). */
export function readNames(file: string, sep = "|"): string[] {
  return lines(file, "utf8")
    .filter((l) => l.trim() !== "")
    .map((l) => l.split(sep)[0]!.trim());
}
