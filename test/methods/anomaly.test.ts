/**
 * graft anomaly end to end on tiny data: a table's numeric columns with planted outliers (every detector, the
 * autoencoder included, ranks them first; calibration flags about the contamination share), TF-IDF vectors of
 * texts through the CLI with the semi-supervised score and the report, and the bad inputs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../src/util/rng.js";
import { fitAnomaly, precisionAtK, scoreAnomaly } from "../../src/methods/index.js";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const work = mkdtempSync(join(tmpdir(), "graft-anomaly-"));
test.after(() => rmSync(work, { recursive: true, force: true }));
const GRAFT = fileURLToPath(new URL("../../../bin/graft.js", import.meta.url));
/** Runs the graft CLI in a child process: its exit code and stdout. */
function graft(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [GRAFT, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Transactions: amount ≈ 10 × items; the frauds (fraud = 1) are far larger amounts. */
function transactions(n: number, seed: number, frauds: number): string {
  const r = new Rng(seed);
  const lines = ["id,items,amount,hour,fraud"];
  for (let i = 0; i < n; i++) {
    const items = 1 + r.int(9);
    const fraud = i >= n - frauds;
    const amount = fraud ? 10 * items + 250 + 20 * r.uniform() : 10 * items + r.normal();
    lines.push(`T${i},${items},${amount.toFixed(2)},${8 + r.int(10)},${fraud ? 1 : 0}`);
  }
  return `${lines.join("\n")}\n`;
}

test("every detector ranks planted outliers of a table first; calibration flags the contamination share", async () => {
  const train = join(work, "train.csv");
  const test_ = join(work, "test.csv");
  writeFileSync(train, transactions(300, 1, 6)); // unsupervised: a few frauds among the training records
  writeFileSync(test_, transactions(200, 2, 8));
  const model = await fitAnomaly({
    data: train,
    out: join(work, "det"),
    input: "table",
    labelColumn: "fraud",
    contamination: 0.05,
    epochs: 40,
    seed: 0,
  });
  assert.deepEqual(model.features.kind === "table" && model.features.columns.map((c) => c.name), [
    "items",
    "amount",
    "hour",
  ]);
  for (const d of model.detectors) {
    const flagged = d.trainScores.filter((s) => s > d.threshold).length;
    assert.ok(Math.abs(flagged - 15) <= 1, `${d.name} flags ${flagged} of 300`);
  }
  const r = await scoreAnomaly({ model, data: test_, normalLabel: "0", out: join(work, "scores.jsonl") });
  assert.equal(r.anomalies, 8);
  for (const name of ["mahalanobis", "knn", "iforest", "autoencoder"])
    assert.ok(r.detectors[name].pr_auc > 0.9, `${name}: ${JSON.stringify(r.detectors[name])}`);
  const first = JSON.parse(readFileSync(join(work, "scores.jsonl"), "utf8").split("\n")[0]);
  assert.deepEqual(Object.keys(first.scores), ["mahalanobis", "knn", "iforest", "autoencoder"]);
  assert.equal(precisionAtK([0, 1, 0, 1], [0.1, 0.9, 0.8, 0.2], 2), 0.5);
});

test("graft anomaly fit|score on TF-IDF vectors: normal-only training, known anomalies, report; bad input named", async () => {
  const r = new Rng(5);
  const normal = [
    "see you at lunch",
    "call me when home",
    "ok see you soon",
    "running late sorry",
    "dinner at home ok",
  ];
  const spam = ["win cash prize now", "free prize call now to win", "claim your free cash"];
  const line = (text: string, label: string) => JSON.stringify({ text, label });
  const pick = (xs: string[]) => xs[r.int(xs.length)];
  const trainLines = Array.from({ length: 80 }, (_, i) =>
    i % 10 === 0 ? line(pick(spam), "spam") : line(pick(normal), "ham"),
  );
  const testLines = Array.from({ length: 40 }, (_, i) =>
    i % 5 === 0 ? line(pick(spam), "spam") : line(pick(normal), "ham"),
  );
  writeFileSync(join(work, "train.jsonl"), `${trainLines.join("\n")}\n`);
  writeFileSync(join(work, "test.jsonl"), `${testLines.join("\n")}\n`);
  writeFileSync(join(work, "known.jsonl"), `${line(spam[0], "spam")}\n`);
  const det = join(work, "sms-det");
  const fit = graft(
    "anomaly",
    "fit",
    "--data",
    join(work, "train.jsonl"),
    "--input",
    "tfidf",
    "--normal-label",
    "ham",
    "--known",
    join(work, "known.jsonl"),
    "--detectors",
    "knn,mahalanobis",
    "--out",
    det,
  );
  assert.equal(fit.status, 0, fit.stderr);
  const report = join(work, "anomalies.html");
  const score = graft(
    "anomaly",
    "score",
    "--model",
    det,
    "--data",
    join(work, "test.jsonl"),
    "--normal-label",
    "ham",
    "--report",
    report,
    "--json",
  );
  assert.equal(score.status, 0, score.stderr);
  assert.match(readFileSync(report, "utf8"), /score distribution/);
  const json = JSON.parse(score.stdout);
  assert.equal(json.anomalies, 8);
  assert.ok(json.detectors.knn.pr_auc > 0.9, JSON.stringify(json.detectors));
  assert.ok("semi_knn" in json.detectors);
  // a table whose numeric column holds text is named by file, line and value
  writeFileSync(join(work, "bad.csv"), "items,amount\n1,10\n2,twenty\n3,30\n");
  const model = await fitAnomaly({
    data: join(work, "train.csv"),
    out: join(work, "det2"),
    input: "table",
    labelColumn: "fraud",
    detectors: ["knn"],
  });
  await assert.rejects(scoreAnomaly({ model, data: join(work, "bad.csv") }), /no column "hour"/);
  writeFileSync(join(work, "bad2.csv"), "items,amount,hour,fraud\n1,10,9,0\n2,twenty,9,0\n");
  await assert.rejects(
    scoreAnomaly({ model, data: join(work, "bad2.csv") }),
    (e: Error) => /"amount" is numeric but holds "twenty"/.test(e.message) && /line 3/.test(e.message),
  );
});
