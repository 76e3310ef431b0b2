/**
 * The drift reference saved with a model: `drift_reference.json` in the model directory, what the model predicted
 * on held-out data (the test split of its fine-tuning run), so that served predictions can later be compared with
 * it. It holds a seeded sample of each score (class probabilities, or a regression's "value"), the counts of the
 * predicted labels, and a sample of input embeddings when the caller has them.
 *
 * It is written by `graft monitor --model DIR --reference RUN/predictions.jsonl` (from the predictions.jsonl a
 * fine-tuning run leaves beside its best/ model), or by `writeDriftReference(dir, { samples })` from scores and
 * embeddings the caller computed.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeJsonAtomic } from "../util/atomic.js";
import { ArgumentError, DataError, FormatError } from "../util/errors.js";
import { Rng } from "../util/rng.js";

export const REFERENCE_FILE = "drift_reference.json";
const FORMAT = "graft-drift-reference";
const VERSION = 1;

export interface DriftReference {
  format: typeof FORMAT;
  version: typeof VERSION;
  createdAt: string;
  /** Where the reference came from (a file, or "samples"). */
  source: string;
  /** Examples it was made from. */
  count: number;
  /** A sample of each score's values (the same examples for every score). */
  scores: Record<string, number[]>;
  /** How often each label was predicted, over all examples. */
  labels: Record<string, number>;
  /** A sample of input embeddings, or null. */
  embeddings: number[][] | null;
}

/** One prediction, as the log and the reference share it. */
export interface ReferenceSample {
  label?: string | null;
  scores?: Record<string, number> | null;
  embedding?: ArrayLike<number> | null;
}

export interface ReferenceOptions {
  source?: string;
  /** Most values kept per score (default 5000). */
  maxValues?: number;
  /** Most embeddings kept (default 200). */
  maxEmbeddings?: number;
  seed?: number;
}

/** Indices of a seeded sample of `k` of `n` items, in their original order. */
function sampleIndices(n: number, k: number, rng: Rng): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  return Array.from(rng.permutation(n).subarray(0, k)).sort((a, b) => a - b);
}

const round = (v: number, digits: number) => Number(v.toPrecision(digits));

/**
 * A score as the reference stores it (7 significant digits). Served scores are compared after the same rounding:
 * a score with few distinct values is tested as categories (Evidently's rule), where 0.5000001 and 0.50000012
 * would otherwise be different categories and report drift that is only rounding.
 */
export const referenceScore = (v: number): number => round(v, 7);

/** Builds a reference from predictions (scores, labels, embeddings). */
export function buildReference(samples: readonly ReferenceSample[], o: ReferenceOptions = {}): DriftReference {
  if (samples.length === 0) throw new ArgumentError("buildReference: no predictions to make a drift reference from");
  const rng = new Rng(o.seed ?? 0);
  const labels: Record<string, number> = {};
  for (const s of samples) if (typeof s.label === "string") labels[s.label] = (labels[s.label] ?? 0) + 1;
  const scores: Record<string, number[]> = {};
  for (const i of sampleIndices(samples.length, o.maxValues ?? 5000, rng)) {
    for (const [k, v] of Object.entries(samples[i]!.scores ?? {}))
      if (Number.isFinite(v)) (scores[k] ??= []).push(referenceScore(v));
  }
  const withEmb = samples.filter((s) => s.embedding && s.embedding.length > 0);
  let embeddings: number[][] | null = null;
  if (withEmb.length) {
    const dim = withEmb[0]!.embedding!.length;
    withEmb.forEach((s, i) => {
      if (s.embedding!.length !== dim)
        throw new ArgumentError(
          `buildReference: embedding ${i} has ${s.embedding!.length} dimensions, the first ${dim}`,
        );
    });
    embeddings = sampleIndices(withEmb.length, o.maxEmbeddings ?? 200, rng).map((i) =>
      Array.from(withEmb[i]!.embedding!, (v) => round(v, 6)),
    );
  }
  return {
    format: FORMAT,
    version: VERSION,
    createdAt: new Date().toISOString(),
    source: o.source ?? "samples",
    count: samples.length,
    scores,
    labels,
    embeddings,
  };
}

/** Class names of a model directory from its config.json (id2label by id), or undefined. */
export function modelClasses(modelDir: string): string[] | undefined {
  const path = join(modelDir, "config.json");
  if (!existsSync(path)) return undefined;
  try {
    const id2label = (JSON.parse(readFileSync(path, "utf8")) as { id2label?: Record<string, string> }).id2label;
    if (!id2label || typeof id2label !== "object") return undefined;
    return Object.entries(id2label)
      .sort((a, b) => Number(a[0]) - Number(b[0]))
      .map(([, v]) => String(v));
  } catch {
    return undefined;
  }
}

/**
 * Reads a run's predictions.jsonl (or eval_predictions.jsonl; report/predictions.ts describes the shapes) into
 * reference samples: `pred` is the label (a list of labels joins with "|", as the Predictor does for multi-label),
 * `probs` the class scores named by `classes`, and a numeric `pred` a regression's "value".
 */
export function samplesFromPredictions(file: string, classes?: readonly string[]): ReferenceSample[] {
  if (!existsSync(file)) throw new ArgumentError(`the predictions file ${file} does not exist`);
  const out: ReferenceSample[] = [];
  const lines = readFileSync(file, "utf8").split("\n");
  let names = classes ? [...classes] : undefined;
  lines.forEach((raw, i) => {
    if (!raw.trim()) return;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(raw);
    } catch {
      if (i === lines.length - 1) return; // a torn last line
      throw new DataError("not valid JSON", { file, line: i + 1 });
    }
    if (v === null || typeof v !== "object" || Array.isArray(v))
      throw new DataError("not a JSON object", { file, line: i + 1 });
    if ("meta" in v && out.length === 0) {
      const m = v.meta as { classes?: unknown };
      if (!names && Array.isArray(m?.classes)) names = m.classes.map(String);
      return;
    }
    if ("tokens" in v || Array.isArray(v.preds))
      throw new DataError("token-level (NER) predictions have no per-example scores to monitor", { file, line: i + 1 });
    const s: ReferenceSample = {};
    const pred = v.pred;
    if (typeof pred === "number") s.scores = { value: pred };
    else if (typeof pred === "string") s.label = pred;
    else if (Array.isArray(pred)) s.label = pred.map(String).join("|");
    else if (pred !== undefined && pred !== null)
      throw new DataError("pred must be a label, labels or a number", { file, line: i + 1, field: "pred" });
    if (v.probs !== undefined) {
      if (!Array.isArray(v.probs) || !v.probs.every((x) => typeof x === "number" && Number.isFinite(x)))
        throw new DataError("probs must be a list of numbers", { file, line: i + 1, field: "probs" });
      const probs = v.probs as number[];
      if (names && names.length !== probs.length)
        throw new DataError(`probs has ${probs.length} values but the model has ${names.length} classes`, {
          file,
          line: i + 1,
          field: "probs",
        });
      s.scores = Object.fromEntries(probs.map((p, k) => [names?.[k] ?? String(k), p]));
      if (s.label === undefined) s.label = names?.[probs.indexOf(Math.max(...probs))] ?? null;
    }
    if (Array.isArray(v.embedding)) s.embedding = v.embedding as number[];
    out.push(s);
  });
  if (!out.length) throw new DataError("holds no predictions", { file });
  return out;
}

/** Writes `drift_reference.json` into a model directory, from a predictions file or from given samples. */
export function writeDriftReference(
  modelDir: string,
  from: { predictions: string; classes?: readonly string[] } | { samples: readonly ReferenceSample[] },
  o: ReferenceOptions = {},
): { path: string; reference: DriftReference } {
  if (!existsSync(modelDir) || !statSync(modelDir).isDirectory())
    throw new ArgumentError(`the model directory ${modelDir} does not exist`);
  const reference =
    "predictions" in from
      ? buildReference(samplesFromPredictions(from.predictions, from.classes ?? modelClasses(modelDir)), {
          source: from.predictions,
          ...o,
        })
      : buildReference(from.samples, o);
  const path = join(modelDir, REFERENCE_FILE);
  writeJsonAtomic(path, reference);
  return { path, reference };
}

/** Reads and checks a drift reference: a model directory's drift_reference.json, or the file itself. */
export function readDriftReference(dirOrFile: string): DriftReference {
  const path = existsSync(dirOrFile) && statSync(dirOrFile).isDirectory() ? join(dirOrFile, REFERENCE_FILE) : dirOrFile;
  if (!existsSync(path))
    throw new ArgumentError(
      `${path} does not exist: the model has no drift reference`,
      "write one from the run's test predictions: graft monitor --model DIR --reference RUN/predictions.jsonl",
    );
  let v: Partial<DriftReference>;
  try {
    v = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new FormatError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (v?.format !== FORMAT) throw new FormatError(`${path} is not a graft drift reference (format is not "${FORMAT}")`);
  if (v.version !== VERSION)
    throw new FormatError(`${path}: drift reference version ${v.version}, this graft reads ${VERSION}`);
  const isNums = (a: unknown) => Array.isArray(a) && a.every((x) => typeof x === "number" && Number.isFinite(x));
  if (!v.scores || typeof v.scores !== "object" || !Object.values(v.scores).every(isNums))
    throw new FormatError(`${path}: "scores" must map each score to a list of numbers`);
  if (!v.labels || typeof v.labels !== "object" || !Object.values(v.labels).every((n) => Number.isInteger(n) && n >= 0))
    throw new FormatError(`${path}: "labels" must map each label to a count`);
  if (v.embeddings !== null && !(Array.isArray(v.embeddings) && v.embeddings.every(isNums)))
    throw new FormatError(`${path}: "embeddings" must be null or a list of vectors`);
  return v as DriftReference;
}
