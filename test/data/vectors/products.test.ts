/**
 * The vector algorithms through the engine's GEMM (tensor/'s rowProducts) give the results of the plain loops:
 * exact search (hits, scores and tie order), k-means labels and inertia, near-duplicate groups. Shapes are odd and
 * cross block edges; ties are planted (duplicate rows), and float64 inputs are rounded for the product.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../../src/util/rng.js";
import { rowProducts } from "../../../src/tensor/index.js";
import {
  ExactIndex,
  kmeans,
  kmeansPlusPlus,
  kmeansPredict,
  matrixFromRows,
  nearDuplicates,
  type Matrix,
} from "../../../src/data/vectors/index.js";

function randomMatrix(n: number, d: number, rng: Rng, f64 = false): Matrix {
  return matrixFromRows(
    Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal())),
    f64,
  );
}

/** Rows of `x` with every 7th row replaced by a copy of an earlier one (exact ties). */
function withTies(x: Matrix): Matrix {
  const data = x.data.slice();
  for (let i = 7; i < x.n; i += 7) data.copyWithin(i * x.d, (i - 5) * x.d, (i - 4) * x.d);
  return { data, n: x.n, d: x.d };
}

test("rowProducts is a·bᵀ (odd shapes, float64 inputs)", () => {
  const rng = new Rng(1);
  const a = randomMatrix(7, 33, rng, true);
  const b = randomMatrix(5, 33, rng);
  const s = rowProducts(a.data, 7, b.data, 5, 33);
  for (let i = 0; i < 7; i++)
    for (let j = 0; j < 5; j++) {
      let dot = 0;
      for (let t = 0; t < 33; t++) dot += a.data[i * 33 + t] * b.data[j * 33 + t];
      assert.ok(Math.abs(s[i * 5 + j] - dot) < 1e-4, `${i},${j}`);
    }
  assert.equal(rowProducts(new Float32Array(0), 0, b.data, 5, 33).length, 0);
  assert.throws(() => rowProducts(a.data, 6, b.data, 5, 33), /do not make 6×33/);
});

test("exact search through the GEMM equals the loops and brute force, ties by smaller index", () => {
  const rng = new Rng(2);
  for (const [n, d, f64] of [
    [1000, 17, false],
    [613, 64, true],
  ] as const) {
    const coll = withTies(randomMatrix(n, d, rng, f64));
    // queries include exact copies of collection rows (a score at the very top of the range)
    const q = randomMatrix(37, d, rng, f64);
    q.data.set(coll.data.subarray(14 * d, 15 * d), 3 * d);
    for (const metric of ["cosine", "dot", "l2"] as const) {
      const loops = new ExactIndex(coll, metric, 16).search(q, 9);
      const gemm = new ExactIndex(coll, metric, 16, rowProducts).search(q, 9);
      assert.deepEqual(gemm, loops, `${metric} ${n}×${d}`);
      // brute force on the same exact scores: every row scored, sorted best first, ties by smaller index
      const index = new ExactIndex(coll, metric, n + 1);
      for (let i = 0; i < q.n; i++) {
        const all = index.search({ data: q.data.subarray(i * d, (i + 1) * d), n: 1, d }, n)[0];
        assert.deepEqual(gemm[i], all.slice(0, 9), `${metric} query ${i}`);
        for (let r = 1; r < all.length; r++) {
          const better = metric === "l2" ? all[r - 1].score <= all[r].score : all[r - 1].score >= all[r].score;
          assert.ok(better && (all[r - 1].score !== all[r].score || all[r - 1].index < all[r].index));
        }
      }
    }
  }
});

test("k-means and near-duplicates through the GEMM equal the loops", () => {
  const rng = new Rng(3);
  const x = withTies(randomMatrix(2100, 12, rng, true));
  for (const k of [1, 5, 13]) {
    const loops = kmeans(x, { k, nInit: 2, maxIter: 20, seed: 4 });
    const gemm = kmeans(x, { k, nInit: 2, maxIter: 20, seed: 4, products: rowProducts });
    assert.deepEqual(Array.from(gemm.labels), Array.from(loops.labels), `k ${k}`);
    assert.equal(gemm.inertia, loops.inertia);
    assert.equal(gemm.iterations, loops.iterations);
    assert.deepEqual(Array.from(kmeansPredict(gemm, x, rowProducts)), Array.from(loops.labels));
    assert.deepEqual(kmeansPlusPlus(x, k, new Rng(k), rowProducts), kmeansPlusPlus(x, k, new Rng(k)), `seeds, k ${k}`);
  }
  const base = randomMatrix(1100, 8, rng);
  // near copies: row i + 1 is row i nudged
  for (let i = 0; i < base.n; i += 90)
    for (let t = 0; t < 8; t++) base.data[(i + 1) * 8 + t] = base.data[i * 8 + t] + 1e-3 * rng.normal();
  for (const threshold of [0.999, 0.9, 0.5])
    assert.deepEqual(nearDuplicates(base, threshold, rowProducts), nearDuplicates(base, threshold), `${threshold}`);
});
