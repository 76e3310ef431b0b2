/**
 * Warm-started studies: a new study learns from earlier studies on other datasets. Each earlier study's best
 * configurations are enqueued as the first trials, and its trials become a prior of the TPE sampler (its best
 * fraction as extra "good" observations, the rest as "bad" ones), every one weighted by how similar the earlier
 * study's dataset is to this one. Similarity comes from meta-features, plain numbers the caller measured on each
 * dataset (methods/metafeatures.ts measures them on a labelled file; a study keeps its own in its configuration):
 *
 *   size          training examples          compared as log10(n)          (scale 1: a factor of 10)
 *   classes       number of labels           compared as log2(k)           (scale 1: a factor of 2)
 *   meanLength    mean words per text        compared as log10(words)      (scale 0.5)
 *   labelEntropy  entropy of the label mix   compared as H / log(classes)  (scale 0.25)
 *   logme         LogME of the candidate     compared as is                (scale 0.5)
 *
 * similarity = exp(-½ Σ ((a - b) / scale)²) over the features both studies have, in (0, 1]; 1 when either has
 * none (with a note). Parameters of an earlier study are mapped into this study's space by name: a numeric value
 * outside the range is clipped to it, a choice the space lacks is dropped (a configuration that then misses a
 * parameter is not enqueued), a parameter this space lacks is ignored; every change is noted.
 */
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ArgumentError, FormatError } from "../util/errors.js";
import type { SearchSpace, SpaceSpec } from "./space.js";
import { StudyStorage } from "./storage.js";
import { STUDY_FILE } from "./study.js";
import { lossSign, type Direction, type Params, type Trial } from "./types.js";
import type { TPEPrior, WeightedParams } from "./samplers/tpe.js";

/** Meta-features of a dataset, by name (see the table above); unknown names are compared with scale 1. */
export type MetaFeatures = Record<string, number>;

/** An earlier study as warm starts read it. */
export interface SourceStudy {
  /** Where it was read from (for notes). */
  name: string;
  space: SpaceSpec;
  directions: Direction[];
  trials: Trial[];
  metaFeatures: MetaFeatures | null;
}

export interface WarmStartOptions {
  /** Best configurations of each earlier study enqueued (default 1). */
  top?: number;
  /** Fraction of each earlier study's complete trials that count as good in the prior (default 0.2, at least one). */
  goodFraction?: number;
  /** Weight of an earlier trial in the prior, times its study's similarity (default 1: as much as a trial of this study). */
  priorWeight?: number;
}

export interface WarmStart {
  /** Parameters to enqueue, most similar study first. */
  enqueue: { params: Params; source: string; value: number }[];
  prior: TPEPrior;
  /** Per earlier study: its similarity to this one and what it gave. */
  sources: { name: string; similarity: number; trials: number; good: number; enqueued: number }[];
  notes: string[];
}

const SCALES: Record<string, number> = { size: 1, classes: 1, meanLength: 0.5, labelEntropy: 0.25, logme: 0.5 };

/** The meta-features on the scale they are compared on. */
function transformed(m: MetaFeatures): MetaFeatures {
  const out: MetaFeatures = {};
  for (const [k, v] of Object.entries(m)) {
    if (!Number.isFinite(v)) continue;
    if (k === "size" || k === "meanLength") out[k] = Math.log10(Math.max(v, 1));
    else if (k === "classes") out[k] = Math.log2(Math.max(v, 1));
    else if (k === "labelEntropy") {
      const c = m.classes;
      out[k] = c !== undefined && c > 1 ? v / Math.log(c) : v;
    } else out[k] = v;
  }
  return out;
}

/** Similarity of two datasets from their meta-features, in (0, 1]; null when they share no feature. */
export function metaSimilarity(a: MetaFeatures, b: MetaFeatures): number | null {
  const ta = transformed(a),
    tb = transformed(b);
  let d2 = 0,
    shared = 0;
  for (const k of Object.keys(ta)) {
    if (!(k in tb)) continue;
    const z = (ta[k]! - tb[k]!) / (SCALES[k] ?? 1);
    d2 += z * z;
    shared++;
  }
  return shared ? Math.exp(-0.5 * d2) : null;
}

/**
 * `params` of another study in `space`: clipped, dropped and filled as the header says. `complete`: every active
 * parameter must end up with a value (for enqueueing); otherwise missing ones are left out (for the prior).
 */
export function mapParams(
  params: Params,
  space: SearchSpace,
  complete: boolean,
): { params: Params | null; notes: string[] } {
  const out: Params = {};
  const notes: string[] = [];
  for (const def of space.params) {
    if (!space.isActive(def, out)) continue;
    const v = params[def.name];
    if (v === undefined) {
      if (complete) {
        notes.push(`${def.name} missing`);
        return { params: null, notes };
      }
      continue;
    }
    if (def.contains(v)) {
      out[def.name] = v;
      continue;
    }
    if (def.numeric && typeof v === "number" && Number.isFinite(v)) {
      const u = def.encode(v);
      const clipped = def.decode(Number.isFinite(u) ? Math.min(1, Math.max(0, u)) : v > 0 ? 1 : 0);
      notes.push(`${def.name} ${v} clipped to ${clipped}`);
      out[def.name] = clipped;
      continue;
    }
    notes.push(`${def.name} ${JSON.stringify(v)} is not in the space`);
    if (complete) return { params: null, notes };
  }
  return { params: out, notes };
}

/** Reads an earlier study (a study directory or its study.sqlite) without changing it. */
export async function readSourceStudy(path: string): Promise<SourceStudy> {
  const abs = resolve(path);
  const file = existsSync(abs) && statSync(abs).isDirectory() ? join(abs, STUDY_FILE) : abs;
  if (!existsSync(file))
    throw new ArgumentError(`warm start: ${path} holds no study (${STUDY_FILE} is missing)`, "pass a study directory");
  const storage = await StudyStorage.open(file);
  try {
    const space = storage.getMeta<SpaceSpec>("space");
    const directions = storage.getMeta<Direction[]>("directions");
    if (!space || !directions) throw new FormatError(`${file}: not a study record (no space or directions)`);
    const config = storage.getMeta<Record<string, unknown>>("config") ?? {};
    const tune = (config.tune ?? {}) as Record<string, unknown>;
    const meta = (tune.metaFeatures ?? config.metaFeatures ?? null) as MetaFeatures | null;
    return { name: path, space, directions, trials: storage.loadTrials(), metaFeatures: meta };
  } finally {
    storage.close();
  }
}

/**
 * What a study in `space` takes from earlier studies: the configurations to enqueue and the TPE prior, weighted
 * by meta-feature similarity to `target`.
 */
export function planWarmStart(
  sources: readonly SourceStudy[],
  space: SearchSpace,
  directions: readonly Direction[],
  target: MetaFeatures | null,
  opts: WarmStartOptions = {},
): WarmStart {
  const top = opts.top ?? 1;
  const goodFraction = opts.goodFraction ?? 0.2;
  const priorWeight = opts.priorWeight ?? 1;
  if (!Number.isInteger(top) || top < 0)
    throw new ArgumentError(`warm start: top must be a non-negative integer, got ${top}`);
  if (!(goodFraction > 0 && goodFraction <= 1))
    throw new ArgumentError(`warm start: goodFraction must be in (0, 1], got ${goodFraction}`);
  if (directions.length !== 1) throw new ArgumentError("warm start needs a single-objective study");
  const notes: string[] = [];
  const good: WeightedParams[] = [],
    bad: WeightedParams[] = [];
  const planned: (WarmStart["enqueue"][number] & { similarity: number })[] = [];
  const summary: WarmStart["sources"] = [];
  for (const s of sources) {
    if (s.directions.length !== 1 || s.directions[0] !== directions[0])
      throw new ArgumentError(
        `warm start: ${s.name} ${s.directions.join("/")}s, this study ${directions.join("/")}s`,
        "warm-start from studies of the same objective direction",
      );
    let similarity = 1;
    if (target && s.metaFeatures) {
      const sim = metaSimilarity(target, s.metaFeatures);
      if (sim === null) notes.push(`${s.name}: no meta-feature in common; weighted 1`);
      else similarity = sim;
    } else notes.push(`${s.name}: ${target ? "the earlier study" : "this study"} has no meta-features; weighted 1`);
    const sign = lossSign(s.directions[0]!);
    const complete = s.trials
      .filter((t) => t.state === "complete" && t.values && Number.isFinite(t.values[0]!))
      .sort((a, b) => sign * (a.values![0]! - b.values![0]!) || a.number - b.number);
    const nGood = complete.length ? Math.max(1, Math.ceil(goodFraction * complete.length)) : 0;
    let enqueued = 0;
    complete.forEach((t, rank) => {
      const mapped = mapParams(t.params, space, false);
      if (mapped.params && Object.keys(mapped.params).length)
        (rank < nGood ? good : bad).push({ params: mapped.params, weight: priorWeight * similarity });
      if (rank < top) {
        const full = mapParams(t.params, space, true);
        for (const n of full.notes)
          notes.push(`${s.name} trial ${t.number}: ${n}${full.params ? "" : "; not enqueued"}`);
        if (full.params) {
          planned.push({ params: full.params, source: s.name, value: t.values![0]!, similarity });
          enqueued++;
        }
      }
    });
    summary.push({ name: s.name, similarity, trials: complete.length, good: nGood, enqueued });
  }
  // the most similar study's best first; the same configuration once
  planned.sort((a, b) => b.similarity - a.similarity);
  const seen = new Set<string>();
  const enqueue = planned
    .filter((p) => {
      const key = JSON.stringify(Object.entries(p.params).sort());
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map(({ params, source, value }) => ({ params, source, value }));
  return { enqueue, prior: { good, bad }, sources: summary, notes };
}
