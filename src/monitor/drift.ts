/**
 * Drift of served predictions against the model's reference: one test per score and one for the predicted label
 * (Evidently's choice of test, stats.ts), the MMD permutation test on embeddings (mmd.ts), and an overall status.
 *
 * The rule (defaults; every number is an option):
 * - the current sample is the newest `window` (1000) logged predictions of the model;
 * - with fewer than `minSamples` (30) of them nothing is judged: status "ok", with a note;
 * - a score or label drifts when its test says so (α 0.05 for KS/χ²/z, 0.1 for normed Wasserstein and JS);
 * - status "degraded" when at least `driftShare` (0.5, Evidently's dataset-drift share) of the tested scores and
 *   labels drifted, or when the embedding MMD test rejects (p < 0.05, 100 permutations, 200 embeddings a side);
 *   otherwise "ok". PSI and the Jensen–Shannon distance of each score are shown beside the test but do not vote.
 */
import { mmdTest, type MmdResult } from "./mmd.js";
import { type DriftReference, referenceScore } from "./reference.js";
import {
  chooseTest,
  DEFAULT_THRESHOLDS,
  driftTest,
  jensenShannon,
  psi,
  type TestName,
  type TestResult,
} from "./stats.js";
import type { ServedSample } from "./log.js";
import { Rng } from "../util/rng.js";

export interface DriftOptions {
  /** Only this model's samples (default: all in the log). */
  model?: string;
  /** The newest samples compared (default 1000). */
  window?: number;
  /** Fewer current samples than this: not judged (default 30). */
  minSamples?: number;
  /** Degraded when this share of tested features drifted (default 0.5). */
  driftShare?: number;
  /** Per-test thresholds (defaults: DEFAULT_THRESHOLDS). */
  thresholds?: Partial<Record<TestName, number>>;
  /** The embedding test, or false to skip it. */
  mmd?: false | { alpha?: number; permutations?: number; seed?: number; maxSamples?: number };
}

export const DEFAULT_DRIFT_OPTIONS = { window: 1000, minSamples: 30, driftShare: 0.5 } as const;

export interface FeatureDrift extends TestResult {
  feature: string;
  kind: "num" | "cat";
  referenceCount: number;
  currentCount: number;
  /** PSI by reference deciles (numerical scores), shown for information. */
  psi: number | null;
  /** Jensen–Shannon distance on Evidently's bins, for information. */
  jensenShannon: number;
}

export interface EmbeddingDrift extends MmdResult {
  referenceCount: number;
  currentCount: number;
}

export interface DriftReport {
  status: "ok" | "degraded";
  /** Why the status is what it is, one line each. */
  reasons: string[];
  /** Current samples compared. */
  samples: number;
  features: FeatureDrift[];
  /** Share of tested features that drifted. */
  driftedShare: number;
  embeddings: EmbeddingDrift | null;
  notes: string[];
  options: { window: number; minSamples: number; driftShare: number; thresholds: Record<TestName, number> };
}

/** Something that holds served samples: a SampleLog or a plain list. */
export interface SampleSource {
  samples(where?: { model?: string; limit?: number }): ServedSample[];
}

function expandCounts(counts: Record<string, number>): string[] {
  const out: string[] = [];
  for (const [k, n] of Object.entries(counts)) for (let i = 0; i < n; i++) out.push(k);
  return out;
}

/** Compares served samples (oldest first) with a reference. */
export function driftReport(
  reference: DriftReference,
  served: readonly ServedSample[],
  o: DriftOptions = {},
): DriftReport {
  const window = o.window ?? DEFAULT_DRIFT_OPTIONS.window;
  const minSamples = o.minSamples ?? DEFAULT_DRIFT_OPTIONS.minSamples;
  const driftShare = o.driftShare ?? DEFAULT_DRIFT_OPTIONS.driftShare;
  const thresholds = { ...DEFAULT_THRESHOLDS, ...o.thresholds };
  const current = (o.model === undefined ? served : served.filter((s) => s.model === o.model)).slice(-window);
  const notes: string[] = [];
  const options = { window, minSamples, driftShare, thresholds };
  const base = { samples: current.length, features: [], driftedShare: 0, embeddings: null, notes, options };
  if (current.length < minSamples) {
    return {
      ...base,
      status: "ok",
      reasons: [`${current.length} served samples, fewer than the ${minSamples} needed to judge drift`],
    };
  }
  const features: FeatureDrift[] = [];
  const test = (feature: string, kind: "num" | "cat", ref: (number | string)[], cur: (number | string)[]) => {
    if (cur.length < minSamples) {
      notes.push(`${feature}: ${cur.length} served values, fewer than ${minSamples}; not tested`);
      return;
    }
    if (ref.length < 2) {
      notes.push(`${feature}: the reference holds ${ref.length} value(s); not tested`);
      return;
    }
    const name = chooseTest(ref, cur, kind);
    const t = driftTest(ref, cur, kind, { test: name, threshold: thresholds[name] });
    features.push({
      feature,
      kind,
      ...t,
      referenceCount: ref.length,
      currentCount: cur.length,
      psi: kind === "num" ? psi(ref as number[], cur as number[]).value : null,
      jensenShannon: jensenShannon(ref, cur, kind),
    });
  };
  for (const [name, ref] of Object.entries(reference.scores)) {
    const cur = current
      .map((s) => s.scores?.[name])
      .filter((v): v is number => Number.isFinite(v))
      .map(referenceScore);
    test(`score:${name}`, "num", ref, cur);
  }
  const refLabels = expandCounts(reference.labels);
  if (refLabels.length) {
    const cur = current.map((s) => s.label).filter((v): v is string => typeof v === "string");
    test("label", "cat", refLabels, cur);
  }
  const drifted = features.filter((f) => f.drift);
  const driftedShare = features.length ? drifted.length / features.length : 0;
  const reasons: string[] = [];
  let degraded = false;
  if (features.length && driftedShare >= driftShare) {
    degraded = true;
    reasons.push(
      `${drifted.length} of ${features.length} scores/labels drifted (${drifted.map((f) => f.feature).join(", ")}), at least the share ${driftShare}`,
    );
  } else if (features.length)
    reasons.push(`${drifted.length} of ${features.length} scores/labels drifted, under the share ${driftShare}`);
  let embeddings: EmbeddingDrift | null = null;
  if (o.mmd !== false && reference.embeddings?.length) {
    const m = o.mmd || {};
    const cap = m.maxSamples ?? 200;
    let cur = current.filter((s) => s.embedding && s.embedding.length > 0).map((s) => s.embedding!);
    const dim = reference.embeddings[0]!.length;
    if (cur.some((e) => e.length !== dim)) {
      notes.push(`embeddings: served vectors are not all ${dim}-dimensional like the reference's; not tested`);
      cur = [];
    }
    if (cur.length >= Math.max(minSamples, 2)) {
      const rng = new Rng(m.seed ?? 0);
      const pick = <T>(a: readonly T[]): T[] =>
        a.length <= cap ? [...a] : Array.from(rng.permutation(a.length).subarray(0, cap), (i) => a[i]!);
      const ref = pick(reference.embeddings);
      const now = pick(cur);
      const r = mmdTest(ref, now, { alpha: m.alpha, permutations: m.permutations, seed: m.seed });
      embeddings = { ...r, referenceCount: ref.length, currentCount: now.length };
      if (r.drift) {
        degraded = true;
        reasons.push(`input embeddings drifted: MMD² ${r.mmd2.toPrecision(3)}, permutation p ${r.pValue} < ${r.alpha}`);
      } else reasons.push(`input embeddings: no drift (MMD permutation p ${r.pValue})`);
    } else if (cur.length) notes.push(`embeddings: ${cur.length} served vectors, fewer than ${minSamples}; not tested`);
  }
  if (!features.length && !embeddings) reasons.push("nothing in the log could be compared with the reference");
  return { ...base, status: degraded ? "degraded" : "ok", reasons, features, driftedShare, embeddings };
}

/**
 * The server's entry point for `GET /drift` and the `/health` threshold: the drift report of the newest samples of
 * a log (a SampleLog, or a list of samples) against a model's reference. `status` is "ok" or "degraded".
 */
export function driftStatus(
  reference: DriftReference,
  log: SampleSource | readonly ServedSample[],
  o: DriftOptions = {},
): DriftReport {
  const window = o.window ?? DEFAULT_DRIFT_OPTIONS.window;
  const served = Array.isArray(log)
    ? (log as readonly ServedSample[])
    : (log as SampleSource).samples({ model: o.model, limit: window });
  return driftReport(reference, served, o);
}
