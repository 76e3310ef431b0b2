/**
 * Train / validation / test examples from the user's files, the way every task command needs them: read each
 * file with the same options, optionally de-duplicate the training file, carve missing parts out of train with a
 * seeded (stratified) split, and describe all of it in a DataSummary — plain JSON a run saves (data.json) so the
 * data and the split can be checked and reproduced later.
 */
import { ArgumentError } from "../util/errors.js";
import type { BadRow, Example, ReadReport } from "./types.js";
import { readExamples, type ExampleReadOptions } from "./readers/examples.js";
import { summarizeBadRows } from "./badrows.js";
import { dedupe, fingerprint, holdoutSplit, type SplitRecord } from "./split.js";

export interface DataFileSummary {
  role: "train" | "validation" | "test";
  file: string;
  format: string;
  columns: string[];
  roles?: ReadReport["roles"];
  rows: number;
  kept: number;
  blankLines: number;
  skipped: number;
  skippedByReason: Record<string, number>;
  /** sha256 of the kept examples, in order (see split.fingerprint). */
  sha256: string;
}

export interface DataSummary {
  files: DataFileSummary[];
  dedupe?: { removed: number; conflictingLabels: number; lines: number[] };
  /** How validation/test were carved out of the training file, if they were. */
  split?: SplitRecord;
  sizes: { train: number; validation: number; test: number };
}

export interface SplitSources {
  train: string;
  validation?: string;
  test?: string;
  read?: ExampleReadOptions;
  /** Fractions of the training file held out when no validation / test file is given. */
  validationFraction?: number;
  testFraction?: number;
  seed?: number;
  /** Stratify the held-out parts by label (default: when the data is labelled). */
  stratify?: boolean;
  /** Drop repeated texts from the training file before splitting. */
  dedupe?: boolean;
}

export interface LoadedSplits {
  train: Example[];
  validation: Example[];
  test: Example[];
  summary: DataSummary;
  /** Every skipped row of every file. */
  skipped: BadRow[];
}

function fileSummary(role: DataFileSummary["role"], report: ReadReport, kept: readonly Example[]): DataFileSummary {
  return {
    role,
    file: report.file,
    format: report.format,
    columns: report.columns,
    ...(report.roles ? { roles: report.roles } : {}),
    rows: report.rows,
    kept: report.kept,
    blankLines: report.blankLines,
    skipped: report.skipped.length,
    skippedByReason: summarizeBadRows(report.skipped).byReason,
    sha256: fingerprint(kept),
  };
}

export async function loadSplits(src: SplitSources): Promise<LoadedSplits> {
  const read = src.read ?? {};
  const files: DataFileSummary[] = [];
  const skipped: BadRow[] = [];
  const load = async (role: DataFileSummary["role"], file: string): Promise<Example[]> => {
    const { examples, report } = await readExamples(file, read);
    files.push(fileSummary(role, report, examples));
    skipped.push(...report.skipped);
    return examples;
  };
  let train = await load("train", src.train);
  const validationFile = src.validation !== undefined ? await load("validation", src.validation) : undefined;
  const testFile = src.test !== undefined ? await load("test", src.test) : undefined;
  const summary: DataSummary = { files, sizes: { train: 0, validation: 0, test: 0 } };

  if (src.dedupe) {
    const d = dedupe(train);
    summary.dedupe = {
      removed: d.removed.length,
      conflictingLabels: d.conflicting,
      lines: d.removed.map((r) => r.line),
    };
    train = d.keep.map((i) => train[i]!);
  }
  const vf = validationFile ? 0 : (src.validationFraction ?? 0);
  const tf = testFile ? 0 : (src.testFraction ?? 0);
  if ((src.validationFraction && validationFile) || (src.testFraction && testFile)) {
    throw new ArgumentError("give either a validation/test file or a fraction to hold out of train, not both");
  }
  let validation = validationFile ?? [];
  let test = testFile ?? [];
  if (vf > 0 || tf > 0) {
    const labelled = train.every((e) => e.label !== undefined);
    const { split, record } = holdoutSplit(train, {
      validation: vf,
      test: tf,
      seed: src.seed ?? 0,
      stratify: src.stratify ?? labelled,
    });
    summary.split = record;
    validation = validationFile ?? split.validation.map((i) => train[i]!);
    test = testFile ?? split.test.map((i) => train[i]!);
    train = split.train.map((i) => train[i]!);
  }
  summary.sizes = { train: train.length, validation: validation.length, test: test.length };
  return { train, validation, test, summary, skipped };
}
