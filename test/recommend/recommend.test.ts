/**
 * The two-tower recommender on planted data whose item "texts" carry the group structure, the blocked top-k
 * against a brute-force ranking, a saved recommender through the RecommendPredictor, and `graft recommend`
 * end to end on tiny files (popularity and BPR; the encoder path is covered by the two-tower test's vectors).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  MostPopular,
  coldStartSplit,
  evaluateRanking,
  makeProtocol,
  userItems,
  type Interactions,
} from "../../src/recsys/index.js";
import { RecommendPredictor, TwoTower, factorScorer, saveRecommender, topKAll } from "../../src/recommend/index.js";
import { Rng } from "../../src/util/rng.js";
import { plantedInteractions } from "./fixtures.js";

const bin = fileURLToPath(new URL("../../../bin/graft.js", import.meta.url));

/** 3 groups × 10 users × 12 items; each user interacts with 9 random items of its group. */
function planted(): { data: Interactions; text: { n: number; dim: number; data: Float32Array } } {
  const rng = new Rng(7);
  const G = 3,
    U = 10,
    I = 12;
  const data = plantedInteractions(rng, { groups: G, users: U, items: I, perUser: 9 });
  const nItems = G * I;
  // "text" vectors: the item's group one-hot plus noise, in 8 dimensions
  const dim = 8;
  const t = new Float32Array(nItems * dim);
  for (let i = 0; i < nItems; i++) {
    for (let k = 0; k < dim; k++) t[i * dim + k] = rng.normal(0, 0.3);
    t[i * dim + Math.floor(i / I)]! += 1;
  }
  return { data, text: { n: nItems, dim, data: t } };
}

test("two-tower: cold-start items ranked from their text, far above popularity", () => {
  const { data, text } = planted();
  const p = makeProtocol(data, coldStartSplit(data, { fraction: 0.3, seed: 1 }), 4);
  const model = new TwoTower(text, { dim: 8, epochs: 8, batchSize: 32, lr: 0.01, temperature: 0.2, seed: 1 });
  const losses: number[] = [];
  model.fit(p.train, { onEpoch: (_, ms) => losses.push(ms) });
  assert.equal(losses.length, 8);
  const r = evaluateRanking(factorScorer(model.factors()), p, { ks: [3] });
  const pop = new MostPopular();
  pop.fit(p.train);
  const base = evaluateRanking((u, o) => pop.score(u, o), p, { ks: [3] });
  assert.ok(r.metrics["ndcg@3"]! > 0.7, `two-tower cold ndcg@3 ${r.metrics["ndcg@3"]}`);
  assert.ok(r.metrics["ndcg@3"]! > base.metrics["ndcg@3"]! + 0.25, `popularity ${base.metrics["ndcg@3"]}`);
  // score() and the factor form agree
  const out = new Float32Array(text.n);
  model.score(Int32Array.of(4), out);
  const f = model.factors();
  let s = 0;
  for (let k = 0; k < f.dim; k++) s += f.user[4 * f.dim + k]! * f.item[5 * f.dim + k]!;
  assert.ok(Math.abs(out[5]! - s) < 1e-4);
});

test("two-tower with the BPR loss trains too", () => {
  const { data, text } = planted();
  const all = Int32Array.from({ length: data.user.length }, (_, k) => k);
  const model = new TwoTower(text, { dim: 4, epochs: 2, batchSize: 64, loss: "bpr", seed: 2 });
  model.fit(userItems(data, all));
  const f = model.factors();
  assert.equal(f.dim, 5);
  assert.ok(f.item.every(Number.isFinite));
});

test("blocked top-k equals a brute-force ranking; a saved recommender predicts the same", () => {
  const rng = new Rng(5);
  const nU = 7,
    nI = 53,
    d = 5;
  const f = {
    dim: d,
    user: Float32Array.from({ length: nU * d }, () => rng.normal()),
    item: Float32Array.from({ length: nI * d }, () => rng.normal()),
  };
  const seen = userItems(
    {
      file: "mem",
      users: Array.from({ length: nU }, (_, u) => `u${u}`),
      items: Array.from({ length: nI }, (_, i) => `i${i}`),
      user: Int32Array.of(0, 0, 3),
      item: Int32Array.of(4, 9, 1),
      rating: Float32Array.of(1, 1, 1),
      time: Float64Array.of(0, 1, 2),
      line: Int32Array.of(1, 2, 3),
      duplicates: 0,
    },
    Int32Array.of(0, 1, 2),
  );
  const users = Int32Array.from({ length: nU }, (_, u) => u);
  const lists = topKAll(f, users, 6, { seen, blockSize: 3 });
  for (let u = 0; u < nU; u++) {
    const excluded = new Set(u === 0 ? [4, 9] : u === 3 ? [1] : []);
    const scores = Array.from({ length: nI }, (_, i) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += f.user[u * d + k]! * f.item[i * d + k]!;
      return [i, s] as const;
    })
      .filter(([i]) => !excluded.has(i))
      .sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    assert.deepEqual(
      Array.from(lists[u]!),
      scores.slice(0, 6).map(([i]) => i),
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "graft-rec-"));
  try {
    saveRecommender(dir, {
      model: "test",
      factors: f,
      users: Array.from({ length: nU }, (_, u) => `u${u}`),
      items: Array.from({ length: nI }, (_, i) => `i${i}`),
      seen,
    });
    const p = RecommendPredictor.load(dir);
    assert.deepEqual(
      p.recommend("u0", 6).map((r) => r.item),
      Array.from(lists[0]!, (i) => `i${i}`),
    );
    assert.deepEqual(p.history("u0"), ["i4", "i9"]);
    assert.throws(() => p.recommend("nobody"), /unknown user "nobody"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The CLI run spawns four processes and exercises nothing backend-specific beyond the tests above: native pass only.
const cliSkip = process.env.GRAFT_BACKEND === "js" && "the CLI end to end runs on the native backend only";

test("graft recommend eval, train and predict on tiny files", { skip: cliSkip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "graft-rec-cli-"));
  try {
    const rng = new Rng(3);
    const lines: string[] = [];
    for (let u = 1; u <= 12; u++)
      for (let i = 1; i <= 15; i++)
        if (rng.uniform() < 0.5) lines.push(`${u}\t${i}\t${1 + rng.int(5)}\t${rng.int(1000)}`);
    const inter = join(dir, "u.data");
    writeFileSync(inter, `${lines.join("\n")}\n`);
    const out = join(dir, "eval");
    const r = spawnSync(
      process.execPath,
      [
        bin,
        "recommend",
        "eval",
        "--interactions",
        inter,
        "--models",
        "popularity",
        "bpr",
        "--bpr-epochs",
        "2",
        "--dim",
        "4",
        "--threshold",
        "3",
        "--cold-start",
        "0.2",
        "--output",
        out,
      ],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\| warm \| bpr \|/);
    assert.match(r.stdout, /\| cold \| popularity \|/);
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    assert.equal(results.results.length, 4);
    assert.match(readFileSync(join(out, "report.html"), "utf8"), /Cold-start items/);
    const saved = join(dir, "model");
    const t = spawnSync(
      process.execPath,
      [
        bin,
        "recommend",
        "train",
        "--interactions",
        inter,
        "--model",
        "bpr",
        "--bpr-epochs",
        "2",
        "--dim",
        "4",
        "--output",
        saved,
      ],
      { encoding: "utf8" },
    );
    assert.equal(t.status, 0, t.stderr);
    const p = spawnSync(
      process.execPath,
      [bin, "recommend", "predict", "--model", saved, "--user", "1", "--k", "3", "--json"],
      {
        encoding: "utf8",
      },
    );
    assert.equal(p.status, 0, p.stderr);
    assert.equal(JSON.parse(p.stdout).recommendations.length, 3);
    // a history stands for a new user only with the two-tower model's user tower
    const h = spawnSync(process.execPath, [bin, "recommend", "predict", "--model", saved, "--history", "1", "2"], {
      encoding: "utf8",
    });
    assert.notEqual(h.status, 0);
    assert.match(h.stderr, /a bpr recommender ranks only its training users/);
    // bad input: a non-numeric rating names the file and line
    writeFileSync(inter, "1\t2\t5\t10\n1\t3\tx\t11\n");
    const bad = spawnSync(
      process.execPath,
      [bin, "recommend", "eval", "--interactions", inter, "--models", "popularity"],
      {
        encoding: "utf8",
      },
    );
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /u\.data, line 2, field "rating": rating "x" is not a number/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
