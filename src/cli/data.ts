/**
 * `graft data inspect` and `graft data split`, plus the data-reading flags every command that reads a user's
 * labelled file shares (baseline, predict, eval; finetune spreads the same entries): format, delimiter, quoting,
 * header, column mapping, label type and the bad-row policy. They are declared in data/readers/schema.ts.
 */
import { join } from "node:path";
import type { Command } from "commander";
import { GraftError } from "../util/errors.js";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { readOptionsFrom, readSchema } from "../data/readers/schema.js";
import type { BadRow, Example } from "../data/types.js";
import { inspectConll, inspectFile, type InspectReport, type Percentiles } from "../data/inspect.js";
import { loadSplits, type DataSummary } from "../data/dataset.js";
import { kFold } from "../data/split.js";
import { opt, switchesOnly } from "../util/options.js";
import { addOptions, resolveFlags } from "./options.js";

export { readSchema, readOptionsFrom, type ReadFlags } from "../data/readers/schema.js";

/** Parses a number flag, naming the flag when it is not a number in range. */
export function numberFlag(
  name: string,
  v: string | undefined,
  check: (x: number) => boolean = Number.isFinite,
  what = "a number",
): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === "" || !Number.isFinite(x) || !check(x)) throw new GraftError(`${name} must be ${what}, got "${v}"`);
  return x;
}

/** Prints skipped rows to stderr: all of them up to `max`, then a count (the full list goes to the run's data.json). */
export function reportSkipped(
  skipped: readonly BadRow[],
  max = 20,
  stream: NodeJS.WritableStream = process.stderr,
): void {
  if (skipped.length === 0) return;
  stream.write(`skipped ${skipped.length} bad row${skipped.length === 1 ? "" : "s"}:\n`);
  for (const r of skipped.slice(0, max)) stream.write(`  ${r.file}, line ${r.line}: ${r.reason}\n`);
  if (skipped.length > max) stream.write(`  ... and ${skipped.length - max} more\n`);
}

const int = (n: number): string => n.toLocaleString("en-US");
const num = (x: number): string => (Number.isInteger(x) ? int(x) : x.toFixed(1));

function lengths(p: Percentiles): string {
  return `min ${num(p.min)}, p5 ${num(p.p5)}, p25 ${num(p.p25)}, median ${num(p.p50)}, p75 ${num(p.p75)}, p95 ${num(p.p95)}, max ${num(p.max)} (mean ${p.mean.toFixed(1)})`;
}

export function formatInspect(r: InspectReport): string {
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`${k.padEnd(11)} ${v}`);
  const roles = r.roles
    ? `; text: ${r.roles.text}${r.roles.textPair ? `, pair: ${r.roles.textPair}` : ""}${r.roles.label ? `, label: ${r.roles.label}` : ""}`
    : "";
  row("file", `${r.file} (${r.format}${r.columns.length ? `, columns: ${r.columns.join(", ")}` : ""}${roles})`);
  const unit = r.unit === "sentence" ? "sentences" : "rows";
  row(
    unit,
    `${int(r.kept)} kept of ${int(r.rows)} (${int(r.skipped.total)} skipped, ${int(r.blankLines)} blank lines)`,
  );
  if (r.labels) {
    const w = Math.max(...r.labels.map((l) => l.label.length));
    r.labels
      .slice(0, 30)
      .forEach((l, i) =>
        row(
          i === 0 ? `${r.unit === "sentence" ? "tags" : "labels"} (${r.labels!.length})` : "",
          `${l.label.padEnd(w)}  ${int(l.count).padStart(9)}  ${(l.share * 100).toFixed(1).padStart(5)}%`,
        ),
      );
    if (r.labels.length > 30) row("", `... and ${r.labels.length - 30} more labels`);
  } else row("labels", "none (unlabelled data)");
  if (r.length) {
    row("chars", lengths(r.length.chars));
    row(r.unit === "sentence" ? "tokens" : "words", lengths(r.length.words));
  }
  const d = r.duplicates;
  row(
    "duplicates",
    d.rows === 0
      ? "none"
      : `${int(d.rows)} ${unit} repeat an earlier text (${int(d.distinctDuplicated)} distinct texts, ${int(d.conflictingLabels)} with conflicting labels)`,
  );
  if (r.overlap)
    row(
      "overlap",
      `${int(r.overlap.rowsAlsoInFile)} of ${int(r.overlap.rows)} rows of ${r.overlap.file} also occur in ${r.file} (${int(r.overlap.distinctShared)} distinct texts)`,
    );
  if (r.skipped.total > 0) {
    for (const [reason, n] of Object.entries(r.skipped.byReason)) row("skipped", `${int(n)} × ${reason}`);
    for (const b of r.skipped.first) row("", `line ${b.line}: ${b.reason}`);
    if (r.skipped.total > r.skipped.first.length)
      row("", `... and ${int(r.skipped.total - r.skipped.first.length)} more`);
  }
  return lines.join("\n") + "\n";
}

function toJsonl(examples: readonly Example[]): string {
  const row = (e: Example) => ({
    text: e.text,
    ...(e.textPair !== undefined ? { text_pair: e.textPair } : {}),
    ...(e.label !== undefined ? { label: e.label } : {}),
    ...(e.group !== undefined ? { group: e.group } : {}),
    line: e.line,
  });
  return examples.map((e) => JSON.stringify(row(e))).join("\n") + (examples.length ? "\n" : "");
}

export const INSPECT_SWITCHES = switchesOnly({
  ...readSchema("skip", true),
  against: opt.string({
    flag: "--against <file>",
    help: "also count how many rows of this file (e.g. the test set) occur in <file>",
  }),
  tagColumn: opt.integer({
    flag: "--tag-column <n>",
    help: "CoNLL: 0-based column of the tag",
    defaultHelp: "the last",
  }),
  json: opt.boolean({ help: "print the report as JSON" }),
});

export const SPLIT_SWITCHES = switchesOnly({
  out: opt.string({ required: true, flag: "--out <dir>", help: "directory for the JSONL parts and split.json" }),
  testSize: opt.number({
    default: 0.2,
    min: 0,
    lt: 1,
    flag: "--test-size <fraction>",
    help: "fraction held out for test",
  }),
  validationSize: opt.number({
    default: 0,
    min: 0,
    lt: 1,
    flag: "--validation-size <fraction>",
    help: "fraction held out for validation",
  }),
  folds: opt.integer({
    min: 2,
    max: 36,
    flag: "--folds <k>",
    help: "k-fold instead: fold-0.jsonl ... fold-<k-1>.jsonl (each row in one fold)",
  }),
  groupColumn: opt.string({
    flag: "--group-column <name>",
    help: "with --folds: keep rows of one group (user, document, ...) in one fold",
  }),
  seed: opt.integer({ default: 0, help: "random seed" }),
  stratify: opt.boolean({ default: true, help: "random instead of stratified by label" }),
  dedupe: opt.boolean({ help: "drop repeated texts before splitting" }),
  ...readSchema("fail"),
});

export function register(program: Command): void {
  const data = program.command("data").description("inspect and split datasets");

  const inspect = data
    .command("inspect")
    .description(
      "rows, columns, label (or CoNLL tag) distribution, text lengths, duplicates, bad rows, overlap with another file",
    )
    .argument("<file>", "CSV, TSV, JSONL, plain-text or CoNLL file");
  addOptions(inspect, INSPECT_SWITCHES)
    .addHelpText(
      "after",
      "\nExamples:\n  graft data inspect train.tsv --against test.tsv\n  graft data inspect SMSSpamCollection --no-header --label-column 0 --text-column 1\n  graft data inspect conll2003/train.txt --format conll\n",
    )
    .action(async (file: string, _: unknown, command: Command) => {
      const opts = resolveFlags(INSPECT_SWITCHES, command);
      const conll = opts.format === "conll" || (opts.format === undefined && /\.conll(u)?$/i.test(file));
      let report: InspectReport;
      if (conll) {
        if (opts.against) throw new GraftError("--against is not supported for CoNLL files");
        report = await inspectConll(file, {
          onBadRow: opts.onBadRow,
          ...(opts.tagColumn !== undefined ? { tagColumn: opts.tagColumn } : {}),
        });
      } else {
        report = await inspectFile(file, readOptionsFrom(opts), opts.against ? { file: opts.against } : undefined);
      }
      process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + "\n" : formatInspect(report));
    });

  const split = data
    .command("split")
    .description(
      "split a labelled file into train/validation/test (or k folds) as JSONL with a seed, and record the split",
    )
    .argument("<file>", "CSV, TSV or JSONL file");
  addOptions(split, SPLIT_SWITCHES)
    .addHelpText(
      "after",
      "\nExamples:\n  graft data split reviews.csv --out splits/ --test-size 0.2 --validation-size 0.1 --seed 1\n  graft data split tickets.csv --out folds/ --folds 5 --group-column customer\n",
    )
    .action(async (file: string, _: unknown, command: Command) => {
      const opts = resolveFlags(SPLIT_SWITCHES, command);
      const { seed, folds } = opts;
      if (opts.groupColumn !== undefined && folds === undefined)
        throw new GraftError("--group-column needs --folds (group k-fold)");
      const loaded = await loadSplits({
        train: file,
        read: readOptionsFrom(opts),
        ...(folds === undefined ? { testFraction: opts.testSize, validationFraction: opts.validationSize } : {}),
        seed,
        ...(opts.stratify ? {} : { stratify: false }),
        dedupe: opts.dedupe === true,
      });
      reportSkipped(loaded.skipped);
      const summary: DataSummary & { skippedRows: BadRow[] } = { ...loaded.summary, skippedRows: loaded.skipped };
      if (folds !== undefined) {
        const labelled = loaded.train.every((e) => e.label !== undefined);
        const method = opts.groupColumn !== undefined ? "group" : opts.stratify && labelled ? "stratified" : "random";
        const { folds: parts, record } = kFold(loaded.train, {
          k: folds,
          method,
          ...(seed !== undefined ? { seed } : {}),
        });
        parts.forEach((f, i) =>
          writeFileAtomic(join(opts.out, `fold-${i}.jsonl`), toJsonl(f.test.map((j) => loaded.train[j]!))),
        );
        summary.split = record;
        writeJsonAtomic(join(opts.out, "split.json"), summary);
        process.stdout.write(
          `${folds} ${method} folds of ${parts.map((f) => int(f.test.length)).join(", ")} rows → ${opts.out} (split recorded in split.json)\n`,
        );
        return;
      }
      for (const [name, rows] of [
        ["train", loaded.train],
        ["validation", loaded.validation],
        ["test", loaded.test],
      ] as const) {
        if (rows.length > 0) writeFileAtomic(join(opts.out, `${name}.jsonl`), toJsonl(rows));
      }
      writeJsonAtomic(join(opts.out, "split.json"), summary);
      const s = loaded.summary.sizes;
      process.stdout.write(
        `train ${int(s.train)}, validation ${int(s.validation)}, test ${int(s.test)} rows → ${opts.out} (split recorded in split.json)\n`,
      );
    });
}
