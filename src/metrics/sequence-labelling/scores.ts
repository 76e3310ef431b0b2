/**
 * Entity-level precision, recall and F1 as seqeval (1.2) computes them: an entity is right only
 * if its type and both boundaries match. Default mode decodes tags with conlleval's lenient rules
 * (and matches conlleval.pl's numbers); mode "strict" decodes with a declared scheme and drops
 * ill-formed chunks. Per-type scores are over the sorted entity types seen in either sequence;
 * averages are micro (the default, as conlleval reports), macro or weighted by support.
 */
import { ArgumentError, ShapeError } from "../../util/errors.js";
import { padLeft, pyFixed } from "../format.js";
import { pairwiseSum, weightedMean } from "../numeric.js";
import { warn } from "../warnings.js";
import { compareStrings } from "../classification/labels.js";
import { getEntities } from "./chunks.js";
import { strictEntities, type Scheme } from "./schemes.js";

export type Sentences = readonly (readonly string[])[];
export type EntityAverage = "micro" | "macro" | "weighted";

export interface EntityOptions {
  /** "default": conlleval-compatible; "strict": well-formed entities of `scheme` only. */
  mode?: "default" | "strict";
  scheme?: Scheme;
  /** Tags are TYPE-PREFIX ("PER-B") instead of PREFIX-TYPE. */
  suffix?: boolean;
  beta?: number;
  /** 0/0 gives 0 with a warning ("warn", the default), 0 or 1. */
  zeroDivision?: "warn" | 0 | 1;
}

export interface EntityCounts {
  types: string[];
  tp: number[];
  pred: number[];
  true: number[];
}

function checkSentences(yTrue: Sentences, yPred: Sentences): void {
  if (
    !Array.isArray(yTrue) ||
    !Array.isArray(yPred) ||
    yTrue.some((s) => !Array.isArray(s)) ||
    yPred.some((s) => !Array.isArray(s))
  ) {
    throw new ArgumentError("entity scores: yTrue and yPred must be lists of sentences, each a list of tags");
  }
  if (yTrue.length !== yPred.length)
    throw new ShapeError(`entity scores: yTrue has ${yTrue.length} sentences but yPred has ${yPred.length}`);
  yTrue.forEach((s, i) => {
    if (s.length !== yPred[i]!.length) {
      throw new ShapeError(
        `entity scores: sentence ${i + 1} has ${s.length} true tags but ${yPred[i]!.length} predicted tags`,
        "predict exactly one tag per token",
      );
    }
  });
}

/** Entities keyed "type\u0000sentence\u0000start\u0000end" by type. */
function entitySets(y: Sentences, o: EntityOptions, name: string): Map<string, Set<string>> {
  const byType = new Map<string, Set<string>>();
  const add = (type: string, key: string) => {
    let s = byType.get(type);
    if (!s) byType.set(type, (s = new Set()));
    s.add(key);
  };
  if ((o.mode ?? "default") === "strict") {
    if (!o.scheme)
      throw new ArgumentError(
        'entity scores: mode "strict" needs a scheme',
        "pass scheme: IOB1, IOB2, IOE1, IOE2, IOBES or BILOU",
      );
    y.forEach((sent, i) => {
      for (const [type, s, e] of strictEntities(sent, o.scheme!, {
        suffix: o.suffix,
        where: `${name} sentence ${i + 1}`,
      }))
        add(type, `${i}:${s}:${e}`);
    });
  } else {
    for (const [type, s, e] of getEntities(y, { suffix: o.suffix })) add(type, `${s}:${e}`);
  }
  return byType;
}

/** Per-type counts of correct, predicted and true entities. */
export function entityCounts(yTrue: Sentences, yPred: Sentences, options: EntityOptions = {}): EntityCounts {
  checkSentences(yTrue, yPred);
  const mode = options.mode ?? "default";
  if (mode !== "default" && mode !== "strict")
    throw new ArgumentError(`entity scores: mode must be "default" or "strict", got ${String(mode)}`);
  const t = entitySets(yTrue, options, "yTrue"),
    p = entitySets(yPred, options, "yPred");
  const types = [...new Set([...t.keys(), ...p.keys()])].sort(compareStrings);
  const counts: EntityCounts = { types, tp: [], pred: [], true: [] };
  for (const type of types) {
    const ts = t.get(type) ?? new Set<string>(),
      ps = p.get(type) ?? new Set<string>();
    let tp = 0;
    for (const k of ps) if (ts.has(k)) tp++;
    counts.tp.push(tp);
    counts.pred.push(ps.size);
    counts.true.push(ts.size);
  }
  return counts;
}

type WarnFor = "precision" | "recall" | "f-score";

function divide(
  num: number[],
  den: number[],
  metric: WarnFor,
  modifier: string,
  warnFor: readonly WarnFor[],
  zd: "warn" | 0 | 1,
): number[] {
  let ill = false;
  const out = num.map((n, i) => {
    if (den[i] === 0) {
      ill = true;
      return zd === 1 ? 1 : 0;
    }
    return n / den[i]!;
  });
  if (ill && zd === "warn" && warnFor.includes(metric)) {
    const start = warnFor.includes("f-score")
      ? `${metric[0]!.toUpperCase()}${metric.slice(1)} and F-score are`
      : `${metric[0]!.toUpperCase()}${metric.slice(1)} is`;
    warn(
      `${start} ill-defined and being set to 0.0 ${num.length === 1 ? "due to" : "in labels with"} no ${modifier} samples. Use \`zeroDivision\` to control this behavior.`,
    );
  }
  return out;
}

export interface EntityPrf {
  types: string[];
  precision: number[];
  recall: number[];
  fscore: number[];
  support: number[];
}

export interface EntityAveragedPrf {
  precision: number;
  recall: number;
  fscore: number;
  support: number;
}

function compute(
  yTrue: Sentences,
  yPred: Sentences,
  average: EntityAverage | null,
  o: EntityOptions,
  warnFor: readonly WarnFor[],
): EntityPrf | EntityAveragedPrf {
  const beta = o.beta ?? 1;
  if (!(beta >= 0)) throw new ArgumentError(`entity scores: beta must be ≥ 0, got ${beta}`);
  if (average !== null && !["micro", "macro", "weighted"].includes(average))
    throw new ArgumentError(`entity scores: average must be micro, macro, weighted or null, got ${String(average)}`);
  const zd = o.zeroDivision ?? "warn";
  if (zd !== "warn" && zd !== 0 && zd !== 1)
    throw new ArgumentError(`entity scores: zeroDivision must be "warn", 0 or 1, got ${String(zd)}`);
  const c = entityCounts(yTrue, yPred, o);
  let { tp, pred, true: tru } = c;
  if (average === "micro") {
    tp = [tp.reduce((a, b) => a + b, 0)];
    pred = [pred.reduce((a, b) => a + b, 0)];
    tru = [tru.reduce((a, b) => a + b, 0)];
  }
  const precision = divide(tp, pred, "precision", "predicted", warnFor, zd);
  const recall = divide(tp, tru, "recall", "true", warnFor, zd);
  if (
    zd === "warn" &&
    warnFor.length === 1 &&
    warnFor[0] === "f-score" &&
    tru.some((t, i) => t === 0 && pred[i] === 0)
  ) {
    warn(
      `F-score is ill-defined and being set to 0.0 ${tru.length === 1 ? "due to" : "in labels with"} no true nor predicted samples. Use \`zeroDivision\` to control this behavior.`,
    );
  }
  const b2 = beta * beta;
  const fscore =
    beta === Infinity
      ? recall
      : precision.map((p, i) => {
          const d = b2 * p + recall[i]!;
          return ((1 + b2) * p * recall[i]!) / (d === 0 ? 1 : d);
        });
  const totalTrue = c.true.reduce((a, b) => a + b, 0);
  if (average === null) return { types: c.types, precision, recall, fscore, support: c.true };
  if (average === "weighted" && pairwiseSum(tru) === 0) {
    // seqeval: with no true entities the weighted average is the zero-division value.
    const z = zd === 1 ? 1 : 0;
    const noPred = pairwiseSum(pred) === 0;
    return { precision: noPred ? z : 0, recall: z, fscore: noPred ? z : 0, support: totalTrue };
  }
  if (precision.length === 0) warn("no entities in yTrue or yPred: the macro average of nothing is NaN");
  const w = average === "weighted" ? tru : undefined;
  const avg = (a: number[]) => (a.length === 0 ? NaN : weightedMean(a, w));
  return { precision: avg(precision), recall: avg(recall), fscore: avg(fscore), support: totalTrue };
}

/** Per-type scores (average null) or an average ("micro", "macro", "weighted"). */
export function entityPrecisionRecallF1(
  yTrue: Sentences,
  yPred: Sentences,
  options: EntityOptions & { average: null },
): EntityPrf;
export function entityPrecisionRecallF1(
  yTrue: Sentences,
  yPred: Sentences,
  options?: EntityOptions & { average?: EntityAverage },
): EntityAveragedPrf;
export function entityPrecisionRecallF1(
  yTrue: Sentences,
  yPred: Sentences,
  options: EntityOptions & { average?: EntityAverage | null } = {},
): EntityPrf | EntityAveragedPrf {
  return compute(yTrue, yPred, options.average === undefined ? "micro" : options.average, options, [
    "precision",
    "recall",
    "f-score",
  ]);
}

function one(key: "precision" | "recall" | "fscore", warnFor: WarnFor) {
  return (yTrue: Sentences, yPred: Sentences, options: EntityOptions & { average?: EntityAverage } = {}): number =>
    (compute(yTrue, yPred, options.average ?? "micro", options, [warnFor]) as EntityAveragedPrf)[key];
}

/** Entity precision, micro-averaged by default (seqeval.metrics.precision_score). */
export const entityPrecision = one("precision", "precision");
/** Entity recall, micro-averaged by default. */
export const entityRecall = one("recall", "recall");
/** Entity F1, micro-averaged by default (seqeval.metrics.f1_score). */
export const entityF1 = one("fscore", "f-score");

/** Token-level accuracy over all tags (seqeval.metrics.accuracy_score). */
export function tokenAccuracy(yTrue: Sentences, yPred: Sentences): number {
  checkSentences(yTrue, yPred);
  let n = 0,
    ok = 0;
  yTrue.forEach((s, i) =>
    s.forEach((t, j) => {
      n++;
      if (t === yPred[i]![j]) ok++;
    }),
  );
  if (n === 0) throw new ArgumentError("tokenAccuracy: no tokens");
  return ok / n;
}

export interface EntityReport {
  rows: [string, EntityAveragedPrf][];
  averages: [string, EntityAveragedPrf][];
  text: string;
}

/** seqeval's classification_report: per type, then micro, macro and weighted averages. */
export function entityReport(
  yTrue: Sentences,
  yPred: Sentences,
  options: EntityOptions & { digits?: number } = {},
): EntityReport {
  const per = compute(yTrue, yPred, null, options, ["precision", "recall", "f-score"]) as EntityPrf;
  const rows: [string, EntityAveragedPrf][] = per.types.map((t, i) => [
    t,
    { precision: per.precision[i]!, recall: per.recall[i]!, fscore: per.fscore[i]!, support: per.support[i]! },
  ]);
  const averages: [string, EntityAveragedPrf][] = (["micro", "macro", "weighted"] as const).map((a) => [
    `${a} avg`,
    compute(yTrue, yPred, a, options, ["precision", "recall", "f-score"]) as EntityAveragedPrf,
  ]);
  const digits = options.digits ?? 2;
  const width = Math.max(...per.types.map((t) => t.length), "weighted avg".length, digits);
  const line = (name: string, r: EntityAveragedPrf) =>
    `${padLeft(name, width)} ${[pyFixed(r.precision, digits), pyFixed(r.recall, digits), pyFixed(r.fscore, digits), String(r.support)].map((c) => " " + padLeft(c, 9)).join("")}`;
  const head = `${padLeft("", width)} ${["precision", "recall", "f1-score", "support"].map((h) => " " + padLeft(h, 9)).join("")}\n\n`;
  const text =
    head + [...rows.map(([n, r]) => line(n, r)), "", ...averages.map(([n, r]) => line(n, r))].join("\n") + "\n";
  return { rows, averages, text };
}
