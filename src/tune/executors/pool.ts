/**
 * A local pool of trial processes: `parallel` trials at once, each in its own child process with
 * floor(cores / parallel) threads (at least one), so trials share the machine instead of oversubscribing it.
 * A trial whose process crashes is recorded as failed with the crash and its last output, and the process is
 * replaced; a trial past its timeout is killed and recorded as failed.
 */
import { availableParallelism } from "node:os";
import { ArgumentError } from "../../util/errors.js";
import type { TrialSpec } from "../context.js";
import { normalizeRef, type ObjectiveRef } from "../objectives/ref.js";
import type { TrialOutcome } from "../types.js";
import type { Executor, TrialHooks } from "./executor.js";
import { TrialProcess } from "./trial-process.js";

export interface PoolOptions {
  parallel: number;
  /** Threads per trial (default: cores / parallel). */
  threadsPerTrial?: number;
  /** Kill a trial after this many seconds. */
  timeoutSeconds?: number;
}

export function threadBudget(parallel: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / parallel));
}

export class PoolExecutor implements Executor {
  readonly kind = "pool";
  readonly slots: number;
  readonly threadsPerTrial: number;
  private readonly idle: TrialProcess[] = [];
  private readonly all = new Set<TrialProcess>();
  private readonly objective: ObjectiveRef;

  constructor(
    objective: ObjectiveRef,
    private readonly opts: PoolOptions,
  ) {
    if (!Number.isInteger(opts.parallel) || opts.parallel < 1)
      throw new ArgumentError(`--parallel must be a positive integer, got ${opts.parallel}`);
    if (opts.timeoutSeconds !== undefined && !(opts.timeoutSeconds > 0))
      throw new ArgumentError(`the trial timeout must be positive, got ${opts.timeoutSeconds}`);
    this.slots = opts.parallel;
    this.threadsPerTrial = opts.threadsPerTrial ?? threadBudget(opts.parallel);
    this.objective = normalizeRef(objective);
  }

  private acquire(): TrialProcess {
    let p = this.idle.pop();
    while (p && !p.alive) {
      this.all.delete(p);
      p = this.idle.pop();
    }
    if (p) return p;
    const fresh = new TrialProcess(this.threadsPerTrial);
    this.all.add(fresh);
    return fresh;
  }

  async run(spec: TrialSpec, hooks: TrialHooks): Promise<TrialOutcome> {
    const proc = this.acquire();
    hooks.started?.(spec.attempt, `pool:${proc.pid}`);
    const timeoutMs = this.opts.timeoutSeconds !== undefined ? this.opts.timeoutSeconds * 1000 : undefined;
    const r = await proc.run(
      spec,
      this.objective,
      { report: (step, value) => hooks.report(step, value, spec.attempt), attr: hooks.attr },
      timeoutMs,
    );
    if (proc.alive) this.idle.push(proc);
    else this.all.delete(proc);
    return r.kind === "outcome" ? r.outcome : { state: "failed", error: r.error };
  }

  async close(): Promise<void> {
    for (const p of this.all) p.close();
    this.all.clear();
    this.idle.length = 0;
  }
}
