/**
 * Content analysis on a tiny BERT: the MNRL loss against sentence-transformers (fixture from
 * scripts/fixtures/methods/mnrl.py) and by hand, sentence embeddings (library and `graft embed`), contrastive
 * training into a sentence encoder, clustering (`graft cluster`) and search indexes (`graft search`, and an index
 * directory served as a Predictor).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Tensor, concat } from "../../src/tensor/index.js";
import {
  Embedder,
  SENTENCE_CONFIG,
  labelPairs,
  multipleNegativesRankingLoss,
  readPairs,
  trainSentenceEncoder,
} from "../../src/methods/sentence.js";
import { clusterDocuments } from "../../src/methods/cluster.js";
import { loadVectors, saveVectors } from "../../src/methods/vector-files.js";
import { loadPredictor } from "../../src/tasks/predictor.js";
import { SearchIndex } from "../../src/tasks/search-index.js";
import { createServer } from "../../src/serve/index.js";
import { Rng } from "../../src/util/rng.js";
import { matrixFromRows } from "../../src/data/vectors/index.js";
import { FILLER, NEGATIVE, POSITIVE, makeTinyBert } from "../tasks/fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-content-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
const bin = fileURLToPath(new URL("../../../bin/graft.js", import.meta.url));
const fixture = JSON.parse(
  readFileSync(fileURLToPath(new URL("../../../test/fixtures/methods/mnrl.json", import.meta.url)), "utf8"),
) as {
  cases: {
    anchors: number[][];
    positives: number[][];
    negatives: number[][];
    scale: number;
    loss: number;
    gradAnchors: number[][];
  }[];
};
const bert = makeTinyBert(join(work, "bert"), 3);
const t2 = (rows: number[][]) => new Tensor(Float32Array.from(rows.flat()), [rows.length, rows[0].length]);

test("MNRL equals sentence-transformers' loss and anchor gradient (with extra negatives)", () => {
  for (const c of fixture.cases) {
    const a = new Tensor(Float32Array.from(c.anchors.flat()), [c.anchors.length, c.anchors[0].length], true);
    const cand = c.negatives.length ? concat([t2(c.positives), t2(c.negatives)], 0) : t2(c.positives);
    const loss = multipleNegativesRankingLoss(a, cand, c.scale);
    assert.ok(Math.abs(loss.item() - c.loss) < 1e-5 * Math.max(1, c.loss), `loss ${loss.item()} vs ${c.loss}`);
    loss.backward();
    const g = a.grad!.toArray();
    c.gradAnchors.flat().forEach((v, i) => assert.ok(Math.abs(g[i] - v) < 1e-4, `grad ${i}: ${g[i]} vs ${v}`));
  }
});

test("MNRL by hand: cross-entropy of scaled cosines, the own positive being the target", () => {
  const loss = multipleNegativesRankingLoss(
    t2([
      [1, 0],
      [0, 2],
    ]),
    t2([
      [1, 1],
      [0, 1],
    ]),
    20,
  ).item();
  const s = 20 / Math.SQRT2;
  // row 0: scores [s, 0], target 0; row 1: scores [s, 20], target 1
  const expected = (Math.log(Math.exp(s) + 1) - s + Math.log(Math.exp(s) + Math.exp(20)) - 20) / 2;
  assert.ok(Math.abs(loss - expected) < 1e-5, `${loss} vs ${expected}`);
});

const docs = Array.from({ length: 24 }, (_, i) => {
  const r = new Rng(i);
  const key = i % 2 ? POSITIVE : NEGATIVE;
  return `${FILLER[r.int(FILLER.length)]} ${key[r.int(key.length)]} ${FILLER[r.int(FILLER.length)]} ${key[i % 5]}`;
});
const docsFile = join(work, "docs.tsv");
writeFileSync(docsFile, `text\tlabel\n${docs.map((d, i) => `${d}\t${i % 2 ? "pos" : "neg"}`).join("\n")}\n`);

test("embed: batches equal one pass, unit length by default; graft embed writes safetensors and JSONL", async () => {
  const e = new Embedder(bert);
  assert.equal(e.pooling, "mean");
  const all = await e.embedTexts(docs, { batchSize: 5 });
  const p = loadPredictor(bert);
  const direct = await p.embed!(docs.slice(0, 3), { pooling: "mean", normalize: true });
  direct.forEach((v, i) => v.forEach((x, j) => assert.ok(Math.abs(x - all.data[i * all.d + j]) < 1e-5)));
  const norm = Math.hypot(...all.data.subarray(0, all.d));
  assert.ok(Math.abs(norm - 1) < 1e-5);
  const out = join(work, "docs.safetensors");
  const r = spawnSync(
    process.execPath,
    [bin, "embed", "--model", bert, "--data", docsFile, "--out", out, "--batch-size", "7"],
    {
      encoding: "utf8",
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const v = await loadVectors(out);
  assert.equal(v.n, docs.length);
  assert.equal(v.d, all.d);
  v.data.forEach((x, i) => assert.ok(Math.abs(x - all.data[i]) < 1e-5));
  assert.equal(v.metadata.pooling, "mean");
  const jsonl = join(work, "docs.jsonl");
  saveVectors(jsonl, all, { records: docs.map((text) => ({ text })) });
  const back = await loadVectors(jsonl);
  assert.equal(back.records![1].text, docs[1]);
  back.data.forEach((x, i) => assert.equal(x, all.data[i]));
  const bad = join(work, "bad.jsonl");
  writeFileSync(bad, '{"embedding":[1,2]}\n{"embedding":[1]}\n');
  await assert.rejects(loadVectors(bad), /bad\.jsonl, line 2, field "embedding": "embedding" has 1 values/);
});

test("contrastive training saves a sentence encoder that embed loads with its pooling; pairs files are read", async () => {
  const pairs = labelPairs(
    docs,
    docs.map((_, i) => (i % 2 ? "pos" : "neg")),
    new Rng(1),
  );
  assert.equal(pairs.length, docs.length);
  const out = join(work, "encoder");
  const r = await trainSentenceEncoder({
    model: bert,
    pairs,
    output: out,
    pooling: "cls",
    batchSize: 8,
    epochs: 2,
    lr: 1e-3,
  });
  assert.equal(r.steps, 6);
  assert.ok(r.epochLosses.every((l) => Number.isFinite(l) && l > 0));
  const sc = JSON.parse(readFileSync(join(out, SENTENCE_CONFIG), "utf8"));
  assert.equal(sc.pooling, "cls");
  assert.equal(sc.training.loss, "MultipleNegativesRankingLoss");
  const e = new Embedder(out);
  assert.equal(e.pooling, "cls");
  const v = await e.embedTexts(docs.slice(0, 2));
  assert.equal(v.n, 2);
  // stopping early still saves the model
  let calls = 0;
  const stopped = await trainSentenceEncoder({
    model: bert,
    pairs,
    output: join(work, "enc2"),
    batchSize: 8,
    shouldStop: () => ++calls > 2,
  });
  assert.equal(stopped.steps, 2);
  assert.ok(existsSync(join(work, "enc2", "config.json")));
  const pf = join(work, "pairs.tsv");
  writeFileSync(pf, "text\ttext_pair\na\tb\nc\td\n");
  assert.deepEqual(await readPairs(pf), [
    { anchor: "a", positive: "b" },
    { anchor: "c", positive: "d" },
  ]);
  writeFileSync(pf, "text\nonly one\nand another\n");
  await assert.rejects(readPairs(pf), /example 1 has no second text/);
});

test("cluster: planted vectors give ARI 1 against labels; graft cluster reads a JSONL vectors file", () => {
  const rng = new Rng(5);
  const rows = Array.from({ length: 30 }, (_, i) =>
    [i % 3 === 0 ? 5 : 0, i % 3 === 1 ? 5 : 0, i % 3 === 2 ? 5 : 0].map((v) => v + rng.normal(0, 0.2)),
  );
  const texts = rows.map((_, i) => ["football goal match", "stocks market shares", "rocket space launch"][i % 3]);
  const labels = rows.map((_, i) => `c${i % 3}`);
  const r = clusterDocuments(
    matrixFromRows(rows),
    texts,
    { method: "kmeans", k: 3, keywords: 3, duplicates: 0.999 },
    labels,
  );
  assert.equal(r.agreement!.ari, 1);
  assert.equal(r.agreement!.nmi, 1);
  assert.deepEqual(
    r.clusters.map((c) => c.size),
    [10, 10, 10],
  );
  assert.ok(r.clusters.every((c) => c.keywords.length === 3 && c.examples.length === 3));
  const file = join(work, "planted.jsonl");
  saveVectors(file, matrixFromRows(rows), { records: texts.map((text) => ({ text })) });
  const cli = spawnSync(
    process.execPath,
    [bin, "cluster", "--embeddings", file, "--method", "hdbscan", "--min-cluster-size", "5", "--json"],
    {
      encoding: "utf8",
    },
  );
  assert.equal(cli.status, 0, cli.stderr);
  const j = JSON.parse(cli.stdout);
  assert.equal(j.clusters.length, 3);
  assert.deepEqual(
    j.clusters.map((c: { keywords: { term: string }[] }) => c.keywords[0].term).sort(),
    ["football", "goal", "launch", "market", "match", "rocket", "shares", "space", "stocks"].filter((t) =>
      j.clusters.some((c: { keywords: { term: string }[] }) => c.keywords[0].term === t),
    ),
  );
  const noK = spawnSync(process.execPath, [bin, "cluster", "--embeddings", file], { encoding: "utf8" });
  assert.notEqual(noK.status, 0);
  assert.match(noK.stderr, /k-means needs --k/);
});

test("search: an index finds a document by its own text (exact and HNSW); the index directory is a Predictor and graft serve serves it", async () => {
  const dir = join(work, "index-exact");
  const r = spawnSync(
    process.execPath,
    [bin, "search", "index", "--model", bert, "--data", docsFile, "--out", dir, "--k", "3"],
    {
      encoding: "utf8",
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const q = spawnSync(
    process.execPath,
    [bin, "search", "query", "--index", dir, "--queries", docsFile, "--paired", "--k", "1", "--json"],
    {
      encoding: "utf8",
    },
  );
  assert.equal(q.status, 0, q.stderr);
  // identical texts may tie, so not every query need rank its own row first
  assert.ok(JSON.parse(q.stdout).recall > 0.5);
  const exact = SearchIndex.load(dir);
  assert.equal(exact.config.kind, "exact");
  // the same vectors as an HNSW index, saved and loaded beside it
  const vectors = await new Embedder(bert).embedTexts(docs);
  const hnswDir = join(work, "index-hnsw");
  mkdirSync(hnswDir);
  SearchIndex.build(vectors, exact.documents, {
    ...exact.config,
    kind: "hnsw",
    hnsw: { m: 4, efConstruction: 20, efSearch: 16, seed: 0 },
  }).save(hnswDir, vectors);
  for (const d of [dir, hnswDir]) {
    const p = loadPredictor(d);
    assert.equal(p.task, "search");
    const [pred] = (await p.predict([docs[4]])) as unknown as {
      task: string;
      hits: { index: number; score: number; document: { text: string } }[];
    }[];
    assert.equal(pred.task, "search");
    assert.equal(pred.hits.length, 3);
    assert.equal(pred.hits[0].document.text, docs[4]);
    assert.ok(Math.abs(pred.hits[0].score - 1) < 1e-4);
  }
  assert.equal(SearchIndex.load(hnswDir).config.kind, "hnsw");
  // graft serve serves an index directory: /predict answers each query with its hits
  const app = await createServer({ models: { docs: dir }, workers: 0 });
  try {
    const res = await app.inject({ method: "POST", url: "/predict", payload: { inputs: [docs[4], docs[5], docs[6]] } });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { hits: { index: number; document: { text: string } }[] }[];
    assert.equal(body.length, 3);
    assert.equal(body[1].hits[0].document.text, docs[5]);
  } finally {
    await app.close();
  }
});
