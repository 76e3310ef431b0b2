/** The data commands end to end, as a user runs them: graft data inspect / split, graft baseline, graft predict. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixture, ROOT } from "./fixtures.js";
import { tmpFile } from "./helpers.js";

function graft(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/graft.js"), ...args], {
    encoding: "utf8",
    input,
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const SKLEARN = JSON.parse(readFileSync(fixture("classical_sklearn.json"), "utf8")) as {
  sets: { name: string; models: Record<string, { accuracy: number }> }[];
};

test("graft baseline trains, evaluates and saves; graft predict loads the directory", () => {
  const out = join(tmpFile("x", ""), "..", "model");
  // scikit-learn's TfidfVectorizer() defaults: unigrams, raw counts
  const ok = graft([
    "baseline",
    "--data",
    fixture("sms_spam_train.tsv"),
    "--test",
    fixture("sms_spam_test.tsv"),
    "--model",
    "nb",
    "--ngram",
    "1",
    "--no-sublinear-tf",
    "--out",
    out,
    "--json",
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  const metrics = JSON.parse(ok.stdout) as { test: { accuracy: number; macroF1: number; rows: number } };
  // scikit-learn's TfidfVectorizer() + MultinomialNB() on the same files (test/fixtures/data/classical_sklearn.json)
  assert.equal(metrics.test.accuracy, SKLEARN.sets.find((s) => s.name === "sms_spam")!.models.nb!.accuracy);
  assert.equal(metrics.test.rows, 400);
  for (const f of ["baseline.json", "run.json", "metrics.json", "data.json"]) assert.ok(existsSync(join(out, f)), f);
  const data = JSON.parse(readFileSync(join(out, "data.json"), "utf8"));
  assert.deepEqual(data.sizes, { train: 1000, validation: 0, test: 400 });
  assert.equal(data.files[0].sha256.length, 64);

  const p = graft([
    "predict",
    "--model",
    out,
    "--text",
    "WINNER!! Claim your FREE prize now, call 09061701461",
    "see you at lunch tomorrow",
  ]);
  assert.equal(p.code, 0, p.stderr);
  const preds = p.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    preds.map((x) => x.label),
    ["spam", "ham"],
  );
  assert.ok(Math.abs(preds[0].probabilities.spam + preds[0].probabilities.ham - 1) < 1e-12);
  const onFile = graft(["predict", "--model", out, "--input", fixture("sms_spam_test.tsv"), "--output-format", "tsv"]);
  assert.equal(onFile.code, 0, onFile.stderr);
  assert.equal(onFile.stdout.trim().split("\n").length, 400);
  assert.match(onFile.stderr, /the input has labels: accuracy 92\.75%/);
  const stdin = graft(["predict", "--model", out, "--input", "-"], "free entry to win cash\n\nok thanks\n");
  assert.deepEqual(
    stdin.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).line),
    [1, 3],
  );
});

test("graft baseline --predictions writes each test row's class scores as graft predict does", () => {
  const dir = join(tmpFile("x", ""), "..");
  for (const [model, field] of [
    ["logreg", "probabilities"],
    ["nb", "probabilities"],
    ["svm", "scores"],
  ] as const) {
    const out = join(dir, `pred-${model}`),
      preds = join(dir, `pred-${model}.jsonl`);
    const r = graft([
      "baseline",
      "--data",
      fixture("sms_spam_train.tsv"),
      "--test",
      fixture("sms_spam_test.tsv"),
      "--model",
      model,
      "--out",
      out,
      "--predictions",
      preds,
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const rows = readFileSync(preds, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(rows.length, 400);
    // the same label and scores as graft predict on the saved model
    const p = graft(["predict", "--model", out, "--input", fixture("sms_spam_test.tsv")]);
    assert.equal(p.code, 0, p.stderr);
    const predicted = p.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      rows.map((x) => [x.line, x.prediction, x[field]]),
      predicted.map((x) => [x.line, x.label, x[field]]),
      model,
    );
    if (field === "probabilities")
      for (const x of rows) assert.ok(Math.abs(x.probabilities.spam + x.probabilities.ham - 1) < 1e-12);
    // ROC AUC straight from the file
    const auc = graft([
      "score",
      "roc-auc",
      "--hyp",
      preds,
      "--ref",
      preds,
      "--hyp-field",
      `${field}.spam`,
      "--ref-field",
      "label",
      "--pos-label",
      "spam",
      "--json",
    ]);
    assert.equal(auc.code, 0, auc.stderr);
    const score = JSON.parse(auc.stdout).score as number;
    assert.ok(score > 0.9 && score <= 1, `${model} ROC AUC ${score}`);
  }
});

test("graft baseline holds out a seeded stratified split and records it", () => {
  const dir = join(tmpFile("y", ""), "..");
  const run = (seed: string, out: string) =>
    graft([
      "baseline",
      "--data",
      fixture("authors_train.tsv"),
      "--test-size",
      "0.25",
      "--seed",
      seed,
      "--model",
      "svm",
      "--out",
      join(dir, out),
      "--json",
    ]);
  for (const [seed, out] of [
    ["5", "a"],
    ["5", "b"],
    ["6", "c"],
  ] as const)
    assert.equal(run(seed, out).code, 0);
  const split = (out: string) => JSON.parse(readFileSync(join(dir, out, "data.json"), "utf8")).split;
  assert.equal(split("a").method, "stratified");
  assert.equal(split("a").seed, 5);
  assert.deepEqual(split("a").sizes, { train: 450, validation: 0, test: 150 });
  assert.equal(split("a").assignment, split("b").assignment);
  assert.notEqual(split("a").assignment, split("c").assignment);
  const metrics = JSON.parse(readFileSync(join(dir, "a", "metrics.json"), "utf8"));
  assert.equal(metrics.test.rows, 150);
  assert.deepEqual(Object.keys(metrics.test.perClass).sort(), ["austen", "chesterton", "melville", "shakespeare"]);
});

test("bad rows: the default stops with file and line; --on-bad-row skip reports each one", () => {
  const dir = join(tmpFile("z", ""), "..");
  const file = join(dir, "train.csv");
  const rows = ["text,label"];
  for (let i = 0; i < 40; i++)
    rows.push(`message number ${i} about ${i % 2 ? "cats" : "dogs"},${i % 2 ? "cat" : "dog"}`);
  rows.splice(6, 0, "a row with,too,many fields");
  rows.splice(9, 0, ",dog");
  writeFileSync(file, rows.join("\n") + "\n");
  const fail = graft(["baseline", "--data", file, "--out", join(dir, "m")]);
  assert.equal(fail.code, 1);
  assert.match(fail.stderr, /error: .*train\.csv, line 7: ragged row: 3 fields where the header has 2/);
  assert.match(fail.stderr, /hint: .*--on-bad-row skip/);
  const skip = graft(["baseline", "--data", file, "--on-bad-row", "skip", "--out", join(dir, "m"), "--json"]);
  assert.equal(skip.code, 0, skip.stderr);
  assert.match(skip.stderr, /skipped 2 bad rows:\n.*line 7: ragged row.*\n.*line 10: field "text": empty text/);
  const data = JSON.parse(readFileSync(join(dir, "m", "data.json"), "utf8"));
  assert.deepEqual(
    data.skippedRows.map((r: { line: number }) => r.line),
    [7, 10],
  );
  assert.equal(data.files[0].kept, 40);
});

test("graft data inspect and graft data split", () => {
  const r = graft([
    "data",
    "inspect",
    fixture("sms_spam_train.tsv"),
    "--against",
    fixture("sms_spam_test.tsv"),
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.kept, 1000);
  assert.equal(rep.overlap.rows, 400);
  const text = graft(["data", "inspect", fixture("authors_test.tsv")]);
  assert.match(text.stdout, /labels \(4\)\s+austen\s+60\s+25\.0%/);
  const dir = join(tmpFile("w", ""), "..", "splits");
  const s = graft([
    "data",
    "split",
    fixture("authors_train.tsv"),
    "--out",
    dir,
    "--test-size",
    "0.2",
    "--validation-size",
    "0.1",
    "--seed",
    "3",
  ]);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /train 420, validation 60, test 120 rows/);
  const back = graft(["data", "inspect", join(dir, "validation.jsonl"), "--json"]);
  assert.deepEqual(
    JSON.parse(back.stdout).labels.map((l: { count: number }) => l.count),
    [15, 15, 15, 15],
  );
  // group k-fold: the author column as the group puts each author in exactly one fold
  const folds = join(dir, "..", "folds");
  const k = graft([
    "data",
    "split",
    fixture("authors_test.tsv"),
    "--out",
    folds,
    "--folds",
    "4",
    "--group-column",
    "label",
  ]);
  assert.equal(k.code, 0, k.stderr);
  assert.match(k.stdout, /4 group folds of 60, 60, 60, 60 rows/);
  for (let i = 0; i < 4; i++) {
    const labels = readFileSync(join(folds, `fold-${i}.jsonl`), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).label);
    assert.equal(new Set(labels).size, 1);
  }
  assert.equal(JSON.parse(readFileSync(join(folds, "split.json"), "utf8")).split.method, "group");
});

test("graft predict refuses what it cannot load, with a hint", () => {
  const dir = join(tmpFile("v", ""), "..", "empty");
  mkdirSync(dir, { recursive: true });
  const none = graft(["predict", "--model", dir, "--text", "x"]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no model found \(expected baseline\.json/);
  writeFileSync(join(dir, "baseline.json"), '{"format": "something else"}');
  const bad = graft(["predict", "--model", dir, "--text", "x"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /baseline\.json: not a graft baseline model/);
});

test("graft baseline --config: settings named like the flags, flags typed on the command line win", () => {
  const dir = join(tmpFile("u", ""), "..");
  const cfg = join(dir, "baseline.json");
  writeFileSync(
    cfg,
    JSON.stringify({
      data: fixture("sms_spam_train.tsv"),
      test: fixture("sms_spam_test.tsv"),
      model: "svm",
      ngram: 1,
      sublinearTf: false,
    }),
  );
  const r = graft(["baseline", "--config", cfg, "--model", "nb", "--out", join(dir, "m"), "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    JSON.parse(r.stdout).test.accuracy,
    SKLEARN.sets.find((s) => s.name === "sms_spam")!.models.nb!.accuracy,
  );
  const run = JSON.parse(readFileSync(join(dir, "m", "run.json"), "utf8"));
  assert.equal(run.settings.model, "nb");
  assert.equal(run.settings.ngram, "1");
  // the saved settings are a valid --config for the same run
  writeFileSync(cfg, JSON.stringify(run.settings));
  const again = graft(["baseline", "--config", cfg, "--out", join(dir, "m2"), "--json"]);
  assert.equal(JSON.parse(again.stdout).test.accuracy, JSON.parse(r.stdout).test.accuracy);
  writeFileSync(cfg, JSON.stringify({ data: fixture("sms_spam_train.tsv"), modle: "nb" }));
  const bad = graft(["baseline", "--config", cfg]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown setting "modle" in .*baseline\.json \(did you mean "model"\?\)/);
});
