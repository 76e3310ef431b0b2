/**
 * Self-training with pseudo-labels: a teacher trained on the few labels labels the unlabelled pool; the pool items
 * it is sure of become training examples of a student (labels + pseudo-labels), and the student is the next round's
 * teacher. Which items count as sure is `selectPseudoLabels`: those whose confidence reaches a threshold, or the
 * most confident top fraction taken class by class so that every predicted class gives the same number (the teacher's
 * favourite class does not crowd out the others). An optional consistency term (weight > 0) asks two dropout
 * passes of each unlabelled input to agree (symmetric KL), UDA / R-Drop style.
 */
import { ArgumentError } from "../../util/errors.js";
import { Rng } from "../../util/rng.js";
import { argmax, unitAccuracy, type ItemTarget, type Learner } from "./learner.js";
import type { SimulationTargets } from "./simulate.js";
import type { UnitProbs } from "./strategies.js";

export interface PseudoLabelRule {
  /** Keep items whose confidence is at least this (0..1). */
  threshold?: number;
  /** Keep this fraction of the pool, an equal share per predicted class, most confident first. */
  topFraction?: number;
}

export interface PseudoLabel {
  id: number;
  target: ItemTarget;
  /** The item's confidence: its least confident unit's top probability (for classification, the top probability). */
  confidence: number;
}

/** The pseudo-labelled items of a pool (`probs[i]` of item `ids[i]`) under `rule` (see the file's header). */
export function selectPseudoLabels(
  ids: readonly number[],
  probs: readonly UnitProbs[],
  rule: PseudoLabelRule,
): PseudoLabel[] {
  const { threshold, topFraction } = rule;
  if ((threshold === undefined) === (topFraction === undefined))
    throw new ArgumentError("give exactly one of a confidence threshold and a top fraction");
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 1))
    throw new ArgumentError(`the confidence threshold must be in [0, 1], got ${threshold}`);
  if (topFraction !== undefined && !(topFraction > 0 && topFraction <= 1))
    throw new ArgumentError(`the top fraction must be in (0, 1], got ${topFraction}`);
  const all: PseudoLabel[] = ids.map((id, i) => ({
    id,
    target: probs[i].map(argmax),
    confidence: Math.min(...probs[i].map((p) => Math.max(...p))),
  }));
  const byConfidence = (a: PseudoLabel, b: PseudoLabel) => b.confidence - a.confidence || a.id - b.id;
  if (threshold !== undefined) return all.filter((p) => p.confidence >= threshold).sort(byConfidence);
  const classes = probs[0]?.[0]?.length ?? 0;
  const sequence = probs.every((p) => p.length === 1);
  if (!sequence) {
    // token-level (NER): no single class per item; the most confident sentences overall
    return all.sort(byConfidence).slice(0, Math.round(topFraction! * all.length));
  }
  const perClass = Math.max(1, Math.round((topFraction! * all.length) / classes));
  const out: PseudoLabel[] = [];
  for (let c = 0; c < classes; c++)
    out.push(
      ...all
        .filter((p) => p.target[0] === c)
        .sort(byConfidence)
        .slice(0, perClass),
    );
  return out.sort(byConfidence);
}

export interface SelfTrainOptions {
  /** Labelled examples at the start, drawn at random per seed; the rest of the pool is unlabelled. */
  labelCounts: readonly number[];
  seeds: readonly number[];
  /** Teacher → student rounds (default 3). */
  rounds?: number;
  rule: PseudoLabelRule;
  /** Weight of the consistency term (0: off), recorded with the result; the learner factory applies it. */
  consistency?: number;
  log?: (line: string) => void;
}

export interface SelfTrainRun {
  labels: number;
  seed: number;
  /** Test accuracy of the teacher trained on the labels only. */
  supervised: number;
  /** Test accuracy of each round's student. */
  rounds: {
    accuracy: number;
    pseudoLabels: number;
    /** Share of the pseudo-labels that equal the hidden true labels (units). */
    pseudoAccuracy: number;
  }[];
}

export interface SelfTrainSummary {
  labels: number;
  supervised: { mean: number; std: number };
  selfTrained: { mean: number; std: number };
  pseudoLabels: number;
  pseudoAccuracy: number;
}

export interface SelfTrainResult {
  runs: SelfTrainRun[];
  summary: SelfTrainSummary[];
  rule: PseudoLabelRule;
  consistency: number;
  rounds: number;
  seconds: number;
}

const meanOf = (v: readonly number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const stdOf = (v: readonly number[]) => {
  const m = meanOf(v);
  return v.length > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1)) : 0;
};

/** Self-training on a labelled pool whose labels, beyond the first `labels`, are hidden (see the file's header). */
export async function selfTrain(
  targets: SimulationTargets,
  o: SelfTrainOptions,
  /** A fresh learner: the teacher (student false) or a student (true; a consistency term applies to students). */
  makeLearner: (student: boolean) => Learner,
): Promise<SelfTrainResult> {
  const t0 = performance.now();
  const rounds = o.rounds ?? 3;
  const consistency = o.consistency ?? 0;
  const n = targets.pool.length;
  const runs: SelfTrainRun[] = [];
  for (const labels of o.labelCounts) {
    if (labels < 1 || labels >= n)
      throw new ArgumentError(`the label count must be in [1, ${n - 1}] for a pool of ${n}, got ${labels}`);
    for (const seed of o.seeds) {
      const perm = Array.from(new Rng(seed).permutation(n));
      const labelled = perm.slice(0, labels);
      const unlabelled = perm.slice(labels);
      const gold = labelled.map((i) => targets.pool[i]);
      const accuracy = async (l: Learner) => unitAccuracy(await l.predictTest(), targets.test);
      let teacher = makeLearner(false);
      await teacher.fit(labelled, gold, seed * 1000);
      const run: SelfTrainRun = { labels, seed, supervised: await accuracy(teacher), rounds: [] };
      for (let r = 1; r <= rounds; r++) {
        const pseudo = selectPseudoLabels(unlabelled, await teacher.predict(unlabelled), o.rule);
        const student = makeLearner(true);
        await student.fit(
          [...labelled, ...pseudo.map((p) => p.id)],
          [...gold, ...pseudo.map((p) => p.target)],
          seed * 1000 + r,
          unlabelled,
        );
        let right = 0;
        let units = 0;
        for (const p of pseudo)
          p.target.forEach((t, u) => {
            units++;
            if (t === targets.pool[p.id][u]) right++;
          });
        run.rounds.push({
          accuracy: await accuracy(student),
          pseudoLabels: pseudo.length,
          pseudoAccuracy: units ? right / units : 0,
        });
        teacher = student;
      }
      o.log?.(
        `${labels} labels, seed ${seed}: supervised ${run.supervised.toFixed(4)}, rounds ${run.rounds.map((x) => `${x.accuracy.toFixed(4)} (${x.pseudoLabels} pseudo, ${x.pseudoAccuracy.toFixed(3)} right)`).join(", ")}`,
      );
      runs.push(run);
    }
  }
  const summary = o.labelCounts.map((labels) => {
    const rs = runs.filter((r) => r.labels === labels);
    const last = rs.map(
      (r) => r.rounds[r.rounds.length - 1] ?? { accuracy: r.supervised, pseudoLabels: 0, pseudoAccuracy: 0 },
    );
    return {
      labels,
      supervised: { mean: meanOf(rs.map((r) => r.supervised)), std: stdOf(rs.map((r) => r.supervised)) },
      selfTrained: { mean: meanOf(last.map((x) => x.accuracy)), std: stdOf(last.map((x) => x.accuracy)) },
      pseudoLabels: meanOf(last.map((x) => x.pseudoLabels)),
      pseudoAccuracy: meanOf(last.map((x) => x.pseudoAccuracy)),
    };
  });
  return { runs, summary, rule: o.rule, consistency, rounds, seconds: (performance.now() - t0) / 1000 };
}
