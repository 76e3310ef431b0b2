import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finetune } from "../../src/tasks/index.js";
import { objectiveOf } from "../../src/tasks/tapt.js";
import { makeTinyBert, sentimentCsv } from "./fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-tapt-"));
test.after(() => rmSync(work, { recursive: true, force: true }));
const skip = process.env.GRAFT_BACKEND === "js" ? "end-to-end runs on the native backend's pass" : false;

test("--tapt-steps: pre-training on the training texts only, then fine-tuning from the adapted model", {
  skip,
}, async () => {
  const bert = makeTinyBert(join(work, "bert"));
  assert.equal(objectiveOf(bert), "mlm");
  sentimentCsv(join(work, "train.csv"), 80, 1);
  // the test texts carry a word no training text has
  writeFileSync(join(work, "test.csv"), "text,label\nalice zebra good,pos\nbob zebra bad,neg\n");
  const lines: string[] = [];
  const r = await finetune(
    {
      model: bert,
      data: join(work, "train.csv"),
      test: join(work, "test.csv"),
      output: join(work, "run"),
      taptSteps: 4,
      training: { epochs: 1, batchSize: 8, lr: 1e-3 },
      baseline: false,
    },
    { log: (l) => lines.push(l) },
  );
  const corpus = readFileSync(join(r.runDir, "tapt", "train-texts.txt"), "utf8")
    .trim()
    .split("\n");
  assert.ok(corpus.length >= 60 && corpus.length < 80, `${corpus.length} texts: the training split, not validation`);
  assert.ok(!corpus.some((t) => t.includes("zebra")), "no test text is pre-trained on");
  assert.ok(existsSync(join(r.runDir, "tapt", "run", "best", "config.json")));
  assert.ok(lines.some((l) => /task-adaptive pre-training: mlm on \d+ training texts for 4 steps/.test(l)));
  const run = JSON.parse(readFileSync(join(r.runDir, "run.json"), "utf8"));
  assert.equal(run.modelDir, join(r.runDir, "tapt", "run", "best"));
});
