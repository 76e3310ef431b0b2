/** Tuning objectives name their metrics through the metric registry, which gives their directions. */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  knownDirections,
  objectiveDirection,
  objectiveDirections,
  registerObjective,
  resolveObjective,
} from "../../src/tune/index.js";

test("objective metrics resolve to the registry's direction; unknown names ask for one, with a hint", () => {
  assert.equal(objectiveDirection("eval_f1_macro"), "maximize");
  assert.equal(objectiveDirection("loss"), "minimize");
  assert.equal(objectiveDirection("eval_rmse"), "minimize");
  assert.equal(objectiveDirection("bleu"), "maximize");
  assert.throws(
    () => objectiveDirection("eval_acuracy"),
    (e: Error & { hint?: string }) =>
      /no metric "eval_acuracy" in the metric registry/.test(e.message) &&
      /did you mean "accuracy"\?/.test(e.hint ?? ""),
  );
  assert.deepEqual(objectiveDirections(["accuracy", "perplexity"]), ["maximize", "minimize"]);
  assert.deepEqual(objectiveDirections(["latency_ms"], ["minimize"]), ["minimize"]);
  assert.throws(() => objectiveDirections(["a", "b"], ["minimize"]), /2 objective metrics \(a, b\) but 1 directions/);
  assert.deepEqual(knownDirections(["f1", "mse"]), ["maximize", "minimize"]);
  assert.equal(knownDirections(["f1", "latency_ms"]), undefined);
});

test("a provider that names its metrics but no directions gets the registry's", () => {
  const ref = { module: "graft:tune/objectives/builtins.js", export: "builtinObjective" };
  registerObjective("test-metrics-a", () => ({ ref, metrics: ["eval_accuracy", "eval_loss"] }));
  registerObjective("test-metrics-b", () => ({ ref, metrics: ["eval_accuracy"], directions: ["minimize"] }));
  registerObjective("test-metrics-c", () => ({ ref, metrics: ["size_mb"] }));
  assert.deepEqual(resolveObjective("test-metrics-a").directions, ["maximize", "minimize"]);
  assert.deepEqual(resolveObjective("test-metrics-b").directions, ["minimize"]);
  assert.equal(resolveObjective("test-metrics-c").directions, undefined);
});
