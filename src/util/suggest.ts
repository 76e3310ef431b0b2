/** "Did you mean ...?" for unknown names: the closest known name within a few edits. */

/** Edit distance counting insertions, deletions, substitutions and swaps of neighbours ("blue" → "bleu": 1). */
export function editDistance(a: string, b: string): number {
  // d[i][j]: distance between a's first i and b's first j characters (optimal string alignment).
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i + j));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const same = a[i - 1] === b[j - 1];
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (same ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/**
 * The known name closest to `name`, if it is within a third of the name's length in edits (at least one, at most
 * `maxEdits`); ties go to the earlier name in `known`. `normalize` maps both sides before comparing (e.g. to ignore
 * case and separators); the known name is returned as given.
 */
export function didYouMean(
  name: string,
  known: Iterable<string>,
  opts: { normalize?: (s: string) => string; maxEdits?: number } = {},
): string | undefined {
  const norm = opts.normalize ?? ((s: string) => s);
  const key = norm(name);
  const limit = Math.max(1, Math.min(opts.maxEdits ?? Infinity, Math.floor(key.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(key, norm(k));
    if (d < bestDistance && d <= limit) [best, bestDistance] = [k, d];
  }
  return best;
}
