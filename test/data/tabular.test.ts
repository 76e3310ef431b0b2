import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/util/rng.js";
import { GradientBoostedTrees } from "../../src/data/classical/gbdt.js";
import {
  denseFeatures,
  encodeTable,
  fitSchema,
  inferColumnType,
  parseColumnTypes,
  permutationImportance,
  readTable,
  type Table,
} from "../../src/data/tabular/index.js";
import { tmpFile } from "./helpers.js";

const table = (header: string[], rows: string[][]): Table => ({
  file: "t.csv",
  header,
  rows,
  lines: rows.map((_, i) => i + 2),
});

test("column types are inferred from mixed columns", () => {
  const n = 40;
  const ids = Array.from({ length: n }, (_, i) => `${1000 + i}-AB`);
  assert.equal(inferColumnType("customerID", ids), "id");
  assert.equal(
    inferColumnType(
      "tenure",
      Array.from({ length: n }, (_, i) => String(i % 13)),
    ),
    "numeric",
  );
  assert.equal(inferColumnType("TotalCharges", ["1.5", " ", "20.25", "3e2", ""]), "numeric");
  assert.equal(inferColumnType("Partner", ["Yes", "No", "yes", "No"]), "boolean");
  assert.equal(inferColumnType("SeniorCitizen", ["0", "1", "1", "0"]), "boolean");
  assert.equal(inferColumnType("Contract", ["Month-to-month", "One year", "Two year", "One year"]), "categorical");
  const notes = Array.from({ length: n }, (_, i) => `the customer called about invoice ${i} twice`);
  assert.equal(inferColumnType("notes", notes), "text");
  assert.deepEqual(parseColumnTypes("TotalCharges=numeric, customerID=id"), {
    TotalCharges: "numeric",
    customerID: "id",
  });
  assert.throws(() => parseColumnTypes("a=float"), /NAME=TYPE/);
});

test("encoding: standardized numbers with a missing indicator, an unseen category maps to the unknown index", () => {
  const header = ["id", "age", "plan", "Churn"];
  const train = table(header, [
    ["a1", "10", "basic", "No"],
    ["a2", "20", "pro", "Yes"],
    ["a3", "", "basic", "No"],
    ["a4", "30", "pro", "Yes"],
  ]);
  const { schema, inferred } = fitSchema(train, "Churn", { id: "id" });
  assert.deepEqual(inferred, { id: "id", age: "numeric", plan: "categorical" });
  assert.deepEqual(schema.classes, ["No", "Yes"]);
  const enc = encodeTable(schema, train);
  assert.equal(enc.numericWidth, 2);
  const sd = Math.sqrt(200 / 3);
  assert.ok(Math.abs(enc.numeric[0] - -10 / sd) < 1e-12);
  assert.deepEqual([enc.numeric[4], enc.numeric[5]], [0, 1]); // missing: 0 and the indicator
  assert.deepEqual(Array.from(enc.categorical), [1, 2, 1, 2]);
  // prediction time: an unseen plan, no label column, no id column
  const later = encodeTable(schema, table(["age", "plan"], [["15", "enterprise"]]));
  assert.deepEqual(Array.from(later.categorical), [0]);
  assert.deepEqual(Array.from(later.labels), [-1]);
  const dense = denseFeatures(schema, later);
  assert.deepEqual(dense.names, ["age", "age (missing)", "plan=(unknown)", "plan=basic", "plan=pro"]);
  assert.deepEqual(Array.from(dense.x).slice(2), [1, 0, 0]);
});

test("bad input: one-class label, text in a numeric column, columns that differ at prediction", async () => {
  assert.throws(
    () =>
      fitSchema(
        table(
          ["x", "y"],
          [
            ["1", "No"],
            ["2", "No"],
          ],
        ),
        "y",
      ),
    /single class/,
  );
  const rows = Array.from({ length: 30 }, (_, i) => [String(i), i % 2 ? "Yes" : "No"]);
  rows[17][0] = "n/a?";
  assert.throws(
    () => fitSchema(table(["charges", "y"], rows), "y"),
    (e: Error) => /"charges" is numeric but holds "n\/a\?"/.test(e.message) && /line 19/.test(e.message),
  );
  const ok = fitSchema(
    table(
      ["a", "b", "y"],
      [
        ["1", "x", "No"],
        ["2", "z", "Yes"],
      ],
    ),
    "y",
    { b: "categorical" },
  ).schema;
  assert.throws(() => encodeTable(ok, table(["a", "c"], [["1", "x"]])), /"b" missing, "c" unknown/);
  await assert.rejects(readTable(tmpFile("t.csv", "a,b\n1,2\n3\n")), (e: Error) => /line 3/.test(e.message));
});

test("GBDT learns a planted rule (x0 > 0.5 and x2 missing or < 0)", () => {
  const rng = new Rng(7);
  const n = 600,
    d = 4;
  const x = new Float64Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) x[i * d + j] = rng.uniform() * 2 - 1;
    if (i % 10 === 0) x[i * d + 2] = Number.NaN;
    const v2 = x[i * d + 2];
    y[i] = x[i * d] > 0.5 && (Number.isNaN(v2) || v2 < 0) ? 1 : 0;
  }
  const m = new GradientBoostedTrees({ nEstimators: 60, learningRate: 0.3, maxDepth: 3, minSamplesLeaf: 5, seed: 1 });
  m.fit(x, n, d, y);
  assert.ok(m.history[m.history.length - 1] < m.history[0] / 3, `loss ${m.history[0]} → ${m.history.at(-1)}`);
  const p = m.predictProba(x, n);
  const acc = p.reduce((s, v, i) => s + ((v > 0.5 ? 1 : 0) === y[i] ? 1 : 0), 0) / n;
  assert.ok(acc > 0.97, `accuracy ${acc}`);
  const back = GradientBoostedTrees.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
  assert.deepEqual(Array.from(back.predictProba(x, n)), Array.from(p));
  // permutation importance finds the two features of the rule
  const score = (col: number, perm: Int32Array | null) => {
    const xp = x.slice();
    if (perm) for (let i = 0; i < n; i++) xp[i * d + col] = x[perm[i] * d + col];
    const q = m.predictProba(xp, n);
    return q.reduce((s, v, i) => s + ((v > 0.5 ? 1 : 0) === y[i] ? 1 : 0), 0) / n;
  };
  const imp = permutationImportance(d, n, score, { repeats: 2, seed: 3 }).importances;
  const order = [...imp].sort((a, b) => b.mean - a.mean).map((i) => i.column);
  assert.deepEqual(order.slice(0, 2).sort(), [0, 2]);
  assert.throws(() => new GradientBoostedTrees().fit(x, n, d, new Int32Array(n)), /single class/);
});
