/** Meta-features of a labelled file: size, classes, mean words per text, label entropy; CoNLL counted in sentences. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { datasetMetaFeatures } from "../../src/methods/index.js";
import { metaSimilarity } from "../../src/tune/index.js";

const work = mkdtempSync(join(tmpdir(), "graft-meta-"));
test.after(() => rmSync(work, { recursive: true, force: true }));

test("datasetMetaFeatures: size, classes, mean length and label entropy of a file", async () => {
  const csv = join(work, "a.csv");
  writeFileSync(csv, "text,label\none two,a\nthree four five six,b\nseven,a\neight nine ten,b\n");
  const m = await datasetMetaFeatures(csv);
  assert.equal(m.size, 4);
  assert.equal(m.classes, 2);
  assert.equal(m.meanLength, 2.5);
  assert.ok(Math.abs(m.labelEntropy! - Math.log(2)) < 1e-12);
  const conll = join(work, "b.txt");
  writeFileSync(conll, "bob B-PER\nran O\n\nrome B-LOC\n");
  const n = await datasetMetaFeatures(conll, { task: "ner" });
  assert.equal(n.size, 2);
  assert.equal(n.meanLength, 1.5);
  assert.equal(n.classes, 3);
  // the same file is the most similar dataset to itself
  assert.equal(metaSimilarity(m, m), 1);
  assert.ok(metaSimilarity(m, n)! < 1);
});
