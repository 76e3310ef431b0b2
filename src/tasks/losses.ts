/**
 * Fine-tuning losses with the class-imbalance options: class weights ("auto" = scikit-learn's "balanced"),
 * label smoothing, and focal loss (Lin et al. 2017: down-weights easy examples by (1 − p_t)^γ).
 */
import { ArgumentError } from "../util/errors.js";
import {
  Tensor,
  affine,
  crossEntropy,
  div,
  exp,
  logSoftmax,
  mul,
  neg,
  powScalar,
  sum,
  takeAlong,
  tensor,
} from "../tensor/index.js";

/** n / (C · count_c), as sklearn.utils.class_weight.compute_class_weight("balanced"). */
export function balancedClassWeights(labels: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  const missing = counts.indexOf(0);
  if (missing >= 0) throw new ArgumentError(`class weights: class ${missing} has no training examples`);
  return counts.map((c) => labels.length / (numClasses * c));
}

export interface ClassificationLossOptions {
  weights?: readonly number[] | null;
  labelSmoothing?: number;
  /** Focal loss γ (0 = plain cross-entropy). */
  focalGamma?: number;
}

/** Loss of logits [B, C] against i32 targets [B]; weighted means divide by the summed weights of the targets. */
export function classificationLoss(logits: Tensor, targets: Tensor, o: ClassificationLossOptions = {}): Tensor {
  const weight = o.weights ? tensor(o.weights) : null;
  const gamma = o.focalGamma ?? 0;
  if (gamma === 0) return crossEntropy(logits, targets, { weight, labelSmoothing: o.labelSmoothing ?? 0 });
  if (o.labelSmoothing) throw new ArgumentError("focal loss and label smoothing cannot be combined");
  const logpt = takeAlong(logSoftmax(logits), 1, targets); // [B]
  const modulating = powScalar(affine(exp(logpt), -1, 1), gamma); // (1 − p_t)^γ
  let per = neg(mul(modulating, logpt));
  if (!o.weights) return affine(sum(per), 1 / targets.size);
  const wt = Float32Array.from(targets.toArray(), (t) => o.weights![t]);
  per = mul(per, new Tensor(wt, [targets.size]));
  return div(
    sum(per),
    wt.reduce((a, b) => a + b, 0),
  );
}
