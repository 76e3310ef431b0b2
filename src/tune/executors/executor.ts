/** Executors run trials: inline in this process, in a pool of local child processes, or as jobs on BullMQ. */
import type { TrialSpec } from "../context.js";
import type { TrialOutcome } from "../types.js";

/** How an executor hands a running trial's progress back to the study. */
export interface TrialHooks {
  /** An intermediate value from the given attempt of the trial; returns whether the trial should stop. */
  report(step: number, value: number, attempt: number): boolean;
  attr(key: string, value: unknown): void;
  /** The trial (re)started: a retry after a lost worker, or a trial already running when the study resumed. */
  started?(attempt: number, worker: string): void;
}

export interface Executor {
  readonly kind: string;
  /** Trials it runs at once. */
  readonly slots: number;
  /** Threads each trial may use. */
  readonly threadsPerTrial: number;
  /** Runs a trial to its end; never rejects for a failing objective (that is a "failed" outcome). */
  run(spec: TrialSpec, hooks: TrialHooks): Promise<TrialOutcome>;
  close(): Promise<void>;
}

export function isExecutor(x: unknown): x is Executor {
  return (
    typeof x === "object" &&
    x !== null &&
    typeof (x as Executor).run === "function" &&
    typeof (x as Executor).slots === "number"
  );
}
