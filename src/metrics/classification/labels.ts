/**
 * Class labels as scikit-learn sees them: numbers or strings (never a mix), sorted the way numpy
 * sorts them (numbers ascending, strings by code point), and the target types of
 * sklearn.utils.multiclass.type_of_target: binary (at most two distinct labels), multiclass, or a
 * multilabel indicator matrix of 0/1 rows.
 */
import { ArgumentError, ShapeError } from "../../util/errors.js";

export type Label = number | string | boolean;
/** One label per sample. */
export type Labels = readonly Label[];
/** Multilabel targets: one row of 0/1 per sample, one column per label. */
export type Indicator = readonly (readonly number[])[];

export type TargetType = "binary" | "multiclass" | "multilabel-indicator";

/** Booleans behave as 0/1, as numpy compares them. */
export function normLabel(l: Label): number | string {
  return typeof l === "boolean" ? (l ? 1 : 0) : l;
}

/** String order by code point (Python's and numpy's), not by UTF-16 unit as JS `<` does. */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i),
      cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // Surrogates (astral code points) belong above U+E000..U+FFFF.
    if (ca >= 0xd800 && cb >= 0xd800) {
      ca = ca <= 0xdfff ? ca + 0x2000 : ca - 0x800;
      cb = cb <= 0xdfff ? cb + 0x2000 : cb - 0x800;
    }
    return ca - cb;
  }
  return a.length - b.length;
}

export function compareLabels(a: number | string, b: number | string): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return compareStrings(String(a), String(b));
}

export function fmtLabel(l: Label): string {
  return typeof l === "string" ? JSON.stringify(l) : String(l);
}

/** Throws unless every label is a finite integer-valued number or every label is a string. */
export function checkLabelKinds(what: string, name: string, y: Labels): "number" | "string" | "empty" {
  let kind: "number" | "string" | "empty" = "empty";
  for (let i = 0; i < y.length; i++) {
    const v = normLabel(y[i]!);
    const k = typeof v === "number" ? "number" : typeof v === "string" ? "string" : undefined;
    if (k === undefined)
      throw new ArgumentError(`${what}: ${name}[${i}] is ${String(v)}; labels must be numbers or strings`);
    if (k === "number" && !Number.isFinite(v as number))
      throw new ArgumentError(`${what}: ${name}[${i}] is ${v}; labels must be finite`);
    if (k === "number" && !Number.isInteger(v as number)) {
      throw new ArgumentError(
        `${what}: ${name}[${i}] is ${v}, a continuous value; classification metrics need class labels`,
        "threshold scores into labels first, or use a ranking metric (rocAuc, averagePrecision) on the scores",
      );
    }
    if (kind === "empty") kind = k;
    else if (kind !== k)
      throw new ArgumentError(`${what}: ${name} mixes string and number labels (${name}[${i}] is ${fmtLabel(v)})`);
  }
  return kind;
}

/** Sorted distinct labels of all the arrays (sklearn's unique_labels). */
export function uniqueLabels(...ys: Labels[]): (number | string)[] {
  const set = new Set<number | string>();
  for (const y of ys) for (const l of y) set.add(normLabel(l));
  return [...set].sort(compareLabels);
}

/** Labels naming the columns of a score matrix: unique, sorted (as the columns are), one per column. */
export function checkColumnLabels(what: string, labels: readonly Label[], width: number): (number | string)[] {
  const classes = labels.map(normLabel);
  const sorted = uniqueLabels(classes);
  if (sorted.length !== classes.length) throw new ArgumentError(`${what}: labels must be unique`);
  if (sorted.some((l, i) => l !== classes[i])) throw new ArgumentError(`${what}: labels must be sorted`);
  if (classes.length !== width)
    throw new ShapeError(`${what}: ${classes.length} labels given but yScore has ${width} columns`);
  return classes;
}

/** Label → column index. */
export function labelIndex(labels: readonly (number | string)[]): Map<number | string, number> {
  const m = new Map<number | string, number>();
  labels.forEach((l, i) => m.set(normLabel(l), i));
  return m;
}

export function isIndicator(y: Labels | Indicator): y is Indicator {
  return y.length > 0 && Array.isArray(y[0]);
}

/** Validates a multilabel indicator matrix: rectangular, values 0 or 1. Returns the label count. */
export function checkIndicator(what: string, name: string, y: Indicator): number {
  const width = y[0]!.length;
  for (let i = 0; i < y.length; i++) {
    const row = y[i]!;
    if (!Array.isArray(row))
      throw new ShapeError(`${what}: ${name}[${i}] is not a row; a multilabel target needs one 0/1 row per sample`);
    if (row.length !== width)
      throw new ShapeError(`${what}: ${name}[${i}] has ${row.length} columns, ${name}[0] has ${width}`);
    for (let j = 0; j < width; j++) {
      const v = row[j];
      if (v !== 0 && v !== 1)
        throw new ArgumentError(
          `${what}: ${name}[${i}][${j}] is ${String(v)}; multilabel indicator values must be 0 or 1`,
        );
    }
  }
  return width;
}

/** type_of_target for a 1-d label array. */
export function typeOfTarget(what: string, name: string, y: Labels): TargetType {
  checkLabelKinds(what, name, y);
  return uniqueLabels(y).length <= 2 ? "binary" : "multiclass";
}

export interface CheckedTargets {
  type: TargetType;
  /** Label count for multilabel targets. */
  width: number;
}

/** sklearn's _check_targets: equal lengths, compatible types; binary if the union has ≤ 2 labels. */
export function checkTargets(what: string, yTrue: Labels | Indicator, yPred: Labels | Indicator): CheckedTargets {
  if (yTrue.length !== yPred.length) {
    throw new ShapeError(
      `${what}: yTrue has ${yTrue.length} samples but yPred has ${yPred.length}`,
      "pass one prediction per reference label",
    );
  }
  const mt = isIndicator(yTrue),
    mp = isIndicator(yPred);
  if (mt !== mp && yTrue.length > 0) {
    throw new ArgumentError(
      `${what}: cannot mix a multilabel indicator matrix (${mt ? "yTrue" : "yPred"}) with 1-d labels (${mt ? "yPred" : "yTrue"})`,
    );
  }
  if (mt) {
    const wt = checkIndicator(what, "yTrue", yTrue as Indicator);
    const wp = checkIndicator(what, "yPred", yPred as Indicator);
    if (wt !== wp) throw new ShapeError(`${what}: yTrue has ${wt} label columns but yPred has ${wp}`);
    return { type: "multilabel-indicator", width: wt };
  }
  const kt = checkLabelKinds(what, "yTrue", yTrue as Labels);
  const kp = checkLabelKinds(what, "yPred", yPred as Labels);
  if (kt !== "empty" && kp !== "empty" && kt !== kp) {
    throw new ArgumentError(
      `${what}: yTrue has ${kt} labels but yPred has ${kp} labels`,
      "use the same label type in both (e.g. all strings)",
    );
  }
  const n = uniqueLabels(yTrue as Labels, yPred as Labels).length;
  return { type: n <= 2 ? "binary" : "multiclass", width: 0 };
}
