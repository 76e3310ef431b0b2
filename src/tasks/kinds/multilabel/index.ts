/**
 * Multi-label classification: each text has any number of labels ("a|b" in the label column). Logits [B, C], one
 * sigmoid per label, binary cross-entropy against 0/1 vectors; a label is predicted when its probability reaches
 * the threshold (0.5).
 */
import { DataError } from "../../../util/errors.js";
import { Tensor, sigmoid } from "../../../tensor/index.js";
import { sortLabels } from "../../../data/index.js";
import { AutoModelForSequenceClassification, bceWithLogitsLoss, predictLabels } from "../../../models/index.js";
import { computeMetrics } from "../../../metrics/index.js";
import { labelIndex, splitMultiLabel, unseenLabel } from "../../labels.js";
import { MeanLoss, forEachBatch } from "../../evaluate.js";
import type { MultiLabelPrediction, TaskSpec } from "../../spec.js";
import {
  encodeSequenceInputs,
  isSequenceClassifier,
  plainSettings,
  prepareSequences,
  readLabelledSequences,
  type SequenceLabels,
} from "../sequence.js";

/** Gold and predicted 0/1 vectors, label probabilities per example, and the mean loss. */
export interface MultiLabelOutput {
  gold: number[][];
  pred: number[][];
  probs: number[][];
  meanLoss: number;
}

const LABELS: SequenceLabels<number[]> = {
  discover(train, file, sep) {
    const all = new Set<string>();
    for (const e of train) {
      if (e.label === undefined) throw new DataError("example has no label", { file, line: e.line, field: "label" });
      for (const l of splitMultiLabel(e.label, sep)) all.add(l);
    }
    return sortLabels(all);
  },
  encode(labels, e, file, sep) {
    const index = labelIndex(labels);
    const v = new Array<number>(labels.length).fill(0);
    for (const l of splitMultiLabel(e.label, sep)) {
      const id = index.get(l);
      if (id === undefined) throw unseenLabel(l, labels, { file, line: e.line, field: "label" });
      v[id] = 1;
    }
    return v;
  },
};

/** 0/1 targets [n, labels] for the loss. */
const targetTensor = (targets: readonly number[][], labels: number) =>
  new Tensor(Float32Array.from(targets.flat()), [targets.length, labels]);

export const multilabel: TaskSpec<number[], MultiLabelOutput> = {
  name: "multilabel",
  auto: AutoModelForSequenceClassification,
  peftTaskType: "SEQ_CLS",
  defaultMetric: "f1_micro",
  crossValidation: "stratified",

  recognizes: (config, architecture) => isSequenceClassifier(config, architecture, "multi_label_classification"),
  prepare: (ctx) => prepareSequences(ctx, LABELS),
  readLabelled: (file, ctx) => readLabelledSequences(file, ctx, LABELS),
  headOptions: (labels) => ({ labels, problemType: "multi_label_classification" }),
  settings: (c) => plainSettings(c, "multilabel"),

  loss: (logits, _batch, targets) => bceWithLogitsLoss(logits, targetTensor(targets, logits.shape[1])),

  predict(ctx, rows, targets) {
    const out: MultiLabelOutput = { gold: [], pred: [], probs: [], meanLoss: NaN };
    const loss = new MeanLoss();
    const threshold = ctx.settings.threshold ?? 0.5;
    forEachBatch(ctx, rows, ({ logits, start, n }) => {
      const c = logits.shape[1];
      if (targets) {
        const gold = targets.slice(start, start + n);
        loss.add(bceWithLogitsLoss(logits, targetTensor(gold, c)).item() * n, n);
        out.gold.push(...gold);
      }
      for (const row of sigmoid(logits).toRows()) {
        out.probs.push(row);
        out.pred.push(row.map((v) => (v >= threshold ? 1 : 0)));
      }
    });
    out.meanLoss = loss.value;
    return out;
  },

  metrics: (p) => {
    const f1 = (average: string) => ({ metric: "f1", options: { average, zeroDivision: 0 } });
    const names = {
      f1_micro: f1("micro"),
      f1_macro: f1("macro"),
      f1_samples: f1("samples"),
      subset_accuracy: "accuracy",
    };
    return { loss: p.meanLoss, ...computeMetrics(names, { label: p.pred }, p.gold) };
  },

  predictionRecords: (p, inputs, labels) => {
    const names = (v: number[]) => labels.filter((_, k) => v[k]);
    return p.pred.map((pred, i) => ({
      text: inputs[i],
      label: p.gold.length ? names(p.gold[i]) : null,
      pred: names(pred),
      probs: p.probs[i].map((v) => +v.toFixed(6)),
    }));
  },

  encodeInputs: encodeSequenceInputs,

  decode: (logits, _rows, _inputs, { config, threshold }) =>
    predictLabels(logits, config, threshold !== null ? { threshold } : {}).map(
      (p): MultiLabelPrediction => ({
        task: "multilabel",
        labels: p.label === "" ? [] : p.label.split("|"),
        label: p.label,
        scores: p.scores,
        kind: "probability",
      }),
    ),
};
