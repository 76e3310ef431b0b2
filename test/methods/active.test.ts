/**
 * Active learning and self-training: each query strategy picks what it should on a constructed pool (the least
 * confident, the smallest margin, the highest entropy, BALD's disagreement rather than mere uncertainty, core-set's
 * farthest point, one pick per cluster for the diversity batch, and mean vs max over a sentence's words); the head
 * learner and the simulation on synthetic features; pseudo-label selection by threshold and by per-class top
 * fraction; the consistency term's gradient; the annotation loop round-trip with resume on a tiny BERT, and a
 * malformed labelled batch named by file, line and field.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Tensor, noGrad } from "../../src/tensor/index.js";
import { Rng } from "../../src/util/rng.js";
import { DataError } from "../../src/util/errors.js";
import {
  FinetuneLearner,
  HeadLearner,
  annotateRound,
  baldScore,
  diverseBatch,
  entityF1Score,
  entropy,
  itemUncertainty,
  kCenterGreedy,
  mergeSimulations,
  selectBatch,
  selectPseudoLabels,
  selfTrain,
  simulate,
  symmetricKl,
  unitAccuracy,
  type Items,
  type LabelledItems,
  type UnitProbs,
} from "../../src/methods/index.js";
import { makeTinyBert, nerConll, sentimentCsv } from "../tasks/fixtures.js";
import { buildProgram } from "../../src/cli/main.js";
import { flagBindings } from "../../src/cli/options.js";
import { ANNOTATE_SWITCHES, MERGE_SWITCHES, SELF_TRAIN_SWITCHES, SIMULATE_SWITCHES } from "../../src/cli/active.js";
import type { Schema } from "../../src/util/options.js";

const work = mkdtempSync(join(tmpdir(), "graft-active-"));
test.after(() => rmSync(work, { recursive: true, force: true }));

const one = (p: number[]): UnitProbs => [p];

test("least confidence, margin and entropy each pick their own most uncertain item", () => {
  // a: top two nearly tied (smallest margin); b: the lowest top probability and the highest entropy; c: sure
  const probs = new Map<number, UnitProbs>([
    [0, one([0.5, 0.49, 0.01])],
    [1, one([0.4, 0.3, 0.3])],
    [2, one([0.98, 0.01, 0.01])],
  ]);
  const pool = { candidates: [0, 1, 2], labelled: [], probs };
  const rng = new Rng(1);
  assert.deepEqual(selectBatch("least-confidence", pool, 1, rng), [1]);
  assert.deepEqual(selectBatch("margin", pool, 1, rng), [0]);
  assert.deepEqual(selectBatch("entropy", pool, 1, rng), [1]);
  assert.deepEqual(selectBatch("entropy", pool, 3, rng), [1, 0, 2]);
  assert.ok(Math.abs(entropy([0.5, 0.5]) - Math.log(2)) < 1e-12);
});

test("BALD picks the item whose dropout passes disagree, not the one every pass is unsure of", () => {
  const disagree: UnitProbs[] = [one([0.95, 0.05]), one([0.05, 0.95]), one([0.95, 0.05]), one([0.05, 0.95])];
  const unsure: UnitProbs[] = [one([0.5, 0.5]), one([0.5, 0.5]), one([0.5, 0.5]), one([0.5, 0.5])];
  // the mean prediction is 50/50 for both: entropy cannot tell them apart, BALD can
  assert.ok(baldScore(unsure.map((p) => p[0])) < 1e-12);
  assert.ok(baldScore(disagree.map((p) => p[0])) > 0.4);
  const passes = new Map([
    [0, unsure],
    [1, disagree],
  ]);
  assert.deepEqual(selectBatch("bald", { candidates: [0, 1], labelled: [], passes }, 1, new Rng(1)), [1]);
});

test("core-set picks the candidate farthest from the labelled set, then the next farthest from both", () => {
  const emb = [[0], [1], [2], [10], [11]];
  assert.deepEqual(kCenterGreedy(emb, [0], [1, 2, 3, 4], 2), [4, 2]);
  assert.deepEqual(
    selectBatch("coreset", { candidates: [1, 2, 3], labelled: [0], embeddings: emb }, 1, new Rng(1)),
    [3],
  );
});

test("the diversity batch takes one item per cluster where plain uncertainty takes one cluster", () => {
  // cluster A (ids 0-4, near 0) is the most uncertain; cluster B (ids 5-9, near 100) a little less
  const emb = Array.from({ length: 10 }, (_, i) => [i < 5 ? i * 0.1 : 100 + i * 0.1]);
  const scores = new Map(emb.map((_, i) => [i, i < 5 ? 1 - i * 0.01 : 0.9 - i * 0.01]));
  const picked = diverseBatch(scores, emb, 2, new Rng(3));
  assert.deepEqual(
    [...picked].sort((a, b) => a - b),
    [0, 5],
  );
});

test("NER: a sentence's score is the mean or the max of its words' uncertainty", () => {
  const oneHard: UnitProbs = [
    [0.99, 0.01],
    [0.99, 0.01],
    [0.99, 0.01],
    [0.5, 0.5],
  ];
  const allSoSo: UnitProbs = [
    [0.8, 0.2],
    [0.8, 0.2],
    [0.8, 0.2],
    [0.8, 0.2],
  ];
  const probs = new Map([
    [0, oneHard],
    [1, allSoSo],
  ]);
  const pool = { candidates: [0, 1], labelled: [], probs };
  assert.deepEqual(selectBatch("entropy", pool, 1, new Rng(1), "max"), [0]);
  assert.deepEqual(selectBatch("entropy", pool, 1, new Rng(1), "mean"), [1]);
  assert.ok(Math.abs(itemUncertainty("least-confidence", oneHard, "max") - 0.5) < 1e-12);
});

/** Two Gaussian blobs in 4 dimensions, one per class; classification items with one unit each. */
function blobs(n: number, seed: number): LabelledItems {
  const r = new Rng(seed);
  const units: number[][][] = [];
  const targets: number[][] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    units.push([[c ? 1.5 : -1.5, 0, 0, 0].map((m) => m + r.normal())]);
    targets.push([c]);
  }
  const items: Items = { units, embeddings: units.map((u) => u[0]) };
  return {
    labels: ["a", "b"],
    items,
    targets,
    data: { task: "classification", labels: ["a", "b"], y: new Int32Array() },
  };
}

test("the head learner learns separable features, and the simulation draws a curve per strategy", async () => {
  const pool = blobs(120, 1);
  const testSet = blobs(60, 2);
  const l = new HeadLearner(2, pool.items, { hidden: 8, epochs: 5, minSteps: 50, lr: 1e-2 });
  l.fit([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], pool.targets.slice(0, 10), 1);
  assert.ok(unitAccuracy(l.predictUnits(testSet.items.units), testSet.targets) > 0.8);
  const passes = l.passes([0, 1], 3);
  assert.equal(passes.get(0)!.length, 3);
  const targets = { pool: pool.targets, test: testSet.targets };
  const head = () => new HeadLearner(2, pool.items, { hidden: 8, epochs: 3, minSteps: 20, lr: 1e-2 }, testSet.items);
  const r = await simulate(
    targets,
    {
      strategies: ["random", "entropy", "bald", "coreset", "diverse"],
      seeds: [1, 2],
      start: 6,
      batch: 6,
      budget: 18,
      mcPasses: 3,
    },
    head,
  );
  assert.deepEqual(
    r.curves.entropy.map((p) => p.labels),
    [6, 12, 18],
  );
  // every strategy starts from the same labels per seed
  for (const s of r.strategies) assert.deepEqual(r.curves[s][0].runs, r.curves.random[0].runs);
  assert.equal(r.labelsToMatchRandom.random, r.curves.random.find((p) => p.mean >= r.randomFinal! - 1e-12)!.labels);
  // reproducible
  const again = await simulate(
    targets,
    {
      strategies: ["entropy"],
      seeds: [1, 2],
      start: 6,
      batch: 6,
      budget: 18,
    },
    head,
  );
  assert.deepEqual(again.curves.entropy, r.curves.entropy);
  // strategies run apart merge into the joint result
  const rest = await simulate(
    targets,
    {
      strategies: ["random", "coreset"],
      seeds: [1, 2],
      start: 6,
      batch: 6,
      budget: 18,
    },
    head,
  );
  const merged = mergeSimulations([again, rest]);
  assert.deepEqual(merged.curves, { entropy: r.curves.entropy, random: r.curves.random, coreset: r.curves.coreset });
  for (const k of ["random", "entropy", "coreset"])
    assert.equal(merged.labelsToMatchRandom[k], r.labelsToMatchRandom[k]);
  assert.throws(() => mergeSimulations([again, again]), /more than one simulation/);
  assert.equal(r.metric, "accuracy");
  // another test score (NER's entity F1) is what the curve records, and runs of other metrics do not merge
  const constant = await simulate(
    targets,
    { strategies: ["random"], seeds: [1], start: 6, batch: 6, budget: 12, score: { name: "half", fn: () => 0.5 } },
    head,
  );
  assert.equal(constant.metric, "half");
  assert.deepEqual(
    constant.curves.random.map((p) => p.mean),
    [0.5, 0.5],
  );
});

test("entity F1 of NER predictions: seqeval's micro F1 of each word's most probable tag", () => {
  const score = entityF1Score(["O", "B-PER", "I-PER", "B-LOC"]);
  assert.equal(score.name, "entity F1");
  const word = (c: number): number[] => [0, 1, 2, 3].map((j) => (j === c ? 0.7 : 0.1));
  const gold = [
    [1, 2, 0, 3], // PER (0-1), LOC (3)
    [0, 3],
  ];
  // PER right, LOC of the first sentence missed, the second LOC right, and one spurious PER: 2 right of 3 predicted
  // and of 3 true entities
  const probs = [
    [word(1), word(2), word(0), word(0)],
    [word(1), word(3)],
  ];
  assert.ok(Math.abs(score.fn(probs, gold) - 2 / 3) < 1e-12);
  assert.equal(
    score.fn(
      [
        [word(0), word(0), word(0), word(0)],
        [word(0), word(0)],
      ],
      gold,
    ),
    0,
  ); // nothing predicted
  assert.equal(
    score.fn(
      gold.map((s) => s.map(word)),
      gold,
    ),
    1,
  );
});

test("pseudo-labels: a confidence threshold, and a top fraction that keeps the classes balanced", () => {
  const ids = [10, 11, 12, 13, 14, 15];
  // the teacher calls five of six items class 0
  const probs = [
    [0.99, 0.01],
    [0.95, 0.05],
    [0.9, 0.1],
    [0.7, 0.3],
    [0.6, 0.4],
    [0.2, 0.8],
  ].map(one);
  const th = selectPseudoLabels(ids, probs, { threshold: 0.9 });
  assert.deepEqual(
    th.map((p) => p.id),
    [10, 11, 12],
  );
  assert.deepEqual(th[0].target, [0]);
  // 1/3 of 6 items = 2, one per class: the most confident class-0 item and the only class-1 item
  const top = selectPseudoLabels(ids, probs, { topFraction: 1 / 3 });
  assert.deepEqual(
    top.map((p) => p.id).sort((a, b) => a - b),
    [10, 15],
  );
  assert.deepEqual(top.find((p) => p.id === 15)!.target, [1]);
  // NER: a sentence's confidence is its least confident word's
  const ner = selectPseudoLabels(
    [0, 1],
    [
      [
        [0.99, 0.01],
        [0.6, 0.4],
      ],
      [
        [0.9, 0.1],
        [0.95, 0.05],
      ],
    ],
    { threshold: 0.8 },
  );
  assert.deepEqual(
    ner.map((p) => p.id),
    [1],
  );
  assert.throws(() => selectPseudoLabels(ids, probs, {}), /exactly one/);
  assert.throws(() => selectPseudoLabels(ids, probs, { threshold: 1.5 }), /threshold/);
});

test("the consistency term: zero for equal passes, symmetric, and its gradient matches finite differences", () => {
  const av = [0.2, -0.5, 1.1, 0.3, 0.9, -1.2];
  const b = new Tensor(Float32Array.from([0.1, 0.4, -0.3, 1.0, -0.2, 0.5]), [2, 3]);
  const a = new Tensor(Float32Array.from(av), [2, 3], true);
  assert.ok(Math.abs(noGrad(() => symmetricKl(b, b).item())) < 1e-7);
  const ab = noGrad(() => symmetricKl(a, b).item());
  assert.ok(Math.abs(ab - noGrad(() => symmetricKl(b, a).item())) < 1e-6);
  symmetricKl(a, b).backward();
  const grad = a.grad!.toArray();
  const f = (v: number[]) => noGrad(() => symmetricKl(new Tensor(Float32Array.from(v), [2, 3]), b).item());
  av.forEach((_, i) => {
    const up = [...av];
    const down = [...av];
    up[i] += 1e-2;
    down[i] -= 1e-2;
    const fd = (f(up) - f(down)) / 2e-2;
    assert.ok(Math.abs(fd - grad[i]) < 2e-3, `d/da[${i}]: ${grad[i]} vs ${fd}`);
  });
});

test("self-training runs teacher → student rounds and reports both accuracies", async () => {
  const pool = blobs(100, 3);
  const testSet = blobs(40, 4);
  const made: boolean[] = [];
  const r = await selfTrain(
    { pool: pool.targets, test: testSet.targets },
    {
      labelCounts: [6],
      seeds: [1],
      rounds: 2,
      rule: { threshold: 0.8 },
      consistency: 0.5,
    },
    (student) => {
      made.push(student);
      return new HeadLearner(
        2,
        pool.items,
        { hidden: 8, epochs: 3, minSteps: 30, lr: 1e-2, consistency: student ? 0.5 : 0 },
        testSet.items,
      );
    },
  );
  assert.deepEqual(made, [false, true, true]);
  assert.equal(r.runs[0].rounds.length, 2);
  assert.ok(r.runs[0].rounds[0].pseudoLabels > 0);
  assert.ok(r.runs[0].rounds[0].pseudoAccuracy > 0.8);
  assert.equal(r.summary[0].labels, 6);
});

const bert = makeTinyBert(join(work, "bert"), 1);

/** Fills the label column of a CSV batch from the pool file's labels (what a person would do). */
function labelCsvBatch(file: string, original: string, truth: string[], edit?: (rows: string[][]) => void): void {
  const [header, ...rows] = original.trim().split("\n");
  const cells = rows.map((r) => r.split(","));
  for (const c of cells) c[c.length - 1] = truth[Number(c[0])];
  edit?.(cells);
  writeFileSync(file, [header, ...cells.map((c) => c.join(","))].join("\n") + "\n");
}

test("annotate: batch to a file, read back labelled, resumed from the state file; bad rows name file/line/field", async () => {
  const pool = join(work, "pool.csv");
  sentimentCsv(pool, 40, 5);
  const truth = readFileSync(pool, "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.split(",")[1]);
  const dir = join(work, "loop");
  const first = await annotateRound({
    dir,
    model: bert,
    pool,
    labels: ["neg", "pos"],
    strategy: "margin",
    batch: 8,
    head: { hidden: 8, epochs: 2 },
  });
  assert.equal(first.pickedBy, "random");
  assert.equal(first.batchSize, 8);
  const written = readFileSync(first.batchFile!, "utf8");
  // the state alone continues the loop (a later day: no options but the directory)
  await assert.rejects(annotateRound({ dir, head: { hidden: 8, epochs: 2 } }), (e: unknown) => {
    assert.ok(e instanceof DataError);
    assert.match(String(e.message), /batch-001\.csv, line 2, field "label": no label/);
    return true;
  });
  labelCsvBatch(first.batchFile!, written, truth, (rows) => (rows[2][rows[2].length - 1] = "maybe"));
  await assert.rejects(annotateRound({ dir }), /batch-001\.csv, line 4, field "label": unknown label "maybe"/);
  labelCsvBatch(first.batchFile!, written, truth, (rows) => (rows[1][0] = "999"));
  await assert.rejects(annotateRound({ dir }), /line 3, field "id": pool id 999 is not in this batch/);
  await assert.rejects(annotateRound({ dir, strategy: "entropy" }), /continues a loop with strategy "margin"/);
  labelCsvBatch(first.batchFile!, written, truth);
  const second = await annotateRound({ dir, head: { hidden: 8, epochs: 2 } });
  assert.equal(second.added, 8);
  assert.equal(second.pickedBy, "margin");
  assert.equal(second.state.round, 1);
  const state = JSON.parse(readFileSync(join(dir, "state.json"), "utf8"));
  assert.equal(state.labelled.length, 8);
  assert.deepEqual(state.pending.ids, second.state.pending!.ids);
  const batch2 = readFileSync(second.batchFile!, "utf8").trim().split("\n");
  assert.equal(batch2.length, 9);
  assert.match(batch2[1], /,(neg|pos),0\.\d{4},$/); // the model's guess and its confidence, the label empty
  const firstIds = new Set(first.state.pending?.ids ?? state.labelled.map((x: [number, string]) => x[0]));
  for (const row of batch2.slice(1)) assert.ok(!firstIds.has(Number(row.split(",")[0])));
  const labelled = readFileSync(join(dir, "labelled.jsonl"), "utf8").trim().split("\n");
  assert.equal(labelled.length, 8);
  assert.equal(JSON.parse(labelled[0]).label, truth[state.labelled[0][0]]);
});

test("annotate NER: JSONL batches with a tag per word; a wrong tag count names the field", async () => {
  const pool = join(work, "pool.conll");
  nerConll(pool, 12, 3);
  const dir = join(work, "ner-loop");
  const opts = {
    dir,
    model: bert,
    pool,
    task: "ner" as const,
    labels: ["B-LOC", "B-PER", "O"],
    batch: 3,
    head: { hidden: 8, epochs: 2 },
  };
  const first = await annotateRound(opts);
  const lines = readFileSync(first.batchFile!, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 3);
  const tagged = lines.map((l) => ({ ...l, tags: l.words.map((w: string) => (w === "." ? "O" : "O")) }));
  tagged[1].tags = tagged[1].tags.slice(1);
  writeFileSync(first.batchFile!, tagged.map((l) => JSON.stringify(l)).join("\n") + "\n");
  await assert.rejects(annotateRound({ dir }), /line 2, field "tags": \d+ tags for \d+ words/);
  tagged[1].tags = tagged[1].words.map(() => "O");
  writeFileSync(first.batchFile!, tagged.map((l) => JSON.stringify(l)).join("\n") + "\n");
  const second = await annotateRound({ dir, strategy: "entropy", head: { hidden: 8, epochs: 2 } });
  assert.equal(second.added, 3);
  const next = readFileSync(second.batchFile!, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.ok(next.every((l) => Array.isArray(l.guess) && l.guess.length === l.words.length && l.tags === null));
});

// fine-tuning runs end to end, with no backend-specific code of their own: the native run covers them
const slow = process.env.GRAFT_BACKEND === "js" ? "fine-tuning runs are covered on the native backend" : false;

test("the fine-tuning learner: a finetune run per round, on classification and NER", { skip: slow }, async () => {
  const poolFile = join(work, "ft-pool.csv");
  sentimentCsv(poolFile, 30, 7);
  const testFile = join(work, "ft-test.csv");
  sentimentCsv(testFile, 20, 8);
  const read = (f: string) =>
    readFileSync(f, "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(","));
  const pool = read(poolFile);
  const testRows = read(testFile);
  const labels = ["neg", "pos"];
  const config = { training: { epochs: 2, batchSize: 8, lr: 5e-3, logEvery: 100 } };
  let last: FinetuneLearner | null = null;
  const learner = () =>
    (last = new FinetuneLearner({
      model: bert,
      task: "classification",
      labels,
      inputs: pool.map((r) => r[0]),
      testInputs: testRows.map((r) => r[0]),
      workDir: join(work, "ft-learner"),
      config,
    }));
  const r = await simulate(
    { pool: pool.map((r) => [labels.indexOf(r[1])]), test: testRows.map((r) => [labels.indexOf(r[1])]) },
    { strategies: ["coreset"], seeds: [1], start: 8, batch: 8, budget: 16 },
    learner,
  );
  assert.deepEqual(
    r.curves.coreset.map((p) => p.labels),
    [8, 16],
  );
  const l = last! as FinetuneLearner; // fitted on the 16 labels of the last round
  const p = await l.predict([7, 8]);
  assert.equal(p.length, 2);
  assert.ok(Math.abs(p[0][0][0] + p[0][0][1] - 1) < 1e-5);
  assert.equal((await l.embeddings()).length, pool.length);
  // NER: one distribution per word, with the loop's tag order
  const conll = join(work, "ft-ner.conll");
  nerConll(conll, 6, 4);
  const sentences = readFileSync(conll, "utf8")
    .trim()
    .split("\n\n")
    .map((b) => b.split("\n").map((x) => x.split(" ")));
  const tags = ["B-LOC", "B-PER", "O", "I-MISC"];
  const ner = new FinetuneLearner({
    model: bert,
    task: "ner",
    labels: tags,
    inputs: sentences.map((s) => s.map((w) => w[0])),
    workDir: join(work, "ft-ner"),
    config,
  });
  await ner.fit(
    [0, 1, 2],
    [0, 1, 2].map((i) => sentences[i].map((w) => tags.indexOf(w[1]))),
    1,
  );
  const np = await ner.predict([3, 4]);
  assert.equal(np[0].length, sentences[3].length);
  assert.ok(np[0].every((u) => u.length === 4 && u[3] === 0)); // a tag no labelled sentence has: probability 0
  const passes = await ner.passes([3], 2);
  assert.equal(passes.get(3)!.length, 2);
});

test("graft active: every subcommand takes its schema's flags; a new loop without a model is refused", () => {
  const active = buildProgram().commands.find((c) => c.name() === "active")!;
  const schemas: [string, Schema][] = [
    ["simulate", SIMULATE_SWITCHES],
    ["annotate", ANNOTATE_SWITCHES],
    ["self-train", SELF_TRAIN_SWITCHES],
    ["merge", MERGE_SWITCHES],
  ];
  for (const [name, schema] of schemas) {
    const cmd = active.commands.find((c) => c.name() === name);
    assert.ok(cmd, `no graft active ${name}`);
    const declared = new Set(cmd.options.map((o) => o.long ?? o.short));
    for (const b of flagBindings(schema)) assert.ok(declared.has(b.flag), `graft active ${name} has no ${b.flag}`);
  }
  const bin = fileURLToPath(new URL("../../../bin/graft.js", import.meta.url));
  const r = spawnSync(process.execPath, [bin, "active", "annotate", "--dir", join(work, "empty-loop")], {
    encoding: "utf8",
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /a new annotation loop needs --model and --pool/);
});
