/**
 * From a sequence classifier's logits to labels and scores, as transformers' text-classification pipeline turns
 * them: the raw value for regression, a sigmoid per label for multi-label (or a single-label head with one output),
 * a softmax otherwise; label names from the config's id2label.
 */
import { ShapeError, fmtShape } from "../util/errors.js";
import type { Tensor } from "../tensor/index.js";
import type { BaseConfig } from "../io/config.js";

export interface LabelPrediction {
  /** The best label; for multi-label, every label whose probability reaches the threshold, joined by "|" ("" for none). */
  label: string;
  /** Score of each label: probabilities, or the predicted value for regression. */
  scores: Record<string, number>;
  kind: "probability" | "value";
}

export type ScoreFunction = "softmax" | "sigmoid" | "none";

/** The pipeline's function_to_apply for a config. */
export function scoreFunction(config: BaseConfig): ScoreFunction {
  const n = Object.keys(config.id2label).length;
  if (config.problem_type === "regression") return "none";
  if (config.problem_type === "multi_label_classification" || n === 1) return "sigmoid";
  return "softmax";
}

/** logits [B, C] → one prediction per row. */
export function predictLabels(
  logits: Tensor,
  config: BaseConfig,
  opts: { threshold?: number } = {},
): LabelPrediction[] {
  if (logits.rank !== 2)
    throw new ShapeError(`predictLabels: logits must be [batch, labels], got ${fmtShape(logits.shape)}`);
  const [b, c] = logits.shape;
  const names = Array.from({ length: c }, (_, i) => config.id2label[i] ?? `LABEL_${i}`);
  const fn = scoreFunction(config);
  const threshold = opts.threshold ?? 0.5;
  const out: LabelPrediction[] = [];
  const flat = logits.toArray();
  for (let r = 0; r < b; r++) {
    const row = flat.slice(r * c, (r + 1) * c);
    let scores = row;
    if (fn === "sigmoid") scores = row.map((x) => 1 / (1 + Math.exp(-x)));
    else if (fn === "softmax") {
      const m = Math.max(...row);
      const e = row.map((x) => Math.exp(x - m));
      const z = e.reduce((s, v) => s + v, 0);
      scores = e.map((v) => v / z);
    }
    const best = scores.indexOf(Math.max(...scores));
    const label =
      config.problem_type === "multi_label_classification"
        ? names.filter((_, i) => scores[i] >= threshold).join("|")
        : names[best];
    out.push({
      label,
      scores: Object.fromEntries(names.map((n, i) => [n, scores[i]])),
      kind: fn === "none" ? "value" : "probability",
    });
  }
  return out;
}
