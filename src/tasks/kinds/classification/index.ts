/**
 * Single-label classification: one class per text, or per text pair (`textPairColumn`: the same kind, the
 * tokenizer encodes the two texts as one sequence with token types). Cross-entropy with the class-imbalance options
 * (class weights, label smoothing, focal loss, class-balanced sampling); a binary task can tune its decision
 * threshold on validation. Logits [B, C], softmax probabilities.
 */
import { ArgumentError, DataError } from "../../../util/errors.js";
import { Rng } from "../../../util/rng.js";
import { Tensor, softmax } from "../../../tensor/index.js";
import { TextClassifier, sortLabels } from "../../../data/index.js";
import { AutoModelForSequenceClassification, predictLabels } from "../../../models/index.js";
import { precisionRecallCurve } from "../../../metrics/classification/index.js";
import { computeMetrics } from "../../../metrics/index.js";
import { balancedClassWeights, classificationLoss } from "../../losses.js";
import { labelIndex, unseenLabel } from "../../labels.js";
import { MeanLoss, forEachBatch } from "../../evaluate.js";
import type { ClassPrediction, TaskSpec } from "../../spec.js";
import {
  encodeSequenceInputs,
  isSequenceClassifier,
  prepareSequences,
  readLabelledSequences,
  type SequenceLabels,
} from "../sequence.js";
import { constantClassifierWarnings, validationClassWarnings } from "./warnings.js";

/** Gold and predicted class ids, class probabilities per example, and the mean loss. */
export interface ClassOutput {
  gold: number[];
  pred: number[];
  probs: number[][];
  meanLoss: number;
}

const LABELS: SequenceLabels<number> = {
  discover(train, file) {
    const all = new Set<string>();
    for (const e of train) {
      if (e.label === undefined) throw new DataError("example has no label", { file, line: e.line, field: "label" });
      all.add(String(e.label));
    }
    const names = sortLabels(all);
    if (names.length < 2)
      throw new DataError(
        `the training data has a single label (${JSON.stringify(names[0])}); classification needs at least two`,
        { file },
      );
    return names;
  },
  encode(labels, e, file) {
    const id = labelIndex(labels).get(String(e.label));
    if (id === undefined) throw unseenLabel(String(e.label), labels, { file, line: e.line, field: "label" });
    return id;
  },
};

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

export const classification: TaskSpec<number, ClassOutput> = {
  name: "classification",
  auto: AutoModelForSequenceClassification,
  peftTaskType: "SEQ_CLS",
  defaultMetric: "f1_macro",
  crossValidation: "stratified",

  recognizes: (config, architecture) =>
    architecture.endsWith("ForSequenceClassification") &&
    !isSequenceClassifier(config, architecture, "regression") &&
    !isSequenceClassifier(config, architecture, "multi_label_classification"),
  prepare: (ctx) => prepareSequences(ctx, LABELS),
  readLabelled: (file, ctx) => readLabelledSequences(file, ctx, LABELS),
  headOptions: (labels) => ({ labels, problemType: "single_label_classification" }),

  settings(c, data) {
    const n = data.labels.length;
    const weights = c.classWeights === "auto" ? balancedClassWeights(data.train.targets, n) : c.classWeights;
    if (weights && weights.length !== n)
      throw new ArgumentError(`classWeights has ${weights.length} entries for ${n} labels`);
    if (c.tuneThreshold && n !== 2) throw new ArgumentError("threshold tuning needs a binary classification task");
    return {
      weights: weights ?? null,
      labelSmoothing: c.labelSmoothing,
      focalGamma: c.focalGamma,
      threshold: null,
      ...(c.sampler === "weighted" ? { order: weightedOrder(data.train.targets, n) } : {}),
    };
  },

  loss: (logits, _batch, targets, s) =>
    classificationLoss(logits, new Tensor(Int32Array.from(targets), [targets.length]), s),

  predict(ctx, rows, targets) {
    const out: ClassOutput = { gold: [], pred: [], probs: [], meanLoss: NaN };
    const loss = new MeanLoss();
    const threshold = ctx.settings.threshold;
    forEachBatch(ctx, rows, ({ logits, start, n }) => {
      const c = logits.shape[1];
      if (targets) {
        const gold = targets.slice(start, start + n);
        // the evaluation loss weighs classes as training does, without smoothing or focusing
        const l = classificationLoss(logits, new Tensor(Int32Array.from(gold), [n]), { weights: ctx.settings.weights });
        loss.add(l.item() * n, n);
        out.gold.push(...gold);
      }
      for (const row of softmax(logits).toRows()) {
        out.probs.push(row);
        if (c === 2 && threshold !== null) out.pred.push(row[1] >= threshold ? 1 : 0);
        else out.pred.push(row.indexOf(Math.max(...row)));
      }
    });
    out.meanLoss = loss.value;
    return out;
  },

  // metrics by the registry's names (metrics/registry.ts); every class counts in the averages, even one that the
  // evaluated set lacks, and an undefined ratio is 0 (scikit-learn's zero_division=0)
  metrics(p, names) {
    const labels = names.map((_, i) => i);
    const avg = (metric: string, average: string) => ({ metric, options: { average, labels, zeroDivision: 0 } });
    const out: Record<string, number> = {
      loss: p.meanLoss,
      ...computeMetrics(
        {
          accuracy: "accuracy",
          f1_macro: avg("f1", "macro"),
          f1_weighted: avg("f1", "weighted"),
          precision_macro: avg("precision", "macro"),
          recall_macro: avg("recall", "macro"),
          mcc: "mcc",
        },
        { label: p.pred },
        p.gold,
      ),
    };
    if (names.length === 2 && new Set(p.gold).size === 2) {
      const scores = p.probs.map((r) => r[1]);
      const binary = {
        f1: { metric: "f1", options: { average: "binary", zeroDivision: 0 } },
        roc_auc: "roc-auc",
        pr_auc: "pr-auc",
      };
      Object.assign(out, computeMetrics(binary, { label: p.pred, scores }, p.gold));
    }
    return out;
  },

  tuneThreshold: (validation) =>
    bestF1Threshold(
      validation.gold,
      validation.probs.map((p) => p[1]),
    ),

  baseline(data) {
    // the same examples the model learned from: train, plus validation when the scores are on a test split
    const fitSplits = data.testSplit === "test" ? [data.train, data.validation] : [data.train];
    const texts = fitSplits.flatMap((s) => s.inputs as string[]);
    const gold = fitSplits.flatMap((s) => s.targets.map((t) => data.labels[t]));
    if (new Set(gold).size < 2) return null;
    const clf = TextClassifier.fit(texts, gold, { model: "logreg" });
    const index = new Map(data.labels.map((l, i) => [l, i]));
    const pred = clf.predict(data.test.inputs as string[]).map((p) => index.get(p.label)!);
    const metrics = computeMetrics(
      {
        accuracy: "accuracy",
        f1_macro: {
          metric: "f1",
          options: { average: "macro", labels: data.labels.map((_, i) => i), zeroDivision: 0 },
        },
      },
      { label: pred },
      data.test.targets,
    );
    return { accuracy: metrics.accuracy, f1_macro: metrics.f1_macro };
  },

  dataWarnings: (data) => validationClassWarnings(data.validation.targets, data.labels),
  predictionWarnings: (p, labels, split) => constantClassifierWarnings(p.gold, p.pred, labels, split),

  predictionRecords: (p, inputs, labels) =>
    p.pred.map((pred, i) => ({
      text: inputs[i],
      label: p.gold.length ? labels[p.gold[i]] : null,
      pred: labels[pred],
      probs: p.probs[i].map((v) => +v.toFixed(6)),
    })),

  encodeInputs: encodeSequenceInputs,

  decode(logits, _rows, _inputs, { config, threshold }) {
    const labels = Object.keys(config.id2label).map((i) => config.id2label[Number(i)]);
    return predictLabels(logits, config).map((p): ClassPrediction => {
      // a tuned binary threshold applies to the positive class's probability, as graft finetune tuned it
      const binary = threshold !== null && labels.length === 2 && p.kind === "probability";
      const label = binary ? (p.scores[labels[1]] >= threshold ? labels[1] : labels[0]) : p.label;
      return {
        task: "classification",
        label,
        scores: p.scores,
        kind: p.kind === "probability" ? "probability" : "decision",
      };
    });
  },
};
