/**
 * Base-model selection (`graft select`): rank candidate checkpoints for a labelled file without fine-tuning them.
 * Each candidate's frozen features (features.ts) are scored by LogME, LEEP (when the checkpoint has a source
 * classification head), a cross-validated kNN and a cross-validated ridge linear probe (transferability.ts); the
 * ranking is by LogME. With `verify`, each candidate is fine-tuned (the ordinary finetune() run with the given
 * settings) and Kendall's τ-b between each estimate and the fine-tuned metric says how well the estimate ranked.
 */
import { basename, join, resolve } from "node:path";
import { ArgumentError } from "../util/errors.js";
import type { ExampleReadOptions } from "../data/index.js";
import { resolveModelDir } from "../io/hub.js";
import { finetune, taskSpec, type FinetuneConfig } from "../tasks/index.js";
import { checkpointFeatures, readLabelledData, type Pooling, type SelectTask } from "./features.js";
import { kendallTau, knnScore, leep, linearProbeScore, logme, type Features } from "./transferability.js";

export const SELECT_SCORES = ["logme", "leep", "knn", "probe"] as const;
export type SelectScore = (typeof SELECT_SCORES)[number];

export interface SelectOptions {
  models: string[];
  data: string;
  task?: SelectTask;
  pooling?: Pooling;
  /** Use only the first examples of the file. */
  limit?: number;
  maxLength?: number;
  batchSize?: number;
  /** Folds of the kNN and linear-probe scores. */
  folds?: number;
  k?: number;
  seed?: number;
  read?: ExampleReadOptions;
  /** Fine-tune every candidate with these settings (the run configuration of `graft finetune`) into outputDir/<i>-<name>. */
  verify?: { config: Partial<FinetuneConfig>; outputDir: string; metric?: string } | null;
  log?: (line: string) => void;
}

export interface CandidateScore {
  model: string;
  /** Feature size and examples scored (words for NER). */
  dim: number;
  examples: number;
  logme: number;
  /** null: the checkpoint has no source classification head. */
  leep: number | null;
  knn: number;
  probe: number;
  seconds: number;
  /** With verify: the fine-tuned model's metric on its held-out split, and the run directory. */
  finetuned?: number;
  runDir?: string;
}

export interface SelectResult {
  task: SelectTask;
  data: string;
  labels: string[];
  /** Candidates from the best LogME down. */
  ranking: CandidateScore[];
  /** With verify: the metric compared and Kendall's τ-b of each score against it (null: fewer than 2 candidates scored). */
  verify?: { metric: string; tau: Record<SelectScore, number | null> };
}

/** Scores every candidate on the data (and, with verify, fine-tunes each). */
export async function selectModels(opts: SelectOptions): Promise<SelectResult> {
  if (opts.models.length === 0) throw new ArgumentError("select needs at least one candidate (--models A B ...)");
  const task = opts.task ?? "classification";
  const log = opts.log ?? (() => {});
  const data = await readLabelledData(opts.data, task, { read: opts.read, limit: opts.limit });
  log(`${data.y.length} ${task === "ner" ? "words" : "examples"} of ${data.labels.length} classes from ${opts.data}`);
  const scored: CandidateScore[] = [];
  for (const model of opts.models) {
    const t0 = performance.now();
    const dir = await resolveModelDir(model, { want: ["config", "weights", "tokenizer"] });
    const f = await checkpointFeatures(dir, data, {
      pooling: opts.pooling,
      batchSize: opts.batchSize,
      maxLength: opts.maxLength,
    });
    const features: Features = { x: f.x, n: f.n, d: f.d, y: data.y, classes: data.labels.length };
    const cv = { folds: opts.folds ?? 5, seed: opts.seed ?? 0 };
    const s: CandidateScore = {
      model,
      dim: f.d,
      examples: f.n,
      logme: logme(features).score,
      leep: f.theta ? leep(f.theta, f.z, data.y, data.labels.length) : null,
      knn: knnScore(features, { ...cv, k: opts.k ?? 5 }),
      probe: linearProbeScore(features, cv),
      seconds: 0,
    };
    s.seconds = (performance.now() - t0) / 1000;
    log(
      `${model}: LogME ${s.logme.toFixed(4)}  LEEP ${s.leep === null ? "-" : s.leep.toFixed(4)}  kNN ${s.knn.toFixed(4)}  probe ${s.probe.toFixed(4)}  (${s.seconds.toFixed(1)} s)`,
    );
    scored.push(s);
  }
  const result: SelectResult = {
    task,
    data: opts.data,
    labels: data.labels,
    ranking: [...scored].sort((a, b) => b.logme - a.logme),
  };
  if (opts.verify) {
    const metric = opts.verify.metric ?? taskSpec(task).defaultMetric;
    for (const [i, s] of scored.entries()) {
      const output = verifyRunDir(opts.verify.outputDir, i, s.model);
      log(`fine-tuning ${s.model} into ${output}`);
      const r = await finetune({ ...opts.verify.config, task, model: s.model, data: opts.data, output }, { log });
      const value = r.test[metric];
      if (value === undefined)
        throw new ArgumentError(
          `the fine-tuned ${task} model reports no "${metric}"`,
          `pick one of: ${Object.keys(r.test).join(", ")}`,
        );
      s.finetuned = value;
      s.runDir = r.runDir;
    }
    const tau = {} as Record<SelectScore, number | null>;
    for (const name of SELECT_SCORES) {
      const pairs = scored.filter((s) => s[name] !== null);
      const t =
        pairs.length >= 2
          ? kendallTau(
              pairs.map((s) => s[name] as number),
              pairs.map((s) => s.finetuned!),
            )
          : NaN;
      tau[name] = Number.isFinite(t) ? t : null;
    }
    result.verify = { metric, tau };
  }
  return result;
}

/** The run directory a verify run of candidate `i` writes (for the docs and tests). */
export function verifyRunDir(outputDir: string, i: number, model: string): string {
  return join(resolve(outputDir), `${i + 1}-${basename(model).replace(/[^\w.-]+/g, "_") || "model"}`);
}
