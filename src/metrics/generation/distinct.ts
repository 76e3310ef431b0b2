/**
 * distinct-n (Li et al., 2016, "A Diversity-Promoting Objective Function for Neural Conversation Models"): the number
 * of distinct n-grams over all generated texts divided by the total number of n-grams, tokens split on whitespace.
 * 1 when no n-gram repeats; a model that answers every prompt the same way scores near 0. 0 when there are no
 * n-grams at all.
 */
import { ArgumentError } from "../../util/errors.js";

export function distinctN(texts: readonly string[], n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`distinct-n: n must be a positive integer, got ${n}`);
  const seen = new Set<string>();
  let total = 0;
  for (const t of texts) {
    const tokens = t.split(/\s+/).filter((w) => w !== "");
    for (let i = 0; i + n <= tokens.length; i++) {
      seen.add(tokens.slice(i, i + n).join("\u0000"));
      total++;
    }
  }
  return total === 0 ? 0 : seen.size / total;
}
