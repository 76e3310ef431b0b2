/**
 * Label spaces of the fine-tuning tasks: discovered from the training data, checked against the evaluation data
 * (a label never seen in training is an error naming the file and line), and stored in config.json as
 * id2label/label2id.
 */
import { DataError } from "../util/errors.js";
import { sortLabels, type Example, type TaggedSentence } from "../data/index.js";

export type TaskKind = "classification" | "multilabel" | "regression" | "ner";

export interface LabelSpace {
  kind: TaskKind;
  /** Class names in id order (one "value" entry for regression). */
  names: string[];
}

function fileOf(e: { line: number }, file: string): { file: string; line: number } {
  return { file, line: e.line };
}

export function splitMultiLabel(label: string | number | undefined, sep: string): string[] {
  if (label === undefined) return [];
  return String(label)
    .split(sep)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** The label space of a classification-style task from its training examples. */
export function discoverLabels(
  kind: Exclude<TaskKind, "ner">,
  train: readonly Example[],
  file: string,
  sep = "|",
): LabelSpace {
  if (kind === "regression") {
    for (const e of train) {
      if (typeof e.label !== "number" || !Number.isFinite(e.label)) {
        throw new DataError(
          `regression target ${JSON.stringify(e.label)} is not a number`,
          { ...fileOf(e, file), field: "label" },
          "regression needs a numeric label column",
        );
      }
    }
    return { kind, names: ["value"] };
  }
  const all = new Set<string>();
  for (const e of train) {
    if (e.label === undefined) throw new DataError("example has no label", { ...fileOf(e, file), field: "label" });
    if (kind === "multilabel") for (const l of splitMultiLabel(e.label, sep)) all.add(l);
    else all.add(String(e.label));
  }
  const names = sortLabels(all);
  if (kind === "classification" && names.length < 2) {
    throw new DataError(
      `the training data has a single label (${JSON.stringify(names[0])}); classification needs at least two`,
      { file },
    );
  }
  return { kind, names };
}

export function discoverTags(train: readonly TaggedSentence[], file: string): LabelSpace {
  const all = new Set<string>();
  for (const s of train) for (const t of s.tags) all.add(t);
  if (all.size === 0) throw new DataError("the training data has no tagged tokens", { file });
  return { kind: "ner", names: sortLabels(all) };
}

/** Class id(s) of an example; throws for labels outside the space (e.g. unseen at training time). */
export function encodeLabel(space: LabelSpace, e: Example, file: string, sep = "|"): number | number[] {
  const index = new Map(space.names.map((n, i) => [n, i]));
  const where = { ...fileOf(e, file), field: "label" };
  const unseen = (l: string) =>
    new DataError(
      `label ${JSON.stringify(l)} was not seen in the training data (known: ${space.names.join(", ")})`,
      where,
      "add examples of it to the training file, or remove them from the evaluation file",
    );
  switch (space.kind) {
    case "regression":
      if (typeof e.label !== "number" || !Number.isFinite(e.label))
        throw new DataError(`regression target ${JSON.stringify(e.label)} is not a number`, where);
      return e.label;
    case "classification": {
      const id = index.get(String(e.label));
      if (id === undefined) throw unseen(String(e.label));
      return id;
    }
    case "multilabel": {
      const v = new Array<number>(space.names.length).fill(0);
      for (const l of splitMultiLabel(e.label, sep)) {
        const id = index.get(l);
        if (id === undefined) throw unseen(l);
        v[id] = 1;
      }
      return v;
    }
    case "ner":
      throw new Error("encodeLabel: NER labels are per token (see encodeTags)");
  }
}

export function encodeTags(space: LabelSpace, s: TaggedSentence, file: string): number[] {
  const index = new Map(space.names.map((n, i) => [n, i]));
  return s.tags.map((t, i) => {
    const id = index.get(t);
    if (id === undefined)
      throw new DataError(
        `tag ${JSON.stringify(t)} (token ${i + 1}, "${s.tokens[i]}") was not seen in the training data`,
        { file, line: s.line + i, field: "tag" },
      );
    return id;
  });
}
