/**
 * Samplers compared on synthetic objectives: differential evolution, random search and TPE at fixed budgets.
 *
 * `npm run bench -- tune [--seeds N] [--only samplers|pbt] [--json]`: for each objective and budget, every sampler runs N seeded studies
 * (inline, in memory); the table gives the median and the worst best value found, and the sampler's time per trial.
 * The objectives: the 4-D sphere on [-5, 5]⁴, the 2-D Rosenbrock valley on [-2, 2]², and a 5-parameter
 * "hyperparameter" function (log-scale learning rate, integer depth, a choice of optimizer with a conditional
 * momentum, dropout) whose minimum is 0. Then population-based training against the best fixed learning rate on
 * builtin:noisy-quadratic, whose best learning rate falls during training.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Study } from "../src/tune/study.js";
import { evaluateBuiltin, noisyQuadratic } from "../src/tune/objectives/builtins.js";
import { memberSchedule } from "../src/tune/pbt.js";
import type { SpaceSpec } from "../src/tune/space.js";
import type { Params } from "../src/tune/types.js";

const args = process.argv.slice(2);
const seeds = Number(args[args.indexOf("--seeds") + 1] ?? 10) || 10;
const json = args.includes("--json");
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;

const box = (d: number, low: number, high: number): SpaceSpec =>
  Object.fromEntries(Array.from({ length: d }, (_, i) => [`x${i}`, { type: "uniform", low, high }]));

const hpSpace: SpaceSpec = {
  lr: { type: "loguniform", low: 1e-6, high: 1e-1 },
  layers: { type: "int", low: 1, high: 12 },
  opt: { type: "categorical", choices: ["sgd", "adam", "adamw"] },
  dropout: { type: "uniform", low: 0, high: 0.5 },
  momentum: { type: "uniform", low: 0.5, high: 0.99, when: { opt: "sgd" } },
};
const hp = (p: Params) =>
  (Math.log10(p.lr as number) + 3) ** 2 +
  ((p.layers as number) - 4) ** 2 / 4 +
  (p.opt === "adamw" ? 0 : 1) +
  10 * ((p.dropout as number) - 0.1) ** 2 +
  (p.opt === "sgd" ? ((p.momentum as number) - 0.9) ** 2 * 4 : 0);

const problems: { name: string; space: SpaceSpec; f: (p: Params) => number; budgets: number[] }[] = [
  { name: "sphere 4-D", space: box(4, -5, 5), f: (p) => evaluateBuiltin("sphere", p), budgets: [50, 200, 1000] },
  {
    name: "rosenbrock 2-D",
    space: box(2, -2, 2),
    f: (p) => evaluateBuiltin("rosenbrock", p),
    budgets: [50, 200, 1000],
  },
  { name: "hyperparameters 5-D", space: hpSpace, f: hp, budgets: [50, 200] },
];
const samplers = [
  { name: "random", config: (seed: number) => ({ name: "random", seed }) },
  { name: "tpe", config: (seed: number) => ({ name: "tpe", seed }) },
  { name: "de", config: (seed: number) => ({ name: "de", seed }) },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (v: number) =>
  v === 0 ? "0" : Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4 ? v.toExponential(1) : v.toPrecision(3);

const rows: { problem: string; budget: number; sampler: string; median: number; worst: number; msPerTrial: number }[] =
  [];
for (const p of only === "pbt" ? [] : problems) {
  for (const budget of p.budgets) {
    for (const s of samplers) {
      const bests: number[] = [];
      const t0 = performance.now();
      for (let seed = 0; seed < seeds; seed++) {
        const study = await Study.create({ space: p.space, sampler: s.config(seed) });
        await study.optimize((t) => p.f(t.params), { nTrials: budget });
        bests.push(study.bestTrial!.values![0]!);
      }
      const ms = (performance.now() - t0) / (seeds * budget);
      rows.push({
        problem: p.name,
        budget,
        sampler: s.name,
        median: median(bests),
        worst: Math.max(...bests),
        msPerTrial: ms,
      });
      if (!json) process.stderr.write(`${p.name} ${budget} ${s.name}: median ${fmt(median(bests))}\n`);
    }
  }
}

if (json && rows.length) process.stdout.write(JSON.stringify({ seeds, rows }, null, 2) + "\n");
else if (rows.length) {
  process.stdout.write(
    `best value found (minimized), over ${seeds} seeds\n\n| objective | trials | sampler | median | worst | ms / trial |\n| --- | --- | --- | --- | --- | --- |\n`,
  );
  for (const r of rows)
    process.stdout.write(
      `| ${r.problem} | ${r.budget} | ${r.sampler} | ${fmt(r.median)} | ${fmt(r.worst)} | ${r.msPerTrial.toFixed(2)} |\n`,
    );
}

// PBT: 8 members, 10 generations of 20 steps, against 31 fixed learning rates (1e-3..1) × 8 noise seeds, 200 steps each
const lrSpace: SpaceSpec = { lr: { type: "loguniform", low: 1e-3, high: 1 } };
const runPbt = only !== "samplers";
let fixed = { lr: 0, best: Infinity, mean: Infinity };
for (let i = 0; runPbt && i <= 30; i++) {
  const lr = 10 ** (-3 + (3 * i) / 30);
  const study = await Study.create({ space: lrSpace, sampler: "random" });
  for (let k = 0; k < 8; k++) study.enqueue({ lr });
  await study.optimize(noisyQuadratic({ steps: 200, reportEvery: 200 }), { nTrials: 8 });
  const v = study.trials.map((t) => t.values![0]!);
  if (Math.min(...v) < fixed.best) fixed = { lr, best: Math.min(...v), mean: v.reduce((a, b) => a + b, 0) / v.length };
}
const pbtRows: { seed: number; best: number; schedule: string }[] = [];
for (let seed = 0; runPbt && seed < Math.min(seeds, 5); seed++) {
  const dir = mkdtempSync(join(tmpdir(), "graft-bench-pbt-"));
  const study = await Study.create({
    dir,
    space: lrSpace,
    sampler: { name: "random", seed },
    pbt: { population: 8, interval: 20, generations: 10, seed },
  });
  await study.optimize(noisyQuadratic());
  const best = study.bestTrial!;
  pbtRows.push({
    seed,
    best: best.values![0]!,
    schedule: memberSchedule(study, best.number)
      .map((e) => (e.params.lr as number).toPrecision(2))
      .join(" → "),
  });
  study.close();
  rmSync(dir, { recursive: true, force: true });
}
if (!runPbt) {
  // samplers only
} else if (json) process.stdout.write(JSON.stringify({ pbt: pbtRows, fixed }, null, 2) + "\n");
else {
  process.stdout.write(
    `\nnoisy-quadratic, 200 steps: best fixed learning rate ${fixed.lr.toPrecision(3)} reaches ${fmt(fixed.best)} (best of 8 runs; mean ${fmt(fixed.mean)})\n\n| PBT seed | best member's loss | its learning-rate schedule (per 20 steps) |\n| --- | --- | --- |\n`,
  );
  for (const r of pbtRows) process.stdout.write(`| ${r.seed} | ${fmt(r.best)} | ${r.schedule} |\n`);
}
