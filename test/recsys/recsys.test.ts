/**
 * The recommendation leaf (src/recsys): readers and their errors, splits, the evaluation harness on hand-worked
 * rankings, exclusion of seen items, and the baselines on planted structure.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BprMf,
  ImplicitAls,
  ItemKnn,
  MostPopular,
  choleskySolve,
  coldStartSplit,
  coldUserSplit,
  evaluateRanking,
  makeProtocol,
  readInteractions,
  readItemTexts,
  splitInteractions,
  topKRow,
  userItems,
  type Interactions,
  type Recommender,
} from "../../src/recsys/index.js";
import { catalogueCoverage } from "../../src/metrics/index.js";
import { DataError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "graft-recsys-"));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function interactions(rows: [number, number, number][], nItems: number): Interactions {
  const nUsers = Math.max(...rows.map((r) => r[0])) + 1;
  return {
    file: "mem",
    users: Array.from({ length: nUsers }, (_, u) => `u${u}`),
    items: Array.from({ length: nItems }, (_, i) => `i${i}`),
    user: Int32Array.from(rows, (r) => r[0]),
    item: Int32Array.from(rows, (r) => r[1]),
    rating: Float32Array.from(rows, (r) => r[2]),
    time: Float64Array.from(rows, (_, k) => k),
    line: Int32Array.from(rows, (_, k) => k + 1),
    duplicates: 0,
  };
}

test("the harness on hand-worked rankings: seen items excluded, users without positives skipped and counted", () => {
  // rows 0: training (u0 saw i0); 1-3: test; u2's only test row is below the threshold
  const data = interactions(
    [
      [0, 0, 5],
      [0, 2, 5],
      [0, 4, 4],
      [1, 4, 5],
      [2, 3, 1],
    ],
    5,
  );
  const split = {
    protocol: "random" as const,
    train: Int32Array.of(0),
    test: Int32Array.of(1, 2, 3, 4),
    coldItems: null,
  };
  const p = makeProtocol(data, split, 4);
  assert.deepEqual(Array.from(p.users), [0, 1]);
  assert.equal(p.skippedUsers, 1);
  const fixed = [
    [5, 4, 3, 2, 1],
    [1, 2, 3, 4, 5],
  ];
  const r = evaluateRanking((users, out) => users.forEach((u, b) => out.set(fixed[u]!, b * 5)), p, { ks: [3] });
  // u0: i0 is seen, so the top 3 is [1, 2, 3] with a hit at rank 2 of 2 positives; u1: [4, 3, 2], a hit at rank 1
  assert.deepEqual(Array.from(r.lists[0]!), [1, 2, 3]);
  assert.deepEqual(Array.from(r.lists[1]!), [4, 3, 2]);
  const ndcg0 = 1 / Math.log2(3) / (1 + 1 / Math.log2(3));
  assert.ok(Math.abs(r.metrics["ndcg@3"]! - (ndcg0 + 1) / 2) < 1e-12);
  assert.equal(r.metrics["recall@3"], 0.75);
  assert.ok(Math.abs(r.metrics["precision@3"]! - 1 / 3) < 1e-12);
  assert.equal(r.metrics["map@3"], (0.5 / 2 + 1) / 2);
  assert.equal(r.metrics.mrr, 0.75);
  assert.equal(r.metrics["hit-rate@3"], 1);
  assert.equal(r.metrics["coverage@3"], 4 / 5);
  assert.equal(r.users, 2);
  assert.equal(r.skippedUsers, 1);
});

test("catalogue coverage and the top-k scan", () => {
  assert.equal(catalogueCoverage([[1, 2], [2, 3], [9]], 10, { k: 1 }), 0.3);
  assert.throws(() => catalogueCoverage([[1]], 0), /catalogue size/);
  const row = Float32Array.of(0.5, 2, 2, -1, 7, 2);
  // ties keep the lower id first; excluded ids are skipped; candidates restrict the scan
  assert.deepEqual(Array.from(topKRow(row, 0, 6, 3).items), [4, 1, 2]);
  assert.deepEqual(Array.from(topKRow(row, 0, 6, 3, Int32Array.of(1, 4)).items), [2, 5, 0]);
  assert.deepEqual(Array.from(topKRow(row, 0, 6, 2, null, Int32Array.of(0, 3)).items), [0, 3]);
});

test("splits: leave-last-out by time, per-user random, and a cold start with no held-out item in training", () => {
  const rng = new Rng(3);
  const rows: [number, number, number][] = [];
  for (let u = 0; u < 30; u++) for (let i = 0; i < 40; i++) if (rng.uniform() < 0.3) rows.push([u, i, 1 + rng.int(5)]);
  const data = interactions(rows, 40);
  data.time = Float64Array.from(rows, () => rng.int(1000));
  const last = splitInteractions(data, { protocol: "last" });
  for (const r of last.test) {
    const u = data.user[r]!;
    for (const t of last.train) if (data.user[t] === u) assert.ok(data.time[t]! <= data.time[r]!);
  }
  assert.equal(last.test.length + last.train.length, rows.length);
  const random = splitInteractions(data, { protocol: "random", testFraction: 0.25, seed: 1 });
  assert.ok(Math.abs(random.test.length / rows.length - 0.25) < 0.05);
  const cold = coldStartSplit(data, { fraction: 0.25, seed: 2 });
  const coldSet = new Set(cold.coldItems);
  assert.ok(coldSet.size >= 8);
  for (const r of cold.train) assert.ok(!coldSet.has(data.item[r]!), "a cold item in training");
  for (const r of cold.test) assert.ok(coldSet.has(data.item[r]!));
  const p = makeProtocol(data, cold, 1);
  assert.ok(p.train.indices.every((i) => !coldSet.has(i)));
  const r = evaluateRanking((users, out) => new MostPopular().score(users, out), { ...p }, { ks: [5] });
  // only cold items are ranked
  for (const l of r.lists) for (const i of l) assert.ok(coldSet.has(i));
  // cold-start users: a held-out user has no training row, and every row of theirs is a test row
  const users = coldUserSplit(data, { fraction: 0.2, seed: 4 });
  const heldOut = new Set(Array.from(users.test, (r) => data.user[r]!));
  assert.equal(heldOut.size, 6);
  for (const r of users.train) assert.ok(!heldOut.has(data.user[r]!), "a cold user in training");
  assert.equal(users.train.length + users.test.length, rows.length);
  const pu = makeProtocol(data, users, 1);
  for (const u of heldOut) assert.equal(pu.seen.indptr[u + 1]! - pu.seen.indptr[u]!, 0);
});

/** Users of group g interact with every item of group g; 20% of each user's rows are held out. */
function planted(groups: number, perGroupUsers: number, perGroupItems: number): Interactions {
  const rows: [number, number, number][] = [];
  for (let g = 0; g < groups; g++)
    for (let a = 0; a < perGroupUsers; a++)
      for (let b = 0; b < perGroupItems; b++) rows.push([g * perGroupUsers + a, g * perGroupItems + b, 5]);
  return interactions(rows, groups * perGroupItems);
}

function heldOutRecall(model: Recommender, data: Interactions, seed = 1): { recall: number; popularity: number } {
  const p = makeProtocol(data, splitInteractions(data, { protocol: "random", seed }), 4);
  model.fit(p.train);
  const r = evaluateRanking((u, o) => model.score(u, o), p, { ks: [4] });
  const pop = new MostPopular();
  pop.fit(p.train);
  const base = evaluateRanking((u, o) => pop.score(u, o), p, { ks: [4] });
  return { recall: r.metrics["recall@4"]!, popularity: base.metrics["recall@4"]! };
}

test("BPR, ALS and ItemKNN recover a planted low-rank structure", () => {
  const data = planted(3, 12, 20);
  for (const model of [
    new BprMf({ dim: 8, epochs: 40, lr: 0.1, seed: 1 }),
    new ImplicitAls({ dim: 6, epochs: 5, seed: 1 }),
    new ItemKnn({ neighbours: 30 }),
  ]) {
    const { recall, popularity } = heldOutRecall(model, data);
    assert.ok(recall > 0.9, `${model.name}: held-out recall@4 ${recall}`);
    assert.ok(popularity < 0.5, `popularity: ${popularity}`);
  }
  // the factor form scores like score()
  const als = new ImplicitAls({ dim: 4, epochs: 2 });
  als.fit(
    userItems(
      data,
      Int32Array.from({ length: data.user.length }, (_, k) => k),
    ),
  );
  const f = als.factors();
  const out = new Float32Array(60);
  als.score(Int32Array.of(5), out);
  let s = 0;
  for (let k = 0; k < 4; k++) s += f.user[5 * 4 + k]! * f.item[7 * 4 + k]!;
  assert.ok(Math.abs(out[7]! - s) < 1e-5);
});

test("choleskySolve solves a symmetric positive-definite system", () => {
  const A = Float64Array.of(4, 2, 0.6, 2, 5, 1, 0.6, 1, 3);
  const x = Float64Array.of(1, -2, 0.5);
  const b = Float64Array.from([0, 1, 2], (i) => A[i * 3]! * x[0]! + A[i * 3 + 1]! * x[1]! + A[i * 3 + 2]! * x[2]!);
  choleskySolve(A.slice(), b, 3);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(b[i]! - x[i]!) < 1e-12);
});

test("interaction files: MovieLens layouts by columns, duplicate rules, and bad input with file and line", () => {
  withDir((dir) => {
    const udata = join(dir, "u.data");
    writeFileSync(udata, "1\t10\t5\t100\n1\t11\t3\t101\n2\t10\t4\t99\n1\t10\t2\t50\n");
    const d = readInteractions(udata);
    assert.deepEqual(d.users, ["1", "2"]);
    assert.deepEqual(d.items, ["10", "11"]);
    assert.equal(d.duplicates, 1);
    // "last" keeps the latest by timestamp: line 1 (time 100) beats line 4 (time 50)
    assert.equal(d.rating[0], 5);
    const summed = readInteractions(udata, { duplicates: "sum" });
    assert.equal(summed.rating[0], 7);
    assert.throws(
      () => readInteractions(udata, { duplicates: "error" }),
      (e: unknown) => e instanceof DataError && /u\.data, line 4/.test(e.message) && /line 1/.test(e.message),
    );

    const csv = join(dir, "ratings.csv");
    writeFileSync(csv, "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n");
    const c = readInteractions(csv, {
      columns: { user: "userId", item: "movieId", rating: "rating", time: "timestamp" },
    });
    assert.deepEqual(Array.from(c.rating), [2.5, 3]);
    assert.throws(
      () => readInteractions(csv, { columns: { user: "userId", item: "film" } }),
      /ratings\.csv, line 1: no item column "film"/,
    );

    const bad = join(dir, "bad.tsv");
    writeFileSync(bad, "1\t10\t5\t100\n2\t11\tfive\t101\n");
    assert.throws(() => readInteractions(bad), /bad\.tsv, line 2, field "rating": rating "five" is not a number/);
    const items = join(dir, "items.tsv");
    writeFileSync(items, "10\tToy Story\n11\tHeat\n");
    const texts = readItemTexts(items);
    assert.equal(texts.get("11"), "Heat");
    writeFileSync(bad, "1\t10\t5\t100\n\n2\t12\t4\t101\n");
    assert.throws(
      () => readInteractions(bad, { knownItems: [...texts.keys()] }),
      /bad\.tsv, line 3, field "item": item "12" is not in the item file/,
    );
    writeFileSync(bad, "1\t10\n");
    assert.throws(() => readInteractions(bad), /line 1: 2 fields, expected at least 4/);
    // implicit feedback: no rating column
    const imp = readInteractions(bad, { columns: { rating: null, time: null } });
    assert.equal(imp.rating[0], 1);
  });
});

test("item texts: a template over columns and flag names", () => {
  withDir((dir) => {
    const f = join(dir, "u.item");
    writeFileSync(f, "1|Toy Story (1995)|x|0|1|1\n2|Heat (1995)|y|1|0|0\n");
    const t = readItemTexts(f, {
      sep: "|",
      template: "{1}. {flags}",
      flagFirst: 3,
      flagNames: ["Action", "Animation", "Comedy"],
    });
    assert.equal(t.get("1"), "Toy Story (1995). Animation, Comedy");
    assert.equal(t.get("2"), "Heat (1995). Action");
    assert.throws(() => readItemTexts(f, { sep: "|", template: "{title}" }), /names "\{title\}", which is no column/);
    writeFileSync(f, "1|A\n1|B\n");
    assert.throws(() => readItemTexts(f, { sep: "|" }), /u\.item, line 2: item "1" appears twice/);
  });
});
