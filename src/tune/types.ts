/** The vocabulary of a study: parameters, trials and their states, directions. */

export type Direction = "minimize" | "maximize";
export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;

/**
 * waiting: created (or re-queued after an interrupted run) but not started; running: handed to an executor;
 * complete / pruned / failed: final.
 */
export type TrialState = "waiting" | "running" | "complete" | "pruned" | "failed";

export interface IntermediateValue {
  step: number;
  value: number;
}

export interface Trial {
  number: number;
  state: TrialState;
  params: Params;
  /** Objective values of a complete trial (one per direction); for a pruned trial, its last intermediate value. */
  values: number[] | null;
  /** Sorted by step; one value per step. */
  intermediate: IntermediateValue[];
  error: string | null;
  /** What the objective recorded (fold scores, latency, ...). */
  attrs: Record<string, unknown>;
  /** Bookkeeping of samplers and schedulers (DE slot and vector, PBT member and generation, ...). */
  system: Record<string, unknown>;
  /** 1 for the first run; retries and re-queued interrupted runs count up. */
  attempt: number;
  worker: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

export function isFinished(t: Trial): boolean {
  return t.state === "complete" || t.state === "pruned" || t.state === "failed";
}

/** +1 for minimize, -1 for maximize: `sign * value` is a loss, smaller is better. */
export function lossSign(d: Direction): number {
  return d === "minimize" ? 1 : -1;
}

/** What an executor hands back for a trial. */
export type TrialOutcome =
  | { state: "complete"; values: number[]; attrs?: Record<string, unknown> }
  | { state: "pruned"; attrs?: Record<string, unknown> }
  | { state: "failed"; error: string; attrs?: Record<string, unknown> };
