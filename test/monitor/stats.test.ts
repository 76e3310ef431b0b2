/**
 * Drift statistics: parity with scipy (test/fixtures/monitor/stats.json from scripts/fixtures/monitor/stats.py), a PSI
 * worked by hand, and synthetic shifts — KS power at a stated shift and size, its false-alarm rate within a binomial
 * bound, Evidently's choice of test, and the MMD permutation test on embeddings.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { kolmogorovSf, ksTwoSample } from "../../src/monitor/ks.js";
import {
  chiSquare,
  chooseTest,
  driftTest,
  evidentlyBins,
  fillZeros,
  jensenShannon,
  psi,
  sturgesEdges,
  wasserstein,
  wassersteinNormed,
  zTest,
} from "../../src/monitor/stats.js";
import { medianSigma, mmdTest } from "../../src/monitor/mmd.js";
import { chi2Sf, lgamma } from "../../src/monitor/special.js";
import { Rng } from "../../src/util/rng.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const fx = JSON.parse(readFileSync(join(root, "test", "fixtures", "monitor", "stats.json"), "utf8"));

function close(actual: number, expected: number, rel: number, what: string): void {
  const tol = rel * Math.max(Math.abs(expected), 1e-300) + 1e-15;
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs scipy ${expected}`);
}

function normals(rng: Rng, n: number, mean = 0, std = 1): number[] {
  return Array.from({ length: n }, () => rng.normal(mean, std));
}

test("special functions: lgamma and the chi-square tail at known values", () => {
  close(lgamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-13, "lgamma(1/2)");
  close(lgamma(10), Math.log(362880), 1e-13, "lgamma(10)");
  close(chi2Sf(3.841458820694124, 1), 0.05, 1e-9, "chi2 sf df=1");
  close(chi2Sf(18.307038053275146, 10), 0.05, 1e-9, "chi2 sf df=10");
  close(chi2Sf(0.5, 4), Math.exp(-0.25) * (1 + 0.25), 1e-12, "chi2 sf df=4 closed form");
});

test("KS statistic and p-value match scipy.stats.ks_2samp (exact, auto and asymp)", () => {
  for (const c of fx.ks) {
    const r = ksTwoSample(c.a, c.b, c.method);
    close(r.statistic, c.statistic, 1e-12, `D (${c.a.length}x${c.b.length}, ${c.method})`);
    close(r.pValue, c.pvalue, 1e-7, `p (${c.a.length}x${c.b.length}, ${c.method})`);
    if (c.method !== "asymp") assert.equal(r.method, "exact");
  }
});

test("the Kolmogorov distribution's tail matches scipy.stats.kstwo.sf in each of its branches", () => {
  for (const c of fx.kstwo) close(kolmogorovSf(c.n, c.x), c.sf, 1e-6, `kstwo.sf(${c.x}, ${c.n})`);
});

test("chi-square, Jensen-Shannon, Wasserstein and Sturges edges match scipy/numpy", () => {
  for (const c of fx.chisquare) {
    const r = chiSquare(c.ref, c.cur);
    close(r.statistic, c.statistic, 1e-12, "chi2 statistic");
    close(r.pValue, c.pvalue, 1e-9, "chi2 p");
  }
  for (const c of fx.sturges) {
    const e = sturgesEdges([...c.a, ...c.b]);
    assert.equal(e.length, c.edges.length);
    e.forEach((v, i) => close(v, c.edges[i], 1e-12, `edge ${i}`));
  }
  for (const c of fx.js) close(jensenShannon(c.a, c.b), c.distance, 1e-9, "JS distance");
  for (const c of fx.wasserstein) {
    close(wasserstein(c.a, c.b), c.distance, 1e-9, "W1");
    close(wassersteinNormed(c.a, c.b), c.normed, 1e-9, "W1 normed");
  }
});

test("PSI by reference deciles with Evidently's epsilon matches numpy", () => {
  for (const c of fx.psi) close(psi(c.a, c.b).value, c.psi, 1e-9, "PSI");
});

test("PSI of a tiny example worked by hand", () => {
  // reference 1..10 in 2 quantile bins: median 5.5, bins (-inf, 5.5] and (5.5, inf): shares 0.5 / 0.5.
  // current [1, 2, 3, 9]: shares 0.75 / 0.25.
  // PSI = (0.5-0.75) ln(0.5/0.75) + (0.5-0.25) ln(0.5/0.25) = 0.25 ln 1.5 + 0.25 ln 2
  const ref = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const r = psi(ref, [1, 2, 3, 9], { bins: 2 });
  close(r.value, 0.25 * Math.log(1.5) + 0.25 * Math.log(2), 1e-14, "PSI");
  assert.deepEqual(r.binned.bins, [Number.NEGATIVE_INFINITY, 5.5, Number.POSITIVE_INFINITY]);
  // an empty current bin takes Evidently's 0.0001: current all <= 5.5 → shares (1, 0.0001)
  const e = psi(ref, [1, 2], { bins: 2 });
  close(e.value, (0.5 - 1) * Math.log(0.5 / 1) + (0.5 - 0.0001) * Math.log(0.5 / 0.0001), 1e-14, "PSI, empty bin");
  // the smaller epsilon when the smallest non-zero share is <= 0.0001
  assert.deepEqual(fillZeros([0, 0.00005, 0.99995]), [0.00005 / 1e6, 0.00005, 0.99995]);
  // identical samples: 0; categorical PSI
  assert.equal(psi(ref, ref, { bins: 4 }).value, 0);
  close(
    psi(["a", "a", "b", "b"], ["a", "b", "b", "b"], { binning: "category" }).value,
    (0.5 - 0.25) * Math.log(2) + (0.5 - 0.75) * Math.log(0.5 / 0.75),
    1e-14,
    "categorical PSI",
  );
});

test("Evidently's choice of test by size, type and number of values", () => {
  const r = new Rng(1);
  const small = normals(r, 200),
    big = normals(r, 1500);
  assert.equal(chooseTest(small, small, "num"), "ks");
  assert.equal(chooseTest(big, small, "num"), "wasserstein");
  assert.equal(chooseTest([1, 2, 3, 1, 2], [3, 4, 5], "num"), "chisquare");
  assert.equal(chooseTest([0, 1, 1], [1, 0], "num"), "z");
  assert.equal(chooseTest(["a", "b", "c"], ["a"], "cat"), "chisquare");
  assert.equal(chooseTest(["a", "b"], ["a"], "cat"), "z");
  assert.equal(chooseTest(Array(1001).fill("a"), ["b"], "cat"), "jensenshannon");
  assert.equal(
    chooseTest(
      Array.from({ length: 1001 }, (_, i) => i % 3),
      [1],
      "num",
    ),
    "jensenshannon",
  );
  // a drifted categorical distribution is flagged by chi-square and by JS on a big reference
  const ref = Array.from({ length: 300 }, (_, i) => ["a", "b", "c"][i % 3]!);
  const cur = Array.from({ length: 300 }, (_, i) => (i % 10 < 6 ? "a" : i % 10 < 8 ? "b" : "c"));
  assert.equal(driftTest(ref, cur, "cat").drift, true);
  assert.equal(driftTest(ref, ref.slice(0, 150), "cat").drift, false);
  const bigRef = Array.from({ length: 3000 }, (_, i) => ["a", "b", "c"][i % 3]!);
  const js = driftTest(bigRef, cur, "cat");
  assert.equal(js.test, "jensenshannon");
  assert.equal(js.drift, true);
  // z-test: 50% vs 80% positives
  const z = zTest([...Array(50).fill(1), ...Array(50).fill(0)], [...Array(80).fill(1), ...Array(20).fill(0)]);
  assert.ok(z.pValue < 0.001, `z-test p ${z.pValue}`);
  // evidentlyBins: few distinct reference values → one bin per value
  assert.deepEqual(evidentlyBins([1, 1, 2], [2, 3], "num").bins, ["1", "2", "3"]);
});

test("KS finds a 0.5σ mean shift with n = 200 in at least 95 of 100 seeded draws", () => {
  // power of the two-sided KS test at α = 0.05, n = m = 200, shift 0.5σ is about 0.99 (normal approximation)
  const rng = new Rng(2026);
  let found = 0;
  for (let i = 0; i < 100; i++) {
    const r = driftTest(normals(rng, 200), normals(rng, 200, 0.5), "num");
    assert.equal(r.test, "ks");
    if (r.drift) found++;
  }
  assert.ok(found >= 95, `KS found the shift in ${found} of 100 draws`);
});

test("KS does not alarm on unshifted samples beyond its level (alpha 0.05, 200 draws, binomial bound)", () => {
  // under the null the exact test's false alarms are Binomial(200, <= 0.05): mean 10, P(X > 19) < 0.5%
  const rng = new Rng(7);
  let alarms = 0;
  for (let i = 0; i < 200; i++) if (driftTest(normals(rng, 200), normals(rng, 150), "num").drift) alarms++;
  assert.ok(alarms <= 19, `${alarms} false alarms in 200 unshifted draws`);
  assert.ok(alarms >= 1, `no false alarm at all in 200 draws: the test is far more conservative than its level`);
});

test("wasserstein on a big reference: a 0.5σ shift drifts, an unshifted sample does not", () => {
  const rng = new Rng(3);
  const ref = normals(rng, 2000);
  const shifted = driftTest(ref, normals(rng, 500, 0.5), "num");
  assert.equal(shifted.test, "wasserstein");
  assert.equal(shifted.drift, true);
  assert.equal(driftTest(ref, normals(rng, 500), "num").drift, false);
});

test("MMD permutation test flags shifted embeddings and not an unshifted sample; seeded and reproducible", () => {
  const rng = new Rng(11);
  const vecs = (n: number, shift: number) =>
    Array.from({ length: n }, () => Float32Array.from({ length: 8 }, (_, k) => rng.normal(k === 0 ? shift : 0, 1)));
  const ref = vecs(100, 0);
  const shifted = mmdTest(ref, vecs(80, 1), { seed: 1 });
  assert.equal(shifted.drift, true);
  assert.equal(shifted.pValue, 0);
  assert.ok(shifted.mmd2 > shifted.threshold);
  const cur = vecs(80, 0);
  assert.deepEqual(mmdTest(ref, cur, { seed: 5 }), mmdTest(ref, cur, { seed: 5 }));
  // under the null p is about uniform: at alpha 0.05, 40 unshifted draws alarm about Binomial(40, 0.05) times
  // (mean 2, P(X > 6) < 0.5%)
  let alarms = 0;
  for (let i = 0; i < 40; i++) if (mmdTest(ref, vecs(60, 0), { seed: i }).drift) alarms++;
  assert.ok(alarms <= 6, `${alarms} MMD false alarms in 40 unshifted draws`);
});

test("MMD pieces by hand: median bandwidth and the unbiased MMD² of a tiny sample", () => {
  // reference on a line at 0, 1, 3: squared distances 1, 4, 9 (each twice) and three zeros; sorted
  // [0,0,0,1,1,4,4,9,9], index n + (n²-n)/2 - 1 = 3 + 3 - 1 = 5 → 4, sigma = sqrt(4/2)
  const ref = [[0], [1], [3]];
  assert.equal(medianSigma(ref), Math.sqrt(2));
  const cur = [[0], [2]];
  const k = (a: number, b: number) => Math.exp(-((a - b) ** 2) / (2 * 2));
  const xx = (2 * (k(0, 1) + k(0, 3) + k(1, 3))) / 6;
  const yy = (2 * k(0, 2)) / 2;
  const xy = (2 * [0, 1, 3].reduce((s, a) => s + k(a, 0) + k(a, 2), 0)) / 6;
  close(mmdTest(ref, cur, { permutations: 10 }).mmd2, xx + yy - xy, 1e-14, "MMD²");
  assert.throws(
    () =>
      mmdTest(ref, [
        [1, 2],
        [3, 4],
      ]),
    /dimensions/,
  );
});
