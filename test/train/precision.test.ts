/**
 * The `precision` training argument: fp32 by default, bf16 accepted, anything else an error naming the setting
 * (in the training arguments and in a finetune config); a bf16 run trains its matrix products in bf16 and keeps
 * its losses within bf16 rounding of the fp32 run's, and the global precision is fp32 again afterwards.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_ARGS, resolveArgs } from "../../src/train/args.js";
import { Trainer } from "../../src/train/trainer.js";
import { validateFinetuneOptions } from "../../src/tasks/config.js";
import { matmulPrecision } from "../../src/tensor/index.js";
import { trainingArgsFrom } from "../../src/tune/objectives/trainer.js";
import { applyParams } from "../../src/tasks/tune-objective.js";
import { makeData, makeModel, task } from "./toy.js";

test("precision defaults to fp32, accepts bf16 and rejects anything else by name", () => {
  assert.equal(DEFAULT_ARGS.precision, "fp32");
  assert.equal(resolveArgs({ precision: "bf16" }).precision, "bf16");
  assert.throws(
    () => resolveArgs({ precision: "fp16" as "bf16" }),
    /precision .*must be one of fp32, bf16, got "fp16"/,
  );
  assert.throws(
    () => validateFinetuneOptions({ training: { precision: "half" } }, { source: "cfg.yaml" }),
    /training\.precision in cfg\.yaml must be one of fp32, bf16, got "half"/,
  );
  assert.equal(validateFinetuneOptions({ training: { precision: "bf16" } }).training?.precision, "bf16");
  // a tuning space's parameter: for trainer objectives and (as training.precision) for the finetune objective
  assert.deepEqual(trainingArgsFrom({ precision: "bf16", other: 1 }), { precision: "bf16" });
  assert.equal(
    (applyParams({ model: "m", data: "d" }, { precision: "bf16" }) as { training?: { precision?: string } }).training
      ?.precision,
    "bf16",
  );
});

test("a bf16 run's losses stay within bf16 rounding of the fp32 run's", async () => {
  const data = makeData(48, 5);
  const run = async (precision: "fp32" | "bf16") => {
    const losses: number[] = [];
    const model = makeModel(5);
    await new Trainer({
      model,
      args: { epochs: 2, batchSize: 8, lr: 1e-2, logEvery: 1, saveEvery: "none", precision },
      trainSize: 48,
      ...task(data),
      callbacks: [{ onLog: (_t, r) => void (typeof r.loss === "number" && losses.push(r.loss)) }],
    }).train();
    return losses;
  };
  const f = await run("fp32");
  const h = await run("bf16");
  assert.equal(matmulPrecision(), "fp32");
  assert.equal(h.length, f.length);
  assert.ok(h.length >= 10);
  const diffs = f.map((x, i) => Math.abs(x - h[i]!));
  assert.ok(Math.max(...diffs) < 0.05, `loss curves differ by up to ${Math.max(...diffs)}`);
  assert.ok(Math.max(...diffs) > 0, "the bf16 run computed something different");
});
