/**
 * `graft finetune`: adapt a pre-trained model to a task from a data file (see tasks/finetune.ts for the recipe).
 * Flags and --config (JSON/YAML in FinetuneConfig's shape) describe the same run; flags win; `--resume RUN_DIR`
 * continues an interrupted run from its last complete checkpoint with the configuration it was started with.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { bundled } from "./bundled.js";
import type { Command } from "commander";
import { GraftError } from "../util/errors.js";
import { finetune, type FinetuneResult } from "../tasks/index.js";
import { FINETUNE_SCHEMA, type FinetuneOptions, type ResolvedFinetuneConfig } from "../tasks/config.js";
import { addOptions, configAndFlags, configSwitch, flagOptions, resumedConfig, runSwitches } from "./options.js";
import { progressCallback } from "./progress.js";
import { isMainRank } from "../train/index.js";

/** Switches of the command line that are not run settings (never in a config file or run.json). */
export const FINETUNE_SWITCHES = {
  ...configSwitch("run configuration (JSON or YAML, the settings below by their camelCase names); flags override it"),
  ...runSwitches("data files"),
};

/** The run configuration from --config and the flags (flags win), the quick start's data and settings filled in. */
export function configFromFlags(
  command: Command,
  configFile?: string,
): FinetuneOptions & { model: string; data: string } {
  const merged = configAndFlags(FINETUNE_SCHEMA, command, configFile);
  if (!merged.model) {
    if (!existsSync(join(bundled.model(), "config.json")))
      throw new GraftError(
        "no model: give --model DIR (a pre-trained model directory or hub id)",
        "see graft finetune --help",
      );
    merged.model = bundled.model();
  }
  if (!merged.data) {
    // the quick start: the bundled sample with settings that fit a few minutes on 2 cores
    if (merged.task && merged.task !== "classification")
      throw new GraftError(`no data: give --data FILE for --task ${merged.task}`);
    merged.data = bundled.train();
    merged.test ??= bundled.test();
    merged.maxLength ??= QUICKSTART.maxLength;
    merged.training = { ...QUICKSTART.training, ...merged.training };
  }
  return merged as FinetuneOptions & { model: string; data: string };
}

/** Settings of the quick start (no --data): the bundled sample, short messages, a few epochs. */
export const QUICKSTART = {
  maxLength: 64,
  training: { epochs: 3, batchSize: 32, lr: 2e-4, warmupRatio: 0.1, logEvery: 10 },
};

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(4));

export function formatResult(r: FinetuneResult): string {
  if (r.train.interrupted)
    return `interrupted at step ${r.train.globalStep}; a checkpoint was saved\nresume with: graft finetune --resume ${r.runDir}`;
  const lines = [`${r.testSplit} metrics of the best model (step ${r.train.bestStep ?? r.train.globalStep}):`];
  for (const [k, v] of Object.entries(r.test)) lines.push(`  ${k.padEnd(16)} ${fmt(v)}`);
  lines.push(
    `trained ${r.train.globalStep} steps in ${r.train.trainSeconds.toFixed(1)} s (${r.train.examplesPerSecond.toFixed(1)} examples/s)${r.train.stoppedEarly ? ", stopped early" : ""}`,
  );
  // what transfer learning is measured against: the classical baseline on the same split
  if (r.baseline)
    lines.push(
      `${Object.keys(r.baseline).some((k) => k.startsWith("gbdt_")) ? "baselines (logistic regression and gradient-boosted trees" : "baseline (TF-IDF + logistic regression"}, same split): ${Object.entries(
        r.baseline,
      )
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join("  ")}`,
    );
  for (const n of r.notes) lines.push(`note: ${n}`);
  lines.push(`run:    ${r.runDir}`, `model:  ${r.bestDir}`);
  if (r.report) lines.push(`report: ${r.report}`);
  return lines.join("\n");
}

export function register(program: Command): void {
  const cmd = program
    .command("finetune")
    .description(
      "fine-tune a pre-trained model on a labelled file (classification, pairs, multi-label, regression, NER)",
    );
  const { config, ...switches } = FINETUNE_SWITCHES;
  addOptions(cmd, { config }, FINETUNE_SCHEMA, switches)
    .addHelpText(
      "after",
      `
Examples:
  graft finetune                                   # quick start: bundled model and data, a few minutes
  graft finetune --model models/graft-base --data reviews.csv --text-column review --label-column stars
  graft finetune --model bert-dir --data train.tsv --test test.tsv --epochs 3 --lr 3e-5 --layer-decay 0.9
  graft finetune --model bert-dir --data spam.csv --class-weights auto --tune-threshold
  graft finetune --model bert-dir --data ner.conll --task ner --lora --lora-r 8
  graft finetune --resume runs/finetune-2026-11-26T10-00-00-000Z
`,
    )
    .action(async (_: unknown, command: Command) => {
      const f = flagOptions(FINETUNE_SWITCHES, command);
      let config: FinetuneOptions & { model: string; data: string };
      if (f.resume) {
        config = resumedConfig<ResolvedFinetuneConfig>("finetune", FINETUNE_SCHEMA, command, f);
      } else {
        if (f.allowDataChange) throw new GraftError("--allow-data-change is for --resume");
        config = configFromFlags(command, f.config);
      }
      // under mpirun, rank 0 alone prints (docs/distributed.md)
      const main = isMainRank();
      const log = (line: string) => {
        if (!f.quiet && !f.json && main) process.stderr.write(`${line}\n`);
      };
      const quickstart = config.data === bundled.train();
      if (quickstart) log(`quick start: fine-tuning ${config.model} on the bundled SMS spam sample (${config.data})`);
      const result = await finetune(config, {
        log,
        resume: Boolean(f.resume),
        allowNonFinite: f.allowNonfinite,
        overwrite: f.overwrite,
        allowDataChange: f.allowDataChange,
        callbacks: f.json || f.quiet || !main ? [] : [progressCallback()],
      });
      if (main && f.json) process.stdout.write(JSON.stringify(result, null, 2) + "\n");
      else if (main) process.stdout.write(formatResult(result) + "\n");
      if (result.train.interrupted) process.exitCode = result.train.signal === "SIGTERM" ? 143 : 130;
    });
}
