/** The metric registry: every entry declared and computing, names and aliases, hints, and the evaluation API. */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  METRICS,
  METRIC_OPTIONS,
  accuracy,
  averagePrecision,
  bootstrapStatsInterval,
  computeMetric,
  computeMetrics,
  corpusChrf,
  entityPrecisionRecallF1,
  f1,
  findMetric,
  matthewsCorrcoef,
  meanAbsoluteError,
  meanSquaredError,
  metricDirection,
  pearson,
  precision,
  r2Score,
  recall,
  resolveMetric,
  rocAuc,
  rootMeanSquaredError,
  scoreSystems,
  spearman,
  tokenAccuracy,
  type InputKind,
  type MetricEntry,
} from "../../src/metrics/index.js";
import { ArgumentError } from "../../src/util/errors.js";
import { didYouMean, editDistance } from "../../src/util/suggest.js";

/** A small case per input kind: predictions and one reference stream. */
const CASES: Record<string, { predictions: unknown[]; references: unknown[][] }> = {
  text: {
    predictions: ["the cat sat on the mat", "a dog barked", "hello world"],
    references: [["the cat is on the mat", "the dog barked", "hello there world"]],
  },
  label: { predictions: [1, 0, 0, 1, 1, 0], references: [[1, 0, 1, 1, 0, 0]] },
  scores: { predictions: [0.9, 0.2, 0.4, 0.8, 0.6, 0.1], references: [[1, 0, 1, 1, 0, 0]] },
  tags: {
    predictions: [
      ["B-PER", "I-PER", "O", "B-ORG"],
      ["O", "B-LOC"],
    ],
    references: [
      [
        ["B-PER", "I-PER", "O", "B-LOC"],
        ["O", "B-LOC"],
      ],
    ],
  },
  number: { predictions: [1.5, 2, 2.5, 5], references: [[1, 2, 3, 4]] },
  items: {
    predictions: [
      ["a", "b", "c"],
      ["x", "y"],
    ],
    references: [[["b"], { y: 3, q: 1 }]],
  },
  losses: {
    predictions: [
      { loss: 10, tokens: 5, characters: 20 },
      { loss: 2, tokens: 5, characters: 25 },
    ],
    references: [],
  },
};

const caseOf = (e: MetricEntry) => CASES[e.prediction === "items" ? "items" : e.prediction]!;

test("every entry declares its inputs, options, direction, format and resampling consistently", () => {
  const names = new Set<string>();
  const optionKeys = new Set(METRIC_OPTIONS.map((o) => o.key));
  const kinds: InputKind[] = ["text", "number", "scores", "label", "tags", "items", "relevance", "losses"];
  for (const e of METRICS) {
    for (const n of [e.name, ...e.aliases]) {
      assert.ok(!names.has(n), `${n} is named twice`);
      names.add(n);
      assert.equal(n, n.toLowerCase(), `${n}: names are lower case`);
    }
    assert.ok(e.description.length > 0, `${e.name}: no description`);
    assert.ok(kinds.includes(e.prediction), `${e.name}: prediction kind ${e.prediction}`);
    assert.equal(e.reference === null, e.references === "none", `${e.name}: reference kind vs count`);
    assert.ok(["higher", "lower", null].includes(e.direction), `${e.name}: direction`);
    assert.ok(["fraction", "points", "value", "table"].includes(e.format), `${e.name}: format`);
    assert.equal(e.direction === null, e.format === "table", `${e.name}: only tables have no direction`);
    for (const o of e.options) assert.ok(optionKeys.has(o) || o === "digits", `${e.name}: option ${o} has no flag`);
    if (e.bootstrap === "stats") {
      assert.equal(typeof e.itemStats, "function", `${e.name}: resampling needs item statistics`);
      assert.equal(typeof e.sentences, "function", `${e.name}: sentence-level scores`);
    } else assert.equal(e.itemStats, undefined, `${e.name}: statistics without bootstrap "stats"`);
  }
  for (const o of METRIC_OPTIONS)
    assert.ok(
      METRICS.some((e) => e.options.includes(o.key)),
      `${o.flag} is unused`,
    );
});

test("every entry computes on a small case: a finite score, or a table", () => {
  for (const e of METRICS) {
    const c = caseOf(e);
    const options = e.name === "top-k-accuracy" ? { k: 1 } : e.name === "kappa" ? {} : {};
    const rows = e.compute({ predictions: c.predictions, references: c.references }, options);
    assert.ok(rows.length > 0, `${e.name}: no result`);
    for (const r of rows) {
      if (e.format === "table") {
        assert.ok(Number.isNaN(r.score) && typeof r.text === "string" && r.text.length > 0, `${e.name}: a table`);
      } else assert.ok(Number.isFinite(r.score), `${e.name}: score ${r.score}`);
      assert.ok(r.metric.length > 0);
    }
  }
});

test("names resolve in any case, aliases reach their entry, and @k sets the cut-off", () => {
  for (const e of METRICS)
    for (const n of [e.name, ...e.aliases]) {
      assert.equal(findMetric(n)?.entry, e, n);
      assert.equal(findMetric(n.toUpperCase())?.entry, e, n.toUpperCase());
    }
  assert.equal(resolveMetric("chrF++").entry.name, "chrf++");
  assert.equal(resolveMetric("em").entry.name, "exact-match");
  assert.equal(resolveMetric("AUC").entry.name, "roc-auc");
  assert.deepEqual((({ entry, k }) => [entry.name, k])(resolveMetric("NDCG@10")), ["ndcg@k", 10]);
  assert.equal(resolveMetric("ndcg").k, undefined);
  assert.equal(findMetric("mrr@5"), undefined);
});

test("an unknown metric name is an error with a did-you-mean hint", () => {
  const hintOf = (name: string) => {
    try {
      resolveMetric(name);
    } catch (e) {
      assert.ok(e instanceof ArgumentError);
      assert.match(e.message, new RegExp(`unknown metric "${name.replace(/[+@]/g, "\\$&")}"`));
      return (e as ArgumentError).hint ?? "";
    }
    assert.fail(`${name} resolved`);
  };
  assert.match(hintOf("blue"), /^did you mean "bleu"\? known metrics: bleu, chrf/);
  assert.match(hintOf("acuracy"), /did you mean "accuracy"\?/);
  assert.match(hintOf("rocauc"), /did you mean "roc-auc"\?/);
  assert.match(hintOf("ndcg@x"), /did you mean "ndcg@k"\?/);
  assert.match(hintOf("wer"), /^did you mean "ter"\?/);
  assert.match(hintOf("xyzzy"), /^known metrics: /);
  assert.equal(editDistance("blue", "bleu"), 1);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(didYouMean("zzzzzz", ["bleu"]), undefined);
});

test("directions for the names runs and evaluations use", () => {
  const cases: [string, string | undefined][] = [
    ["bleu", "maximize"],
    ["ter", "minimize"],
    ["eval_f1_macro", "maximize"],
    ["eval_loss", "minimize"],
    ["loss", "minimize"],
    ["test_rmse", "minimize"],
    ["eval_mse", "minimize"],
    ["token_accuracy", "maximize"],
    ["subset_accuracy", "maximize"],
    ["eval_roc_auc", "maximize"],
    ["pr_auc", "maximize"],
    ["precision_macro", "maximize"],
    ["f1_samples", "maximize"],
    ["perplexity", "minimize"],
    ["eval_log_loss", "minimize"],
    ["ece", "minimize"],
    ["hamming-loss", "minimize"],
    ["confusion-matrix", undefined],
    ["latency_ms", undefined],
  ];
  for (const [name, d] of cases) assert.equal(metricDirection(name), d, name);
});

test("computeMetrics gives exactly what task evaluation computes with the metric functions", () => {
  // classification, binary: labels and the positive class's probability
  const gold = [1, 0, 1, 1, 0, 0, 1, 0],
    pred = [1, 0, 0, 1, 1, 0, 1, 0];
  const pos = [0.9, 0.3, 0.45, 0.8, 0.55, 0.1, 0.7, 0.2];
  const labels = [0, 1];
  const m = computeMetrics(
    {
      accuracy: "accuracy",
      f1_macro: { metric: "f1", options: { average: "macro", labels, zeroDivision: 0 } },
      f1_weighted: { metric: "f1", options: { average: "weighted", labels, zeroDivision: 0 } },
      precision_macro: { metric: "precision", options: { average: "macro", labels, zeroDivision: 0 } },
      recall_macro: { metric: "recall", options: { average: "macro", labels, zeroDivision: 0 } },
      mcc: "mcc",
      f1: { metric: "f1", options: { average: "binary", zeroDivision: 0 } },
      roc_auc: "roc-auc",
      pr_auc: "pr-auc",
    },
    { label: pred, scores: pos },
    gold,
  );
  assert.deepEqual(m, {
    accuracy: accuracy(gold, pred),
    f1_macro: f1(gold, pred, { average: "macro", labels, zeroDivision: 0 }),
    f1_weighted: f1(gold, pred, { average: "weighted", labels, zeroDivision: 0 }),
    precision_macro: precision(gold, pred, { average: "macro", labels, zeroDivision: 0 }),
    recall_macro: recall(gold, pred, { average: "macro", labels, zeroDivision: 0 }),
    mcc: matthewsCorrcoef(gold, pred),
    f1: f1(gold, pred, { average: "binary", zeroDivision: 0 }),
    roc_auc: rocAuc(gold, pos),
    pr_auc: averagePrecision(gold, pos),
  });
  // multi-label rows
  const mg = [
      [1, 0, 1],
      [0, 1, 0],
      [1, 1, 0],
    ],
    mp = [
      [1, 0, 0],
      [0, 1, 0],
      [1, 1, 1],
    ];
  assert.deepEqual(
    computeMetrics(
      {
        f1_micro: { metric: "f1", options: { average: "micro", zeroDivision: 0 } },
        f1_samples: { metric: "f1", options: { average: "samples", zeroDivision: 0 } },
        subset_accuracy: "accuracy",
      },
      { label: mp },
      mg,
    ),
    {
      f1_micro: f1(mg, mp, { average: "micro", zeroDivision: 0 }),
      f1_samples: f1(mg, mp, { average: "samples", zeroDivision: 0 }),
      subset_accuracy: accuracy(mg, mp),
    },
  );
  // regression
  const y = [1, 2, 3, 4.5],
    yh = [1.2, 1.9, 3.3, 4];
  assert.deepEqual(
    computeMetrics(
      { mse: "mse", rmse: "rmse", mae: "mae", r2: "r2", pearson: "pearson", spearman: "spearman" },
      { number: yh },
      y,
    ),
    {
      mse: meanSquaredError(y, yh),
      rmse: rootMeanSquaredError(y, yh),
      mae: meanAbsoluteError(y, yh),
      r2: r2Score(y, yh),
      pearson: pearson(y, yh),
      spearman: spearman(y, yh),
    },
  );
  // NER: entity precision / recall / F1 from one entry, and token accuracy
  const gt = [
      ["B-PER", "I-PER", "O", "B-LOC"],
      ["O", "B-ORG"],
    ],
    pt = [
      ["B-PER", "I-PER", "O", "B-ORG"],
      ["O", "B-ORG"],
    ];
  const prf = entityPrecisionRecallF1(gt, pt, { zeroDivision: 0 });
  const zero = { zeroDivision: 0 };
  assert.deepEqual(
    computeMetrics(
      {
        precision: { metric: "entity-f1", options: zero, value: "precision" },
        recall: { metric: "entity-f1", options: zero, value: "recall" },
        f1: { metric: "entity-f1", options: zero },
        token_accuracy: "token-accuracy",
      },
      { tags: pt },
      gt,
    ),
    { precision: prf.precision, recall: prf.recall, f1: prf.fscore, token_accuracy: tokenAccuracy(gt, pt) },
  );
  assert.throws(() => computeMetrics({ auc: "roc-auc" }, { label: pred }, gold), /reads scores predictions/);
  assert.throws(() => computeMetric({ metric: "f1", value: "nope" }, pred, gold), /f1 has no value "nope"/);
  assert.equal(computeMetric("ndcg@1", [["a", "b"]], [["a"]]), 1);
  assert.equal(computeMetric("perplexity", [{ loss: 2, tokens: 2 }], []), Math.E);
});

test("scoreSystems: resampling over the entry's statistics, paired tests against the first system", () => {
  const refs = [["the cat is on the mat", "a dog barked", "hello there", "good morning all"]];
  const a = ["the cat sat on the mat", "the dog barked", "hello", "good morning"];
  const b = ["the cat is on the mat", "a dog barked", "hello there", "morning"];
  const chrf = resolveMetric("chrf").entry;
  const [row] = scoreSystems(chrf, [{ predictions: a }], refs, {}, { confidence: 50, seed: 3 });
  const st = chrf.itemStats!({ predictions: a, references: refs }, {});
  const ci = bootstrapStatsInterval(st.stats, st.score, { samples: 50, seed: 3 });
  assert.equal(row!.score, corpusChrf(a, refs).score);
  assert.deepEqual(row!.extra?.confidence, ci);
  assert.match(row!.signature!, /^nrefs:1\|bs:50\|rs:3\|/);
  const rows = scoreSystems(
    chrf,
    [
      { name: "a", predictions: a },
      { name: "b", predictions: b },
    ],
    refs,
    {},
    { pairedBootstrap: 20 },
  );
  assert.equal(rows.length, 2);
  assert.equal(rows[0]!.extra, undefined);
  assert.equal((rows[1]!.extra!.pairedTest as { method: string }).method, "paired bootstrap");
  assert.deepEqual(
    rows.map((r) => r.system),
    ["a", "b"],
  );
  const sentences = scoreSystems(chrf, [{ predictions: a }], refs, {}, { sentenceLevel: true });
  assert.deepEqual(
    sentences.map((r) => r.metric),
    ["chrF2[1]", "chrF2[2]", "chrF2[3]", "chrF2[4]"],
  );
  assert.throws(
    () => scoreSystems(resolveMetric("accuracy").entry, [{ predictions: [1] }], [[1]], {}, { confidence: 10 }),
    /accuracy: resampling and sentence-level scores need per-item statistics/,
  );
});
