/**
 * Opt-in, slow (about 80 s on 2 busy cores): graft's baselines against scikit-learn on the real SST-2 and AG News
 * datasets in ../shared/datasets. Needs Debian's python3-sklearn. Run with:
 *   GRAFT_SKLEARN_REAL=1 node --test dist/test/data/sklearn-real.test.js
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { readExamples } from "../../src/data/readers/examples.js";
import { TextClassifier } from "../../src/data/classical/pipeline.js";
import { ROOT } from "./fixtures.js";

const DATASETS = process.env.GRAFT_DATASETS ?? resolve(ROOT, "../shared/datasets");
const enabled = process.env.GRAFT_SKLEARN_REAL === "1";
const SETS = [
  { name: "sst2", train: "sst2/train.tsv", test: "sst2/dev.tsv", text: "sentence" },
  { name: "ag_news", train: "ag_news/train.tsv", test: "ag_news/test.tsv", text: "text" },
];

for (const set of SETS) {
  test(`baselines agree with scikit-learn on ${set.name}`, {
    skip: enabled ? false : "set GRAFT_SKLEARN_REAL=1 to run",
    timeout: 600_000,
  }, async () => {
    const train = join(DATASETS, set.train),
      testFile = join(DATASETS, set.test);
    assert.ok(existsSync(train), `${train} is missing (set GRAFT_DATASETS)`);
    const dir = mkdtempSync(join(tmpdir(), "graft-sk-"));
    try {
      const out = join(dir, "sklearn.json");
      const py = spawnSync(
        "/usr/bin/python3",
        [join(ROOT, "scripts/fixtures/data/sklearn_baseline.py"), train, testFile, out, set.text, "label"],
        { encoding: "utf8" },
      );
      assert.equal(py.status, 0, py.stderr);
      const sk = JSON.parse(readFileSync(out, "utf8")) as {
        features: number;
        models: Record<string, { accuracy: number; predictions: string[] }>;
      };
      const tr = (await readExamples(train)).examples,
        te = (await readExamples(testFile)).examples;
      for (const model of ["logreg", "nb", "svm"] as const) {
        const m = TextClassifier.fit(
          tr.map((e) => e.text),
          tr.map((e) => String(e.label)),
          { model, tfidf: { ngramRange: [1, 2], sublinearTf: true } },
        );
        assert.equal(m.vectorizer.vocabulary.length, sk.features);
        const pred = Array.from(m.predictIds(te.map((e) => e.text)), (i) => m.labels[i]!);
        const want = sk.models[model]!;
        const same = pred.filter((p, i) => p === want.predictions[i]).length / pred.length;
        const acc = pred.filter((p, i) => p === String(te[i]!.label)).length / pred.length;
        process.stderr.write(
          `${set.name} ${model}: ${(same * 100).toFixed(2)}% identical predictions, accuracy ${(acc * 100).toFixed(2)} vs ${(want.accuracy * 100).toFixed(2)}\n`,
        );
        assert.ok(same >= 0.99, `${model}: ${same}`);
        assert.ok(Math.abs(acc - want.accuracy) <= 0.005, `${model}: ${acc} vs ${want.accuracy}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
