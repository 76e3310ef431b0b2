/** `graft monitor` end to end: write the reference from a run's predictions.jsonl, then check a log written here. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SampleLog } from "../../src/monitor/log.js";
import { REFERENCE_FILE } from "../../src/monitor/reference.js";
import { Rng } from "../../src/util/rng.js";
import { graft, tempDir } from "../tune/helpers.js";

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** A run directory as graft finetune leaves it: best/config.json and predictions.jsonl of a binary classifier. */
function fakeRun(dir: string, rng: Rng): { model: string; predictions: string } {
  const model = join(dir, "best");
  mkdirSync(model, { recursive: true });
  writeFileSync(join(model, "config.json"), JSON.stringify({ id2label: { 0: "neg", 1: "pos" } }));
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) {
    const p = sigmoid(rng.normal(0.5, 1));
    const pred = p > 0.5 ? "pos" : "neg";
    lines.push(JSON.stringify({ text: `t${i}`, label: pred, pred, probs: [1 - p, p].map((v) => +v.toFixed(6)) }));
  }
  const predictions = join(dir, "predictions.jsonl");
  writeFileSync(predictions, lines.join("\n") + "\n");
  return { model, predictions };
}

async function writeLog(path: string, rng: Rng, mean: number, n: number): Promise<void> {
  const log = await SampleLog.open(path, { sampleRate: 1, flushIntervalMs: 0 });
  const hook = log.hook("sst2");
  for (let i = 0; i < n; i++) {
    const p = sigmoid(rng.normal(mean, 1));
    hook(
      "/predict",
      [`served ${i}`],
      [
        [
          { label: p > 0.5 ? "pos" : "neg", score: Math.max(p, 1 - p) },
          { label: p > 0.5 ? "neg" : "pos", score: Math.min(p, 1 - p) },
        ],
      ],
    );
  }
  log.close();
}

test("graft monitor writes the reference, reports ok on like traffic and degraded on shifted traffic, with HTML", async () => {
  const dir = tempDir("graft-monitor-cli-");
  const rng = new Rng(21);
  const { model, predictions } = fakeRun(dir, rng);

  const ref = await graft(["monitor", "--model", model, "--reference", predictions]);
  assert.equal(ref.code, 0, ref.output);
  assert.match(ref.output, /wrote .*drift_reference\.json: 400 predictions, scores neg, pos, 2 labels/);
  assert.ok(existsSync(join(model, REFERENCE_FILE)));

  const same = join(dir, "same.sqlite");
  await writeLog(same, rng, 0.5, 300);
  const ok = await graft(["monitor", "--model", model, "--log", same]);
  assert.equal(ok.code, 0, ok.output);
  assert.match(ok.output, /^feature\s+test\s+statistic\s+p-value\s+threshold\s+drift\s+PSI/m);
  assert.match(ok.output, /^score:pos\s+ks\s+\S+\s+\S+\s+0\.05\s+no/m);
  assert.match(ok.output, /^label\s+z\s+/m);
  assert.match(ok.output, /^status: ok$/m);

  const shifted = join(dir, "shifted.sqlite");
  await writeLog(shifted, rng, -0.7, 300);
  const html = join(dir, "drift.html");
  const bad = await graft(["monitor", "--model", model, "--log", shifted, "--html", html]);
  assert.equal(bad.code, 0, bad.output);
  assert.match(bad.output, /^score:pos\s+ks\s+\S+\s+\S+\s+0\.05\s+yes/m);
  assert.match(bad.output, /^status: degraded$/m);
  const page = readFileSync(html, "utf8");
  assert.match(page, /<h2>Scores and labels<\/h2>/);
  assert.match(page, /Kolmogorov–Smirnov/);
  assert.match(page, /<svg/);
  assert.match(page, /Predicted labels/);

  const json = await graft(["monitor", "--model", model, "--log", shifted, "--json", "--window", "100"]);
  assert.equal(json.code, 0, json.output);
  const report = JSON.parse(json.output);
  assert.equal(report.status, "degraded");
  assert.equal(report.samples, 100);
  assert.deepEqual(
    report.features.map((f: { feature: string }) => f.feature),
    ["score:neg", "score:pos", "label"],
  );
});

test("graft monitor's errors name what is wrong", async () => {
  const dir = tempDir("graft-monitor-cli-");
  const model = join(dir, "m");
  mkdirSync(model);
  const noRef = await graft(["monitor", "--model", model, "--log", join(dir, "x.sqlite")]);
  assert.equal(noRef.code, 1);
  assert.match(noRef.output, /drift_reference\.json does not exist/);
  assert.match(noRef.output, /graft monitor --model DIR --reference/);
  const noLog = await graft(["monitor", "--model", model]);
  assert.equal(noLog.code, 1);
  assert.match(noLog.output, /needs --log FILE/);
  writeFileSync(join(dir, "p.jsonl"), '{"pred":"a","probs":[0.5,0.5]}\n');
  assert.equal((await graft(["monitor", "--model", model, "--reference", join(dir, "p.jsonl")])).code, 0);
  const junk = join(dir, "junk.sqlite");
  writeFileSync(junk, "not a database at all, not even close to one; just text of some length.......");
  const corrupt = await graft(["monitor", "--model", model, "--log", junk]);
  assert.equal(corrupt.code, 1);
  assert.match(corrupt.output, /junk\.sqlite is not a readable SQLite database/);
});
