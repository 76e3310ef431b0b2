/**
 * Knowledge distillation of a fine-tuned classifier (Hinton et al. 2015; DistilBERT's recipe, Sanh et al. 2019):
 * the student learns the teacher's temperature-softened distribution, KL(p_teacher^T ‖ p_student^T) · T², mixed
 * with the ordinary cross-entropy on the hard labels: loss = α · T² · KL + (1 − α) · CE. The student starts from
 * every other layer of the teacher (layers 0, 2, 4, ...; embeddings, pooler and head copied), or from a given
 * pre-trained model with the same tokenizer. The teacher's logits on the training set are computed once, before
 * training; training is the ordinary Trainer run (checkpoints, best/, metrics.jsonl) in the output directory, and
 * the result reports the student's and the teacher's test metrics, the metric kept, and the inference speed-up.
 */
import { join } from "node:path";
import { ArgumentError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { Tensor, crossEntropy, logSoftmax, mul, noGrad, softmax, sub, sum, add } from "../tensor/index.js";
import type { Module } from "../nn/index.js";
import {
  AutoModelForSequenceClassification,
  savePretrained,
  type ClassificationModel,
  type ModelConfig,
} from "../models/index.js";
import { loadTokenizer } from "../tokenizers/index.js";
import { Trainer, openNewRun, parameterGroups, type TrainSummary } from "../train/index.js";
import {
  TASK_FILE,
  classifierForward,
  forEachBatch,
  loadFinetuned,
  padRows,
  resolveFinetuneConfig,
  type EncodedRow,
  type FinetuneConfig,
  type PaddedBatch,
  type PredictContext,
  type SavedModel,
} from "../tasks/index.js";
import { runModelDir } from "./soup.js";

export interface DistillOptions {
  /** The teacher: a fine-tuned classifier (a run directory or its best/). */
  teacher: string;
  /** Labelled training file (and optionally validation/test files), read as `graft finetune` reads them. */
  data: string;
  validation?: string;
  test?: string;
  /** The run directory of the student. */
  output: string;
  /** A pre-trained student (same tokenizer as the teacher); default: every other layer of the teacher. */
  student?: string;
  /** Softmax temperature T of both distributions (default 2). */
  temperature?: number;
  /** Weight α of the soft (KL) loss; 1 − α weighs the hard-label loss (default 0.5). */
  alpha?: number;
  /** Other settings of the run, as `graft finetune` takes them (training.epochs, training.lr, columns, ...). */
  config?: Partial<FinetuneConfig>;
  overwrite?: boolean;
  log?: (line: string) => void;
}

export interface DistillResult {
  runDir: string;
  bestDir: string;
  train: TrainSummary;
  labels: string[];
  teacherLayers: number;
  studentLayers: number;
  teacherParameters: number;
  studentParameters: number;
  /** Metrics on the test split (validation when there is none). */
  teacher: Record<string, number>;
  student: Record<string, number>;
  testSplit: "test" | "validation";
  /** The student's share of the teacher's metric (student / teacher) per metric, loss excluded. */
  kept: Record<string, number>;
  /** Inference over the test split: examples per second of each, and teacher time / student time. */
  teacherExamplesPerSecond: number;
  studentExamplesPerSecond: number;
  speedup: number;
  /** Mean KL(teacher ‖ student) at temperature T on the training inputs, before and after training. */
  trainKlStart: number;
  trainKlEnd: number;
}

const LAYER_KEYS = ["num_hidden_layers", "n_layers", "n_layer"] as const;

/** The config field holding the layer count, and its value. */
function layerCount(config: ModelConfig): { key: string; layers: number } {
  for (const key of LAYER_KEYS) {
    const v = (config as Record<string, unknown>)[key];
    if (typeof v === "number") return { key, layers: v };
  }
  throw new ArgumentError(`a ${config.model_type} config names no layer count (${LAYER_KEYS.join(", ")})`);
}

const LAYER_RE = /(^|\.)(layer|layers|h)\.(\d+)\./;

/**
 * DistilBERT's initialization: a classifier with ⌈L/2⌉ layers whose layer i is the teacher's layer 2i, and every
 * other weight (embeddings, pooler, head) the teacher's.
 */
export function everyOtherLayer(teacher: ClassificationModel): ClassificationModel {
  const { key, layers } = layerCount(teacher.config);
  if (layers < 2) throw new ArgumentError(`the teacher has ${layers} layer(s); every other layer needs at least 2`);
  const config = { ...teacher.config, [key]: Math.ceil(layers / 2) } as ModelConfig;
  if (key !== "num_hidden_layers" && "num_hidden_layers" in config)
    (config as Record<string, unknown>).num_hidden_layers = Math.ceil(layers / 2);
  const student = AutoModelForSequenceClassification.fromConfig(config);
  const weights = new Map<string, Tensor>();
  for (const [name, t] of teacher.stateDict()) {
    const m = LAYER_RE.exec(name);
    if (!m) weights.set(name, t);
    else if (Number(m[3]) % 2 === 0) weights.set(name.replace(LAYER_RE, `${m[1]}${m[2]}.${Number(m[3]) / 2}.`), t);
  }
  student.loadStateDict(weights);
  return student;
}

/** Mean KL(softmax(t/T) ‖ softmax(s/T)) over rows, differentiable in s; t is a constant. */
export function distillKl(student: Tensor, teacher: Tensor, temperature: number): Tensor {
  const pt = softmax(mul(teacher, 1 / temperature));
  const logPt = logSoftmax(mul(teacher, 1 / temperature));
  const logPs = logSoftmax(mul(student, 1 / temperature));
  return mul(sum(mul(pt, sub(logPt, logPs))), 1 / student.shape[0]);
}

/** The distillation loss: α · T² · KL + (1 − α) · cross-entropy on the hard labels. */
export function distillLoss(
  student: Tensor,
  teacher: Tensor,
  targets: Tensor,
  opts: { temperature: number; alpha: number },
): Tensor {
  const { temperature: T, alpha } = opts;
  const soft = alpha > 0 ? mul(distillKl(student, teacher, T), alpha * T * T) : null;
  const hard = alpha < 1 ? mul(crossEntropy(student, targets), 1 - alpha) : null;
  return soft && hard ? add(soft, hard) : (soft ?? hard)!;
}

function logitsOf(ctx: PredictContext, rows: readonly EncodedRow[]): number[][] {
  const out: number[][] = [];
  forEachBatch(ctx, rows, (b) => out.push(...b.logits.toRows()));
  return out;
}

/** Distills the teacher into a student (see the file's header). */
export async function distill(opts: DistillOptions): Promise<DistillResult> {
  const log = opts.log ?? (() => {});
  const T = opts.temperature ?? 2;
  const alpha = opts.alpha ?? 0.5;
  if (!(T > 0)) throw new ArgumentError(`--temperature must be > 0, got ${T}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentError(`--alpha must be in [0, 1], got ${alpha}`);
  const teacherDir = runModelDir(opts.teacher);
  const teacher: SavedModel = await loadFinetuned(teacherDir);
  if (teacher.info.task !== "classification")
    throw new ArgumentError(`${opts.teacher} is a ${teacher.info.task} model; distill takes a single-label classifier`);
  const c = resolveFinetuneConfig({
    maxLength: teacher.info.maxLength,
    ...(opts.config ?? {}),
    task: "classification",
    model: teacherDir,
    data: opts.data,
    ...(opts.validation ? { validation: opts.validation } : {}),
    ...(opts.test ? { test: opts.test } : {}),
  });
  const args = c.training;
  const data = await teacher.spec.prepare({ config: c, tokenizer: teacher.tokenizer, seed: args.seed });
  if (JSON.stringify(data.labels) !== JSON.stringify(teacher.info.labels))
    throw new ArgumentError(
      `${opts.data} has the labels ${JSON.stringify(data.labels)}, the teacher ${JSON.stringify(teacher.info.labels)}`,
      "distil on data of the teacher's labels",
    );
  const labels = data.labels;

  let student: ClassificationModel;
  if (opts.student) {
    const same = JSON.stringify(loadTokenizer(opts.student).toJSON()) === JSON.stringify(teacher.tokenizer.toJSON());
    if (!same)
      throw new ArgumentError(
        `the student ${opts.student} has another tokenizer than the teacher`,
        "a student needs the teacher's tokenizer (or leave out --student for every other teacher layer)",
      );
    student = AutoModelForSequenceClassification.fromPretrainedDir(opts.student, teacher.spec.headOptions(labels));
  } else student = everyOtherLayer(teacher.model);
  const teacherLayers = layerCount(teacher.model.config).layers;
  const studentLayers = layerCount(student.config).layers;
  log(
    `teacher: ${teacherLayers} layers, ${teacher.model.numParameters()} parameters; student: ${studentLayers} layers, ${student.numParameters()} parameters`,
  );

  const runDir = openNewRun(opts.output, { overwrite: opts.overwrite, command: "graft distill" }).path;
  const settings = { weights: null, labelSmoothing: 0, focalGamma: 0, threshold: null };
  const studentForward = classifierForward(student.config.model_type);
  const ctx = (
    model: Module,
    forward = model === teacher.model ? teacher.forward : studentForward,
  ): PredictContext => ({
    model,
    forward,
    batchSize: args.batchSize * 2,
    padId: teacher.padId,
    labels,
    settings,
  });
  const teacherLogits = logitsOf(ctx(teacher.model), data.train.rows);
  const targets = data.train.targets as number[];
  const validationLogits = logitsOf(ctx(teacher.model), data.validation.rows);
  /** Mean KL(teacher ‖ student) at temperature T over rows whose teacher logits are given. */
  const klOn = (m: Module, rows: readonly EncodedRow[], t: number[][]) => {
    const s = logitsOf(ctx(m), rows);
    const asTensor = (v: number[][]) => new Tensor(Float32Array.from(v.flat()), [v.length, labels.length]);
    return noGrad(() => distillKl(asTensor(s), asTensor(t), T).item());
  };
  const trainKl = (m: Module) => klOn(m, data.train.rows, teacherLogits);
  const trainKlStart = trainKl(student);
  const collate = (idx: Int32Array) => ({
    batch: padRows(data.train.rows, idx, teacher.padId),
    teacher: new Tensor(Float32Array.from(Array.from(idx, (i) => teacherLogits[i]).flat()), [
      idx.length,
      labels.length,
    ]),
    targets: new Tensor(
      Int32Array.from(idx, (i) => targets[i]),
      [idx.length],
    ),
  });
  const loss = (m: Module, b: { batch: PaddedBatch; teacher: Tensor; targets: Tensor }) =>
    distillLoss(studentForward(m, b.batch), b.teacher, b.targets, { temperature: T, alpha });
  // the task's metrics, and the soft loss on validation (kl_loss: T² · KL from the teacher), which metricForBest may pick
  const evaluate = (m: Module) => ({
    ...teacher.spec.metrics(teacher.spec.predict(ctx(m), data.validation.rows, data.validation.targets), labels),
    kl_loss: T * T * klOn(m, data.validation.rows, validationLogits),
  });
  const info = {
    task: "classification",
    labels,
    maxLength: c.maxLength,
    labelSeparator: c.labelSeparator,
    threshold: null,
  };
  const saveModel = (m: Module, dir: string) => {
    savePretrained(m as ClassificationModel, dir);
    teacher.tokenizer.save(dir);
    writeJsonAtomic(join(dir, TASK_FILE), info);
  };
  const trainer = new Trainer({
    model: student,
    trainSize: data.train.rows.length,
    collate,
    loss,
    evaluate,
    runDir,
    paramGroups: parameterGroups(student, { lr: args.lr, weightDecay: args.weightDecay }),
    saveModel,
    args,
    runConfig: {
      distill: { teacher: teacherDir, temperature: T, alpha, student: opts.student ?? "every other teacher layer" },
      finetune: c,
      labels,
    },
    log,
  });
  const summary = await trainer.train({ handleSigint: true });
  const trainKlEnd = trainKl(student);

  const timed = (m: Module) => {
    const t0 = performance.now();
    const out = teacher.spec.predict(ctx(m), data.test.rows, data.test.targets);
    const seconds = Math.max((performance.now() - t0) / 1000, 1e-9);
    return { metrics: teacher.spec.metrics(out, labels), perSecond: data.test.rows.length / seconds };
  };
  const tm = timed(teacher.model);
  const sm = timed(student);
  const kept: Record<string, number> = {};
  for (const [k, v] of Object.entries(tm.metrics))
    if (k !== "loss" && v !== 0 && k in sm.metrics) kept[k] = sm.metrics[k] / v;
  const result: DistillResult = {
    runDir,
    bestDir: join(runDir, "best"),
    train: summary,
    labels,
    teacherLayers,
    studentLayers,
    teacherParameters: teacher.model.numParameters(),
    studentParameters: student.numParameters(),
    teacher: tm.metrics,
    student: sm.metrics,
    testSplit: data.testSplit,
    kept,
    teacherExamplesPerSecond: tm.perSecond,
    studentExamplesPerSecond: sm.perSecond,
    speedup: sm.perSecond / tm.perSecond,
    trainKlStart,
    trainKlEnd,
  };
  writeJsonAtomic(join(runDir, "summary.json"), result);
  return result;
}
