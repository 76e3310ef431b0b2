/**
 * Number formatting as Python prints it, for reports that users diff against scikit-learn's and
 * seqeval's text: `{:.2f}` rounds an exact binary tie (0.125) to even, where JS toFixed rounds up.
 */

/** Python's format(x, f".{digits}f"). */
export function pyFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
  const s = x.toFixed(digits);
  // A tie is an exact decimal expansion ending in 5 right after the kept digits.
  const longer = x.toFixed(Math.min(100, digits + 25));
  const tail = longer.slice(longer.length - 25);
  if (tail !== "5" + "0".repeat(24)) return s;
  const lastKept = s.replace(".", "").replace("-", "");
  const lastDigit = Number(lastKept[lastKept.length - 1]);
  if (lastDigit % 2 === 0) return s;
  // toFixed rounded the tie away from zero to an odd digit: step back to the even neighbour.
  const step = 10 ** -digits;
  return (x > 0 ? x - step / 2 : x + step / 2).toFixed(digits);
}

/** Right-aligns s in a field of width w (Python's `{:>w}`). */
export function padLeft(s: string, w: number): string {
  return s.length >= w ? s : " ".repeat(w - s.length) + s;
}

/**
 * How a metric's score reads: a fraction in [0, 1] (accuracy, F1), points out of 100 (BLEU, chrF, TER, as
 * sacrebleu prints them), an unbounded value (MSE, perplexity), or a text table (reports; its score is NaN).
 */
export type ScoreFormat = "fraction" | "points" | "value" | "table";

/** A score as `graft score` prints it: `digits` decimals, Python's rounding, "nan" when undefined. */
export function formatScore(x: number, digits = 4): string {
  return pyFixed(x, digits);
}

/** sacrebleu's "μ = 21.34 ± 1.20" for a bootstrap interval. */
export function formatInterval(ci: { mean: number; halfWidth: number }): string {
  return `μ = ${pyFixed(ci.mean, 2)} ± ${pyFixed(ci.halfWidth, 2)}`;
}
