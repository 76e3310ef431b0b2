/**
 * `graft select` on tiny checkpoints: features of a base encoder and of a fine-tuned classifier (which also gets a
 * LEEP score from its head), the ranking by LogME, NER word features, --verify's fine-tuning and Kendall's τ, and
 * the command line (table and --json).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { finetune } from "../../src/tasks/index.js";
import { checkpointFeatures, readLabelledData, selectModels } from "../../src/methods/index.js";
import { makeTinyBert, nerConll, sentimentCsv } from "../tasks/fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-select-"));
test.after(() => rmSync(work, { recursive: true, force: true }));
const bin = fileURLToPath(new URL("../../../bin/graft.js", import.meta.url));
const bert = makeTinyBert(join(work, "bert"), 1);
const other = makeTinyBert(join(work, "bert-2"), 2);
const data = join(work, "sent.csv");
sentimentCsv(data, 120, 5);
const fast = { epochs: 4, batchSize: 16, lr: 3e-3, logEvery: 50, seed: 3, warmupRatio: 0.1 };

test("select scores base and fine-tuned checkpoints, LEEP only where a source head exists, ranked by LogME", async () => {
  const tuned = await finetune({ model: bert, data, output: join(work, "run"), training: fast });
  const r = await selectModels({ models: [bert, other, tuned.bestDir], data, folds: 4 });
  assert.equal(r.ranking.length, 3);
  assert.deepEqual(r.labels, ["neg", "pos"]);
  for (let i = 1; i < 3; i++) assert.ok(r.ranking[i - 1].logme >= r.ranking[i].logme);
  const byModel = new Map(r.ranking.map((c) => [c.model, c]));
  assert.equal(byModel.get(bert)!.leep, null);
  const ft = byModel.get(tuned.bestDir)!;
  assert.ok(ft.leep !== null && ft.leep <= 0, `LEEP ${ft.leep}`);
  assert.equal(ft.dim, 16);
  assert.equal(ft.examples, 120);
  // the fine-tuned encoder separates the classes: it ranks first, and its probes are well above chance
  assert.equal(r.ranking[0].model, tuned.bestDir);
  assert.ok(ft.knn > 0.75 && ft.probe > 0.9, `kNN ${ft.knn} probe ${ft.probe}`);
});

test("features: mean pooling averages a row's tokens; NER gives one vector per word", async () => {
  const d = await readLabelledData(data, "classification", { limit: 10 });
  assert.equal(d.y.length, 10);
  const mean = await checkpointFeatures(bert, d, { pooling: "mean" });
  const cls = await checkpointFeatures(bert, d, { pooling: "cls" });
  assert.equal(mean.n, 10);
  assert.equal(mean.d, 16);
  assert.notDeepEqual(Array.from(mean.x.slice(0, 16)), Array.from(cls.x.slice(0, 16)));
  const conll = join(work, "ner.txt");
  nerConll(conll, 30, 2);
  const ner = await readLabelledData(conll, "ner");
  assert.deepEqual(ner.labels, ["B-LOC", "B-PER", "O"]);
  const f = await checkpointFeatures(bert, ner);
  assert.equal(f.n, ner.y.length);
  assert.equal(f.theta, null);
  const r = await selectModels({ models: [bert], data: conll, task: "ner", folds: 3 });
  assert.ok(Number.isFinite(r.ranking[0].logme));
});

test("--verify fine-tunes each candidate and reports Kendall's tau of every score", async () => {
  const r = await selectModels({
    models: [bert, other],
    data,
    folds: 3,
    verify: { config: { training: { ...fast, epochs: 1 } }, outputDir: join(work, "verify"), metric: "accuracy" },
  });
  assert.equal(r.verify!.metric, "accuracy");
  for (const c of r.ranking) assert.ok(c.finetuned! >= 0 && c.finetuned! <= 1 && c.runDir);
  for (const t of Object.values(r.verify!.tau)) assert.ok(t === null || (t >= -1 && t <= 1));
  assert.equal(r.verify!.tau.leep, null); // neither base checkpoint has a head
});

test("graft select prints the ranking table and --json; a bad file is a clear error", () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, "select", ...args], { encoding: "utf8" });
  const table = run("--models", bert, other, "--data", data, "--limit", "60", "--folds", "3");
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /ranked by LogME/);
  assert.match(table.stdout, /rank\s+model\s+LogME\s+LEEP\s+kNN\s+probe/);
  const json = JSON.parse(run("--models", bert, "--data", data, "--json", "--pooling", "cls").stdout);
  assert.equal(json.ranking[0].examples, 120);
  const bad = join(work, "one-class.csv");
  writeFileSync(bad, "text,label\ngood film,pos\nfine film,pos\n");
  const err = run("--models", bert, "--data", bad);
  assert.equal(err.status, 1);
  assert.match(err.stderr, /one-class\.csv: needs at least two classes, found 1/);
});

test("--verify fine-tunes a classifier tuned on another number of labels as a base with a fresh head", async () => {
  const three = join(work, "three.csv");
  const rows = ["text,label"];
  for (let i = 0; i < 48; i++) rows.push(`${["good", "bad", "fine"][i % 3]} film ${i % 7},c${i % 3}`);
  writeFileSync(three, rows.join("\n") + "\n");
  const tuned = await finetune({ model: bert, data: three, output: join(work, "three-run"), training: fast });
  const lines: string[] = [];
  const r = await selectModels({
    models: [tuned.bestDir, bert],
    data,
    limit: 60,
    folds: 3,
    verify: { config: { training: { ...fast, epochs: 1 } }, outputDir: join(work, "verify-3"), metric: "accuracy" },
    log: (l) => lines.push(l),
  });
  const byModel = new Map(r.ranking.map((c) => [c.model, c]));
  assert.ok(byModel.get(tuned.bestDir)!.leep !== null); // its 3-class head scores LEEP on the 2-class data
  assert.ok(byModel.get(tuned.bestDir)!.finetuned! >= 0);
  assert.ok(
    lines.some((l) => /classifier\.weight/.test(l) && /shapes did not match/.test(l)),
    "the re-initialized head is reported",
  );
});
