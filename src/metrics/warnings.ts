/**
 * Metric warnings: the cases where the reference implementation (scikit-learn, seqeval, sacrebleu)
 * warns instead of failing, e.g. precision with no predicted samples. By default a warning goes to
 * process.emitWarning (type "MetricWarning"); captureWarnings() collects them instead, so a caller
 * such as `graft score` can print them beside the number they qualify.
 */

export type MetricWarningHandler = (message: string) => void;

const handlers: MetricWarningHandler[] = [];

export function warn(message: string): void {
  const handler = handlers[handlers.length - 1];
  if (handler) handler(message);
  else process.emitWarning(message, { type: "MetricWarning" });
}

/** Runs fn and returns its value with the warnings it raised (in order, duplicates kept once). */
export function captureWarnings<T>(fn: () => T): { value: T; warnings: string[] } {
  const seen: string[] = [];
  handlers.push((m) => {
    if (!seen.includes(m)) seen.push(m);
  });
  try {
    return { value: fn(), warnings: seen };
  } finally {
    handlers.pop();
  }
}
