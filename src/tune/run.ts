/**
 * A tuning run from a configuration: create (or resume) the study in its directory, pick the executor (inline, a
 * local pool for --parallel N or a trial timeout, BullMQ for --redis), run the trials, write the outputs.
 * The command line is a thin layer over this.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError } from "../util/errors.js";
import { DEFAULT_TUNE, resolveTuneConfig, type TuneConfig } from "./config.js";
import type { Executor } from "./executors/executor.js";
import { InlineExecutor } from "./executors/inline.js";
import { PoolExecutor } from "./executors/pool.js";
import { RedisExecutor } from "./executors/redis.js";
import { loadObjective } from "./objectives/ref.js";
import { objectiveDirections } from "./objectives/metrics.js";
import { resolveObjective, type ResolvedObjective } from "./objectives/registry.js";
import { writeStudyOutputs, type WrittenOutputs } from "./outputs.js";
import { STUDY_FILE, Study } from "./study.js";
import type { Trial } from "./types.js";
import { SearchSpace } from "./space.js";
import { planWarmStart, readSourceStudy, type WarmStart } from "./warm.js";

export interface TuneRunOptions {
  dir: string;
  /** New study: its configuration. Resumed study: overrides of how it runs (trials, parallel, timeout, redis...). */
  config: Record<string, unknown>;
  resume?: boolean;
  /** Where the configuration came from, for error messages. */
  source?: string;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface TuneRunResult {
  study: Study;
  config: TuneConfig;
  outputs: WrittenOutputs;
  /** Trials that finished in this run. */
  finished: number;
}

/** What may change when a study is resumed (the rest defines the study and is kept). */
const RUN_KEYS = ["trials", "parallel", "timeout", "studyTimeout", "retries", "threads", "redis", "queue"] as const;

export async function runTune(opts: TuneRunOptions): Promise<TuneRunResult> {
  const log = opts.log ?? (() => {});
  let study: Study;
  let config: TuneConfig;
  let objective: ResolvedObjective;
  if (opts.resume) {
    if (!existsSync(join(opts.dir, STUDY_FILE)))
      throw new ArgumentError(`nothing to resume in ${opts.dir}: ${STUDY_FILE} is missing`);
    study = await Study.load(opts.dir);
    const saved = study.config.tune as Record<string, unknown> | undefined;
    if (!saved)
      throw new ArgumentError(
        `${opts.dir} was not created by graft tune (its record keeps no tune configuration)`,
        "resume it from the API with Study.load",
      );
    for (const k of Object.keys(opts.config)) {
      if (!(RUN_KEYS as readonly string[]).includes(k) && JSON.stringify(opts.config[k]) !== JSON.stringify(saved[k])) {
        throw new ArgumentError(
          `cannot change "${k}" when resuming a study`,
          `only ${RUN_KEYS.join(", ")} may change; start a new study for a different ${k}`,
        );
      }
    }
    config = resolveTuneConfig({
      ...saved,
      ...Object.fromEntries(RUN_KEYS.filter((k) => opts.config[k] !== undefined).map((k) => [k, opts.config[k]])),
    });
    objective = resolveObjective(config.objective);
    const finished = study.trials.filter(
      (t) => t.state === "complete" || t.state === "pruned" || t.state === "failed",
    ).length;
    log(
      `resuming ${study.name} in ${opts.dir}: ${finished} finished trials kept, ${study.trials.length - finished} to run again`,
    );
  } else {
    config = resolveTuneConfig(opts.config, opts.source);
    objective = resolveObjective(config.objective);
    const space = config.space ?? objective.space;
    if (!space)
      throw new ArgumentError(
        `the objective ${JSON.stringify(config.objective)} has no default search space`,
        'give one under "space"',
      );
    // the study's own directions, else the objective's, else the metric registry's for the metrics it names (an
    // unknown metric is then an error rather than a silent "minimize")
    const directions =
      config.directions ??
      objective.directions ??
      (objective.metrics ? objectiveDirections(objective.metrics) : ["minimize"]);
    const base = config.base ?? objective.base ?? {};
    const metrics =
      config.metrics ??
      (objective.metrics?.length === directions.length
        ? objective.metrics
        : directions.map((_, i) => (directions.length === 1 ? "objective" : `objective ${i}`)));
    const stored: TuneConfig = { ...config, space, directions, metrics, base };
    let sampler = config.sampler;
    let warm: WarmStart | null = null;
    if (config.warmStart) {
      if (config.pbt) throw new ArgumentError("a warm start and PBT cannot be combined", "drop warmStart or pbt");
      const sources = await Promise.all(config.warmStart.map((p) => readSourceStudy(p)));
      warm = planWarmStart(sources, new SearchSpace(space), directions, config.metaFeatures, {
        top: config.warmStartTop,
      });
      if (sampler.name === "tpe") sampler = { ...sampler, prior: warm.prior };
      else warm.notes.push(`the ${sampler.name} sampler takes no prior: only the enqueued configurations carry over`);
      for (const s of warm.sources)
        log(
          `warm start from ${s.name}: similarity ${s.similarity.toFixed(3)}, ${s.trials} trials (${s.good} good), ${s.enqueued} enqueued`,
        );
      for (const n of warm.notes) log(`warm start: ${n}`);
    }
    study = await Study.create({
      dir: opts.dir,
      name: config.name,
      space,
      directions,
      sampler,
      pruner: config.pruner,
      pruneDirection: config.pruneDirection ?? undefined,
      pbt: config.pbt,
      config: { tune: stripDefaults(stored), base, metrics, ...(warm ? { warmStart: warm.sources } : {}) },
    });
    for (const w of warm?.enqueue ?? []) study.enqueue(w.params, { warmStart: w.source });
    config = stored;
    log(
      `study ${study.name} in ${opts.dir}: ${study.space.dims} parameters, ${config.pbt ? `PBT (population ${config.pbt.population})` : `${study.sampler.name} sampler`}, ${study.directions.join("/")}`,
    );
  }

  const executor = await makeExecutor(config, objective, study);
  log(`executor: ${describeExecutor(executor)}`);
  const before = study.trials.filter(isDone).length;
  try {
    await study.optimize(executor, {
      nTrials: config.trials ?? undefined,
      timeoutSeconds: config.studyTimeout ?? undefined,
      signal: opts.signal,
      onTrialEnd: (t, s) => log(trialLine(t, s)),
    });
  } finally {
    await executor.close();
  }
  const outputs = writeStudyOutputs(study);
  return { study, config, outputs, finished: study.trials.filter(isDone).length - before };
}

function isDone(t: Trial): boolean {
  return t.state === "complete" || t.state === "pruned" || t.state === "failed";
}

function stripDefaults(c: TuneConfig): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(c).filter(
      ([k, v]) => JSON.stringify(v) !== JSON.stringify((DEFAULT_TUNE as unknown as Record<string, unknown>)[k]),
    ),
  );
}

async function makeExecutor(c: TuneConfig, objective: ResolvedObjective, study: Study): Promise<Executor> {
  if (c.redis) {
    return RedisExecutor.connect(objective.ref, {
      url: c.redis,
      studyId: study.id,
      queue: c.queue ?? undefined,
      slots: c.parallel,
      retries: c.retries,
      timeoutSeconds: c.timeout ?? undefined,
    });
  }
  if (c.parallel > 1 || c.timeout !== null) {
    return new PoolExecutor(objective.ref, {
      parallel: c.parallel,
      threadsPerTrial: c.threads ?? undefined,
      timeoutSeconds: c.timeout ?? undefined,
    });
  }
  return new InlineExecutor(await loadObjective(objective.ref), { threads: c.threads ?? undefined });
}

function describeExecutor(e: Executor): string {
  if (e.kind === "redis") return `BullMQ (up to ${e.slots} trials queued; start workers with graft worker --redis URL)`;
  if (e.kind === "pool")
    return `${e.slots} trial process${e.slots > 1 ? "es" : ""}, ${e.threadsPerTrial} thread${e.threadsPerTrial > 1 ? "s" : ""} each`;
  return "inline";
}

function fmt(v: number): string {
  return Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toPrecision(5);
}

export function trialLine(t: Trial, s: Study): string {
  const secs =
    t.startedAt !== null && t.finishedAt !== null ? ` ${((t.finishedAt - t.startedAt) / 1000).toFixed(1)} s` : "";
  const params = Object.entries(t.params)
    .map(([k, v]) => `${k}=${typeof v === "number" ? fmt(v) : v}`)
    .join(" ");
  let what: string;
  if (t.state === "complete") {
    what = `${t.values!.map(fmt).join(", ")}`;
    if (!s.isMultiObjective) {
      const best = s.ranked()[0];
      if (best)
        what += best.number === t.number ? "  (best so far)" : `  best ${fmt(best.values![0]!)} (trial ${best.number})`;
    }
  } else if (t.state === "pruned") {
    const last = t.intermediate[t.intermediate.length - 1];
    what = `pruned at step ${last?.step ?? 0}${last ? ` (${fmt(last.value)})` : ""}`;
  } else {
    what = `failed: ${(t.error ?? "").split("\n")[0]}`;
  }
  const pbt = t.system.pbt as { member: number; generation: number; donor: number | null } | undefined;
  const who = pbt
    ? `member ${pbt.member} gen ${pbt.generation}${pbt.donor !== null ? ` (from member ${pbt.donor})` : ""}`
    : "";
  return `trial ${t.number}${t.attempt > 1 ? ` (attempt ${t.attempt})` : ""} ${who ? who + " " : ""}${t.state === "complete" ? "→ " : ""}${what}  [${params}]${secs}`;
}
