/** The per-class precision/recall/F1/support table of sklearn.metrics.classification_report. */
import { ArgumentError } from "../../util/errors.js";
import { padLeft, pyFixed } from "../format.js";
import { pairwiseSum, type NumericArray } from "../numeric.js";
import { warn } from "../warnings.js";
import { checkTargets, normLabel, uniqueLabels, type Indicator, type Label, type Labels } from "./labels.js";
import { precisionRecallFscoreSupport, type Average, type ZeroDivision } from "./prf.js";

export interface ReportRow {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  /** Per class, keyed by target name, in label order. */
  classes: [string, ReportRow][];
  /** "accuracy" (single-label, all labels) or micro avg, then macro avg, weighted avg (and samples avg). */
  averages: [string, ReportRow][];
  /** Present instead of a "micro avg" row when micro-averaged F1 equals accuracy. */
  accuracy?: number;
  /** The text table, formatted as scikit-learn prints it. */
  text: string;
}

export interface ReportOptions {
  labels?: readonly Label[];
  targetNames?: readonly string[];
  sampleWeight?: NumericArray;
  digits?: number;
  zeroDivision?: ZeroDivision;
}

export function classificationReport(
  yTrue: Labels | Indicator,
  yPred: Labels | Indicator,
  options: ReportOptions = {},
): ClassificationReport {
  const what = "classificationReport";
  const { type, width } = checkTargets(what, yTrue, yPred);
  const multilabel = type === "multilabel-indicator";
  const labelsGiven = options.labels !== undefined;
  const present = multilabel
    ? Array.from({ length: width }, (_, i) => i)
    : uniqueLabels(yTrue as Labels, yPred as Labels);
  const labels = labelsGiven ? options.labels!.map(normLabel) : present;
  const microIsAccuracy =
    !multilabel &&
    (!labelsGiven || (new Set(labels).size === present.length && present.every((l) => labels.includes(l))));
  let names = options.targetNames ? [...options.targetNames] : labels.map(String);
  if (options.targetNames && options.targetNames.length !== labels.length) {
    if (!labelsGiven) {
      throw new ArgumentError(
        `${what}: ${labels.length} classes but ${options.targetNames.length} target names`,
        "pass labels to say which class each name belongs to",
      );
    }
    warn(`labels size, ${labels.length}, does not match size of targetNames, ${options.targetNames.length}`);
    names = labels.map((l, i) => options.targetNames![i] ?? String(l));
  }
  const digits = options.digits ?? 2;
  const common = { labels, sampleWeight: options.sampleWeight, zeroDivision: options.zeroDivision ?? "warn" };
  const per = precisionRecallFscoreSupport(yTrue, yPred, { ...common, average: null });
  const classes: [string, ReportRow][] = names.map((nm, i) => [
    nm,
    { precision: per.precision[i]!, recall: per.recall[i]!, f1: per.fscore[i]!, support: per.support[i]! },
  ]);
  const totalSupport = pairwiseSum(per.support);
  const averages: [string, ReportRow][] = [];
  let accuracy: number | undefined;
  const kinds: Average[] = multilabel ? ["micro", "macro", "weighted", "samples"] : ["micro", "macro", "weighted"];
  for (const avg of kinds) {
    const r = precisionRecallFscoreSupport(yTrue, yPred, { ...common, average: avg });
    const heading = avg === "micro" && microIsAccuracy ? "accuracy" : `${avg} avg`;
    if (heading === "accuracy") accuracy = r.fscore;
    averages.push([heading, { precision: r.precision, recall: r.recall, f1: r.fscore, support: totalSupport }]);
  }
  const w = Math.max(...names.map((n) => n.length), "weighted avg".length, digits);
  const num = (x: number) => pyFixed(x, digits);
  let text = `${padLeft("", w)} ${["precision", "recall", "f1-score", "support"].map((h) => " " + padLeft(h, 9)).join("")}\n\n`;
  const row = (nm: string, cells: string[]) => `${padLeft(nm, w)} ${cells.map((c) => " " + padLeft(c, 9)).join("")}\n`;
  for (const [nm, r] of classes) text += row(nm, [num(r.precision), num(r.recall), num(r.f1), String(r.support)]);
  text += "\n";
  for (const [nm, r] of averages) {
    if (nm === "accuracy") text += row(nm, ["", "", num(r.f1), String(r.support)]);
    else text += row(nm, [num(r.precision), num(r.recall), num(r.f1), String(r.support)]);
  }
  return { classes, averages, ...(accuracy !== undefined ? { accuracy } : {}), text };
}
