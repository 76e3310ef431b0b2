/**
 * Weight averaging of fine-tuned runs from the same base model: the uniform soup (the mean of every ingredient's
 * weights), the greedy soup (Wortsman et al. 2022: ingredients sorted by their validation score, each added when
 * the soup's validation score does not drop, so the soup is never below its best ingredient on validation), and SWA
 * over a run's last checkpoints (the uniform mean of checkpoints/step-N, the trainer's saveTotalLimit newest).
 * Ingredients must share the architecture, the parameter names and shapes, the labels, the task kind and the
 * tokenizer; anything else is refused naming the run and what differs. The soup is written as an ordinary model
 * directory (config.json, model.safetensors, the tokenizer, graft_task.json) that `graft predict` loads, with
 * soup.json saying what went into it.
 */
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { ArgumentError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { add, mul, noGrad, sub, type Tensor } from "../tensor/index.js";
import type { ExampleReadOptions } from "../data/index.js";
import { metricDirection } from "../metrics/index.js";
import { loadSafetensors } from "../io/index.js";
import { savePretrained } from "../models/index.js";
import { TASK_FILE, loadFinetuned, type SavedModel, type Split } from "../tasks/index.js";

/** What goes into a soup or an ensemble: a fine-tuned model directory, or (SWA) one checkpoint of a run. */
export interface Ingredient {
  /** What the user named (a run directory or a model directory). */
  run: string;
  /** The model directory (the run's best/, or the directory itself), or the checkpoint directory (SWA). */
  dir: string;
  /** SWA: `dir` is checkpoints/step-N, weights only; the model's structure and tokenizer come from the run's best/. */
  checkpoint?: boolean;
}

const isModelDir = (dir: string) => existsSync(join(dir, TASK_FILE)) && existsSync(join(dir, "config.json"));

/** The model directory of a run: the directory itself when it is one, else its best/. */
export function runModelDir(run: string): string {
  if (isModelDir(run)) return run;
  const best = join(run, "best");
  if (isModelDir(best)) return best;
  throw new ArgumentError(
    `${run} holds no fine-tuned model (neither ${TASK_FILE} nor best/${TASK_FILE})`,
    "pass run directories of graft finetune (or their best/ directories)",
  );
}

/** The newest `last` checkpoints of a run (checkpoints/step-N), oldest first; for SWA. */
export function lastCheckpoints(run: string, last: number): string[] {
  const dir = join(run, "checkpoints");
  const steps = existsSync(dir)
    ? readdirSync(dir)
        .map((name) => /^step-(\d+)$/.exec(name))
        .filter((m): m is RegExpExecArray => m !== null && existsSync(join(dir, m[0], "model.safetensors")))
        .map((m) => ({ step: Number(m[1]), dir: join(dir, m[0]) }))
        .sort((a, b) => a.step - b.step)
    : [];
  if (steps.length < last)
    throw new ArgumentError(
      `${run} keeps ${steps.length} complete checkpoint(s) in checkpoints/, fewer than the ${last} SWA asks for`,
      "fine-tune with a larger --save-total-limit (and --save-every), or ask for fewer with --swa",
    );
  return steps.slice(steps.length - last).map((s) => s.dir);
}

/** What an ingredient shares with the others: task, labels, architecture, parameter shapes, tokenizer. */
interface Signature {
  task: string;
  labels: string;
  architecture: string;
  shapes: Map<string, string>;
  tokenizer: string;
}

function signature(m: SavedModel, weights: Map<string, Tensor>): Signature {
  return {
    task: m.info.task,
    labels: JSON.stringify(m.info.labels),
    architecture: m.model.architecture,
    shapes: new Map([...weights].map(([k, t]) => [k, t.shape.join("×")])),
    tokenizer: JSON.stringify(m.tokenizer.toJSON()),
  };
}

/** An ingredient's model (structure, labels, tokenizer) and its weights. */
async function loadIngredient(ing: Ingredient): Promise<{ m: SavedModel; weights: Map<string, Tensor> }> {
  if (!ing.checkpoint) {
    const m = await loadFinetuned(ing.dir);
    return { m, weights: m.model.stateDict() };
  }
  const m = await loadFinetuned(runModelDir(ing.run));
  return { m, weights: loadSafetensors(join(ing.dir, "model.safetensors")) };
}

/** Refuses an ingredient that differs from the first in anything averaging or ensembling needs to be equal. */
export function checkCompatible(first: Signature, other: Signature, firstName: string, name: string): void {
  const differ = (what: string, a: string, b: string) =>
    new ArgumentError(
      `${name} cannot be combined with ${firstName}: different ${what} (${b} vs ${a})`,
      "soups and ensembles need fine-tuned runs of the same base model, task and labels",
    );
  if (other.task !== first.task) throw differ("task kinds", first.task, other.task);
  if (other.architecture !== first.architecture) throw differ("architectures", first.architecture, other.architecture);
  if (other.labels !== first.labels) throw differ("labels", first.labels, other.labels);
  for (const [k, s] of first.shapes) {
    const o = other.shapes.get(k);
    if (o !== s) throw differ(`parameters (${k})`, s, o ?? "absent");
  }
  for (const k of other.shapes.keys())
    if (!first.shapes.has(k)) throw differ(`parameters (${k})`, "absent", other.shapes.get(k)!);
  if (other.tokenizer !== first.tokenizer) throw differ("tokenizers", "tokenizer A", "tokenizer B");
}

/** The element-wise running mean: after adding k state dicts, each tensor is their mean (identical inputs stay bit-exact). */
export class WeightAverage {
  private mean: Map<string, Tensor> | null = null;
  count = 0;

  add(sd: Map<string, Tensor>): void {
    noGrad(() => {
      this.count++;
      if (!this.mean) {
        this.mean = new Map([...sd].map(([k, t]) => [k, mul(t, 1)]));
        return;
      }
      const w = 1 / this.count;
      for (const [k, m] of this.mean) this.mean.set(k, add(m, mul(sub(sd.get(k)!, m), w)));
    });
  }

  /** The mean with one more state dict, without changing this average (a greedy soup's trial). */
  with(sd: Map<string, Tensor>): Map<string, Tensor> {
    if (!this.mean) return sd;
    const w = 1 / (this.count + 1);
    return noGrad(() => new Map([...this.mean!].map(([k, m]) => [k, add(m, mul(sub(sd.get(k)!, m), w))])));
  }

  get value(): Map<string, Tensor> {
    if (!this.mean) throw new ArgumentError("an average of no models");
    return this.mean;
  }
}

export interface SoupOptions {
  /** Run directories (or model directories) of fine-tuned runs from the same base model. */
  runs: string[];
  out: string;
  /** Labelled file to score ingredients and soups on (needed by greedy; reported when given). */
  validation?: string;
  greedy?: boolean;
  /** SWA: average each run's last N checkpoints instead of taking its best/ model. */
  swa?: number;
  /** The validation metric (default: the task kind's). */
  metric?: string;
  read?: ExampleReadOptions;
  batchSize?: number;
  log?: (line: string) => void;
}

export interface SoupResult {
  out: string;
  method: "uniform" | "greedy" | "swa";
  metric: string | null;
  ingredients: { run: string; dir: string; score: number | null; used: boolean }[];
  /** The soup's validation score (null without --validation). */
  score: number | null;
}

/** Scores a model on a labelled split with its task kind's metric. */
function scorer(first: SavedModel, opts: SoupOptions) {
  if (!opts.validation) return null;
  const file = opts.validation;
  const metric = opts.metric ?? first.spec.defaultMetric;
  let split: Promise<Split<unknown>> | null = null;
  const direction = metricDirection(metric) ?? "maximize";
  return {
    metric,
    /** Whether score a is at least as good as b. */
    better: (a: number, b: number) => (direction === "maximize" ? a >= b : a <= b),
    async score(m: SavedModel): Promise<number> {
      split ??= m.spec.readLabelled(file, {
        tokenizer: m.tokenizer,
        labels: m.info.labels,
        maxLength: m.info.maxLength,
        labelSeparator: m.info.labelSeparator,
        read: opts.read,
      });
      const s = await split;
      const out = m.spec.predict(
        {
          model: m.model,
          forward: m.forward,
          batchSize: opts.batchSize ?? 32,
          padId: m.padId,
          labels: m.info.labels,
          settings: { weights: null, labelSmoothing: 0, focalGamma: 0, threshold: m.info.threshold },
        },
        s.rows,
        s.targets,
      );
      const value = m.spec.metrics(out, m.info.labels)[metric];
      if (value === undefined)
        throw new ArgumentError(
          `--metric ${metric}: the ${m.info.task} task reports no such metric`,
          `pick one of: ${Object.keys(m.spec.metrics(out, m.info.labels)).join(", ")}`,
        );
      return value;
    },
  };
}

/** Averages the runs' weights (uniform, greedy or SWA) and writes the soup as a model directory. */
export async function modelSoup(opts: SoupOptions): Promise<SoupResult> {
  const log = opts.log ?? (() => {});
  if (opts.runs.length === 0) throw new ArgumentError("a soup needs at least one run (--runs R1 R2 ...)");
  if (opts.greedy && !opts.validation) throw new ArgumentError("a greedy soup needs --validation FILE to score on");
  if (opts.greedy && opts.swa) throw new ArgumentError("--greedy and --swa are different recipes: give one");
  const ingredients: Ingredient[] = opts.swa
    ? opts.runs.flatMap((run) => lastCheckpoints(run, opts.swa!).map((dir) => ({ run, dir, checkpoint: true })))
    : opts.runs.map((run) => ({ run, dir: runModelDir(run) }));
  const weightsOf = async (ing: Ingredient) => (await loadIngredient(ing)).weights;
  const { m: first, weights: firstWeights } = await loadIngredient(ingredients[0]);
  const firstSig = signature(first, firstWeights);
  const score = scorer(first, opts);
  /** The model with these weights, scored on validation. */
  const scoreWeights = async (w: Map<string, Tensor>) => {
    first.model.loadStateDict(w);
    return score!.score(first);
  };
  const scores: (number | null)[] = [];
  const thresholds = new Set<number | null>();
  for (const [i, ing] of ingredients.entries()) {
    const { m, weights } = i === 0 ? { m: first, weights: firstWeights } : await loadIngredient(ing);
    thresholds.add(m.info.threshold);
    if (i > 0) checkCompatible(firstSig, signature(m, weights), ingredients[0].dir, ing.dir);
    scores.push(score ? await scoreWeights(weights) : null);
    if (score) log(`${ing.dir}: ${score.metric} ${scores[i]!.toFixed(4)}`);
  }
  const avg = new WeightAverage();
  const used = new Array<boolean>(ingredients.length).fill(false);
  let soupScore: number | null = null;
  if (opts.greedy && score) {
    const sign = score.better(1, 0) ? -1 : 1;
    const order = ingredients.map((_, i) => i).sort((a, b) => sign * (scores[a]! - scores[b]!) || a - b);
    for (const i of order) {
      const sd = await weightsOf(ingredients[i]);
      if (avg.count === 0) {
        avg.add(sd);
        used[i] = true;
        soupScore = scores[i];
        continue;
      }
      const trial = await scoreWeights(avg.with(sd));
      const keep = score.better(trial, soupScore!);
      log(`  + ${ingredients[i].dir}: soup ${score.metric} ${trial.toFixed(4)} ${keep ? "kept" : "dropped"}`);
      if (keep) {
        avg.add(sd);
        used[i] = true;
        soupScore = trial;
      }
    }
  } else {
    for (const ing of ingredients) {
      avg.add(await weightsOf(ing));
      used[ingredients.indexOf(ing)] = true;
    }
  }
  first.model.loadStateDict(avg.value);
  if (score && !opts.greedy) soupScore = await score.score(first);
  const out = resolve(opts.out);
  savePretrained(first.model, out);
  first.tokenizer.save(out);
  writeJsonAtomic(join(out, TASK_FILE), {
    ...first.info,
    threshold: thresholds.size === 1 ? first.info.threshold : null,
  });
  const result: SoupResult = {
    out,
    method: opts.swa ? "swa" : opts.greedy ? "greedy" : "uniform",
    metric: score?.metric ?? null,
    ingredients: ingredients.map((ing, i) => ({ run: ing.run, dir: ing.dir, score: scores[i], used: used[i] })),
    score: soupScore,
  };
  writeJsonAtomic(join(out, "soup.json"), result);
  return result;
}
