import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finetune } from "../../src/tasks/index.js";
import { MODEL_DEFAULTS_FILE, resolveFinetuneConfig } from "../../src/tasks/resolve.js";
import { makeTinyBert, sentimentCsv } from "./fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-model-defaults-"));
const bert = makeTinyBert(join(work, "bert"));
test.after(() => rmSync(work, { recursive: true, force: true }));

const recommend = (settings: unknown) => writeFileSync(join(bert, MODEL_DEFAULTS_FILE), JSON.stringify(settings));

test("a model's finetune_defaults.json fills the settings a run does not give; given ones win", () => {
  recommend({ maxLength: 48, training: { lr: 3e-4, batchSize: 8, epochs: 7 } });
  const r = resolveFinetuneConfig({ model: bert, data: "x.csv", training: { lr: 1e-3 } });
  assert.equal(r.maxLength, 48);
  assert.equal(r.training.lr, 1e-3); // given
  assert.equal(r.training.batchSize, 8);
  assert.equal(r.training.epochs, 7);
  assert.equal(r.training.warmupRatio, 0.1); // neither: the schema's default
  const plain = resolveFinetuneConfig({ model: join(work, "elsewhere"), data: "x.csv" });
  assert.equal(plain.training.lr, 5e-5);
  assert.equal(plain.maxLength, 128);
});

test("a finetune_defaults.json with an unknown key or a file setting is refused, naming the file", () => {
  recommend({ training: { learningRate: 1e-3 } });
  assert.throws(
    () => resolveFinetuneConfig({ model: bert, data: "x.csv" }),
    (e: Error) => e.message.includes(MODEL_DEFAULTS_FILE) && /unknown setting "training.learningRate"/.test(e.message),
  );
  recommend({ data: "other.csv" });
  assert.throws(() => resolveFinetuneConfig({ model: bert, data: "x.csv" }), /"data" names a file of the run/);
  writeFileSync(join(bert, MODEL_DEFAULTS_FILE), "{ lr: ");
  assert.throws(() => resolveFinetuneConfig({ model: bert, data: "x.csv" }), /finetune_defaults.json: not valid JSON/);
});

test("a run says which settings came from the model, and records them in run.json", async () => {
  recommend({ training: { epochs: 1, batchSize: 4, logEvery: 5, seed: 3 } });
  sentimentCsv(join(work, "train.csv"), 40, 1);
  const logged: string[] = [];
  const r = await finetune(
    { model: bert, data: join(work, "train.csv"), output: join(work, "run"), training: { lr: 1e-3 } },
    { log: (l) => logged.push(l) },
  );
  const line = logged.find((l) => l.startsWith("settings the model recommends"));
  assert.ok(line, logged.join("\n"));
  assert.match(line, /training\.epochs 1, training\.batchSize 4/);
  assert.doesNotMatch(line, /training\.lr/);
  assert.ok(r.notes.includes(line));
  assert.equal(r.train.globalStep, Math.ceil(r.train.globalStep)); // ran
  const run = JSON.parse(readFileSync(join(r.runDir, "run.json"), "utf8"));
  assert.equal(run.finetune.training.batchSize, 4);
  assert.equal(run.finetune.training.lr, 1e-3);
});
