/**
 * Reading seq2seq data: a split is either two line-aligned parallel files (`--data train --source-lang en
 * --target-lang de` reads train.en and train.de, as fairseq names them) or one CSV/TSV/JSONL file with a source and
 * a target column (default "source" and "target"; --text-column / --label-column, or the language codes, name
 * others). Every bad row is an error naming its file and line: a missing source or target, files of different
 * lengths, an empty target. Tokenizing keeps an optional task prefix before each source, ends sources and targets
 * with EOS, and truncates targets longer than the limit, counting them for a warning.
 */
import { existsSync, statSync } from "node:fs";
import { ArgumentError, DataError } from "../../../util/errors.js";
import { Rng } from "../../../util/rng.js";
import { readParallel, readOptionsFrom, type ExampleReadOptions, type ParallelPair } from "../../../data/index.js";
import type { Tokenizer } from "../../../tokenizers/index.js";
import type { EncodedRow } from "../../encode.js";
import type { FinetuneConfig } from "../../config.js";

/** A target: its token ids (EOS last) and its text (the reference the metrics score against). */
export interface Seq2SeqTarget {
  ids: number[];
  text: string;
}

/** Pairs of one split, with the files they came from (for messages). */
export interface PairFile {
  pairs: (ParallelPair & { file: string })[];
  /** "train.en + train.de", or the table file. */
  name: string;
  sourceFile: string;
  targetFile: string;
}

export type PairSettings = Pick<
  FinetuneConfig,
  | "sourceLang"
  | "targetLang"
  | "textColumn"
  | "labelColumn"
  | "format"
  | "delimiter"
  | "quote"
  | "header"
  | "onBadRow"
  | "textPairColumn"
>;

/** The parallel files a path names with --source-lang/--target-lang, or null when it is a single table file. */
export function parallelFiles(
  path: string,
  c: Pick<PairSettings, "sourceLang" | "targetLang">,
): [string, string] | null {
  if (c.sourceLang === undefined && c.targetLang === undefined) return null;
  if (c.sourceLang === undefined || c.targetLang === undefined)
    throw new ArgumentError(
      "--source-lang and --target-lang go together",
      "give both, e.g. --source-lang en --target-lang de",
    );
  const src = `${path}.${c.sourceLang}`,
    tgt = `${path}.${c.targetLang}`;
  if (existsSync(src) || existsSync(tgt)) {
    for (const f of [src, tgt])
      if (!existsSync(f))
        throw new DataError(`the parallel file ${f} does not exist (its other side ${f === src ? tgt : src} does)`, {
          file: f,
        });
    return [src, tgt];
  }
  if (existsSync(path) && statSync(path).isFile()) return null; // a table whose columns are named by the languages
  throw new DataError(`no data at ${path}: neither ${src} + ${tgt} nor a CSV/TSV/JSONL file ${path}`, { file: path });
}

/** Reads the source/target pairs of one split (parallel files or a table). */
export async function readPairs(path: string, c: PairSettings): Promise<PairFile> {
  const files = parallelFiles(path, c);
  if (files) {
    const [src, tgt] = files;
    const { pairs } = await readParallel(src, tgt, { onBadRow: c.onBadRow ?? "fail" });
    return {
      pairs: pairs.map((p) => ({ ...p, file: src })),
      name: `${src} + ${tgt}`,
      sourceFile: src,
      targetFile: tgt,
    };
  }
  if (c.format === "text" || c.format === "conll")
    throw new ArgumentError(
      `--format ${c.format} has no source and target columns`,
      "seq2seq reads CSV/TSV/JSONL with two columns, or two parallel files with --source-lang/--target-lang",
    );
  const sourceColumn = c.textColumn ?? c.sourceLang ?? "source";
  const targetColumn = c.labelColumn ?? c.targetLang ?? "target";
  const read: ExampleReadOptions = readOptionsFrom({
    ...c,
    onBadRow: c.onBadRow ?? "fail",
    textColumn: undefined,
    textPairColumn: undefined,
    labelColumn: undefined,
  });
  const { pairs } = await readParallel(path, { sourceColumn, targetColumn }, read);
  for (const p of pairs)
    if (p.target.trim() === "")
      throw new DataError(`empty target (its source is "${excerpt(p.source)}")`, {
        file: path,
        line: p.line,
        field: targetColumn,
      });
  return { pairs: pairs.map((p) => ({ ...p, file: path })), name: path, sourceFile: path, targetFile: path };
}

function excerpt(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** Splits pairs into train and held-out parts with a seeded shuffle (the held-out part keeps file order). */
export function holdOut<T>(items: readonly T[], fraction: number, seed: number): { train: T[]; held: T[] } {
  const n = Math.round(items.length * fraction);
  if (n === 0 || n >= items.length) return { train: [...items], held: [] };
  const perm = new Rng(seed * 7919 + 3).permutation(items.length);
  const heldIdx = Array.from(perm.subarray(0, n)).sort((a, b) => a - b);
  const isHeld = new Uint8Array(items.length);
  for (const i of heldIdx) isHeld[i] = 1;
  return { train: items.filter((_, i) => !isHeld[i]), held: heldIdx.map((i) => items[i]) };
}

/** How many rows were cut to fit, with the first few lines (for the warning). */
export interface Truncation {
  count: number;
  lines: number[];
  file: string;
  limit: number;
}

const CHUNK = 512;

/** Token ids of texts with the tokenizer's special tokens, EOS last (added when the tokenizer does not add it). */
export async function encodeAll(tok: Tokenizer, texts: readonly string[]): Promise<number[][]> {
  const eos = tok.eosTokenId;
  const out: number[][] = [];
  for (let i = 0; i < texts.length; i += CHUNK) {
    const b = await tok.encodeBatch(texts.slice(i, i + CHUNK));
    for (const ids of b.inputIds) {
      const row = Array.from(ids);
      if (eos !== null && row[row.length - 1] !== eos) row.push(eos);
      out.push(row);
    }
  }
  return out;
}

/** Cuts a row to `limit` tokens, keeping EOS last. */
export function fit(ids: number[], limit: number, eos: number | null): number[] {
  if (ids.length <= limit) return ids;
  return eos !== null && ids[ids.length - 1] === eos ? [...ids.slice(0, limit - 1), eos] : ids.slice(0, limit);
}

/** The encoded source rows, targets and inputs of pairs, with what truncation cut. */
export async function encodePairs(
  tok: Tokenizer,
  file: PairFile,
  o: { sourcePrefix: string; maxLength: number; maxTargetLength: number },
): Promise<{
  rows: EncodedRow[];
  targets: Seq2SeqTarget[];
  inputs: string[];
  truncated: { sources: Truncation; targets: Truncation };
}> {
  const eos = tok.eosTokenId;
  const sources = await encodeAll(
    tok,
    file.pairs.map((p) => o.sourcePrefix + p.source),
  );
  const targets = await encodeAll(
    tok,
    file.pairs.map((p) => p.target),
  );
  const truncated = {
    sources: { count: 0, lines: [] as number[], file: file.sourceFile, limit: o.maxLength },
    targets: { count: 0, lines: [] as number[], file: file.targetFile, limit: o.maxTargetLength },
  };
  const note = (t: Truncation, line: number) => {
    t.count++;
    if (t.lines.length < 3) t.lines.push(line);
  };
  const rows: EncodedRow[] = [];
  const out: Seq2SeqTarget[] = [];
  file.pairs.forEach((p, i) => {
    if (targets[i].length <= (eos !== null ? 1 : 0))
      throw new DataError("the target encodes to no tokens", { file: file.targetFile, line: p.line });
    if (sources[i].length > o.maxLength) note(truncated.sources, p.line);
    if (targets[i].length > o.maxTargetLength) note(truncated.targets, p.line);
    const ids = fit(sources[i], o.maxLength, eos);
    rows.push({ ids, typeIds: new Array<number>(ids.length).fill(0) });
    out.push({ ids: fit(targets[i], o.maxTargetLength, eos), text: p.target });
  });
  return { rows, targets: out, inputs: file.pairs.map((p) => p.source), truncated };
}

/** The warning for rows truncated to fit (null when none were). */
export function truncationWarning(t: Truncation, what: "sources" | "targets", flag: string): string | null {
  if (t.count === 0) return null;
  return `${t.count} ${what} of ${t.file} were longer than ${t.limit} tokens and were truncated (line ${t.lines.join(", ")}${t.count > t.lines.length ? ", …" : ""}); raise ${flag} to keep them whole`;
}
