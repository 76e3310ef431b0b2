import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataError } from "../../src/util/errors.js";
import { readConfig } from "../../src/models/index.js";
import { AutoModelForSequenceClassification } from "../../src/models/index.js";
import { finetune, readTaskInfo } from "../../src/tasks/index.js";
import { makeTinyBert, nerConll, regressionJsonl, sentimentCsv } from "./fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-finetune-"));
const bert = makeTinyBert(join(work, "bert"));
const fast = { epochs: 6, batchSize: 16, lr: 3e-3, logEvery: 5, seed: 3, warmupRatio: 0.1 };

test.after(() => rmSync(work, { recursive: true, force: true }));

test("single-label classification end to end: trained run, best/ loads with its labels, predictions written", async () => {
  sentimentCsv(join(work, "train.csv"), 240, 1);
  sentimentCsv(join(work, "test.csv"), 80, 2);
  const r = await finetune({
    model: bert,
    data: join(work, "train.csv"),
    test: join(work, "test.csv"),
    output: join(work, "run-cls"),
    training: fast,
  });
  assert.ok(r.test.accuracy > 0.9, `test accuracy ${r.test.accuracy}`);
  assert.deepEqual(r.labels, ["neg", "pos"]);
  assert.ok("roc_auc" in r.test && "f1_macro" in r.test);
  const cfg = readConfig(r.bestDir);
  assert.deepEqual(cfg.id2label, { 0: "neg", 1: "pos" });
  assert.equal(cfg.problem_type, "single_label_classification");
  const reloaded = AutoModelForSequenceClassification.fromPretrainedDir(r.bestDir);
  assert.deepEqual(reloaded.loadingInfo!.missingKeys, []);
  assert.equal(readTaskInfo(r.bestDir)!.task, "classification");
  const preds = readFileSync(join(r.runDir, "predictions.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(preds.length, 80);
  assert.ok(["neg", "pos"].includes(preds[0].pred) && preds[0].probs.length === 2);
  for (const f of ["run.json", "data.json", "metrics.jsonl", "summary.json"])
    assert.ok(existsSync(join(r.runDir, f)), f);
});

test("--group-by-length trains as well as the plain shuffle, and is refused beside --sampler weighted", async () => {
  sentimentCsv(join(work, "train-g.csv"), 240, 1);
  sentimentCsv(join(work, "test-g.csv"), 80, 2);
  const grouped = await finetune({
    model: bert,
    data: join(work, "train-g.csv"),
    test: join(work, "test-g.csv"),
    output: join(work, "run-grouped"),
    groupByLength: true,
    training: fast,
  });
  assert.ok(grouped.test.accuracy > 0.9, `test accuracy ${grouped.test.accuracy}`);
  await assert.rejects(
    finetune({
      model: bert,
      data: join(work, "train-g.csv"),
      output: join(work, "run-grouped-weighted"),
      groupByLength: true,
      sampler: "weighted",
      training: fast,
    }),
    /--group-by-length cannot be combined with --sampler weighted/,
  );
});

test("regression end to end", async () => {
  regressionJsonl(join(work, "reg.jsonl"), 240, 3);
  const r = await finetune({
    task: "regression",
    model: bert,
    data: join(work, "reg.jsonl"),
    output: join(work, "run-reg"),
    training: { ...fast, epochs: 8 },
  });
  assert.ok(r.test.r2 > 0.5, `r2 ${r.test.r2}`);
  assert.equal(readConfig(r.bestDir).problem_type, "regression");
});

test("multi-label classification end to end", async () => {
  const rows = readFileSync(join(work, "train.csv"), "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => {
      const [text, label] = l.split(",");
      const labels = [label === "pos" ? "positive" : "negative", ...(text.includes("movie") ? ["movie"] : [])];
      return JSON.stringify({ text, label: labels.join("|") });
    });
  writeFileSync(join(work, "ml.jsonl"), rows.join("\n") + "\n");
  const r = await finetune({
    task: "multilabel",
    model: bert,
    data: join(work, "ml.jsonl"),
    output: join(work, "run-ml"),
    training: { ...fast, epochs: 8 },
  });
  assert.deepEqual(r.labels, ["movie", "negative", "positive"]);
  assert.ok(r.test.f1_micro > 0.8, `f1_micro ${r.test.f1_micro}`);
});

test("token classification (NER) end to end with first-sub-token labels", async () => {
  nerConll(join(work, "ner.txt"), 160, 4);
  const r = await finetune({
    task: "ner",
    model: bert,
    data: join(work, "ner.txt"),
    output: join(work, "run-ner"),
    training: { ...fast, epochs: 8 },
  });
  assert.deepEqual(r.labels, ["B-LOC", "B-PER", "O"]);
  assert.ok(r.test.f1 > 0.9, `entity f1 ${r.test.f1}`);
  const first = JSON.parse(readFileSync(join(r.runDir, "predictions.jsonl"), "utf8").split("\n")[0]);
  assert.equal(first.tokens.length, first.preds.length);
});

test("LoRA and freezing through the recipe; threshold tuning and class weights", async () => {
  const r = await finetune({
    model: bert,
    data: join(work, "train.csv"),
    test: join(work, "test.csv"),
    output: join(work, "run-lora"),
    lora: { r: 4, alpha: 8, dropout: 0, targetModules: ["query", "value"] },
    classWeights: "auto",
    tuneThreshold: true,
    training: { ...fast, epochs: 8, lr: 1e-2 },
  });
  assert.ok(r.notes.some((n) => n.startsWith("LoRA r=4")));
  assert.ok(existsSync(join(r.bestDir, "adapter", "adapter_model.safetensors")));
  assert.ok(r.threshold !== null && r.threshold > 0 && r.threshold < 1);
  // the base here is random, so low-rank updates of query/value plus the head have little to work with
  assert.ok(r.test.accuracy > 0.7, `LoRA accuracy ${r.test.accuracy}`);
  const p = await finetune({
    model: bert,
    data: join(work, "train.csv"),
    output: join(work, "run-probe"),
    freeze: { backbone: true },
    training: { ...fast, epochs: 1 },
  });
  assert.ok(p.notes.some((n) => n.startsWith("frozen:")));
});

test("a label missing from training is refused with the file and line", async () => {
  writeFileSync(join(work, "val-bad.csv"), "text,label\ngood movie,pos\nthe plot,meh\n");
  await assert.rejects(
    finetune({
      model: bert,
      data: join(work, "train.csv"),
      validation: join(work, "val-bad.csv"),
      output: join(work, "run-bad"),
      training: fast,
    }),
    (e: Error) =>
      e instanceof DataError &&
      /val-bad\.csv, line 3, field "label": label "meh" was not seen in the training data/.test(e.message),
  );
});
