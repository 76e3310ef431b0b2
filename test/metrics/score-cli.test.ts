/** `graft score`: reading text and JSONL inputs, every metric family, and the errors users will hit. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../src/cli/main.js";
import { corpusBleu, corpusChrf, corpusTer, rocAuc, f1 } from "../../src/metrics/index.js";
import { close, fixture } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "graft-score-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, lines: string[]) => {
  const p = join(dir, name);
  writeFileSync(p, lines.join("\n") + "\n");
  return p;
};

/** Runs the CLI, capturing stdout and stderr. */
async function graft(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "",
    err = "";
  const w1 = process.stdout.write.bind(process.stdout),
    w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    const code = await run(["node", "graft", ...args]);
    return { code, out, err };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
}

const hyps = ["The cat sat on the mat .", "a dog barked loudly", "", "\ufeffBOM stays part of the first word"];
const refs = ["The cat is on the mat.", "A dog barked loudly.", "nothing here", "BOM stays part of the first word"];
const refs2 = ["There is a cat on the mat.", "", "still nothing", "The BOM stays"];

test("bleu, chrf and ter from text files equal the library (multiple references, blank lines, BOM)", async () => {
  const h = file("hyp.txt", hyps),
    r = file("ref.txt", refs),
    r2 = file("ref2.txt", refs2);
  const { code, out } = await graft("score", "bleu", "chrf", "ter", "--hyp", h, "--ref", r, "--ref", r2, "--json");
  assert.equal(code, 0);
  const rows = JSON.parse(out) as { metric: string; score: number; signature: string }[];
  close(
    rows.map((x) => x.score),
    [
      corpusBleu(hyps, [refs, refs2]).score,
      corpusChrf(hyps, [refs, refs2]).score,
      corpusTer(hyps, [refs, refs2]).score,
    ],
  );
  // an empty line is an empty reference, as sacrebleu 2.6 reads files: two references on every line
  assert.equal(rows[0]!.signature, "nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0");
});

test("a reference file with empty lines is scored as sacrebleu scores it", async () => {
  const sb = fixture("sacrebleu.json").empty[0] as Record<string, any>;
  const h = file("eh.txt", sb.hyps),
    r = file("er.txt", sb.refs[0]);
  const { code, out, err } = await graft("score", "bleu", "chrf", "ter", "--hyp", h, "--ref", r, "--json");
  assert.equal(code, 0, err);
  const rows = JSON.parse(out) as { score: number; signature: string }[];
  close(
    rows.map((x) => x.score),
    [sb.bleu_default.score, sb.chrf_default.score, sb.ter_default.score],
    "",
    1e-9,
  );
  assert.deepEqual(
    rows.map((x) => x.signature),
    [sb.bleu_default.signature, sb.chrf_default.signature, sb.ter_default.signature],
  );
});

test("the text table prints sacrebleu-style details and signatures", async () => {
  const { out } = await graft(
    "score",
    "bleu",
    "--hyp",
    file("h1.txt", hyps),
    "--ref",
    file("r1.txt", refs),
    "--tokenize",
    "intl",
    "--lowercase",
  );
  assert.match(out, /^BLEU +\d+\.\d{4} {2}[\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ \(BP = /);
  assert.match(out, /nrefs:1\|case:lc\|eff:no\|tok:intl\|smooth:exp\|version:2\.6\.0/);
});

test("classification metrics read labels and scores from text and JSONL", async () => {
  const gold = ["1", "0", "1", "1", "0", "0", "1"],
    pred = ["1", "0", "0", "1", "0", "1", "1"];
  const score = ["0.9", "0.2", "0.4", "0.8", "0.1", "0.6", "0.7"];
  const g = file("gold.txt", gold),
    p = file("pred.txt", pred),
    s = file("score.txt", score);
  const { out } = await graft("score", "f1", "roc-auc", "--hyp", p, "--ref", g, "--json");
  close(JSON.parse(out)[0].score, f1(gold.map(Number), pred.map(Number)));
  const auc = await graft("score", "roc-auc", "--hyp", s, "--ref", g, "--json");
  close(JSON.parse(auc.out).score, rocAuc(gold.map(Number), score.map(Number)) as number);
  const jl = file(
    "preds.jsonl",
    gold.map((t, i) => JSON.stringify({ label: t === "1" ? "spam" : "ham", pred: pred[i] === "1" ? "spam" : "ham" })),
  );
  const r = await graft(
    "score",
    "f1",
    "--hyp",
    jl,
    "--ref",
    jl,
    "--hyp-field",
    "pred",
    "--ref-field",
    "label",
    "--pos-label",
    "spam",
    "--json",
  );
  close(JSON.parse(r.out).score, f1(gold.map(Number), pred.map(Number)));
  const rep = await graft("score", "classification-report", "--hyp", p, "--ref", g);
  assert.match(rep.out, /accuracy {25}0\.7143 {9}7/);
});

test("entity, regression, ranking and language-model metrics run end to end", async () => {
  const gt = file("gold.tags", ["B-PER I-PER O B-LOC", "O B-ORG I-ORG"]),
    pt = file("pred.tags", ["B-PER I-PER O B-ORG", "O B-ORG I-ORG"]);
  close(JSON.parse((await graft("score", "entity-f1", "--hyp", pt, "--ref", gt, "--json")).out).score, 2 / 3);
  const y = file("y.txt", ["1", "2", "3", "4"]),
    yh = file("yh.txt", ["1", "2", "3", "5"]);
  close(JSON.parse((await graft("score", "mse", "--hyp", yh, "--ref", y, "--json")).out).score, 0.25);
  const recs = file("recs.txt", ["a b c", "x y"]),
    rel = file("rel.txt", ['["b"]', '{"y": 3, "q": 1}']);
  const rk = JSON.parse((await graft("score", "mrr", "hit-rate@1", "--hyp", recs, "--ref", rel, "--json")).out);
  close(
    rk.map((x: { score: number }) => x.score),
    [0.5, 0],
  );
  const loss = file("loss.jsonl", ['{"loss": 10, "tokens": 5}', '{"loss": 2, "tokens": 5}']);
  close(JSON.parse((await graft("score", "perplexity", "--hyp", loss, "--json")).out).score, Math.exp(1.2));
});

test("regression metrics read rows of several outputs, with --multioutput and --no-force-finite", async () => {
  const c = (fixture("regression_multioutput.json").cases as Record<string, any>[]).find(
    (x) => x.name === "constant-column",
  )!;
  const row = (r: number[]) => r.join(" ");
  const y = file("mo-y.txt", c.yTrue.map(row)),
    yh = file("mo-yh.txt", c.yPred.map(row));
  const avg = JSON.parse((await graft("score", "mse", "rmse", "mae", "r2", "--hyp", yh, "--ref", y, "--json")).out);
  close(
    avg.map((x: { score: number }) => x.score),
    [c.mse_uniform_average, c.rmse_uniform_average, c.mae_uniform_average, c.r2_uniform_average_finite],
    "",
    1e-9,
  );
  const raw = await graft(
    "score",
    "r2",
    "explained-variance",
    "--hyp",
    yh,
    "--ref",
    y,
    "--multioutput",
    "raw_values",
    "--no-force-finite",
    "--json",
  );
  const rows = JSON.parse(raw.out) as { metric: string; score: number | null }[];
  assert.deepEqual(
    rows.map((x) => x.metric),
    ["R²[0]", "R²[1]", "R²[2]", "explained variance[0]", "explained variance[1]", "explained variance[2]"],
  );
  // JSON writes -Infinity as null
  close(rows[0]!.score, c.r2_raw_values_plain[0], "", 1e-9);
  assert.equal(rows[1]!.score, null);
  close(rows[3]!.score, c.ev_raw_values_plain[0], "", 1e-9);
});

test("paired bootstrap and confidence intervals annotate generation scores", async () => {
  const r = file("pr.txt", refs),
    a = file("pa.txt", hyps),
    b = file("pb.txt", refs);
  const { code, out } = await graft(
    "score",
    "bleu",
    "--hyp",
    a,
    "--hyp",
    b,
    "--ref",
    r,
    "--paired-bs",
    "100",
    "--json",
  );
  assert.equal(code, 0);
  const rows = JSON.parse(out);
  assert.equal(rows[1].pairedTest.method, "paired bootstrap");
  assert.ok(rows[1].pairedTest.pValue > 0 && rows[1].pairedTest.pValue <= 1);
  assert.match(rows[1].signature, /^nrefs:1\|bs:100\|rs:12345\|/);
  const ci = JSON.parse((await graft("score", "chrf", "--hyp", a, "--ref", r, "--confidence", "50", "--json")).out);
  assert.ok(ci.confidence.lower <= ci.score && ci.score <= ci.confidence.upper);
});

test("clear errors: line counts, bad numbers, single-class ROC AUC, unknown metric, missing field; warnings for undefined scores", async () => {
  const h = file("e-h.txt", ["a", "b", "c"]),
    r = file("e-r.txt", ["a", "b"]);
  let res = await graft("score", "bleu", "--hyp", h, "--ref", r);
  assert.equal(res.code, 1);
  assert.match(res.err, /e-r\.txt: 2 references, but .*e-h\.txt has 3 predictions/);
  res = await graft(
    "score",
    "roc-auc",
    "--hyp",
    file("nan.txt", ["0.5", "nan", "0.1"]),
    "--ref",
    file("lab.txt", ["1", "0", "1"]),
  );
  assert.match(res.err, /nan\.txt, line 2: expected finite scores, got "nan"/);
  res = await graft(
    "score",
    "roc-auc",
    "--hyp",
    file("s3.txt", ["0.2", "0.5", "0.9"]),
    "--ref",
    file("one.txt", ["1", "1", "1"]),
  );
  assert.match(res.err, /only one class \(1\) is present in yTrue; ROC AUC is not defined/);
  res = await graft("score", "blue", "--hyp", h, "--ref", h);
  assert.match(res.err, /unknown metric "blue"/);
  const jl = file("x.jsonl", ['{"prediction": "a"}']);
  res = await graft("score", "bleu", "--hyp", jl, "--ref", jl);
  assert.match(res.err, /x\.jsonl, line 1, field "reference": no field "reference"/);
  res = await graft("score", "f1", "--hyp", file("m3.txt", ["a", "b", "c"]), "--ref", file("m3r.txt", ["a", "c", "c"]));
  assert.match(res.err, /multiclass but average is "binary"/);
  res = await graft("score", "kappa", "--hyp", file("k.txt", ["a", "a"]), "--ref", file("k2.txt", ["a", "a"]));
  assert.equal(res.code, 0);
  assert.match(res.out, /nan/);
  assert.match(res.err, /warning: Cohen's kappa is undefined/);
  res = await graft("score", "accuracy", "--hyp", h, "--ref", h, "--ref", h);
  assert.match(res.err, /accuracy takes exactly one --ref file, got 2/);
});
