import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../../src/util/rng.js";
import {
  averagePathLength,
  calibrate,
  fitDetector,
  ledoitWolf,
  mahalanobis,
  nearestDistance,
  scoreDetector,
  semiSupervisedScores,
  type Rows,
} from "../../src/data/anomaly/index.js";
import { ROOT } from "./fixtures.js";

interface LwCase {
  n: number;
  d: number;
  x: number[];
  location: number[];
  covariance: number[];
  shrinkage: number;
  precision: number[];
  mahalanobis: number[];
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

test("Ledoit-Wolf matches scikit-learn's LedoitWolf to 1e-9 (n > d and n < d)", () => {
  const fix = JSON.parse(readFileSync(join(ROOT, "test/fixtures/anomaly/ledoit_wolf.json"), "utf8")) as {
    cases: LwCase[];
  };
  for (const c of fix.cases) {
    const x = Float64Array.from(c.x);
    const lw = ledoitWolf(x, c.n, c.d);
    close([lw.shrinkage], [c.shrinkage], 1e-9, "shrinkage");
    close(lw.location, c.location, 1e-9, "location");
    close(lw.covariance, c.covariance, 1e-9, "covariance");
    close(lw.precision, c.precision, 1e-9, "precision");
    close(mahalanobis(lw, x, c.n), c.mahalanobis, 1e-9, "mahalanobis");
  }
});

/** 300 correlated normal rows in 5 dimensions (near the diagonal) and 6 planted outliers far off it. */
function planted(): { rows: Rows; outliers: number[] } {
  const rng = new Rng(3);
  const n = 306,
    d = 5;
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    for (let j = 0; j < d; j++) x[i * d + j] = z + 0.3 * rng.normal();
  }
  const outliers = [300, 301, 302, 303, 304, 305];
  // each outlier on its own, off the diagonal the normal rows follow: signs by the bits of its number
  outliers.forEach((i, k) => {
    for (let j = 0; j < d; j++) x[i * d + j] = ((k + 1) >> j) & 1 ? 4.5 : -4.5;
  });
  return { rows: { x, n, d }, outliers };
}

const top = (scores: Float64Array, k: number) =>
  Array.from(scores.keys())
    .sort((a, b) => scores[b] - scores[a])
    .slice(0, k)
    .sort((a, b) => a - b);

for (const kind of ["mahalanobis", "iforest", "knn"] as const) {
  test(`${kind} ranks planted outliers first`, () => {
    const { rows, outliers } = planted();
    const state = fitDetector(kind, rows, { seed: 1 });
    const scores = scoreDetector(state, rows, { training: true });
    assert.deepEqual(top(scores, outliers.length), outliers);
    // saved and reloaded, it scores the same
    const again = scoreDetector(JSON.parse(JSON.stringify(state)), rows, { training: true });
    close(again, scores, 1e-12, "reloaded");
  });
}

test("isolation forest: c(n) correction and scores in (0, 1) with outliers above 0.5", () => {
  assert.equal(averagePathLength(1), 0);
  assert.equal(averagePathLength(2), 1);
  // scikit-learn: 2 (ln 255 + γ) − 2·255/256
  assert.ok(Math.abs(averagePathLength(256) - (2 * (Math.log(255) + 0.5772156649015329) - (2 * 255) / 256)) < 1e-12);
  const { rows, outliers } = planted();
  const s = scoreDetector(fitDetector("iforest", rows, { seed: 2 }), rows);
  for (const v of s) assert.ok(v > 0 && v < 1);
  for (const i of outliers) assert.ok(s[i] > 0.5, `outlier ${i}: ${s[i]}`);
});

test("calibration flags the contamination share of the training scores", () => {
  const scores = Float64Array.from({ length: 1000 }, (_, i) => i);
  const t = calibrate(scores, 0.05);
  assert.equal(scores.filter((s) => s > t).length, 50);
  assert.throws(() => calibrate(scores, 0.7), /contamination/);
});

test("semi-supervised score: near a known anomaly ranks above an equally unusual row far from it", () => {
  const train = { x: Float64Array.from({ length: 200 }, (_, i) => Math.sin(i)), n: 100, d: 2 };
  const known = { x: Float64Array.from([5, 5]), n: 1, d: 2 };
  const rows = { x: Float64Array.from([5.2, 5.1, -5.2, -5.1]), n: 2, d: 2 };
  const det = fitDetector("mahalanobis", train);
  const s = semiSupervisedScores(
    { train: scoreDetector(det, train), rows: scoreDetector(det, rows) },
    { train: nearestDistance(train, known), rows: nearestDistance(rows, known) },
  );
  assert.ok(s[0] > s[1]);
});

test("bad input: non-finite features and a wrong width are named", () => {
  const { rows } = planted();
  const bad = { ...rows, x: rows.x.slice() };
  bad.x[7] = Number.NaN;
  assert.throws(() => fitDetector("mahalanobis", bad), /row 2, feature 3 is NaN/);
  const state = fitDetector("knn", rows);
  assert.throws(() => scoreDetector(state, { x: new Float64Array(4), n: 1, d: 4 }), /4 features.*fitted on 5/);
});
