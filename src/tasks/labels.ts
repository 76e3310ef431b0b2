/**
 * Label helpers the task kinds share: label names are discovered from the training data and checked against the
 * evaluation data (a label never seen in training is an error naming the file, line and field), and stored in
 * config.json as id2label/label2id. Each kind (tasks/kinds/) decides what its labels are.
 */
import { DataError } from "../util/errors.js";

/** The name of a registered task kind (tasks/registry.ts): "classification", "ner", ... */
export type TaskKind = string;

/** The labels of a multi-label field ("a|b|c"), trimmed, empty ones dropped. */
export function splitMultiLabel(label: string | number | undefined, sep: string): string[] {
  if (label === undefined) return [];
  return String(label)
    .split(sep)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** Label name → id. */
export function labelIndex(labels: readonly string[]): Map<string, number> {
  return new Map(labels.map((n, i) => [n, i]));
}

/** The error for a label of an evaluation file that the training data never had. */
export function unseenLabel(
  label: string,
  labels: readonly string[],
  where: { file: string; line: number; field: string },
): DataError {
  return new DataError(
    `label ${JSON.stringify(label)} was not seen in the training data (known: ${labels.join(", ")})`,
    where,
    "add examples of it to the training file, or remove them from the evaluation file",
  );
}
