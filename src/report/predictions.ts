/**
 * `eval_predictions.jsonl`: what the model predicted on the evaluation set, one JSON object per line, written
 * by a task after its final (or best) evaluation so the report can draw the confusion matrix, ROC/PR curves,
 * calibration and per-class or per-entity tables.
 *
 * Optional first line, the header:
 *   {"meta": {"task": "classification" | "ner", "classes": ["neg", "neu", "pos"], "split": "validation", "step": 500}}
 * Classification, one line per example (`probs` optional; without it there are no ROC/PR/calibration plots):
 *   {"label": 2, "pred": 1, "probs": [0.1, 0.6, 0.3]}
 *   label/pred are class indices into meta.classes, or class names; probs[i] is the probability of class i.
 *   A missing pred is the argmax of probs.
 * Named-entity recognition (token classification), one line per sentence, tags in IOB1/IOB2/IOE/IOBES:
 *   {"tokens": ["John", "lives", "in", "Paris"], "labels": ["B-PER", "O", "O", "B-LOC"], "preds": ["B-PER", "O", "O", "B-ORG"]}
 * Without a header the task is inferred from the first example's fields.
 *
 * `graft finetune` writes `predictions.jsonl` (the best model on the test split) in the same shape, with class names
 * for label/pred and an extra "text"; the report reads it when there is no eval_predictions.jsonl, taking the class
 * order from run.json's "labels".
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.js";
import { ArgumentError } from "../util/errors.js";

export const PREDICTIONS_FILE = "eval_predictions.jsonl";
/** What tasks/finetune writes after training; read when PREDICTIONS_FILE is absent. */
export const TASK_PREDICTIONS_FILE = "predictions.jsonl";

export interface PredictionsMeta {
  task?: "classification" | "ner";
  classes?: string[];
  split?: string;
  step?: number;
}

export interface ClassificationPredictions {
  task: "classification";
  classes: string[];
  /** Class indices into `classes`. */
  labels: number[];
  preds: number[];
  /** One row per example (length = classes.length), or null when the file has no probabilities. */
  probs: number[][] | null;
  meta: PredictionsMeta;
}

export interface NerPredictions {
  task: "ner";
  sentences: { tokens: string[] | null; labels: string[]; preds: string[] }[];
  meta: PredictionsMeta;
}

/** The parsed contents of eval_predictions.jsonl (or a fine-tuning run's predictions.jsonl). */
export type EvalPredictions = ClassificationPredictions | NerPredictions;

export interface ReadResult<T> {
  value: T | null;
  /** Problems worth telling the reader of the report (skipped lines, inconsistencies). */
  notes: string[];
}

type RawClass = { label: unknown; pred?: unknown; probs?: unknown; line: number };

const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");

/** Parses the predictions file; `fallbackClasses` (e.g. from run.json) names classes when the file does not. */
export function parsePredictions(
  text: string,
  file: string,
  fallbackClasses?: string[],
  taskHint?: string,
): ReadResult<EvalPredictions> {
  const notes: string[] = [];
  let meta: PredictionsMeta = {};
  const rows: { v: Record<string, unknown>; line: number }[] = [];
  const lines = text.split("\n");
  let bad = 0;
  lines.forEach((raw, i) => {
    if (!raw.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      // an unterminated last line is what a crash mid-append leaves: ignored quietly, like metrics.jsonl
      if (i === lines.length - 1) return;
      if (++bad <= 3) notes.push(`${file} line ${i + 1}: not valid JSON; skipped`);
      return;
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      if (++bad <= 3) notes.push(`${file} line ${i + 1}: not a JSON object; skipped`);
      return;
    }
    const o = v as Record<string, unknown>;
    if (rows.length === 0 && "meta" in o && typeof o.meta === "object" && o.meta !== null) {
      meta = readMeta(o.meta as Record<string, unknown>, file, notes);
      return;
    }
    rows.push({ v: o, line: i + 1 });
  });
  if (bad > 3) notes.push(`${file}: ${bad} unreadable lines in all`);
  if (!rows.length) {
    notes.push(`${file} holds no examples`);
    return { value: null, notes };
  }
  if (!meta.task && taskHint && taskHint !== "classification" && taskHint !== "ner") {
    notes.push(`${file}: predictions of a ${taskHint} task are not charted (the report covers classification and NER)`);
    return { value: null, notes };
  }
  const task = meta.task ?? ("tokens" in rows[0]!.v || Array.isArray(rows[0]!.v.labels) ? "ner" : "classification");
  if (task === "ner") return { value: parseNer(rows, meta, file, notes), notes };
  return {
    value: parseClassification(
      rows.map((r) => ({ label: r.v.label, pred: r.v.pred, probs: r.v.probs, line: r.line })),
      meta,
      file,
      notes,
      fallbackClasses,
    ),
    notes,
  };
}

function readMeta(m: Record<string, unknown>, file: string, notes: string[]): PredictionsMeta {
  const meta: PredictionsMeta = {};
  if (m.task === "classification" || m.task === "ner") meta.task = m.task;
  else if (m.task !== undefined)
    notes.push(
      `${file}: meta.task ${JSON.stringify(m.task)} is not "classification" or "ner"; inferred from the examples`,
    );
  if (isStrArray(m.classes)) meta.classes = m.classes;
  if (typeof m.split === "string") meta.split = m.split;
  if (typeof m.step === "number") meta.step = m.step;
  return meta;
}

function parseNer(
  rows: { v: Record<string, unknown>; line: number }[],
  meta: PredictionsMeta,
  file: string,
  notes: string[],
): NerPredictions | null {
  const sentences: NerPredictions["sentences"] = [];
  let skipped = 0;
  for (const { v, line } of rows) {
    const { labels, preds, tokens } = v;
    if (
      !isStrArray(labels) ||
      !isStrArray(preds) ||
      labels.length !== preds.length ||
      (tokens !== undefined && (!isStrArray(tokens) || tokens.length !== labels.length))
    ) {
      if (++skipped <= 3)
        notes.push(
          `${file} line ${line}: needs "labels" and "preds" as string arrays of equal length (and "tokens" of the same length if given); skipped`,
        );
      continue;
    }
    sentences.push({ tokens: isStrArray(tokens) ? tokens : null, labels, preds });
  }
  if (skipped > 3) notes.push(`${file}: ${skipped} sentences skipped in all`);
  return sentences.length ? { task: "ner", sentences, meta } : null;
}

function parseClassification(
  rows: RawClass[],
  meta: PredictionsMeta,
  file: string,
  notes: string[],
  fallback?: string[],
): ClassificationPredictions | null {
  // Class names: the header's, else the run's, else the labels seen (names sorted, indices 0..max).
  let classes = meta.classes ?? fallback;
  const names = new Set<string>();
  let maxIndex = -1,
    width = 0;
  for (const r of rows) {
    for (const v of [r.label, r.pred]) {
      if (typeof v === "string") names.add(v);
      else if (Number.isInteger(v)) maxIndex = Math.max(maxIndex, v as number);
    }
    if (Array.isArray(r.probs)) width = Math.max(width, r.probs.length);
  }
  if (!classes) {
    if (names.size) classes = [...names].sort();
    else classes = Array.from({ length: Math.max(maxIndex + 1, width) }, (_, i) => String(i));
  }
  const index = new Map(classes.map((c, i) => [c, i]));
  const k = classes.length;
  const toIndex = (v: unknown): number | undefined => {
    if (typeof v === "string") return index.get(v);
    if (Number.isInteger(v) && (v as number) >= 0 && (v as number) < k) return v as number;
    return undefined;
  };
  const labels: number[] = [],
    preds: number[] = [],
    probs: number[][] = [];
  let withProbs = 0,
    skipped = 0,
    unlabelled = 0;
  const skip = (line: number, why: string) => {
    if (++skipped <= 3) notes.push(`${file} line ${line}: ${why}; skipped`);
  };
  for (const r of rows) {
    // predictions on data without gold labels say nothing about quality
    if (r.label === null || r.label === undefined) {
      unlabelled++;
      continue;
    }
    const y = toIndex(r.label);
    if (y === undefined) {
      skip(r.line, `label ${JSON.stringify(r.label)} is not one of the ${k} classes`);
      continue;
    }
    let p: number[] | null = null;
    if (r.probs !== undefined) {
      if (
        !Array.isArray(r.probs) ||
        r.probs.length !== k ||
        !r.probs.every((x) => typeof x === "number" && Number.isFinite(x) && x >= 0 && x <= 1)
      ) {
        skip(r.line, `probs must be ${k} probabilities in [0, 1]`);
        continue;
      }
      p = r.probs as number[];
      // float32 softmax output or rounded JSON misses 1 by ~1e-7..1e-6: renormalize that, leave real errors for metrics to flag
      const sum = p.reduce((a, b) => a + b, 0);
      if (sum !== 1 && Math.abs(sum - 1) <= 1e-4) p = p.map((x) => x / sum);
    }
    let yhat = r.pred === undefined ? undefined : toIndex(r.pred);
    if (r.pred !== undefined && yhat === undefined) {
      skip(r.line, `pred ${JSON.stringify(r.pred)} is not one of the ${k} classes`);
      continue;
    }
    if (yhat === undefined) {
      if (!p) {
        skip(r.line, "needs pred or probs");
        continue;
      }
      yhat = argmax(p);
    }
    labels.push(y);
    preds.push(yhat);
    if (p) {
      probs.push(p);
      withProbs++;
    }
  }
  if (skipped > 3) notes.push(`${file}: ${skipped} examples skipped in all`);
  if (unlabelled) notes.push(`${file}: ${unlabelled} examples have no gold label; left out`);
  if (!labels.length) return null;
  if (withProbs > 0 && withProbs < labels.length)
    notes.push(`${file}: only ${withProbs} of ${labels.length} examples have probs; probability plots are left out`);
  return { task: "classification", classes, labels, preds, probs: withProbs === labels.length ? probs : null, meta };
}

export function argmax(row: readonly number[]): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j]! > row[best]!) best = j;
  return best;
}

/**
 * Reads `eval_predictions.jsonl` (else `predictions.jsonl`) from a run directory (value null when absent or empty).
 * `taskHint` is the run's task from run.json: predictions of other tasks (regression, multi-label) are not read.
 */
export function readPredictions(
  runDir: string,
  fallbackClasses?: string[],
  taskHint?: string,
): ReadResult<EvalPredictions> {
  for (const f of [PREDICTIONS_FILE, TASK_PREDICTIONS_FILE]) {
    const path = join(runDir, f);
    if (!existsSync(path)) continue;
    const r = parsePredictions(readFileSync(path, "utf8"), f, fallbackClasses, taskHint);
    if (r.value && f === TASK_PREDICTIONS_FILE && r.value.meta.split === undefined) r.value.meta.split = "test";
    return r;
  }
  return { value: null, notes: [] };
}

export type PredictionExample =
  | { label: number | string; pred?: number | string; probs?: readonly number[] }
  | { tokens?: readonly string[]; labels: readonly string[]; preds: readonly string[] };

/** Writes `eval_predictions.jsonl` into a run directory atomically (for tasks after their final evaluation). */
export function writePredictions(runDir: string, meta: PredictionsMeta, examples: Iterable<PredictionExample>): string {
  const lines = [JSON.stringify({ meta })];
  for (const e of examples) {
    if ("labels" in e && e.labels.length !== e.preds.length)
      throw new ArgumentError(`writePredictions: a sentence has ${e.labels.length} labels but ${e.preds.length} preds`);
    lines.push(JSON.stringify(e));
  }
  const path = join(runDir, PREDICTIONS_FILE);
  writeFileAtomic(path, lines.join("\n") + "\n");
  return path;
}
