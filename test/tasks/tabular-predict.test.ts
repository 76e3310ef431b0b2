/**
 * A saved tabular model predicts new records: through the Predictor (records as objects, an unseen category, bad
 * records named), `graft predict --input` on CSV and JSONL (the same predictions; columns that differ refused), and
 * `graft serve`'s POST /predict/records on a real server on 127.0.0.1 (the TEI /predict route keeps texts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../src/util/rng.js";
import { finetune, loadPredictor, type ClassPrediction } from "../../src/tasks/index.js";
import { recordInput } from "../../src/tasks/kinds/tabular/index.js";
import { createServer } from "../../src/serve/index.js";
import { run } from "../../src/cli/main.js";
import { listen, post } from "../serve/fixtures.js";
import { makeTinyBert, NEGATIVE, POSITIVE } from "./fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-tabular-predict-"));
test.after(() => rmSync(work, { recursive: true, force: true }));
/** The CLI in this process: its exit status, what it wrote to --output (when given) and to stderr. */
async function graft(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const out = join(work, `out-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(out, "");
  let stderr = "";
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => {
    stderr += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    const status = await run(["node", "graft", ...args, "--output", out]);
    return { status, stdout: readFileSync(out, "utf8"), stderr };
  } finally {
    process.stderr.write = write;
  }
}

/** Customers: churn when the plan is monthly and tenure is short (as tabular.test.ts). */
function customers(n: number, seed: number, plans = ["monthly", "yearly", "two-year"]) {
  const r = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const tenure = r.int(72);
    const plan = plans[r.int(plans.length)];
    const churn = plan === "monthly" && tenure < 30;
    return {
      id: `C${seed}-${i}`,
      tenure,
      charges: i % 17 === 0 ? null : Number((20 + r.uniform() * 80).toFixed(2)),
      plan,
      paperless: r.int(2) ? "Yes" : "No",
      note: `the service was ${(churn ? NEGATIVE : POSITIVE)[r.int(5)]}`,
      Churn: churn ? "Yes" : "No",
    };
  });
}
type Customer = ReturnType<typeof customers>[number];
const csv = (rows: Customer[], drop: string[] = []) => {
  const cols = Object.keys(rows[0]).filter((c) => !drop.includes(c));
  return `${[cols.join(","), ...rows.map((r) => cols.map((c) => r[c as keyof Customer] ?? "").join(","))].join("\n")}\n`;
};

let modelDir = "";
test.before(async () => {
  const data = join(work, "train.csv");
  writeFileSync(data, csv(customers(240, 1)));
  await finetune({
    task: "tabular",
    model: makeTinyBert(join(work, "bert")),
    data,
    labelColumn: "Churn",
    output: join(work, "run"),
    validationFraction: 0.2,
    testFraction: 0.2,
    tuneThreshold: true,
    training: { epochs: 15, batchSize: 32, lr: 3e-3, seed: 0, saveEvery: "none", metricForBest: "roc_auc" },
  } as never);
  modelDir = join(work, "run", "best");
});

test("Predictor: records in, labels with class probabilities out; an unseen category is the unknown index", async () => {
  const p = loadPredictor(modelDir);
  assert.equal(p.task, "tabular");
  assert.deepEqual([...p.labels], ["No", "Yes"]);
  const later = customers(60, 9, ["monthly", "quarterly"]).map(({ id: _id, Churn: _c, ...r }) => r);
  const preds = (await p.predict(later.map((r) => recordInput(r)))) as ClassPrediction[];
  assert.equal(preds.length, 60);
  for (const q of preds) {
    assert.ok(Math.abs(q.scores.No + q.scores.Yes - 1) < 1e-5);
    assert.equal(q.kind, "probability");
  }
  const gold = customers(60, 9, ["monthly", "quarterly"]).map((c) => c.Churn);
  const right = preds.filter((q, i) => q.label === gold[i]).length;
  assert.ok(right >= 45, `${right}/60 right`);
  // numbers as strings, booleans and nulls read as a CSV's fields would
  const [a, b] = (await p.predict([
    recordInput(later[0]),
    recordInput({ ...later[0], tenure: String(later[0].tenure), charges: later[0].charges?.toString() ?? "NA" }),
  ])) as ClassPrediction[];
  assert.deepEqual(a, b);
  // bad records, named
  const { tenure: _t, ...noTenure } = later[0];
  await assert.rejects(p.predict([recordInput(noTenure)]), /record 1: the columns differ .*"tenure" missing/);
  await assert.rejects(
    p.predict([recordInput(later[0]), recordInput({ ...later[1], tenure: "about ten" }, { file: "x.csv", line: 7 })]),
    (e: Error) => /x\.csv, line 7, field "tenure": column "tenure" is numeric but holds "about ten"/.test(e.message),
  );
  await assert.rejects(p.predict([recordInput({ ...later[0], region: "north" })]), /"region" unknown/);
  await assert.rejects(p.predict(["a text"]), /reads records \(column → value\), not texts/);
});

test("graft predict --input: CSV and JSONL records give the same predictions; other columns are refused", async () => {
  const rows = customers(30, 5);
  const c = join(work, "new.csv");
  writeFileSync(c, csv(rows, ["Churn"]));
  const j = join(work, "new.jsonl");
  writeFileSync(j, `${rows.map(({ Churn: _c, ...r }) => JSON.stringify(r)).join("\n")}\n`);
  const fromCsv = await graft("predict", "--model", modelDir, "--input", c);
  assert.equal(fromCsv.status, 0, fromCsv.stderr);
  const fromJsonl = await graft("predict", "--model", modelDir, "--input", j);
  assert.equal(fromJsonl.status, 0, fromJsonl.stderr);
  const a = fromCsv.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const b = fromJsonl.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(a.length, 30);
  assert.deepEqual(a[0].line, 2);
  assert.deepEqual(b[0].line, 1);
  assert.deepEqual(
    a.map((x) => x.label),
    b.map((x) => x.label),
  );
  a.forEach((x, i) => assert.ok(Math.abs(x.probabilities.Yes - b[i].probabilities.Yes) < 1e-6));
  const other = join(work, "other.csv");
  writeFileSync(other, "tenure,charges,plan,region,note\n3,20,monthly,north,ok\n");
  const r = await graft("predict", "--model", modelDir, "--input", other);
  assert.notEqual(r.status, 0);
  assert.match(
    r.stderr,
    /other\.csv, line 2: the columns differ from the training data's: "paperless" missing, "region" unknown/,
  );
  const bad = join(work, "bad.csv");
  writeFileSync(bad, csv(rows.slice(0, 3), ["Churn"]).replace(/^(C5-1,)\d+/m, "$1twelve"));
  const r2 = await graft("predict", "--model", modelDir, "--input", bad);
  assert.notEqual(r2.status, 0);
  assert.match(r2.stderr, /bad\.csv, line 3, field "tenure": column "tenure" is numeric but holds "twelve"/);
  const r3 = await graft("predict", "--model", modelDir, "--text", "hello");
  assert.match(r3.stderr, /tabular model: give its records as --input FILE/);
});

test("graft serve: POST /predict/records on a real server; bad records answered 400 naming the field", async () => {
  const app = await createServer({ models: { churn: modelDir }, workers: 0 });
  try {
    const base = await listen(app);
    const rows = customers(5, 11).map(({ id: _id, Churn: _c, ...r }) => r);
    const res = await post(`${base}/predict/records`, { inputs: rows });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const local = (await loadPredictor(modelDir).predict(rows.map((r) => recordInput(r)))) as ClassPrediction[];
    assert.deepEqual(
      res.body.map((x: { label: string }) => x.label),
      local.map((q) => q.label),
    );
    const top = res.body[0].scores;
    assert.equal(top.length, 2);
    assert.ok(top[0].score >= top[1].score && Math.abs(top[0].score - local[0].scores[top[0].label]) < 1e-6);
    const one = await post(`${base}/predict/records`, { inputs: rows[0] });
    assert.equal(one.body.label, local[0].label);
    const bad = await post(`${base}/predict/records`, { inputs: [rows[0], { ...rows[1], tenure: "soon" }] });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /body\.inputs\[1\], field "tenure": column "tenure" is numeric but holds "soon"/);
    const missing = await post(`${base}/predict/records`, { inputs: [{ tenure: 3 }] });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error, /"charges" missing/);
    // the TEI route keeps its text shape
    const text = await post(`${base}/predict`, { inputs: [{ tenure: 3 }] });
    assert.equal(text.status, 400);
    const api = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, { post?: object }> };
    assert.ok(api.paths["/predict/records"].post);
  } finally {
    await app.close();
  }
});
