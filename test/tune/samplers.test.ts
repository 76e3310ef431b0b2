/**
 * Samplers on standard test functions, with stated budgets: differential evolution converges on the sphere and
 * Rosenbrock functions and never leaves the bounds; TPE beats random search with the same seeds and budget.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Study } from "../../src/tune/study.js";
import { DESampler, GridSampler, RandomSampler, TPESampler } from "../../src/tune/samplers/index.js";
import { evaluateBuiltin } from "../../src/tune/objectives/builtins.js";
import type { SpaceSpec } from "../../src/tune/space.js";
import type { Params } from "../../src/tune/types.js";

const box = (d: number, low: number, high: number): SpaceSpec =>
  Object.fromEntries(Array.from({ length: d }, (_, i) => [`x${i}`, { type: "uniform", low, high }]));

async function minimize(space: SpaceSpec, f: (p: Params) => number, sampler: object, n: number) {
  const study = await Study.create({ space, sampler: sampler as never });
  await study.optimize((t) => f(t.params), { nTrials: n });
  return study;
}

test("DE/rand/1/bin (population 20, F 0.5, CR 0.9) gets the 5-D sphere from ~40 below 1e-4 within 1500 evaluations", async () => {
  for (const seed of [0, 1, 2, 3]) {
    const s = await minimize(
      box(5, -5, 5),
      (p) => evaluateBuiltin("sphere", p),
      new DESampler({ seed, populationSize: 20 }),
      1500,
    );
    assert.ok(s.bestTrial!.values![0]! < 1e-4, `seed ${seed}: best ${s.bestTrial!.values![0]}`);
  }
});

test("DE reaches 1e-6 on the 2-D Rosenbrock valley within 1000 evaluations (rand/1 and best/1)", async () => {
  for (const strategy of ["rand/1/bin", "best/1/bin"] as const) {
    const s = await minimize(
      box(2, -2, 2),
      (p) => evaluateBuiltin("rosenbrock", p),
      new DESampler({ seed: 0, populationSize: 20, strategy }),
      1000,
    );
    const best = s.bestTrial!;
    assert.ok(best.values![0]! < 1e-6, `${strategy}: best ${best.values![0]}`);
    assert.ok(Math.abs((best.params.x0 as number) - 1) < 1e-2 && Math.abs((best.params.x1 as number) - 1) < 1e-2);
  }
});

test("DE respects the bounds, also when the optimum lies on them, with every bounds policy", async () => {
  // the minimum of Σ(x−3)² over [−1, 2]^4 is the corner x = 2 (value 4): mutants keep overshooting the bound
  const f = (p: Params) => Object.values(p).reduce((a: number, x) => a + ((x as number) - 3) ** 2, 0);
  const best: Record<string, number> = {};
  for (const bounds of ["reflect", "clip", "resample"] as const) {
    const s = await minimize(box(4, -1, 2), f, new DESampler({ seed: 2, populationSize: 12, bounds, F: 0.9 }), 600);
    for (const t of s.trials)
      for (const v of Object.values(t.params))
        assert.ok((v as number) >= -1 && (v as number) <= 2, `${bounds}: ${v} out of bounds`);
    best[bounds] = s.bestTrial!.values![0]!;
  }
  // clipping lands on the bound exactly; reflecting approaches it from inside
  assert.equal(best.clip, 4);
  assert.ok(best.reflect! < 4.05 && best.resample! < 5, JSON.stringify(best));
});

test("DE works on a mixed space (categorical, integer, log-uniform, conditional)", async () => {
  const space: SpaceSpec = {
    kind: { type: "categorical", choices: ["a", "b", "c"] },
    n: { type: "int", low: 1, high: 20 },
    lr: { type: "loguniform", low: 1e-6, high: 1 },
    extra: { type: "uniform", low: 0, high: 1, when: { kind: "b" } },
  };
  const f = (p: Params) =>
    (p.kind === "b" ? 0 : 1) +
    Math.abs((p.n as number) - 7) +
    (Math.log10(p.lr as number) + 3) ** 2 +
    (p.kind === "b" ? ((p.extra as number) - 0.25) ** 2 : 0);
  const s = await minimize(space, f, new DESampler({ seed: 0, populationSize: 16 }), 600);
  const best = s.bestTrial!;
  assert.equal(best.params.kind, "b");
  assert.equal(best.params.n, 7);
  assert.ok(best.values![0]! < 0.01, `best ${best.values![0]}`);
});

test("TPE beats random search on synthetic objectives with the same seeds and budget", async () => {
  // a hyperparameter-like objective: log-scale learning rate, integer depth, optimizer choice, conditional momentum
  const space: SpaceSpec = {
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
  const sphere = (p: Params) => evaluateBuiltin("sphere", p);
  for (const [name, sp, f, n] of [
    ["hyperparameters", space, hp, 60],
    ["6-D sphere", box(6, -5, 5), sphere, 80],
  ] as const) {
    const tpe: number[] = [],
      rnd: number[] = [];
    for (let seed = 0; seed < 5; seed++) {
      tpe.push((await minimize(sp, f, new TPESampler({ seed }), n)).bestTrial!.values![0]!);
      rnd.push((await minimize(sp, f, new RandomSampler(seed), n)).bestTrial!.values![0]!);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const wins = tpe.filter((v, i) => v < rnd[i]!).length;
    assert.ok(
      wins >= 4,
      `${name}: TPE better for ${wins} of 5 seeds (tpe ${tpe.map((v) => v.toFixed(3))}, random ${rnd.map((v) => v.toFixed(3))})`,
    );
    assert.ok(mean(tpe) < 0.5 * mean(rnd), `${name}: mean best ${mean(tpe)} (TPE) vs ${mean(rnd)} (random)`);
  }
});

test("samplers are reproducible: same seed, same trials; a different seed, different ones", async () => {
  const run = async (sampler: object) =>
    (await minimize(box(3, -1, 1), (p) => evaluateBuiltin("sphere", p), sampler, 30)).trials.map((t) => t.params);
  for (const make of [
    (s: number) => new TPESampler({ seed: s }),
    (s: number) => new DESampler({ seed: s }),
    (s: number) => new RandomSampler(s),
  ]) {
    assert.deepEqual(await run(make(5)), await run(make(5)));
    assert.notDeepEqual(await run(make(5)), await run(make(6)));
  }
});

test("the grid visits every combination once (conditional parameters only where they exist), then ends the study", async () => {
  const space: SpaceSpec = {
    opt: { type: "categorical", choices: ["sgd", "adamw"] },
    momentum: { type: "categorical", choices: [0.8, 0.9], when: { opt: "sgd" } },
    lr: { type: "loguniform", low: 1e-4, high: 1e-2 },
  };
  const study = await Study.create({ space, sampler: new GridSampler({ points: 3 }) });
  await study.optimize(() => 0, { nTrials: 100 });
  // (sgd × 2 momenta + adamw) × 3 learning rates
  assert.equal(study.trials.length, 9);
  const keys = new Set(study.trials.map((t) => JSON.stringify(t.params)));
  assert.equal(keys.size, 9);
  assert.equal(study.trials.filter((t) => t.params.opt === "adamw" && "momentum" in t.params).length, 0);
});
