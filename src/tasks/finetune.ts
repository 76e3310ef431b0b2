/**
 * The fine-tuning run, the same for every task kind: data file → tokenizer → pre-trained model with the kind's head
 * → adaptation (freezing, gradual unfreezing, layer-wise learning rates, LoRA) → Trainer → the best model evaluated
 * on the test split. What differs between kinds (reading the data, the head, loss, predictions, metrics) is the
 * kind's TaskSpec (tasks/spec.ts), looked up once in the registry. Everything a run did is in its directory:
 * run.json, data.json, metrics.jsonl, best/ (a model directory that transformers can load, plus graft_task.json),
 * predictions.jsonl, summary.json and report.html.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ArgumentError } from "../util/errors.js";
import { Rng, manualSeed } from "../util/rng.js";
import { writeJsonAtomic } from "../util/atomic.js";
import type { Tensor } from "../tensor/index.js";
import type { Module } from "../nn/index.js";
import { taskAdaptivePretrain } from "./tapt.js";
import { resolveModelDir } from "../io/hub.js";
import {
  describeLoadingInfo,
  dropoutOverrides,
  readConfig,
  writeConfig,
  savePretrained,
  type ClassificationModel,
  type ModelConfig,
} from "../models/index.js";
import { AutoTokenizer, type Tokenizer } from "../tokenizers/index.js";
import {
  world,
  Trainer,
  applyFreeze,
  checkResumeData,
  dataSources,
  gradualUnfreeze,
  injectLora,
  lengthGroupedOrder,
  loadLoraWeights,
  mergedStateDict,
  openNewRun,
  parameterGroups,
  saveLoraAdapter,
  type TrainSummary,
  type TrainerCallback,
  type TrainingArgs,
} from "../train/index.js";
import { saveCheckpoint } from "../io/checkpoint.js";
import { writeReport } from "../report/index.js";
import type { FinetuneConfig, ResolvedFinetuneConfig } from "./config.js";
import { MODEL_DEFAULTS_FILE, resolveWithModelDefaults } from "./resolve.js";
import { type EncodedRow, padRows, type PaddedBatch } from "./encode.js";
import { classifierForward } from "./evaluate.js";
import { taskSpec } from "./registry.js";
import { TASK_FILE, type TaskInfo } from "./task-info.js";
import type { PredictContext, TaskData, TaskSettings, TaskSpec } from "./spec.js";

export interface FinetuneResult {
  runDir: string;
  bestDir: string;
  /** The run's report.html (null when the run was interrupted). */
  report: string | null;
  train: TrainSummary;
  /** Metrics of the best model on the test split (or validation when there is none). */
  test: Record<string, number>;
  testSplit: "test" | "validation";
  validation: Record<string, number>;
  labels: string[];
  threshold: number | null;
  notes: string[];
  /**
   * The kind's classical baseline on the same split (classification: TF-IDF + logistic regression), what the
   * fine-tuned model is measured against; absent when the kind has none or the run turned it off.
   */
  baseline?: Record<string, number>;
}

export interface FinetuneHooks {
  callbacks?: TrainerCallback[];
  /** Messages about the model and data (loading report, skipped rows, ...). */
  log?: (line: string) => void;
  /** Continue the run in config.output from its last complete checkpoint (true) or from this checkpoint directory. */
  resume?: boolean | string;
  /** Load a pre-trained model whose weights hold NaN or Infinity (refused otherwise). */
  allowNonFinite?: boolean;
  /** A new run into a directory that already holds a run clears it first (without: such a directory is refused). */
  overwrite?: boolean;
  /** Resume even though the data files changed since the run started (without: refused). */
  allowDataChange?: boolean;
}

/** The task kind's spec and the resolved configuration and training arguments, once per run. */
export function resolveRun(config: Partial<FinetuneConfig> & { model: string; data: string }): {
  spec: TaskSpec;
  config: ResolvedFinetuneConfig;
  args: TrainingArgs;
  /** The settings the model's finetune_defaults.json filled (dotted keys). */
  filled: string[];
} {
  const { config: c, filled } = resolveWithModelDefaults(config);
  return { spec: taskSpec(c.task), config: c, args: c.training, filled };
}

/** Names of the head's parameters: not part of the backbone and not the pooler. */
function headParameterNames(model: ClassificationModel): string[] {
  return model
    .namedParameters()
    .map(([n]) => n)
    .filter((n) => !model.isCoreWeight(n) && !/(^|\.)pooler\./.test(n));
}

function sameLabels(config: ModelConfig, names: readonly string[]): boolean {
  const id2label = config.id2label as Record<string, string> | undefined;
  if (!id2label) return false;
  return names.length === Object.keys(id2label).length && names.every((n, i) => id2label[String(i)] === n);
}

/**
 * The checkpoint's backbone with the kind's head sized to our labels (a head trained for other labels, a different
 * number of them included, starts fresh); multitask.ts builds each task's model with it too.
 */
export function buildModel(
  spec: TaskSpec,
  c: ResolvedFinetuneConfig,
  modelDir: string,
  labels: string[],
  tok: Tokenizer,
  seed: number,
  data: TaskData<unknown>,
  out: { notes: string[]; log: (line: string) => void; allowNonFinite?: boolean },
): { model: ClassificationModel; head: string[] } {
  manualSeed(seed);
  const base = readConfig(modelDir);
  const dropoutOverride =
    c.dropout === null ? undefined : { hidden: c.dropout, attention: c.dropout, classifier: c.dropout };
  const model = spec.auto.fromPretrainedDir(modelDir, {
    ...spec.headOptions(labels, data),
    // a classifier tuned on another number of labels is a base too: its head weights, of another shape, start fresh
    // (a backbone weight of another shape is still an error: it would be missing, and missing backbone weights are)
    ignoreMismatchedSizes: true,
    ...(dropoutOverride ? { config: dropoutOverrides(base, dropoutOverride) } : {}),
    allowNonFinite: out.allowNonFinite,
  });
  for (const line of describeLoadingInfo(model.loadingInfo!, model.architecture, c.model)) out.log(line);
  const modelVocab = (model.config as { vocab_size?: number }).vocab_size;
  if (modelVocab !== undefined && tok.vocabSize > modelVocab) {
    throw new ArgumentError(
      `the tokenizer in ${modelDir} has ${tok.vocabSize} tokens but the model's vocabulary has ${modelVocab}`,
      "the tokenizer and the model must come from the same checkpoint",
    );
  }
  // a generative kind (sft) keeps the checkpoint's LM head: it has no labels to match
  const head = spec.generative ? [] : headParameterNames(model);
  const headLoaded = head.some((n) => !model.loadingInfo!.missingKeys.includes(n));
  const headReshaped = model.loadingInfo!.mismatchedKeys.some((m) => head.includes(m.name));
  if ((headLoaded || headReshaped) && !sameLabels(base, labels)) {
    // the checkpoint's head answers a different question: start a fresh one
    const prefixes = head.map((n) => n.slice(0, n.lastIndexOf(".")));
    model.initWeights(new Rng(seed), (m) => model.namedModules().some(([p, mm]) => mm === m && prefixes.includes(p)));
    out.notes.push(`the checkpoint's head (${head.join(", ")}) has other labels and was re-initialized`);
  } else if (headLoaded) out.notes.push("the checkpoint's head has the same labels and was kept");
  return { model, head };
}

/** What a run's lifecycle needs to know to clean up: a new run that fails before training leaves no directory. */
interface Lifecycle {
  discard?: () => void;
  started: boolean;
}

export async function finetune(
  config: Partial<FinetuneConfig> & { model: string; data: string },
  hooks: FinetuneHooks = {},
): Promise<FinetuneResult> {
  const life: Lifecycle = { started: false };
  try {
    return await runFinetune(config, hooks, life);
  } catch (e) {
    if (!life.started) life.discard?.();
    throw e;
  }
}

/** The configuration with its paths absolute, so run.json (and a resume from it) works from any directory. */
function absolutePaths(c: ResolvedFinetuneConfig, runDir: string): ResolvedFinetuneConfig {
  const abs = (p: string | undefined) => (p === undefined ? p : resolve(p));
  return {
    ...c,
    model: existsSync(c.model) ? resolve(c.model) : c.model,
    data: resolve(c.data),
    validation: abs(c.validation),
    test: abs(c.test),
    output: runDir,
  };
}

async function runFinetune(
  config: Partial<FinetuneConfig> & { model: string; data: string },
  hooks: FinetuneHooks,
  life: Lifecycle,
): Promise<FinetuneResult> {
  const resolved = resolveRun(config);
  const { spec, args, filled } = resolved;
  const log = hooks.log ?? (() => {});
  const notes: string[] = [];
  if (filled.length) {
    const value = (key: string) =>
      key.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], resolved.config);
    const line = `settings the model recommends (${MODEL_DEFAULTS_FILE}), not given: ${filled.map((k) => `${k} ${JSON.stringify(value(k))}`).join(", ")}`;
    log(line);
    notes.push(line);
  }
  const runDir = resolve(
    resolved.config.output ?? join("runs", `finetune-${new Date().toISOString().replace(/[:.]/g, "-")}`),
  );
  const c = absolutePaths(resolved.config, runDir);
  // data parallelism (mpirun): rank 0 opens the run directory and writes the run's files; the others train beside it
  const w = world();
  const follower = w !== null && w.rank !== 0;
  if (w && c.taptSteps > 0)
    throw new ArgumentError(
      "task-adaptive pre-training (--tapt-steps) does not run data-parallel",
      "pre-train first with mpirun ... graft pretrain --model ..., then fine-tune that model",
    );
  if (!hooks.resume && !follower)
    life.discard = openNewRun(runDir, { overwrite: hooks.overwrite, command: "graft finetune" }).discard;
  w?.mpi.barrier();

  let modelDir = await resolveModelDir(c.model);
  const tok = await AutoTokenizer.fromPretrained(modelDir);
  const data = await spec.prepare({ config: c, tokenizer: tok, seed: args.seed });
  if (c.taptSteps > 0) {
    // the same tokenizer is saved with the adapted model, so the prepared rows stay valid
    modelDir = await taskAdaptivePretrain({
      modelDir,
      runDir,
      inputs: data.train.inputs,
      steps: c.taptSteps,
      lr: c.taptLr,
      batchSize: args.batchSize,
      seed: args.seed,
      log,
    });
    notes.push(`task-adaptive pre-training: ${c.taptSteps} steps on the training texts, from ${c.model}`);
  }
  const { labels } = data;
  const dataFiles = dataSources(
    (
      [
        ["train", c.data],
        ["validation", c.validation],
        ["test", c.test],
      ] as const
    ).flatMap(([role, file]) =>
      file === undefined ? [] : (spec.dataFiles?.(file, c) ?? [file]).map((f) => ({ role, file: f })),
    ),
  );
  if (hooks.resume) checkResumeData(runDir, dataFiles, { allow: hooks.allowDataChange, log });
  if (!follower) writeJsonAtomic(join(runDir, "data.json"), data.summary);
  const warn = (w: string) => {
    notes.push(`warning: ${w}`);
    log(`warning: ${w}`);
  };
  for (const w of spec.dataWarnings?.(data) ?? []) warn(w);
  const { model, head } = buildModel(spec, c, modelDir, labels, tok, args.seed, data, {
    notes,
    log,
    allowNonFinite: hooks.allowNonFinite,
  });

  // adaptation
  const modulesToSave = [...new Set(head.map((n) => n.split(".")[0]))];
  if (c.lora) {
    const adapted = injectLora(model, { ...c.lora, modulesToSave }, new Rng(args.seed + 1));
    notes.push(
      `LoRA r=${c.lora.r} on ${adapted.length} layers; ${model.numParameters({ trainableOnly: true })} of ${model.numParameters()} parameters train`,
    );
  }
  const frozen = applyFreeze(model, c.freeze, head);
  if (frozen.length) notes.push(`frozen: ${frozen.length} parameter tensors`);
  const groups = parameterGroups(model, { lr: args.lr, weightDecay: args.weightDecay, layerDecay: c.layerDecay });

  // the kind's loss and evaluation over padded batches
  let settings: TaskSettings = spec.settings(c, data);
  if (c.groupByLength) {
    if (settings.order) throw new ArgumentError("--group-by-length cannot be combined with --sampler weighted");
    const length = spec.exampleLength ?? ((row: EncodedRow) => row.ids.length);
    const lengths = data.train.rows.map((row, i) => length(row, data.train.targets[i]));
    settings = { ...settings, order: lengthGroupedOrder(lengths, args.batchSize) };
  }
  if (c.tuneThreshold && !spec.tuneThreshold)
    throw new ArgumentError(`threshold tuning is not available for task ${spec.name}`);
  const padId = tok.padTokenId ?? (model.config.pad_token_id as number | null) ?? 0;
  const forward = classifierForward(model.config.model_type);
  const collate = (idx: Int32Array) => ({
    batch: padRows(data.train.rows, idx, padId),
    targets: Array.from(idx, (i) => data.train.targets[i]),
  });
  const loss = (m: Module, b: { batch: PaddedBatch; targets: unknown[] }): Tensor =>
    spec.trainLoss
      ? spec.trainLoss(m, b.batch, b.targets, settings)
      : spec.loss(forward(m, b.batch), b.batch, b.targets, settings);
  const context = (m: Module): PredictContext => ({
    model: m,
    forward,
    batchSize: args.batchSize * 2,
    padId,
    labels,
    settings,
    tokenizer: tok,
    info: taskInfo(null),
  });
  const evaluate = (m: Module) =>
    spec.metrics(spec.predict(context(m), data.validation.rows, data.validation.targets), labels);

  const taskInfo = (threshold: number | null): TaskInfo => ({
    task: c.task,
    labels,
    maxLength: c.maxLength,
    labelSeparator: c.labelSeparator,
    threshold,
    ...spec.taskInfo?.(c),
  });
  const saveModel = (m: Module, dir: string) => {
    const cm = m as ClassificationModel;
    if (c.lora) {
      // best/ holds the merged model (loads anywhere) and the adapter in PEFT's layout
      writeConfig(dir, { ...cm.config, architectures: [cm.architecture] } as ModelConfig);
      saveCheckpoint(dir, mergedStateDict(cm));
      saveLoraAdapter(
        cm,
        join(dir, "adapter"),
        { ...c.lora!, modulesToSave },
        { baseModel: c.model, taskType: spec.peftTaskType },
      );
    } else savePretrained(cm, dir);
    tok.save(dir);
    writeJsonAtomic(join(dir, TASK_FILE), taskInfo(null));
  };
  const loadModel = c.lora ? (m: Module, dir: string) => loadLoraWeights(m, join(dir, "adapter")) : undefined;
  const callbacks: TrainerCallback[] = [...(hooks.callbacks ?? [])];
  if (c.gradualUnfreezing) callbacks.unshift({ onEpochBegin: (t, epoch) => void gradualUnfreeze(t.model, epoch) });

  const trainer = new Trainer({
    model,
    trainSize: data.train.rows.length,
    collate,
    loss,
    evaluate,
    runDir,
    paramGroups: groups,
    callbacks,
    saveModel,
    loadModel,
    order: settings.order,
    args,
    runConfig: { finetune: c, labels, modelDir, dataFiles },
    log,
  });
  life.started = true;
  const summary = await trainer.train({ resume: hooks.resume, handleSigint: true });
  const bestDir = join(runDir, "best");
  // rank 0 alone evaluates the final model and writes predictions, summary and report
  if (summary.interrupted || follower) {
    return {
      runDir,
      bestDir,
      report: null,
      train: summary,
      test: {},
      testSplit: data.testSplit,
      validation: {},
      labels,
      threshold: null,
      notes: summary.interrupted ? [...notes, "interrupted: resume with --resume"] : notes,
    };
  }

  // the best model on validation (a tuned decision threshold) and on test
  let validationOut = spec.predict(context(model), data.validation.rows, data.validation.targets);
  let threshold: number | null = null;
  if (c.tuneThreshold && spec.tuneThreshold) {
    threshold = spec.tuneThreshold(validationOut, labels);
    notes.push(`decision threshold tuned on validation: ${threshold.toFixed(4)}`);
    settings = { ...settings, threshold };
    validationOut = spec.predict(context(model), data.validation.rows, data.validation.targets);
  }
  const validation = spec.metrics(validationOut, labels);
  // without test data the test split is the validation split again: its predictions are the ones just made
  const testOut =
    data.testSplit === "validation" ? validationOut : spec.predict(context(model), data.test.rows, data.test.targets);
  const test = spec.metrics(testOut, labels);
  if (spec.finalMetrics) {
    const extra = await spec.finalMetrics({ model, tokenizer: tok, config: c, data, batchSize: args.batchSize * 2 });
    Object.assign(test, extra.metrics);
    notes.push(...(extra.notes ?? []));
  }
  for (const w of spec.predictionWarnings?.(validationOut, labels, "validation") ?? []) warn(w);
  if (data.testSplit === "test") for (const w of spec.predictionWarnings?.(testOut, labels, "test") ?? []) warn(w);
  if (existsSync(bestDir)) writeJsonAtomic(join(bestDir, TASK_FILE), taskInfo(threshold));
  const baseline = c.baseline ? (spec.baseline?.(data) ?? null) : null;
  if (baseline)
    log(
      `baseline on ${data.testSplit}: ${Object.entries(baseline)
        .map(([k, v]) => `${k} ${v.toFixed(4)}`)
        .join("  ")}`,
    );
  const records = spec.predictionRecords(testOut, data.test.inputs, labels).map((r) => JSON.stringify(r));
  writeFileSync(join(runDir, "predictions.jsonl"), records.join("\n") + (records.length ? "\n" : ""));
  const result: FinetuneResult = {
    runDir,
    bestDir,
    report: join(runDir, "report.html"),
    train: summary,
    test,
    testSplit: data.testSplit,
    validation,
    labels,
    threshold,
    notes,
    ...(baseline ? { baseline } : {}),
  };
  writeJsonAtomic(join(runDir, "summary.json"), result);
  const report = writeReport(runDir, { sections: spec.reportSections?.(testOut, labels) ?? [] });
  for (const n of report.notes) log(`report: ${n}`);
  return result;
}
