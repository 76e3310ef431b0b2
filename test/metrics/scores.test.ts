/** ROC/PR curves, AUCs, top-k, log loss against scikit-learn (fixtures from scripts/fixtures/metrics/classification.py). */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  rocCurve,
  precisionRecallCurve,
  rocAuc,
  averagePrecision,
  topKAccuracy,
  logLoss,
  brierScore,
  expectedCalibrationError,
  calibrationError,
  type ScoreAverage,
} from "../../src/metrics/classification/index.js";
import { captureWarnings } from "../../src/metrics/warnings.js";
import { close, fixture } from "./helpers.js";

const fx = fixture("classification.json");
type Ref = { value?: any; error?: string };

function check(ref: Ref, fn: () => unknown, msg: string, tol?: number): void {
  if (ref.error !== undefined) {
    assert.throws(() => captureWarnings(fn), Error, `${msg}: sklearn raised "${ref.error}", we did not`);
    return;
  }
  close(captureWarnings(fn).value, ref.value, msg, tol);
}

/** scikit-learn 1.2 starts the ROC thresholds at max + 1; ≥ 1.3 (and we) at Infinity. */
function roc(ref: Ref, fn: () => { fpr: number[]; tpr: number[]; thresholds: number[] }, msg: string): void {
  const r = fn();
  const [fpr, tpr, th] = ref.value as number[][];
  close([r.fpr, r.tpr, r.thresholds.slice(1)], [fpr, tpr, th!.slice(1)], msg);
  assert.equal(r.thresholds[0], Infinity);
}

test("binary ROC and PR curves with ties and weights match scikit-learn", () => {
  const s = fx.scores;
  roc(s.roc_True, () => rocCurve(s.yTrue, s.yScore), "roc");
  roc(s.roc_False, () => rocCurve(s.yTrue, s.yScore, { dropIntermediate: false }), "roc (all thresholds)");
  roc(s.rocWeighted, () => rocCurve(s.yTrue, s.yScore, { sampleWeight: s.sampleWeight }), "weighted roc");
  check(
    s.pr,
    () => {
      const r = precisionRecallCurve(s.yTrue, s.yScore);
      return [r.precision, r.recall, r.thresholds];
    },
    "pr curve",
  );
  check(
    s.prWeighted,
    () => {
      const r = precisionRecallCurve(s.yTrue, s.yScore, { sampleWeight: s.sampleWeight });
      return [r.precision, r.recall, r.thresholds];
    },
    "weighted pr curve",
  );
});

test("binary ROC AUC, partial AUC, average precision, Brier and log loss match scikit-learn", () => {
  const s = fx.scores;
  check(s.rocAuc, () => rocAuc(s.yTrue, s.yScore), "roc auc", 0);
  check(s.rocAucWeighted, () => rocAuc(s.yTrue, s.yScore, { sampleWeight: s.sampleWeight }), "weighted roc auc");
  check(s.rocAucContinuous, () => rocAuc(s.yTrue, s.yScoreContinuous), "roc auc continuous", 0);
  for (const mf of [0.1, 0.35, 0.8])
    check(s[`rocAucMaxFpr_${mf}`], () => rocAuc(s.yTrue, s.yScore, { maxFpr: mf }), `partial auc ${mf}`);
  check(s.ap, () => averagePrecision(s.yTrue, s.yScore), "average precision");
  check(
    s.apWeighted,
    () => averagePrecision(s.yTrue, s.yScore, { sampleWeight: s.sampleWeight }),
    "weighted average precision",
  );
  check(s.apPos0, () => averagePrecision(s.yTrue, s.yScore, { posLabel: 0 }), "average precision of class 0");
  check(s.apContinuous, () => averagePrecision(s.yTrue, s.yScoreContinuous), "average precision continuous");
  check(s.brier, () => brierScore(s.yTrue, s.yScore), "brier");
  check(s.logLoss, () => logLoss(s.yTrue, s.yScore), "log loss");
  check(s.logLossWeighted, () => logLoss(s.yTrue, s.yScore, { sampleWeight: s.sampleWeight }), "weighted log loss");
  check(s.topK1Continuous, () => topKAccuracy(s.yTrue, s.yScoreContinuous, { k: 1 }), "binary top-1 (threshold 0)");
  check(s.topK1Probs, () => topKAccuracy(s.yTrue, s.yScore, { k: 1 }), "binary top-1 (threshold 0.5)");
  check(s.singleClassRocAuc, () => rocAuc([1, 1, 1], [0.2, 0.5, 0.9]), "single class");
  assert.throws(() => rocAuc([1, 1, 1], [0.2, 0.5, 0.9]), /only one class \(1\) is present in yTrue/);
});

test("multiclass ROC AUC (ovr, ovo), top-k, log loss and average precision match scikit-learn", () => {
  const m = fx.multiclass;
  for (const mc of ["ovr", "ovo"] as const) {
    for (const avg of ["macro", "weighted", "micro", null] as (ScoreAverage | null)[]) {
      check(
        m[`rocAuc_${mc}_${avg ?? "None"}`],
        () => rocAuc(m.yTrue, m.yProb, { multiClass: mc, average: avg }),
        `roc auc ${mc} ${avg}`,
      );
    }
  }
  for (const k of [1, 2, 3]) check(m[`topK_${k}`], () => topKAccuracy(m.yTrue, m.yProb, { k }), `top-${k}`);
  check(m.logLoss, () => logLoss(m.yTrue, m.yProb), "log loss");
  // scikit-learn 1.2 refuses multiclass average precision (later versions score it one-vs-rest):
  // it must equal the multilabel score of the binarized targets, which the fixtures pin down.
  const onehot = (m.yTrue as number[]).map((c) => [0, 1, 2, 3].map((k) => (k === c ? 1 : 0)));
  for (const avg of ["macro", "weighted", "micro"] as ScoreAverage[]) {
    close(
      averagePrecision(m.yTrue, m.yProb, { average: avg }),
      averagePrecision(onehot, m.yProb, { average: avg }),
      `ap ${avg}`,
    );
  }
  check(
    m.rocAucMissingLabel,
    () => rocAuc(m.yTrueMissing, m.yProb, { multiClass: "ovo", labels: [0, 1, 2, 3] }),
    "ovo with an absent class",
  );
  check(m.logLossLabels, () => logLoss(m.yTrueMissing, m.yProb, { labels: [0, 1, 2, 3] }), "log loss with labels");
  check(m.topKLabels, () => topKAccuracy(m.yTrueMissing, m.yProb, { k: 2, labels: [0, 1, 2, 3] }), "top-k with labels");
  assert.throws(() => rocAuc(m.yTrue, m.yProb), /multiClass: "ovr" or "ovo"/);
  assert.throws(
    () =>
      rocAuc(
        [0, 1, 2],
        [
          [0.5, 0.6, 0.1],
          [0.2, 0.2, 0.6],
          [0.1, 0.1, 0.8],
        ],
        { multiClass: "ovr" },
      ),
    /sums to 1.2/,
  );
});

test("multilabel ROC AUC and average precision match scikit-learn for every average", () => {
  const m = fx.multilabelScores;
  for (const avg of ["micro", "macro", "weighted", "samples", null] as (ScoreAverage | null)[]) {
    check(m[`rocAuc_${avg ?? "None"}`], () => rocAuc(m.yTrue, m.yScore, { average: avg }), `roc auc ${avg}`);
    check(m[`ap_${avg ?? "None"}`], () => averagePrecision(m.yTrueAp, m.yScore, { average: avg }), `ap ${avg}`);
  }
});

test("ROC AUC equals the Mann-Whitney probability that a positive outranks a negative (ties count half)", () => {
  const y = [0, 0, 1, 1, 0, 1, 0, 1, 1, 0];
  const s = [0.1, 0.4, 0.4, 0.8, 0.3, 0.3, 0.9, 0.5, 0.2, 0.5];
  let wins = 0,
    pairs = 0;
  for (let i = 0; i < y.length; i++)
    for (let j = 0; j < y.length; j++) {
      if (y[i] !== 1 || y[j] !== 0) continue;
      pairs++;
      wins += s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0;
    }
  close(rocAuc(y, s), wins / pairs);
  // string labels: the greater label ("spam") is the positive class
  close(
    rocAuc(
      y.map((v) => (v ? "spam" : "ham")),
      s,
    ),
    wins / pairs,
  );
});

test("expected calibration error follows its definition", () => {
  // Two bins used: [0.2, 0.267) holds {0.2, 0.25} with 1 hit; [0.8, 0.867) holds {0.8, 0.85} with 2 hits.
  const y = [1, 0, 1, 1];
  const p = [0.2, 0.25, 0.8, 0.85];
  const expected = 0.5 * Math.abs(0.5 - 0.225) + 0.5 * Math.abs(1 - 0.825);
  close(expectedCalibrationError(y, p), expected);
  const r = calibrationError(y, p, { norm: "max" });
  close(r.value, 0.275);
  assert.equal(r.bins.length, 2);
  // Multiclass: confidence is the top probability, the outcome whether the top class is right.
  close(
    expectedCalibrationError(
      [0, 1],
      [
        [0.9, 0.1],
        [0.7, 0.3],
      ],
      { nBins: 10 },
    ),
    0.5 * 0.1 + 0.5 * 0.7,
  );
});

test("log loss refuses labels it cannot place and warns on unnormalised rows", () => {
  assert.throws(() => logLoss([0, 0], [0.2, 0.3]), /only one label/);
  assert.throws(
    () =>
      logLoss(
        [0, 1, 5],
        [
          [0.5, 0.5],
          [0.5, 0.5],
          [0.5, 0.5],
        ],
        { labels: [0, 1] },
      ),
    /yTrue\[2\] = 5 is not one of the labels/,
  );
  const { warnings } = captureWarnings(() =>
    logLoss(
      [0, 1, 2],
      [
        [0.5, 0.5, 0.5],
        [0.2, 0.5, 0.3],
        [0.2, 0.3, 0.5],
      ],
    ),
  );
  assert.match(warnings[0]!, /do not sum to one/);
});

test("zero sample weights: both classes must occur (sklearn's check), an emptied class gives NaN with a warning", () => {
  const { value, warnings } = captureWarnings(() => rocAuc([1, 0, 1], [0.2, 0.5, 0.9], { sampleWeight: [0, 1, 0] }));
  assert.ok(Number.isNaN(value as number));
  assert.match(warnings.join("\n"), /No positive samples/);
  assert.throws(() => averagePrecision([1, 0], [0.2, 0.5], { sampleWeight: [0, 0] }), /every sample weight is zero/);
});
