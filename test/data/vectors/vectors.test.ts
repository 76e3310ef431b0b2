/** k-means, HDBSCAN, c-TF-IDF, exact and HNSW search on planted data. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../../src/util/rng.js";
import {
  ExactIndex,
  HnswIndex,
  clusterKeywords,
  hdbscan,
  kmeans,
  kmeansPredict,
  matrixFromRows,
  nearDuplicates,
  type Matrix,
} from "../../../src/data/vectors/index.js";
import { adjustedRandScore } from "../../../src/metrics/clustering.js";
import { fixture } from "../../metrics/helpers.js";

/** n points around each centre with standard deviation s; also returns the true blob of each point. */
function blobs(centers: number[][], n: number, s: number, rng: Rng): { x: Matrix; y: number[] } {
  const rows: number[][] = [];
  const y: number[] = [];
  centers.forEach((c, k) => {
    for (let i = 0; i < n; i++) {
      rows.push(c.map((v) => v + rng.normal(0, s)));
      y.push(k);
    }
  });
  return { x: matrixFromRows(rows, true), y };
}

function randomMatrix(n: number, d: number, rng: Rng): Matrix {
  return matrixFromRows(Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal())));
}

test("k-means finds planted clusters; more inits never raise the inertia; predict agrees", () => {
  const rng = new Rng(1);
  const centers = Array.from({ length: 5 }, () => Array.from({ length: 8 }, () => rng.normal(0, 6)));
  const { x, y } = blobs(centers, 40, 0.5, rng);
  const km = kmeans(x, { k: 5, seed: 3, nInit: 3 });
  assert.equal(adjustedRandScore(y, Array.from(km.labels)), 1);
  // the inertia is the sum of squared distances to the assigned centres
  let inertia = 0;
  for (let i = 0; i < x.n; i++)
    for (let j = 0; j < x.d; j++) inertia += (x.data[i * x.d + j] - km.centers[km.labels[i] * x.d + j]) ** 2;
  assert.ok(Math.abs(inertia - km.inertia) < 1e-6 * inertia);
  assert.deepEqual(Array.from(kmeansPredict(km, x)), Array.from(km.labels));
  const one = kmeans(x, { k: 5, seed: 3, nInit: 1 });
  assert.ok(km.inertia <= one.inertia + 1e-9);
  assert.deepEqual(Array.from(kmeans(x, { k: 5, seed: 3, nInit: 3 }).labels), Array.from(km.labels), "seeded");
  assert.throws(() => kmeans(x, { k: 500 }), /200 vectors cannot make 500 clusters/);
});

test("HDBSCAN equals scikit-learn's labels on planted clusters + noise", () => {
  const fx = fixture<{ hdbscan: { x: number[][]; minClusterSize: number; labels: number[]; probabilities: number[] } }>(
    "clustering.json",
  ).hdbscan;
  const r = hdbscan(matrixFromRows(fx.x, true), { minClusterSize: fx.minClusterSize });
  assert.deepEqual(Array.from(r.labels), fx.labels);
  assert.equal(r.clusters, 3);
  r.probabilities.forEach((p, i) => assert.ok(Math.abs(p - fx.probabilities[i]) < 1e-9, `probability ${i}`));
});

test("HDBSCAN: three blobs and scattered noise; the noise is labelled −1", () => {
  const rng = new Rng(2);
  const { x, y } = blobs(
    [
      [0, 0, 0],
      [10, 0, 0],
      [0, 10, 0],
    ],
    30,
    0.5,
    rng,
  );
  const rows = Array.from({ length: x.n }, (_, i) => Array.from(x.data.subarray(i * 3, i * 3 + 3)));
  for (let i = 0; i < 10; i++) rows.push([rng.range(-20, 30), rng.range(-20, 30), rng.range(20, 40)]);
  const r = hdbscan(matrixFromRows(rows, true), { minClusterSize: 10 });
  assert.equal(r.clusters, 3);
  assert.equal(adjustedRandScore(y, Array.from(r.labels.subarray(0, 90))), 1);
  assert.ok(Array.from(r.labels.subarray(90)).every((l) => l === -1));
});

test("c-TF-IDF keywords name each cluster's own words", () => {
  const docs = [
    "the striker scored a goal in the match",
    "goal keeper saves the match",
    "stocks fell as the market closed",
    "market shares and stocks rally",
  ];
  const k = clusterKeywords(docs, [0, 0, 1, 1], { top: 2, stopWords: ["the", "a", "in", "as", "and"] });
  assert.deepEqual(
    k.map((c) => c.keywords.map((w) => w.term)),
    [
      ["goal", "match"],
      ["market", "stocks"],
    ],
  );
  // tf·log(1 + A/f): "goal" is 2 of cluster 0's 8 words, 2 in all, A = ⌊(8 + 8)/2⌋
  assert.ok(Math.abs(k[0].keywords[0].weight - (2 / 8) * Math.log(1 + 8 / 2)) < 1e-12);
  // the built-in English stop words are dropped by default
  assert.ok(clusterKeywords(docs, [0, 0, 1, 1]).every((c) => c.keywords.every((w) => w.term !== "the")));
});

test("exact search equals brute force (cosine, dot, l2) across blocks", () => {
  const rng = new Rng(3);
  const coll = randomMatrix(300, 7, rng);
  const q = randomMatrix(21, 7, rng);
  for (const metric of ["cosine", "dot", "l2"] as const) {
    const hits = new ExactIndex(coll, metric, 16).search(q, 5);
    for (let i = 0; i < q.n; i++) {
      const scores = Array.from({ length: coll.n }, (_, j) => {
        let dot = 0,
          qq = 0,
          cc = 0,
          l2 = 0;
        for (let t = 0; t < 7; t++) {
          const a = q.data[i * 7 + t],
            b = coll.data[j * 7 + t];
          dot += a * b;
          qq += a * a;
          cc += b * b;
          l2 += (a - b) ** 2;
        }
        return { j, s: metric === "cosine" ? dot / Math.sqrt(qq * cc) : metric === "dot" ? dot : -Math.sqrt(l2) };
      }).sort((a, b) => b.s - a.s);
      assert.deepEqual(
        hits[i].map((h) => h.index),
        scores.slice(0, 5).map((s) => s.j),
        `${metric} query ${i}`,
      );
      hits[i].forEach((h, r) => assert.ok(Math.abs(Math.abs(h.score) - Math.abs(scores[r].s)) < 1e-4));
    }
  }
});

test("HNSW recall@10 ≥ 0.95 against exact search; the saved graph searches the same", () => {
  const rng = new Rng(4);
  const coll = randomMatrix(1500, 16, rng);
  const q = randomMatrix(50, 16, rng);
  const exact = new ExactIndex(coll).search(q, 10);
  const index = new HnswIndex(coll, { m: 12, efConstruction: 100, efSearch: 64, seed: 1 });
  const approx = index.search(q, 10);
  let hit = 0;
  approx.forEach((a, i) => {
    const truth = new Set(exact[i].map((h) => h.index));
    hit += a.filter((h) => truth.has(h.index)).length;
  });
  const recall = hit / (10 * q.n);
  assert.ok(recall >= 0.95, `recall@10 ${recall}`);
  const loaded = new HnswIndex(coll, { efSearch: 64 }, index.graph());
  assert.deepEqual(loaded.search(q, 10), approx);
});

test("near-duplicate groups join rows above the cosine threshold", () => {
  const x = matrixFromRows([
    [1, 0, 0],
    [0.99, 0.01, 0],
    [0, 1, 0],
    [0, 0, 1],
    [0, 0.02, 1],
    [1, 0.02, 0],
  ]);
  assert.deepEqual(nearDuplicates(x, 0.99), [
    [0, 1, 5],
    [3, 4],
  ]);
});
