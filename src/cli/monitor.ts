/**
 * `graft monitor --model DIR --log FILE [--html OUT] [--json]`: the drift of served predictions (the sample log graft
 * serve writes) against the model's drift_reference.json; and `graft monitor --model DIR --reference FILE`, which
 * writes that reference from a fine-tuning run's predictions.jsonl. All of it is src/monitor/; this file parses and prints.
 */
import type { Command } from "commander";
import { resolve } from "node:path";
import {
  DEFAULT_DRIFT_OPTIONS,
  type DriftReport,
  driftReport,
  readDriftReference,
  readSampleLog,
  REFERENCE_FILE,
  writeDriftReference,
} from "../monitor/index.js";
import { driftHtml } from "../monitor/html.js";
import { writeFileAtomic } from "../util/atomic.js";
import { ArgumentError } from "../util/errors.js";
import { opt, switchesOnly } from "../util/options.js";
import { addOptions, resolveFlags } from "./options.js";

export const MONITOR_SWITCHES = switchesOnly({
  model: opt.string({ required: true, flag: "--model <dir>", help: `model directory (holds ${REFERENCE_FILE})` }),
  log: opt.string({ flag: "--log <file>", help: "the sample log graft serve records (SQLite)" }),
  reference: opt.string({
    flag: "--reference <predictions>",
    help: `write DIR/${REFERENCE_FILE} from a run's predictions.jsonl instead of checking a log`,
  }),
  html: opt.string({ flag: "--html <file>", help: "also write the report as an HTML page" }),
  json: opt.boolean({ help: "print the report as JSON" }),
  servedModel: opt.string({
    flag: "--served-model <name>",
    help: "only the log's samples of this model name",
    defaultHelp: "all",
  }),
  window: opt.integer({ default: DEFAULT_DRIFT_OPTIONS.window, min: 1, help: "compare the newest N samples" }),
  minSamples: opt.integer({
    default: DEFAULT_DRIFT_OPTIONS.minSamples,
    min: 2,
    help: "judge nothing below this many samples",
  }),
  driftShare: opt.number({
    default: DEFAULT_DRIFT_OPTIONS.driftShare,
    gt: 0,
    max: 1,
    help: "degraded when this share of scores/labels drifted",
  }),
  permutations: opt.integer({ default: 100, min: 1, help: "permutations of the embedding MMD test" }),
  skipEmbeddings: opt.boolean({ help: "leave out the embedding MMD test" }),
});

function fmtNum(v: number | null): string {
  if (v === null) return "—";
  if (v === 0 || (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6)) return String(Number(v.toPrecision(4)));
  return v.toExponential(2);
}

/** The report as the table `graft monitor` prints. */
export function formatDriftReport(r: DriftReport): string {
  const rows: string[][] = [["feature", "test", "statistic", "p-value", "threshold", "drift", "PSI"]];
  for (const f of r.features)
    rows.push([
      f.feature,
      f.test,
      fmtNum(f.statistic),
      fmtNum(f.pValue),
      fmtNum(f.threshold),
      f.drift ? "yes" : "no",
      fmtNum(f.psi),
    ]);
  if (r.embeddings)
    rows.push([
      "embeddings",
      "mmd",
      fmtNum(r.embeddings.mmd2),
      fmtNum(r.embeddings.pValue),
      fmtNum(r.embeddings.alpha),
      r.embeddings.drift ? "yes" : "no",
      "—",
    ]);
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((row) => row[j]!.length)));
  const lines =
    rows.length > 1
      ? rows.map((row) =>
          row
            .map((c, j) => c.padEnd(widths[j]!))
            .join("  ")
            .trimEnd(),
        )
      : [];
  lines.push(`status: ${r.status}`);
  for (const x of r.reasons) lines.push(`  ${x}`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join("\n") + "\n";
}

export function register(program: Command): void {
  const cmd = program
    .command("monitor")
    .description("drift of served predictions (graft serve's sample log) against the model's training reference");
  addOptions(cmd, MONITOR_SWITCHES)
    .addHelpText(
      "after",
      [
        "",
        `Per score and for the predicted label: Evidently's test for the sample size (KS, chi-square or z up to 1000`,
        "reference values, normed Wasserstein or Jensen-Shannon beyond), PSI beside it; an MMD permutation test on",
        "input embeddings when the log and the reference have them. Status is degraded when half the scores/labels",
        "drifted or the embeddings did.",
        "",
        "Examples:",
        "  graft monitor --model runs/sst2/best --reference runs/sst2/predictions.jsonl",
        "  graft monitor --model runs/sst2/best --log samples.sqlite --html drift.html",
        "",
      ].join("\n"),
    )
    .action(async (_: unknown, command: Command) => {
      const o = resolveFlags(MONITOR_SWITCHES, command);
      if (o.reference !== undefined) {
        if (o.log !== undefined)
          throw new ArgumentError("--reference writes the reference; check a --log in a second call");
        const { path, reference } = writeDriftReference(o.model, { predictions: o.reference });
        if (o.json) process.stdout.write(JSON.stringify({ path, count: reference.count }) + "\n");
        else
          process.stdout.write(
            `wrote ${path}: ${reference.count} predictions, scores ${Object.keys(reference.scores).join(", ") || "none"}, ` +
              `${Object.keys(reference.labels).length} labels\n`,
          );
        return;
      }
      if (o.log === undefined)
        throw new ArgumentError("graft monitor needs --log FILE (or --reference FILE to write the reference)");
      const reference = readDriftReference(o.model);
      const served = await readSampleLog(o.log, { model: o.servedModel, limit: o.window });
      const report = driftReport(reference, served, {
        window: o.window,
        minSamples: o.minSamples,
        driftShare: o.driftShare,
        mmd: o.skipEmbeddings ? false : { permutations: o.permutations },
      });
      if (o.html !== undefined) {
        writeFileAtomic(
          o.html,
          driftHtml(report, reference, served, { model: o.model, log: o.log, generatedAt: new Date() }),
        );
      }
      if (o.json) process.stdout.write(JSON.stringify(report) + "\n");
      else {
        process.stdout.write(formatDriftReport(report));
        if (o.html !== undefined) process.stdout.write(`report: ${resolve(o.html)}\n`);
      }
    });
}
