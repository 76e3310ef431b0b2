/**
 * Permutation importance (Breiman; scikit-learn's permutation_importance): how much a fitted model's score on a
 * held-out set drops when one column's values are shuffled across the rows, which breaks that column's link to
 * the target while keeping its distribution. `score(column, perm)` scores the set with column `column`'s values
 * taken from the rows `perm` (column −1: no permutation, the baseline).
 */
import { ArgumentError } from "../../util/errors.js";
import { Rng } from "../../util/rng.js";

export interface Importance {
  column: number;
  /** Mean drop of the score over the repeats, and its standard deviation. */
  mean: number;
  std: number;
}

export function permutationImportance(
  columns: number,
  n: number,
  score: (column: number, perm: Int32Array | null) => number,
  opts: { repeats?: number; seed?: number } = {},
): { baseline: number; importances: Importance[] } {
  const repeats = opts.repeats ?? 5;
  if (!(Number.isInteger(repeats) && repeats >= 1)) throw new ArgumentError(`repeats must be ≥ 1, got ${repeats}`);
  const rng = new Rng(opts.seed ?? 0);
  const baseline = score(-1, null);
  const importances: Importance[] = [];
  for (let c = 0; c < columns; c++) {
    const drops: number[] = [];
    for (let r = 0; r < repeats; r++) drops.push(baseline - score(c, rng.permutation(n)));
    const mean = drops.reduce((a, b) => a + b, 0) / repeats;
    const std = Math.sqrt(drops.reduce((a, b) => a + (b - mean) ** 2, 0) / repeats);
    importances.push({ column: c, mean, std });
  }
  return { baseline, importances };
}
