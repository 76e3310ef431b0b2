/** `graft tune` with the finetune objective: trials are real fine-tuning runs, with k-fold cross-validation. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { applyParams } from "../../src/tasks/index.js";
import { registerFinetuneObjective } from "../../src/tasks/tune-objective.js";
import { resolveObjective } from "../../src/tune/objectives/registry.js";
import { makeTinyBert, sentimentCsv } from "./fixtures.js";

const bin = fileURLToPath(new URL("../../../bin/graft.js", import.meta.url));

test("parameters land at their dotted paths; bare training names mean training.*", () => {
  const c = applyParams(
    { model: "m", data: "d", training: { epochs: 2 } },
    { lr: 1e-3, "freeze.firstLayers": 1, "lora.r": 4 },
  );
  assert.deepEqual(c.training, { epochs: 2, lr: 1e-3 });
  assert.deepEqual(c.freeze, { firstLayers: 1 });
  assert.equal(c.lora!.r, 4);
});

/** Runs `graft tune` with the config `make` builds for a tiny BERT and a synthetic sentiment file; `check` reads the study. */
function tuneOnTinyBert(
  rows: number,
  seed: number,
  make: (model: string, data: string) => object,
  check: (study: string, model: string) => void,
): void {
  const work = mkdtempSync(join(tmpdir(), "graft-tune-ft-"));
  try {
    const model = makeTinyBert(join(work, "bert"));
    const data = join(work, "train.csv");
    sentimentCsv(data, rows, seed);
    writeFileSync(join(work, "tune.json"), JSON.stringify(make(model, data)));
    const study = join(work, "study");
    const r = spawnSync(
      process.execPath,
      [bin, "tune", "--config", join(work, "tune.json"), "--dir", study, "--json"],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    check(study, model);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const trialDir = (study: string, n: number) => join(study, "trials", `trial-${String(n).padStart(4, "0")}`);

test("a 3-fold cross-validated study of fine-tuning runs, leaderboard and best config", () => {
  tuneOnTinyBert(
    150,
    21,
    (model, data) => ({
      objective: {
        name: "finetune",
        config: { model, data, training: { batchSize: 16, seed: 1, saveEvery: "none" } },
        metric: "accuracy",
        folds: 3,
      },
      space: {
        "training.lr": { type: "loguniform", low: 1e-4, high: 1e-2 },
        "training.epochs": { type: "int", low: 1, high: 3 },
      },
      sampler: { name: "random", seed: 1 },
      trials: 3,
    }),
    (study, model) => {
      const board = JSON.parse(readFileSync(join(study, "leaderboard.json"), "utf8"));
      const done = board.trials.filter((t: { state: string }) => t.state === "complete");
      assert.equal(done.length, 3);
      const best = JSON.parse(readFileSync(join(study, "best-config.json"), "utf8"));
      assert.ok(best.training.lr >= 1e-4 && best.training.lr <= 1e-2, JSON.stringify(best));
      assert.ok(best.model === model);
    },
  );
});

test("population-based training of fine-tuning runs: segments continue from checkpoints, the bottom copies the top", () => {
  tuneOnTinyBert(
    120,
    5,
    (model, data) => ({
      objective: {
        name: "finetune",
        config: { model, data, validationFraction: 0.25, training: { batchSize: 8, seed: 1, epochs: 3 } },
        metric: "accuracy",
      },
      space: {
        "training.lr": { type: "loguniform", low: 1e-4, high: 1e-2 },
        "training.weightDecay": { type: "uniform", low: 0, high: 0.1 },
      },
      sampler: { name: "random", seed: 3 },
      pbt: { population: 4, interval: 4, generations: 3, seed: 0 },
    }),
    (study) => {
      const lineage = JSON.parse(readFileSync(join(study, "plots", "pbt-lineage.json"), "utf8")) as {
        members: {
          segments: {
            trial: number;
            state: string;
            startStep: number;
            endStep: number;
            donor: number | null;
            parentTrial: number | null;
            score: number;
          }[];
        }[];
      };
      assert.equal(lineage.members.length, 4);
      const segments = lineage.members.flatMap((m) => m.segments);
      assert.equal(segments.length, 12);
      for (const s of segments) {
        assert.equal(s.state, "complete");
        assert.ok(s.score >= 0 && s.score <= 1);
        // each segment leaves the checkpoint of its end step where the next one looks
        const state = JSON.parse(
          readFileSync(join(trialDir(study, s.trial), "checkpoint", "trainer_state.json"), "utf8"),
        ) as { globalStep: number };
        assert.equal(state.globalStep, s.endStep);
      }
      // later generations continue: each starts where its parent segment ended, and some copied a better member
      const later = segments.filter((s) => s.startStep > 0);
      assert.ok(later.every((s) => s.parentTrial !== null));
      assert.ok(
        later.some((s) => s.donor !== null),
        "no member exploited another",
      );
      const first = JSON.parse(
        readFileSync(join(trialDir(study, later[0].trial), "run", "metrics.jsonl"), "utf8")
          .trim()
          .split("\n")[0],
      ) as { step: number };
      assert.ok(first.step > later[0].startStep, "a segment retrained from step 0");
    },
  );
});

test("the finetune objective takes its direction from the metric registry; an unknown metric needs the study's", () => {
  registerFinetuneObjective();
  const config = { model: "m", data: "d.csv" };
  assert.deepEqual(resolveObjective({ name: "finetune", config }).directions, ["maximize"]); // f1_macro
  assert.deepEqual(resolveObjective({ name: "finetune", config, metric: "eval_loss" }).directions, ["minimize"]);
  // a metric the registry does not know leaves the direction to the study (graft tune refuses it without one)
  const custom = resolveObjective({ name: "finetune", config, metric: "latency_ms" });
  assert.equal(custom.directions, undefined);
  assert.deepEqual(custom.metrics, ["latency_ms"]);
  // the base config is checked when the study starts, not when the first trial runs
  assert.throws(
    () => resolveObjective({ name: "finetune", config: { ...config, maxLenght: 64 } }),
    /unknown setting "objective\.config\.maxLenght" \(did you mean "objective\.config\.maxLength"\?\)/,
  );
});
