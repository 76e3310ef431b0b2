/**
 * Weight averaging and ensembles on tiny fine-tuned runs: a soup of copies of one model is that model (bit-exact
 * logits) and loads in the Predictor; the greedy soup is never below its best ingredient on validation; SWA averages
 * a run's last checkpoints; runs with other labels or another architecture are refused; the ensemble's mean
 * probabilities and majority vote on a constructed case, and graft ensemble / graft soup on the command line.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Tensor, noGrad } from "../../src/tensor/index.js";
import { makeConfig, AutoModelForMaskedLM } from "../../src/models/index.js";
import { loadSafetensors } from "../../src/io/index.js";
import { evaluateFile, finetune, loadFinetuned, loadPredictor, type FinetuneResult } from "../../src/tasks/index.js";
import {
  ensembleEvaluate,
  lastCheckpoints,
  majorityVote,
  meanProbabilities,
  modelSoup,
  WeightAverage,
} from "../../src/methods/index.js";
import { makeTinyBert, sentimentCsv } from "../tasks/fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-soup-"));
test.after(() => rmSync(work, { recursive: true, force: true }));
const bin = fileURLToPath(new URL("../../../bin/graft.js", import.meta.url));
const bert = makeTinyBert(join(work, "bert"), 1);
const train = join(work, "train.csv");
const dev = join(work, "dev.csv");
sentimentCsv(train, 120, 5);
sentimentCsv(dev, 60, 6);
const fast = { epochs: 3, batchSize: 16, lr: 3e-3, logEvery: 50, warmupRatio: 0.1, saveTotalLimit: 3 };

let runs: FinetuneResult[] = [];
const ready = (async () => {
  for (const [i, seed] of [1, 2, 3].entries())
    runs.push(
      await finetune({
        model: bert,
        data: train,
        validation: dev,
        output: join(work, `run-${i}`),
        training: { ...fast, seed, lr: [3e-3, 1e-3, 2e-4][i] },
      }),
    );
  runs = [...runs];
})();

async function logitsOf(dir: string, texts: string[]): Promise<number[]> {
  const m = await loadFinetuned(dir);
  const b = await m.tokenizer.encodeBatch(texts, { padding: true });
  const rows = b.inputIds.length;
  const t = b.inputIds[0].length;
  const ids = new Tensor(Int32Array.from(b.inputIds.flat()), [rows, t]);
  const mask = new Tensor(Float32Array.from(b.attentionMask.flat()), [rows, t]);
  m.model.eval();
  return noGrad(() => m.model.forward({ inputIds: ids, attentionMask: mask }).logits.toArray());
}

test("a soup of copies of one model is that model: bit-exact logits, and graft predict loads it", async () => {
  await ready;
  const r = await modelSoup({ runs: [runs[0].runDir, runs[0].bestDir, runs[0].runDir], out: join(work, "same") });
  assert.equal(r.method, "uniform");
  assert.equal(r.ingredients.length, 3);
  const texts = ["a really great film", "the plot was awful and dull", "it"];
  assert.deepEqual(await logitsOf(join(work, "same"), texts), await logitsOf(runs[0].bestDir, texts));
  const p = loadPredictor(join(work, "same"));
  assert.equal(p.task, "classification");
  assert.deepEqual(await p.predict(texts), await loadPredictor(runs[0].bestDir).predict(texts));
  const cli = spawnSync(process.execPath, [bin, "predict", "--model", join(work, "same"), "--text", "lovely"], {
    encoding: "utf8",
  });
  assert.equal(cli.status, 0, cli.stderr);
});

test("the running mean: the element-wise mean of different weights", () => {
  const avg = new WeightAverage();
  for (const v of [
    [1, 2],
    [3, 6],
    [5, 1],
  ])
    avg.add(new Map([["w", new Tensor(Float32Array.from(v), [2])]]));
  const got = avg.value.get("w")!.toArray();
  assert.ok(Math.abs(got[0] - 3) < 1e-6 && Math.abs(got[1] - 3) < 1e-6, `${got}`);
});

test("the greedy soup is never below its best ingredient on validation; uniform soup and SWA are model directories", async () => {
  await ready;
  const names = runs.map((r) => r.runDir);
  const greedy = await modelSoup({ runs: names, validation: dev, greedy: true, out: join(work, "greedy") });
  assert.equal(greedy.method, "greedy");
  assert.equal(greedy.metric, "f1_macro");
  const best = Math.max(...greedy.ingredients.map((i) => i.score!));
  const soupScore = (await evaluateFile(join(work, "greedy"), dev)).metrics.f1_macro;
  assert.ok(soupScore >= best, `greedy soup ${soupScore} < best ingredient ${best}`);
  assert.equal(soupScore, greedy.score);
  assert.ok(greedy.ingredients.some((i) => i.used));
  const saved = JSON.parse(readFileSync(join(work, "greedy", "soup.json"), "utf8"));
  assert.equal(saved.ingredients.length, 3);

  const uniform = await modelSoup({ runs: names, validation: dev, out: join(work, "uniform"), metric: "accuracy" });
  assert.ok(uniform.ingredients.every((i) => i.used));
  assert.equal(uniform.score, (await evaluateFile(join(work, "uniform"), dev)).metrics.accuracy);

  const ckpts = lastCheckpoints(runs[0].runDir, 2);
  assert.equal(ckpts.length, 2);
  const swa = await modelSoup({ runs: [runs[0].runDir], swa: 2, out: join(work, "swa") });
  assert.equal(swa.method, "swa");
  assert.deepEqual(
    swa.ingredients.map((i) => i.dir),
    ckpts,
  );
  assert.equal(loadPredictor(join(work, "swa")).task, "classification");
  // each weight is the mean of the two checkpoints' (the classifier head as an example)
  const [c1, c2] = ckpts.map((d) => loadSafetensors(join(d, "model.safetensors")));
  const swaWeights = (await loadFinetuned(join(work, "swa"))).model.stateDict();
  for (const name of ["classifier.weight", "bert.encoder.layer.0.attention.self.query.weight"]) {
    const a = c1.get(name)!.toArray();
    const b = c2.get(name)!.toArray();
    const got = swaWeights.get(name)!.toArray();
    assert.notDeepEqual(a, b);
    got.forEach((v, i) => assert.ok(Math.abs(v - (a[i] + b[i]) / 2) < 1e-6, `${name}[${i}]`));
  }
  assert.throws(() => lastCheckpoints(runs[0].runDir, 9), /keeps 3 complete checkpoint\(s\).*fewer than the 9/);
});

test("runs with other labels or another architecture are refused, naming the run and what differs", async () => {
  await ready;
  const relabelled = join(work, "relabelled.csv");
  sentimentCsv(relabelled, 60, 7, { labels: ["bad", "good"] });
  const other = await finetune({
    model: bert,
    data: relabelled,
    output: join(work, "run-other"),
    training: { ...fast, epochs: 1, seed: 1 },
  });
  await assert.rejects(
    modelSoup({ runs: [runs[0].runDir, other.runDir], out: join(work, "bad") }),
    /run-other.*different labels/,
  );
  await assert.rejects(ensembleEvaluate({ runs: [runs[0].runDir, other.runDir], data: dev }), /labels .* differ/);
  // a wider model of the same vocabulary
  const wide = join(work, "wide");
  makeTinyBert(wide, 1);
  const words = readFileSync(join(wide, "vocab.txt"), "utf8").trim().split("\n");
  AutoModelForMaskedLM.fromConfig(
    makeConfig("bert", {
      vocab_size: words.length,
      hidden_size: 8,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 16,
      max_position_embeddings: 64,
    }),
  ).savePretrained(wide);
  const w = await finetune({
    model: wide,
    data: train,
    output: join(work, "run-wide"),
    training: { ...fast, epochs: 1 },
  });
  await assert.rejects(
    modelSoup({ runs: [runs[0].runDir, w.runDir], out: join(work, "bad2") }),
    /different parameters/,
  );
  await assert.rejects(
    modelSoup({ runs: [runs[0].runDir], greedy: true, out: join(work, "bad3") }),
    /needs --validation/,
  );
});

test("ensembles: mean probabilities and majority vote on a constructed case", () => {
  const a = [
    [0.9, 0.1, 0.0],
    [0.4, 0.35, 0.25],
    [0.2, 0.5, 0.3],
  ];
  const b = [
    [0.6, 0.3, 0.1],
    [0.1, 0.1, 0.8],
    [0.1, 0.45, 0.45],
  ];
  const c = [
    [0.2, 0.7, 0.1],
    [0.3, 0.6, 0.1],
    [0.3, 0.3, 0.4],
  ];
  const mean = meanProbabilities([a, b, c]);
  const expected = [
    [1.7 / 3, 1.1 / 3, 0.2 / 3],
    [0.8 / 3, 1.05 / 3, 1.15 / 3],
    [0.6 / 3, 1.25 / 3, 1.15 / 3],
  ];
  mean.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - expected[i][j]) < 1e-12, `${i},${j}: ${v}`)));
  // votes: row 0: 0,0,1 → 0; row 1: 0,2,1 → three-way tie, mean prefers 2; row 2: 1,1|2 (tie → 1),2 → 1 twice
  assert.deepEqual(majorityVote([a, b, c]), [0, 2, 1]);
});

test("graft ensemble prints each member and the ensemble; graft soup --json", async () => {
  await ready;
  const names = runs.map((r) => r.runDir);
  const r = await ensembleEvaluate({ runs: names, data: dev });
  assert.equal(r.examples, 60);
  assert.equal(r.members.length, 3);
  assert.ok(r.mean && r.mean.accuracy >= 0 && r.vote.accuracy >= 0);
  const solo = (await evaluateFile(runs[0].bestDir, dev)).metrics.accuracy;
  assert.ok(Math.abs(r.members[0].metrics.accuracy - solo) < 1e-12, "a member's accuracy is its own evaluation's");
  const cli = spawnSync(process.execPath, [bin, "ensemble", "--runs", ...names, "--data", dev], { encoding: "utf8" });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /ensemble \(mean probabilities\)/);
  assert.match(cli.stdout, /ensemble \(majority vote\)/);
  const soup = spawnSync(
    process.execPath,
    [bin, "soup", "--runs", ...names, "--out", join(work, "cli-soup"), "--validation", dev, "--greedy", "--json"],
    { encoding: "utf8" },
  );
  assert.equal(soup.status, 0, soup.stderr);
  assert.equal(JSON.parse(soup.stdout).method, "greedy");
  const one = spawnSync(process.execPath, [bin, "ensemble", "--runs", names[0], "--data", dev], { encoding: "utf8" });
  assert.notEqual(one.status, 0);
});
