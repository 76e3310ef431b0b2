/**
 * The tabular kind end to end on a tiny synthetic customer table (numeric, categorical, boolean, text and id
 * columns): fine-tuning the fused model with its baselines and importances, graft eval on new records (an unseen
 * category, no id column), and the bad inputs (one class, text in a numeric column, columns that differ).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../src/util/rng.js";
import { evaluateFile, finetune } from "../../src/tasks/index.js";
import { makeTinyBert, NEGATIVE, POSITIVE } from "./fixtures.js";

const work = mkdtempSync(join(tmpdir(), "graft-tabular-"));
test.after(() => rmSync(work, { recursive: true, force: true }));
const model = makeTinyBert(join(work, "bert"));

/** Customers: churn when the contract is monthly and tenure is short; the note's word carries a little signal. */
function customers(n: number, seed: number, opts: { plans?: string[] } = {}): string {
  const r = new Rng(seed);
  const plans = opts.plans ?? ["monthly", "yearly", "two-year"];
  const lines = ["id,tenure,charges,plan,paperless,note,Churn"];
  for (let i = 0; i < n; i++) {
    const tenure = r.int(72);
    const plan = plans[r.int(plans.length)];
    const churn = plan === "monthly" && tenure < 30;
    const word = (churn ? NEGATIVE : POSITIVE)[r.int(5)];
    const charges = i % 17 === 0 ? "" : (20 + r.uniform() * 80).toFixed(2);
    lines.push(
      `C${seed}-${i},${tenure},${charges},${plan},${r.int(2) ? "Yes" : "No"},the service was ${word},${churn ? "Yes" : "No"}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

test("tabular: fused model, baselines, importances, and graft eval with an unseen category", async () => {
  const data = join(work, "train.csv");
  writeFileSync(data, customers(240, 1));
  const out = join(work, "run");
  const r = await finetune({
    task: "tabular",
    model,
    data,
    labelColumn: "Churn",
    output: out,
    validationFraction: 0.2,
    testFraction: 0.2,
    tuneThreshold: true,
    training: { epochs: 15, batchSize: 32, lr: 3e-3, seed: 0, saveEvery: "none", metricForBest: "roc_auc" },
  } as never);
  const summary = JSON.parse(readFileSync(join(out, "data.json"), "utf8"));
  assert.deepEqual(summary.columnTypes, {
    id: "id",
    tenure: "numeric",
    charges: "numeric",
    plan: "categorical",
    paperless: "boolean",
    note: "text",
  });
  assert.equal(summary.model.text_size, 16); // the tiny encoder's hidden size
  assert.ok(r.test.roc_auc > 0.85, `fused ROC-AUC ${r.test.roc_auc}`);
  assert.ok(r.baseline && r.baseline.logreg_roc_auc > 0.7 && r.baseline.gbdt_roc_auc > 0.7, JSON.stringify(r.baseline));
  assert.ok(r.notes.some((n) => /permutation importance on validation/.test(n)));
  const report = readFileSync(join(out, "report.html"), "utf8");
  assert.match(report, /Models side by side/);
  assert.match(report, /Permutation importance/);
  // new records: a plan training never saw, no id column
  const later = join(work, "later.csv");
  const rows = customers(40, 9, { plans: ["monthly", "quarterly"] })
    .split("\n")
    .map((l) => l.split(",").slice(1).join(","));
  writeFileSync(later, rows.join("\n"));
  const ev = await evaluateFile(join(out, "best"), later);
  assert.equal(ev.examples, 40);
  assert.ok(ev.metrics.accuracy > 0.5);
  // columns that differ from training's
  const other = join(work, "other.csv");
  writeFileSync(other, "tenure,charges,plan,region,note,Churn\n3,20,monthly,north,ok,Yes\n");
  await assert.rejects(evaluateFile(join(out, "best"), other), /"paperless" missing, "region" unknown/);
});

test("tabular: bad input is named (one class, text in a numeric column, no label column)", async () => {
  const one = join(work, "one.csv");
  writeFileSync(one, customers(30, 2).replace(/,Yes\n/g, ",No\n"));
  const base = { task: "tabular", model, labelColumn: "Churn", output: join(work, "bad") };
  await assert.rejects(finetune({ ...base, data: one } as never), /single class/);
  const text = join(work, "text.csv");
  const lines = customers(60, 3).split("\n");
  lines[7] = lines[7].replace(/^([^,]*),\d+,/, "$1,about ten,");
  writeFileSync(text, lines.join("\n"));
  await assert.rejects(
    finetune({ ...base, data: text } as never),
    (e: Error) => /"tenure" is numeric but holds "about ten"/.test(e.message) && /line 8/.test(e.message),
  );
  await assert.rejects(finetune({ ...base, data: one, labelColumn: "churned" } as never), /no label column "churned"/);
});
