/** distinct-n and the BLEU-1 / BLEU-2 entries of the registry (the dialogue-generation metrics of the sft kind). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BLEU, computeMetric, distinctN } from "../../src/metrics/index.js";

test("distinct-n counts distinct n-grams over all texts, split on whitespace", () => {
  const texts = ["i do not know", "i do not know", "sure , why not"];
  // unigrams: 12 in all; distinct: i do not know sure , why = 7
  assert.equal(distinctN(texts, 1), 7 / 12);
  // bigrams: 3 + 3 + 3 = 9; distinct: "i do" "do not" "not know" "sure ," ", why" "why not" = 6
  assert.equal(distinctN(texts, 2), 6 / 9);
  assert.equal(distinctN(["a"], 2), 0, "no bigram at all");
  assert.equal(distinctN([], 1), 0);
  assert.throws(() => distinctN(texts, 0), /n must be a positive integer/);
  assert.equal(computeMetric({ metric: "distinct", value: "distinct-1" }, texts, []), 7 / 12);
  assert.equal(computeMetric({ metric: "distinct-n", value: "distinct-2" }, texts, []), 6 / 9);
});

test("bleu-1 and bleu-2 are sacrebleu's BLEU with max n-gram order 1 and 2", () => {
  const hyp = ["the cat sat on the mat", "hello there my friend"];
  const ref = ["the cat is on the mat", "hello my good friend"];
  for (const order of [1, 2]) {
    const want = new BLEU({ maxNgramOrder: order }).corpusScore(hyp, [ref]).score;
    assert.equal(computeMetric(`bleu-${order}`, hyp, ref), want);
  }
  assert.ok(computeMetric("bleu-1", hyp, ref) > computeMetric("bleu-2", hyp, ref));
  assert.ok(computeMetric("bleu-2", hyp, ref) > computeMetric("bleu", hyp, ref));
});
