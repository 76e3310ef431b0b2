/**
 * Streaming evaluation shared by every task kind: batches go through the model one at a time (no gradients, eval
 * mode) and the kind keeps only what its metrics need per example, never the whole logits tensor of the set.
 */
import { type Tensor, noGrad } from "../tensor/index.js";
import type { Module } from "../nn/index.js";
import { usesTokenTypes, type ClassificationModel, type ClassifierOutput } from "../models/index.js";
import { padRows, type EncodedRow, type PaddedBatch } from "./encode.js";
import type { PredictContext } from "./spec.js";

/** The classifier's forward: logits [B, C] (or [B, T, C] for token classification). */
export type ForwardFn = (model: Module, batch: PaddedBatch) => Tensor;

/** The logits of a classifier for a padded batch; token type ids only for architectures that read them. */
export function classifierForward(modelType: string): ForwardFn {
  const useTypes = usesTokenTypes(modelType);
  return (m, b) =>
    (
      (m as ClassificationModel).forward({
        inputIds: b.inputIds,
        attentionMask: b.attentionMask,
        ...(useTypes ? { tokenTypeIds: b.tokenTypeIds } : {}),
        ...(b.segmentIds ? { segmentIds: b.segmentIds, positionIds: b.positionIds } : {}),
      }) as ClassifierOutput
    ).logits;
}

/** One evaluation batch: its logits, the padded batch, and where its rows start in the set. */
export interface EvalBatch {
  logits: Tensor;
  batch: PaddedBatch;
  start: number;
  /** Rows in this batch. */
  n: number;
}

/** Runs the model over `rows` in order, `ctx.batchSize` at a time, without gradients and in eval mode. */
export function forEachBatch(ctx: PredictContext, rows: readonly EncodedRow[], each: (b: EvalBatch) => void): void {
  const wasTraining = ctx.model.training;
  ctx.model.eval();
  noGrad(() => {
    for (let start = 0; start < rows.length; start += ctx.batchSize) {
      const n = Math.min(ctx.batchSize, rows.length - start);
      const batch = padRows(
        rows,
        Int32Array.from({ length: n }, (_, i) => start + i),
        ctx.padId,
      );
      each({ logits: ctx.forward(ctx.model, batch), batch, start, n });
    }
  });
  ctx.model.train(wasTraining);
}

/** A running mean of per-example losses (NaN when nothing was added). */
export class MeanLoss {
  private sum = 0;
  private count = 0;

  /** Adds `count` examples whose losses sum to `sum`. */
  add(sum: number, count: number): void {
    this.sum += sum;
    this.count += count;
  }

  get value(): number {
    return this.count > 0 ? this.sum / this.count : NaN;
  }
}
