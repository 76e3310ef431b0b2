/**
 * The fine-tuning recipe, end to end: data file → tokenizer → pre-trained model with a task head → adaptation
 * (freezing, gradual unfreezing, layer-wise learning rates, LoRA, class-imbalance options) → Trainer → the best
 * model evaluated on the test split. Everything a run did is in its directory: run.json, data.json,
 * metrics.jsonl, best/ (a model directory that transformers can load, plus graft_task.json), predictions.jsonl
 * and summary.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ArgumentError, DataError } from "../util/errors.js";
import { Rng, manualSeed } from "../util/rng.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { Tensor, reshape } from "../tensor/index.js";
import type { Module } from "../nn/index.js";
import { loadSplits, readConll, type Example, type TaggedSentence } from "../data/index.js";
import { precisionRecallCurve } from "../metrics/classification/index.js";
import { resolveModelDir } from "../io/hub.js";
import {
  AutoModelForSequenceClassification,
  AutoModelForTokenClassification,
  describeLoadingInfo,
  dropoutOverrides,
  readConfig,
  writeConfig,
  type ModelConfig,
  savePretrained,
  type ClassificationModel,
} from "../models/index.js";
import { AutoTokenizer, type Tokenizer } from "../tokenizers/index.js";
import {
  Trainer,
  applyFreeze,
  gradualUnfreeze,
  injectLora,
  loadLoraWeights,
  mergedStateDict,
  parameterGroups,
  saveLoraAdapter,
  type TrainSummary,
  type TrainerCallback,
} from "../train/index.js";
import { saveCheckpoint } from "../io/checkpoint.js";
import { writeReport } from "../report/index.js";
import { resolveFinetuneConfig, type FinetuneConfig } from "./config.js";
import { discoverLabels, discoverTags, encodeLabel, encodeTags, type LabelSpace } from "./labels.js";
import { encodeTexts, encodeWords, padRows, type EncodedRow, type EncodedTokens, type PaddedBatch } from "./encode.js";
import { balancedClassWeights, classificationLoss } from "./losses.js";
import { classifierForward, computeMetrics, predictRows, type Predictions } from "./evaluate.js";
import { bceWithLogitsLoss, mseLoss } from "../models/index.js";

export const TASK_FILE = "graft_task.json";

/** What a fine-tuned model directory needs besides config.json to predict as it was trained. */
export interface TaskInfo {
  task: FinetuneConfig["task"];
  labels: string[];
  maxLength: number;
  labelSeparator: string;
  /** Binary decision threshold on the positive class probability (tuned on validation), if any. */
  threshold: number | null;
}

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
}

interface Prepared {
  space: LabelSpace;
  rows: {
    train: (EncodedRow | EncodedTokens)[];
    validation: (EncodedRow | EncodedTokens)[];
    test: (EncodedRow | EncodedTokens)[];
  };
  targets: { train: (number | number[])[]; validation: (number | number[])[]; test: (number | number[])[] };
  /** For predictions.jsonl: the text (or tokens) of each test example. */
  testInputs: (string | string[])[];
  dataSummary: unknown;
  testSplit: "test" | "validation";
}

async function prepareClassification(c: FinetuneConfig, tok: Tokenizer): Promise<Prepared> {
  const splits = await loadSplits({
    train: c.data,
    validation: c.validation,
    test: c.test,
    read: {
      textColumn: c.textColumn,
      textPairColumn: c.textPairColumn,
      labelColumn: c.labelColumn,
      onBadRow: c.onBadRow,
      ...(c.task === "regression" ? { labelType: "float" as const } : {}),
    },
    validationFraction: c.validation ? undefined : c.validationFraction,
    testFraction: c.test ? undefined : c.testFraction,
    seed: c.training.seed ?? 42,
    dedupe: c.dedupe,
  });
  if (splits.validation.length === 0)
    throw new ArgumentError("no validation data: give --validation FILE or a validation fraction > 0");
  const space = discoverLabels(
    c.task as Exclude<FinetuneConfig["task"], "ner">,
    splits.train,
    c.data,
    c.labelSeparator,
  );
  const fileOf = (role: "train" | "validation" | "test") =>
    splits.summary.files.find((f) => f.role === role)?.file ?? c.data;
  const encode = async (ex: Example[], role: "train" | "validation" | "test") => {
    const pairs = ex.some((e) => e.textPair !== undefined) ? ex.map((e) => e.textPair ?? "") : undefined;
    return {
      rows: await encodeTexts(
        tok,
        ex.map((e) => e.text),
        pairs,
        c.maxLength,
      ),
      targets: ex.map((e) => encodeLabel(space, e, fileOf(role), c.labelSeparator)),
    };
  };
  const testSplit = splits.test.length > 0 ? "test" : "validation";
  const [tr, va, te] = [
    await encode(splits.train, "train"),
    await encode(splits.validation, "validation"),
    await encode(testSplit === "test" ? splits.test : splits.validation, testSplit),
  ];
  const testEx = testSplit === "test" ? splits.test : splits.validation;
  return {
    space,
    testSplit,
    dataSummary: splits.summary,
    rows: { train: tr.rows, validation: va.rows, test: te.rows },
    targets: { train: tr.targets, validation: va.targets, test: te.targets },
    testInputs: testEx.map((e) => (e.textPair !== undefined ? `${e.text}\n${e.textPair}` : e.text)),
  };
}

async function prepareNer(c: FinetuneConfig, tok: Tokenizer): Promise<Prepared> {
  const read = async (f: string) => (await readConll(f, { onBadRow: c.onBadRow })).sentences;
  let train = await read(c.data);
  let validation: TaggedSentence[] = c.validation ? await read(c.validation) : [];
  const test: TaggedSentence[] = c.test ? await read(c.test) : [];
  if (!c.validation) {
    // hold out a seeded fraction of sentences
    const perm = new Rng(c.training.seed ?? 42).permutation(train.length);
    const k = Math.max(1, Math.round(train.length * c.validationFraction));
    const held = new Set(perm.subarray(0, k));
    validation = train.filter((_, i) => held.has(i));
    train = train.filter((_, i) => !held.has(i));
  }
  const space = discoverTags(train, c.data);
  const enc = async (ss: TaggedSentence[], file: string) => {
    const tags = ss.map((s) => encodeTags(space, s, file));
    return {
      rows: await encodeWords(
        tok,
        ss.map((s) => s.tokens),
        tags,
        c.maxLength,
      ),
      targets: tags,
    };
  };
  const testSplit = test.length ? "test" : "validation";
  const testSet = test.length ? test : validation;
  const [tr, va, te] = [
    await enc(train, c.data),
    await enc(validation, c.validation ?? c.data),
    await enc(testSet, c.test ?? c.validation ?? c.data),
  ];
  return {
    space,
    testSplit,
    dataSummary: {
      sizes: { train: train.length, validation: validation.length, test: test.length },
      files: [c.data, c.validation, c.test].filter(Boolean),
    },
    rows: { train: tr.rows, validation: va.rows, test: te.rows },
    targets: { train: tr.targets, validation: va.targets, test: te.targets },
    testInputs: testSet.map((s) => s.tokens),
  };
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

export interface FinetuneHooks {
  callbacks?: TrainerCallback[];
  /** Messages about the model and data (loading report, skipped rows, ...). */
  log?: (line: string) => void;
  /** Continue the run in config.output from its last complete checkpoint (true) or from this checkpoint directory. */
  resume?: boolean | string;
}

export async function finetune(
  config: Partial<FinetuneConfig> & { model: string; data: string },
  hooks: FinetuneHooks = {},
): Promise<FinetuneResult> {
  const c = resolveFinetuneConfig(config);
  const log = hooks.log ?? (() => {});
  const notes: string[] = [];
  const seed = c.training.seed ?? 42;
  const runDir = resolve(c.output ?? join("runs", `finetune-${new Date().toISOString().replace(/[:.]/g, "-")}`));
  mkdirSync(runDir, { recursive: true });

  const modelDir = await resolveModelDir(c.model);
  const tok = await AutoTokenizer.fromPretrained(modelDir);
  const prepared = c.task === "ner" ? await prepareNer(c, tok) : await prepareClassification(c, tok);
  const { space, rows, targets } = prepared;
  writeJsonAtomic(join(runDir, "data.json"), prepared.dataSummary);

  // the model: the checkpoint's backbone with a head sized to our labels
  manualSeed(seed);
  const base = readConfig(modelDir);
  const dropoutOverride =
    c.dropout === null ? undefined : { hidden: c.dropout, attention: c.dropout, classifier: c.dropout };
  const problemType =
    c.task === "regression"
      ? "regression"
      : c.task === "multilabel"
        ? "multi_label_classification"
        : c.task === "classification"
          ? "single_label_classification"
          : undefined;
  const Auto = c.task === "ner" ? AutoModelForTokenClassification : AutoModelForSequenceClassification;
  const model = Auto.fromPretrainedDir(modelDir, {
    ...(c.task === "regression" ? { numLabels: 1 } : { labels: space.names }),
    ...(problemType ? { problemType } : {}),
    ...(dropoutOverride ? { config: dropoutOverrides(base, dropoutOverride) } : {}),
  });
  for (const line of describeLoadingInfo(model.loadingInfo!, model.architecture, c.model)) log(line);
  const modelVocab = (model.config as { vocab_size?: number }).vocab_size;
  if (modelVocab !== undefined && tok.vocabSize > modelVocab) {
    throw new ArgumentError(
      `the tokenizer in ${modelDir} has ${tok.vocabSize} tokens but the model's vocabulary has ${modelVocab}`,
      "the tokenizer and the model must come from the same checkpoint",
    );
  }
  const head = headParameterNames(model);
  const headLoaded = head.some((n) => !model.loadingInfo!.missingKeys.includes(n));
  if (headLoaded && !sameLabels(base, space.names)) {
    // the checkpoint's head answers a different question: start a fresh one
    const prefixes = head.map((n) => n.slice(0, n.lastIndexOf(".")));
    model.initWeights(new Rng(seed), (m) => model.namedModules().some(([p, mm]) => mm === m && prefixes.includes(p)));
    notes.push(`the checkpoint's head (${head.join(", ")}) has other labels and was re-initialized`);
  } else if (headLoaded) notes.push("the checkpoint's head has the same labels and was kept");

  // adaptation
  if (c.lora) {
    const adapted = injectLora(
      model,
      { ...c.lora, modulesToSave: [...new Set(head.map((n) => n.split(".")[0]))] },
      new Rng(seed + 1),
    );
    notes.push(
      `LoRA r=${c.lora.r} on ${adapted.length} layers; ${model.numParameters({ trainableOnly: true })} of ${model.numParameters()} parameters train`,
    );
  }
  const frozen = applyFreeze(model, c.freeze, head);
  if (frozen.length) notes.push(`frozen: ${frozen.length} parameter tensors`);
  const lr = c.training.lr ?? 5e-5;
  const groups = parameterGroups(model, { lr, weightDecay: c.training.weightDecay ?? 0.01, layerDecay: c.layerDecay });

  // class imbalance
  const trainClassIds = c.task === "classification" ? (targets.train as number[]) : null;
  const weights = c.classWeights === "auto" ? balancedClassWeights(trainClassIds!, space.names.length) : c.classWeights;
  if (weights && weights.length !== space.names.length)
    throw new ArgumentError(`classWeights has ${weights.length} entries for ${space.names.length} labels`);
  const lossOpts = { weights: weights ?? null, labelSmoothing: c.labelSmoothing, focalGamma: c.focalGamma };

  const padId = tok.padTokenId ?? (model.config.pad_token_id as number | null) ?? 0;
  const forward = classifierForward(model.config.model_type);
  const collate = (idx: Int32Array) => ({ batch: padRows(rows.train, idx, padId), idx });
  const loss = (m: Module, { batch, idx }: { batch: PaddedBatch; idx: Int32Array }): Tensor => {
    const logits = forward(m, batch);
    const n = idx.length;
    const t = Array.from(idx, (i) => targets.train[i]);
    switch (space.kind) {
      case "ner": {
        const classes = logits.shape[2]; // [B, T, C] scored at first sub-tokens only (the rest are IGNORE_INDEX)
        return classificationLoss(
          reshape(logits, [logits.size / classes, classes]),
          reshape(batch.tokenLabels!, [batch.tokenLabels!.size]),
          { labelSmoothing: c.labelSmoothing },
        );
      }
      case "regression":
        return mseLoss(logits, new Tensor(Float32Array.from(t as number[]), [n, 1]));
      case "multilabel":
        return bceWithLogitsLoss(
          logits,
          new Tensor(Float32Array.from((t as number[][]).flat()), [n, space.names.length]),
        );
      case "classification":
        return classificationLoss(logits, new Tensor(Int32Array.from(t as number[]), [n]), lossOpts);
    }
  };
  const evalBatch = (c.training.batchSize ?? 16) * 2;
  const evaluate = (m: Module) =>
    computeMetrics(
      space,
      predictRows(m, forward, space, rows.validation, targets.validation, {
        batchSize: evalBatch,
        padId,
        loss: lossOpts,
      }),
    );

  const bestMetric =
    c.training.metricForBest ??
    (c.task === "ner" ? "f1" : c.task === "regression" ? "loss" : c.task === "multilabel" ? "f1_micro" : "f1_macro");
  const taskInfo = (threshold: number | null): TaskInfo => ({
    task: c.task,
    labels: space.names,
    maxLength: c.maxLength,
    labelSeparator: c.labelSeparator,
    threshold,
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
        { ...c.lora!, modulesToSave: [...new Set(head.map((n) => n.split(".")[0]))] },
        { baseModel: c.model, taskType: c.task === "ner" ? "TOKEN_CLS" : "SEQ_CLS" },
      );
    } else savePretrained(cm, dir);
    tok.save(dir);
    writeJsonAtomic(join(dir, TASK_FILE), taskInfo(null));
  };
  const loadModel = c.lora ? (m: Module, dir: string) => loadLoraWeights(m, join(dir, "adapter")) : undefined;
  const order = c.sampler === "weighted" ? weightedOrder(trainClassIds!, space.names.length) : undefined;
  const callbacks: TrainerCallback[] = [...(hooks.callbacks ?? [])];
  if (c.gradualUnfreezing) callbacks.unshift({ onEpochBegin: (t, epoch) => void gradualUnfreeze(t.model, epoch) });

  const trainer = new Trainer({
    model,
    trainSize: rows.train.length,
    collate,
    loss,
    evaluate,
    runDir,
    paramGroups: groups,
    callbacks,
    saveModel,
    loadModel,
    order,
    args: { ...c.training, metricForBest: bestMetric },
    runConfig: { finetune: c, labels: space.names, modelDir },
  });
  const summary = await trainer.train({ resume: hooks.resume, handleSigint: true });
  if (summary.interrupted) {
    return {
      runDir,
      bestDir: join(runDir, "best"),
      report: null,
      train: summary,
      test: {},
      testSplit: prepared.testSplit,
      validation: {},
      labels: space.names,
      threshold: null,
      notes: [...notes, "interrupted: resume with --resume"],
    };
  }

  // the best model on validation (threshold) and test
  const validationPred = predictRows(model, forward, space, rows.validation, targets.validation, {
    batchSize: evalBatch,
    padId,
    loss: lossOpts,
  });
  let threshold: number | null = null;
  if (c.tuneThreshold) {
    if (space.kind !== "classification" || space.names.length !== 2)
      throw new ArgumentError("threshold tuning needs a binary classification task");
    threshold = bestF1Threshold(
      validationPred.gold as number[],
      validationPred.probs.map((p) => p[1]),
    );
    notes.push(`decision threshold tuned on validation: ${threshold.toFixed(4)}`);
  }
  const validation = computeMetrics(
    space,
    threshold === null
      ? validationPred
      : predictRows(model, forward, space, rows.validation, targets.validation, {
          batchSize: evalBatch,
          padId,
          loss: lossOpts,
          threshold,
        }),
  );
  const testPred = predictRows(model, forward, space, rows.test, targets.test, {
    batchSize: evalBatch,
    padId,
    loss: lossOpts,
    ...(threshold !== null ? { threshold } : {}),
  });
  const test = computeMetrics(space, testPred);
  const bestDir = join(runDir, "best");
  if (existsSync(bestDir)) writeJsonAtomic(join(bestDir, TASK_FILE), taskInfo(threshold));
  writePredictions(join(runDir, "predictions.jsonl"), space, testPred, prepared.testInputs);
  const result: FinetuneResult = {
    runDir,
    bestDir,
    report: join(runDir, "report.html"),
    train: summary,
    test,
    testSplit: prepared.testSplit,
    validation,
    labels: space.names,
    threshold,
    notes,
  };
  writeJsonAtomic(join(runDir, "summary.json"), result);
  const report = writeReport(runDir);
  for (const n of report.notes) log(`report: ${n}`);
  return result;
}

/** Examples drawn with replacement, probability ∝ 1 / frequency of their class; a pure function of (seed, epoch). */
function weightedOrder(labels: readonly number[], numClasses: number) {
  const counts = new Array<number>(numClasses).fill(0);
  for (const l of labels) counts[l]++;
  const cum = new Float64Array(labels.length);
  let acc = 0;
  labels.forEach((l, i) => {
    acc += 1 / counts[l];
    cum[i] = acc;
  });
  return (epoch: number, seed: number, size: number): Int32Array => {
    const rng = new Rng(seed * 7777 + epoch + 17);
    const out = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const u = rng.uniform() * acc;
      let lo = 0,
        hi = cum.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cum[mid] < u) lo = mid + 1;
        else hi = mid;
      }
      out[i] = lo;
    }
    return out;
  };
}

/** The threshold on P(positive) that maximizes F1 on the precision-recall curve. */
export function bestF1Threshold(gold: readonly number[], scores: readonly number[]): number {
  const { precision, recall, thresholds } = precisionRecallCurve(gold, scores);
  let best = 0.5,
    bestF1 = -1;
  for (let i = 0; i < thresholds.length; i++) {
    const p = precision[i],
      r = recall[i];
    const f = p + r > 0 ? (2 * p * r) / (p + r) : 0;
    if (f > bestF1) {
      bestF1 = f;
      best = thresholds[i];
    }
  }
  return best;
}

function writePredictions(
  path: string,
  space: LabelSpace,
  p: Predictions,
  inputs: readonly (string | string[])[],
): void {
  const lines: string[] = [];
  if (space.kind === "ner") {
    p.predTags.forEach((pred, i) =>
      lines.push(JSON.stringify({ tokens: inputs[i], labels: p.goldTags[i], preds: pred })),
    );
  } else {
    p.pred.forEach((pred, i) => {
      const name = (v: number | number[]) =>
        space.kind === "classification"
          ? space.names[v as number]
          : space.kind === "multilabel"
            ? space.names.filter((_, k) => (v as number[])[k])
            : v;
      lines.push(
        JSON.stringify({
          text: inputs[i],
          label: p.gold.length ? name(p.gold[i]) : null,
          pred: name(pred),
          ...(p.probs.length ? { probs: p.probs[i].map((v) => +v.toFixed(6)) } : {}),
        }),
      );
    });
  }
  writeFileSync(path, lines.join("\n") + (lines.length ? "\n" : ""));
}

/** Reads graft_task.json of a fine-tuned model directory (null when absent). */
export function readTaskInfo(dir: string): TaskInfo | null {
  const p = join(dir, TASK_FILE);
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, "utf8")) as TaskInfo;
  } catch (e) {
    throw new DataError(`${p} is not valid JSON (${(e as Error).message})`);
  }
}
