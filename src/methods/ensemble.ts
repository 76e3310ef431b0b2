/**
 * Prediction ensembles across run directories: every member predicts through its Predictor (tasks/predictor.ts),
 * and the ensemble either averages the members' class probabilities (the class of the largest mean) or takes the
 * majority vote of their decisions (ties go to the tied class with the larger mean probability, then the earlier
 * label). Members must be single-label classifiers of the same labels in the same order; a member whose scores are
 * not probabilities (a decision function) may vote but not be averaged.
 */
import { ArgumentError } from "../util/errors.js";
import { readExamples, type ExampleReadOptions } from "../data/index.js";
import { accuracy, f1 } from "../metrics/index.js";
import { loadPredictor, type ClassPrediction, type Predictor, type PredictorInput } from "../tasks/index.js";
import { runModelDir } from "./soup.js";

export type EnsembleMethod = "mean" | "vote";

/** One member's class probabilities per example ([example][label], in the members' shared label order). */
export type ProbabilityTable = number[][];

/** The mean of the members' probability tables. */
export function meanProbabilities(members: readonly ProbabilityTable[]): ProbabilityTable {
  if (members.length === 0) throw new ArgumentError("an ensemble of no members");
  const n = members[0].length;
  return Array.from({ length: n }, (_, i) => {
    const c = members[0][i].length;
    const out = new Array<number>(c).fill(0);
    for (const m of members) {
      if (m.length !== n || m[i].length !== c)
        throw new ArgumentError("ensemble members disagree on the examples or labels");
      for (let j = 0; j < c; j++) out[j] += m[i][j] / members.length;
    }
    return out;
  });
}

const argmax = (row: readonly number[]) => row.reduce((best, v, j) => (v > row[best] ? j : best), 0);

/** The majority vote of the members' decisions (each member's largest probability); ties by the mean probability. */
export function majorityVote(members: readonly ProbabilityTable[]): number[] {
  const mean = meanProbabilities(members);
  return mean.map((meanRow, i) => {
    const votes = new Array<number>(meanRow.length).fill(0);
    for (const m of members) votes[argmax(m[i])]++;
    let best = 0;
    for (let j = 1; j < votes.length; j++)
      if (votes[j] > votes[best] || (votes[j] === votes[best] && meanRow[j] > meanRow[best])) best = j;
    return best;
  });
}

export interface EnsembleOptions {
  runs: string[];
  data: string;
  read?: ExampleReadOptions;
  batchSize?: number;
  log?: (line: string) => void;
}

export interface EnsembleResult {
  examples: number;
  labels: string[];
  members: { run: string; metrics: Record<string, number> }[];
  /** Mean probabilities (null when a member's scores are not probabilities). */
  mean: Record<string, number> | null;
  vote: Record<string, number>;
}

function scoreOf(gold: readonly number[], pred: readonly number[], labels: readonly string[]): Record<string, number> {
  const ids = labels.map((_, i) => i);
  return { accuracy: accuracy(gold, pred), f1_macro: f1(gold, pred, { average: "macro", labels: ids }) as number };
}

/** Probability tables of one predictor over the inputs, a batch at a time. */
async function probabilities(
  p: Predictor,
  name: string,
  inputs: readonly PredictorInput[],
  batchSize: number,
): Promise<{ table: ProbabilityTable; probabilistic: boolean }> {
  const table: ProbabilityTable = [];
  let probabilistic = true;
  for (let i = 0; i < inputs.length; i += batchSize) {
    for (const pred of await p.predict(inputs.slice(i, i + batchSize))) {
      if (pred.task !== "classification")
        throw new ArgumentError(`${name} predicts ${pred.task}; ensembles combine single-label classifiers`);
      const c = pred as ClassPrediction;
      if (c.kind !== "probability") probabilistic = false;
      table.push(p.labels.map((l) => c.scores[l] ?? 0));
    }
  }
  return { table, probabilistic };
}

/** Metrics of each member and of the ensemble (mean probabilities and majority vote) on a labelled file. */
export async function ensembleEvaluate(opts: EnsembleOptions): Promise<EnsembleResult> {
  if (opts.runs.length < 2) throw new ArgumentError("an ensemble needs at least two runs (--runs R1 R2 ...)");
  const log = opts.log ?? (() => {});
  const predictors = opts.runs.map((run) => ({ run, p: loadPredictor(runModelDir(run), { name: run }) }));
  const labels = predictors[0].p.labels;
  for (const { run, p } of predictors) {
    if (p.task !== "classification")
      throw new ArgumentError(
        `${run} is a ${p.task ?? "language model"} model; ensembles combine single-label classifiers`,
      );
    if (JSON.stringify(p.labels) !== JSON.stringify(labels))
      throw new ArgumentError(
        `${run} cannot join the ensemble: its labels ${JSON.stringify(p.labels)} differ from ${predictors[0].run}'s ${JSON.stringify(labels)}`,
        "ensemble members must be classifiers of the same labels",
      );
  }
  const { examples } = await readExamples(opts.data, opts.read);
  const index = new Map(labels.map((l, i) => [l, i]));
  const gold = examples.map((e, i) => {
    const id = index.get(String(e.label));
    if (id === undefined)
      throw new ArgumentError(
        `${opts.data}: example ${i + 1} has label "${String(e.label)}", which the models do not know`,
        `the labels are ${labels.join(", ")}`,
      );
    return id;
  });
  const inputs: PredictorInput[] = examples.map((e) =>
    e.textPair !== undefined ? { text: e.text, textPair: e.textPair } : e.text,
  );
  const tables: ProbabilityTable[] = [];
  const members: EnsembleResult["members"] = [];
  let probabilistic = true;
  for (const { run, p } of predictors) {
    const t = await probabilities(p, run, inputs, opts.batchSize ?? 32);
    tables.push(t.table);
    probabilistic &&= t.probabilistic;
    const metrics = scoreOf(gold, t.table.map(argmax), labels);
    log(`${run}: accuracy ${metrics.accuracy.toFixed(4)}`);
    members.push({ run, metrics });
  }
  return {
    examples: examples.length,
    labels: [...labels],
    members,
    mean: probabilistic ? scoreOf(gold, meanProbabilities(tables).map(argmax), labels) : null,
    vote: scoreOf(gold, majorityVote(tables), labels),
  };
}
