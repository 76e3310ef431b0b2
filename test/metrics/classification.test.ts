/** Classification metrics against scikit-learn (fixtures from scripts/fixtures/metrics/classification.py). */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  accuracy,
  balancedAccuracy,
  confusionMatrix,
  matthewsCorrcoef,
  cohenKappa,
  hammingLoss,
  precisionRecallFscoreSupport,
  classificationReport,
  multilabelConfusionMatrix,
  type Average,
  type Label,
  type ZeroDivision,
} from "../../src/metrics/classification/index.js";
import { captureWarnings } from "../../src/metrics/warnings.js";
import { close, fixture } from "./helpers.js";

const fx = fixture("classification.json");

type Ref = { value?: unknown; error?: string };

/** Runs fn silently; checks it throws when the reference raised, else that it matches. */
function check(ref: Ref, fn: () => unknown, msg: string, tol?: number): void {
  if (ref.error !== undefined) {
    assert.throws(() => captureWarnings(fn), Error, `${msg}: sklearn raised "${ref.error}", we did not`);
    return;
  }
  const { value } = captureWarnings(fn);
  close(value, ref.value, msg, tol);
}

for (const c of fx.labelCases) {
  test(`label metrics match scikit-learn: ${c.name}`, () => {
    const sw = c.sampleWeight as number[] | undefined;
    const labels = c.labels as Label[] | undefined;
    check(c.accuracy, () => accuracy(c.yTrue, c.yPred, { sampleWeight: sw }), "accuracy");
    check(c.accuracyCount, () => accuracy(c.yTrue, c.yPred, { sampleWeight: sw, normalize: false }), "accuracy count");
    check(c.balancedAccuracy, () => balancedAccuracy(c.yTrue, c.yPred, { sampleWeight: sw }), "balanced accuracy");
    check(
      c.balancedAccuracyAdjusted,
      () => balancedAccuracy(c.yTrue, c.yPred, { sampleWeight: sw, adjusted: true }),
      "adjusted balanced accuracy",
    );
    check(
      c.confusion,
      () => confusionMatrix(c.yTrue, c.yPred, { sampleWeight: sw, labels }).matrix,
      "confusion matrix",
    );
    for (const norm of ["true", "pred", "all"] as const) {
      check(
        c[`confusion_${norm}`],
        () => confusionMatrix(c.yTrue, c.yPred, { sampleWeight: sw, labels, normalize: norm }).matrix,
        `confusion ${norm}`,
      );
    }
    check(c.mcc, () => matthewsCorrcoef(c.yTrue, c.yPred, { sampleWeight: sw }), "mcc");
    for (const w of [undefined, "linear", "quadratic"] as const) {
      check(
        c[`kappa_${w ?? "None"}`],
        () => cohenKappa(c.yTrue, c.yPred, { weights: w, sampleWeight: sw, labels }),
        `kappa ${w}`,
        1e-11,
      );
    }
    check(c.hamming, () => hammingLoss(c.yTrue, c.yPred, { sampleWeight: sw }), "hamming");
    for (const avg of [null, "binary", "micro", "macro", "weighted"] as (Average | null)[]) {
      for (const zd of ["warn", 0, 1] as ZeroDivision[]) {
        for (const beta of [1, 0.5, 2]) {
          const ref = c[`prf_${avg ?? "None"}_${zd}_${beta}`] as Ref;
          check(
            ref,
            () => {
              const r = precisionRecallFscoreSupport(c.yTrue, c.yPred, {
                beta,
                average: avg as Average,
                zeroDivision: zd,
                posLabel: c.posLabel,
                sampleWeight: sw,
                labels,
              });
              return avg === null
                ? [(r as any).precision, (r as any).recall, (r as any).fscore, (r as any).support]
                : [r.precision, r.recall, r.fscore];
            },
            `prf average=${avg} zeroDivision=${zd} beta=${beta}`,
          );
        }
      }
    }
    const rep = c.report as Ref;
    if (rep.error === undefined) {
      const { value: r } = captureWarnings(() =>
        classificationReport(c.yTrue, c.yPred, { sampleWeight: sw, labels, zeroDivision: 0, digits: 3 }),
      );
      const expected = rep.value as Record<string, any>;
      for (const [name, row] of [...r.classes, ...r.averages]) {
        if (name === "accuracy") close(r.accuracy, expected.accuracy, "report accuracy");
        else
          close(
            [row.precision, row.recall, row.f1, row.support],
            [expected[name].precision, expected[name].recall, expected[name]["f1-score"], expected[name].support],
            `report ${name}`,
          );
      }
      assert.equal(Object.keys(expected).length, r.classes.length + r.averages.length);
      assert.equal(r.text, (c.reportText as Ref).value, "report text");
    }
  });
}

test("multilabel metrics match scikit-learn", () => {
  const m = fx.multilabel;
  check(m.accuracy, () => accuracy(m.yTrue, m.yPred), "subset accuracy");
  check(m.hamming, () => hammingLoss(m.yTrue, m.yPred), "hamming");
  for (const avg of [null, "micro", "macro", "weighted", "samples"] as (Average | null)[]) {
    for (const zd of ["warn", 0, 1] as ZeroDivision[]) {
      check(
        m[`prf_${avg ?? "None"}_${zd}`],
        () => {
          const r = precisionRecallFscoreSupport(m.yTrue, m.yPred, { average: avg as Average, zeroDivision: zd });
          return avg === null
            ? [(r as any).precision, (r as any).recall, (r as any).fscore, (r as any).support]
            : [r.precision, r.recall, r.fscore];
        },
        `multilabel prf ${avg} ${zd}`,
      );
    }
  }
  check(m.mcm, () => multilabelConfusionMatrix(m.yTrue, m.yPred).matrices, "multilabel confusion matrix");
  const { value: r } = captureWarnings(() => classificationReport(m.yTrue, m.yPred, { zeroDivision: 0 }));
  const expected = m.report.value as Record<string, any>;
  for (const [name, row] of [...r.classes, ...r.averages]) close(row.f1, expected[name]["f1-score"], `report ${name}`);
});

test("zero division: warn gives 0 with a warning, 1 and NaN are used as given", () => {
  const { value, warnings } = captureWarnings(() =>
    precisionRecallFscoreSupport([0, 1, 0], [0, 0, 0], { average: "binary" }),
  );
  assert.deepEqual(value, { precision: 0, recall: 0, fscore: 0 });
  assert.match(warnings[0]!, /Precision is ill-defined.*no predicted samples/);
  const one = captureWarnings(() =>
    precisionRecallFscoreSupport([0, 1, 0], [0, 0, 0], { average: "binary", zeroDivision: 1 }),
  );
  assert.deepEqual(one.value, { precision: 1, recall: 0, fscore: 0 });
  assert.deepEqual(one.warnings, []);
  // NaN entries are left out of averages (scikit-learn ≥ 1.3).
  const nan = precisionRecallFscoreSupport([0, 1, 2], [0, 1, 1], { average: "macro", zeroDivision: NaN });
  close(nan.precision, (1 + 0.5) / 2);
});

test("mixing label types, continuous labels and length mismatches are clear errors", () => {
  assert.throws(() => accuracy([0, 1], ["0", "1"]), /yTrue has number labels but yPred has string labels/);
  assert.throws(() => accuracy([0.5, 1], [0, 1]), /continuous value/);
  assert.throws(() => accuracy([0, 1, 1], [0, 1]), /yTrue has 3 samples but yPred has 2/);
  assert.throws(
    () => precisionRecallFscoreSupport([0, 1, 2], [0, 1, 2], { average: "binary" }),
    /multiclass but average is "binary"/,
  );
  assert.throws(
    () => precisionRecallFscoreSupport(["a", "b"], ["a", "b"], { average: "binary" }),
    /posLabel=1 is not a valid label/,
  );
});
