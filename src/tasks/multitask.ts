/**
 * Multi-task fine-tuning: several task heads (classification, regression, NER, ... any non-generative kind) on one
 * shared encoder. Each task keeps its kind's TaskSpec for everything task-specific (reading and tokenizing its
 * files, the head, the loss, predictions and metrics); this file only builds one model per task whose backbone
 * modules (embeddings and layers, not the pooler) are the same objects, picks which task each step trains
 * (round-robin, proportional to the training-set sizes, or temperature-scaled: p_i ∝ n_i^(1/T)), and saves the
 * result as one directory:
 *
 *   DIR/config.json, model.safetensors, tokenizer files   the shared encoder (the base model's names and config)
 *   DIR/heads/<name>.safetensors                           each task's own weights (pooler + classifier)
 *   DIR/multitask.json                                      the manifest: per task its kind, labels, lengths, head file
 *
 * `loadMultitaskTask(DIR, name)` rebuilds one task's model (the kind's Auto class over the encoder, plus its head);
 * the Predictor, `graft predict --task` and `graft eval --task` load through it.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ArgumentError, DataError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { mul, noGrad, type Tensor } from "../tensor/index.js";
import type { Module } from "../nn/index.js";
import { AdamW, LRScheduler, clipGradNorm, linearWarmupDecay, type ParamGroup } from "../optim/index.js";
import { resolveModelDir } from "../io/hub.js";
import { saveCheckpoint } from "../io/checkpoint.js";
import { loadSafetensors, saveSafetensors } from "../io/safetensors.js";
import { readConfig, writeConfig, type ClassificationModel, type ModelConfig } from "../models/index.js";
import { AutoTokenizer, type Tokenizer } from "../tokenizers/index.js";
import type { FinetuneOptions, ResolvedFinetuneConfig } from "./config.js";
import { resolveFinetuneConfig } from "./resolve.js";
import { padRows } from "./encode.js";
import { classifierForward } from "./evaluate.js";
import { buildModel } from "./finetune.js";
import { taskSpec } from "./registry.js";
import type { TaskInfo } from "./task-info.js";
import type { PredictContext, TaskData, TaskSettings, TaskSpec } from "./spec.js";

export const MULTITASK_FILE = "multitask.json";
export const TASK_SAMPLINGS = ["round-robin", "proportional", "temperature"] as const;
export type TaskSampling = (typeof TASK_SAMPLINGS)[number];

/** One task of a multi-task run: a name, a loss weight, and the finetune settings of its data (task kind, files, columns, maxLength, ...). */
export type MultitaskTask = { name: string; weight?: number } & FinetuneOptions & { data: string };

export interface MultitaskConfig {
  /** The pre-trained encoder shared by every task. */
  model: string;
  tasks: MultitaskTask[];
  /** The model directory written at the end. */
  output: string;
  /** Optimizer steps in all (each step trains one task on one batch). */
  steps: number;
  sampling?: TaskSampling;
  /** T of temperature sampling (1: proportional; large: uniform). */
  temperature?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  warmupRatio?: number;
  maxGradNorm?: number;
  seed?: number;
  /** Log the mean training loss of each task every this many steps (0: never). */
  logEvery?: number;
}

export interface MultitaskTaskResult {
  name: string;
  task: string;
  trainExamples: number;
  /** Steps this task was trained on. */
  steps: number;
  validation: Record<string, number>;
  test: Record<string, number>;
  testSplit: "test" | "validation";
}

export interface MultitaskResult {
  output: string;
  tasks: MultitaskTaskResult[];
  /** Probability of each task per step, in task order. */
  probabilities: number[];
  seconds: number;
}

export interface MultitaskManifestTask {
  name: string;
  /** The task's graft_task.json content (kind, labels, length limit, ...). */
  info: TaskInfo;
  /** Head weights, relative to the directory. */
  head: string;
}

export interface MultitaskManifest {
  format: "graft-multitask";
  version: 1;
  /** Module paths every task shares (e.g. bert.embeddings, bert.encoder). */
  shared: string[];
  tasks: MultitaskManifestTask[];
}

/** Probability that a step trains task i, from the training-set sizes. */
export function taskProbabilities(sizes: readonly number[], sampling: TaskSampling, temperature = 1): number[] {
  if (sizes.length === 0) throw new ArgumentError("multitask: no tasks");
  if (sizes.some((n) => !(n > 0)))
    throw new ArgumentError(`multitask: every task needs training examples, got sizes ${sizes.join(", ")}`);
  if (!(temperature > 0)) throw new ArgumentError(`multitask: temperature must be positive, got ${temperature}`);
  const raw =
    sampling === "round-robin"
      ? sizes.map(() => 1)
      : sampling === "proportional"
        ? [...sizes]
        : sizes.map((n) => Math.pow(n, 1 / temperature));
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((x) => x / sum);
}

/**
 * The task of each step, a pure function of the seed: round-robin cycles through the tasks in order; the other
 * samplings draw each step's task from taskProbabilities.
 */
export function taskSchedule(
  sizes: readonly number[],
  steps: number,
  opts: { sampling: TaskSampling; temperature?: number; seed?: number },
): Int32Array {
  const p = taskProbabilities(sizes, opts.sampling, opts.temperature);
  const out = new Int32Array(steps);
  if (opts.sampling === "round-robin") {
    for (let s = 0; s < steps; s++) out[s] = s % sizes.length;
    return out;
  }
  const rng = new Rng((opts.seed ?? 0) * 7919 + 17);
  for (let s = 0; s < steps; s++) {
    let u = rng.uniform();
    let i = 0;
    while (i < p.length - 1 && u >= p[i]!) u -= p[i++]!;
    out[s] = i;
  }
  return out;
}

/** Parameter paths of the model's backbone (embeddings, layers), excluding the pooler: two levels deep (bert.encoder). */
function sharedPaths(model: ClassificationModel): string[] {
  const paths = new Set<string>();
  for (const [name] of model.namedParameters()) {
    if (!model.isCoreWeight(name) || /(^|\.)pooler\./.test(name)) continue;
    const parts = name.split(".");
    paths.add(parts.slice(0, Math.min(2, parts.length - 1)).join("."));
  }
  return [...paths];
}

/** Makes `to`'s module (or module list) at `path` the very object `from` has there. */
function shareModule(from: Module, to: Module, path: string): void {
  const dot = path.lastIndexOf(".");
  const parentPath = dot < 0 ? "" : path.slice(0, dot);
  const field = path.slice(dot + 1);
  const find = (m: Module) =>
    m.namedModules().find(([p]) => p === parentPath)?.[1] as Record<string, unknown> | undefined;
  const a = find(from),
    b = find(to);
  if (!a || !b || !(field in a) || !(field in b))
    throw new ArgumentError(`multitask: the task models differ at ${path}; their encoders cannot be shared`);
  b[field] = a[field];
}

/** Weights of `model` under `names`, by name. */
function weightsOf(model: Module, keep: (name: string) => boolean): Map<string, Tensor> {
  return new Map([...model.stateDict()].filter(([n]) => keep(n)));
}

const underAny = (paths: readonly string[]) => (name: string) => paths.some((p) => name.startsWith(`${p}.`));

interface PreparedTask {
  name: string;
  weight: number;
  spec: TaskSpec;
  config: ResolvedFinetuneConfig;
  data: TaskData<unknown>;
  settings: TaskSettings;
  model: ClassificationModel;
}

function checkTasks(tasks: unknown): asserts tasks is MultitaskTask[] {
  if (!Array.isArray(tasks) || tasks.length === 0)
    throw new ArgumentError('multitask: "tasks" must be a non-empty list of { name, task, data, ... }');
  const seen = new Set<string>();
  tasks.forEach((t, i) => {
    const at = `tasks[${i}]`;
    if (typeof t !== "object" || t === null || Array.isArray(t))
      throw new ArgumentError(`multitask: ${at} must be an object`);
    const o = t as Record<string, unknown>;
    if (typeof o.name !== "string" || !/^[A-Za-z0-9_-]+$/.test(o.name))
      throw new ArgumentError(
        `multitask: ${at}.name must be a name of letters, digits, _ and -, got ${JSON.stringify(o.name)}`,
      );
    if (seen.has(o.name)) throw new ArgumentError(`multitask: ${at}.name "${o.name}" appears twice`);
    seen.add(o.name);
    if (typeof o.data !== "string")
      throw new ArgumentError(`multitask: ${at} (${o.name}) needs "data", its training file`);
    if (o.weight !== undefined && !(typeof o.weight === "number" && o.weight > 0))
      throw new ArgumentError(`multitask: ${at}.weight must be a positive number, got ${JSON.stringify(o.weight)}`);
    for (const k of ["model", "output", "training", "lora", "freeze", "gradualUnfreezing", "layerDecay"])
      if (k in o)
        throw new ArgumentError(
          `multitask: ${at}.${k} is a setting of the whole run, not of one task`,
          "give model/output/steps/lr/batchSize at the top level of the multitask config",
        );
  });
}

/** Trains the tasks together on one encoder, evaluates each on its validation and test split, saves the directory. */
export async function multitaskFinetune(
  config: MultitaskConfig,
  hooks: { log?: (line: string) => void } = {},
): Promise<MultitaskResult> {
  const log = hooks.log ?? (() => {});
  const started = Date.now();
  checkTasks(config.tasks);
  const sampling = config.sampling ?? "temperature";
  if (!TASK_SAMPLINGS.includes(sampling))
    throw new ArgumentError(
      `multitask: sampling must be one of ${TASK_SAMPLINGS.join(", ")}, got ${JSON.stringify(sampling)}`,
    );
  const steps = config.steps;
  if (!Number.isInteger(steps) || steps < 1)
    throw new ArgumentError(`multitask: steps must be a positive integer, got ${steps}`);
  const batchSize = config.batchSize ?? 16;
  const lr = config.lr ?? 5e-5;
  const seed = config.seed ?? 42;
  const temperature = config.temperature ?? 2;
  const maxGradNorm = config.maxGradNorm ?? 1;
  const logEvery = config.logEvery ?? 50;
  const output = resolve(config.output);

  const modelDir = await resolveModelDir(config.model);
  const tok = await AutoTokenizer.fromPretrained(modelDir);
  const prepared: PreparedTask[] = [];
  for (const [i, t] of config.tasks.entries()) {
    const { name, weight, ...given } = t;
    const c = resolveFinetuneConfig({ ...given, model: config.model }, { source: `multitask tasks[${i}] (${name})` });
    const spec = taskSpec(c.task);
    if (spec.generative || spec.trainLoss)
      throw new ArgumentError(
        `multitask: task ${name} is of kind ${spec.name}, which has no head on the encoder`,
        "multi-task heads are classification, multilabel, regression or ner",
      );
    const data = (await spec.prepare({ config: c, tokenizer: tok, seed })) as TaskData<unknown>;
    // as finetune builds it: a checkpoint's head trained for other labels (another number of them too) starts fresh
    const notes: string[] = [];
    const { model } = buildModel(spec, c, modelDir, data.labels, tok, seed + i, data, { notes, log });
    for (const note of notes) log(`task ${name}: ${note}`);
    prepared.push({ name, weight: weight ?? 1, spec, config: c, data, settings: spec.settings(c, data), model });
    log(`task ${name} (${spec.name}): ${data.train.rows.length} training examples, ${data.labels.length} outputs`);
  }

  // one encoder: every task's backbone modules become the first task's
  const first = prepared[0]!.model;
  const shared = sharedPaths(first);
  for (const p of prepared.slice(1)) {
    const mine = sharedPaths(p.model);
    if (mine.join() !== shared.join())
      throw new ArgumentError(
        `multitask: task ${p.name}'s model has backbone ${mine.join(", ")}, not ${shared.join(", ")}`,
      );
    for (const path of shared) shareModule(first, p.model, path);
  }

  // each parameter once: weight decay on matrices only
  const seen = new Set<Tensor>();
  const decay: Tensor[] = [],
    noDecay: Tensor[] = [];
  for (const p of prepared)
    for (const [, w] of p.model.namedParameters()) {
      if (seen.has(w)) continue;
      seen.add(w);
      (w.rank < 2 ? noDecay : decay).push(w);
    }
  const groups: ParamGroup[] = [
    { params: decay, lr, initialLr: lr, weightDecay: config.weightDecay ?? 0.01, name: "decay" },
    { params: noDecay, lr, initialLr: lr, weightDecay: 0, name: "no_decay" },
  ];
  const optimizer = new AdamW(groups, { lr });
  const scheduler = new LRScheduler(
    optimizer,
    linearWarmupDecay({ warmupSteps: Math.round((config.warmupRatio ?? 0.1) * steps), totalSteps: steps }),
  );
  const params = [...seen];

  const sizes = prepared.map((p) => p.data.train.rows.length);
  const probabilities = taskProbabilities(sizes, sampling, temperature);
  const schedule = taskSchedule(sizes, steps, { sampling, temperature, seed });
  log(
    `${steps} steps, ${sampling} sampling: ${prepared.map((p, i) => `${p.name} ${(100 * probabilities[i]!).toFixed(1)}%`).join(", ")}`,
  );
  const padId = tok.padTokenId ?? (first.config.pad_token_id as number | null) ?? 0;
  const forward = classifierForward(first.config.model_type);
  // each task walks its own shuffled order, epoch after epoch
  const orders = prepared.map((_, i) => ({
    rng: new Rng(seed * 31 + i),
    perm: new Int32Array(0) as Int32Array,
    at: 0,
  }));
  const nextBatch = (i: number): Int32Array => {
    const o = orders[i]!;
    const n = sizes[i]!;
    const idx = new Int32Array(Math.min(batchSize, n));
    for (let k = 0; k < idx.length; k++) {
      if (o.at >= o.perm.length) {
        o.perm = o.rng.permutation(n);
        o.at = 0;
      }
      idx[k] = o.perm[o.at++]!;
    }
    return idx;
  };
  const stepsPerTask = new Array<number>(prepared.length).fill(0);
  const lossSum = new Array<number>(prepared.length).fill(0);
  const lossCount = new Array<number>(prepared.length).fill(0);
  for (let s = 0; s < steps; s++) {
    const i = schedule[s]!;
    const p = prepared[i]!;
    const idx = nextBatch(i);
    const batch = padRows(p.data.train.rows, idx, padId);
    const targets = Array.from(idx, (j) => p.data.train.targets[j]);
    p.model.train();
    const loss = p.spec.loss(forward(p.model, batch), batch, targets, p.settings);
    const value = loss.item();
    if (!Number.isFinite(value))
      throw new DataError(`multitask: the loss of task ${p.name} is ${value} at step ${s + 1}`);
    optimizer.zeroGrad();
    (p.weight === 1 ? loss : mul(loss, p.weight)).backward();
    if (maxGradNorm > 0) clipGradNorm(params, maxGradNorm);
    optimizer.step();
    scheduler.step();
    stepsPerTask[i]!++;
    lossSum[i]! += value;
    lossCount[i]!++;
    if (logEvery > 0 && ((s + 1) % logEvery === 0 || s + 1 === steps)) {
      log(
        `step ${s + 1}/${steps}  loss ${prepared
          .map((q, j) => `${q.name} ${lossCount[j] ? (lossSum[j]! / lossCount[j]!).toFixed(4) : "-"}`)
          .join("  ")}`,
      );
      lossSum.fill(0);
      lossCount.fill(0);
    }
  }

  // per-task metrics on validation and test
  const results: MultitaskTaskResult[] = prepared.map((p, i) => {
    p.model.eval();
    const ctx: PredictContext = {
      model: p.model,
      forward,
      batchSize: batchSize * 2,
      padId,
      labels: p.data.labels,
      settings: p.settings,
      tokenizer: tok,
    };
    const run = (split: TaskData<unknown>["validation"]) =>
      noGrad(() => p.spec.metrics(p.spec.predict(ctx, split.rows, split.targets), p.data.labels));
    const validation = run(p.data.validation);
    const test = p.data.testSplit === "validation" ? validation : run(p.data.test);
    log(
      `${p.name} ${p.data.testSplit}: ${Object.entries(test)
        .map(([k, v]) => `${k} ${v.toFixed(4)}`)
        .join("  ")}`,
    );
    return {
      name: p.name,
      task: p.spec.name,
      trainExamples: sizes[i]!,
      steps: stepsPerTask[i]!,
      validation,
      test,
      testSplit: p.data.testSplit,
    };
  });

  saveMultitask(output, prepared, shared, tok, readConfig(modelDir));
  const result: MultitaskResult = { output, tasks: results, probabilities, seconds: (Date.now() - started) / 1000 };
  writeJsonAtomic(join(output, "multitask_results.json"), {
    config: { ...config, sampling, temperature, steps },
    ...result,
  });
  return result;
}

function saveMultitask(
  dir: string,
  tasks: PreparedTask[],
  shared: string[],
  tok: Tokenizer,
  baseConfig: ModelConfig,
): void {
  mkdirSync(join(dir, "heads"), { recursive: true });
  const isShared = underAny(shared);
  writeConfig(dir, baseConfig);
  saveCheckpoint(dir, weightsOf(tasks[0]!.model, isShared));
  tok.save(dir);
  const manifest: MultitaskManifest = { format: "graft-multitask", version: 1, shared, tasks: [] };
  for (const t of tasks) {
    const head = `heads/${t.name}.safetensors`;
    saveSafetensors(
      join(dir, head),
      weightsOf(t.model, (n) => !isShared(n)),
    );
    manifest.tasks.push({
      name: t.name,
      head,
      info: {
        task: t.spec.name,
        labels: t.data.labels,
        maxLength: t.config.maxLength,
        labelSeparator: t.config.labelSeparator,
        threshold: null,
        ...t.spec.taskInfo?.(t.config),
      },
    });
  }
  writeJsonAtomic(join(dir, MULTITASK_FILE), manifest);
}

/** Whether `dir` holds a multi-task model. */
export function isMultitaskDir(dir: string): boolean {
  return existsSync(join(dir, MULTITASK_FILE));
}

/** The manifest of a multi-task model directory, checked. */
export function readMultitaskManifest(dir: string): MultitaskManifest {
  const path = join(dir, MULTITASK_FILE);
  let m: MultitaskManifest;
  try {
    m = JSON.parse(readFileSync(path, "utf8")) as MultitaskManifest;
  } catch (e) {
    throw new DataError(`${path}: ${(e as Error).message}`);
  }
  if (m.format !== "graft-multitask" || !Array.isArray(m.tasks) || !Array.isArray(m.shared))
    throw new DataError(`${path} is not a graft multi-task manifest (format, shared, tasks)`);
  return m;
}

/** The task names of a multi-task model directory. */
export function multitaskTaskNames(dir: string): string[] {
  return readMultitaskManifest(dir).tasks.map((t) => t.name);
}

/**
 * One task's model from a multi-task directory: the kind's Auto class over the shared encoder, with the task's
 * head loaded. An unknown task name is an error listing the known ones.
 */
export function loadMultitaskTask(
  dir: string,
  name: string | undefined,
  opts: { allowNonFinite?: boolean; what?: string } = {},
): { model: ClassificationModel; info: TaskInfo; spec: TaskSpec } {
  const manifest = readMultitaskManifest(dir);
  const names = manifest.tasks.map((t) => t.name);
  const what = opts.what ?? "--task NAME";
  if (!name)
    throw new ArgumentError(`${dir} is a multi-task model: say which task (${what}); its tasks: ${names.join(", ")}`);
  const entry = manifest.tasks.find((t) => t.name === name);
  if (!entry) throw new ArgumentError(`${dir} has no task "${name}"; its tasks: ${names.join(", ")}`);
  const spec = taskSpec(entry.info.task);
  const model = spec.auto.fromPretrainedDir(dir, {
    ...spec.headOptions(entry.info.labels),
    allowNonFinite: opts.allowNonFinite,
  });
  const head = loadSafetensors(join(dir, entry.head), { checkFinite: !opts.allowNonFinite });
  const r = model.loadStateDict(head, { strict: false });
  const isShared = underAny(manifest.shared);
  const missing = r.missingKeys.filter((n) => !isShared(n));
  if (r.unexpectedKeys.length || missing.length)
    throw new DataError(
      `${join(dir, entry.head)} does not fit task ${name}'s ${model.architecture}` +
        (missing.length ? `; missing ${missing.join(", ")}` : "") +
        (r.unexpectedKeys.length ? `; unexpected ${r.unexpectedKeys.join(", ")}` : ""),
    );
  model.eval();
  return { model, info: entry.info, spec };
}
