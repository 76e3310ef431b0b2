/**
 * The task registry: a kind added from outside (test/tasks/toy-kind/, one folder) with one registration line runs
 * end to end through the generic lifecycle (fine-tune, best model, predictions, report, graft eval's evaluation)
 * and the Predictor loads its saved directory.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../src/util/rng.js";
import { ArgumentError } from "../../src/util/errors.js";
import {
  evaluateFile,
  finetune,
  loadPredictor,
  readTaskInfo,
  registerTaskKind,
  taskKindNames,
  taskSpec,
} from "../../src/tasks/index.js";
import { FILLER, NEGATIVE, POSITIVE, makeTinyBert } from "./fixtures.js";
import { toy } from "./toy-kind/index.js";

registerTaskKind(toy);

const work = mkdtempSync(join(tmpdir(), "graft-registry-"));
test.after(() => rmSync(work, { recursive: true, force: true }));

/** Plain text lines, half of them with a positive word. */
function lines(path: string, n: number, seed: number): void {
  const r = new Rng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const words = [FILLER[r.int(FILLER.length)], FILLER[r.int(FILLER.length)]];
    const key = r.uniform() < 0.5 ? POSITIVE : NEGATIVE;
    words.splice(r.int(3), 0, key[r.int(key.length)]);
    out.push(words.join(" "));
  }
  writeFileSync(path, out.join("\n") + "\n");
}

test("the built-in kinds are registered; an unknown task is refused with the known ones", () => {
  assert.deepEqual(taskKindNames().slice(0, 4), ["classification", "multilabel", "regression", "ner"]);
  assert.equal(taskSpec("toy"), toy);
  assert.throws(
    () => taskSpec("summarize"),
    (e: Error) => e instanceof ArgumentError && /unknown task "summarize"/.test(e.message),
  );
});

test("a toy task kind (one folder + one registration line) runs end to end through the generic lifecycle", async () => {
  const bert = makeTinyBert(join(work, "bert"));
  lines(join(work, "train.txt"), 160, 1);
  lines(join(work, "valid.txt"), 40, 2);
  const r = await finetune({
    task: "toy",
    model: bert,
    data: join(work, "train.txt"),
    validation: join(work, "valid.txt"),
    output: join(work, "run"),
    training: { epochs: 6, batchSize: 16, lr: 3e-3, seed: 5 },
  });
  // trained, and evaluated with the kind's metrics on its own split
  assert.equal(r.testSplit, "validation");
  assert.deepEqual(r.labels, ["no", "yes"]);
  assert.ok(r.test.accuracy > 0.9, `accuracy ${r.test.accuracy}`);
  assert.equal(r.train.globalStep, 6 * 10);
  // the lifecycle picked the best model by the kind's default metric and wrote everything a run writes
  const runJson = JSON.parse(readFileSync(join(r.runDir, "run.json"), "utf8"));
  assert.equal(runJson.args.metricForBest, "accuracy");
  assert.equal(runJson.finetune.task, "toy");
  assert.deepEqual(JSON.parse(readFileSync(join(r.runDir, "data.json"), "utf8")), { toy: true });
  assert.equal(readTaskInfo(r.bestDir)!.task, "toy");
  const preds = readFileSync(join(r.runDir, "predictions.jsonl"), "utf8").trim().split("\n");
  assert.equal(preds.length, 40);
  assert.deepEqual(Object.keys(JSON.parse(preds[0])), ["text", "gold", "positive"]);
  assert.match(readFileSync(r.report!, "utf8"), /Toy kind[\s\S]*lines predicted positive/);

  // graft eval's path: a labelled file through the kind
  const ev = await evaluateFile(r.bestDir, join(work, "valid.txt"));
  assert.equal(ev.examples, 40);
  assert.equal(ev.metrics.accuracy, r.test.accuracy);

  // the Predictor loads the saved directory and predicts through the kind
  const predictor = loadPredictor(r.bestDir);
  assert.equal(predictor.task, "toy");
  const out = await predictor.predict(["the movie was superb", "the plot was dull"]);
  assert.deepEqual(
    out.map((p) => (p as { positive?: boolean }).positive),
    [true, false],
  );
  assert.ok(out.every((p) => p.task === "toy" && typeof p.probability === "number"));
});
