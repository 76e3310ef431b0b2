/**
 * The active-learning simulation: a labelled pool whose labels are hidden until a strategy asks for them. Every
 * strategy starts from the same random `start` examples (per seed), and each round the learner is retrained on what
 * is labelled, scored on the test set, and asked for the next `batch`; the curves are the test accuracy (entity F1
 * for NER, from the command line) against the number of labels, the mean and standard deviation over seeds, and the comparison is against random sampling.
 */
import { ArgumentError } from "../../util/errors.js";
import { Rng } from "../../util/rng.js";
import { plot } from "../../report/index.js";
import { entityF1 } from "../../metrics/index.js";
import { argmax, unitAccuracy, type ItemTarget, type Learner } from "./learner.js";
import {
  needs,
  selectBatch,
  STRATEGIES,
  type Aggregate,
  type PoolView,
  type Strategy,
  type UnitProbs,
} from "./strategies.js";

export interface SimulateOptions {
  strategies: readonly Strategy[];
  seeds: readonly number[];
  /** Labels at the start (random, the same for every strategy of a seed). */
  start: number;
  /** Labels added per round. */
  batch: number;
  /** The curve stops at this many labels. */
  budget: number;
  /** Dropout passes of BALD (default 10). */
  mcPasses?: number;
  aggregate?: Aggregate;
  /** The test score of a round (default: the accuracy over units, i.e. examples, or words for NER). */
  score?: TestScore;
  log?: (line: string) => void;
}

/** A test-set score of the learner's probabilities, and its name for tables and charts. */
export interface TestScore {
  name: string;
  fn: (probs: readonly UnitProbs[], targets: readonly ItemTarget[]) => number;
}

const ACCURACY: TestScore = { name: "accuracy", fn: unitAccuracy };

/**
 * Entity-level F1 (seqeval's micro average, IOB2) of NER predictions: each word's most probable tag, named by
 * `labels`, against its hidden tag. A round whose learner predicts no entity scores 0.
 */
export function entityF1Score(labels: readonly string[]): TestScore {
  const names = (rows: readonly (readonly number[])[]) => rows.map((r) => r.map((c) => labels[c]));
  return {
    name: "entity F1",
    fn: (probs, targets) =>
      entityF1(names(targets), names(probs.map((item) => item.map((p) => argmax(p)))), { zeroDivision: 0 }),
  };
}

export interface CurvePoint {
  labels: number;
  mean: number;
  std: number;
  /** Accuracy of each seed, in `seeds` order. */
  runs: number[];
}

export interface SimulateResult {
  strategies: Strategy[];
  seeds: number[];
  poolSize: number;
  testSize: number;
  curves: Record<string, CurvePoint[]>;
  /** What the curves measure on the test set ("accuracy", or "entity F1" for NER). */
  metric: string;
  /** Random sampling's mean accuracy at the budget. */
  randomFinal: number | null;
  /** The fewest labels at which each strategy's mean accuracy reaches random's at the budget (null: never). */
  labelsToMatchRandom: Record<string, number | null>;
  seconds: number;
}

const mean = (v: readonly number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const std = (v: readonly number[]) => {
  const m = mean(v);
  return v.length > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1)) : 0;
};

/** The hidden labels of the pool and the test set's, per item. */
export interface SimulationTargets {
  pool: readonly ItemTarget[];
  test: readonly ItemTarget[];
}

/** One strategy's accuracies at start, start + batch, ..., budget for one seed, with a fresh learner. */
export async function runCurve(
  strategy: Strategy,
  learner: Learner,
  targets: SimulationTargets,
  seed: number,
  o: SimulateOptions,
): Promise<number[]> {
  const pool = targets;
  const n = pool.pool.length;
  const labelled = Array.from(new Rng(seed).permutation(n).slice(0, Math.min(o.start, n)));
  const isLabelled = new Set(labelled);
  const rng = new Rng(seed * 7919 + STRATEGIES.indexOf(strategy) + 1);
  const need = needs(strategy);
  const accuracies: number[] = [];
  for (let round = 0; ; round++) {
    await learner.fit(
      labelled,
      labelled.map((i) => pool.pool[i]),
      seed * 1000 + round,
    );
    accuracies.push((o.score ?? ACCURACY).fn(await learner.predictTest(), pool.test));
    if (labelled.length >= Math.min(o.budget, n)) break;
    const candidates = Array.from({ length: n }, (_, i) => i).filter((i) => !isLabelled.has(i));
    const view: PoolView = { candidates, labelled };
    if (need.probs) {
      const p = await learner.predict(candidates);
      view.probs = new Map(candidates.map((id, j) => [id, p[j]]));
    }
    if (need.passes) view.passes = await learner.passes(candidates, o.mcPasses ?? 10);
    if (need.embeddings) view.embeddings = await learner.embeddings();
    const k = Math.min(o.batch, o.budget - labelled.length);
    for (const i of selectBatch(strategy, view, k, rng, o.aggregate)) {
      labelled.push(i);
      isLabelled.add(i);
    }
  }
  return accuracies;
}

/** Learning curves of every strategy over every seed (see the file's header). */
export async function simulate(
  targets: SimulationTargets,
  o: SimulateOptions,
  makeLearner: () => Learner,
): Promise<SimulateResult> {
  const t0 = performance.now();
  if (o.start < 1 || o.batch < 1 || o.budget < o.start)
    throw new ArgumentError(
      `need start >= 1, batch >= 1 and budget >= start (got ${o.start}, ${o.batch}, ${o.budget})`,
    );
  if (o.seeds.length === 0) throw new ArgumentError("no seeds");
  const curves: Record<string, CurvePoint[]> = {};
  for (const strategy of o.strategies) {
    const runs: number[][] = [];
    for (const seed of o.seeds) {
      const c = await runCurve(strategy, makeLearner(), targets, seed, o);
      o.log?.(`${strategy} seed ${seed}: ${c.map((a) => a.toFixed(3)).join(" ")}`);
      runs.push(c);
    }
    curves[strategy] = runs[0].map((_, r) => {
      const at = runs.map((c) => c[r]);
      return { labels: Math.min(o.start + r * o.batch, o.budget), mean: mean(at), std: std(at), runs: at };
    });
  }
  return {
    strategies: [...o.strategies],
    seeds: [...o.seeds],
    poolSize: targets.pool.length,
    testSize: targets.test.length,
    curves,
    metric: (o.score ?? ACCURACY).name,
    ...againstRandom(curves),
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Random's final mean accuracy, and the fewest labels at which each strategy's mean reaches it. */
function againstRandom(
  curves: Record<string, CurvePoint[]>,
): Pick<SimulateResult, "randomFinal" | "labelsToMatchRandom"> {
  const random = curves.random;
  const randomFinal = random ? random[random.length - 1].mean : null;
  const labelsToMatchRandom: Record<string, number | null> = {};
  if (randomFinal !== null)
    for (const [s, c] of Object.entries(curves))
      labelsToMatchRandom[s] = c.find((p) => p.mean >= randomFinal - 1e-12)?.labels ?? null;
  return { randomFinal, labelsToMatchRandom };
}

/**
 * One result from simulations of the same pool, test set, seeds and schedule run separately (e.g. the strategies
 * split over processes): their curves side by side, compared against the random curve of whichever has it.
 */
export function mergeSimulations(results: readonly SimulateResult[]): SimulateResult {
  if (results.length === 0) throw new ArgumentError("nothing to merge");
  const [first] = results;
  const xs = (r: SimulateResult) => JSON.stringify(Object.values(r.curves)[0]?.map((p) => p.labels));
  const curves: Record<string, CurvePoint[]> = {};
  for (const [i, r] of results.entries()) {
    const same =
      r.poolSize === first.poolSize &&
      r.testSize === first.testSize &&
      JSON.stringify(r.seeds) === JSON.stringify(first.seeds) &&
      xs(r) === xs(first) &&
      (r.metric ?? "accuracy") === (first.metric ?? "accuracy");
    if (!same)
      throw new ArgumentError(
        `simulation ${i + 1} differs from the first in its pool, test set, seeds, label counts or metric; only runs of one setting merge`,
      );
    for (const [s, c] of Object.entries(r.curves)) {
      if (s in curves) throw new ArgumentError(`strategy ${s} appears in more than one simulation`);
      curves[s] = c;
    }
  }
  return {
    ...first,
    strategies: Object.keys(curves) as Strategy[],
    curves,
    ...againstRandom(curves),
    seconds: results.reduce((t, r) => t + r.seconds, 0),
  };
}

/** The learning curves as an SVG chart: mean accuracy per strategy, random dashed. */
export function curvesChart(r: SimulateResult, title: string): string {
  return plot({
    title,
    x: { label: "labelled examples" },
    y: { label: `test ${r.metric ?? "accuracy"} (mean over seeds)` },
    series: Object.entries(r.curves).map(([name, points]) => ({
      name,
      points: points.map((p) => [p.labels, p.mean] as const),
      kind: "line+markers" as const,
      dashed: name === "random",
      labels: points.map((p) => `${name}: ${p.labels} labels, ${p.mean.toFixed(4)} ± ${p.std.toFixed(4)}`),
    })),
    width: 720,
    height: 420,
  });
}

/** The curves as a Markdown table: one row per strategy, mean ± std at each number of labels. */
export function curvesTable(r: SimulateResult): string {
  const names = Object.keys(r.curves);
  const xs = r.curves[names[0]].map((p) => p.labels);
  const lines = [
    `| strategy | ${xs.join(" | ")} | labels to match random |`,
    `| --- | ${xs.map(() => "---").join(" | ")} | --- |`,
  ];
  for (const s of names) {
    const m = r.labelsToMatchRandom[s];
    lines.push(
      `| ${s} | ${r.curves[s].map((p) => `${p.mean.toFixed(3)} ± ${p.std.toFixed(3)}`).join(" | ")} | ${m === null || m === undefined ? "not reached" : m} |`,
    );
  }
  return lines.join("\n") + "\n";
}
