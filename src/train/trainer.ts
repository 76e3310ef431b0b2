/**
 * The Trainer: the fine-tuning and pre-training loop.
 *
 * It knows nothing about tasks: a batch is built from example indices by `collate`, `loss` turns a batch into a
 * scalar, and `evaluate` returns metrics (computed by streaming over the evaluation set). Around that it runs
 * epochs, gradient accumulation, clipping, the optimizer and schedule, evaluation, logging, best-model tracking,
 * early stopping, and crash-safe checkpoints with exact resume: the data order of every epoch is a pure function
 * of (seed, epoch), and a checkpoint holds the weights, optimizer state, schedule position, RNG state and the
 * position inside the epoch, so a resumed run continues with the very same batches and random numbers.
 *
 * Launched by `mpirun -np N`, it trains data-parallel (data-parallel.ts): each rank computes its slice of every global
 * batch (N × batchSize examples, in the order one process would take them), the gradients are summed across ranks
 * in buckets while the backward runs, and every rank takes the same step; rank 0 alone writes the run's files.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError, FormatError } from "../util/errors.js";
import { Rng, defaultRng, manualSeed, type RngState } from "../util/rng.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { affine, withPrecision, type Tensor } from "../tensor/index.js";
import { world as mpiWorld, type World } from "./distributed.js";
import {
  BUCKET_BYTES,
  GradientReducer,
  allRngStates,
  broadcastNumber,
  broadcastParameters,
  rankSeed,
  shardOf,
  sumOverRanks,
} from "./data-parallel.js";
import type { Module } from "../nn/index.js";
import {
  Adam,
  AdamW,
  LRScheduler,
  SGD,
  clipGradNorm,
  constant,
  cosine,
  linearWarmupDecay,
  oneCycle,
  slantedTriangular,
  type Optimizer,
  type OptimizerState,
  type ParamGroup,
  type Schedule,
} from "../optim/index.js";
import { loadSafetensors, saveSafetensors } from "../io/safetensors.js";
import { greaterIsBetter, resolveArgs, type TrainingArgs } from "./args.js";
import { BestModelPolicy, type PolicyState } from "./policy.js";
import { RunDir } from "./run-dir.js";
import { parameterGroups } from "./adaptation.js";
import { createReporters, type Reporter } from "./reporters/index.js";

export interface TrainerCallback {
  onTrainBegin?(t: Trainer<unknown>): void;
  /** Before the first batch of an epoch (not called for an epoch resumed midway). */
  onEpochBegin?(t: Trainer<unknown>, epoch: number): void;
  onLog?(t: Trainer<unknown>, record: LogRecord): void;
  onEvaluate?(t: Trainer<unknown>, metrics: Record<string, number>, isBest: boolean): void;
  onSave?(t: Trainer<unknown>, dir: string): void;
  onTrainEnd?(t: Trainer<unknown>, summary: TrainSummary): void;
}

export interface LogRecord {
  step: number;
  epoch: number;
  [key: string]: number | string;
}

export interface TrainerOptions<B> {
  model: Module;
  args?: Partial<TrainingArgs>;
  /** Number of training examples. */
  trainSize: number;
  /** Builds a batch from example indices. */
  collate: (indices: Int32Array) => B;
  /** The scalar loss of a batch (the model is in training mode). */
  loss: (model: Module, batch: B) => Tensor;
  /** Evaluation metrics (the model is in eval mode, gradients off); the policy's metric must be among them. */
  evaluate?: (model: Module) => Record<string, number>;
  /** Where checkpoints, metrics and the best model go (none: nothing is written). */
  runDir?: string;
  /** Optimizer groups (default: decay on matrices only, one learning rate). */
  paramGroups?: ParamGroup[];
  callbacks?: TrainerCallback[];
  /** Writes the model into a directory (default: model.safetensors with the state dict). */
  saveModel?: (model: Module, dir: string) => void;
  /** Loads what saveModel wrote back into the model (default: model.safetensors, non-strict). */
  loadModel?: (model: Module, dir: string) => void;
  /** Example order for an epoch (default: a shuffle seeded by (seed, epoch)); must be a pure function of its inputs. */
  order?: (epoch: number, seed: number, size: number) => Int32Array;
  /** Extra configuration saved in run.json. */
  runConfig?: Record<string, unknown>;
  /** Messages about the run (e.g. a corrupt checkpoint skipped on resume); default: none. */
  log?: (line: string) => void;
  /**
   * The data-parallel world (default: the one mpirun started, see train/distributed.ts, or none; null: train
   * alone). batchSize is per rank: a step consumes world size × batchSize × gradAccumSteps examples.
   */
  distributed?: World | null;
  /** Gradient bucket size in bytes for data parallelism (default 25 MB, as PyTorch DDP). */
  bucketBytes?: number;
}

export interface TrainSummary {
  globalStep: number;
  epochsCompleted: number;
  best: number | null;
  bestStep: number | null;
  stoppedEarly: boolean;
  interrupted: boolean;
  /** The signal that interrupted the run (with handleSigint), if one did. */
  signal?: "SIGINT" | "SIGTERM";
  trainSeconds: number;
  examplesPerSecond: number;
  lastMetrics: Record<string, number> | null;
}

interface TrainerState {
  globalStep: number;
  epoch: number;
  /** Micro-batches of `epoch` already consumed. */
  batchInEpoch: number;
  rng: RngState;
  policy: PolicyState;
  optimizer: OptimizerState["meta"];
  trainable: string[];
  examplesSeen: number;
  /** Data parallelism: the number of ranks, and each rank's generator state (rng is rank 0's). */
  worldSize?: number;
  rngByRank?: RngState[];
}

export const TRAINER_STATE = "trainer_state.json";

function defaultOrder(epoch: number, seed: number, size: number): Int32Array {
  return new Rng(seed * 1000003 + epoch * 7919 + 1).permutation(size);
}

function saveStateDict(model: Module, dir: string): void {
  saveSafetensors(join(dir, "model.safetensors"), model.stateDict());
}

export class Trainer<B> {
  readonly args: TrainingArgs;
  readonly model: Module;
  readonly optimizer: Optimizer;
  readonly scheduler: LRScheduler;
  readonly policy: BestModelPolicy;
  readonly run: RunDir | null;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  private readonly opts: TrainerOptions<B>;
  private state: TrainerState;
  private stopRequested = false;
  /** The --report-to reporters of the current train() call. */
  private reporters: Reporter[] = [];
  /** The data-parallel world (null: one process). */
  readonly world: World | null;
  /** Whether this process writes the run's files and reports (rank 0, or the only process). */
  readonly isMain: boolean;
  /** Sums the gradients across ranks (data parallelism only). */
  readonly reducer: GradientReducer | null;

  constructor(opts: TrainerOptions<B>) {
    this.opts = opts;
    this.args = resolveArgs(opts.args);
    this.model = opts.model;
    if (this.args.gradientCheckpointing) this.model.gradientCheckpointingEnable();
    if (!Number.isInteger(opts.trainSize) || opts.trainSize <= 0)
      throw new ArgumentError(`Trainer: the training set is empty (trainSize ${opts.trainSize})`);
    const a = this.args;
    this.world = opts.distributed === undefined ? mpiWorld() : opts.distributed;
    this.isMain = !this.world || this.world.rank === 0;
    this.reducer = this.world ? new GradientReducer(this.world, { bucketBytes: opts.bucketBytes }) : null;
    const micro = Math.ceil(opts.trainSize / (a.batchSize * this.worldSize));
    this.stepsPerEpoch = Math.ceil(micro / a.gradAccumSteps);
    this.totalSteps = a.maxSteps > 0 ? a.maxSteps : a.epochs * this.stepsPerEpoch;
    const groups = opts.paramGroups ?? parameterGroups(this.model, { lr: a.lr, weightDecay: a.weightDecay });
    this.optimizer =
      a.optimizer === "sgd"
        ? new SGD(groups, { lr: a.lr, momentum: a.momentum })
        : a.optimizer === "adam"
          ? new Adam(groups, { lr: a.lr, betas: a.betas, eps: a.eps })
          : new AdamW(groups, { lr: a.lr, betas: a.betas, eps: a.eps });
    this.scheduler = new LRScheduler(this.optimizer, this.makeSchedule());
    this.policy = new BestModelPolicy(
      a.metricForBest,
      greaterIsBetter(a),
      a.earlyStoppingPatience,
      a.earlyStoppingMinDelta,
    );
    this.run = opts.runDir ? new RunDir(opts.runDir) : null;
    this.state = this.freshState();
  }

  private makeSchedule(): Schedule {
    const a = this.args;
    const total = Math.max(1, this.totalSteps);
    const warmup = Math.min(total, a.warmupSteps > 0 ? a.warmupSteps : Math.round(a.warmupRatio * total));
    switch (a.schedule) {
      case "constant":
        return constant();
      case "linear":
        return linearWarmupDecay({ warmupSteps: warmup, totalSteps: total });
      case "cosine":
        return cosine({ warmupSteps: warmup, totalSteps: total });
      case "slanted_triangular":
        return slantedTriangular({ totalSteps: total });
      case "one_cycle":
        return oneCycle({ totalSteps: total });
    }
  }

  private freshState(): TrainerState {
    return {
      globalStep: 0,
      epoch: 0,
      batchInEpoch: 0,
      rng: defaultRng().getState(),
      policy: this.policy.state,
      optimizer: this.optimizer.stateDict().meta,
      trainable: [],
      examplesSeen: 0,
    };
  }

  /** Ranks training together (1: one process). */
  get worldSize(): number {
    return this.world?.size ?? 1;
  }

  get globalStep(): number {
    return this.state.globalStep;
  }

  get epoch(): number {
    return this.state.epoch;
  }

  /** Asks the loop to stop after the current optimizer step (it saves a checkpoint first, as on Ctrl-C). */
  requestStop(): void {
    this.stopRequested = true;
  }

  /**
   * Runs training to the end (or an early stop, or a stop request / SIGINT / SIGTERM). With `resume`, continues from
   * the newest complete checkpoint in the run directory (or the checkpoint directory given); a newest checkpoint that
   * cannot be read is skipped for the one before it, with a message. `handleSigint`: SIGINT and SIGTERM stop the run
   * after the current step, with a checkpoint, as requestStop does.
   */
  async train(opts: { resume?: boolean | string; handleSigint?: boolean } = {}): Promise<TrainSummary> {
    const a = this.args;
    const run = this.run;
    const w = this.world;
    if (opts.resume) this.restore(typeof opts.resume === "string" ? opts.resume : undefined);
    else {
      // data parallelism: rank 0's seed and weights everywhere; each rank then draws its own random stream
      const seed = w ? broadcastNumber(w, a.seed) : a.seed;
      manualSeed(w ? rankSeed(seed, w.rank) : seed);
      if (w) broadcastParameters(w, this.model);
      this.state = this.freshState();
      if (run && this.isMain) {
        run.prune(Number.MAX_SAFE_INTEGER);
        run.writeRunConfig({
          args: a,
          ...(this.opts.runConfig ?? {}),
          totalSteps: this.totalSteps,
          stepsPerEpoch: this.stepsPerEpoch,
          trainSize: this.opts.trainSize,
          distributed: {
            worldSize: this.worldSize,
            perRankBatchSize: a.batchSize,
            globalBatchSize: a.batchSize * this.worldSize * a.gradAccumSteps,
            learningRate: a.lr,
            ...(w ? { library: w.library, bucketBytes: this.opts.bucketBytes ?? BUCKET_BYTES } : {}),
          },
        });
      }
    }
    let signal: "SIGINT" | "SIGTERM" | undefined;
    const onSigint = () => {
      signal ??= "SIGINT";
      this.requestStop();
    };
    const onSigterm = () => {
      signal ??= "SIGTERM";
      this.requestStop();
    };
    if (opts.handleSigint) {
      process.once("SIGINT", onSigint);
      process.once("SIGTERM", onSigterm);
    }
    this.reporters = createReporters(
      this.isMain ? a.reportTo : [],
      run && {
        runDir: run.path,
        config: existsSync(join(run.path, "run.json")) ? run.readRunConfig<Record<string, unknown>>() : { args: a },
        resumed: Boolean(opts.resume),
        histograms: a.reportHistograms,
        log: this.opts.log ?? ((line) => process.stderr.write(`${line}\n`)),
      },
    );
    const cbs = this.callbacks();
    for (const cb of cbs) cb.onTrainBegin?.(this as Trainer<unknown>);

    const t0 = performance.now();
    const examplesAtStart = this.state.examplesSeen;
    let lastMetrics: Record<string, number> | null = null;
    let stoppedEarly = false;
    let interrupted = false;
    let windowLoss = 0,
      windowSteps = 0,
      windowStart = performance.now(),
      windowExamples = 0;
    const n = this.opts.trainSize;
    const order = this.opts.order ?? defaultOrder;
    // a global micro-batch: batchSize examples per rank
    const gb = a.batchSize * this.worldSize;
    const reducer = this.reducer;

    try {
      outer: while (this.state.globalStep < this.totalSteps) {
        const s = this.state;
        const perm = order(s.epoch, a.seed, n);
        if (perm.length !== n)
          throw new ArgumentError(`Trainer: the order for epoch ${s.epoch} has ${perm.length} indices, expected ${n}`);
        const micro = Math.ceil(n / gb);
        if (s.batchInEpoch === 0) for (const cb of cbs) cb.onEpochBegin?.(this as Trainer<unknown>, s.epoch);
        this.model.train();
        while (s.batchInEpoch < micro) {
          // one optimizer step over up to gradAccumSteps micro-batches
          const first = s.batchInEpoch;
          const last = Math.min(micro, first + a.gradAccumSteps);
          this.optimizer.zeroGrad();
          let stepLoss = 0;
          for (let mb = first; mb < last; mb++) {
            const global = perm.subarray(mb * gb, Math.min(n, (mb + 1) * gb));
            const idx = w ? shardOf(global, a.batchSize, w.rank) : global;
            // data parallelism: this rank's loss weighs its share of the global batch, so the gradients summed over
            // ranks are those of the combined batch; the last micro-batch's backward starts the bucket all-reduces
            const share = idx.length / global.length;
            if (reducer && mb === last - 1) reducer.begin(this.optimizer.allParams().filter((p) => p.requiresGrad));
            // forward and backward at the run's precision (bf16: the matrix products only; see tensor matmul)
            const lv =
              idx.length === 0
                ? 0
                : withPrecision(a.precision, () => {
                    const loss = this.opts.loss(this.model, this.opts.collate(idx));
                    const v = loss.item();
                    if (!Number.isFinite(v))
                      throw new Error(
                        `training loss is ${v} at step ${s.globalStep + 1} (epoch ${s.epoch}, batch ${mb}); lower the learning rate or check the data`,
                      );
                    affine(loss, w ? share / (last - first) : 1 / (last - first)).backward();
                    return v;
                  });
            stepLoss += w ? (lv * share) / (last - first) : lv / (last - first);
            s.examplesSeen += global.length;
            windowExamples += global.length;
          }
          if (w && reducer) {
            reducer.finish();
            // the step's loss over the global batch, and a stop asked on any rank stops all of them at this step
            const [sum, stop] = sumOverRanks(w, [stepLoss, this.stopRequested ? 1 : 0]);
            stepLoss = sum;
            if (stop > 0) this.stopRequested = true;
          }
          const trainable = this.optimizer.allParams().filter((p) => p.requiresGrad);
          const gradNorm = a.maxGradNorm > 0 ? clipGradNorm(trainable, a.maxGradNorm) : NaN;
          this.optimizer.step();
          this.scheduler.step();
          s.globalStep++;
          s.batchInEpoch = last;
          windowLoss += stepLoss;
          windowSteps++;
          const epochFloat = s.epoch + s.batchInEpoch / micro;

          if (s.globalStep % a.logEvery === 0 || s.globalStep === this.totalSteps) {
            const secs = (performance.now() - windowStart) / 1000;
            const rec: LogRecord = {
              step: s.globalStep,
              epoch: round(epochFloat),
              loss: windowLoss / windowSteps,
              lr: this.scheduler.lrs()[0] ?? 0,
              ...(Number.isNaN(gradNorm) ? {} : { grad_norm: gradNorm }),
              examples_per_s: windowExamples / Math.max(secs, 1e-9),
            };
            if (this.isMain) run?.logMetrics(rec);
            for (const cb of cbs) cb.onLog?.(this as Trainer<unknown>, rec);
            windowLoss = 0;
            windowSteps = 0;
            windowExamples = 0;
            windowStart = performance.now();
          }

          const endOfEpoch = s.batchInEpoch >= micro;
          const done = s.globalStep >= this.totalSteps;
          const evalNow =
            this.opts.evaluate &&
            (a.evalEvery === "epoch" ? endOfEpoch || done : s.globalStep % a.evalEvery === 0 || done);
          if (evalNow) {
            lastMetrics = this.runEvaluation(epochFloat);
            if (this.policy.shouldStop()) stoppedEarly = true;
          }
          if (endOfEpoch) {
            s.epoch++;
            s.batchInEpoch = 0;
          }
          const saveNow =
            a.saveEvery === "none" ? false : a.saveEvery === "epoch" ? endOfEpoch : s.globalStep % a.saveEvery === 0;
          if (this.stopRequested) interrupted = true;
          if (run && (saveNow || interrupted || stoppedEarly || done)) this.saveCheckpoint();
          if (done || stoppedEarly || interrupted) break outer;
          if (endOfEpoch) continue outer;
          // let signal handlers and timers run between steps
          await new Promise<void>((r) => setImmediate(r));
        }
      }
    } catch (e) {
      reducer?.abandon();
      await this.closeReporters("FAILED");
      // data parallelism: the other ranks would wait for this one in the next collective; end the whole job now
      if (w) w.abort(`training failed: ${(e as Error).message}`);
      throw e;
    } finally {
      if (opts.handleSigint) {
        process.removeListener("SIGINT", onSigint);
        process.removeListener("SIGTERM", onSigterm);
      }
    }

    const finished = !interrupted;
    // every rank reads best/ only once rank 0 has written it
    if (w && finished && a.loadBestAtEnd && run) w.mpi.barrier();
    if (finished && a.loadBestAtEnd && run && existsSync(join(run.bestDir, "best.json"))) {
      const load =
        this.opts.loadModel ??
        ((m: Module, dir: string) =>
          void m.loadStateDict(loadSafetensors(join(dir, "model.safetensors")), { strict: false }));
      load(this.model, run.bestDir);
    }
    this.model.eval();
    const secs = (performance.now() - t0) / 1000;
    const summary: TrainSummary = {
      globalStep: this.state.globalStep,
      epochsCompleted: this.state.epoch,
      best: this.policy.state.best,
      bestStep: this.policy.state.bestStep,
      stoppedEarly,
      interrupted,
      ...(interrupted && signal ? { signal } : {}),
      trainSeconds: secs,
      examplesPerSecond: (this.state.examplesSeen - examplesAtStart) / Math.max(secs, 1e-9),
      lastMetrics,
    };
    for (const cb of cbs) cb.onTrainEnd?.(this as Trainer<unknown>, summary);
    await this.closeReporters(interrupted ? "KILLED" : "FINISHED");
    return summary;
  }

  /** The callbacks given to the Trainer, then the reporters of --report-to. */
  private callbacks(): TrainerCallback[] {
    return [...(this.opts.callbacks ?? []), ...(this.reporters as TrainerCallback[])];
  }

  private async closeReporters(status: "FINISHED" | "FAILED" | "KILLED"): Promise<void> {
    const reporters = this.reporters;
    this.reporters = [];
    await Promise.all(reporters.map((r) => r.close(status)));
  }

  /** Evaluates, logs, updates the policy and writes best/ on improvement. */
  runEvaluation(epoch = this.state.epoch): Record<string, number> {
    const evaluate = this.opts.evaluate;
    if (!evaluate) throw new ArgumentError("Trainer: no evaluate function was given");
    this.model.eval();
    const metrics = withPrecision(this.args.precision, () => evaluate(this.model));
    this.model.train();
    const isBest = this.policy.observe(metrics, this.state.globalStep);
    const rec: LogRecord = { step: this.state.globalStep, epoch: round(epoch) };
    for (const [k, v] of Object.entries(metrics)) rec[`eval_${k}`] = v;
    if (this.isMain) this.run?.logMetrics(rec);
    if (isBest && this.run && this.isMain) {
      const save = this.opts.saveModel ?? saveStateDict;
      this.run.writeDirAtomic(
        this.run.bestDir,
        (dir) => {
          save(this.model, dir);
          writeJsonAtomic(join(dir, "best.json"), {
            step: this.state.globalStep,
            metric: this.policy.metric,
            value: metrics[this.policy.metric],
            metrics,
          });
        },
        tensorBytes(this.model.stateDict().values()),
      );
    }
    for (const cb of this.callbacks()) cb.onEvaluate?.(this as Trainer<unknown>, metrics, isBest);
    return metrics;
  }

  /**
   * Writes checkpoints/step-N atomically and prunes old ones. Data parallelism: every rank calls it (each rank's
   * generator state travels to rank 0), rank 0 alone writes.
   */
  saveCheckpoint(): string {
    const run = this.run;
    if (!run) throw new ArgumentError("Trainer: no run directory to save checkpoints in");
    const s = this.state;
    const rngByRank = this.world ? allRngStates(this.world, defaultRng().getState()) : null;
    const dir = join(run.checkpointsDir, `step-${s.globalStep}`);
    if (!this.isMain) return dir;
    const opt = this.optimizer.stateDict();
    const state: TrainerState = {
      ...s,
      rng: rngByRank ? rngByRank[0] : defaultRng().getState(),
      ...(rngByRank ? { worldSize: rngByRank.length, rngByRank } : {}),
      policy: { ...this.policy.state },
      optimizer: opt.meta,
      trainable: this.model
        .namedParameters()
        .filter(([, p]) => p.requiresGrad)
        .map(([name]) => name),
    };
    const weights = this.model.stateDict();
    run.writeDirAtomic(
      dir,
      (tmp) => {
        saveSafetensors(join(tmp, "model.safetensors"), weights);
        saveSafetensors(join(tmp, "optimizer.safetensors"), opt.tensors);
        writeJsonAtomic(join(tmp, TRAINER_STATE), {
          ...state,
          schedulerStep: this.scheduler.currentStep,
          args: this.args,
        });
      },
      tensorBytes(weights.values()) + tensorBytes(Object.values(opt.tensors)),
    );
    run.prune(this.args.saveTotalLimit);
    for (const cb of this.callbacks()) cb.onSave?.(this as Trainer<unknown>, dir);
    return dir;
  }

  /**
   * Loads weights, optimizer, schedule, RNG, policy and position from a checkpoint: the one given, or the newest
   * complete one in the run directory — falling back to the one before when the newest cannot be read (a truncated
   * file, a half-written trainer_state.json), and saying so. Leftovers of interrupted writes are removed first.
   */
  private restore(dir?: string): void {
    const run = this.run;
    if (!dir && this.isMain) run?.removeTemporaries();
    const candidates = dir ? [dir] : (run?.checkpoints().map((c) => c.dir) ?? []).reverse();
    if (candidates.length === 0)
      throw new FormatError(
        `cannot resume: no complete checkpoint in ${run?.checkpointsDir ?? "(no run directory)"}`,
        "nothing was saved before it stopped: start the run again, with --overwrite to reuse its directory",
      );
    const failures: string[] = [];
    for (const ckpt of candidates) {
      let loaded: LoadedCheckpoint;
      try {
        loaded = readCheckpoint(ckpt);
      } catch (e) {
        if (dir || !(e instanceof FormatError)) throw e;
        failures.push(e.message);
        this.opts.log?.(`warning: skipping the unreadable checkpoint ${ckpt}: ${e.message}`);
        continue;
      }
      if (failures.length) this.opts.log?.(`resuming from the previous complete checkpoint ${ckpt}`);
      this.apply(ckpt, loaded);
      return;
    }
    throw new FormatError(
      `cannot resume: no checkpoint in ${run!.checkpointsDir} can be read (${failures.join("; ")})`,
      "start a new run with --overwrite",
    );
  }

  private apply(ckpt: string, { saved, weights, optimizer }: LoadedCheckpoint): void {
    const run = this.run;
    for (const key of ["batchSize", "gradAccumSteps", "seed", "epochs", "maxSteps"] as const) {
      if (saved.args && saved.args[key] !== this.args[key]) {
        throw new ArgumentError(
          `cannot resume from ${ckpt}: ${key} was ${saved.args[key]} and is now ${this.args[key]}; an exact resume needs the same value`,
        );
      }
    }
    const savedWorld = saved.worldSize ?? 1;
    if (savedWorld !== this.worldSize)
      throw new ArgumentError(
        `cannot resume from ${ckpt}: it was written by ${savedWorld} rank(s) and this run has ${this.worldSize}; an exact resume needs the same number (mpirun -np ${savedWorld})`,
      );
    const trainable = new Set(saved.trainable);
    for (const [name, p] of this.model.namedParameters()) p.requiresGrad = trainable.has(name);
    this.model.loadStateDict(weights);
    this.optimizer.loadStateDict({ tensors: Object.fromEntries(optimizer), meta: saved.optimizer });
    this.scheduler.setStep(saved.schedulerStep);
    this.policy.state = { ...saved.policy };
    defaultRng().setState(saved.rngByRank?.[this.world?.rank ?? 0] ?? saved.rng);
    const { schedulerStep: _s, args: _a, ...state } = saved;
    this.state = { ...state, policy: this.policy.state };
    if (this.isMain) run?.truncateMetricsAfter(saved.globalStep);
  }
}

type SavedState = TrainerState & { schedulerStep: number; args: TrainingArgs };
interface LoadedCheckpoint {
  saved: SavedState;
  weights: Map<string, Tensor>;
  optimizer: Map<string, Tensor>;
}

/** Reads every file of a checkpoint before anything is applied; a FormatError names the file that is unreadable. */
function readCheckpoint(ckpt: string): LoadedCheckpoint {
  const statePath = join(ckpt, TRAINER_STATE);
  if (!existsSync(statePath))
    throw new FormatError(`cannot resume from ${ckpt}: ${TRAINER_STATE} is missing (not a complete checkpoint)`);
  let saved: SavedState;
  try {
    saved = JSON.parse(readFileSync(statePath, "utf8")) as SavedState;
  } catch (e) {
    throw new FormatError(`${statePath}: not valid JSON, the file is damaged (${(e as Error).message})`);
  }
  if (!saved || typeof saved !== "object" || typeof saved.globalStep !== "number" || !saved.rng || !saved.policy)
    throw new FormatError(`${statePath}: not a trainer state (globalStep, rng or policy missing)`);
  const load = (name: string) => {
    const p = join(ckpt, name);
    if (!existsSync(p)) throw new FormatError(`${p} is missing (not a complete checkpoint)`);
    return loadSafetensors(p);
  };
  return { saved, weights: load("model.safetensors"), optimizer: load("optimizer.safetensors") };
}

const DTYPE_SIZE: Record<string, number> = { f32: 4, i32: 4, bf16: 2, f16: 2, i8: 1 };

/** About the bytes tensors take in a safetensors file (for the message of a full disk). */
function tensorBytes(tensors: Iterable<Tensor>): number {
  let n = 0;
  for (const t of tensors) n += t.size * (DTYPE_SIZE[t.dtype] ?? 4);
  return n;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
