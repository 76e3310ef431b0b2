/**
 * Warnings about a classification run that trains without error but learns nothing useful: a validation split with
 * a single class (the best checkpoint is picked on it), and a best model that predicts a single class or does no
 * better than always predicting the majority class.
 */

/** What to try when fine-tuning gave a constant or majority-level classifier. */
export const CONSTANT_CLASSIFIER_HINT =
  "try a higher learning rate (--lr 2e-4, as the quick start uses), more epochs (--epochs), or a shorter --max-length (e.g. 64)";

const share = (v: number) => v.toFixed(3);

/** Counts of each class id among `ids`, most frequent first (ties: lower id first). */
function classCounts(ids: readonly number[]): [number, number][] {
  const counts = new Map<number, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
}

/** A warning when the validation split holds a single class (before training). */
export function validationClassWarnings(gold: readonly number[], labels: readonly string[]): string[] {
  const counts = classCounts(gold);
  if (counts.length !== 1) return [];
  return [
    `the validation split holds a single class (${JSON.stringify(labels[counts[0][0]])}, all ${gold.length} examples): its accuracy and F1 cannot tell a useful model from a constant one, and the best checkpoint is picked on it; give a --validation file with every class, or more data`,
  ];
}

/**
 * Warnings about the best model's predictions on one split: it predicts a single class, or its accuracy is at most
 * the share of the majority class. None for a split whose gold labels are a single class (always-majority is right there).
 */
export function constantClassifierWarnings(
  gold: readonly number[],
  pred: readonly number[],
  labels: readonly string[],
  split: string,
): string[] {
  if (gold.length === 0 || gold.length !== pred.length) return [];
  const goldCounts = classCounts(gold);
  if (goldCounts.length < 2) return [];
  const [majority, majorityCount] = goldCounts[0];
  const majorityShare = majorityCount / gold.length;
  let correct = 0;
  for (let i = 0; i < gold.length; i++) if (gold[i] === pred[i]) correct++;
  const accuracy = correct / gold.length;
  const predCounts = classCounts(pred);
  const name = (id: number) => JSON.stringify(labels[id]);
  const baseline = `always predicting the majority class ${name(majority)} scores ${share(majorityShare)}`;
  if (predCounts.length === 1)
    return [
      `the best model predicts a single class (${name(predCounts[0][0])}) for all ${pred.length} ${split} examples: accuracy ${share(accuracy)}, ${baseline}; ${CONSTANT_CLASSIFIER_HINT}`,
    ];
  if (accuracy <= majorityShare)
    return [
      `the best model does no better than the majority class on ${split}: accuracy ${share(accuracy)}, ${baseline}; ${CONSTANT_CLASSIFIER_HINT}`,
    ];
  return [];
}
