/** `graft report RUN_DIR [--compare DIR...]`: (re)writes a run's report.html, or a page comparing runs. */
import type { Command } from "commander";
import { pathToFileURL } from "node:url";
import { compareRuns, writeReport } from "../report/index.js";

interface Opts {
  compare?: string[];
  out?: string;
  openPath?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("report")
    .description("write report.html for a run or tuning-study directory, or compare runs side by side")
    .argument("<run_dir>", "a run directory (run.json, metrics.jsonl, ...) or a study directory (leaderboard.json)")
    .option("--compare <dirs...>", "other run directories to compare with RUN_DIR")
    .option("--out <file>", "where to write (default: RUN_DIR/report.html, or RUN_DIR/compare.html with --compare)")
    .option("--open-path", "print a file:// URL to open in a browser instead of the plain path")
    .option("-q, --quiet", "do not list the parts the run lacks")
    .addHelpText(
      "after",
      [
        "",
        "The page is self-contained (inline SVG charts, no network) and shows what the directory has:",
        "learning curves, learning-rate schedule, evaluation (confusion matrix, ROC/PR, calibration,",
        "per-class or per-entity tables, from eval_predictions.jsonl), timing, configuration, and for",
        "tuning studies the leaderboard and optimization plots.",
        "",
        "Examples:",
        "  graft report runs/sst2",
        "  graft report runs/sst2 --compare runs/sst2-lora runs/sst2-frozen --out compare.html",
        "  graft report studies/lr-search --open-path",
        "",
      ].join("\n"),
    )
    .action((runDir: string, opts: Opts) => {
      const r = opts.compare?.length
        ? compareRuns([runDir, ...opts.compare], { out: opts.out, generatedAt: new Date() })
        : writeReport(runDir, { out: opts.out, generatedAt: new Date() });
      if (!opts.quiet) {
        for (const m of r.missing) process.stderr.write(`note: missing ${m}\n`);
        for (const n of r.notes) process.stderr.write(`note: ${n}\n`);
      }
      process.stdout.write((opts.openPath ? pathToFileURL(r.path).href : r.path) + "\n");
    });
}
