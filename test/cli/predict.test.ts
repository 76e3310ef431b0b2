/**
 * `graft predict` on a regression model and on a tagger, from the command line: regression prints numbers (JSONL
 * `value`, TSV the number) and scores labelled input with regression metrics. A tagger's output (entities with
 * character offsets as JSONL, the marked-up text as TSV) is pinned in test/tasks/predictor.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { finetune, loadPredictor, type ValuePrediction } from "../../src/tasks/index.js";
import { highlightEntities } from "../../src/cli/predict.js";
import { makeTinyBert, regressionJsonl } from "../tasks/fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-cli-predict-"));
const bert = makeTinyBert(join(work, "bert"));
const fast = { epochs: 2, batchSize: 16, lr: 3e-3, logEvery: 5, seed: 3, warmupRatio: 0.1 };
test.after(() => rmSync(work, { recursive: true, force: true }));

const bin = fileURLToPath(new URL("../../../bin/graft.js", import.meta.url));
const graft = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });

test("graft predict prints a regression model's predictions as numbers, and regression metrics for labelled input", async () => {
  regressionJsonl(join(work, "reg.jsonl"), 80, 3);
  const r = await finetune({
    task: "regression",
    model: bert,
    data: join(work, "reg.jsonl"),
    output: join(work, "run-reg"),
    training: fast,
  });
  const texts = ["the movie was good", "a film"];
  const values = ((await loadPredictor(r.bestDir).predict(texts)) as ValuePrediction[]).map((p) => p.value);
  const jsonl = graft("predict", "--model", r.bestDir, "--text", ...texts);
  assert.equal(jsonl.status, 0, jsonl.stderr);
  const printed = jsonl.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    printed.map((p) => Object.keys(p)),
    [
      ["line", "text", "value"],
      ["line", "text", "value"],
    ],
  );
  printed.forEach((p, i) => assert.ok(Math.abs(p.value - values[i]) < 1e-6, `${p.value} vs ${values[i]}`));
  const tsv = graft("predict", "--model", r.bestDir, "--text", ...texts, "--output-format", "tsv");
  assert.equal(tsv.status, 0, tsv.stderr);
  const rows = tsv.stdout
    .trim()
    .split("\n")
    .map((l) => l.split("\t"));
  rows.forEach(([v, t], i) => {
    assert.equal(t, texts[i]);
    assert.ok(Math.abs(Number(v) - values[i]) < 1e-5, v);
  });
  // labelled input: regression metrics, not an accuracy over "labels"
  const labelled = graft("predict", "--model", r.bestDir, "--input", join(work, "reg.jsonl"));
  assert.equal(labelled.status, 0, labelled.stderr);
  assert.match(labelled.stderr, /the input has labels: RMSE \d+\.\d+ {2}MAE \d+\.\d+ {2}R² -?\d+\.\d+ {2}\(80 rows\)/);
  assert.doesNotMatch(labelled.stdout + labelled.stderr, /LABEL_0|accuracy/);
});

test("highlightEntities marks each entity span in place and keeps the rest of the text", () => {
  const e = (type: string, start: number, end: number) => ({ type, start, end, text: "", score: 1 });
  assert.equal(
    highlightEntities("bob met carol in rome", [e("LOC", 17, 21), e("PER", 0, 3)]),
    "[bob](PER) met carol in [rome](LOC)",
  );
  assert.equal(highlightEntities("no entities", []), "no entities");
});
