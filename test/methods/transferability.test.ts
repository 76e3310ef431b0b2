/**
 * The transferability numerics: the symmetric eigendecomposition, LogME and LEEP against the published algorithms
 * (numpy reference values in test/fixtures/methods/logme.json, made by scripts/fixtures/methods/make_logme.py),
 * LogME preferring informative features to noise on planted data, the cross-validated probes, Kendall's τ-b.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Rng } from "../../src/util/rng.js";
import {
  choleskySolve,
  gram,
  kendallTau,
  knnScore,
  leep,
  linearProbeScore,
  logme,
  symmetricEigen,
  type Features,
} from "../../src/methods/index.js";

const fixture = JSON.parse(
  readFileSync(fileURLToPath(new URL("../../../test/fixtures/methods/logme.json", import.meta.url)), "utf8"),
) as {
  logme: {
    n: number;
    d: number;
    classes: number;
    x: number[];
    y: number[];
    logme: number;
    perClass: { evidence: number; alpha: number; beta: number }[];
  }[];
  leep: { z: number; classes: number; theta: number[]; y: number[]; leep: number };
};

const close = (a: number, b: number, rel: number, what: string) =>
  assert.ok(Math.abs(a - b) <= rel * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

function randomSymmetric(n: number, seed: number): Float64Array {
  const r = new Rng(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      const v = r.normal();
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  return a;
}

test("symmetricEigen: A = V diag(λ) Vᵀ with orthonormal V and ascending λ, on odd sizes and a repeated eigenvalue", () => {
  const cases: [Float64Array, number][] = [1, 2, 7, 30].map((n) => [randomSymmetric(n, n), n]);
  cases.push([Float64Array.from([2, 0, 0, 0, 2, 0, 0, 0, 5]), 3]); // repeated eigenvalue
  for (const [a, n] of cases) {
    const { values, vectors: V } = symmetricEigen(a, n);
    for (let i = 1; i < n; i++) assert.ok(values[i - 1] <= values[i]);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let vtv = 0;
        let rec = 0;
        for (let k = 0; k < n; k++) {
          vtv += V[k * n + i] * V[k * n + j];
          rec += V[i * n + k] * values[k] * V[j * n + k];
        }
        close(vtv, i === j ? 1 : 0, 1e-10, `VᵀV[${i},${j}] (n=${n})`);
        close(rec, a[i * n + j], 1e-10, `A[${i},${j}] (n=${n})`);
      }
  }
  assert.deepEqual(Array.from(symmetricEigen(Float64Array.from([2, 0, 0, 0, 2, 0, 0, 0, 5]), 3).values), [2, 2, 5]);
});

test("choleskySolve solves a positive definite system", () => {
  const n = 6;
  const r = new Rng(3);
  const b = Float64Array.from({ length: n * 4 }, () => r.normal());
  const x = Float64Array.from({ length: n * 10 }, () => r.normal());
  const a = gram(x, 10, n);
  const sol = choleskySolve(a, n, b, 2);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < 2; c++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * sol[k * 2 + c];
      close(s, b[i * 2 + c], 1e-9, `row ${i} col ${c}`);
    }
});

test("LogME equals the reference implementation's value (numpy), per class and on average, with n > d and n < d", () => {
  for (const c of fixture.logme) {
    const r = logme({ x: Float64Array.from(c.x), n: c.n, d: c.d, y: Int32Array.from(c.y), classes: c.classes });
    close(r.score, c.logme, 1e-9, `LogME n=${c.n} d=${c.d}`);
    r.perClass.forEach((p, i) => {
      close(p.evidence, c.perClass[i].evidence, 1e-9, `evidence of class ${i}`);
      close(p.alpha, c.perClass[i].alpha, 1e-7, `alpha of class ${i}`);
      close(p.beta, c.perClass[i].beta, 1e-7, `beta of class ${i}`);
    });
  }
});

test("LEEP equals the reference formula's value (numpy)", () => {
  const l = fixture.leep;
  close(leep(Float64Array.from(l.theta), l.z, Int32Array.from(l.y), l.classes), l.leep, 1e-12, "LEEP");
});

/** n examples of `classes` classes; `signal` scales the class centres against unit noise. */
function planted(n: number, d: number, classes: number, signal: number, seed: number, y?: Int32Array): Features {
  const r = new Rng(seed);
  const labels = y ?? Int32Array.from({ length: n }, (_, i) => i % classes);
  const centres = Array.from({ length: classes }, () => Array.from({ length: d }, () => r.normal() * signal));
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = centres[labels[i]][j] + r.normal();
  return { x, n, d, y: labels, classes };
}

test("LogME recovers the better of two feature sets on planted data (and the probes agree)", () => {
  for (const [n, d] of [
    [120, 8],
    [20, 32], // fewer examples than features: the dual form
  ]) {
    const good = planted(n, d, 3, 2, 1);
    const weak = planted(n, d, 3, 0.3, 2, good.y);
    const noise = planted(n, d, 3, 0, 3, good.y);
    const [g, w, z] = [good, weak, noise].map((f) => logme(f).score);
    assert.ok(g > w && w > z, `LogME good ${g} > weak ${w} > noise ${z} (n=${n}, d=${d})`);
  }
  const good = planted(150, 8, 3, 2, 4);
  const noise = planted(150, 8, 3, 0, 5, good.y);
  assert.ok(knnScore(good) > 0.9, `kNN on separable features ${knnScore(good)}`);
  assert.ok(knnScore(noise) < 0.6, `kNN on noise ${knnScore(noise)}`);
  assert.ok(linearProbeScore(good) > 0.9, `probe on separable features ${linearProbeScore(good)}`);
  assert.ok(linearProbeScore(noise) < 0.6, `probe on noise ${linearProbeScore(noise)}`);
});

test("LEEP prefers a source head whose labels map onto the target's", () => {
  const y = Int32Array.from({ length: 60 }, (_, i) => i % 2);
  const sharp = Float64Array.from({ length: 120 }, (_, k) => (k % 2 === y[Math.floor(k / 2)] ? 0.9 : 0.1));
  const flat = new Float64Array(120).fill(0.5);
  assert.ok(leep(sharp, 2, y, 2) > leep(flat, 2, y, 2));
  close(leep(flat, 2, y, 2), Math.log(0.5), 1e-12, "uninformative head: log of the class prior");
});

test("Kendall's tau-b: agreement, reversal, and ties as scipy computes them", () => {
  assert.equal(kendallTau([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(kendallTau([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // scipy.stats.kendalltau([1, 2, 2, 3], [1, 3, 2, 4]).statistic = 0.9128709291752769
  close(kendallTau([1, 2, 2, 3], [1, 3, 2, 4]), 0.9128709291752769, 1e-12, "tau-b with a tie");
  assert.ok(Number.isNaN(kendallTau([1, 1, 1], [1, 2, 3])));
  assert.throws(() => kendallTau([1, 2], [1]), /2 scores against 1/);
});

test("bad features are refused naming the row", () => {
  const f = planted(10, 3, 2, 1, 1);
  f.x[7] = NaN;
  assert.throws(() => logme(f), /feature 1 of row 2 is NaN/);
  assert.throws(() => logme({ ...planted(10, 3, 2, 1, 1), classes: 1 }), /label 1 of row 1 is outside \[0, 1\)/);
});
