/**
 * The Predictor on fine-tuned model directories of every built-in kind: it takes texts (and text pairs) and returns
 * typed predictions that agree with the run's own predictions.jsonl; NER returns entities with character offsets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  finetune,
  loadPredictor,
  type EntitiesPrediction,
  type ClassPrediction,
  type MultiLabelPrediction,
  type ValuePrediction,
} from "../../src/tasks/index.js";
import { makeTinyBert, nerConll, regressionJsonl, sentimentCsv } from "./fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-predictor-"));
const bert = makeTinyBert(join(work, "bert"));
const fast = { epochs: 6, batchSize: 16, lr: 3e-3, logEvery: 5, seed: 3, warmupRatio: 0.1 };
test.after(() => rmSync(work, { recursive: true, force: true }));

const bin = fileURLToPath(new URL("../../../bin/graft.js", import.meta.url));

const jsonl = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

test("NER: entities with the character offsets of the text, whatever its spacing", async () => {
  nerConll(join(work, "ner.txt"), 160, 4);
  const r = await finetune({
    task: "ner",
    model: bert,
    data: join(work, "ner.txt"),
    output: join(work, "run-ner"),
    training: { ...fast, epochs: 8 },
  });
  const predictor = loadPredictor(r.bestDir);
  assert.equal(predictor.task, "ner");
  const text = "  alice visited  paris .";
  const [p] = (await predictor.predict([text])) as EntitiesPrediction[];
  assert.deepEqual(p.tags, ["B-PER", "O", "B-LOC", "O"]);
  assert.deepEqual(
    p.entities.map(({ type, text, start, end }) => ({ type, text, start, end })),
    [
      { type: "PER", text: "alice", start: 2, end: 7 },
      { type: "LOC", text: "paris", start: 17, end: 22 },
    ],
  );
  // the mean probability of each entity word's best tag (of three)
  for (const e of p.entities) assert.ok(e.score >= 1 / 3 && e.score <= 1, `score ${e.score}`);
  assert.deepEqual(await predictor.predict([]), []);
  // graft predict prints the same entities (JSONL), or a tag per word and the marked-up text (TSV)
  const cli = spawnSync(process.execPath, [bin, "predict", "--model", r.bestDir, "--text", text], { encoding: "utf8" });
  assert.equal(cli.status, 0, cli.stderr);
  const printed = JSON.parse(cli.stdout);
  assert.deepEqual(Object.keys(printed), ["line", "text", "entities", "tags"]);
  assert.deepEqual(printed.entities, JSON.parse(JSON.stringify(p.entities)));
  const tsv = spawnSync(
    process.execPath,
    [bin, "predict", "--model", r.bestDir, "--text", text, "--output-format", "tsv"],
    {
      encoding: "utf8",
    },
  );
  assert.equal(tsv.stdout, "B-PER O B-LOC O\t  [alice](PER) visited  [paris](LOC) .\n");
});

test("text pairs: the Predictor encodes both texts as training did and agrees with predictions.jsonl", async () => {
  sentimentCsv(join(work, "s.csv"), 200, 7);
  const rows = readFileSync(join(work, "s.csv"), "utf8").trim().split("\n").slice(1);
  writeFileSync(
    join(work, "pairs.jsonl"),
    rows
      .map((l, i) => {
        const [text, label] = l.split(",");
        return JSON.stringify({ premise: i % 2 ? "the story" : "a film", hypothesis: text, label });
      })
      .join("\n") + "\n",
  );
  const r = await finetune({
    model: bert,
    data: join(work, "pairs.jsonl"),
    textColumn: "premise",
    textPairColumn: "hypothesis",
    testFraction: 0.2,
    output: join(work, "run-pairs"),
    training: fast,
  });
  const saved = jsonl(join(r.runDir, "predictions.jsonl")) as { text: string; pred: string; probs: number[] }[];
  const inputs = saved.map((s) => {
    const [text, textPair] = s.text.split("\n");
    return { text, textPair };
  });
  const predictor = loadPredictor(r.bestDir);
  const out = (await predictor.predict(inputs)) as ClassPrediction[];
  out.forEach((p, i) => {
    assert.equal(p.task, "classification");
    assert.equal(p.label, saved[i].pred);
    assert.ok(Math.abs(p.scores.pos - saved[i].probs[1]) < 1e-5, `${p.scores.pos} vs ${saved[i].probs[1]}`);
  });
});

test("regression predicts numbers and multi-label a set of labels, as the runs predicted them", async () => {
  regressionJsonl(join(work, "reg.jsonl"), 120, 3);
  const reg = await finetune({
    task: "regression",
    model: bert,
    data: join(work, "reg.jsonl"),
    output: join(work, "run-reg"),
    training: { ...fast, epochs: 2 },
  });
  const regSaved = jsonl(join(reg.runDir, "predictions.jsonl")) as { text: string; pred: number }[];
  const values = (await loadPredictor(reg.bestDir).predict(regSaved.map((s) => s.text))) as ValuePrediction[];
  values.forEach((v, i) => {
    assert.equal(v.task, "regression");
    assert.ok(Math.abs(v.value - regSaved[i].pred) < 1e-5);
  });

  writeFileSync(
    join(work, "ml.jsonl"),
    regSaved.map((s, i) => JSON.stringify({ text: s.text, label: i % 3 ? "a|b" : "c" })).join("\n") + "\n",
  );
  const ml = await finetune({
    task: "multilabel",
    model: bert,
    data: join(work, "ml.jsonl"),
    output: join(work, "run-ml"),
    training: { ...fast, epochs: 2 },
  });
  const mlSaved = jsonl(join(ml.runDir, "predictions.jsonl")) as { text: string; pred: string[]; probs: number[] }[];
  const sets = (await loadPredictor(ml.bestDir).predict(mlSaved.map((s) => s.text))) as MultiLabelPrediction[];
  sets.forEach((p, i) => {
    assert.equal(p.task, "multilabel");
    assert.deepEqual(p.labels, mlSaved[i].pred);
    assert.equal(p.label, p.labels.join("|"));
    assert.ok(Math.abs(p.scores.a - mlSaved[i].probs[0]) < 1e-5);
  });
});
