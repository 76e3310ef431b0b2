/**
 * What an objective sees of its trial, and how its result becomes an outcome. An objective is a plain function:
 *
 *   async (trial: TrialContext) => number | number[]
 *
 * It reads `trial.params`, writes what it produces under `trial.dir`, may `await trial.report(step, value)`
 * intermediate values and stop when `trial.shouldPrune()` (throwing TrialPruned), and returns one value per
 * objective direction. Under population-based training a trial is one segment of a member's training: it starts
 * from `segment.restoreFrom` (null at the start) and must leave its state in `trial.checkpointDir`.
 */
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { GraftError } from "../util/errors.js";
import type { Params, TrialOutcome } from "./types.js";

/** Thrown by an objective that stops because its trial was pruned. */
export class TrialPruned extends GraftError {
  constructor(message = "trial pruned") {
    super(message);
  }
}

export interface PbtSegment {
  member: number;
  generation: number;
  /** The training step this segment starts from and the one it must reach. */
  startStep: number;
  endStep: number;
  /** Steps of the whole schedule (every member trains this long in the end). */
  totalSteps: number;
  /** The checkpoint to continue from (the member's own previous one, or the exploited member's); null at first. */
  restoreFrom: string | null;
  /** The member whose checkpoint and hyperparameters were copied before this segment, if any. */
  donor: number | null;
}

/** Everything an executor needs to run a trial; plain data, so it crosses process and host boundaries. */
export interface TrialSpec {
  number: number;
  attempt: number;
  params: Params;
  dir: string;
  nObjectives: number;
  segment: PbtSegment | null;
  /** Threads the trial may use (its share of the machine). */
  threads: number;
}

export interface TrialContext {
  readonly number: number;
  /** 1 on the first run; a retried or resumed trial sees 2, 3, ... (and may continue from its own checkpoints). */
  readonly attempt: number;
  readonly params: Params;
  /** The trial's own directory (created), e.g. its training run directory. */
  readonly dir: string;
  readonly threads: number;
  readonly segment: PbtSegment | null;
  /** Where a PBT segment leaves its state for the next one: `<dir>/checkpoint`. */
  readonly checkpointDir: string;
  /** Records an intermediate value; resolves once the pruning decision for it is known. */
  report(step: number, value: number): Promise<void>;
  shouldPrune(): boolean;
  /** Stores a JSON value with the trial (fold scores, latency, model size, ...). */
  setAttr(key: string, value: unknown): void;
}

export type ObjectiveValue = number | number[];
export type Objective = (trial: TrialContext) => Promise<ObjectiveValue> | ObjectiveValue;

/** How a running trial talks to whoever records it. */
export interface TrialChannel {
  /** Returns (or resolves to) whether the trial should be pruned now. */
  report(step: number, value: number): boolean | Promise<boolean>;
  attr(key: string, value: unknown): void;
}

export function makeContext(spec: TrialSpec, channel: TrialChannel): TrialContext {
  let prune = false;
  let made = false;
  return {
    number: spec.number,
    attempt: spec.attempt,
    params: spec.params,
    threads: spec.threads,
    segment: spec.segment,
    // created on first use: many objectives (synthetic ones, quick evaluations) never write anything
    get dir() {
      if (!made) mkdirSync(spec.dir, { recursive: true });
      made = true;
      return spec.dir;
    },
    checkpointDir: join(spec.dir, "checkpoint"),
    async report(step: number, value: number) {
      if (!Number.isFinite(step))
        throw new GraftError(`trial ${spec.number}: report step must be a finite number, got ${step}`);
      if (typeof value !== "number")
        throw new GraftError(`trial ${spec.number}: report value must be a number, got ${JSON.stringify(value)}`);
      prune = (await channel.report(step, value)) || prune;
    },
    shouldPrune: () => prune,
    setAttr: (key, value) => channel.attr(key, value),
  };
}

/** Runs the objective on one trial; every way it can end becomes an outcome (nothing is thrown). */
export async function runObjective(
  objective: Objective,
  spec: TrialSpec,
  channel: TrialChannel,
): Promise<TrialOutcome> {
  try {
    const ctx = makeContext(spec, channel);
    const result = await objective(ctx);
    const values = typeof result === "number" ? [result] : result;
    if (!Array.isArray(values) || values.length !== spec.nObjectives || values.some((v) => typeof v !== "number")) {
      return {
        state: "failed",
        error: `the objective returned ${JSON.stringify(result)}; expected ${spec.nObjectives === 1 ? "a number" : `${spec.nObjectives} numbers`}`,
      };
    }
    if (values.some((v) => !Number.isFinite(v)))
      return {
        state: "failed",
        error: `the objective returned a non-finite value: ${JSON.stringify(values.map(String))}`,
      };
    return { state: "complete", values };
  } catch (e) {
    if (e instanceof TrialPruned || (e instanceof Error && e.name === "TrialPruned")) return { state: "pruned" };
    return { state: "failed", error: describeError(e) };
  }
}

export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const head = e.name && e.name !== "Error" ? `${e.name}: ${e.message}` : e.message;
    const stack = (e.stack ?? "").split("\n").slice(1, 8).join("\n");
    return stack ? `${head}\n${stack}` : head;
  }
  return String(e);
}
