/** `graft select`: rank candidate checkpoints for a labelled file without fine-tuning them (src/methods/select.ts). */
import type { Command } from "commander";
import { selectModels, type SelectResult } from "../methods/index.js";
import type { FinetuneConfig } from "../tasks/index.js";
import { opt, switchesOnly } from "../util/options.js";
import { readOptionsFrom, readSchema } from "./data.js";
import { addOptions, readConfigFile, resolveFlags } from "./options.js";

export const SELECT_SWITCHES = switchesOnly({
  models: opt.list("string", {
    required: true,
    minLength: 1,
    flag: "--models <dirs...>",
    help: "candidate checkpoints (model directories or hub ids)",
  }),
  data: opt.string({
    required: true,
    flag: "--data <file>",
    help: "labelled file (CSV/TSV/JSONL, CoNLL for --task ner)",
  }),
  task: opt.enum(["classification", "ner"], { default: "classification", help: "task kind of the file" }),
  pooling: opt.enum(["mean", "cls"], {
    default: "mean",
    help: "one vector per example: mean of tokens or first token",
  }),
  limit: opt.integer({ default: 0, min: 0, help: "score only the first N examples (0 = all)" }),
  maxLength: opt.integer({ default: 128, min: 2, help: "tokens per example" }),
  batchSize: opt.integer({ default: 32, min: 1, help: "examples per forward pass" }),
  folds: opt.integer({ default: 5, min: 2, help: "cross-validation folds of the kNN and linear-probe scores" }),
  k: opt.integer({ default: 5, min: 1, flag: "--k <n>", help: "neighbours of the kNN score" }),
  seed: opt.integer({ default: 0, help: "seed of the cross-validation folds" }),
  verify: opt.boolean({ help: "also fine-tune every candidate and report Kendall's tau of each score" }),
  verifyConfig: opt.string({
    flag: "--verify-config <file>",
    help: "fine-tuning settings of --verify (a graft finetune config, JSON or YAML)",
  }),
  verifyOutput: opt.string({ default: "runs/select", flag: "--verify-output <dir>", help: "where --verify's runs go" }),
  verifyMetric: opt.string({ flag: "--verify-metric <name>", help: "metric of --verify", defaultHelp: "the task's" }),
  json: opt.boolean({ help: "print JSON" }),
  ...readSchema("fail"),
});

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? "-" : v.toFixed(4));

/** The ranking as the table `graft select` prints. */
export function formatSelect(r: SelectResult): string {
  const lines = [`${r.task} on ${r.data} (${r.labels.length} classes), ranked by LogME`];
  const verified = r.verify !== undefined;
  const header = ["rank", "model", "LogME", "LEEP", "kNN", "probe", ...(verified ? [r.verify!.metric] : []), "seconds"];
  const rows = r.ranking.map((c, i) => [
    String(i + 1),
    c.model,
    fmt(c.logme),
    fmt(c.leep),
    fmt(c.knn),
    fmt(c.probe),
    ...(verified ? [fmt(c.finetuned)] : []),
    c.seconds.toFixed(1),
  ]);
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((row) => row[j].length)));
  for (const row of [header, ...rows])
    lines.push(
      row
        .map((cell, j) => cell.padEnd(widths[j]))
        .join("  ")
        .trimEnd(),
    );
  if (r.verify) {
    lines.push(`Kendall's tau against the fine-tuned ${r.verify.metric}:`);
    for (const [k, v] of Object.entries(r.verify.tau))
      lines.push(`  ${k.padEnd(6)} ${v === null ? "-" : v.toFixed(3)}`);
  }
  return lines.join("\n") + "\n";
}

export function register(program: Command): void {
  const cmd = program
    .command("select")
    .description("rank candidate base models for a task without fine-tuning them (LogME, LEEP, kNN, linear probe)");
  addOptions(cmd, SELECT_SWITCHES)
    .addHelpText(
      "after",
      "\nExamples:\n  graft select --models m1 m2 m3 --data train.csv\n  graft select --models m1 m2 --data train.conll --task ner --json\n  graft select --models m1 m2 m3 --data train.csv --verify --verify-config ft.yaml\n",
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(SELECT_SWITCHES, command);
      const log = f.json ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
      const result = await selectModels({
        models: f.models,
        data: f.data,
        task: f.task as "classification" | "ner",
        pooling: f.pooling as "mean" | "cls",
        limit: f.limit > 0 ? f.limit : undefined,
        maxLength: f.maxLength,
        batchSize: f.batchSize,
        folds: f.folds,
        k: f.k,
        seed: f.seed,
        read: f.task === "ner" ? { onBadRow: f.onBadRow as "fail" | "skip" } : readOptionsFrom(f),
        verify: f.verify
          ? {
              config: (f.verifyConfig ? readConfigFile(f.verifyConfig) : {}) as Partial<FinetuneConfig>,
              outputDir: f.verifyOutput,
              metric: f.verifyMetric,
            }
          : null,
        log,
      });
      process.stdout.write(f.json ? JSON.stringify(result) + "\n" : formatSelect(result));
    });
}
