/**
 * Train/validation/test splits (random or stratified), k-fold / stratified k-fold / group k-fold, and
 * de-duplication, all seeded. Every split comes with a SplitRecord: plain JSON holding the seed, a hash of the data
 * it was made on and the assignment of every row, so a run can save it and anyone can rebuild the same split
 * (reproduceSplit refuses if the data changed).
 */
import { createHash } from "node:crypto";
import { ArgumentError, DataError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import type { Example } from "./types.js";

export interface Holdout {
  train: number[];
  validation: number[];
  test: number[];
}

export interface Fold {
  train: number[];
  test: number[];
}

export interface SplitRecord {
  kind: "holdout" | "kfold";
  method: "random" | "stratified" | "group";
  seed: number | null;
  rows: number;
  /** Holdout: the requested validation and test fractions. */
  fractions?: { validation: number; test: number };
  /** k-fold: the number of folds. */
  k?: number;
  sizes: Record<string, number>;
  /** sha256 of the examples (text, pair, label) in order. */
  dataHash: string;
  /** One character per row: holdout "t" train / "v" validation / "e" test (evaluation); k-fold the fold in base 36. */
  assignment: string;
}

/** sha256 over the examples' text, pair and label, in order: identifies the data a split was made on. */
export function fingerprint(examples: readonly Example[]): string {
  const h = createHash("sha256");
  for (const e of examples) h.update(`${e.text}\u0000${e.textPair ?? ""}\u0000${e.label ?? ""}\u0001`);
  return h.digest("hex");
}

function checkFraction(name: string, f: number): void {
  if (!(f >= 0 && f < 1)) throw new ArgumentError(`${name} must be a fraction in [0, 1), got ${f}`);
}

/**
 * Splits rows into train / validation / test. Stratified: every label keeps its share in each part, with the parts'
 * total sizes exactly round(n·fraction) (per-label remainders go to the labels with the largest fractional parts).
 */
export function holdoutSplit(
  examples: readonly Example[],
  opts: { validation?: number; test?: number; seed?: number; stratify?: boolean },
): { split: Holdout; record: SplitRecord } {
  const vf = opts.validation ?? 0,
    tf = opts.test ?? 0;
  checkFraction("the validation fraction", vf);
  checkFraction("the test fraction", tf);
  if (vf + tf >= 1) throw new ArgumentError(`validation (${vf}) + test (${tf}) fractions leave nothing to train on`);
  const seed = opts.seed ?? 0;
  const rng = new Rng(seed);
  const n = examples.length;
  const groups = opts.stratify ? byLabel(examples) : [Array.from({ length: n }, (_, i) => i)];
  const nTest = allocate(
    groups.map((g) => g.length),
    Math.round(n * tf),
  );
  const nVal = allocate(
    groups.map((g, c) => g.length - nTest[c]!),
    Math.round(n * vf),
    groups.map((g) => g.length * vf),
  );
  const assignment = new Array<string>(n).fill("t");
  groups.forEach((g, c) => {
    const order = rng.shuffle(g.slice());
    for (let t = 0; t < nTest[c]!; t++) assignment[order[t]!] = "e";
    for (let t = nTest[c]!; t < nTest[c]! + nVal[c]!; t++) assignment[order[t]!] = "v";
  });
  const split = decodeHoldout(assignment.join(""));
  if (split.train.length === 0) throw new ArgumentError(`the split leaves no training rows (${n} rows)`);
  const record: SplitRecord = {
    kind: "holdout",
    method: opts.stratify ? "stratified" : "random",
    seed,
    rows: n,
    fractions: { validation: vf, test: tf },
    sizes: { train: split.train.length, validation: split.validation.length, test: split.test.length },
    dataHash: fingerprint(examples),
    assignment: assignment.join(""),
  };
  return { split, record };
}

/**
 * Distributes `total` over groups in proportion to `weights` (default: sizes), never more than a group has:
 * floors first, then one each to the largest fractional parts (ties: earlier group).
 */
function allocate(sizes: number[], total: number, weights: number[] = sizes): number[] {
  const wsum = weights.reduce((a, b) => a + b, 0);
  if (total === 0 || wsum === 0) return sizes.map(() => 0);
  const exact = weights.map((w) => (w / wsum) * total);
  const out = exact.map((x, i) => Math.min(Math.floor(x), sizes[i]!));
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact
    .map((_x, i) => i)
    .sort((a, b) => exact[b]! - Math.floor(exact[b]!) - (exact[a]! - Math.floor(exact[a]!)) || a - b);
  for (let pass = 0; left > 0 && pass < 2; pass++) {
    for (const i of order) {
      if (left === 0) break;
      if (out[i]! < sizes[i]! && (pass === 1 || exact[i]! > out[i]!)) {
        out[i]!++;
        left--;
      }
    }
  }
  return out;
}

/** Row indices grouped by label, labels in first-appearance order. Unlabelled rows are an error. */
function byLabel(examples: readonly Example[]): number[][] {
  return rowsByKey(
    examples.map((e) => {
      if (e.label === undefined) throw new DataError("a stratified split needs a label on every row", { line: e.line });
      return String(e.label);
    }),
  );
}

/** Row indices grouped by their key (keys[i] is row i's), keys in first-appearance order. */
function rowsByKey(keys: readonly string[]): number[][] {
  const groups = new Map<string, number[]>();
  keys.forEach((key, i) => {
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(i);
  });
  return [...groups.values()];
}

function decodeHoldout(assignment: string): Holdout {
  const split: Holdout = { train: [], validation: [], test: [] };
  for (let i = 0; i < assignment.length; i++) {
    const c = assignment[i];
    if (c === "t") split.train.push(i);
    else if (c === "v") split.validation.push(i);
    else if (c === "e") split.test.push(i);
    else throw new DataError(`split record: unknown assignment "${c}" at row ${i}`);
  }
  return split;
}

/**
 * k folds: "random" deals a seeded permutation round-robin; "stratified" deals each label's shuffled rows
 * round-robin (continuing across labels, so folds stay balanced; a label with fewer than k rows is missing from
 * some folds); "group" keeps every group in one fold,
 * placing groups from largest to smallest into the currently smallest fold (scikit-learn's GroupKFold; no seed).
 */
export function kFold(
  examples: readonly Example[],
  opts: {
    k: number;
    method?: "random" | "stratified" | "group";
    seed?: number /** default: each example's `group` */;
    groups?: readonly string[];
  },
): { folds: Fold[]; record: SplitRecord } {
  const { k } = opts;
  const method = opts.method ?? "random";
  const n = examples.length;
  if (!(Number.isInteger(k) && k >= 2 && k <= 36)) throw new ArgumentError(`k must be an integer in [2, 36], got ${k}`);
  if (n < k) throw new ArgumentError(`cannot make ${k} folds from ${n} rows`);
  const fold = new Int32Array(n);
  const seed = opts.seed ?? 0;
  if (method === "group") {
    const groups =
      opts.groups ??
      examples.map((e, i) => {
        if (e.group === undefined)
          throw new DataError(
            "group k-fold needs a group on every row (--group-column)",
            { line: e.line },
            `row ${i} has none`,
          );
        return e.group;
      });
    if (groups.length !== n)
      throw new ArgumentError(`group k-fold needs one group per row (${n}), got ${groups.length}`);
    const members = rowsByKey(groups);
    if (members.length < k) throw new ArgumentError(`cannot make ${k} folds from ${members.length} groups`);
    const load = new Array<number>(k).fill(0);
    for (const rows of members.sort((a, b) => b.length - a.length)) {
      const target = load.indexOf(Math.min(...load));
      for (const i of rows) fold[i] = target;
      load[target]! += rows.length;
    }
  } else {
    const rng = new Rng(seed);
    const groups = method === "stratified" ? byLabel(examples) : [Array.from({ length: n }, (_, i) => i)];
    let next = 0;
    for (const g of groups) for (const i of rng.shuffle(g.slice())) fold[i] = next++ % k;
  }
  const folds: Fold[] = Array.from({ length: k }, () => ({ train: [] as number[], test: [] as number[] }));
  for (let i = 0; i < n; i++) for (let f = 0; f < k; f++) (fold[i] === f ? folds[f]!.test : folds[f]!.train).push(i);
  const record: SplitRecord = {
    kind: "kfold",
    method,
    seed: method === "group" ? null : seed,
    rows: n,
    k,
    sizes: Object.fromEntries(folds.map((f, i) => [`fold${i}`, f.test.length])),
    dataHash: fingerprint(examples),
    assignment: Array.from(fold, (f) => f.toString(36)).join(""),
  };
  return { folds, record };
}

/** Rebuilds a recorded split on the same data; a DataError if the data is not the data it was made on. */
export function reproduceSplit(record: SplitRecord, examples: readonly Example[]): Holdout | Fold[] {
  if (record.rows !== examples.length)
    throw new DataError(`the split was made on ${record.rows} rows, the data has ${examples.length}`);
  if (fingerprint(examples) !== record.dataHash)
    throw new DataError(
      "the data changed since the split was made (its sha256 differs); the same rows must be read in the same order",
    );
  if (record.assignment.length !== record.rows)
    throw new DataError(`split record: ${record.assignment.length} assignments for ${record.rows} rows`);
  if (record.kind === "holdout") return decodeHoldout(record.assignment);
  const k = record.k ?? 0;
  const folds: Fold[] = Array.from({ length: k }, () => ({ train: [] as number[], test: [] as number[] }));
  for (let i = 0; i < record.rows; i++) {
    const f = parseInt(record.assignment[i]!, 36);
    if (!(f >= 0 && f < k))
      throw new DataError(`split record: fold "${record.assignment[i]}" at row ${i} is outside 0..${k - 1}`);
    for (let g = 0; g < k; g++) (g === f ? folds[g]!.test : folds[g]!.train).push(i);
  }
  return folds;
}

/** The key two texts share when they are "the same": NFC, lowercased, whitespace collapsed. */
export function dedupeKey(text: string): string {
  return text.normalize("NFC").toLowerCase().replace(/\s+/gu, " ").trim();
}

export interface DedupeResult {
  /** Rows kept (the first of each duplicate set), ascending. */
  keep: number[];
  /** Rows dropped, each with the row it duplicates. */
  removed: { index: number; line: number; duplicateOf: number }[];
  /** Duplicate sets whose rows disagree on the label (kept: the first). */
  conflicting: number;
}

/** Drops rows whose (normalized, unless exact) text and pair repeat an earlier row's. */
export function dedupe(examples: readonly Example[], opts: { exact?: boolean } = {}): DedupeResult {
  const first = new Map<string, number>();
  const conflicted = new Set<number>();
  const result: DedupeResult = { keep: [], removed: [], conflicting: 0 };
  examples.forEach((e, i) => {
    const key = opts.exact
      ? `${e.text}\u0000${e.textPair ?? ""}`
      : `${dedupeKey(e.text)}\u0000${dedupeKey(e.textPair ?? "")}`;
    const j = first.get(key);
    if (j === undefined) {
      first.set(key, i);
      result.keep.push(i);
      return;
    }
    result.removed.push({ index: i, line: e.line, duplicateOf: j });
    if (String(examples[j]!.label) !== String(e.label) && !conflicted.has(j)) {
      conflicted.add(j);
      result.conflicting++;
    }
  });
  return result;
}
