/**
 * Reads what a run directory holds for the report: run.json (resolved configuration), metrics.jsonl (training and
 * evaluation records), best/best.json, train_summary.json (timing, written at the end of training),
 * eval_predictions.jsonl (see predictions.ts) and, for a tuning study, leaderboard.json (see study.ts).
 * Every part is optional; what is absent or unreadable is listed in `missing` / `notes` so the report can say so
 * instead of silently leaving a section out.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { FormatError } from "../util/errors.js";
import { readPredictions, PREDICTIONS_FILE, TASK_PREDICTIONS_FILE, type EvalPredictions } from "./predictions.js";
import { isObject, jsonLines } from "./jsonl.js";
import { readStudy, STUDY_FILES, type Study } from "./study.js";

export const SUMMARY_FILE = "train_summary.json";
/** What graft finetune writes at the end (its `train` field is the TrainSummary). */
export const FINETUNE_SUMMARY_FILE = "summary.json";

/** A training log record: {step, epoch, loss, lr, grad_norm?, examples_per_s}. */
export interface TrainRecord {
  step: number;
  epoch: number | null;
  loss: number | null;
  lr: number | null;
  gradNorm: number | null;
  examplesPerS: number | null;
}

/** An evaluation record: {step, epoch, eval_loss?, eval_<metric>...}; metric names without the prefix. */
export interface EvalRecord {
  step: number;
  epoch: number | null;
  metrics: Record<string, number>;
}

export interface BestInfo {
  step: number;
  metric: string;
  value: number;
  metrics: Record<string, number>;
}

/** The Trainer's TrainSummary, as saved at the end of training. */
export interface TrainSummaryFile {
  globalStep?: number;
  epochsCompleted?: number;
  trainSeconds?: number;
  examplesPerSecond?: number;
  stoppedEarly?: boolean;
  interrupted?: boolean;
}

export interface RunData {
  dir: string;
  name: string;
  config: Record<string, unknown> | null;
  train: TrainRecord[];
  evals: EvalRecord[];
  best: BestInfo | null;
  summary: TrainSummaryFile | null;
  /** Final metrics on the held-out test split, when the task recorded them. */
  test: Record<string, number> | null;
  predictions: EvalPredictions | null;
  study: Study | null;
  /** Parts the directory lacks, each with what the report leaves out because of it. */
  missing: string[];
  /** Problems in parts that were read (skipped lines, odd values). */
  notes: string[];
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

function readJson(path: string, notes: string[]): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    notes.push(`${basename(path)}: ${(e as Error).message}`);
    return null;
  }
}

/** Splits metrics.jsonl text into training and evaluation records (a torn last line is ignored). */
export function parseMetrics(text: string, notes: string[] = []): { train: TrainRecord[]; evals: EvalRecord[] } {
  const train: TrainRecord[] = [],
    evals: EvalRecord[] = [];
  let bad = 0;
  const skip = (line: number, why: string): void => {
    if (++bad <= 3) notes.push(`metrics.jsonl line ${line}: ${why}; skipped`);
  };
  for (const { value: r, line } of jsonLines(text, (line) => skip(line, "not valid JSON"))) {
    if (!isObject(r) || num(r.step) === null) {
      skip(line, 'a record needs a numeric "step"');
      continue;
    }
    const step = r.step as number,
      epoch = num(r.epoch);
    const evalMetrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(r))
      if (k.startsWith("eval_") && num(v) !== null) evalMetrics[k.slice(5)] = v as number;
    if (Object.keys(evalMetrics).length) evals.push({ step, epoch, metrics: evalMetrics });
    if ("loss" in r || "lr" in r || "examples_per_s" in r) {
      train.push({
        step,
        epoch,
        loss: num(r.loss),
        lr: num(r.lr),
        gradNorm: num(r.grad_norm),
        examplesPerS: num(r.examples_per_s),
      });
    }
  }
  if (bad > 3) notes.push(`metrics.jsonl: ${bad} records skipped in all`);
  // a resumed run may repeat steps it logged before the crash: the last record of a step wins
  const dedupe = <T extends { step: number }>(a: T[]) =>
    [...new Map(a.map((x) => [x.step, x])).values()].sort((x, y) => x.step - y.step);
  return { train: dedupe(train), evals: dedupe(evals) };
}

/** Class names a run's configuration gives (labels, label_names or id2label), if any. */
export function classNamesFromConfig(config: Record<string, unknown> | null): string[] | undefined {
  if (!config) return undefined;
  for (const key of ["labels", "label_names", "classes"]) {
    const v = config[key];
    if (Array.isArray(v) && v.length && v.every((s) => typeof s === "string")) return v as string[];
  }
  const id2 = config.id2label;
  if (isObject(id2)) {
    const entries = Object.entries(id2).filter(([k, v]) => /^\d+$/.test(k) && typeof v === "string");
    if (entries.length === Object.keys(id2).length && entries.length) {
      const out: string[] = [];
      for (const [k, v] of entries) out[Number(k)] = v as string;
      if (out.every((s) => s !== undefined) && out.length === entries.length) return out;
    }
  }
  return undefined;
}

/** Reads a run (or study) directory. Throws only when the directory is missing or holds nothing graft wrote. */
export function readRun(dir: string): RunData {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new FormatError(`${dir}: no such directory`);
  const missing: string[] = [],
    notes: string[] = [];
  const has = (f: string) => existsSync(join(abs, f));

  const studyFile = STUDY_FILES.find(has);
  if (!has("run.json") && !has("metrics.jsonl") && !has(PREDICTIONS_FILE) && !studyFile) {
    throw new FormatError(
      `${dir} is not a graft run or study directory: it has no run.json, metrics.jsonl, ${PREDICTIONS_FILE} or ${STUDY_FILES.join("/")}`,
      "pass the directory a training run (graft finetune/pretrain --output-dir) or a tuning study wrote",
    );
  }

  let config: Record<string, unknown> | null = null;
  if (has("run.json")) {
    const c = readJson(join(abs, "run.json"), notes);
    if (isObject(c)) config = c;
    else if (c !== null) notes.push("run.json: not a JSON object");
  } else if (!studyFile) missing.push("run.json (the resolved configuration): no configuration section");

  let train: TrainRecord[] = [],
    evals: EvalRecord[] = [];
  if (has("metrics.jsonl")) ({ train, evals } = parseMetrics(readFileSync(join(abs, "metrics.jsonl"), "utf8"), notes));
  else if (!studyFile)
    missing.push("metrics.jsonl (the training log): no learning curves, learning-rate schedule or throughput");
  if (has("metrics.jsonl") && !train.length && !evals.length)
    missing.push("metrics.jsonl has no records: no learning curves (the run stopped before its first log step?)");
  else if (has("metrics.jsonl") && !evals.length)
    missing.push(
      "evaluation records in metrics.jsonl: no validation curves (the run had no evaluation set, or stopped before the first evaluation)",
    );

  let best: BestInfo | null = null;
  const bestPath = join(abs, "best", "best.json");
  if (existsSync(bestPath)) {
    const b = readJson(bestPath, notes);
    if (isObject(b) && num(b.step) !== null && typeof b.metric === "string") {
      const metrics: Record<string, number> = {};
      if (isObject(b.metrics))
        for (const [k, v] of Object.entries(b.metrics)) if (num(v) !== null) metrics[k] = v as number;
      best = { step: b.step as number, metric: b.metric, value: num(b.value) ?? NaN, metrics };
    } else if (b !== null) notes.push("best/best.json: needs step and metric");
  }

  let summary: TrainSummaryFile | null = null,
    test: Record<string, number> | null = null;
  if (has(SUMMARY_FILE)) {
    const s = readJson(join(abs, SUMMARY_FILE), notes);
    if (isObject(s)) summary = s as TrainSummaryFile;
  } else if (has(FINETUNE_SUMMARY_FILE)) {
    // graft finetune's result: {train: TrainSummary, test: {metric: value}, testSplit, ...}
    const s = readJson(join(abs, FINETUNE_SUMMARY_FILE), notes);
    if (isObject(s) && isObject(s.train)) summary = s.train as TrainSummaryFile;
    if (isObject(s) && isObject(s.test)) {
      test = Object.fromEntries(Object.entries(s.test).filter(([, v]) => num(v) !== null)) as Record<string, number>;
      if (!Object.keys(test).length) test = null;
    }
  }

  const task =
    isObject(config?.finetune) && typeof config.finetune.task === "string"
      ? config.finetune.task
      : typeof config?.task === "string"
        ? config.task
        : undefined;
  const pr = readPredictions(abs, classNamesFromConfig(config), task);
  notes.push(...pr.notes);
  if (!has(PREDICTIONS_FILE) && !has(TASK_PREDICTIONS_FILE) && (train.length || evals.length)) {
    missing.push(
      `${PREDICTIONS_FILE} (evaluation predictions): no confusion matrix, ROC/PR curves, calibration or per-class table`,
    );
  }

  let study: Study | null = null;
  if (studyFile) {
    const st = readStudy(abs);
    study = st.value;
    notes.push(...st.notes);
  }
  return {
    dir: abs,
    name: basename(abs),
    config,
    train,
    evals,
    best,
    summary,
    test,
    predictions: pr.value,
    study,
    missing,
    notes,
  };
}
