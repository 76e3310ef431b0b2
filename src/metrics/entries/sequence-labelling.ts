/** Sequence-labelling metrics: seqeval's entity scores and report, and token accuracy. */
import { ArgumentError } from "../../util/errors.js";
import { pyFixed } from "../format.js";
import {
  entityPrecisionRecallF1,
  entityReport,
  tokenAccuracy,
  type EntityAverage,
} from "../sequence-labelling/index.js";
import { entry, one, type MetricEntry, type MetricOptions, type MetricResult } from "../entry.js";

function entityOptions(o: MetricOptions) {
  const zd = String(o.zeroDivision ?? "warn");
  if (zd !== "warn" && zd !== "0" && zd !== "1")
    throw new ArgumentError(`--zero-division for entity scores must be warn, 0 or 1, got "${zd}"`);
  const zeroDivision: "warn" | 0 | 1 = zd === "warn" ? "warn" : zd === "1" ? 1 : 0;
  return { mode: o.mode ?? "default", scheme: o.scheme, suffix: o.suffix, zeroDivision };
}

function tagEntry(
  name: string,
  aliases: string[],
  description: string,
  direction: "higher" | null,
  options: (keyof MetricOptions)[],
  compute: (yTrue: string[][], yPred: string[][], o: MetricOptions) => MetricResult[],
): MetricEntry {
  return entry<string[], string[]>({
    name,
    aliases,
    description,
    prediction: "tags",
    reference: "tags",
    references: "one",
    options,
    direction,
    format: direction === null ? "table" : "fraction",
    bootstrap: "none",
    compute: (input, o) => compute(input.references[0]! as string[][], input.predictions as string[][], o),
  });
}

export const SEQUENCE_LABELLING_METRICS: readonly MetricEntry[] = [
  tagEntry(
    "entity-f1",
    ["ner", "seqeval", "entity-precision", "entity-recall"],
    "entity-level F1 (seqeval; conlleval decoding or a strict scheme)",
    "higher",
    ["average", "zeroDivision", "mode", "scheme", "suffix"],
    (yTrue, yPred, opts) => {
      const o = entityOptions(opts);
      const average = (opts.average as EntityAverage | undefined) ?? "micro";
      const r = entityPrecisionRecallF1(yTrue, yPred, { ...o, average });
      return one(`entity F1 (${average}${o.mode === "strict" ? `, strict ${o.scheme}` : ""})`, r.fscore, {
        details: `P = ${pyFixed(r.precision, 4)} R = ${pyFixed(r.recall, 4)} support = ${r.support}`,
        values: { precision: r.precision, recall: r.recall, f1: r.fscore, support: r.support },
      });
    },
  ),
  tagEntry(
    "entity-report",
    [],
    "seqeval's classification report of entity types",
    null,
    ["zeroDivision", "mode", "scheme", "suffix", "digits"],
    (yTrue, yPred, opts) => {
      const r = entityReport(yTrue, yPred, { ...entityOptions(opts), digits: opts.digits });
      return one("entity report", NaN, {
        text: r.text.replace(/\n$/, ""),
        extra: { types: Object.fromEntries(r.rows), averages: Object.fromEntries(r.averages) },
      });
    },
  ),
  tagEntry("token-accuracy", [], "fraction of tags predicted exactly", "higher", [], (t, p) =>
    one("token accuracy", tokenAccuracy(t, p)),
  ),
];
