/**
 * `graft active`: pool-based active learning and self-training (src/methods/active/). `simulate` draws learning
 * curves of the query strategies on a labelled pool, `annotate` runs the real loop one round per call (the next
 * batch to a file, read back labelled, resumable from its state file), `self-train` measures pseudo-labelling.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { GraftError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { opt, switchesOnly } from "../util/options.js";
import {
  STRATEGIES,
  annotateRound,
  curvesChart,
  mergeSimulations,
  curvesTable,
  entityF1Score,
  readPoolAndTest,
  selfTrain,
  simulate,
  FinetuneLearner,
  HeadLearner,
  itemInputs,
  type Aggregate,
  type LabelledItems,
  type Learner,
  type SelfTrainResult,
  type SimulateResult,
  type Strategy,
} from "../methods/index.js";
import type { FinetuneConfig } from "../tasks/index.js";
import { readOptionsFrom, readSchema } from "./data.js";
import { addOptions, readConfigFile, resolveFlags } from "./options.js";

const COMMON = {
  model: opt.string({
    required: true,
    flag: "--model <dir>",
    help: "checkpoint whose frozen features the head trains on (pre-trained, or fine-tuned: the warm start)",
  }),
  task: opt.enum(["classification", "ner"], { default: "classification", help: "task kind of the files" }),
  maxLength: opt.integer({ default: 128, min: 2, help: "tokens per example" }),
  hidden: opt.integer({ default: 128, min: 1, help: "hidden units of the trained head" }),
  dropout: opt.number({ default: 0.2, min: 0, lt: 1, help: "dropout of the head (MC dropout for BALD)" }),
  epochs: opt.integer({
    default: 30,
    min: 1,
    help: "passes over the labelled examples per round (at least 100 steps)",
  }),
  lr: opt.number({ default: 1e-3, gt: 0, help: "learning rate of the head" }),
  seeds: opt.list("integer", {
    default: [1, 2, 3],
    minLength: 1,
    flag: "--seeds <n...>",
    help: "seeds to average over",
  }),
  learner: opt.enum(["head", "finetune"], {
    default: "head",
    help: "retrain a head on frozen features (fast), or fine-tune the whole model each round",
  }),
  config: opt.string({
    flag: "--config <file>",
    help: "--learner finetune: fine-tuning settings (a graft finetune config, JSON or YAML)",
  }),
  json: opt.boolean({ help: "print JSON" }),
  ...readSchema("fail"),
};

const SIM_DATA = {
  data: opt.string({ required: true, flag: "--data <file>", help: "labelled pool (CSV/TSV/JSONL, CoNLL for ner)" }),
  test: opt.string({ required: true, flag: "--test <file>", help: "labelled test file" }),
  poolLimit: opt.integer({ default: 0, min: 0, help: "a random N examples of --data as the pool (0 = all)" }),
  testLimit: opt.integer({ default: 0, min: 0, help: "a random N examples of --test (0 = all)" }),
  out: opt.string({ flag: "--out <dir>", help: "write the result's JSON (and for simulate, its SVG chart) here" }),
};

export const SIMULATE_SWITCHES = switchesOnly({
  ...COMMON,
  ...SIM_DATA,
  strategies: opt.list("string", {
    default: [...STRATEGIES],
    minLength: 1,
    flag: "--strategies <names...>",
    help: `query strategies (${STRATEGIES.join(", ")})`,
  }),
  start: opt.integer({ default: 50, min: 1, help: "random labels at the start" }),
  batch: opt.integer({ default: 50, min: 1, help: "labels added per round" }),
  budget: opt.integer({ default: 1000, min: 1, help: "labels at the end of the curve" }),
  mcPasses: opt.integer({ default: 10, min: 2, help: "dropout passes of BALD" }),
  aggregate: opt.enum(["mean", "max"], { default: "mean", help: "ner: a sentence's score from its words'" }),
});

export const SELF_TRAIN_SWITCHES = switchesOnly({
  ...COMMON,
  ...SIM_DATA,
  labelCounts: opt.list("integer", {
    default: [100, 500],
    minLength: 1,
    flag: "--label-counts <n...>",
    help: "labelled examples to start from (the rest of the pool is unlabelled)",
  }),
  rounds: opt.integer({ default: 3, min: 1, help: "teacher → student rounds" }),
  threshold: opt.number({ min: 0, max: 1, help: "keep pseudo-labels at least this confident" }),
  topFraction: opt.number({ gt: 0, max: 1, help: "or keep this fraction of the pool, an equal share per class" }),
  consistency: opt.number({ default: 0, min: 0, help: "weight of the two-dropout-pass consistency term (0 = off)" }),
});

export const ANNOTATE_SWITCHES = switchesOnly({
  dir: opt.string({ required: true, flag: "--dir <dir>", help: "the loop's directory (state.json, batch files)" }),
  model: opt.string({
    flag: "--model <dir>",
    help: "checkpoint of the frozen features (first call; then from the state)",
  }),
  pool: opt.string({ flag: "--pool <file>", help: "unlabelled pool (CSV/TSV/JSONL, CoNLL for ner; first call)" }),
  task: opt.enum(["classification", "ner"], { help: "task kind (first call; default classification)" }),
  labels: opt.list("string", { minLength: 2, flag: "--labels <names...>", help: "class or tag names (first call)" }),
  strategy: opt.string({ flag: "--strategy <name>", help: `query strategy (first call; default entropy)` }),
  batch: opt.integer({ min: 1, help: "examples per batch (first call; default 50)" }),
  seed: opt.integer({ help: "seed (first call; default 1)" }),
  batchFormat: opt.enum(["csv", "jsonl"], { help: "batch file format (first call; default csv, jsonl for ner)" }),
  maxLength: opt.integer({ default: 128, min: 2, help: "tokens per example" }),
  mcPasses: opt.integer({ default: 10, min: 2, help: "dropout passes of BALD" }),
  aggregate: opt.enum(["mean", "max"], { default: "mean", help: "ner: a sentence's score from its words'" }),
  learner: opt.enum(["head", "finetune"], { help: "head or finetune (first call; default head)" }),
  config: COMMON.config,
  hidden: COMMON.hidden,
  dropout: COMMON.dropout,
  epochs: COMMON.epochs,
  lr: COMMON.lr,
  ...readSchema("fail"),
});

export const MERGE_SWITCHES = switchesOnly({
  curves: opt.list("string", {
    required: true,
    minLength: 1,
    flag: "--curves <files...>",
    help: "curves.json files of graft active simulate runs of one setting (strategies split over processes)",
  }),
  out: opt.string({ flag: "--out <dir>", help: "write the merged curves.json and curves.svg here" }),
  title: opt.string({ default: "active learning", help: "the chart's title" }),
  json: opt.boolean({ help: "print JSON" }),
});

function checkStrategies(names: readonly string[]): Strategy[] {
  for (const s of names)
    if (!(STRATEGIES as readonly string[]).includes(s))
      throw new GraftError(`--strategies: unknown strategy "${s}" (known: ${STRATEGIES.join(", ")})`);
  return names as Strategy[];
}

type CommonFlags = ReturnType<typeof resolveFlags<typeof SIMULATE_SWITCHES>>;

const headOf = (f: Pick<CommonFlags, "hidden" | "dropout" | "epochs" | "lr">) => ({
  hidden: f.hidden,
  dropout: f.dropout,
  epochs: f.epochs,
  lr: f.lr,
});

/** A fresh learner per curve (or per teacher and student): the head, or a fine-tuning run per round. */
function learnerFactory(
  f: CommonFlags | ReturnType<typeof resolveFlags<typeof SELF_TRAIN_SWITCHES>>,
  pool: LabelledItems,
  test: LabelledItems,
  log: (l: string) => void,
  consistency = 0,
): (student?: boolean) => Learner {
  if (f.learner === "finetune") {
    const config = (f.config ? readConfigFile(f.config) : {}) as Partial<FinetuneConfig>;
    const workDir = join(f.out ?? ".", "learner");
    return () =>
      new FinetuneLearner({
        model: f.model,
        task: f.task as "classification" | "ner",
        labels: pool.labels,
        inputs: itemInputs(pool.data),
        testInputs: itemInputs(test.data),
        workDir,
        config,
        maxLength: f.maxLength,
        log: (line) => log(`  ${line}`),
      });
  }
  return (student = false) =>
    new HeadLearner(
      pool.labels.length,
      pool.items,
      { ...headOf(f), consistency: student ? consistency : 0 },
      test.items,
    );
}

async function poolOf(
  f: CommonFlags | ReturnType<typeof resolveFlags<typeof SELF_TRAIN_SWITCHES>>,
  log: (l: string) => void,
) {
  const { pool, test, seconds } = await readPoolAndTest({
    model: f.model,
    data: f.data,
    test: f.test,
    task: f.task as "classification" | "ner",
    poolLimit: f.poolLimit || undefined,
    testLimit: f.testLimit || undefined,
    maxLength: f.maxLength,
    read: readOptionsFrom(f),
    features: f.learner === "head",
    log,
  });
  log(`data read in ${seconds.toFixed(1)} s`);
  return { pool, test };
}

/** The self-training summary as a Markdown table. */
export function selfTrainTable(r: SelfTrainResult): string {
  const lines = [
    "| labels | labels only | with pseudo-labels | pseudo-labels (last round) | their accuracy |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const s of r.summary)
    lines.push(
      `| ${s.labels} | ${s.supervised.mean.toFixed(4)} ± ${s.supervised.std.toFixed(4)} | ${s.selfTrained.mean.toFixed(4)} ± ${s.selfTrained.std.toFixed(4)} | ${Math.round(s.pseudoLabels)} | ${s.pseudoAccuracy.toFixed(3)} |`,
    );
  return lines.join("\n") + "\n";
}

export function register(program: Command): void {
  const active = program
    .command("active")
    .description("active learning (simulate, annotate) and self-training with pseudo-labels");

  const sim = active
    .command("simulate")
    .description("learning curves of query strategies against random on a labelled pool, averaged over seeds");
  addOptions(sim, SIMULATE_SWITCHES)
    .addHelpText(
      "after",
      "\nExample:\n  graft active simulate --model models/graft-base --data train.tsv --test dev.tsv --pool-limit 3000 --out runs/al\n",
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(SIMULATE_SWITCHES, command);
      const log = f.json ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
      const strategies = checkStrategies(f.strategies);
      const { pool, test } = await poolOf(f, log);
      const result = await simulate(
        { pool: pool.targets, test: test.targets },
        {
          strategies,
          seeds: f.seeds,
          start: f.start,
          batch: f.batch,
          budget: f.budget,
          mcPasses: f.mcPasses,
          aggregate: f.aggregate as Aggregate,
          score: f.task === "ner" ? entityF1Score(pool.labels) : undefined,
          log,
        },
        learnerFactory(f, pool, test, log),
      );
      if (f.out) {
        mkdirSync(f.out, { recursive: true });
        writeJsonAtomic(join(f.out, "curves.json"), { data: f.data, test: f.test, model: f.model, ...result });
        writeFileSync(join(f.out, "curves.svg"), curvesChart(result, `active learning on ${f.data}`));
      }
      process.stdout.write(f.json ? JSON.stringify(result) + "\n" : curvesTable(result));
    });

  const merge = active
    .command("merge")
    .description("one table and chart from simulate runs of one setting whose strategies ran separately");
  addOptions(merge, MERGE_SWITCHES)
    .addHelpText(
      "after",
      "\nExample:\n  graft active merge --curves runs/al-a/curves.json runs/al-b/curves.json --out runs/al\n",
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(MERGE_SWITCHES, command);
      const parts = f.curves.map((file) => {
        try {
          return JSON.parse(readFileSync(file, "utf8")) as SimulateResult;
        } catch (e) {
          throw new GraftError(`${file}: not a curves.json of graft active simulate (${(e as Error).message})`);
        }
      });
      const result = mergeSimulations(parts);
      if (f.out) {
        mkdirSync(f.out, { recursive: true });
        writeJsonAtomic(join(f.out, "curves.json"), result);
        writeFileSync(join(f.out, "curves.svg"), curvesChart(result, f.title));
      }
      process.stdout.write(f.json ? JSON.stringify(result) + "\n" : curvesTable(result));
    });

  const ann = active
    .command("annotate")
    .description("one round of labelling: read back the labelled batch, retrain, write the next batch (resumable)");
  addOptions(ann, ANNOTATE_SWITCHES)
    .addHelpText(
      "after",
      "\nExample:\n  graft active annotate --dir al-loop --model models/graft-base --pool unlabelled.csv --labels negative positive\n  (label the label column of al-loop/batch-001.csv, then run graft active annotate --dir al-loop again)\n",
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(ANNOTATE_SWITCHES, command);
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const r = await annotateRound({
        dir: f.dir,
        model: f.model,
        pool: f.pool,
        task: f.task as "classification" | "ner" | undefined,
        labels: f.labels,
        strategy: f.strategy === undefined ? undefined : checkStrategies([f.strategy])[0],
        batch: f.batch,
        seed: f.seed,
        format: f.batchFormat as "csv" | "jsonl" | undefined,
        read: readOptionsFrom(f),
        maxLength: f.maxLength,
        mcPasses: f.mcPasses,
        aggregate: f.aggregate as Aggregate,
        head: headOf(f),
        learner: f.learner as "head" | "finetune" | undefined,
        config: f.config ? (readConfigFile(f.config) as Partial<FinetuneConfig>) : undefined,
        log,
      });
      process.stdout.write(
        r.batchFile
          ? `round ${r.state.round + 1}: label ${r.batchSize} examples in ${r.batchFile}, then run graft active annotate --dir ${f.dir}\n`
          : `the pool is labelled (${r.state.labelled.length} examples in ${f.dir}/labelled.jsonl)\n`,
      );
    });

  const st = active
    .command("self-train")
    .description("self-training: accuracy with and without pseudo-labels from the unlabelled rest of the pool");
  addOptions(st, SELF_TRAIN_SWITCHES)
    .addHelpText(
      "after",
      "\nExample:\n  graft active self-train --model models/graft-base --data train.tsv --test dev.tsv --label-counts 100 500 --threshold 0.9\n",
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(SELF_TRAIN_SWITCHES, command);
      if ((f.threshold === undefined) === (f.topFraction === undefined))
        throw new GraftError("give one of --threshold and --top-fraction");
      const log = f.json ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
      const { pool, test } = await poolOf(f, log);
      const result = await selfTrain(
        { pool: pool.targets, test: test.targets },
        {
          labelCounts: f.labelCounts,
          seeds: f.seeds,
          rounds: f.rounds,
          rule: f.threshold !== undefined ? { threshold: f.threshold } : { topFraction: f.topFraction! },
          consistency: f.consistency,
          log,
        },
        learnerFactory(f, pool, test, log, f.consistency),
      );
      if (f.out) {
        mkdirSync(f.out, { recursive: true });
        writeJsonAtomic(join(f.out, "self-train.json"), { data: f.data, test: f.test, model: f.model, ...result });
      }
      process.stdout.write(f.json ? JSON.stringify(result) + "\n" : selfTrainTable(result));
    });
}
