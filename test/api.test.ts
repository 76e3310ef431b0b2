/** The README's library example, run against a tiny model: the public API (src/index.ts) does what it shows. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AutoModelForSequenceClassification,
  AutoTokenizer,
  batchToTensors,
  finetune,
  metrics,
  noGrad,
  softmax,
  type ClassifierOutput,
} from "../src/index.js";
import { makeTinyBert, sentimentCsv } from "./tasks/fixtures.js";

test("README example: fine-tune, then load the best model and classify new text", async () => {
  const work = mkdtempSync(join(tmpdir(), "graft-api-"));
  try {
    const model = makeTinyBert(join(work, "bert"));
    sentimentCsv(join(work, "reviews.csv"), 200, 11);
    // --- as in the README
    const result = await finetune({
      model,
      data: join(work, "reviews.csv"),
      output: join(work, "run"),
      training: { epochs: 5, lr: 3e-3, batchSize: 16 },
    });
    const tokenizer = await AutoTokenizer.fromPretrained(result.bestDir);
    const clf = AutoModelForSequenceClassification.fromPretrainedDir(result.bestDir);
    const batch = batchToTensors(
      await tokenizer.encodeBatch(["a really great film", "the plot was awful"], { padding: true }),
    );
    const probs = noGrad(() => softmax((clf.forward(batch) as ClassifierOutput).logits));
    const labels = [0, 1].map((i) => clf.config.id2label![probs.toArray()[i * 2 + 1] > 0.5 ? 1 : 0]);
    // ---
    assert.ok(result.test.accuracy > 0.9);
    assert.deepEqual(labels, ["pos", "neg"]);
    assert.equal(metrics.accuracy(["pos", "neg"], labels), 1);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
