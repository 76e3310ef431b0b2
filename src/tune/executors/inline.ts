/**
 * Runs trials in this process. With concurrency above 1 several trials interleave on the event loop, which helps
 * only objectives that wait (on I/O, other processes); CPU-bound trials want the pool executor.
 */
import { threadCount } from "../../util/env.js";
import { ArgumentError } from "../../util/errors.js";
import { runObjective, type Objective, type TrialSpec } from "../context.js";
import type { TrialOutcome } from "../types.js";
import type { Executor, TrialHooks } from "./executor.js";

export class InlineExecutor implements Executor {
  readonly kind = "inline";
  readonly slots: number;
  readonly threadsPerTrial: number;

  constructor(
    private readonly objective: Objective,
    opts: { concurrency?: number; threads?: number } = {},
  ) {
    this.slots = opts.concurrency ?? 1;
    // trials share this process, and with it the backend's thread pool
    this.threadsPerTrial = opts.threads ?? threadCount();
    if (typeof objective !== "function") throw new ArgumentError("the inline executor needs an objective function");
    if (!Number.isInteger(this.slots) || this.slots < 1)
      throw new ArgumentError(`inline executor: concurrency must be a positive integer, got ${opts.concurrency}`);
  }

  run(spec: TrialSpec, hooks: TrialHooks): Promise<TrialOutcome> {
    return runObjective(
      this.objective,
      { ...spec, threads: this.threadsPerTrial },
      {
        report: (step, value) => hooks.report(step, value, spec.attempt),
        attr: (key, value) => hooks.attr(key, value),
      },
    );
  }

  async close(): Promise<void> {}
}
