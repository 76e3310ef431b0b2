/**
 * `graft data inspect` and `graft data split`, plus the data-reading flags every command that reads a user's
 * labelled file shares (baseline, predict; later finetune): format, delimiter, quoting, header, column mapping,
 * label type and the bad-row policy.
 */
import { join } from "node:path";
import type { Command } from "commander";
import { GraftError } from "../util/errors.js";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { DATA_FORMATS, type DataFormat, type ExampleReadOptions } from "../data/readers/examples.js";
import type { LabelType } from "../data/readers/fields.js";
import type { BadRow, Example } from "../data/types.js";
import { inspectConll, inspectFile, type InspectReport, type Percentiles } from "../data/inspect.js";
import { loadSplits, type DataSummary } from "../data/dataset.js";
import { kFold } from "../data/split.js";

export interface ReadFlags {
  format?: string;
  delimiter?: string;
  quote?: string;
  header: boolean;
  textColumn?: string;
  textPairColumn?: string;
  labelColumn?: string;
  labelType?: string;
  groupColumn?: string;
  onBadRow: string;
}

/** Adds the shared reading flags to a command; `onBadRow` is the command's default policy. */
export function addReadOptions(cmd: Command, onBadRow: "fail" | "skip" = "fail", withConll = false): Command {
  return cmd
    .option(
      "--format <format>",
      `file format: ${DATA_FORMATS.join(", ")}${withConll ? ", conll" : ""} (default: from the extension, else sniffed)`,
    )
    .option("--delimiter <char>", 'CSV/TSV field delimiter, e.g. ";" or "\\t" (default: sniffed)')
    .option("--quote <char>", 'CSV quote character, or "none" (default: " for CSV, none for TSV)')
    .option("--no-header", "the CSV/TSV file has no header row; name columns by 0-based index")
    .option("--text-column <name>", "column with the text (name or 0-based index; default: text, sentence, ...)")
    .option("--text-pair-column <name>", "column with the second text of a pair task")
    .option("--label-column <name>", "column with the label (default: label, class, category, ...)")
    .option("--label-type <type>", "string (class names), int (validated class ids) or float (regression)", "string")
    .option("--on-bad-row <policy>", "fail: stop at the first bad row; skip: skip and report every bad row", onBadRow);
}

export function readOptionsFrom(f: ReadFlags): ExampleReadOptions {
  if (f.format !== undefined && !DATA_FORMATS.includes(f.format as DataFormat))
    throw new GraftError(`--format must be one of ${DATA_FORMATS.join(", ")}, got "${f.format}"`);
  if (!["string", "int", "float"].includes(f.labelType ?? "string"))
    throw new GraftError(`--label-type must be string, int or float, got "${f.labelType}"`);
  if (f.onBadRow !== "fail" && f.onBadRow !== "skip")
    throw new GraftError(`--on-bad-row must be "skip" or "fail", got "${f.onBadRow}"`);
  const delimiter = f.delimiter === "\\t" || f.delimiter === "tab" ? "\t" : f.delimiter;
  return {
    ...(f.format !== undefined ? { format: f.format as DataFormat } : {}),
    ...(delimiter !== undefined ? { delimiter } : {}),
    ...(f.quote !== undefined ? { quote: f.quote === "none" || f.quote === "" ? null : f.quote } : {}),
    header: f.header,
    ...(f.textColumn !== undefined ? { textColumn: f.textColumn } : {}),
    ...(f.textPairColumn !== undefined ? { textPairColumn: f.textPairColumn } : {}),
    ...(f.labelColumn !== undefined ? { labelColumn: f.labelColumn } : {}),
    ...(f.groupColumn !== undefined ? { groupColumn: f.groupColumn } : {}),
    labelType: (f.labelType ?? "string") as LabelType,
    onBadRow: f.onBadRow,
  };
}

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

export function register(program: Command): void {
  const data = program.command("data").description("inspect and split datasets");

  addReadOptions(
    data
      .command("inspect")
      .description(
        "rows, columns, label (or CoNLL tag) distribution, text lengths, duplicates, bad rows, overlap with another file",
      )
      .argument("<file>", "CSV, TSV, JSONL, plain-text or CoNLL file")
      .option("--against <file>", "also count how many rows of this file (e.g. the test set) occur in <file>")
      .option("--tag-column <n>", "CoNLL: 0-based column of the tag (default: the last)")
      .option("--json", "print the report as JSON"),
    "skip",
    true,
  )
    .addHelpText(
      "after",
      "\nExamples:\n  graft data inspect train.tsv --against test.tsv\n  graft data inspect SMSSpamCollection --no-header --label-column 0 --text-column 1\n  graft data inspect conll2003/train.txt --format conll\n",
    )
    .action(async (file: string, opts: ReadFlags & { against?: string; tagColumn?: string; json?: boolean }) => {
      const conll = opts.format === "conll" || (opts.format === undefined && /\.conll(u)?$/i.test(file));
      let report: InspectReport;
      if (conll) {
        if (opts.against) throw new GraftError("--against is not supported for CoNLL files");
        const tagColumn = numberFlag("--tag-column", opts.tagColumn, Number.isInteger, "an integer");
        report = await inspectConll(file, {
          onBadRow: opts.onBadRow as "skip" | "fail",
          ...(tagColumn !== undefined ? { tagColumn } : {}),
        });
      } else {
        report = await inspectFile(file, readOptionsFrom(opts), opts.against ? { file: opts.against } : undefined);
      }
      process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + "\n" : formatInspect(report));
    });

  addReadOptions(
    data
      .command("split")
      .description(
        "split a labelled file into train/validation/test (or k folds) as JSONL with a seed, and record the split",
      )
      .argument("<file>", "CSV, TSV or JSONL file")
      .requiredOption("--out <dir>", "directory for the JSONL parts and split.json")
      .option("--test-size <fraction>", "fraction held out for test", "0.2")
      .option("--validation-size <fraction>", "fraction held out for validation", "0")
      .option("--folds <k>", "k-fold instead: fold-0.jsonl ... fold-<k-1>.jsonl (each row in one fold)")
      .option("--group-column <name>", "with --folds: keep rows of one group (user, document, ...) in one fold")
      .option("--seed <n>", "random seed", "0")
      .option("--no-stratify", "random instead of stratified by label")
      .option("--dedupe", "drop repeated texts before splitting"),
  )
    .addHelpText(
      "after",
      "\nExamples:\n  graft data split reviews.csv --out splits/ --test-size 0.2 --validation-size 0.1 --seed 1\n  graft data split tickets.csv --out folds/ --folds 5 --group-column customer\n",
    )
    .action(
      async (
        file: string,
        opts: ReadFlags & {
          out: string;
          testSize: string;
          validationSize: string;
          folds?: string;
          seed: string;
          stratify: boolean;
          dedupe?: boolean;
        },
      ) => {
        const fraction = (name: string, v: string) =>
          numberFlag(name, v, (x) => x >= 0 && x < 1, "a fraction in [0, 1)")!;
        const seed = numberFlag("--seed", opts.seed, Number.isInteger, "an integer");
        if (opts.groupColumn !== undefined && opts.folds === undefined)
          throw new GraftError("--group-column needs --folds (group k-fold)");
        const folds = numberFlag(
          "--folds",
          opts.folds,
          (x) => Number.isInteger(x) && x >= 2 && x <= 36,
          "an integer from 2 to 36",
        );
        const loaded = await loadSplits({
          train: file,
          read: readOptionsFrom(opts),
          ...(folds === undefined
            ? {
                testFraction: fraction("--test-size", opts.testSize),
                validationFraction: fraction("--validation-size", opts.validationSize),
              }
            : {}),
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
      },
    );
}
