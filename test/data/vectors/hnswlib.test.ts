/**
 * hnswlib's HNSW (the optional dependency hnswlib-node) behind graft's search: recall against exact search, graft's
 * scores for each metric, its index file saved and loaded, and the search index directory choosing it (or, where
 * the package is missing, graft's own HNSW, and exact search for an hnswlib graph, with a note).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../../src/util/rng.js";
import { ExactIndex, matrixFromRows, type Matrix } from "../../../src/data/vectors/index.js";
import { loadHnswlib } from "../../../src/data/vectors/hnswlib.js";
import { SearchIndex } from "../../../src/tasks/search-index.js";

const work = mkdtempSync(join(tmpdir(), "graft-hnswlib-"));
test.after(() => rmSync(work, { recursive: true, force: true }));
const lib = loadHnswlib();

function randomMatrix(n: number, d: number, rng: Rng): Matrix {
  return matrixFromRows(Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal())));
}

test("hnswlib: recall@10 ≥ 0.95 against exact search, graft's scores per metric, the index file round trip", {
  skip: lib ? false : "hnswlib-node is not installed",
}, () => {
  const rng = new Rng(4);
  const coll = randomMatrix(800, 16, rng);
  const q = randomMatrix(40, 16, rng);
  for (const metric of ["cosine", "dot", "l2"] as const) {
    const exact = new ExactIndex(coll, metric).search(q, 10);
    const index = lib!.build(coll, metric, { m: 12, efConstruction: 64, seed: 1 });
    index.setEf(64);
    const approx = index.search(q, 10);
    let hit = 0;
    approx.forEach((a, i) => {
      const truth = new Map(exact[i].map((h) => [h.index, h.score]));
      for (const h of a)
        if (truth.has(h.index)) {
          hit++;
          assert.ok(Math.abs(h.score - truth.get(h.index)!) < 1e-4, `${metric}: ${h.score} vs ${truth.get(h.index)}`);
        }
    });
    assert.ok(hit / (10 * q.n) >= 0.95, `${metric} recall@10 ${hit / (10 * q.n)}`);
    const file = join(work, `${metric}.bin`);
    index.save(file);
    const loaded = lib!.load(file, metric, 16);
    loaded.setEf(64);
    assert.deepEqual(loaded.search(q, 10), approx);
  }
});

test("search index: HNSW is hnswlib's where installed, else graft's with a note; --hnsw-library graft forces graft's", () => {
  const rng = new Rng(5);
  const vectors = randomMatrix(300, 8, rng);
  const docs = Array.from({ length: 300 }, (_, i) => ({ text: `doc ${i}` }));
  const base = { model: null, pooling: "mean" as const, normalize: true, metric: "cosine" as const, k: 5 };
  const q = randomMatrix(10, 8, rng);
  const exact = new ExactIndex(vectors).search(q, 5);
  const auto = SearchIndex.build(vectors, docs, {
    ...base,
    kind: "hnsw",
    hnsw: { m: 8, efConstruction: 64, efSearch: 64, seed: 0 },
  });
  const dir = join(work, "auto");
  mkdirSync(dir);
  auto.save(dir, vectors);
  const loaded = SearchIndex.load(dir);
  assert.equal(loaded.config.hnsw?.library, lib ? "hnswlib" : "graft");
  assert.equal(auto.notes.length, lib ? 0 : 1);
  const hits = loaded.searchVectors(q, 5);
  assert.deepEqual(hits, auto.searchVectors(q, 5));
  const recall = hits.reduce((s, h, i) => s + h.filter((x) => exact[i].some((e) => e.index === x.index)).length, 0);
  assert.ok(recall / 50 >= 0.9, `recall ${recall / 50}`);
  const own = SearchIndex.build(vectors, docs, {
    ...base,
    kind: "hnsw",
    hnsw: { m: 8, efConstruction: 64, efSearch: 64, seed: 0, library: "graft" },
  });
  const ownDir = join(work, "own");
  mkdirSync(ownDir);
  own.save(ownDir, vectors);
  assert.equal(SearchIndex.load(ownDir).config.hnsw?.library, "graft");
  assert.deepEqual(own.notes, []);
  {
    // an hnswlib graph read where hnswlib is missing (the loader passes null): exact answers, and a note
    const fallback = new SearchIndex(
      { ...loaded.config, hnsw: { ...loaded.config.hnsw!, library: "hnswlib" } },
      vectors,
      docs,
      null,
    );
    assert.match(fallback.notes[0], /queries run by exact search/);
    assert.deepEqual(
      fallback.searchVectors(q, 5).map((h) => h.map((x) => x.index)),
      exact.map((h) => h.map((x) => x.index)),
    );
  }
});
