/** `graft tune` with the finetune objective: trials are real fine-tuning runs, with k-fold cross-validation. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { applyParams } from "../../src/tasks/index.js";
import { makeTinyBert, sentimentCsv } from "./fixtures.js";

const bin = fileURLToPath(new URL("../../../bin/graft.js", import.meta.url));

test("parameters land at their dotted paths; bare training names mean training.*", () => {
  const c = applyParams({ model: "m", data: "d", training: { epochs: 2 } }, { lr: 1e-3, "freeze.firstLayers": 1, "lora.r": 4 });
  assert.deepEqual(c.training, { epochs: 2, lr: 1e-3 });
  assert.deepEqual(c.freeze, { firstLayers: 1 });
  assert.equal(c.lora!.r, 4);
});

test("a 3-fold cross-validated study of fine-tuning runs, leaderboard and best config", () => {
  const work = mkdtempSync(join(tmpdir(), "graft-tune-ft-"));
  try {
    const model = makeTinyBert(join(work, "bert"));
    sentimentCsv(join(work, "train.csv"), 150, 21);
    writeFileSync(join(work, "tune.json"), JSON.stringify({
      objective: { name: "finetune", config: { model, data: join(work, "train.csv"), training: { batchSize: 16, seed: 1, saveEvery: "none" } }, metric: "accuracy", folds: 3 },
      space: { "training.lr": { type: "loguniform", low: 1e-4, high: 1e-2 }, "training.epochs": { type: "int", low: 1, high: 3 } },
      sampler: { name: "random", seed: 1 },
      trials: 3,
    }));
    const r = spawnSync(process.execPath, [bin, "tune", "--config", join(work, "tune.json"), "--dir", join(work, "study"), "--json"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const board = JSON.parse(readFileSync(join(work, "study", "leaderboard.json"), "utf8"));
    const done = board.trials.filter((t: { state: string }) => t.state === "complete");
    assert.equal(done.length, 3);
    const best = JSON.parse(readFileSync(join(work, "study", "best-config.json"), "utf8"));
    assert.ok(best.training.lr >= 1e-4 && best.training.lr <= 1e-2, JSON.stringify(best));
    assert.ok(best.model === model);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
