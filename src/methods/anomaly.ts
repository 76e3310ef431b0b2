/**
 * Anomaly detection on features of records (`graft anomaly fit|score`): the features (embeddings of a text file
 * from a model directory, TF-IDF vectors, or the numeric columns of a table), the unsupervised detectors of
 * data/anomaly (Mahalanobis with Ledoit-Wolf shrinkage, kNN distance, isolation forest) plus a reconstruction-error
 * autoencoder on graft's tensors, each calibrated to a contamination rate (threshold: the (1 − contamination)
 * quantile of its training scores), and a semi-supervised score when a few known anomalies are given (data/anomaly's
 * `semiSupervisedScores`: detector score and closeness to the nearest known anomaly, each as an empirical CDF over
 * the training rows, averaged). Where labels exist: ROC-AUC, PR-AUC (average precision) and precision@k.
 *
 * A fitted detector set is one JSON file (anomaly.json) holding the feature extractor's state too, so `score`
 * turns new records into the same features.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ArgumentError, DataError } from "../util/errors.js";
import { Rng, manualSeed } from "../util/rng.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { Tensor, mean, noGrad, relu, square, sub } from "../tensor/index.js";
import { Linear, Module } from "../nn/index.js";
import { Adam } from "../optim/index.js";
import { readExamples, type ExampleReadOptions } from "../data/index.js";
import { TfidfVectorizer, type TfidfState } from "../data/features/tfidf.js";
import {
  DETECTOR_KINDS,
  calibrate,
  fitDetector,
  nearestDistance,
  scoreDetector,
  semiSupervisedScores,
  type DetectorKind,
  type DetectorState,
  type Rows,
} from "../data/anomaly/index.js";
import { inferColumnType, isMissing, parseNumber, readTable } from "../data/tabular/index.js";
import { computeMetrics } from "../metrics/index.js";
import { loadPredictor } from "../tasks/index.js";

export type AnomalyInput = "embeddings" | "tfidf" | "table";
export type AnomalyDetector = DetectorKind | "autoencoder";
export const ANOMALY_DETECTORS: readonly AnomalyDetector[] = [...DETECTOR_KINDS, "autoencoder"];
export const ANOMALY_FILE = "anomaly.json";

/** How records become feature rows, fitted on the training file. */
type FeatureState =
  | { kind: "embeddings"; model: string; pooling: "mean" | "cls" }
  | { kind: "tfidf"; vectorizer: TfidfState }
  | { kind: "table"; columns: { name: string; mean: number; std: number }[]; labelColumn: string | null };

interface AutoencoderState {
  kind: "autoencoder";
  d: number;
  mean: number[];
  std: number[];
  sizes: number[];
  /** Per layer: weight [out, in] row-major and bias. */
  weights: { weight: number[]; bias: number[] }[];
}

type AnyDetectorState = DetectorState | AutoencoderState;

export interface FittedDetector {
  name: AnomalyDetector;
  state: AnyDetectorState;
  threshold: number;
  /** The detector's scores of the training rows (the semi-supervised score's reference distribution). */
  trainScores: number[];
}

export interface AnomalyModel {
  version: 1;
  input: AnomalyInput;
  features: FeatureState;
  contamination: number;
  detectors: FittedDetector[];
  /** Feature rows of known anomalies (semi-supervised mode), and the training rows' distances to them. */
  known: { x: number[]; n: number; trainDistances: number[] } | null;
  trainRows: number;
}

/** Records of a file: texts (or table rows) with labels when the file has them. */
interface Records {
  texts: string[] | null;
  table: Awaited<ReturnType<typeof readTable>> | null;
  labels: (string | null)[];
}

export interface AnomalyReadOptions {
  input: AnomalyInput;
  read?: ExampleReadOptions;
  /** table input: the label column (left out of the features). */
  labelColumn?: string;
  /** The label column may be absent (scoring new records of a table fitted with one). */
  labelOptional?: boolean;
}

async function readRecords(file: string, o: AnomalyReadOptions): Promise<Records> {
  if (o.input === "table") {
    const table = await readTable(file, { delimiter: o.read?.delimiter, quote: o.read?.quote });
    const li = o.labelColumn ? table.header.indexOf(o.labelColumn) : -1;
    if (o.labelColumn && li < 0 && !o.labelOptional)
      throw new DataError(`no label column "${o.labelColumn}"`, { file }, `the header has ${table.header.join(", ")}`);
    return { texts: null, table, labels: table.rows.map((r) => (li >= 0 ? r[li].trim() : null)) };
  }
  const { examples } = await readExamples(file, {
    ...o.read,
    ...(o.labelColumn ? { labelColumn: o.labelColumn } : {}),
  });
  return {
    texts: examples.map((e) => e.text),
    table: null,
    labels: examples.map((e) => (e.label === undefined || e.label === null ? null : String(e.label))),
  };
}

async function embedTexts(model: string, texts: string[], pooling: "mean" | "cls"): Promise<Float64Array> {
  const p = loadPredictor(model);
  if (!p.embed) throw new ArgumentError(`${model}: this model does not embed texts (it needs a transformer encoder)`);
  const rows: number[][] = [];
  for (let i = 0; i < texts.length; i += 32) rows.push(...(await p.embed(texts.slice(i, i + 32), { pooling })));
  return Float64Array.from(rows.flat());
}

/** Fits the feature extractor on the training records. */
function fitFeatures(
  input: AnomalyInput,
  rec: Records,
  o: { model?: string; tfidfFeatures: number; labelColumn?: string },
): FeatureState {
  if (input === "embeddings") {
    if (!o.model) throw new ArgumentError("--input embeddings needs --model DIR (an encoder, e.g. models/graft-base)");
    return { kind: "embeddings", model: resolve(o.model), pooling: "mean" };
  }
  if (input === "tfidf") {
    const v = new TfidfVectorizer({ maxFeatures: o.tfidfFeatures });
    v.fit(rec.texts!);
    return { kind: "tfidf", vectorizer: v.toJSON() };
  }
  const t = rec.table!;
  const columns: { name: string; mean: number; std: number }[] = [];
  t.header.forEach((name, c) => {
    if (name === o.labelColumn) return;
    const values = t.rows.map((r) => r[c]);
    if (inferColumnType(name, values) !== "numeric") return;
    const nums = values.filter((v) => !isMissing(v)).map((v) => parseNumber(v) ?? Number.NaN);
    const ok = nums.filter((v) => Number.isFinite(v));
    const m = ok.reduce((a, b) => a + b, 0) / Math.max(1, ok.length);
    const sd = Math.sqrt(ok.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, ok.length)) || 1;
    columns.push({ name, mean: m, std: sd });
  });
  if (columns.length === 0)
    throw new DataError("the table has no numeric column to detect anomalies on", { file: t.file });
  return { kind: "table", columns, labelColumn: o.labelColumn ?? null };
}

/** Feature rows of records under a fitted extractor. */
async function features(f: FeatureState, rec: Records): Promise<Rows> {
  if (f.kind === "embeddings") {
    if (!rec.texts) throw new ArgumentError("embeddings need a text file");
    const x = await embedTexts(f.model, rec.texts, f.pooling);
    return { x, n: rec.texts.length, d: rec.texts.length ? x.length / rec.texts.length : 0 };
  }
  if (f.kind === "tfidf") {
    if (!rec.texts) throw new ArgumentError("TF-IDF needs a text file");
    const v = TfidfVectorizer.fromJSON(f.vectorizer);
    const m = v.transform(rec.texts);
    const x = new Float64Array(m.rows * m.cols);
    for (let i = 0; i < m.rows; i++)
      for (let k = m.indptr[i]; k < m.indptr[i + 1]; k++) x[i * m.cols + m.indices[k]] = m.data[k];
    return { x, n: m.rows, d: m.cols };
  }
  const t = rec.table!;
  const at = f.columns.map((c) => {
    const i = t.header.indexOf(c.name);
    if (i < 0)
      throw new DataError(`no column "${c.name}" (the detectors were fitted on it)`, { file: t.file, line: 1 });
    return i;
  });
  const d = f.columns.length;
  const x = new Float64Array(t.rows.length * d);
  t.rows.forEach((r, k) =>
    f.columns.forEach((c, j) => {
      const raw = r[at[j]];
      if (isMissing(raw)) return; // missing: the mean, 0 after standardizing
      const v = parseNumber(raw);
      if (v === null)
        throw new DataError(`column "${c.name}" is numeric but holds ${JSON.stringify(raw)}`, {
          file: t.file,
          line: t.lines[k],
          field: c.name,
        });
      x[k * d + j] = (v - c.mean) / c.std;
    }),
  );
  return { x, n: t.rows.length, d };
}

// ---- the autoencoder: d → h → b → h → d (ReLU; h = min(64, 2d), b = min(16, d/2)), on standardized features, scored
// by the mean squared reconstruction error

class Autoencoder extends Module {
  layers: Linear[];
  constructor(
    readonly sizes: number[],
    rng?: Rng,
  ) {
    super();
    this.layers = sizes.slice(1).map((s, i) => new Linear(sizes[i], s, { rng }));
  }
  forward(x: Tensor): Tensor {
    let h = x;
    this.layers.forEach((l, i) => {
      h = l.forward(h);
      if (i < this.layers.length - 1) h = relu(h);
    });
    return h;
  }
}

function standardize(rows: Rows, m: readonly number[], s: readonly number[]): Float32Array {
  const out = new Float32Array(rows.n * rows.d);
  for (let i = 0; i < rows.n; i++)
    for (let j = 0; j < rows.d; j++) out[i * rows.d + j] = (rows.x[i * rows.d + j] - m[j]) / s[j];
  return out;
}

export function fitAutoencoder(
  rows: Rows,
  opts: { epochs?: number; seed?: number; batchSize?: number } = {},
): AutoencoderState {
  const { n, d } = rows;
  const m = Array.from({ length: d }, (_, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += rows.x[i * d + j];
    return s / n;
  });
  const sd = m.map((mj, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (rows.x[i * d + j] - mj) ** 2;
    return Math.sqrt(s / n) || 1;
  });
  // the bottleneck is narrower than the input (else the identity reconstructs anomalies too)
  const bottleneck = Math.max(1, Math.min(16, Math.floor(d / 2)));
  const hidden = Math.max(4, Math.min(64, 2 * d));
  const sizes = [d, hidden, bottleneck, hidden, d];
  const rng = manualSeed(opts.seed ?? 0);
  const net = new Autoencoder(sizes, rng);
  const x = standardize(rows, m, sd);
  const opt = new Adam(net.parameters(), { lr: 1e-3 });
  const batch = opts.batchSize ?? 64;
  const order = new Rng((opts.seed ?? 0) + 1);
  for (let epoch = 0; epoch < (opts.epochs ?? 30); epoch++) {
    const perm = order.permutation(n);
    for (let s = 0; s < n; s += batch) {
      const idx = perm.subarray(s, Math.min(n, s + batch));
      const b = new Float32Array(idx.length * d);
      idx.forEach((r, k) => b.set(x.subarray(r * d, (r + 1) * d), k * d));
      const input = new Tensor(b, [idx.length, d]);
      opt.zeroGrad();
      const loss = mean(square(sub(net.forward(input), input)));
      loss.backward();
      opt.step();
    }
  }
  return {
    kind: "autoencoder",
    d,
    mean: m,
    std: sd,
    sizes,
    weights: net.layers.map((l) => ({ weight: l.weight.toArray(), bias: l.bias!.toArray() })),
  };
}

export function scoreAutoencoder(s: AutoencoderState, rows: Rows): Float64Array {
  if (rows.d !== s.d) throw new ArgumentError(`autoencoder: rows have ${rows.d} features, it was fitted on ${s.d}`);
  const net = new Autoencoder(s.sizes);
  const sd: Record<string, Tensor> = {};
  s.weights.forEach((w, i) => {
    sd[`layers.${i}.weight`] = new Tensor(Float32Array.from(w.weight), [s.sizes[i + 1], s.sizes[i]]);
    sd[`layers.${i}.bias`] = new Tensor(Float32Array.from(w.bias), [s.sizes[i + 1]]);
  });
  net.loadStateDict(sd);
  const x = standardize(rows, s.mean, s.std);
  const out = new Float64Array(rows.n);
  noGrad(() => {
    for (let st = 0; st < rows.n; st += 256) {
      const k = Math.min(256, rows.n - st);
      const input = new Tensor(x.slice(st * s.d, (st + k) * s.d), [k, s.d]);
      const diff = square(sub(net.forward(input), input)).toRows();
      diff.forEach((r, i) => {
        out[st + i] = r.reduce((a, b) => a + b, 0) / s.d;
      });
    }
  });
  return out;
}

function scoreWith(det: FittedDetector, rows: Rows, training = false): Float64Array {
  return det.state.kind === "autoencoder"
    ? scoreAutoencoder(det.state, rows)
    : scoreDetector(det.state, rows, { training });
}

// ---- fit and score

export interface AnomalyFitOptions extends AnomalyReadOptions {
  data: string;
  out: string;
  /** Only the rows with this label are fitted on (training on normal data); others are left out. */
  normalLabel?: string;
  detectors?: AnomalyDetector[];
  contamination?: number;
  model?: string;
  /** A file of known anomalies (same format): enables the semi-supervised score. */
  known?: string;
  k?: number;
  trees?: number;
  epochs?: number;
  tfidfFeatures?: number;
  seed?: number;
  log?: (line: string) => void;
}

export async function fitAnomaly(o: AnomalyFitOptions): Promise<AnomalyModel> {
  const log = o.log ?? (() => {});
  const detectors = o.detectors ?? [...ANOMALY_DETECTORS];
  for (const d of detectors)
    if (!ANOMALY_DETECTORS.includes(d))
      throw new ArgumentError(`unknown detector "${d}"`, `detectors: ${ANOMALY_DETECTORS.join(", ")}`);
  const contamination = o.contamination ?? 0.05;
  let rec = await readRecords(o.data, o);
  if (o.normalLabel !== undefined) {
    const keep = rec.labels.map((l, i) => (l === o.normalLabel ? i : -1)).filter((i) => i >= 0);
    if (keep.length === 0)
      throw new DataError(`no record has the label ${JSON.stringify(o.normalLabel)}`, { file: o.data });
    rec = {
      texts: rec.texts ? keep.map((i) => rec.texts![i]) : null,
      table: rec.table
        ? { ...rec.table, rows: keep.map((i) => rec.table!.rows[i]), lines: keep.map((i) => rec.table!.lines[i]) }
        : null,
      labels: keep.map((i) => rec.labels[i]),
    };
    log(`fitting on the ${keep.length} records labelled ${JSON.stringify(o.normalLabel)}`);
  }
  const f = fitFeatures(o.input, rec, {
    model: o.model,
    tfidfFeatures: o.tfidfFeatures ?? 256,
    labelColumn: o.labelColumn,
  });
  const rows = await features(f, rec);
  log(`${rows.n} training rows of ${rows.d} features (${o.input})`);
  const fitted: FittedDetector[] = [];
  for (const name of detectors) {
    const t0 = Date.now();
    const state: AnyDetectorState =
      name === "autoencoder"
        ? fitAutoencoder(rows, { epochs: o.epochs, seed: o.seed })
        : fitDetector(name, rows, { k: o.k, trees: o.trees, seed: o.seed });
    const det: FittedDetector = { name, state, threshold: 0, trainScores: [] };
    const train = scoreWith(det, rows, true);
    det.trainScores = Array.from(train);
    det.threshold = calibrate(train, contamination);
    fitted.push(det);
    log(`${name}: fitted in ${((Date.now() - t0) / 1000).toFixed(1)} s, threshold ${det.threshold.toPrecision(6)}`);
  }
  let known: AnomalyModel["known"] = null;
  if (o.known) {
    const k = await features(f, await readRecords(o.known, o));
    if (k.n === 0) throw new DataError("no known anomalies in the file", { file: o.known });
    known = { x: Array.from(k.x), n: k.n, trainDistances: Array.from(nearestDistance(rows, k)) };
    log(`${k.n} known anomalies: semi-supervised scores enabled`);
  }
  const model: AnomalyModel = {
    version: 1,
    input: o.input,
    features: f,
    contamination,
    detectors: fitted,
    known,
    trainRows: rows.n,
  };
  mkdirSync(o.out, { recursive: true });
  writeJsonAtomic(join(o.out, ANOMALY_FILE), model);
  return model;
}

export interface AnomalyScoreOptions {
  model: AnomalyModel;
  data: string;
  read?: ExampleReadOptions;
  labelColumn?: string;
  /** With labels: the label of normal records (every other label is an anomaly). */
  normalLabel?: string;
  /** precision@k's k (default: the number of anomalies in the labels). */
  k?: number;
  /** Where scores.jsonl goes (one line per record: each detector's score and flag). */
  out?: string;
}

export interface AnomalyScores {
  records: number;
  anomalies: number | null;
  /** Per detector (and semi_<detector>): flagged count and, with labels, roc_auc, pr_auc, precision_at_k. */
  detectors: Record<string, Record<string, number>>;
  /** Per detector: the records' scores (in file order). */
  scores: Record<string, number[]>;
  /** The record texts (or a row description) for a report's top-scored items. */
  items: string[];
  /** Each record's label, where the file has them. */
  labels: (string | null)[] | null;
}

/** precision of the k highest scores against 0/1 gold. */
export function precisionAtK(gold: readonly number[], scores: ArrayLike<number>, k: number): number {
  const order = Array.from(gold.keys()).sort((a, b) => scores[b] - scores[a]);
  const top = order.slice(0, k);
  return top.length ? top.filter((i) => gold[i] === 1).length / top.length : 0;
}

export async function scoreAnomaly(o: AnomalyScoreOptions): Promise<AnomalyScores> {
  const m = o.model;
  const labelColumn =
    o.labelColumn ?? (m.features.kind === "table" ? (m.features.labelColumn ?? undefined) : undefined);
  const rec = await readRecords(o.data, {
    input: m.input,
    read: o.read,
    labelColumn,
    labelOptional: o.labelColumn === undefined,
  });
  const rows = await features(m.features, rec);
  const labelled = o.normalLabel !== undefined && rec.labels.every((l) => l !== null);
  const gold = labelled ? rec.labels.map((l) => (l === o.normalLabel ? 0 : 1)) : null;
  const anomalies = gold ? gold.reduce((a: number, b) => a + b, 0) : null;
  const k = o.k ?? anomalies ?? Math.max(1, Math.round(m.contamination * rows.n));
  const out: AnomalyScores = {
    records: rows.n,
    anomalies,
    detectors: {},
    scores: {},
    items: rec.texts ?? rec.table!.rows.map((r) => r.join(",")),
    labels: rec.labels.some((l) => l !== null) ? rec.labels : null,
  };
  const evaluate = (name: string, s: ArrayLike<number>, threshold: number | null) => {
    const r: Record<string, number> = {};
    if (threshold !== null) r.flagged = Array.from(s).filter((v) => v > threshold).length;
    if (gold && anomalies! > 0 && anomalies! < gold.length) {
      Object.assign(r, computeMetrics({ roc_auc: "roc-auc", pr_auc: "pr-auc" }, { scores: Array.from(s) }, gold));
      r.precision_at_k = precisionAtK(gold, s, k);
      r.k = k;
    }
    out.detectors[name] = r;
    out.scores[name] = Array.from(s);
  };
  const known = m.known ? { x: Float64Array.from(m.known.x), n: m.known.n, d: rows.d } : null;
  const dist = known ? nearestDistance(rows, known) : null;
  for (const det of m.detectors) {
    const s = scoreWith(det, rows);
    evaluate(det.name, s, det.threshold);
    if (dist && m.known)
      evaluate(
        `semi_${det.name}`,
        semiSupervisedScores({ train: det.trainScores, rows: s }, { train: m.known.trainDistances, rows: dist }),
        null,
      );
  }
  if (o.out) {
    const lines = Array.from({ length: rows.n }, (_, i) =>
      JSON.stringify({
        index: i,
        ...(rec.labels[i] !== null ? { label: rec.labels[i] } : {}),
        scores: Object.fromEntries(Object.entries(out.scores).map(([n, s]) => [n, +s[i].toPrecision(6)])),
        flagged: m.detectors.filter((d) => out.scores[d.name][i] > d.threshold).map((d) => d.name),
      }),
    );
    writeFileSync(o.out, lines.join("\n") + (lines.length ? "\n" : ""));
  }
  return out;
}
