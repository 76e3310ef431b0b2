/** `graft report RUN_DIR [--compare DIR...]`: (re)writes a run's report.html, or a page comparing runs. */
import type { Command } from "commander";
import { pathToFileURL } from "node:url";
import { compareRuns, writeReport } from "../report/index.js";
import { opt, switchesOnly } from "../util/options.js";
import { addOptions, resolveFlags } from "./options.js";

export const REPORT_SWITCHES = switchesOnly({
  compare: opt.list("string", { flag: "--compare <dirs...>", help: "other run directories to compare with RUN_DIR" }),
  out: opt.string({
    flag: "--out <file>",
    help: "where to write",
    defaultHelp: "RUN_DIR/report.html, or RUN_DIR/compare.html with --compare",
  }),
  openPath: opt.boolean({ help: "print a file:// URL to open in a browser instead of the plain path" }),
  quiet: opt.boolean({ flag: "-q, --quiet", help: "do not list the parts the run lacks" }),
});

export function register(program: Command): void {
  const cmd = program
    .command("report")
    .description("write report.html for a run or tuning-study directory, or compare runs side by side")
    .argument("<run_dir>", "a run directory (run.json, metrics.jsonl, ...) or a study directory (leaderboard.json)");
  addOptions(cmd, REPORT_SWITCHES)
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
    .action((runDir: string, _: unknown, command: Command) => {
      const opts = resolveFlags(REPORT_SWITCHES, command);
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
