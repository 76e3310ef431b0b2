/**
 * Recommendation speed: training time per epoch of each model and top-10 for all users on MovieLens-100k, then
 * top-10 for 10k users × 100k items (synthetic factors) and a BPR epoch on synthetic interactions; numpy runs the
 * same ItemKNN, ALS iteration and blocked top-10 in the same run as the peer (bench/recommend_peer.py).
 *
 *   npm run bench -- recommend [--data ../shared/datasets/movielens_100k/u.data] [--users 10000] [--items 100000]
 *     [--dim 64] [--python /work/venv/bin/python]
 *
 * The two-tower epoch uses random 256-dimensional text vectors (the encoder's width): an epoch costs the same
 * whatever the vectors hold, and encoding is a one-off (cached) cost reported by `graft recommend eval`.
 */
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import {
  BprMf,
  ImplicitAls,
  ItemKnn,
  MostPopular,
  readInteractions,
  recommendAll,
  userItems,
  type Recommender,
  type UserItems,
} from "../src/recsys/index.js";
import { TwoTower, factorScorer, topKAll } from "../src/recommend/index.js";
import { Rng } from "../src/util/rng.js";

const { values } = parseArgs({
  options: {
    data: { type: "string", default: "../shared/datasets/movielens_100k/u.data" },
    threshold: { type: "string", default: "4" },
    users: { type: "string", default: "10000" },
    items: { type: "string", default: "100000" },
    dim: { type: "string", default: "64" },
    python: { type: "string", default: "/work/venv/bin/python" },
  },
});
const dim = Number(values.dim);
const nUsers = Number(values.users);
const nItems = Number(values.items);
const rows: [string, number, number | null][] = [];

function epochMs(model: Recommender, train: UserItems): number {
  const times: number[] = [];
  model.fit(train, { onEpoch: (_, ms) => times.push(ms) });
  return times.reduce((a, b) => a + b, 0) / times.length;
}

let peer: Record<string, number> = {};
const peerArgs = [
  "bench/recommend_peer.py",
  "--dim",
  String(dim),
  "--users",
  String(nUsers),
  "--items",
  String(nItems),
];
const haveData = existsSync(values.data);
if (haveData) peerArgs.push("--data", values.data, "--threshold", values.threshold);
if (existsSync(values.python)) {
  const r = spawnSync(values.python, peerArgs, { encoding: "utf8" });
  if (r.status === 0) peer = JSON.parse(r.stdout.trim().split("\n").pop()!);
  else process.stderr.write(`peer failed: ${r.stderr}\n`);
} else process.stderr.write(`no python at ${values.python}: no peer figures\n`);

if (haveData) {
  const data = readInteractions(values.data);
  const all = Int32Array.from({ length: data.user.length }, (_, k) => k);
  const train = userItems(data, all, Number(values.threshold));
  const seen = userItems(data, all);
  const rng = new Rng(0);
  const text = {
    n: train.nItems,
    dim: 256,
    data: Float32Array.from({ length: train.nItems * 256 }, () => rng.normal()),
  };
  rows.push(["ML-100k popularity fit", epochMs(new MostPopular(), train), null]);
  rows.push(["ML-100k ItemKNN fit (100 neighbours)", epochMs(new ItemKnn(), train), peer.ml_itemknn_ms ?? null]);
  rows.push(["ML-100k BPR epoch", epochMs(new BprMf({ dim, epochs: 2 }), train), null]);
  const als = new ImplicitAls({ dim, epochs: 2 });
  rows.push(["ML-100k ALS iteration", epochMs(als, train), peer.ml_als_epoch_ms ?? null]);
  rows.push(["ML-100k two-tower epoch", epochMs(new TwoTower(text, { dim, epochs: 1 }), train), null]);
  const users = Int32Array.from({ length: train.nUsers }, (_, u) => u);
  const f = als.factors();
  let t = performance.now();
  topKAll(f, users, 10, { seen });
  rows.push([
    `ML-100k top-10, all ${train.nUsers} users × ${train.nItems} items`,
    performance.now() - t,
    peer.ml_top10_ms ?? null,
  ]);
  t = performance.now();
  recommendAll((u, o) => als.score(u, o), users, { nItems: train.nItems, k: 10, seen });
  rows.push(["  the same, scored in plain TypeScript", performance.now() - t, null]);
}

{
  const rng = new Rng(1);
  const f = {
    dim,
    user: Float32Array.from({ length: nUsers * dim }, () => rng.normal()),
    item: Float32Array.from({ length: nItems * dim }, () => rng.normal()),
  };
  const users = Int32Array.from({ length: nUsers }, (_, u) => u);
  const t = performance.now();
  recommendAll(factorScorer(f), users, { nItems, k: 10, blockSize: 64 });
  rows.push([
    `synthetic top-10, ${nUsers} users × ${nItems} items, dim ${dim}`,
    performance.now() - t,
    peer.synthetic_top10_ms ?? null,
  ]);
  // 50 interactions per user
  const u: number[] = [];
  const it: number[] = [];
  for (let a = 0; a < nUsers; a++) for (let b = 0; b < 50; b++) u.push(a), it.push(rng.int(nItems));
  const order = Array.from(u.keys());
  const data = {
    file: "synthetic",
    users: Array.from({ length: nUsers }, (_, k) => String(k)),
    items: Array.from({ length: nItems }, (_, k) => String(k)),
    user: Int32Array.from(u),
    item: Int32Array.from(it),
    rating: new Float32Array(u.length).fill(1),
    time: Float64Array.from(order),
    line: Int32Array.from(order),
    duplicates: 0,
  };
  const train = userItems(data, Int32Array.from(order));
  rows.push([`synthetic BPR epoch (${u.length} interactions)`, epochMs(new BprMf({ dim, epochs: 1 }), train), null]);
}

const w = Math.max(...rows.map((r) => r[0].length));
process.stdout.write(`${"".padEnd(w)}  ${"graft ms".padStart(10)}  ${"numpy ms".padStart(10)}  numpy/graft\n`);
for (const [name, ms, p] of rows)
  process.stdout.write(
    `${name.padEnd(w)}  ${ms.toFixed(1).padStart(10)}  ${(p === null ? "-" : p.toFixed(1)).padStart(10)}  ${p === null ? "-" : (p / ms).toFixed(2)}\n`,
  );
if (peer.numpy) process.stdout.write(`peer: numpy ${peer.numpy} (bench/recommend_peer.py), same data and algorithms\n`);
