/**
 * Training progress for the terminal: a progress bar with loss, rate and ETA on a TTY, plain log lines otherwise
 * (CI logs, pipes), both with the step out of the total. Evaluation results are printed as one line each in both cases.
 */
import cliProgress from "cli-progress";
import type { LogRecord, Trainer, TrainerCallback } from "../train/index.js";

const fmt = (v: unknown, digits = 4) =>
  typeof v === "number"
    ? Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0)
      ? v.toExponential(2)
      : v.toFixed(digits)
    : String(v);

/** A duration in seconds as `45s`, `3m05s` or `2h07m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "-";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Seconds left at `step` of `total`, at the rate since `startStep` was passed `elapsed` seconds ago (NaN: unknown yet). */
export function etaSeconds(step: number, total: number, startStep: number, elapsed: number): number {
  const done = step - startStep;
  return done > 0 ? (elapsed / done) * Math.max(0, total - step) : NaN;
}

export function progressCallback(
  opts: { stream?: NodeJS.WriteStream; quiet?: boolean /** Milliseconds (tests). */; now?: () => number } = {},
): TrainerCallback {
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? (() => performance.now());
  const tty = stream.isTTY === true && !opts.quiet;
  let bar: cliProgress.SingleBar | null = null;
  // the rate for the ETA counts from where this process began (a resumed run starts midway)
  let total = 0,
    startStep = 0,
    startTime = 0;
  const line = (s: string) => {
    if (opts.quiet) return;
    if (bar) bar.stop();
    stream.write(s + "\n");
    if (bar) bar.start(bar.getTotal(), bar.getProgress() * bar.getTotal());
  };
  return {
    onTrainBegin(t: Trainer<unknown>) {
      total = t.totalSteps;
      startStep = t.globalStep;
      startTime = now();
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
          `step ${r.step}/${total} epoch ${fmt(r.epoch, 2)} loss ${fmt(r.loss)} lr ${fmt(r.lr)} ${fmt(r.examples_per_s, 1)} ex/s ETA ${formatDuration(etaSeconds(r.step, total, startStep, (now() - startTime) / 1000))}\n`,
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
