/** ROUGE and exact match (hand-checked against rouge-score / evaluate definitions), bootstrap and paired tests. */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  rouge,
  rougeScore,
  rougeTokenize,
  exactMatch,
  BLEU,
  accuracy,
  bootstrapInterval,
  bootstrapStatsInterval,
  pairedBootstrapTest,
  approximateRandomizationTest,
} from "../../src/metrics/index.js";
import { Rng } from "../../src/util/rng.js";
import { close } from "./helpers.js";

test("ROUGE-1/2/L follow rouge-score (lowercase, non-alphanumerics split, clipped overlap, LCS)", () => {
  assert.deepEqual(rougeTokenize("The quick-brown fox's ÉTÉ 2x!"), ["the", "quick", "brown", "fox", "s", "t", "2x"]);
  const s = rougeScore("The quick brown fox jumps over the lazy dog", "The quick brown dog jumps on the log.", [
    "rouge1",
    "rouge2",
    "rougeL",
  ]);
  close([s.rouge1!.precision, s.rouge1!.recall], [6 / 8, 6 / 9]);
  close(s.rouge1!.fmeasure, (2 * (6 / 8) * (6 / 9)) / (6 / 8 + 6 / 9));
  // bigrams: "the quick", "quick brown" shared
  close([s.rouge2!.precision, s.rouge2!.recall], [2 / 7, 2 / 8]);
  // LCS: the quick brown jumps the
  close([s.rougeL!.precision, s.rougeL!.recall], [5 / 8, 5 / 9]);
  // clipping: "the the the" against "the cat" matches one "the"
  close(rougeScore("the cat", "the the the", ["rouge1"]).rouge1!.precision, 1 / 3);
  // empty texts score 0
  assert.deepEqual(rougeScore("", "abc", ["rougeL"]).rougeL, { precision: 0, recall: 0, fmeasure: 0 });
});

test("ROUGE-Lsum takes the union LCS over newline-separated sentences", () => {
  // reference sentences r1 = [a b c d], r2 = [e f]; candidates c1 = [a b x], c2 = [c d e]
  // union LCS of r1 with {c1, c2}: {a, b} ∪ {c, d} = 4 hits; r2: {e} = 1 hit; m = 6, n = 6
  const s = rougeScore("a b c d\ne f", "a b x\nc d e", ["rougeLsum"]).rougeLsum!;
  close([s.precision, s.recall], [5 / 6, 5 / 6]);
});

test("corpus ROUGE is the mean of segment scores, with the best-F reference per segment", () => {
  const r = rouge(
    ["a b c", "x y"],
    [
      ["a b d", "x z"],
      ["a b c", "q"],
    ],
    ["rouge1"],
  );
  close(r.rouge1!.fmeasure, (1 + 0.5) / 2);
  assert.throws(() => rouge(["a"], [["a", "b"]]), /1 predictions but reference stream 1 has 2/);
});

test("exact match honours the evaluate options and SQuAD normalization", () => {
  const preds = ["The Cat.", "dog 42", "A bird"],
    refs = [["the cat", "Dog 43", "bird"]];
  close(exactMatch(preds, refs), 0);
  close(exactMatch(preds, refs, { ignoreCase: true, ignorePunctuation: true }), 1 / 3);
  close(exactMatch(preds, refs, { ignoreCase: true, ignorePunctuation: true, ignoreNumbers: true }), 2 / 3);
  close(exactMatch(preds, refs, { squad: true }), 2 / 3);
  close(exactMatch(["x"], [["y"], ["x"]]), 1);
  close(exactMatch(["yes sir"], [["yes"]], { regexesToIgnore: [" sir"] }), 1);
});

test("bootstrap intervals are reproducible, contain the score, and match a direct resample", () => {
  const rng = new Rng(1);
  const hits: number[] = Array.from({ length: 400 }, () => (rng.uniform() < 0.7 ? 1 : 0));
  const stats = hits.map((h) => [h, 1]);
  const acc = (s: Float64Array) => s[0]! / s[1]!;
  const a = bootstrapStatsInterval(stats, acc, { samples: 500, seed: 3 });
  const b = bootstrapStatsInterval(stats, acc, { samples: 500, seed: 3 });
  assert.deepEqual(a, b);
  close(a.score, hits.reduce((x, y) => x + y, 0) / 400);
  assert.ok(a.lower <= a.score && a.score <= a.upper);
  // the normal approximation sqrt(p(1-p)/n) gives a half-width of about 1.96 * 0.0229 = 0.045
  assert.ok(
    Math.abs(a.halfWidth - 1.96 * Math.sqrt((a.score * (1 - a.score)) / 400)) < 0.012,
    `half-width ${a.halfWidth}`,
  );
  const c = bootstrapInterval(
    400,
    (idx) =>
      accuracy(
        [...idx].map((i) => hits[i]!),
        [...idx].map(() => 1),
      ),
    { samples: 500, seed: 3 },
  );
  assert.deepEqual([c.lower, c.upper, c.mean], [a.lower, a.upper, a.mean]);
});

test("paired tests: identical systems get p = 1/(n+1) (as sacrebleu), a clearly better system a small p, noise a large p", () => {
  const rng = new Rng(5);
  const refs = Array.from({ length: 150 }, (_, i) => `the item ${i} is here and there ${i % 7}`);
  const good = refs.map((r, i) => (i % 5 === 0 ? r.replace("here", "hier") : r));
  const bad = refs.map((r) =>
    r
      .split(" ")
      .filter(() => rng.uniform() < 0.6)
      .join(" "),
  );
  // two systems of equal expected quality: each garbles a different random fifth of the segments
  const sysA = refs.map((r) => (rng.uniform() < 0.2 ? r.replace("there", "thar") : r));
  const sysB = refs.map((r) => (rng.uniform() < 0.2 ? r.replace("there", "thar") : r));
  const bleu = new BLEU();
  const score = (s: Float64Array) => bleu.scoreFromStats(s).score;
  const sg = bleu.segmentStats(good, [refs]),
    sb = bleu.segmentStats(bad, [refs]);
  const sa = bleu.segmentStats(sysA, [refs]),
    sc = bleu.segmentStats(sysB, [refs]);
  const same = pairedBootstrapTest(sg, sg, score, { samples: 200 });
  close(same.pValue, 1 / 201);
  const better = pairedBootstrapTest(sb, sg, score, { samples: 200 });
  assert.ok(better.pValue < 0.01 && better.system > better.baseline);
  assert.ok(better.interval!.lower <= better.system && better.system <= better.interval!.upper);
  const ar = approximateRandomizationTest(sb, sg, score, { samples: 300 });
  assert.ok(ar.pValue < 0.01);
  const even = approximateRandomizationTest(sa, sc, score, { samples: 300 });
  assert.ok(even.pValue > 0.05, `p = ${even.pValue} for systems ${even.baseline} vs ${even.system}`);
  assert.ok(pairedBootstrapTest(sa, sc, score, { samples: 300 }).pValue > 0.05);
  assert.throws(() => pairedBootstrapTest(sg, sb.slice(1), score), /150 items but the system has 149/);
});

test("sums follow numpy's pairwise order bit for bit, and reports round like Python", async () => {
  const { fixture } = await import("./helpers.js");
  const { pairwiseSum, mean } = await import("../../src/metrics/numeric.js");
  const { pyFixed } = await import("../../src/metrics/format.js");
  for (const c of fixture("classification.json").numpySums) {
    assert.equal(pairwiseSum(c.values), c.sum, `sum of ${c.values.length}`);
    assert.equal(mean(c.values), c.mean, `mean of ${c.values.length}`);
  }
  // exact binary ties round to even, as Python's format(); everything else as toFixed
  assert.deepEqual(
    [
      pyFixed(0.125, 2),
      pyFixed(0.375, 2),
      pyFixed(2.5, 0),
      pyFixed(3.5, 0),
      pyFixed(-0.125, 2),
      pyFixed(1.005, 2),
      pyFixed(0.7083333, 2),
    ],
    ["0.12", "0.38", "2", "4", "-0.12", "1.00", "0.71"],
  );
});
