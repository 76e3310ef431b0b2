import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finetune } from "../../src/tasks/index.js";
import { constantClassifierWarnings, validationClassWarnings } from "../../src/tasks/kinds/classification/warnings.js";
import { makeTinyBert, sentimentCsv } from "./fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-warnings-"));
const bert = makeTinyBert(join(work, "bert"));
const fast = { epochs: 1, batchSize: 16, lr: 1e-3, logEvery: 5, seed: 3 };

test.after(() => rmSync(work, { recursive: true, force: true }));

/** A CSV whose every text is the same sentence: any model predicts one class for all of them. */
function sameTextCsv(path: string, labels: string[]): void {
  writeFileSync(path, ["text,label", ...labels.map((l) => `the movie was fine,${l}`)].join("\n") + "\n");
}

test("a best model that predicts a single class is warned about in the notes and the log, with the figures", async () => {
  const labels = (n: number, pos: number) => Array.from({ length: n }, (_, i) => (i < pos ? "pos" : "neg"));
  sameTextCsv(join(work, "same-train.csv"), labels(40, 20));
  sameTextCsv(join(work, "same-valid.csv"), labels(10, 6));
  sameTextCsv(join(work, "same-test.csv"), labels(10, 3));
  const logged: string[] = [];
  const r = await finetune(
    {
      model: bert,
      data: join(work, "same-train.csv"),
      validation: join(work, "same-valid.csv"),
      test: join(work, "same-test.csv"),
      output: join(work, "run-constant"),
      training: fast,
    },
    { log: (l) => logged.push(l) },
  );
  const warnings = r.notes.filter((n) => n.startsWith("warning: "));
  assert.equal(warnings.length, 2, r.notes.join("\n"));
  assert.match(warnings[0], /predicts a single class \("(pos|neg)"\) for all 10 validation examples/);
  assert.match(warnings[0], /majority class "pos" scores 0\.600/);
  assert.match(warnings[1], /for all 10 test examples: accuracy 0\.(300|700), .*majority class "neg" scores 0\.700/);
  for (const w of warnings) {
    assert.match(w, /--lr 2e-4/);
    assert.ok(logged.includes(w), `not logged: ${w}`);
  }
  const summary = JSON.parse(readFileSync(join(r.runDir, "summary.json"), "utf8"));
  assert.deepEqual(summary.notes, r.notes);
  // the TF-IDF baseline, fitted on train + validation (26 pos, 24 neg, one text), predicts "pos" for every test text
  assert.equal(r.baseline?.accuracy, 0.3);
  assert.ok(Math.abs(r.baseline!.f1_macro - 0.6 / 1.3 / 2) < 1e-12, String(r.baseline?.f1_macro));
  assert.deepEqual(summary.baseline, r.baseline);
  assert.ok(logged.some((l) => l.startsWith("baseline on test: accuracy 0.3000")));

  const off = await finetune({
    model: bert,
    data: join(work, "same-train.csv"),
    test: join(work, "same-test.csv"),
    output: join(work, "run-no-baseline"),
    training: fast,
    baseline: false,
  });
  assert.equal(off.baseline, undefined);
});

test("a validation split with a single class is warned about before training", async () => {
  sentimentCsv(join(work, "train.csv"), 60, 1);
  writeFileSync(
    join(work, "one-class.csv"),
    "text,label\nthe film was good,pos\nit was great,pos\na lovely story,pos\n",
  );
  const logged: string[] = [];
  let before = -1;
  const r = await finetune(
    {
      model: bert,
      data: join(work, "train.csv"),
      validation: join(work, "one-class.csv"),
      testFraction: 0,
      output: join(work, "run-one-class"),
      training: fast,
    },
    {
      log: (l) => logged.push(l),
      callbacks: [{ onTrainBegin: () => void (before = logged.length) }],
    },
  );
  const w = logged.findIndex((l) => /validation split holds a single class \("pos", all 3 examples\)/.test(l));
  assert.ok(w >= 0 && w < before, logged.join("\n"));
  assert.ok(r.notes.includes(logged[w]));
  // a one-class split is not also reported as a majority-level model
  assert.ok(!r.notes.some((n) => /best model/.test(n)), r.notes.join("\n"));
});

test("accuracy at or below the majority share is warned about; a useful model is not", () => {
  const labels = ["a", "b", "c"];
  const gold = [0, 0, 0, 0, 0, 0, 1, 1, 2, 2];
  // 6 of 10 right = the majority share, with three classes predicted
  const atMajority = [0, 0, 0, 0, 1, 2, 1, 1, 0, 0];
  const [w] = constantClassifierWarnings(gold, atMajority, labels, "test");
  assert.match(
    w,
    /no better than the majority class on test: accuracy 0\.600, always predicting the majority class "a" scores 0\.600/,
  );
  assert.match(w, /more epochs/);
  assert.deepEqual(constantClassifierWarnings(gold, [0, 0, 0, 0, 0, 0, 1, 1, 2, 0], labels, "test"), []);
  assert.match(constantClassifierWarnings(gold, Array(10).fill(0), labels, "validation")[0], /single class \("a"\)/);
  assert.deepEqual(constantClassifierWarnings([1, 1], [1, 1], labels, "test"), []);
  assert.deepEqual(validationClassWarnings(gold, labels), []);
  assert.equal(validationClassWarnings([2, 2], labels).length, 1);
});
