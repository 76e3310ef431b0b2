/**
 * Warm-started studies: an earlier study's planted optimum comes back as the first trial, TPE's proposals move to
 * the prior's good region, earlier studies weigh by dataset similarity, and no warm start changes nothing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  SearchSpace,
  Study,
  TPESampler,
  mapParams,
  metaSimilarity,
  planWarmStart,
  readSourceStudy,
  runTune,
  type SourceStudy,
  type Trial,
} from "../../src/tune/index.js";
import { tempDir } from "./helpers.js";

const SPACE = {
  x: { type: "uniform", low: -5, high: 5 },
  y: { type: "uniform", low: -5, high: 5 },
} as const;

/** An earlier study on (x - 2)² + (y + 1)², with its meta-features. */
async function plantedStudy(dir: string, meta: Record<string, number> | null): Promise<void> {
  const study = await Study.create({
    dir,
    space: SPACE,
    directions: ["minimize"],
    sampler: { name: "random", seed: 4 },
    config: { tune: meta ? { metaFeatures: meta } : {} },
  });
  await study.optimize(async (t) => ((t.params.x as number) - 2) ** 2 + ((t.params.y as number) + 1) ** 2, {
    nTrials: 30,
  });
  study.close();
}

const trial = (number: number, params: Record<string, number | string>, value: number): Trial => ({
  number,
  state: "complete",
  params,
  values: [value],
  intermediate: [],
  error: null,
  attrs: {},
  system: {},
  attempt: 1,
  worker: null,
  startedAt: null,
  finishedAt: null,
});

test("meta-feature similarity: 1 for the same dataset, smaller the further apart, null with nothing shared", () => {
  const sst = { size: 5000, classes: 2, meanLength: 10, labelEntropy: 0.69 };
  assert.equal(metaSimilarity(sst, sst), 1);
  const near = metaSimilarity(sst, { ...sst, size: 6000 })!;
  const far = metaSimilarity(sst, { size: 100000, classes: 4, meanLength: 40, labelEntropy: 1.38 })!;
  assert.ok(near > 0.9 && near < 1, `near ${near}`);
  assert.ok(far < near && far > 0, `far ${far}`);
  assert.equal(metaSimilarity({ size: 1 }, { classes: 2 }), null);
});

test("params map into another space: clipped, dropped, or not enqueued, with notes", () => {
  const space = new SearchSpace({
    lr: { type: "loguniform", low: 1e-5, high: 1e-3 },
    layers: { type: "int", low: 0, high: 4 },
    opt: { type: "categorical", choices: ["adamw", "sgd"] },
  });
  const a = mapParams({ lr: 0.1, layers: 2, opt: "adamw", extra: 3 }, space, true);
  assert.deepEqual(a.params, { lr: 1e-3, layers: 2, opt: "adamw" });
  assert.match(a.notes.join(), /lr 0.1 clipped to 0.001/);
  const b = mapParams({ lr: 1e-4, layers: 9, opt: "lion" }, space, true);
  assert.equal(b.params, null);
  assert.match(b.notes.join(), /opt "lion" is not in the space/);
  // for the prior, a partial set is kept
  assert.deepEqual(mapParams({ lr: 1e-4, opt: "lion" }, space, false).params, { lr: 1e-4 });
});

test("earlier studies weigh by similarity; the most similar study's best configurations come first", () => {
  const space = new SearchSpace(SPACE);
  const target = { size: 2000, classes: 2, meanLength: 12, labelEntropy: 0.69 };
  const source = (name: string, meta: Record<string, number>, best: number): SourceStudy => ({
    name,
    space: SPACE,
    directions: ["maximize"],
    metaFeatures: meta,
    trials: Array.from({ length: 10 }, (_, i) => trial(i, { x: best - i * 0.1, y: i * 0.3 }, 1 - i * 0.05)),
  });
  const plan = planWarmStart(
    [
      source("far", { size: 120000, classes: 4, meanLength: 40, labelEntropy: 1.38 }, -3),
      source("near", { size: 3000, classes: 2, meanLength: 10, labelEntropy: 0.68 }, 3),
    ],
    space,
    ["maximize"],
    target,
    { top: 2, goodFraction: 0.2 },
  );
  const [far, near] = plan.sources;
  assert.ok(near!.similarity > far!.similarity);
  assert.deepEqual(
    plan.enqueue.map((e) => [e.source, e.params.x]),
    [
      ["near", 3],
      ["near", 2.9],
      ["far", -3],
      ["far", -3.1],
    ],
  );
  // two good observations per study (20% of 10), the rest bad, each weighing its study's similarity
  assert.equal(plan.prior.good.length, 4);
  assert.equal(plan.prior.bad.length, 16);
  const w = (x: number) => plan.prior.good.find((g) => g.params.x === x)!.weight;
  assert.equal(w(3), near!.similarity);
  assert.equal(w(-3), far!.similarity);
  assert.throws(
    () => planWarmStart([source("s", {}, 0)], space, ["minimize"], null),
    /s maximizes, this study minimizes/,
  );
});

test("TPE with a prior proposes near the prior's good region from the first trial; an empty prior changes nothing", () => {
  const space = new SearchSpace(SPACE);
  const good = Array.from({ length: 5 }, (_, i) => ({ params: { x: 2 + 0.05 * i, y: -1 - 0.05 * i }, weight: 1 }));
  const bad = Array.from({ length: 20 }, (_, i) => ({ params: { x: -4.5 + 0.2 * i, y: 4.5 - 0.2 * i }, weight: 1 }));
  const warm = new TPESampler({ seed: 1, prior: { good, bad } });
  const cold = new TPESampler({ seed: 1 });
  const proposals = (s: TPESampler) =>
    Array.from({ length: 60 }, (_, n) => s.suggest({ space, directions: ["minimize"], trials: [], number: n }).params);
  const dist = (p: Record<string, unknown>) => Math.hypot((p.x as number) - 2, (p.y as number) + 1);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const dWarm = mean(proposals(warm).map(dist));
  const dCold = mean(proposals(cold).map(dist));
  assert.ok(dWarm < 0.5 * dCold, `warm proposals ${dWarm} from the good region, cold ones ${dCold}`);
  // half the warm proposals of x lie within 1.5 of the good region's (the space is 10 wide; few observations
  // keep TPE's bandwidths at least a seventh of it)
  const dx = proposals(warm)
    .map((p) => Math.abs((p.x as number) - 2))
    .sort((a, b) => a - b);
  assert.ok(dx[30]! < 1.5, `median |x - 2| ${dx[30]}`);
  // no prior (or an empty one): the same sampler as before, the same config
  const empty = new TPESampler({ seed: 1, prior: { good: [], bad: [] } });
  assert.deepEqual(proposals(empty), proposals(cold));
  assert.equal("prior" in cold.config(), false);
  assert.deepEqual((warm.config().prior as { good: unknown[] }).good, good);
});

test("graft tune --warm-start: the planted optimum runs first, the prior is kept, the source is unchanged", async () => {
  const root = tempDir();
  const src = join(root, "earlier");
  await plantedStudy(src, { size: 5000, classes: 2 });
  const before = await readSourceStudy(src);
  const best = [...before.trials].sort((a, b) => a.values![0]! - b.values![0]!)[0]!;
  const lines: string[] = [];
  const r = await runTune({
    dir: join(root, "warm"),
    config: {
      objective: "builtin:sphere",
      space: SPACE,
      trials: 6,
      warmStart: [src],
      metaFeatures: { size: 4000, classes: 2 },
      sampler: { name: "tpe", seed: 2 },
    },
    log: (l) => lines.push(l),
  });
  const first = r.study.trials[0]!;
  assert.deepEqual(first.params, best.params);
  assert.equal(first.system.warmStart, src);
  assert.match(lines.join("\n"), /warm start from .*earlier: similarity 0\.9\d+, 30 trials \(6 good\), 1 enqueued/);
  assert.equal(r.study.trials.length, 6);
  r.study.close();
  // the prior travels with the study: a resumed study samples from it too
  const again = await Study.load(join(root, "warm"));
  assert.equal((again.sampler as TPESampler).prior!.good.length, 6);
  again.close();
  assert.deepEqual((await readSourceStudy(src)).trials, before.trials);
  await assert.rejects(
    runTune({
      dir: join(root, "bad"),
      config: { objective: "builtin:sphere", trials: 1, warmStart: [join(root, "none")] },
    }),
    /holds no study/,
  );
});

test("graft tune --warm-start on the command line", async () => {
  const { graft } = await import("./helpers.js");
  const root = tempDir();
  const src = join(root, "earlier");
  await plantedStudy(src, null);
  const config = join(root, "tune.json");
  writeFileSync(config, JSON.stringify({ objective: "builtin:sphere", space: SPACE }));
  const r = await graft([
    "tune",
    "--config",
    config,
    "--trials",
    "2",
    "--dir",
    join(root, "cli"),
    "--warm-start",
    src,
    "--json",
    "--quiet",
  ]);
  assert.equal(r.code, 0, r.output);
  const study = await Study.load(join(root, "cli"));
  assert.equal(study.trials[0]!.system.warmStart, src);
  study.close();
});
