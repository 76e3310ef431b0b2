/**
 * The losses the heads compute when given labels, as transformers' heads compute them: sequence classification picks
 * MSE, cross-entropy or BCE-with-logits by `problem_type`, inferring it (and remembering it in the config) exactly
 * as transformers does when the config has none.
 */
import { ShapeError, fmtShape } from "../util/errors.js";
import {
  type Tensor,
  abs,
  add,
  crossEntropy,
  exp,
  log,
  mean,
  mul,
  neg,
  relu,
  reshape,
  slice,
  square,
  sub,
} from "../tensor/index.js";
import type { BaseConfig, ProblemType } from "../io/config.js";
import type { ClassifierOutput, LayerOutputs, LMOutput, ModelInputs } from "./interfaces.js";

/** mean((x - y)²), as torch.nn.MSELoss. */
export function mseLoss(x: Tensor, y: Tensor): Tensor {
  if (x.size !== y.size)
    throw new ShapeError(`mseLoss: predictions ${fmtShape(x.shape)} and targets ${fmtShape(y.shape)} differ in size`);
  return mean(square(sub(x, reshape(y, x.shape))));
}

/** mean(max(x, 0) - x·y + log(1 + e^-|x|)), the stable form torch.nn.BCEWithLogitsLoss uses. */
export function bceWithLogitsLoss(x: Tensor, y: Tensor): Tensor {
  if (x.size !== y.size)
    throw new ShapeError(
      `bceWithLogitsLoss: logits ${fmtShape(x.shape)} and targets ${fmtShape(y.shape)} differ in size`,
    );
  const t = reshape(y, x.shape);
  return mean(add(sub(relu(x), mul(x, t)), log(add(exp(neg(abs(x))), 1))));
}

/**
 * Sequence-classification loss for logits [B, C]. problem_type, when the config has none, becomes "regression" for
 * one label, "single_label_classification" for integer labels, "multi_label_classification" otherwise — and is
 * stored in the config, as transformers stores it (so it is saved with the model).
 */
export function sequenceClassificationLoss(logits: Tensor, labels: Tensor, config: BaseConfig): Tensor {
  const [batch, numLabels] = logits.shape;
  let problem: ProblemType | null = config.problem_type;
  if (problem === null) {
    if (numLabels === 1) problem = "regression";
    else if (labels.dtype === "i32") problem = "single_label_classification";
    else problem = "multi_label_classification";
    config.problem_type = problem;
  }
  switch (problem) {
    case "regression":
      if (labels.dtype !== "f32")
        throw new ShapeError(`regression labels must be f32, got i32${fmtShape(labels.shape)}`);
      if (labels.size !== batch * numLabels)
        throw new ShapeError(
          `regression labels ${fmtShape(labels.shape)} do not match logits ${fmtShape(logits.shape)}`,
        );
      return mseLoss(logits, labels);
    case "single_label_classification":
      if (labels.dtype !== "i32" || labels.size !== batch)
        throw new ShapeError(
          `single-label classification needs one integer label per example ([${batch}] i32), got ${labels.dtype}${fmtShape(labels.shape)}`,
        );
      return crossEntropy(logits, reshape(labels, [batch]));
    case "multi_label_classification":
      if (labels.dtype !== "f32" || labels.size !== batch * numLabels)
        throw new ShapeError(
          `multi-label classification needs f32 labels [${batch}, ${numLabels}] (0/1 per label), got ${labels.dtype}${fmtShape(labels.shape)}`,
        );
      return bceWithLogitsLoss(logits, labels);
  }
}

/** Cross-entropy over every position of logits [B, T, C] against i32 labels [B, T]; -100 is ignored (MLM, NER). */
export function tokenLoss(logits: Tensor, labels: Tensor): Tensor {
  const classes = logits.shape[logits.rank - 1];
  const rows = logits.size / classes;
  if (labels.dtype !== "i32" || labels.size !== rows)
    throw new ShapeError(
      `token labels must be i32 with one label per position (${rows}), got ${labels.dtype}${fmtShape(labels.shape)}`,
    );
  return crossEntropy(reshape(logits, [rows, classes]), reshape(labels, [rows]));
}

/** Next-token loss: logits [B, T, V] at position t predict labels[t + 1] (transformers shifts inside the model). */
export function causalLmLoss(logits: Tensor, labels: Tensor): Tensor {
  const [b, t, v] = logits.shape;
  if (labels.dtype !== "i32" || labels.rank !== 2 || labels.shape[0] !== b || labels.shape[1] !== t) {
    throw new ShapeError(`causal LM labels must be i32 [${b}, ${t}], got ${labels.dtype}${fmtShape(labels.shape)}`);
  }
  if (t < 2) throw new ShapeError(`causal LM loss needs sequences of at least 2 tokens, got ${t}`);
  const shifted = slice(logits, 1, 0, t - 1); // [B, T-1, V]
  const targets = slice(labels, 1, 1, t); // [B, T-1]
  return crossEntropy(reshape(shifted, [b * (t - 1), v]), reshape(targets, [b * (t - 1)]));
}

// ---- a head's output: its logits, the loss when labels are given, and the base model's layer outputs

/** Sequence-classification output: logits [B, C] and, with labels, sequenceClassificationLoss. */
export function sequenceClassifierOutput(
  logits: Tensor,
  inputs: ModelInputs,
  config: BaseConfig,
  base: LayerOutputs,
): ClassifierOutput {
  const loss = inputs.labels ? sequenceClassificationLoss(logits, inputs.labels, config) : null;
  return { logits, loss, hiddenStates: base.hiddenStates ?? null, attentions: base.attentions ?? null };
}

/** Per-token output (token classification, masked LM): logits [B, T, C] and, with labels, tokenLoss. */
export function tokenOutput(logits: Tensor, inputs: ModelInputs, base: LayerOutputs): ClassifierOutput & LMOutput {
  const loss = inputs.labels ? tokenLoss(logits, inputs.labels) : null;
  return { logits, loss, hiddenStates: base.hiddenStates ?? null, attentions: base.attentions ?? null };
}
