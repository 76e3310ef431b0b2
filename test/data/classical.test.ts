import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { readExamples } from "../../src/data/readers/examples.js";
import { TfidfVectorizer, type TfidfOptions } from "../../src/data/features/tfidf.js";
import { CsrMatrix } from "../../src/data/features/sparse.js";
import { makeClassifier, classifierFromJSON, type ClassifierKind } from "../../src/data/classical/model.js";
import { LogisticRegression } from "../../src/data/classical/logistic.js";
import { lbfgs } from "../../src/data/classical/lbfgs.js";
import { fixture } from "./fixtures.js";

interface ModelFix {
  predictions: string[];
  accuracy: number;
  proba?: number[][];
}
interface SetFix {
  name: string;
  tfidf: TfidfOptions;
  classes: string[];
  models: Record<ClassifierKind, ModelFix>;
}
const FIX = JSON.parse(readFileSync(fixture("classical_sklearn.json"), "utf8")) as { sets: SetFix[] };

async function load(set: SetFix) {
  const train = (await readExamples(fixture(`${set.name}_train.tsv`))).examples;
  const test = (await readExamples(fixture(`${set.name}_test.tsv`))).examples;
  const vec = new TfidfVectorizer(set.tfidf);
  const xTrain = vec.fitTransform(train.map((e) => e.text));
  const xTest = vec.transform(test.map((e) => e.text));
  const id = (l: string | number | undefined): number => set.classes.indexOf(String(l));
  return {
    xTrain,
    xTest,
    yTrain: Int32Array.from(train, (e) => id(e.label)),
    yTest: Int32Array.from(test, (e) => id(e.label)),
  };
}

for (const set of FIX.sets) {
  for (const kind of ["logreg", "nb", "svm"] as const) {
    test(`${kind} on ${set.name} agrees with scikit-learn 1.2`, async () => {
      const { xTrain, xTest, yTrain, yTest } = await load(set);
      const model = makeClassifier(kind, { seed: 1 }).fit(xTrain, yTrain, set.classes.length);
      const pred = model.predict(xTest);
      const want = set.models[kind];
      let same = 0,
        correct = 0;
      pred.forEach((p, i) => {
        if (set.classes[p] === want.predictions[i]) same++;
        if (p === yTest[i]) correct++;
      });
      const agreement = same / pred.length;
      const accuracy = correct / pred.length;
      // the bar: at least 99% identical predictions and accuracy within half a point
      assert.ok(agreement >= 0.99, `${kind}/${set.name}: ${(agreement * 100).toFixed(2)}% identical predictions`);
      assert.ok(
        Math.abs(accuracy - want.accuracy) <= 0.005,
        `${kind}/${set.name}: accuracy ${accuracy} vs scikit-learn ${want.accuracy}`,
      );
      if (want.proba && model.predictProba) {
        const p = model.predictProba(xTest);
        const K = set.classes.length;
        let maxDiff = 0;
        want.proba.forEach((row, i) =>
          row.forEach((q, k) => (maxDiff = Math.max(maxDiff, Math.abs(p[i * K + k]! - q)))),
        );
        // NB is closed-form (equal to rounding); LR differs only by where each solver stops
        assert.ok(
          maxDiff <= (kind === "nb" ? 1e-9 : 1e-3),
          `${kind}/${set.name}: probabilities differ by up to ${maxDiff}`,
        );
      }
      const back = classifierFromJSON(JSON.parse(JSON.stringify(model.toJSON())));
      assert.deepEqual(back.predict(xTest), pred, "a saved model predicts the same");
    });
  }
}

test("L-BFGS minimizes the Rosenbrock function", () => {
  const r = lbfgs(
    (x, g) => {
      const [a, b] = [x[0]!, x[1]!];
      g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
      g[1] = 200 * (b - a * a);
      return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
    },
    Float64Array.from([-1.2, 1]),
    { gtol: 1e-9, ftol: 0 },
  );
  assert.equal(r.reason, "gtol");
  assert.ok(Math.abs(r.x[0]! - 1) < 1e-6 && Math.abs(r.x[1]! - 1) < 1e-6, `ended at ${Array.from(r.x)}`);
});

test("multinomial logistic regression reaches a stationary point and fits separable toy data", () => {
  const x = CsrMatrix.fromDense([
    [1, 0, 2],
    [0, 1, 0],
    [1, 1, 0],
    [0, 0, 1],
    [2, 0, 0],
    [0, 2, 1],
  ]);
  const y = Int32Array.from([0, 1, 2, 0, 2, 1]);
  const m = new LogisticRegression({ C: 10, tol: 1e-10 }).fit(x, y, 3);
  assert.ok(m.info!.converged && m.info!.gradMax <= 1e-8, JSON.stringify(m.info));
  const p = m.predictProba(x);
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(p[i * 3]! + p[i * 3 + 1]! + p[i * 3 + 2]! - 1) < 1e-12);
  assert.deepEqual(Array.from(m.predict(x)), Array.from(y));
});

test("classifiers reject labels that do not fit the classes", () => {
  const x = CsrMatrix.fromDense([[1], [2]]);
  assert.throws(() => makeClassifier("logreg").fit(x, Int32Array.from([0, 0]), 2), /class 1 never occurs/);
  assert.throws(() => makeClassifier("nb").fit(x, Int32Array.from([0, 3]), 2), /label 3 at row 1 is outside \[0, 2\)/);
  assert.throws(() => makeClassifier("svm").fit(x, Int32Array.from([0]), 2), /2 rows but 1 labels/);
  assert.throws(
    () => makeClassifier("nb").fit(CsrMatrix.fromDense([[-1], [1]]), Int32Array.from([0, 1]), 2),
    /non-negative/,
  );
});
