/**
 * A study: a search space, objective directions, a sampler, a pruner (or population-based training), and its
 * trials, stored in `<dir>/study.sqlite` with one directory per trial under `<dir>/trials/`.
 *
 * The study is the single writer of its record. Trials run on an executor (inline, local processes, BullMQ);
 * every report and result comes back here, and a trial's result is recorded once: a second result for a finished
 * trial (a retried job whose first run also finished) is ignored. `Study.load` continues an interrupted study:
 * finished trials stay as they are, trials that were running are queued again with the same parameters.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ArgumentError, FormatError } from "../util/errors.js";
import { describeError, type Objective, type TrialSpec } from "./context.js";
import { isExecutor, type Executor, type TrialHooks } from "./executors/executor.js";
import { InlineExecutor } from "./executors/inline.js";
import { paretoFront, rankTrials } from "./pareto.js";
import { PbtScheduler, type PbtOptions } from "./pbt.js";
import { createPruner, type Pruner, type PrunerConfig } from "./pruners.js";
import { createSampler, type Sampler, type SamplerConfig } from "./samplers/index.js";
import { SearchSpace, type SpaceSpec } from "./space.js";
import { MemoryRecord, StudyStorage, type StudyRecord } from "./storage.js";
import { isFinished, type Direction, type Params, type Trial, type TrialOutcome } from "./types.js";

export const STUDY_FILE = "study.sqlite";

export interface StudyOptions {
  /** The study directory; omitted or null keeps the record in memory (trial directories go to a temp dir). */
  dir?: string | null;
  name?: string;
  space: SpaceSpec | SearchSpace;
  /** One direction per objective value (default ["minimize"]). */
  directions?: Direction[];
  /** Default: TPE with seed 0. */
  sampler?: Sampler | SamplerConfig | string;
  pruner?: Pruner | PrunerConfig | string | null;
  /** Direction of the intermediate values pruning looks at (default: the first objective's). */
  pruneDirection?: Direction;
  /** Population-based training instead of independent trials. */
  pbt?: PbtOptions | null;
  /** Anything else to keep with the study (the objective's description, the base config, ...). */
  config?: Record<string, unknown>;
}

export interface OptimizeOptions {
  /** Total trials in the study (finished ones of an earlier run count); unlimited when omitted. */
  nTrials?: number;
  /** Stop starting trials after this many seconds (running ones finish). */
  timeoutSeconds?: number;
  /** Called when a trial's result is recorded. */
  onTrialEnd?: (trial: Trial, study: Study) => void;
  /** Stop starting new trials when this is aborted. */
  signal?: AbortSignal;
}

export class Study {
  readonly trials: Trial[];
  private stopRequested = false;
  private tempDir: string | null = null;

  private constructor(
    private readonly storage: StudyRecord,
    /** A unique id (names the study's keys on a shared queue). */
    readonly id: string,
    readonly dir: string | null,
    readonly name: string,
    readonly space: SearchSpace,
    readonly directions: Direction[],
    public sampler: Sampler,
    public pruner: Pruner,
    readonly pruneDirection: Direction,
    readonly pbt: PbtScheduler | null,
    readonly config: Record<string, unknown>,
    trials: Trial[],
  ) {
    this.trials = trials;
  }

  /** Starts a new study (refuses a directory that already holds one). */
  static async create(opts: StudyOptions): Promise<Study> {
    const dir = opts.dir ? resolve(opts.dir) : null;
    if (dir && existsSync(join(dir, STUDY_FILE)))
      throw new ArgumentError(
        `${dir} already holds a study`,
        `continue it with --resume ${dir} (or Study.load), or choose another directory`,
      );
    if (dir) mkdirSync(dir, { recursive: true });
    const space = opts.space instanceof SearchSpace ? opts.space : new SearchSpace(opts.space);
    const directions = opts.directions ?? ["minimize"];
    validateDirections(directions);
    const sampler: Sampler = isSampler(opts.sampler)
      ? opts.sampler
      : createSampler((opts.sampler as SamplerConfig | string | undefined) ?? { name: "tpe", seed: 0 });
    const pruner: Pruner = isPruner(opts.pruner)
      ? opts.pruner
      : createPruner(opts.pruner as PrunerConfig | string | null);
    const pruneDirection = opts.pruneDirection ?? directions[0]!;
    const pbt = opts.pbt ? new PbtScheduler(opts.pbt) : null;
    if (pbt && directions.length !== 1) throw new ArgumentError("population-based training needs a single objective");
    const storage: StudyRecord = dir ? await StudyStorage.open(join(dir, STUDY_FILE)) : new MemoryRecord();
    const name = opts.name ?? "study";
    const id = randomUUID();
    const meta: Record<string, unknown> = {
      id,
      name,
      space: space.spec,
      directions,
      sampler: sampler.config(),
      pruner: pruner.config(),
      pruneDirection,
      pbt: pbt?.options ?? null,
      config: opts.config ?? {},
      created: new Date().toISOString(),
    };
    // one write of the whole record: a process killed while creating the study leaves no half-made study.sqlite
    // (one that neither --resume nor a new study could use)
    for (const [k, v] of Object.entries(meta)) storage.setMeta(k, v, true);
    storage.flush();
    return new Study(
      storage,
      id,
      dir,
      name,
      space,
      directions,
      sampler,
      pruner,
      pruneDirection,
      pbt,
      opts.config ?? {},
      [],
    );
  }

  /** Opens the study in `dir` to continue it; the sampler and pruner are those it was created with unless overridden. */
  static async load(dir: string, overrides: { sampler?: Sampler; pruner?: Pruner } = {}): Promise<Study> {
    const abs = resolve(dir);
    const file = join(abs, STUDY_FILE);
    if (!existsSync(file))
      throw new FormatError(
        `${abs} holds no study (${STUDY_FILE} is missing)`,
        "start one with graft tune --config FILE --dir DIR",
      );
    const storage = await StudyStorage.open(file);
    const need = <T>(key: string): T => {
      const v = storage.getMeta<T>(key);
      if (v === undefined) throw new FormatError(`${file}: the study record lacks "${key}"`);
      return v;
    };
    const directions = need<Direction[]>("directions");
    const pbtOpts = storage.getMeta<PbtOptions | null>("pbt") ?? null;
    const trials = storage.loadTrials();
    for (const t of trials) {
      if (t.state !== "running") continue;
      // interrupted mid-run: run it again (same number, same parameters)
      t.state = "waiting";
      t.attempt += 1;
      t.intermediate = [];
      storage.clearIntermediate(t.number);
      storage.saveTrial(t);
    }
    return new Study(
      storage,
      need<string>("id"),
      abs,
      need<string>("name"),
      new SearchSpace(need<SpaceSpec>("space")),
      directions,
      overrides.sampler ?? createSampler(need<SamplerConfig>("sampler")),
      overrides.pruner ?? createPruner(need<PrunerConfig>("pruner")),
      storage.getMeta<Direction>("pruneDirection") ?? directions[0]!,
      pbtOpts ? new PbtScheduler(pbtOpts) : null,
      storage.getMeta("config") ?? {},
      trials,
    );
  }

  get isMultiObjective(): boolean {
    return this.directions.length > 1;
  }

  trial(number: number): Trial {
    const t = this.trials[number];
    if (!t || t.number !== number) throw new ArgumentError(`the study has no trial ${number}`);
    return t;
  }

  trialDir(number: number): string {
    let root = this.dir;
    // a study without a directory names one under the temp dir; it exists only if an objective writes there
    if (!root) root = this.tempDir ??= join(tmpdir(), `graft-study-${this.id}`);
    return join(root, "trials", `trial-${String(number).padStart(4, "0")}`);
  }

  /** Adds a trial with the given parameters, run before any sampled one. */
  enqueue(params: Params, system: Record<string, unknown> = {}): Trial {
    this.space.validate(params);
    return this.addTrial(params, system, "waiting");
  }

  private addTrial(params: Params, system: Record<string, unknown>, state: "waiting" | "running"): Trial {
    const t: Trial = {
      number: this.trials.length,
      state,
      params,
      values: null,
      intermediate: [],
      error: null,
      attrs: {},
      system,
      attempt: 1,
      worker: null,
      startedAt: state === "running" ? Date.now() : null,
      finishedAt: null,
    };
    this.trials.push(t);
    this.storage.saveTrial(t);
    return t;
  }

  /**
   * The next trial to run, marked running: a waiting one first, then a new one from the sampler (or the PBT
   * schedule). "wait": nothing can start until a running trial ends; null: the study has nothing more to run.
   */
  ask(opts: { nTrials?: number } = {}): Trial | "wait" | null {
    const waiting = this.trials.find((t) => t.state === "waiting");
    if (waiting) {
      waiting.state = "running";
      waiting.startedAt = Date.now();
      this.storage.saveTrial(waiting);
      return waiting;
    }
    if (this.pbt) {
      const next = this.pbt.next(this);
      if (next === null || next === "wait") return next;
      return this.addTrial(next.params, next.system, "running");
    }
    if (opts.nTrials !== undefined && this.trials.length >= opts.nTrials) return null;
    const s = this.sampler.suggest({
      space: this.space,
      directions: this.directions,
      trials: this.trials,
      number: this.trials.length,
    });
    if (!s) return null;
    return this.addTrial(s.params, s.system ?? {}, "running");
  }

  /** Records a trial's result; false (and nothing changes) when the trial had already finished. */
  tell(number: number, outcome: TrialOutcome): boolean {
    const t = this.trial(number);
    if (isFinished(t)) return false;
    t.state = outcome.state;
    t.finishedAt = Date.now();
    t.attrs = { ...t.attrs, ...(outcome.attrs ?? {}) };
    if (outcome.state === "complete") t.values = [...outcome.values];
    else if (outcome.state === "pruned")
      t.values = t.intermediate.length ? [t.intermediate[t.intermediate.length - 1]!.value] : null;
    else t.error = outcome.error;
    this.storage.saveTrial(t);
    return true;
  }

  /**
   * Records an intermediate value and answers whether the trial should stop. A report from an older attempt than
   * the trial's current one is stale (a worker that was given up on) and is dropped; a newer attempt starts the
   * trial's intermediate values afresh.
   */
  report(number: number, step: number, value: number, attempt = this.trial(number).attempt): boolean {
    const t = this.trial(number);
    if (t.state !== "running" || attempt < t.attempt) return true;
    if (attempt > t.attempt) this.restartAttempt(t, attempt);
    const iv = t.intermediate;
    const at = iv.findIndex((v) => v.step >= step);
    if (at >= 0 && iv[at]!.step === step) iv[at] = { step, value };
    else if (at >= 0) iv.splice(at, 0, { step, value });
    else iv.push({ step, value });
    this.storage.addIntermediate(number, step, value);
    if (this.pbt) return false;
    return this.pruner.shouldPrune(t, this.trials, this.pruneDirection);
  }

  private restartAttempt(t: Trial, attempt: number): void {
    t.attempt = attempt;
    t.intermediate = [];
    this.storage.clearIntermediate(t.number);
    this.storage.saveTrial(t, true);
  }

  private hooks(t: Trial): TrialHooks {
    return {
      report: (step, value, attempt) => this.report(t.number, step, value, attempt),
      attr: (key, value) => {
        t.attrs[key] = value;
        this.storage.saveTrial(t, true);
      },
      started: (attempt, worker) => {
        if (attempt > t.attempt) this.restartAttempt(t, attempt);
        t.worker = worker;
        this.storage.saveTrial(t, true);
      },
    };
  }

  spec(t: Trial, threads: number): TrialSpec {
    return {
      number: t.number,
      attempt: t.attempt,
      params: t.params,
      dir: this.trialDir(t.number),
      nObjectives: this.directions.length,
      segment: this.pbt?.segmentOf(t) ?? null,
      threads,
    };
  }

  /** Asks the running optimize() to start no more trials (running ones finish; the study can be resumed). */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * Runs trials until the budget, the sampler or the PBT schedule is exhausted (or the time is up, or stop()).
   * `run` is an objective function (run inline, one trial at a time) or an executor.
   */
  async optimize(run: Objective | Executor, opts: OptimizeOptions = {}): Promise<void> {
    const executor = isExecutor(run) ? run : new InlineExecutor(run);
    if (opts.nTrials !== undefined && (!Number.isInteger(opts.nTrials) || opts.nTrials < 0))
      throw new ArgumentError(`nTrials must be a non-negative integer, got ${opts.nTrials}`);
    const deadline = opts.timeoutSeconds !== undefined ? Date.now() + opts.timeoutSeconds * 1000 : Infinity;
    this.stopRequested = false;
    const running = new Map<number, Promise<{ number: number; outcome: TrialOutcome }>>();
    let exhausted = false;
    for (;;) {
      while (
        !exhausted &&
        running.size < executor.slots &&
        !this.stopRequested &&
        !opts.signal?.aborted &&
        Date.now() < deadline
      ) {
        const t = this.ask({ nTrials: opts.nTrials });
        if (t === null) exhausted = true;
        if (t === null || t === "wait") break;
        const pending = executor.run(this.spec(t, executor.threadsPerTrial), this.hooks(t)).then(
          (outcome) => ({ number: t.number, outcome }),
          (e: unknown) => ({ number: t.number, outcome: { state: "failed", error: describeError(e) } as TrialOutcome }),
        );
        running.set(t.number, pending);
      }
      if (running.size === 0) break;
      const { number, outcome } = await Promise.race(running.values());
      running.delete(number);
      if (this.tell(number, outcome)) opts.onTrialEnd?.(this.trial(number), this);
    }
  }

  /** The best complete trial (single objective). */
  get bestTrial(): Trial | null {
    if (this.isMultiObjective)
      throw new ArgumentError("a multi-objective study has no single best trial", "use paretoFront");
    if (this.pbt) return this.pbt.bestFinal(this);
    return rankTrials(this.trials, this.directions)[0] ?? null;
  }

  get paretoFront(): Trial[] {
    return paretoFront(this.trials, this.directions);
  }

  /** Complete trials best first (by front and crowding distance for several objectives). */
  ranked(): Trial[] {
    return rankTrials(this.trials, this.directions);
  }

  close(): void {
    this.storage.close();
  }
}

function isSampler(x: unknown): x is Sampler {
  return typeof x === "object" && x !== null && typeof (x as Sampler).suggest === "function";
}

function isPruner(x: unknown): x is Pruner {
  return typeof x === "object" && x !== null && typeof (x as Pruner).shouldPrune === "function";
}

function validateDirections(directions: Direction[]): void {
  if (!Array.isArray(directions) || directions.length === 0)
    throw new ArgumentError("a study needs at least one objective direction");
  for (const d of directions)
    if (d !== "minimize" && d !== "maximize")
      throw new ArgumentError(`objective direction must be "minimize" or "maximize", got ${JSON.stringify(d)}`);
}
