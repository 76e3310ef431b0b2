/**
 * Tabular classification (`--task tabular`): records of a CSV/TSV with a label column (`--label-column`), the
 * other columns typed (inferred: numeric, categorical, boolean, text, id; `--column-types` overrides) and encoded
 * as data/tabular/columns.ts describes; text columns are embedded once by the pre-trained encoder of `--model`
 * (frozen, mean-pooled last hidden states). The model is the late-fusion MLP of model.ts; the loss and the
 * class-imbalance options (class weights, focal loss, label smoothing, weighted sampling, a tuned threshold) are
 * classification's. Beside it, in the same split: logistic regression on one-hot + standardized features and the
 * histogram GBDT (data/classical), and the fused model's permutation importance on validation, in the report.
 *
 * The validation and test splits come from the training file when not given (stratified by class, seeded by the
 * run's seed); the column types and encodings are fitted on the training split alone. Records travel to the model
 * as the targets (`TabularTarget`): the rows carry no tokens.
 *
 * A saved model predicts new records (`RecordInput`: an object of column → value, from `graft predict --input
 * FILE.csv|.jsonl` or `graft serve`'s POST /predict/records): `recordFields` checks each against the saved schema
 * (the columns, numbers in numeric columns; errors name the file or request field, the line and the value) and
 * `predictInputs` encodes them as training did (standardization, category indices with 0 for an unseen category,
 * the text encoder) and applies the tuned threshold.
 */
import { ArgumentError, DataError } from "../../../util/errors.js";
import { Rng } from "../../../util/rng.js";
import { Tensor, noGrad, softmax } from "../../../tensor/index.js";
import { resolveModelDir } from "../../../io/hub.js";
import { AutoModel, readConfig, usesTokenTypes, type BaseModelOutput } from "../../../models/index.js";
import { loadTokenizer, type Tokenizer } from "../../../tokenizers/index.js";
import { GradientBoostedTrees } from "../../../data/classical/gbdt.js";
import { LogisticRegression } from "../../../data/classical/logistic.js";
import { CsrMatrix } from "../../../data/features/sparse.js";
import {
  checkColumns,
  denseFeatures,
  encodeTable,
  isMissing,
  parseNumber,
  fitSchema,
  parseColumnTypes,
  permutationImportance,
  readTable,
  type EncodedTable,
  type Table,
  type TabularSchema,
} from "../../../data/tabular/index.js";
import { computeMetrics } from "../../../metrics/index.js";
import { table as htmlTable } from "../../../report/html.js";
import type { FinetuneConfig } from "../../config.js";
import { classificationLoss } from "../../losses.js";
import { MeanLoss } from "../../evaluate.js";
import { encodeTexts, padRows, type EncodedRow } from "../../encode.js";
import type { ClassPrediction, PredictorInput, Split, TaskData, TaskSpec } from "../../spec.js";
import { classification, bestF1Threshold, type ClassOutput } from "../classification/index.js";
import { GraftTabularForClassification, TabularAuto, type TabularFeatures } from "./model.js";

/** A record to predict: column → value (a number, string or boolean; null, or a missing-value word, is missing). */
export type TabularRecord = Record<string, unknown>;

/**
 * A Predictor input of a tabular model: the record, and where it came from for error messages (a file and its
 * line, or a request field such as "body.inputs[2]" as `file`). `text` describes it ("name=value; ...").
 */
export interface RecordInput {
  text: string;
  record: TabularRecord;
  file?: string;
  line?: number;
}

/** A record as a Predictor input. */
export function recordInput(record: TabularRecord, where: { file?: string; line?: number } = {}): RecordInput {
  return { text: describeRecord(record), record, ...where };
}

const describeRecord = (r: TabularRecord) =>
  Object.entries(r)
    .map(([k, v]) => `${k}=${v ?? ""}`)
    .join("; ");

/**
 * A record's fields as the strings a table holds, in `header` order (the schema's columns, then its label and id
 * columns where the record has them), after checking it against the schema: an object, the training columns (none
 * missing, none unknown), plain values, and numbers (or a missing value) in numeric columns.
 */
export function recordFields(
  schema: TabularSchema,
  record: unknown,
  where: { file?: string; line?: number },
): { header: string[]; fields: string[] } {
  if (record === null || typeof record !== "object" || Array.isArray(record))
    throw new DataError(`a record must be an object of column → value, got ${JSON.stringify(record)}`, where);
  const r = record as TabularRecord;
  checkColumns(schema, Object.keys(r), where);
  const header = [...schema.columns.map((c) => c.name), ...[schema.label, ...schema.dropped].filter((c) => c in r)];
  const fields = header.map((name) => {
    const v = r[name];
    if (v === null || v === undefined) return "";
    if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
    if (typeof v === "boolean") return String(v);
    if (typeof v !== "string")
      throw new DataError(`a value must be a number, a string, a boolean or null, got ${JSON.stringify(v)}`, {
        ...where,
        field: name,
      });
    return v;
  });
  schema.columns.forEach((col, c) => {
    if (col.type === "numeric" && !isMissing(fields[c]) && parseNumber(fields[c]) === null)
      throw new DataError(
        `column "${col.name}" is numeric but holds ${JSON.stringify(fields[c])}`,
        { ...where, field: col.name },
        "send a number, or null for a missing value",
      );
  });
  return { header, fields };
}

/** A record's class id and model inputs. */
export interface TabularTarget extends TabularFeatures {
  y: number;
}

/** ClassOutput with the targets it was computed on (to find the run's importances and baselines for the report). */
export interface TabularOutput extends ClassOutput {
  targets: readonly TabularTarget[] | null;
}

interface TabularSummary {
  files: Record<string, string>;
  rows: Record<string, number>;
  seed: number;
  columnTypes: Record<string, string>;
  labelColumn: string;
  /** The model's config fields (tabular_schema, sizes, the text encoder). */
  model: Record<string, unknown>;
}

/** What finalMetrics and baseline computed for a run, keyed by its test targets, for reportSections. */
const RUN_EXTRAS = new WeakMap<
  object,
  { importance?: { name: string; mean: number; std: number }[]; baselines?: Record<string, Record<string, number>> }
>();
const extrasOf = (key: object) => {
  let e = RUN_EXTRAS.get(key);
  if (!e) RUN_EXTRAS.set(key, (e = {}));
  return e;
};

const EMPTY_ROW: EncodedRow = { ids: [], typeIds: [] };

const ENCODERS = new Map<string, ReturnType<typeof AutoModel.fromPretrainedDir>>();

/** Mean-pooled last hidden states of the encoder in `dir` for each text column (concatenated per record). */
async function textEmbeddings(
  dir: string,
  tok: Tokenizer,
  columns: string[][],
  maxLength: number,
): Promise<number[][]> {
  if (columns.length === 0) return [];
  // loaded once per encoder directory (a served model embeds every request's text columns with it)
  let model = ENCODERS.get(dir);
  if (!model) ENCODERS.set(dir, (model = AutoModel.fromPretrainedDir(dir)));
  model.eval();
  const config = readConfig(dir);
  const useTypes = usesTokenTypes(config.model_type);
  const padId = tok.padTokenId ?? (config.pad_token_id as number | null) ?? 0;
  const n = columns[0].length;
  const out: number[][] = Array.from({ length: n }, () => []);
  for (const texts of columns) {
    const rows = await encodeTexts(tok, texts, undefined, maxLength);
    noGrad(() => {
      for (let start = 0; start < n; start += 32) {
        const idx = Int32Array.from({ length: Math.min(32, n - start) }, (_, i) => start + i);
        const b = padRows(rows, idx, padId);
        const hidden = (
          model.forward({
            inputIds: b.inputIds,
            attentionMask: b.attentionMask,
            ...(useTypes ? { tokenTypeIds: b.tokenTypeIds } : {}),
          }) as BaseModelOutput
        ).lastHiddenState;
        const [, t, h] = hidden.shape;
        const flat = hidden.toArray();
        idx.forEach((r, k) => {
          const len = Math.max(1, rows[r].ids.length);
          const v = new Array<number>(h).fill(0);
          for (let p = 0; p < len; p++) for (let j = 0; j < h; j++) v[j] += flat[(k * t + p) * h + j] / len;
          out[r].push(...v);
        });
      }
    });
  }
  return out;
}

/** The model's inputs per record of an encoded table. */
function targetsOf(enc: EncodedTable, text: number[][]): TabularTarget[] {
  const nc = enc.categorical.length / Math.max(1, enc.n);
  return Array.from({ length: enc.n }, (_, k) => ({
    y: enc.labels[k],
    num: Array.from(enc.numeric.subarray(k * enc.numericWidth, (k + 1) * enc.numericWidth)),
    cat: Array.from(enc.categorical.subarray(k * nc, (k + 1) * nc)),
    text: text[k] ?? [],
  }));
}

/** Each record's fields as "name=value; ...", for predictions.jsonl. */
const describe = (t: Table, k: number) => t.header.map((h, c) => `${h}=${t.rows[k][c]}`).join("; ");

function subTable(t: Table, idx: readonly number[]): Table {
  return { file: t.file, header: t.header, rows: idx.map((i) => t.rows[i]), lines: idx.map((i) => t.lines[i]) };
}

/** Stratified train / validation / test indices of a table's rows by class, seeded. */
function stratifiedSplit(labels: readonly string[], fractions: { validation: number; test: number }, seed: number) {
  const rng = new Rng(seed);
  const byClass = new Map<string, number[]>();
  labels.forEach((l, i) => {
    if (!byClass.has(l)) byClass.set(l, []);
    byClass.get(l)!.push(i);
  });
  const out = { train: [] as number[], validation: [] as number[], test: [] as number[] };
  for (const key of [...byClass.keys()].sort()) {
    const idx = byClass.get(key)!;
    const perm = rng.permutation(idx.length);
    const nTest = Math.round(idx.length * fractions.test);
    const nVal = Math.round(idx.length * fractions.validation);
    perm.forEach((p, k) => {
      (k < nTest ? out.test : k < nTest + nVal ? out.validation : out.train).push(idx[p]);
    });
  }
  for (const s of Object.values(out)) s.sort((a, b) => a - b);
  return out;
}

function readOptions(c: FinetuneConfig) {
  return { delimiter: c.delimiter, quote: c.quote } as { delimiter?: string; quote?: string | null };
}

function labelColumnOf(c: FinetuneConfig): string {
  if (!c.labelColumn)
    throw new ArgumentError("--task tabular needs --label-column NAME (the column holding each record's class)");
  return c.labelColumn;
}

/** A labelled split of records: model inputs as targets, the records described for predictions.jsonl. */
function split(enc: EncodedTable, text: number[][], t: Table): Split<TabularTarget> {
  const targets = targetsOf(enc, text);
  return {
    rows: targets.map(() => EMPTY_ROW),
    targets,
    inputs: t.rows.map((_, k) => describe(t, k)),
  };
}

/** Dense one-hot + standardized (+ text embedding) features of targets, for the classical baselines. */
function dense(schema: TabularSchema, targets: readonly TabularTarget[]) {
  const n = targets.length;
  const width = targets[0]?.num.length ?? 0;
  const tw = targets[0]?.text.length ?? 0;
  const enc: EncodedTable = {
    n,
    numeric: Float64Array.from(targets.flatMap((t) => t.num)),
    numericWidth: width,
    categorical: Int32Array.from(targets.flatMap((t) => t.cat)),
    texts: [],
    labels: Int32Array.from(targets, (t) => t.y),
  };
  return denseFeatures(schema, enc, tw ? { x: Float64Array.from(targets.flatMap((t) => t.text)), width: tw } : null);
}

function toCsr(x: Float64Array, n: number, d: number): CsrMatrix {
  const rows: Map<number, number>[] = [];
  for (let i = 0; i < n; i++) {
    const m = new Map<number, number>();
    for (let j = 0; j < d; j++) if (x[i * d + j] !== 0) m.set(j, x[i * d + j]);
    rows.push(m);
  }
  return CsrMatrix.fromRows(rows, d);
}

/** ROC-AUC, PR-AUC and F1 at a threshold tuned on validation of P(class 1) scores (binary tasks). */
function binaryScores(gold: readonly number[], scores: readonly number[], threshold: number): Record<string, number> {
  const pred = scores.map((s) => (s >= threshold ? 1 : 0));
  return computeMetrics(
    {
      roc_auc: "roc-auc",
      pr_auc: "pr-auc",
      f1: { metric: "f1", options: { average: "binary", zeroDivision: 0 } },
      accuracy: "accuracy",
    },
    { label: pred, scores: [...scores] },
    [...gold],
  );
}

function schemaOf(data: TaskData<TabularTarget>): TabularSchema {
  return (data.summary as TabularSummary).model.tabular_schema as TabularSchema;
}

function modelOf(m: unknown): GraftTabularForClassification {
  if (!(m instanceof GraftTabularForClassification))
    throw new ArgumentError("the tabular task runs a graft-tabular model (GraftTabularForClassification)");
  return m;
}

function runModel(
  model: GraftTabularForClassification,
  targets: readonly TabularTarget[],
  batchSize: number,
  each: (logits: Tensor, start: number, n: number) => void,
): void {
  const wasTraining = model.training;
  model.eval();
  noGrad(() => {
    for (let start = 0; start < targets.length; start += batchSize) {
      const n = Math.min(batchSize, targets.length - start);
      each(model.forwardTabular(targets.slice(start, start + n)), start, n);
    }
  });
  model.train(wasTraining);
}

const yTensor = (targets: readonly TabularTarget[]) =>
  new Tensor(
    Int32Array.from(targets, (t) => t.y),
    [targets.length],
  );

export const tabular: TaskSpec<TabularTarget, TabularOutput> = {
  name: "tabular",
  auto: TabularAuto,
  peftTaskType: "SEQ_CLS",
  defaultMetric: "f1_macro",

  recognizes: (config) => (config.model_type as string) === "graft-tabular",

  async prepare(ctx) {
    const c = ctx.config;
    if (c.lora) throw new ArgumentError("--task tabular trains a small fused model: LoRA does not apply");
    if (c.dropout !== null)
      throw new ArgumentError("--task tabular: --dropout does not apply (the fused head's dropout is 0.1)");
    const label = labelColumnOf(c);
    const overrides = parseColumnTypes(c.columnTypes ?? "");
    const full = await readTable(c.data, readOptions(c));
    if (full.rows.length === 0) throw new DataError("no records", { file: c.data });
    const li = full.header.indexOf(label);
    if (li < 0)
      throw new DataError(`no label column "${label}"`, { file: c.data }, `the header has ${full.header.join(", ")}`);
    const parts = stratifiedSplit(
      full.rows.map((r) => r[li].trim()),
      {
        validation: c.validation ? 0 : c.validationFraction,
        test: c.test ? 0 : c.testFraction,
      },
      ctx.seed,
    );
    const train = subTable(full, parts.train);
    const { schema, inferred } = fitSchema(train, label, overrides);
    const validation = c.validation ? await readTable(c.validation, readOptions(c)) : subTable(full, parts.validation);
    const test = c.test
      ? await readTable(c.test, readOptions(c))
      : parts.test.length
        ? subTable(full, parts.test)
        : null;
    if (validation.rows.length === 0)
      throw new ArgumentError("the validation split is empty", "raise --validation-fraction or pass --validation");
    const textColumns = schema.columns.filter((col) => col.type === "text").map((col) => col.name);
    const encoder = textColumns.length ? await resolveModelDir(c.model) : null;
    const maxLength = Math.min(c.maxLength, ctx.tokenizer.modelMaxLength ?? Infinity);
    const encode = async (t: Table) => {
      const enc = encodeTable(schema, t);
      return split(enc, encoder ? await textEmbeddings(encoder, ctx.tokenizer, enc.texts, maxLength) : [], t);
    };
    const trainSplit = await encode(train);
    const validationSplit = await encode(validation);
    const testSplit = test ? await encode(test) : validationSplit;
    const textSize = trainSplit.targets[0]?.text.length ?? 0;
    const summary: TabularSummary = {
      files: {
        train: c.data,
        ...(c.validation ? { validation: c.validation } : {}),
        ...(c.test ? { test: c.test } : {}),
      },
      rows: { train: train.rows.length, validation: validation.rows.length, test: test ? test.rows.length : 0 },
      seed: ctx.seed,
      columnTypes: inferred,
      labelColumn: label,
      model: {
        tabular_schema: schema,
        numeric_size: trainSplit.targets[0]?.num.length ?? 0,
        text_size: textSize,
        text_encoder: encoder,
      },
    };
    return {
      labels: schema.classes,
      train: trainSplit,
      validation: validationSplit,
      test: testSplit,
      testSplit: test ? "test" : "validation",
      summary,
    };
  },

  async readLabelled(file, ctx) {
    if (!ctx.modelDir) throw new ArgumentError("a tabular model is evaluated from its directory");
    const config = readConfig(ctx.modelDir) as unknown as {
      tabular_schema: TabularSchema;
      text_encoder: string | null;
    };
    const t = await readTable(file, { delimiter: ctx.read?.delimiter, quote: ctx.read?.quote });
    const enc = encodeTable(config.tabular_schema, t);
    if (enc.labels.some((l) => l < 0))
      throw new DataError(`no label column "${config.tabular_schema.label}"`, { file });
    const text =
      config.text_encoder && enc.texts.length
        ? await textEmbeddings(config.text_encoder, loadTokenizer(config.text_encoder), enc.texts, ctx.maxLength)
        : [];
    return split(enc, text, t);
  },

  headOptions: (labels, data) => ({
    labels,
    problemType: "single_label_classification",
    ...(data ? { config: (data.summary as TabularSummary).model } : {}),
  }),

  settings: (c, data) =>
    classification.settings(c, {
      ...data,
      train: { ...data.train, targets: data.train.targets.map((t) => t.y) },
      validation: { ...data.validation, targets: data.validation.targets.map((t) => t.y) },
      test: { ...data.test, targets: data.test.targets.map((t) => t.y) },
    }),

  loss: (logits, _batch, targets, s) => classificationLoss(logits, yTensor(targets), s),
  trainLoss: (model, _batch, targets, s) =>
    classificationLoss(modelOf(model).forwardTabular(targets), yTensor(targets), s),

  predict(ctx, _rows, targets) {
    if (!targets) throw new ArgumentError("a tabular model predicts from records (their targets carry the features)");
    const out: TabularOutput = { gold: [], pred: [], probs: [], meanLoss: NaN, targets };
    const loss = new MeanLoss();
    const threshold = ctx.settings.threshold;
    runModel(modelOf(ctx.model), targets, ctx.batchSize, (logits, start, n) => {
      const gold = targets.slice(start, start + n);
      const l = classificationLoss(logits, yTensor(gold), { weights: ctx.settings.weights });
      loss.add(l.item() * n, n);
      out.gold.push(...gold.map((t) => t.y));
      for (const row of softmax(logits).toRows()) {
        out.probs.push(row);
        if (row.length === 2 && threshold !== null) out.pred.push(row[1] >= threshold ? 1 : 0);
        else out.pred.push(row.indexOf(Math.max(...row)));
      }
    });
    out.meanLoss = loss.value;
    return out;
  },

  metrics: (p, names) => classification.metrics(p, names),
  tuneThreshold: (validation) =>
    bestF1Threshold(
      validation.gold,
      validation.probs.map((p) => p[1]),
    ),

  /**
   * Logistic regression (C = 1, on one-hot + standardized features) and the GBDT, fitted on the training split;
   * binary tasks get their decision threshold tuned on validation (best F1), as --tune-threshold does for the model.
   */
  baseline(data) {
    const schema = schemaOf(data);
    const tr = dense(schema, data.train.targets);
    const va = dense(schema, data.validation.targets);
    const te = dense(schema, data.test.targets);
    const y = Int32Array.from(data.train.targets, (t) => t.y);
    const k = data.labels.length;
    if (new Set(y).size < 2) return null;
    const out: Record<string, number> = {};
    const baselines: Record<string, Record<string, number>> = {};
    const lr = new LogisticRegression({ C: 1, maxIter: 500 }).fit(toCsr(tr.x, data.train.targets.length, tr.d), y, k);
    const proba = (x: Float64Array, n: number, d: number) => {
      const dec = lr.decision(toCsr(x, n, d));
      return k === 2 ? Array.from(dec, (z) => 1 / (1 + Math.exp(-z))) : [];
    };
    const goldVal = data.validation.targets.map((t) => t.y);
    const goldTest = data.test.targets.map((t) => t.y);
    if (k === 2) {
      const models: Record<string, (x: Float64Array, n: number, d: number) => number[]> = {
        logreg: proba,
        gbdt: (() => {
          const g = new GradientBoostedTrees({ seed: (data.summary as TabularSummary).seed }).fit(
            tr.x,
            data.train.targets.length,
            tr.d,
            y,
          );
          return (x: Float64Array, n: number) => Array.from(g.predictProba(x, n));
        })(),
      };
      for (const [name, f] of Object.entries(models)) {
        const thr = bestF1Threshold(goldVal, f(va.x, goldVal.length, va.d));
        const m = binaryScores(goldTest, f(te.x, goldTest.length, te.d), thr);
        baselines[name] = m;
        for (const [key, v] of Object.entries(m)) out[`${name}_${key}`] = v;
      }
    } else {
      const pred = Array.from(lr.predict(toCsr(te.x, goldTest.length, te.d)));
      const m = computeMetrics(
        { accuracy: "accuracy", f1_macro: { metric: "f1", options: { average: "macro", zeroDivision: 0 } } },
        { label: pred },
        goldTest,
      );
      baselines.logreg = m;
      for (const [key, v] of Object.entries(m)) out[`logreg_${key}`] = v;
    }
    extrasOf(data.test.targets).baselines = baselines;
    return out;
  },

  /** Permutation importance of each column for the trained model, on validation (ROC-AUC drop; accuracy drop beyond two classes). */
  async finalMetrics(ctx) {
    const model = modelOf(ctx.model);
    const schema = schemaOf(ctx.data);
    const targets = ctx.data.validation.targets;
    const binary = ctx.data.labels.length === 2 && new Set(targets.map((t) => t.y)).size === 2;
    // where each schema column sits in the numeric block, the category indices and the text embedding
    let numAt = 0,
      catAt = 0,
      textAt = 0;
    const textWidth =
      (targets[0]?.text.length ?? 0) / Math.max(1, schema.columns.filter((c) => c.type === "text").length);
    const slots = schema.columns.map((col) => {
      if (col.type === "numeric") {
        const s = { block: "num" as const, from: numAt, to: numAt + (col.missing ? 2 : 1) };
        numAt = s.to;
        return s;
      }
      if (col.type === "text") {
        const s = { block: "text" as const, from: textAt, to: textAt + textWidth };
        textAt = s.to;
        return s;
      }
      const s = { block: "cat" as const, from: catAt, to: catAt + 1 };
      catAt++;
      return s;
    });
    const score = (column: number, perm: Int32Array | null) => {
      const rows =
        column < 0 || !perm
          ? targets
          : targets.map((t, i) => {
              const s = slots[column];
              const donor = targets[perm[i]][s.block];
              const copy = [...t[s.block]];
              for (let j = s.from; j < s.to; j++) copy[j] = donor[j];
              return { ...t, [s.block]: copy };
            });
      const probs: number[][] = [];
      runModel(model, rows, ctx.batchSize, (logits) => probs.push(...softmax(logits).toRows()));
      const gold = targets.map((t) => t.y);
      if (binary) return computeMetrics({ auc: "roc-auc" }, { scores: probs.map((p) => p[1]) }, gold).auc;
      const pred = probs.map((p) => p.indexOf(Math.max(...p)));
      return pred.filter((p, i) => p === gold[i]).length / gold.length;
    };
    const { importances } = permutationImportance(schema.columns.length, targets.length, score, {
      repeats: 3,
      seed: (ctx.data.summary as TabularSummary).seed,
    });
    const ranked = importances
      .map((imp) => ({ name: schema.columns[imp.column].name, mean: imp.mean, std: imp.std }))
      .sort((a, b) => b.mean - a.mean);
    extrasOf(ctx.data.test.targets).importance = ranked;
    const top = ranked
      .slice(0, 8)
      .map((r) => `${r.name} ${r.mean.toFixed(4)}`)
      .join(", ");
    return {
      metrics: {},
      notes: [`permutation importance on validation (${binary ? "ROC-AUC" : "accuracy"} drop, 3 repeats): ${top}`],
    };
  },

  reportSections(output, labels) {
    const extras = output.targets ? RUN_EXTRAS.get(output.targets) : undefined;
    const sections = [];
    const model = classification.metrics(output, labels);
    const keys = ["roc_auc", "pr_auc", "f1", "accuracy"].filter((k) => k in model);
    const rows: (string | number)[][] = [["fused model", ...keys.map((k) => model[k])]];
    for (const [name, m] of Object.entries(extras?.baselines ?? {}))
      rows.push([name === "gbdt" ? "gradient-boosted trees" : "logistic regression", ...keys.map((k) => m[k] ?? NaN)]);
    sections.push({
      id: "tabular-models",
      title: "Models side by side (test split)",
      body: htmlTable(
        ["model", ...keys],
        rows.map((r) => r.map((v) => (typeof v === "number" && Number.isNaN(v) ? null : v))),
        { numeric: keys.map((_, i) => i + 1) },
      ),
    });
    if (extras?.importance)
      sections.push({
        id: "tabular-importance",
        title: "Permutation importance (validation)",
        body: htmlTable(
          ["column", "score drop", "std"],
          extras.importance.map((r) => [r.name, r.mean, r.std]),
          { numeric: [1, 2] },
        ),
      });
    return sections;
  },

  dataWarnings: (data) =>
    classification.dataWarnings!({
      ...data,
      validation: { ...data.validation, targets: data.validation.targets.map((t) => t.y) },
    } as never),
  predictionWarnings: (p, labels, s) => classification.predictionWarnings!(p, labels, s),
  predictionRecords: (p, inputs, labels) => classification.predictionRecords(p, inputs, labels),

  async predictInputs(model, inputs, ctx) {
    const config = ctx.config as unknown as { tabular_schema: TabularSchema; text_encoder: string | null };
    const schema = config.tabular_schema;
    const rows = inputs.map((x: PredictorInput, k) => {
      if (typeof x === "string" || !("record" in x))
        throw new ArgumentError(
          "a tabular model reads records (column → value), not texts",
          "graft predict --model DIR --input records.csv (or .jsonl), or POST /predict/records to graft serve",
        );
      const input = x as RecordInput;
      return recordFields(schema, input.record, input.file ? input : { file: `record ${k + 1}` });
    });
    // one table in the schema's column order (every record was checked above, so encoding cannot fail)
    const header = schema.columns.map((c) => c.name);
    const table: Table = {
      file: "records",
      header,
      rows: rows.map((r) => r.fields.slice(0, header.length)),
      lines: rows.map((_, k) => k + 1),
    };
    const enc = encodeTable(schema, table);
    const text =
      config.text_encoder && enc.texts.length
        ? await textEmbeddings(
            config.text_encoder,
            loadTokenizer(config.text_encoder),
            enc.texts,
            ctx.info?.maxLength ?? 128,
          )
        : [];
    const targets = targetsOf(enc, text);
    const threshold = ctx.info?.threshold ?? null;
    const out: ClassPrediction[] = [];
    runModel(modelOf(model), targets, 256, (logits) => {
      for (const p of softmax(logits).toRows()) {
        const best = p.length === 2 && threshold !== null ? (p[1] >= threshold ? 1 : 0) : p.indexOf(Math.max(...p));
        out.push({
          task: "classification",
          label: ctx.labels[best],
          scores: Object.fromEntries(ctx.labels.map((l, i) => [l, p[i]])),
          kind: "probability",
        });
      }
    });
    return out;
  },

  encodeInputs: async () => {
    throw new ArgumentError(
      "a tabular model reads records (column → value), not texts",
      "graft predict --model DIR --input records.csv (or .jsonl), or POST /predict/records to graft serve",
    );
  },
  decode: () => [],
};
