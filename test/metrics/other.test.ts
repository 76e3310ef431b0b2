/** Regression (scikit-learn, scipy), ranking (sklearn's ndcg_score and hand-checked cases), language-model scores. */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  meanSquaredError,
  rootMeanSquaredError,
  meanAbsoluteError,
  r2Score,
  explainedVarianceScore,
  pearson,
  spearman,
  precisionAtK,
  recallAtK,
  hitRateAtK,
  meanReciprocalRank,
  meanAveragePrecision,
  ndcgAtK,
  ndcgScore,
  perplexity,
  bitsPerToken,
  bitsPerCharacter,
  LossAccumulator,
} from "../../src/metrics/index.js";
import { captureWarnings } from "../../src/metrics/warnings.js";
import { close, fixture } from "./helpers.js";

const fx = fixture("regression_ranking.json");

test("regression errors and correlations match scikit-learn and scipy", () => {
  for (const c of fx.regression) {
    const o = { sampleWeight: c.sampleWeight ?? undefined };
    close(meanSquaredError(c.yTrue, c.yPred, o), c.mse, `${c.name} mse`);
    close(rootMeanSquaredError(c.yTrue, c.yPred, o), Math.sqrt(c.mse), `${c.name} rmse`);
    close(meanAbsoluteError(c.yTrue, c.yPred, o), c.mae, `${c.name} mae`);
    close(r2Score(c.yTrue, c.yPred, o), c.r2, `${c.name} r2`);
    if (!c.sampleWeight) {
      close(captureWarnings(() => pearson(c.yTrue, c.yPred)).value, c.pearson, `${c.name} pearson`, 1e-10);
      close(captureWarnings(() => spearman(c.yTrue, c.yPred)).value, c.spearman, `${c.name} spearman`, 1e-10);
    }
  }
  const { value, warnings } = captureWarnings(() => pearson([1, 1, 1], [1, 2, 3]));
  assert.ok(Number.isNaN(value));
  assert.match(warnings[0]!, /constant/);
  assert.throws(() => pearson([1], [2]), /at least 2 values/);
  assert.throws(() => meanSquaredError([1, NaN], [1, 2]), /yTrue\[1\] is NaN/);
});

const mo = fixture("regression_multioutput.json");

test("2-D targets: every multioutput setting and force_finite match scikit-learn", () => {
  const fns = {
    mse: meanSquaredError,
    rmse: rootMeanSquaredError,
    mae: meanAbsoluteError,
    r2: r2Score,
    ev: explainedVarianceScore,
  } as const;
  let checked = 0;
  for (const c of mo.cases) {
    for (const [key, expected] of Object.entries(c as Record<string, unknown>)) {
      const m =
        /^(mse|rmse|mae|r2|ev)_(raw_values|uniform_average|variance_weighted|weights)(?:_(finite|plain))?$/.exec(key);
      if (!m) continue;
      const multioutput = m[2] === "weights" ? (c.weights as number[]) : (m[2] as "raw_values");
      const options = {
        sampleWeight: c.sampleWeight ?? undefined,
        multioutput,
        ...(m[3] ? { forceFinite: m[3] === "finite" } : {}),
      };
      const actual = captureWarnings(() =>
        (fns[m[1] as keyof typeof fns] as (...a: unknown[]) => unknown)(c.yTrue, c.yPred, options),
      ).value;
      // sklearn's R² of one sample is a single NaN even for raw_values; graft gives one NaN per output
      const want = Array.isArray(actual) && typeof expected === "number" ? actual.map(() => expected) : expected;
      close(actual, want, `${c.name} ${key}`, 1e-12);
      checked++;
    }
  }
  assert.ok(checked > 150, `${checked} values checked`);
  // the defaults: uniform_average, force_finite
  const yt = [
    [1, 2],
    [2, 4],
    [3, 7],
  ];
  const yp = [
    [1.5, 2],
    [2, 5],
    [2.5, 6],
  ];
  close(r2Score(yt, yp), (r2Score(yt, yp, { multioutput: "raw_values" }) as number[]).reduce((a, b) => a + b) / 2);
  assert.equal(r2Score([4, 4, 4], [4, 4, 5]), 0);
  assert.equal(r2Score([4, 4, 4], [4, 4, 4]), 1);
  assert.equal(r2Score([4, 4, 4], [4, 4, 5], { forceFinite: false }), -Infinity);
  assert.throws(() => meanSquaredError(yt, yp, { multioutput: "variance_weighted" }), /multioutput must be/);
  assert.throws(() => meanSquaredError(yt, [[1], [2], [3]]), /2 outputs but yPred has 1/);
  assert.throws(
    () =>
      meanSquaredError(
        [[1, 2], [3]],
        [
          [1, 2],
          [3, 4],
        ],
      ),
    /row 1 has 1 value/,
  );
  assert.throws(() => r2Score([1, 2], [1, 2], { multioutput: [1] }), /several outputs/);
});

test("ndcgScore matches scikit-learn (tie-averaged and tie-ignoring, every cut-off)", () => {
  for (const c of fx.ndcg) {
    for (const k of [undefined, 1, 3, 5]) {
      close(ndcgScore(c.yTrue, c.yScore, { k }), c[`ndcg_${k ?? "None"}`], `${c.name} k=${k}`);
      const it = c[`ndcgIgnoreTies_${k ?? "None"}`];
      if (it !== null) close(ndcgScore(c.yTrue, c.yScore, { k, ignoreTies: true }), it, `${c.name} ignore ties k=${k}`);
    }
  }
});

test("recommendation metrics follow their definitions", () => {
  const recs = [
    ["a", "b", "c", "d"],
    ["x", "y", "z", "w"],
    ["p", "q", "r", "s"],
  ];
  const rel = [["b", "d", "e"], ["w"], ["q"]];
  close(precisionAtK(recs, rel, { k: 2 }), (1 / 2 + 0 + 1 / 2) / 3);
  close(recallAtK(recs, rel, { k: 2 }), (1 / 3 + 0 + 1) / 3);
  close(hitRateAtK(recs, rel, { k: 2 }), 2 / 3);
  close(meanReciprocalRank(recs, rel), (1 / 2 + 1 / 4 + 1 / 2) / 3);
  close(meanReciprocalRank(recs, rel, { k: 3 }), (1 / 2 + 0 + 1 / 2) / 3);
  // ml_metrics apk: (1/2 + 2/4) / min(3, 4); (1/4) / 1; (1/2) / 1
  close(meanAveragePrecision(recs, rel, { k: 4 }), ((1 / 2 + 2 / 4) / 3 + 1 / 4 + 1 / 2) / 3);
  const dcg0 = 1 / Math.log2(3) + 1 / Math.log2(5),
    idcg0 = 1 + 1 / Math.log2(3) + 1 / Math.log2(4);
  close(ndcgAtK(recs, rel), (dcg0 / idcg0 + 1 / Math.log2(5) / 1 + 1 / Math.log2(3) / 1) / 3);
  // graded relevance, exponential gain
  close(
    ndcgAtK([["a", "b"]], [{ a: 1, b: 3 }], { gain: "exponential" }),
    (1 + 7 / Math.log2(3)) / (7 + 1 / Math.log2(3)),
  );
  // a user without relevant items is left out, with a warning
  const { value, warnings } = captureWarnings(() => recallAtK([["a"], ["b"]], [["a"], []]));
  assert.equal(value, 1);
  assert.match(warnings[0]!, /1 of 2 users have no relevant items/);
  assert.throws(() => precisionAtK([["a"]], [["a"], ["b"]]), /1 recommendation lists but 2 relevance sets/);
});

test("perplexity and bits per token/character come from summed losses", () => {
  const losses = [2.0, 1.0, 3.0, 0.5];
  const acc = new LossAccumulator().addTokenLosses(losses.slice(0, 2), 10).addTokenLosses(losses.slice(2), 14);
  close(acc.perplexity(), Math.exp(6.5 / 4));
  close(acc.bitsPerToken(), 6.5 / 4 / Math.LN2);
  close(acc.bitsPerCharacter(), 6.5 / 24 / Math.LN2);
  close(perplexity({ lossSum: 0, tokens: 5 }), 1);
  close(bitsPerToken({ lossSum: Math.LN2 * 8, tokens: 4 }), 2);
  close(bitsPerCharacter({ lossSum: Math.LN2 * 8, tokens: 4, characters: 16 }), 0.5);
  // the perplexity of the set is not the mean of batch perplexities
  assert.notEqual(acc.perplexity(), (Math.exp(1.5) + Math.exp(1.75)) / 2);
  assert.throws(() => perplexity({ lossSum: NaN, tokens: 3 }), /finite non-negative/);
  assert.throws(() => perplexity({ lossSum: 1, tokens: 0 }), /tokens must be positive/);
});
