import { test } from "node:test";
import assert from "node:assert/strict";
import {
  holdoutSplit,
  kFold,
  reproduceSplit,
  dedupe,
  fingerprint,
  type Holdout,
  type Fold,
} from "../../src/data/split.js";
import type { Example } from "../../src/data/types.js";

function data(n: number, labels: string[], weights?: number[]): Example[] {
  const w = weights ?? labels.map(() => 1);
  const total = w.reduce((a, b) => a + b, 0);
  return Array.from({ length: n }, (_, i) => {
    // deterministic label mix with the given proportions
    let r = ((i * 7919) % total) + 0.5,
      k = 0;
    while (r > w[k]!) r -= w[k++]!;
    return { text: `row ${i}`, label: labels[k]!, line: i + 2 };
  });
}

const count = (ex: Example[], idx: number[], label: string): number => idx.filter((i) => ex[i]!.label === label).length;

test("random holdout: exact sizes, disjoint and complete, same seed same split, other seed other split", () => {
  const ex = data(1000, ["a", "b"]);
  const { split, record } = holdoutSplit(ex, { validation: 0.1, test: 0.2, seed: 3 });
  assert.deepEqual([split.train.length, split.validation.length, split.test.length], [700, 100, 200]);
  assert.deepEqual(
    [...split.train, ...split.validation, ...split.test].sort((a, b) => a - b),
    ex.map((_, i) => i),
  );
  assert.deepEqual(holdoutSplit(ex, { validation: 0.1, test: 0.2, seed: 3 }).split, split);
  assert.notDeepEqual(holdoutSplit(ex, { validation: 0.1, test: 0.2, seed: 4 }).split.test, split.test);
  assert.equal(record.method, "random");
  assert.equal(record.assignment.length, 1000);
  assert.doesNotThrow(() => JSON.stringify(record));
});

test("stratified holdout keeps each label's share in every part", () => {
  const ex = data(1000, ["ham", "spam", "rare"], [85, 13, 2]);
  const { split } = holdoutSplit(ex, { validation: 0.1, test: 0.2, seed: 1, stratify: true });
  assert.deepEqual([split.train.length, split.validation.length, split.test.length], [700, 100, 200]);
  for (const label of ["ham", "spam", "rare"]) {
    const total = count(
      ex,
      ex.map((_, i) => i),
      label,
    );
    assert.ok(Math.abs(count(ex, split.test, label) - total * 0.2) <= 1, `${label} in test`);
    assert.ok(Math.abs(count(ex, split.validation, label) - total * 0.1) <= 1, `${label} in validation`);
  }
  assert.throws(
    () => holdoutSplit([{ text: "x", line: 7 }], { test: 0.5, stratify: true }),
    /line 7: a stratified split needs a label/,
  );
  assert.throws(() => holdoutSplit(ex, { validation: 0.5, test: 0.5 }), /leave nothing to train on/);
});

test("a recorded split is rebuilt exactly from JSON, and refused on changed data", () => {
  const ex = data(300, ["x", "y"]);
  const { split, record } = holdoutSplit(ex, { test: 0.25, seed: 9, stratify: true });
  const saved = JSON.parse(JSON.stringify(record));
  assert.deepEqual(reproduceSplit(saved, ex) as Holdout, split);
  const changed = ex.map((e, i) => (i === 17 ? { ...e, text: "edited" } : e));
  assert.throws(() => reproduceSplit(saved, changed), /the data changed since the split was made/);
  assert.throws(() => reproduceSplit(saved, ex.slice(1)), /made on 300 rows, the data has 299/);
  assert.notEqual(fingerprint(ex), fingerprint(changed));
});

test("k-fold, stratified k-fold and group k-fold", () => {
  const ex = data(103, ["a", "b", "c"], [6, 3, 1]);
  const check = (folds: Fold[]) => {
    const seen = folds.flatMap((f) => f.test).sort((a, b) => a - b);
    assert.deepEqual(
      seen,
      ex.map((_, i) => i),
      "every row is tested exactly once",
    );
    for (const f of folds) assert.equal(f.train.length + f.test.length, ex.length);
  };
  const plain = kFold(ex, { k: 5, seed: 2 });
  check(plain.folds);
  assert.deepEqual(plain.folds.map((f) => f.test.length).sort(), [20, 20, 21, 21, 21]);
  const strat = kFold(ex, { k: 5, method: "stratified", seed: 2 });
  check(strat.folds);
  for (const label of ["a", "b", "c"]) {
    const per = strat.folds.map((f) => count(ex, f.test, label));
    assert.ok(Math.max(...per) - Math.min(...per) <= 1, `${label} spread ${per}`);
  }
  const groups = ex.map((_, i) => `user${i % 13}`);
  const grouped = kFold(ex, { k: 4, method: "group", groups });
  check(grouped.folds);
  for (const f of grouped.folds) {
    const inTest = new Set(f.test.map((i) => groups[i]));
    assert.ok(
      f.train.every((i) => !inTest.has(groups[i]!)),
      "no group on both sides",
    );
  }
  assert.deepEqual(reproduceSplit(JSON.parse(JSON.stringify(strat.record)), ex), strat.folds);
  assert.throws(() => kFold(ex, { k: 4, method: "group", groups: groups.slice(1) }), /one group per row/);
  // groups read from a column (Example.group) are used when none are passed
  const withGroups = ex.map((e, i) => ({ ...e, group: groups[i]! }));
  assert.deepEqual(kFold(withGroups, { k: 4, method: "group" }).folds, grouped.folds);
  assert.throws(() => kFold(ex, { k: 4, method: "group" }), /line 2: group k-fold needs a group on every row/);
  assert.throws(() => kFold(ex.slice(0, 3), { k: 5 }), /cannot make 5 folds from 3 rows/);
});

test("dedupe keeps the first of each normalized duplicate and counts label conflicts", () => {
  const ex: Example[] = [
    { text: "Hello  World", label: "a", line: 1 },
    { text: "hello world", label: "a", line: 2 },
    { text: "other", label: "a", line: 3 },
    { text: "HELLO WORLD ", label: "b", line: 4 },
    { text: "other", label: "a", line: 5 },
  ];
  const r = dedupe(ex);
  assert.deepEqual(r.keep, [0, 2]);
  assert.deepEqual(
    r.removed.map((x) => [x.line, x.duplicateOf]),
    [
      [2, 0],
      [4, 0],
      [5, 2],
    ],
  );
  assert.equal(r.conflicting, 1);
  assert.deepEqual(dedupe(ex, { exact: true }).keep, [0, 1, 2, 3]);
});
