/**
 * Population-based training (Jaderberg et al. 2017), synchronous: a population of members trains in segments of
 * `interval` steps; after every generation the members are ranked by their score, and each member of the bottom
 * quantile exploits a random member of the top quantile — it continues from that member's checkpoint (weights and
 * optimizer state) with its hyperparameters — then explores: every mutable hyperparameter is resampled with
 * probability `resampleProbability`, otherwise perturbed (numbers ×0.8 or ×1.2, choices to a neighbouring one).
 *
 * Each segment is one trial (system.pbt holds member, generation, steps, the checkpoint it starts from and the
 * donor), so a segment runs on any executor, finished segments are never re-run on resume, and the lineage —
 * which member followed which hyperparameters over which steps, and whose weights it took when — is in the study
 * record. `memberSchedule` follows a member's ancestry back to generation 0: the hyperparameter schedule its final
 * weights were trained with, which `replaySchedule` runs again from scratch.
 */
import { join } from "node:path";
import { ArgumentError } from "../util/errors.js";
import type { Rng } from "../util/rng.js";
import { runObjective, type Objective, type PbtSegment, type TrialSpec } from "./context.js";
import { trialRng } from "./samplers/sampler.js";
import type { Sampler } from "./samplers/sampler.js";
import type { SearchSpace } from "./space.js";
import { lossSign, type Direction, type Params, type Trial } from "./types.js";

/** What PBT needs of its study (the Study class satisfies it). */
export interface PbtHost {
  readonly trials: readonly Trial[];
  readonly space: SearchSpace;
  readonly directions: readonly Direction[];
  readonly sampler: Sampler;
  trialDir(number: number): string;
}

export interface PbtOptions {
  population: number;
  /** Training steps per segment. */
  interval: number;
  generations: number;
  /** Fraction of the population that exploits (bottom) and is exploited (top). */
  quantile?: number;
  resampleProbability?: number;
  perturbFactors?: [number, number];
  /** Hyperparameters explore changes (default: all); the others are copied from the donor unchanged. */
  mutable?: string[];
  seed?: number;
}

interface PbtInfo {
  member: number;
  generation: number;
  startStep: number;
  endStep: number;
  restoreFrom: string | null;
  donor: number | null;
  /** The trial whose checkpoint this segment starts from. */
  parentTrial: number | null;
}

interface Plan {
  params: Params;
  donor: number | null;
  parentTrial: number | null;
}

export class PbtScheduler {
  readonly options: Required<Omit<PbtOptions, "mutable">> & { mutable: string[] | null };
  private plans = new Map<number, Plan[]>();

  constructor(opts: PbtOptions) {
    this.options = {
      population: opts.population,
      interval: opts.interval,
      generations: opts.generations,
      quantile: opts.quantile ?? 0.25,
      resampleProbability: opts.resampleProbability ?? 0.25,
      perturbFactors: opts.perturbFactors ?? [0.8, 1.2],
      mutable: opts.mutable ?? null,
      seed: opts.seed ?? 0,
    };
    const o = this.options;
    if (!Number.isInteger(o.population) || o.population < 2)
      throw new ArgumentError(`PBT: population must be an integer >= 2, got ${o.population}`);
    if (!Number.isInteger(o.interval) || o.interval < 1)
      throw new ArgumentError(`PBT: interval must be a positive integer (training steps), got ${o.interval}`);
    if (!Number.isInteger(o.generations) || o.generations < 1)
      throw new ArgumentError(`PBT: generations must be a positive integer, got ${o.generations}`);
    if (!(o.quantile > 0 && o.quantile <= 0.5))
      throw new ArgumentError(`PBT: quantile must be in (0, 0.5], got ${o.quantile}`);
    if (!(o.resampleProbability >= 0 && o.resampleProbability <= 1))
      throw new ArgumentError(`PBT: resampleProbability must be in [0, 1], got ${o.resampleProbability}`);
  }

  get totalSteps(): number {
    return this.options.interval * this.options.generations;
  }

  private info(t: Trial): PbtInfo | undefined {
    return t.system.pbt as PbtInfo | undefined;
  }

  generationTrials(study: PbtHost, g: number): Trial[] {
    return study.trials
      .filter((t) => this.info(t)?.generation === g)
      .sort((a, b) => this.info(a)!.member - this.info(b)!.member);
  }

  /** The next segment to start, "wait" while a generation is still running, null when training is over. */
  next(study: PbtHost): { params: Params; system: Record<string, unknown> } | "wait" | null {
    const o = this.options;
    let g = Math.max(0, ...study.trials.map((t) => this.info(t)?.generation ?? 0));
    let current = this.generationTrials(study, g);
    if (current.length === o.population) {
      if (current.some((t) => t.state !== "complete" && t.state !== "failed" && t.state !== "pruned")) return "wait";
      if (g + 1 >= o.generations) return null;
      g += 1;
      current = [];
    }
    const member = current.length;
    const plan = g === 0 ? this.initialPlan(study, member) : this.planFor(study, g)[member]!;
    const info: PbtInfo = {
      member,
      generation: g,
      startStep: g * o.interval,
      endStep: (g + 1) * o.interval,
      donor: plan.donor,
      parentTrial: plan.parentTrial,
      restoreFrom: plan.parentTrial === null ? null : join(study.trialDir(plan.parentTrial), "checkpoint"),
    };
    return { params: plan.params, system: { pbt: info } };
  }

  private initialPlan(study: PbtHost, member: number): Plan {
    const s = study.sampler.suggest({
      space: study.space,
      directions: study.directions,
      trials: study.trials,
      number: study.trials.length,
    });
    if (!s) throw new ArgumentError(`PBT: the ${study.sampler.name} sampler gave no parameters for member ${member}`);
    return { params: s.params, donor: null, parentTrial: null };
  }

  /** Exploit and explore after generation g-1: a pure function of that generation's results and the seed. */
  private planFor(study: PbtHost, g: number): Plan[] {
    const cached = this.plans.get(g);
    if (cached) return cached;
    const o = this.options;
    const prev = this.generationTrials(study, g - 1);
    const sign = lossSign(study.directions[0]!);
    const score = (t: Trial) => (t.state === "complete" && t.values ? sign * t.values[0]! : Infinity);
    const ranked = [...prev].sort((a, b) => score(a) - score(b) || this.info(a)!.member - this.info(b)!.member);
    const usable = ranked.filter((t) => score(t) < Infinity);
    if (usable.length === 0)
      throw new ArgumentError(
        `PBT: every member failed in generation ${g - 1}; nothing to continue from`,
        "see the trials' errors in the leaderboard",
      );
    const k = Math.min(Math.floor(o.population / 2), Math.max(1, Math.ceil(o.population * o.quantile)));
    const top = usable.slice(0, k);
    const bottom = new Set(
      [...ranked.slice(ranked.length - k), ...ranked.filter((t) => score(t) === Infinity)].map((t) => t.number),
    );
    const rng = trialRng(o.seed, g, 11);
    const plans = prev.map((t): Plan => {
      if (!bottom.has(t.number)) return { params: t.params, donor: null, parentTrial: t.number };
      const donor = top[rng.int(top.length)]!;
      return {
        params: this.explore(study.space, donor.params, rng),
        donor: this.info(donor)!.member,
        parentTrial: donor.number,
      };
    });
    this.plans.set(g, plans);
    return plans;
  }

  /** Resample (with resampleProbability) or perturb each mutable hyperparameter; conditions are re-applied. */
  explore(space: SearchSpace, params: Params, rng: Rng): Params {
    const o = this.options;
    const out: Params = {};
    for (const def of space.params) {
      if (!space.isActive(def, out)) continue;
      const old = params[def.name];
      const mutable = o.mutable === null || o.mutable.includes(def.name);
      if (old === undefined) {
        out[def.name] = def.decode(rng.uniform());
        continue;
      }
      if (!mutable) {
        out[def.name] = old;
        continue;
      }
      if (rng.uniform() < o.resampleProbability) {
        out[def.name] = def.decode(rng.uniform());
        continue;
      }
      const up = rng.uniform() < 0.5;
      if (def.spec.type === "categorical") {
        const choices = def.spec.choices;
        const i = choices.indexOf(old) + (up ? 1 : -1);
        out[def.name] = choices[Math.max(0, Math.min(choices.length - 1, i))]!;
      } else {
        const { low, high } = def.spec;
        let v = (old as number) * o.perturbFactors[up ? 1 : 0];
        if (def.spec.type === "int") {
          v = Math.round(v);
          if (v === old) v += up ? 1 : -1; // small integers would never move
          const step = def.spec.step ?? 1;
          v = low + Math.round((v - low) / step) * step;
        }
        out[def.name] = Math.max(low, Math.min(high, v));
      }
    }
    return out;
  }

  segmentOf(t: Trial): PbtSegment | null {
    const i = this.info(t);
    if (!i) return null;
    return {
      member: i.member,
      generation: i.generation,
      startStep: i.startStep,
      endStep: i.endStep,
      totalSteps: this.totalSteps,
      restoreFrom: i.restoreFrom,
      donor: i.donor,
    };
  }

  /** The best member's last segment (its checkpoint holds the best model). */
  bestFinal(study: PbtHost): Trial | null {
    const last = this.generationTrials(study, this.options.generations - 1).filter(
      (t) => t.state === "complete" && t.values,
    );
    const sign = lossSign(study.directions[0]!);
    return last.sort((a, b) => sign * (a.values![0]! - b.values![0]!) || a.number - b.number)[0] ?? null;
  }
}

export interface LineageEntry {
  generation: number;
  trial: number;
  member: number;
  params: Params;
  score: number | null;
  state: string;
  startStep: number;
  endStep: number;
  /** The member whose weights and hyperparameters this segment started from (exploit), or null. */
  donor: number | null;
  parentTrial: number | null;
}

/** Every segment of every member, by member then generation: the data of a PBT lineage plot. */
export function pbtLineage(study: PbtHost): { members: { member: number; segments: LineageEntry[] }[] } {
  const members = new Map<number, LineageEntry[]>();
  for (const t of study.trials) {
    const i = t.system.pbt as PbtInfo | undefined;
    if (!i) continue;
    const e: LineageEntry = {
      generation: i.generation,
      trial: t.number,
      member: i.member,
      params: t.params,
      score: t.values?.[0] ?? null,
      state: t.state,
      startStep: i.startStep,
      endStep: i.endStep,
      donor: i.donor,
      parentTrial: i.parentTrial,
    };
    if (!members.has(i.member)) members.set(i.member, []);
    members.get(i.member)!.push(e);
  }
  return {
    members: [...members.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([member, segs]) => ({ member, segments: segs.sort((a, b) => a.generation - b.generation) })),
  };
}

/**
 * The hyperparameter schedule behind a trial's weights: its segment, the segment whose checkpoint it continued
 * from, and so on back to generation 0; oldest first.
 */
export function memberSchedule(study: PbtHost, trial: number): LineageEntry[] {
  const byTrial = new Map(
    pbtLineage(study)
      .members.flatMap((m) => m.segments)
      .map((e) => [e.trial, e]),
  );
  const out: LineageEntry[] = [];
  for (let cur = byTrial.get(trial); cur; cur = cur.parentTrial === null ? undefined : byTrial.get(cur.parentTrial))
    out.push(cur);
  if (out.length === 0) throw new ArgumentError(`trial ${trial} is not a PBT segment`);
  return out.reverse();
}

/**
 * Runs a recorded schedule again as one training run, segment after segment, in `dir`: the replay of a member's
 * hyperparameter schedule. Returns each segment's score.
 */
export async function replaySchedule(
  objective: Objective,
  schedule: readonly LineageEntry[],
  dir: string,
): Promise<number[]> {
  const scores: number[] = [];
  let restoreFrom: string | null = null;
  for (const [i, e] of schedule.entries()) {
    const spec: TrialSpec = {
      number: i,
      attempt: 1,
      params: e.params,
      dir: join(dir, `segment-${i}`),
      nObjectives: 1,
      threads: 1,
      segment: {
        member: schedule[0]!.member,
        generation: e.generation,
        startStep: e.startStep,
        endStep: e.endStep,
        totalSteps: schedule[schedule.length - 1]!.endStep,
        restoreFrom,
        donor: null,
      },
    };
    const outcome = await runObjective(objective, spec, { report: () => false, attr: () => {} });
    if (outcome.state !== "complete")
      throw new ArgumentError(
        `replay: segment ${i} (generation ${e.generation}) ended ${outcome.state}${outcome.state === "failed" ? `: ${outcome.error}` : ""}`,
      );
    scores.push(outcome.values[0]!);
    restoreFrom = join(spec.dir, "checkpoint");
  }
  return scores;
}
