/**
 * Synthetic run and study directories for the report tests, written deterministically from a seeded generator:
 * a 3-class classification run (50 steps, evaluation every 10, 150 predictions with probabilities), an NER run
 * and a tuning study.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../src/util/rng.js";

export const CLASSES = ["negative", "neutral", "positive"];

export function tmpDir(prefix = "graft-report-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

export interface ClsRunOptions {
  steps?: number;
  evalEvery?: number;
  lr?: number;
  seed?: number;
  predictions?: boolean;
  examples?: number;
}

/** A classification run directory; returns the records it wrote so tests can check what the report shows. */
export function makeClassificationRun(
  dir: string,
  o: ClsRunOptions = {},
): { train: Record<string, number>[]; evals: Record<string, number>[]; labels: number[]; probs: number[][] } {
  const steps = o.steps ?? 50,
    evalEvery = o.evalEvery ?? 10,
    lr = o.lr ?? 5e-5;
  const rng = new Rng(o.seed ?? 1);
  mkdirSync(dir, { recursive: true });
  const args = {
    epochs: 2,
    maxSteps: 0,
    batchSize: 16,
    gradAccumSteps: 1,
    lr,
    weightDecay: 0.01,
    optimizer: "adamw",
    schedule: "linear",
    warmupRatio: 0.1,
    warmupSteps: 0,
    maxGradNorm: 1,
    evalEvery,
    logEvery: 1,
    seed: 42,
    metricForBest: "accuracy",
  };
  writeFileSync(
    join(dir, "run.json"),
    JSON.stringify(
      {
        args,
        model: "prajjwal1/bert-tiny",
        task: "classification",
        labels: CLASSES,
        totalSteps: steps,
        stepsPerEpoch: steps / 2,
        trainSize: 400,
      },
      null,
      2,
    ),
  );
  const warm = Math.max(1, Math.round(steps * 0.1));
  const train: Record<string, number>[] = [],
    evals: Record<string, number>[] = [];
  const records: unknown[] = [];
  let bestStep = 0,
    bestAcc = -1;
  for (let s = 1; s <= steps; s++) {
    const rate = s <= warm ? (lr * s) / warm : (lr * (steps - s)) / (steps - warm);
    const rec = {
      step: s,
      epoch: Math.round((s / (steps / 2)) * 1e4) / 1e4,
      loss: 1.1 * Math.exp(-s / 18) + 0.25 + 0.04 * (rng.uniform() - 0.5),
      lr: rate,
      grad_norm: 0.5 + 2 * Math.exp(-s / 10) + 0.1 * rng.uniform(),
      examples_per_s: 120 + 10 * (rng.uniform() - 0.5),
    };
    train.push(rec);
    records.push(rec);
    if (s % evalEvery === 0) {
      const acc = 0.55 + 0.3 * (1 - Math.exp(-s / 15)) + 0.01 * (rng.uniform() - 0.5);
      const ev = {
        step: s,
        epoch: rec.epoch,
        eval_loss: 1.0 * Math.exp(-s / 20) + 0.35,
        eval_accuracy: acc,
        eval_f1_macro: acc - 0.04,
      };
      evals.push(ev);
      records.push(ev);
      if (acc > bestAcc) {
        bestAcc = acc;
        bestStep = s;
      }
    }
  }
  writeFileSync(join(dir, "metrics.jsonl"), jsonl(records));
  const best = evals.find((e) => e.step === bestStep);
  if (best) {
    mkdirSync(join(dir, "best"), { recursive: true });
    writeFileSync(
      join(dir, "best", "best.json"),
      JSON.stringify({
        step: bestStep,
        metric: "accuracy",
        value: bestAcc,
        metrics: { loss: best.eval_loss, accuracy: bestAcc, f1_macro: best.eval_f1_macro },
      }),
    );
  }
  const labels: number[] = [],
    probs: number[][] = [];
  if (o.predictions ?? true) {
    const n = o.examples ?? 150;
    const rows: unknown[] = [
      { meta: { task: "classification", classes: CLASSES, split: "validation", step: bestStep } },
    ];
    for (let i = 0; i < n; i++) {
      const y = i % 3;
      // "neutral" is the hard class: a weaker signal
      const strength = y === 1 ? 1.2 : 2.4;
      const p = softmax([0, 1, 2].map((c) => (c === y ? strength : 0) + 1.3 * rng.normal()));
      const r = p.map((v) => Math.round(v * 1e6) / 1e6);
      labels.push(y);
      probs.push(r);
      rows.push({ label: y, pred: r.indexOf(Math.max(...r)), probs: r });
    }
    writeFileSync(join(dir, "eval_predictions.jsonl"), jsonl(rows));
  }
  return { train, evals, labels, probs };
}

const TYPES = ["PER", "LOC", "ORG"];

/** An NER run: metrics plus sentence predictions with some boundary and type errors. */
export function makeNerRun(dir: string, seed = 3): void {
  const rng = new Rng(seed);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "run.json"),
    JSON.stringify({
      args: { lr: 3e-5, batchSize: 8, gradAccumSteps: 1, schedule: "linear", metricForBest: "f1" },
      task: "ner",
    }),
  );
  const recs: unknown[] = [];
  for (let s = 1; s <= 20; s++) {
    recs.push({
      step: s,
      epoch: s / 20,
      loss: 2 * Math.exp(-s / 6) + 0.1,
      lr: 3e-5 * (1 - s / 20),
      examples_per_s: 40,
    });
    if (s % 5 === 0)
      recs.push({ step: s, epoch: s / 20, eval_loss: 1.5 * Math.exp(-s / 8) + 0.2, eval_f1: 0.5 + s / 50 });
  }
  writeFileSync(join(dir, "metrics.jsonl"), jsonl(recs));
  const rows: unknown[] = [{ meta: { task: "ner", split: "validation" } }];
  for (let i = 0; i < 40; i++) {
    const tokens: string[] = [],
      labels: string[] = [],
      preds: string[] = [];
    const len = 6 + rng.int(6);
    while (tokens.length < len) {
      if (rng.uniform() < 0.3) {
        const type = TYPES[rng.int(3)]!,
          span = 1 + rng.int(2);
        const wrongType = rng.uniform() < 0.12 ? TYPES[(TYPES.indexOf(type) + 1) % 3]! : type;
        const missed = rng.uniform() < 0.1;
        for (let j = 0; j < span; j++) {
          tokens.push(`w${tokens.length}`);
          labels.push(`${j === 0 ? "B" : "I"}-${type}`);
          preds.push(missed ? "O" : `${j === 0 ? "B" : "I"}-${wrongType}`);
        }
      } else {
        tokens.push(`w${tokens.length}`);
        labels.push("O");
        preds.push(rng.uniform() < 0.03 ? "B-ORG" : "O");
      }
    }
    rows.push({ tokens, labels, preds });
  }
  writeFileSync(join(dir, "eval_predictions.jsonl"), jsonl(rows));
}

/** A finished tuning study: 12 trials over lr (log scale), batch size and schedule; two pruned, one failed. */
export function makeStudy(dir: string, seed = 5): { best: number } {
  const rng = new Rng(seed);
  mkdirSync(dir, { recursive: true });
  const trials: unknown[] = [];
  let best = -Infinity;
  for (let n = 0; n < 12; n++) {
    const lr = 10 ** rng.range(-5, -3);
    const batchSize = [8, 16, 32][rng.int(3)]!;
    const schedule = rng.uniform() < 0.5 ? "linear" : "cosine";
    // best near lr = 1e-4
    const value = 0.9 - 0.05 * (Math.log10(lr) + 4) ** 2 + 0.01 * rng.normal();
    const intermediate = [1, 2, 3, 4].map((e) => [e * 100, value - 0.2 / e]);
    const state = n === 4 || n === 9 ? "pruned" : n === 7 ? "failed" : "complete";
    const t: Record<string, unknown> = {
      number: n,
      state,
      params: { lr, batchSize, schedule },
      duration_s: 30 + rng.int(30),
      run_dir: `trial-${n}`,
    };
    if (state === "complete") {
      t.value = value;
      t.intermediate = intermediate;
      best = Math.max(best, value);
    }
    // as tune/ records them: a pruned trial's value is its last intermediate value
    if (state === "pruned") {
      t.intermediate = intermediate.slice(0, 2);
      t.value = intermediate[1]![1];
    }
    if (state === "failed") t.error = "RangeError: out of memory <while allocating>";
    if (n === 0) {
      // tune/'s layout: no run_dir, the trial lives in trials/trial-0000
      delete t.run_dir;
      mkdirSync(join(dir, "trials", "trial-0000"), { recursive: true });
      writeFileSync(join(dir, "trials", "trial-0000", "report.html"), "<!DOCTYPE html><title>trial 0</title>");
    }
    trials.push(t);
  }
  writeFileSync(
    join(dir, "leaderboard.json"),
    JSON.stringify({ metric: "eval_accuracy", direction: "maximize", trials }, null, 2),
  );
  return { best };
}

/** A PBT lineage as tune/ writes it in a study's plots/: two members, three generations, one exploit. */
export function writePbtLineage(studyDir: string): number {
  const seg = (generation: number, member: number, donor: number | null, score: number) => ({
    generation,
    trial: generation * 2 + member,
    member,
    params: { lr: 1e-4 * (member + 1) },
    score,
    state: "complete",
    startStep: generation * 100,
    endStep: (generation + 1) * 100,
    donor,
    parentTrial: generation ? (generation - 1) * 2 + (donor ?? member) : null,
  });
  const members = [
    { member: 0, segments: [seg(0, 0, null, 0.8), seg(1, 0, null, 0.84), seg(2, 0, null, 0.86)] },
    { member: 1, segments: [seg(0, 1, null, 0.7), seg(1, 1, 0, 0.83), seg(2, 1, null, 0.87)] },
  ];
  mkdirSync(join(studyDir, "plots"), { recursive: true });
  writeFileSync(join(studyDir, "plots", "pbt-lineage.json"), JSON.stringify({ interval: 100, members }));
  return 6;
}
