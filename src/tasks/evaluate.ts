/**
 * Streaming evaluation: batches go through the model one at a time (no gradients) and only what the metrics need
 * is kept per example — the predicted class and the class probabilities, or per-word tags for NER — never the
 * whole logits tensor of the set. Metrics come from metrics/ (scikit-learn's and seqeval's definitions).
 */
import { Tensor, noGrad, sigmoid, softmax } from "../tensor/index.js";
import type { Module } from "../nn/index.js";
import {
  accuracy,
  averagePrecision,
  f1,
  matthewsCorrcoef,
  precision,
  recall,
  rocAuc,
} from "../metrics/classification/index.js";
import { entityPrecisionRecallF1, tokenAccuracy } from "../metrics/sequence-labelling/index.js";
import {
  meanAbsoluteError,
  meanSquaredError,
  pearson,
  r2Score,
  rootMeanSquaredError,
  spearman,
} from "../metrics/regression.js";
import { padRows, type EncodedRow, type EncodedTokens, type PaddedBatch } from "./encode.js";
import { classificationLoss, type ClassificationLossOptions } from "./losses.js";
import type { LabelSpace } from "./labels.js";
import { bceWithLogitsLoss, mseLoss, type ClassificationModel, type ClassifierOutput } from "../models/index.js";

/** The classifier's forward: logits [B, C] (or [B, T, C] for NER). */
export type ForwardFn = (model: Module, batch: PaddedBatch) => Tensor;

/** The logits of a classifier for a padded batch; token types only for BERT (other architectures have none). */
export function classifierForward(modelType: string): ForwardFn {
  const useTypes = modelType === "bert";
  return (m, b) =>
    (
      (m as ClassificationModel).forward({
        inputIds: b.inputIds,
        attentionMask: b.attentionMask,
        ...(useTypes ? { tokenTypeIds: b.tokenTypeIds } : {}),
      }) as ClassifierOutput
    ).logits;
}

export interface Predictions {
  kind: LabelSpace["kind"];
  /** Gold and predicted class ids (classification), 0/1 vectors (multi-label), values (regression). */
  gold: (number | number[])[];
  pred: (number | number[])[];
  /** Class probabilities per example (classification / multi-label). */
  probs: number[][];
  /** NER: gold and predicted tag names per word. */
  goldTags: string[][];
  predTags: string[][];
  meanLoss: number;
}

/** Runs the model over rows in batches and collects predictions (and the mean loss). */
export function predictRows(
  model: Module,
  forward: ForwardFn,
  space: LabelSpace,
  rows: readonly (EncodedRow | EncodedTokens)[],
  targets: readonly (number | number[])[] | null,
  opts: { batchSize: number; padId: number; loss?: ClassificationLossOptions; threshold?: number },
): Predictions {
  const out: Predictions = {
    kind: space.kind,
    gold: [],
    pred: [],
    probs: [],
    goldTags: [],
    predTags: [],
    meanLoss: NaN,
  };
  let lossSum = 0,
    lossCount = 0;
  const wasTraining = model.training;
  model.eval();
  noGrad(() => {
    for (let start = 0; start < rows.length; start += opts.batchSize) {
      const idx = Int32Array.from({ length: Math.min(opts.batchSize, rows.length - start) }, (_, i) => start + i);
      const batch = padRows(rows, idx, opts.padId);
      const logits = forward(model, batch);
      const n = idx.length;
      if (space.kind === "ner") {
        const [, t, c] = logits.shape;
        if (batch.tokenLabels && targets) {
          // token loss over first sub-tokens only
          const loss = classificationLossTokens(logits, batch.tokenLabels);
          if (loss) {
            lossSum += loss.sum;
            lossCount += loss.count;
          }
        }
        const lv = logits.toFloat32Array();
        for (let i = 0; i < n; i++) {
          const r = rows[start + i] as EncodedTokens;
          const tags = r.wordStarts.map((pos) => {
            if (pos < 0) return "O"; // truncated away: predicted outside any entity
            let best = 0;
            for (let k = 1; k < c; k++) if (lv[(i * t + pos) * c + k] > lv[(i * t + pos) * c + best]) best = k;
            return space.names[best];
          });
          out.predTags.push(tags);
          if (targets) out.goldTags.push((targets[start + i] as number[]).map((id) => space.names[id]));
        }
        continue;
      }
      const c = logits.shape[1];
      const gold = targets ? targets.slice(start, start + n) : null;
      if (gold) {
        let loss: Tensor;
        if (space.kind === "regression")
          loss = mseLoss(logits, new Tensor(Float32Array.from(gold as number[]), [n, 1]));
        else if (space.kind === "multilabel")
          loss = bceWithLogitsLoss(logits, new Tensor(Float32Array.from((gold as number[][]).flat()), [n, c]));
        else
          loss = classificationLoss(logits, new Tensor(Int32Array.from(gold as number[]), [n]), {
            weights: opts.loss?.weights ?? null,
          });
        lossSum += loss.item() * n;
        lossCount += n;
        out.gold.push(...gold);
      }
      if (space.kind === "regression") {
        out.pred.push(...logits.toArray().slice(0, n));
        continue;
      }
      const p = (space.kind === "multilabel" ? sigmoid(logits) : softmax(logits)).toArray();
      for (let i = 0; i < n; i++) {
        const row = p.slice(i * c, (i + 1) * c);
        out.probs.push(row);
        if (space.kind === "multilabel") out.pred.push(row.map((v) => (v >= (opts.threshold ?? 0.5) ? 1 : 0)));
        else if (c === 2 && opts.threshold !== undefined) out.pred.push(row[1] >= opts.threshold ? 1 : 0);
        else out.pred.push(row.indexOf(Math.max(...row)));
      }
    }
  });
  model.train(wasTraining);
  out.meanLoss = lossCount > 0 ? lossSum / lossCount : NaN;
  return out;
}

function classificationLossTokens(logits: Tensor, labels: Tensor): { sum: number; count: number } | null {
  const [b, t, c] = logits.shape;
  let sum = 0,
    count = 0;
  const ys = labels.toArray(),
    lv = logits.toFloat32Array();
  for (let r = 0; r < b * t; r++) {
    const y = ys[r];
    if (y < 0) continue;
    const o = r * c;
    let max = -Infinity;
    for (let k = 0; k < c; k++) max = Math.max(max, lv[o + k]);
    let s = 0;
    for (let k = 0; k < c; k++) s += Math.exp(lv[o + k] - max);
    sum += max + Math.log(s) - lv[o + y];
    count++;
  }
  return count ? { sum, count } : null;
}

/** The task's metrics from collected predictions (names without the eval_ prefix). */
export function computeMetrics(space: LabelSpace, p: Predictions): Record<string, number> {
  const m: Record<string, number> = { loss: p.meanLoss };
  switch (space.kind) {
    case "ner": {
      const prf = entityPrecisionRecallF1(p.goldTags, p.predTags, { zeroDivision: 0 });
      return {
        ...m,
        precision: prf.precision,
        recall: prf.recall,
        f1: prf.fscore,
        token_accuracy: tokenAccuracy(p.goldTags, p.predTags),
      };
    }
    case "regression": {
      const y = p.gold as number[],
        yhat = p.pred as number[];
      return {
        ...m,
        mse: meanSquaredError(y, yhat),
        rmse: rootMeanSquaredError(y, yhat),
        mae: meanAbsoluteError(y, yhat),
        r2: r2Score(y, yhat),
        pearson: pearson(y, yhat),
        spearman: spearman(y, yhat),
      };
    }
    case "multilabel": {
      const gold = p.gold as number[][],
        pred = p.pred as number[][];
      return {
        ...m,
        f1_micro: f1(gold, pred, { average: "micro", zeroDivision: 0 }),
        f1_macro: f1(gold, pred, { average: "macro", zeroDivision: 0 }),
        f1_samples: f1(gold, pred, { average: "samples", zeroDivision: 0 }),
        subset_accuracy: accuracy(gold, pred),
      };
    }
    case "classification": {
      const gold = p.gold as number[],
        pred = p.pred as number[];
      const labels = space.names.map((_, i) => i);
      const out: Record<string, number> = {
        ...m,
        accuracy: accuracy(gold, pred),
        f1_macro: f1(gold, pred, { average: "macro", labels, zeroDivision: 0 }),
        f1_weighted: f1(gold, pred, { average: "weighted", labels, zeroDivision: 0 }),
        precision_macro: precision(gold, pred, { average: "macro", labels, zeroDivision: 0 }),
        recall_macro: recall(gold, pred, { average: "macro", labels, zeroDivision: 0 }),
        mcc: matthewsCorrcoef(gold, pred),
      };
      if (space.names.length === 2 && new Set(gold).size === 2) {
        const pos = p.probs.map((r) => r[1]);
        out.f1 = f1(gold, pred, { average: "binary", zeroDivision: 0 });
        out.roc_auc = rocAuc(gold, pos) as number;
        out.pr_auc = averagePrecision(gold, pos) as number;
      }
      return out;
    }
  }
}
