/** `graft tune` end to end: start, resume, configs (JSON and YAML), PBT, leaderboard, export, and its errors. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Study } from "../../src/tune/study.js";
import { graft, runGraft, tempDir } from "./helpers.js";

test("graft tune runs a builtin objective, resumes it for more trials, prints and exports the leaderboard", async () => {
  const dir = join(tempDir(), "rosen");
  const first = await runGraft([
    "tune",
    "--objective",
    "builtin:rosenbrock",
    "--sampler",
    "de",
    "--trials",
    "40",
    "--seed",
    "3",
    "--dir",
    dir,
    "--json",
    "--quiet",
  ]);
  assert.equal(first.code, 0, first.output);
  const summary = JSON.parse(first.output);
  assert.equal(summary.trials, 40);
  assert.deepEqual(Object.keys(summary.best.params), ["x0", "x1"]);
  for (const f of [
    "study.sqlite",
    "leaderboard.json",
    "leaderboard.txt",
    "best.json",
    "best-config.json",
    "plots/history.json",
    "plots/importance.json",
  ])
    assert.ok(existsSync(join(dir, f)), f);
  const before = await Study.load(dir);
  const values = before.trials.map((t) => t.values);
  before.close();

  const resumed = await graft(["tune", "--resume", dir, "--trials", "60", "--quiet"]);
  assert.equal(resumed.code, 0, resumed.output);
  assert.match(resumed.output, /^rank\s+trial\s+state\s+rosenbrock \(minimize\)\s+x0\s+x1/m);
  const after = await Study.load(dir);
  assert.equal(after.trials.length, 60);
  assert.deepEqual(
    after.trials.slice(0, 40).map((t) => t.values),
    values,
    "the first 40 trials were kept, not rerun",
  );
  assert.equal(after.sampler.name, "de");
  after.close();

  const lb = await graft(["tune", "--leaderboard", dir, "--json"]);
  assert.equal(JSON.parse(lb.output).trials.length, 60);
  const out = join(tempDir(), "best");
  const exp = await graft(["tune", "--export", dir, "--to", out]);
  assert.equal(exp.code, 0, exp.output);
  const trial = JSON.parse(readFileSync(join(out, "tune-trial.json"), "utf8"));
  assert.deepEqual(JSON.parse(readFileSync(join(out, "best-config.json"), "utf8")), {
    objective: "builtin:rosenbrock",
    ...trial.params,
  });
});

test("a YAML config with a pruner runs on two trial processes; a PBT config records the lineage", async () => {
  const root = tempDir();
  writeFileSync(
    join(root, "tune.yaml"),
    [
      "name: pruned-sphere",
      "objective: { name: 'builtin:sphere', dims: 2, steps: 9 }",
      "sampler: { name: random, seed: 2 }",
      "pruner: { name: asha, minResource: 1, reductionFactor: 3 }",
      "trials: 12",
      "parallel: 2",
    ].join("\n"),
  );
  const r = await graft(["tune", "--config", join(root, "tune.yaml"), "--dir", join(root, "s"), "--json"]);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /executor: 2 trial processes/);
  const s = await Study.load(join(root, "s"));
  assert.equal(s.trials.length, 12);
  assert.ok(s.trials.filter((t) => t.state === "pruned").length >= 3);
  s.close();

  writeFileSync(
    join(root, "pbt.json"),
    JSON.stringify({
      objective: "builtin:noisy-quadratic",
      sampler: "random",
      pbt: { population: 4, interval: 10, generations: 3 },
    }),
  );
  const p = await graft(["tune", "--config", join(root, "pbt.json"), "--dir", join(root, "p"), "--quiet"]);
  assert.equal(p.code, 0, p.output);
  const lineage = JSON.parse(readFileSync(join(root, "p", "plots", "pbt-lineage.json"), "utf8"));
  assert.equal(lineage.members.length, 4);
  assert.ok(lineage.members.every((m: { segments: unknown[] }) => m.segments.length === 3));
});

test("graft tune explains what is wrong", async () => {
  const root = tempDir();
  writeFileSync(join(root, "typo.json"), JSON.stringify({ objective: "builtin:sphere", trails: 5 }));
  const typo = await graft(["tune", "--config", join(root, "typo.json"), "--dir", join(root, "a")]);
  assert.equal(typo.code, 1);
  assert.match(typo.output, /typo.json: unknown key "trails"/);
  const ft = await graft(["tune", "--objective", "finetune", "--dir", join(root, "b")]);
  assert.equal(ft.code, 1);
  assert.match(ft.output, /the finetune objective needs "config" with at least "model" and "data"/);
  const made = await graft([
    "tune",
    "--objective",
    "builtin:sphere",
    "--trials",
    "2",
    "--dir",
    join(root, "c"),
    "--quiet",
  ]);
  assert.equal(made.code, 0, made.output);
  const change = await graft(["tune", "--resume", join(root, "c"), "--sampler", "grid"]);
  assert.match(change.output, /cannot change "sampler" when resuming a study/);
  const again = await graft(["tune", "--objective", "builtin:sphere", "--dir", join(root, "c")]);
  assert.match(again.output, /already holds a study\nhint: continue it with --resume/);
});
