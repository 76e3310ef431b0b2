/**
 * `graft finetune`: adapt a pre-trained model to a task from a data file (see tasks/finetune.ts for the recipe).
 * Flags and --config (JSON/YAML in FinetuneConfig's shape) describe the same run; flags win; `--resume RUN_DIR`
 * continues an interrupted run from its last complete checkpoint with the configuration it was started with.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { bundled } from "./bundled.js";
import { readExamples, TextClassifier } from "../data/index.js";
import { accuracy, f1 } from "../metrics/classification/index.js";
import type { Command } from "commander";
import { GraftError } from "../util/errors.js";
import { RunDir } from "../train/index.js";
import { finetune, type FinetuneConfig, type FinetuneResult } from "../tasks/index.js";
import { definedOnly as defined, numberOption as num, readConfigFile } from "./config.js";
import { progressCallback } from "./progress.js";

interface Flags {
  config?: string;
  model?: string;
  data?: string;
  validation?: string;
  test?: string;
  task?: string;
  textColumn?: string;
  textPairColumn?: string;
  labelColumn?: string;
  labelSeparator?: string;
  onBadRow?: string;
  validationFraction?: string;
  testFraction?: string;
  maxLength?: string;
  output?: string;
  resume?: string;
  epochs?: string;
  maxSteps?: string;
  batchSize?: string;
  gradAccum?: string;
  lr?: string;
  weightDecay?: string;
  optimizer?: string;
  schedule?: string;
  warmupRatio?: string;
  maxGradNorm?: string;
  evalEvery?: string;
  saveEvery?: string;
  saveTotalLimit?: string;
  seed?: string;
  metric?: string;
  earlyStoppingPatience?: string;
  earlyStoppingMinDelta?: string;
  freezeBackbone?: boolean;
  freezeEmbeddings?: boolean;
  freezeLayers?: string;
  freeze?: string[];
  gradualUnfreezing?: boolean;
  layerDecay?: string;
  lora?: boolean;
  loraR?: string;
  loraAlpha?: string;
  loraDropout?: string;
  loraTargets?: string;
  classWeights?: string;
  sampler?: string;
  focalGamma?: string;
  labelSmoothing?: string;
  tuneThreshold?: boolean;
  dropout?: string;
  dedupe?: boolean;
  json?: boolean;
  quiet?: boolean;
}

function everyFlag(flag: string, v: string | undefined): number | "epoch" | "none" | undefined {
  if (v === undefined) return undefined;
  if (v === "epoch" || v === "none") return v;
  return num(flag, v, true);
}

/** The run configuration from --config and the flags (flags win). */
export function configFromFlags(f: Flags): Partial<FinetuneConfig> & { model: string; data: string } {
  const file = (f.config ? readConfigFile(f.config) : {}) as Partial<FinetuneConfig>;
  const training = {
    ...(file.training ?? {}),
    ...defined({
      epochs: num("epochs", f.epochs, true),
      maxSteps: num("max-steps", f.maxSteps, true),
      batchSize: num("batch-size", f.batchSize, true),
      gradAccumSteps: num("grad-accum", f.gradAccum, true),
      lr: num("lr", f.lr),
      weightDecay: num("weight-decay", f.weightDecay),
      optimizer: f.optimizer as never,
      schedule: f.schedule as never,
      warmupRatio: num("warmup-ratio", f.warmupRatio),
      maxGradNorm: num("max-grad-norm", f.maxGradNorm),
      evalEvery: everyFlag("eval-every", f.evalEvery) as never,
      saveEvery: everyFlag("save-every", f.saveEvery) as never,
      saveTotalLimit: num("save-total-limit", f.saveTotalLimit, true),
      seed: num("seed", f.seed, true),
      metricForBest: f.metric,
      earlyStoppingPatience: num("early-stopping-patience", f.earlyStoppingPatience, true),
      earlyStoppingMinDelta: num("early-stopping-min-delta", f.earlyStoppingMinDelta),
    }),
  };
  const freeze = {
    ...(file.freeze ?? {}),
    ...defined({
      backbone: f.freezeBackbone,
      embeddings: f.freezeEmbeddings,
      firstLayers: num("freeze-layers", f.freezeLayers, true),
      patterns: f.freeze,
    }),
  };
  const loraFlags = defined({
    r: num("lora-r", f.loraR, true),
    alpha: num("lora-alpha", f.loraAlpha),
    dropout: num("lora-dropout", f.loraDropout),
    targetModules: f.loraTargets?.split(",").map((s) => s.trim()),
  });
  const lora =
    f.lora || file.lora || Object.keys(loraFlags).length ? { ...(file.lora ?? {}), ...loraFlags } : file.lora;
  let classWeights: FinetuneConfig["classWeights"] | undefined;
  if (f.classWeights !== undefined)
    classWeights = f.classWeights === "auto" ? "auto" : f.classWeights.split(",").map((s) => num("class-weights", s)!);
  const merged = {
    ...file,
    ...defined({
      task: f.task as never,
      model: f.model,
      data: f.data,
      validation: f.validation,
      test: f.test,
      textColumn: f.textColumn,
      textPairColumn: f.textPairColumn,
      labelColumn: f.labelColumn,
      labelSeparator: f.labelSeparator,
      onBadRow: f.onBadRow as never,
      validationFraction: num("validation-fraction", f.validationFraction),
      testFraction: num("test-fraction", f.testFraction),
      maxLength: num("max-length", f.maxLength, true),
      output: f.output,
      gradualUnfreezing: f.gradualUnfreezing,
      layerDecay: num("layer-decay", f.layerDecay),
      classWeights,
      sampler: f.sampler as never,
      focalGamma: num("focal-gamma", f.focalGamma),
      labelSmoothing: num("label-smoothing", f.labelSmoothing),
      tuneThreshold: f.tuneThreshold,
      dropout: num("dropout", f.dropout),
      dedupe: f.dedupe,
    }),
    training,
    freeze,
    lora: (lora ?? null) as FinetuneConfig["lora"],
  };
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
  return merged as Partial<FinetuneConfig> & { model: string; data: string };
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
  for (const n of r.notes) lines.push(`note: ${n}`);
  lines.push(`run:    ${r.runDir}`, `model:  ${r.bestDir}`);
  if (r.report) lines.push(`report: ${r.report}`);
  return lines.join("\n");
}

async function baselineScores(
  trainFile: string,
  testFile: string,
  labels: readonly string[],
): Promise<{ accuracy: number; f1_macro: number }> {
  const train = (await readExamples(trainFile)).examples;
  const test = (await readExamples(testFile)).examples;
  const clf = TextClassifier.fit(
    train.map((e) => e.text),
    train.map((e) => String(e.label)),
    { model: "logreg" },
  );
  const pred = clf.predict(test.map((e) => e.text)).map((p) => p.label);
  const gold = test.map((e) => String(e.label));
  return {
    accuracy: accuracy(gold, pred),
    f1_macro: f1(gold, pred, { average: "macro", labels: [...labels], zeroDivision: 0 }) as number,
  };
}

export function register(program: Command): void {
  program
    .command("finetune")
    .description(
      "fine-tune a pre-trained model on a labelled file (classification, pairs, multi-label, regression, NER)",
    )
    .option("--config <file>", "run configuration (JSON or YAML, FinetuneConfig's fields); flags override it")
    .option("--model <dir|id>", "pre-trained model directory or hub id (default: the bundled models/graft-base)")
    .option(
      "--data <file>",
      "training file (CSV/TSV/JSONL; CoNLL for --task ner); without it, the bundled SMS spam sample",
    )
    .option("--validation <file>", "validation file (default: a seeded stratified part of --data)")
    .option("--test <file>", "test file scored with the best model (default: the validation split)")
    .option("--task <task>", "classification | multilabel | regression | ner")
    .option("--text-column <name>", "text column (default: text, sentence, ...)")
    .option("--text-pair-column <name>", "second text of a sentence-pair task")
    .option("--label-column <name>", "label column (default: label, class, ...)")
    .option("--label-separator <sep>", "separator of several labels in one field (multilabel)")
    .option("--on-bad-row <policy>", "fail (default) or skip, reporting every skipped row")
    .option("--validation-fraction <f>", "part of --data held out for validation when no file is given (0.1)")
    .option("--test-fraction <f>", "part of --data held out for testing when no file is given (0)")
    .option("--max-length <n>", "tokens per example, special tokens included (128)")
    .option("--output <dir>", "run directory (default: runs/finetune-<time>)")
    .option("--resume <runDir>", "continue an interrupted run from its last complete checkpoint")
    .option("--epochs <n>", "passes over the training data (3)")
    .option("--max-steps <n>", "stop after this many optimizer steps")
    .option("--batch-size <n>", "examples per step (16)")
    .option("--grad-accum <n>", "micro-batches per optimizer step (1)")
    .option("--lr <x>", "peak learning rate (5e-5)")
    .option("--weight-decay <x>", "AdamW weight decay on matrices (0.01)")
    .option("--optimizer <name>", "adamw | adam | sgd")
    .option("--schedule <name>", "linear | cosine | constant | slanted_triangular | one_cycle")
    .option("--warmup-ratio <f>", "warmup as a fraction of all steps (0.1)")
    .option("--max-grad-norm <x>", "clip the gradient norm (1.0; 0 = off)")
    .option("--eval-every <n|epoch>", "evaluate every N steps or each epoch")
    .option("--save-every <n|epoch|none>", "checkpoint every N steps, each epoch, or never")
    .option("--save-total-limit <n>", "checkpoints kept (2)")
    .option("--seed <n>", "seed for the head, dropout and data order (42)")
    .option("--metric <name>", "validation metric that picks the best model (f1_macro, f1, loss, ...)")
    .option("--early-stopping-patience <n>", "stop after N evaluations without improvement")
    .option("--early-stopping-min-delta <x>", "least change that counts as improvement")
    .option("--freeze-backbone", "train only the head (linear probing)")
    .option("--freeze-embeddings", "freeze the embeddings")
    .option("--freeze-layers <n>", "freeze the embeddings and the first N layers")
    .option("--freeze <pattern...>", "freeze parameters matching these name patterns (* and **)")
    .option("--gradual-unfreezing", "ULMFiT: the head first, then one more layer from the top each epoch")
    .option("--layer-decay <f>", "layer-wise learning-rate decay factor (1 = off)")
    .option("--lora", "train LoRA adapters instead of all weights")
    .option("--lora-r <n>", "LoRA rank (8)")
    .option("--lora-alpha <x>", "LoRA alpha (16)")
    .option("--lora-dropout <x>", "LoRA dropout (0.1)")
    .option("--lora-targets <names>", "comma-separated module names to adapt (query,value)")
    .option("--class-weights <auto|w,...>", "class weights for the loss: auto (balanced) or one per label")
    .option("--sampler <name>", "random (default) or weighted (oversample rare classes)")
    .option("--focal-gamma <x>", "focal loss γ (0 = cross-entropy)")
    .option("--label-smoothing <x>", "label smoothing ε")
    .option("--tune-threshold", "binary: choose the decision threshold maximizing validation F1")
    .option("--dropout <x>", "override the model's dropout")
    .option("--dedupe", "drop duplicate texts from the training file")
    .option("--json", "print the result as JSON")
    .option("--quiet", "no progress output")
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
    .action(async (f: Flags) => {
      let config: Partial<FinetuneConfig> & { model: string; data: string };
      if (f.resume) {
        const run = new RunDir(f.resume).readRunConfig<{ finetune?: FinetuneConfig }>();
        if (!run.finetune) throw new GraftError(`${join(f.resume, "run.json")} is not a finetune run`);
        config = { ...run.finetune, output: f.resume };
      } else config = configFromFlags(f);
      const log = (line: string) => {
        if (!f.quiet && !f.json) process.stderr.write(`${line}\n`);
      };
      const quickstart = config.data === bundled.train();
      if (quickstart) log(`quick start: fine-tuning ${config.model} on the bundled SMS spam sample (${config.data})`);
      const result = await finetune(config, {
        log,
        resume: Boolean(f.resume),
        callbacks: f.json || f.quiet ? [] : [progressCallback()],
      });
      // what transfer learning is measured against: the classical baseline on the same split
      const baseline =
        quickstart && !result.train.interrupted ? await baselineScores(config.data, config.test!, result.labels) : null;
      if (f.json) process.stdout.write(JSON.stringify(baseline ? { ...result, baseline } : result, null, 2) + "\n");
      else {
        process.stdout.write(formatResult(result) + "\n");
        if (baseline)
          process.stdout.write(
            `baseline (TF-IDF + logistic regression, same split): accuracy ${baseline.accuracy.toFixed(4)}  f1_macro ${baseline.f1_macro.toFixed(4)}\n`,
          );
      }
      if (result.train.interrupted) process.exitCode = 130;
    });
}
