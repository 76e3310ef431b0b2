/**
 * k-fold cross-validation as an objective: `crossValidate(perFold, { folds })` runs the per-fold objective on each
 * fold (each in `<trial dir>/fold-i`), reports the running mean after every fold (so a pruner can stop a trial
 * whose first folds are already bad), stores the fold scores, mean and standard deviation with the trial, and
 * returns the mean.
 *
 * The splits are kept here until data/ provides them: `kFold` (shuffled), and `stratifiedKFold`, which deals each
 * class's shuffled examples round-robin over the folds so every fold holds each class in the same proportion
 * (within one example), as scikit-learn's StratifiedKFold(shuffle=True).
 */
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { ArgumentError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { TrialPruned, type Objective, type ObjectiveValue, type TrialContext } from "./context.js";

export interface Fold {
  train: Int32Array;
  valid: Int32Array;
}

function checkK(n: number, k: number): void {
  if (!Number.isInteger(k) || k < 2) throw new ArgumentError(`k-fold: k must be an integer >= 2, got ${k}`);
  if (k > n) throw new ArgumentError(`k-fold: ${k} folds need at least ${k} examples, got ${n}`);
}

function foldsFromAssignment(fold: Int32Array, k: number): Fold[] {
  return Array.from({ length: k }, (_, f) => {
    const valid: number[] = [],
      train: number[] = [];
    fold.forEach((g, i) => (g === f ? valid : train).push(i));
    return { train: Int32Array.from(train), valid: Int32Array.from(valid) };
  });
}

/** Shuffled k-fold over n examples; fold sizes differ by at most one. */
export function kFold(n: number, k: number, seed = 0): Fold[] {
  checkK(n, k);
  const perm = new Rng(seed).permutation(n);
  const fold = new Int32Array(n);
  perm.forEach((ex, i) => {
    fold[ex] = i % k;
  });
  return foldsFromAssignment(fold, k);
}

/** Stratified shuffled k-fold: every class is spread evenly over the folds. */
export function stratifiedKFold(labels: ArrayLike<number | string>, k: number, seed = 0): Fold[] {
  const n = labels.length;
  checkK(n, k);
  const byClass = new Map<number | string, number[]>();
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c)!.push(i);
  }
  const rng = new Rng(seed);
  const fold = new Int32Array(n);
  // the deal continues across classes, so fold sizes also stay within one of each other
  let next = 0;
  for (const c of [...byClass.keys()].sort((a, b) => String(a).localeCompare(String(b)))) {
    const members = byClass.get(c)!;
    rng.shuffle(members);
    for (const i of members) fold[i] = next++ % k;
  }
  return foldsFromAssignment(fold, k);
}

/** One fold's score: a number (or a one-element list, as trainerObjective returns). */
export type FoldObjective = (
  trial: TrialContext,
  fold: Fold,
  index: number,
) => Promise<ObjectiveValue> | ObjectiveValue;

export interface CrossValidationOptions {
  folds: Fold[];
}

/** Mean (and population standard deviation, as scikit-learn reports) of the fold scores. */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  return { mean, std };
}

export function crossValidate(perFold: FoldObjective, opts: CrossValidationOptions): Objective {
  if (opts.folds.length < 2)
    throw new ArgumentError(`cross-validation needs at least 2 folds, got ${opts.folds.length}`);
  return async (trial) => {
    const scores: number[] = [];
    for (const [i, fold] of opts.folds.entries()) {
      const dir = join(trial.dir, `fold-${i}`);
      const foldTrial: TrialContext = {
        number: trial.number,
        attempt: trial.attempt,
        params: trial.params,
        threads: trial.threads,
        segment: null,
        get dir() {
          mkdirSync(dir, { recursive: true });
          return dir;
        },
        checkpointDir: join(dir, "checkpoint"),
        // inside a fold only the fold-level means are reported; a fold sees the trial's pruning state
        report: async () => {},
        shouldPrune: () => trial.shouldPrune(),
        setAttr: (key, value) => trial.setAttr(`fold${i}.${key}`, value),
      };
      const result = await perFold(foldTrial, fold, i);
      const score = Array.isArray(result) && result.length === 1 ? result[0] : result;
      if (typeof score !== "number" || !Number.isFinite(score))
        throw new ArgumentError(`fold ${i} returned ${JSON.stringify(result)}, not a finite number`);
      scores.push(score);
      const { mean, std } = meanStd(scores);
      trial.setAttr("cv", { scores, mean, std });
      await trial.report(i + 1, mean);
      if (trial.shouldPrune() && i + 1 < opts.folds.length)
        throw new TrialPruned(`pruned after fold ${i + 1} of ${opts.folds.length} (mean ${mean})`);
    }
    return meanStd(scores).mean;
  };
}
