/** Regression: one number per text (or text pair). Logits [B, 1] are the prediction; mean squared error. */
import { DataError } from "../../../util/errors.js";
import { Tensor } from "../../../tensor/index.js";
import type { Example } from "../../../data/index.js";
import { AutoModelForSequenceClassification, mseLoss, predictLabels } from "../../../models/index.js";
import { computeMetrics } from "../../../metrics/index.js";
import { MeanLoss, forEachBatch } from "../../evaluate.js";
import type { TaskSpec, ValuePrediction } from "../../spec.js";
import {
  encodeSequenceInputs,
  isSequenceClassifier,
  plainSettings,
  prepareSequences,
  readLabelledSequences,
  type SequenceLabels,
} from "../sequence.js";

/** Gold and predicted values, and the mean loss. */
export interface RegressionOutput {
  gold: number[];
  pred: number[];
  meanLoss: number;
}

const target = (e: Example, file: string): number => {
  if (typeof e.label !== "number" || !Number.isFinite(e.label))
    throw new DataError(
      `regression target ${JSON.stringify(e.label)} is not a number`,
      { file, line: e.line, field: "label" },
      "regression needs a numeric label column",
    );
  return e.label;
};

const LABELS: SequenceLabels<number> = {
  labelType: "float",
  discover(train, file) {
    for (const e of train) target(e, file);
    return ["value"];
  },
  encode: (_labels, e, file) => target(e, file),
};

/** Values [n, 1] for the loss. */
const targetTensor = (targets: readonly number[]) => new Tensor(Float32Array.from(targets), [targets.length, 1]);

export const regression: TaskSpec<number, RegressionOutput> = {
  name: "regression",
  auto: AutoModelForSequenceClassification,
  peftTaskType: "SEQ_CLS",
  defaultMetric: "loss",
  crossValidation: "random",

  recognizes: (config, architecture) => isSequenceClassifier(config, architecture, "regression"),
  prepare: (ctx) => prepareSequences(ctx, LABELS),
  readLabelled: (file, ctx) => readLabelledSequences(file, ctx, LABELS),
  headOptions: () => ({ numLabels: 1, problemType: "regression" }),
  settings: (c) => plainSettings(c, "regression"),

  loss: (logits, _batch, targets) => mseLoss(logits, targetTensor(targets)),

  predict(ctx, rows, targets) {
    const out: RegressionOutput = { gold: [], pred: [], meanLoss: NaN };
    const loss = new MeanLoss();
    forEachBatch(ctx, rows, ({ logits, start, n }) => {
      if (targets) {
        const gold = targets.slice(start, start + n);
        loss.add(mseLoss(logits, targetTensor(gold)).item() * n, n);
        out.gold.push(...gold);
      }
      out.pred.push(...logits.toArray());
    });
    out.meanLoss = loss.value;
    return out;
  },

  metrics: ({ gold, pred, meanLoss }) => {
    const names = { mse: "mse", rmse: "rmse", mae: "mae", r2: "r2", pearson: "pearson", spearman: "spearman" };
    return { loss: meanLoss, ...computeMetrics(names, { number: pred }, gold) };
  },

  predictionRecords: (p, inputs) =>
    p.pred.map((pred, i) => ({ text: inputs[i], label: p.gold.length ? p.gold[i] : null, pred })),

  encodeInputs: encodeSequenceInputs,

  decode: (logits, _rows, _inputs, { config }) =>
    predictLabels(logits, config).map(
      (p): ValuePrediction => ({
        task: "regression",
        value: Object.values(p.scores)[0],
        label: p.label,
        scores: p.scores,
        kind: "decision",
      }),
    ),
};
