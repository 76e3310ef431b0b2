/**
 * Training progress for the terminal: a progress bar with loss, rate and ETA on a TTY, plain log lines otherwise
 * (CI logs, pipes). Evaluation results are printed as one line each in both cases.
 */
import cliProgress from "cli-progress";
import type { LogRecord, Trainer, TrainerCallback } from "../train/index.js";

const fmt = (v: unknown, digits = 4) =>
  typeof v === "number"
    ? Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0)
      ? v.toExponential(2)
      : v.toFixed(digits)
    : String(v);

export function progressCallback(opts: { stream?: NodeJS.WriteStream; quiet?: boolean } = {}): TrainerCallback {
  const stream = opts.stream ?? process.stderr;
  const tty = stream.isTTY === true && !opts.quiet;
  let bar: cliProgress.SingleBar | null = null;
  const line = (s: string) => {
    if (opts.quiet) return;
    if (bar) bar.stop();
    stream.write(s + "\n");
    if (bar) bar.start(bar.getTotal(), bar.getProgress() * bar.getTotal());
  };
  return {
    onTrainBegin(t: Trainer<unknown>) {
      if (!tty) return;
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: "{bar} {value}/{total} steps | loss {loss} | {rate} ex/s | ETA {eta_formatted}",
          hideCursor: true,
          noTTYOutput: false,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(t.totalSteps, t.globalStep, { loss: "-", rate: "-" });
    },
    onLog(_t: Trainer<unknown>, r: LogRecord) {
      if (bar) bar.update(r.step, { loss: fmt(r.loss), rate: fmt(r.examples_per_s, 1) });
      else if (!opts.quiet)
        stream.write(
          `step ${r.step} epoch ${fmt(r.epoch, 2)} loss ${fmt(r.loss)} lr ${fmt(r.lr)} ${fmt(r.examples_per_s, 1)} ex/s\n`,
        );
    },
    onEvaluate(t: Trainer<unknown>, metrics: Record<string, number>, isBest: boolean) {
      line(
        `eval at step ${t.globalStep}: ${Object.entries(metrics)
          .map(([k, v]) => `${k} ${fmt(v)}`)
          .join("  ")}${isBest ? "  (best)" : ""}`,
      );
    },
    onTrainEnd() {
      bar?.stop();
      bar = null;
    },
  };
}
