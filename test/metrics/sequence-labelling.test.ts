/** Entity-level scores against seqeval (fixtures from scripts/fixtures/metrics/seqeval_reference.py). */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  getEntities,
  strictEntities,
  entityPrecisionRecallF1,
  entityF1,
  entityPrecision,
  entityRecall,
  tokenAccuracy,
  entityReport,
  type EntityAverage,
  type Scheme,
} from "../../src/metrics/sequence-labelling/index.js";
import { captureWarnings } from "../../src/metrics/warnings.js";
import { close, fixture } from "./helpers.js";

const fx = fixture("seqeval.json");
type Ref = { value?: any; error?: string };

function checkScores(c: any, msg: string, suffix = false, scheme: Scheme = c.scheme): void {
  for (const avg of [null, "micro", "macro", "weighted"] as (EntityAverage | null)[]) {
    for (const zd of ["warn", 0, 1] as const) {
      for (const beta of [1.0, 0.5]) {
        const key = `${avg ?? "None"}_${zd}_${beta === 1 ? "1.0" : "0.5"}`;
        for (const mode of ["default", "strict"] as const) {
          const ref = c[`${mode}_${key}`] as Ref | undefined;
          if (!ref) continue;
          const run = () => {
            const r = entityPrecisionRecallF1(c.yTrue, c.yPred, {
              average: avg as any,
              zeroDivision: zd,
              beta,
              mode,
              scheme,
              suffix,
            });
            const x = r as { precision: unknown; recall: unknown; fscore: unknown; support: unknown };
            return [x.precision, x.recall, x.fscore, x.support];
          };
          if (ref.error !== undefined) {
            assert.throws(() => captureWarnings(run), Error, `${msg} ${mode} ${key}: seqeval raised ${ref.error}`);
            continue;
          }
          close(captureWarnings(run).value, ref.value, `${msg} ${mode} ${key}`);
        }
      }
    }
  }
}

test("entities are decoded with conlleval's chunk rules, as seqeval's get_entities", () => {
  for (const c of [...fx.cases, ...fx.edge]) {
    const { value: t } = captureWarnings(() => getEntities(c.yTrue));
    const { value: p } = captureWarnings(() => getEntities(c.yPred));
    assert.deepEqual(t, c.entitiesTrue, JSON.stringify(c.yTrue));
    assert.deepEqual(p, c.entitiesPred, JSON.stringify(c.yPred));
  }
  assert.deepEqual(getEntities(fx.suffix.yTrue, { suffix: true }), fx.suffix.entitiesTrue);
});

for (const [i, c] of (fx.cases as any[]).entries()) {
  test(`random ${c.scheme} sequences #${i % 3}: default and strict scores equal seqeval's`, () => {
    checkScores(c, `${c.scheme} #${i}`);
    close(tokenAccuracy(c.yTrue, c.yPred), c.accuracy, "accuracy");
  });
}

test("edge cases equal seqeval's (no entities, only predictions, I without B, type changes, bare tags, sentence boundaries)", () => {
  for (const c of fx.edge) checkScores(c, c.name);
  checkScores(fx.suffix, "suffix tags", true, "IOBES");
});

test("strict mode drops ill-formed chunks that the default mode repairs", () => {
  const yTrue = [["B-PER", "I-PER", "O"]];
  const yPred = [["I-PER", "I-PER", "O"]];
  assert.equal(entityF1(yTrue, yPred), 1);
  assert.equal(entityF1(yTrue, yPred, { mode: "strict", scheme: "IOB2" }), 0);
  assert.deepEqual(strictEntities(["B-PER", "I-PER", "O", "B-LOC"], "IOB2"), [
    ["PER", 0, 2],
    ["LOC", 3, 4],
  ]);
  assert.deepEqual(strictEntities(["S-PER", "B-LOC", "I-LOC"], "IOBES"), [["PER", 0, 1]]);
});

test("micro is the default average; per-type reports and precision/recall helpers agree", () => {
  const yTrue = [
    ["O", "O", "B-MISC", "I-MISC", "B-MISC", "O", "O"],
    ["B-PER", "I-PER", "O"],
  ];
  const yPred = [
    ["O", "O", "B-MISC", "I-MISC", "B-MISC", "I-MISC", "O"],
    ["B-PER", "I-PER", "O"],
  ];
  close(entityF1(yTrue, yPred), 2 / 3);
  close(entityF1(yTrue, yPred, { average: "macro" }), 0.75);
  close(entityPrecision(yTrue, yPred), 2 / 3);
  close(entityRecall(yTrue, yPred), 2 / 3);
  const r = entityReport(yTrue, yPred);
  assert.deepEqual(
    r.rows.map(([t]) => t),
    ["MISC", "PER"],
  );
  assert.equal(
    r.text,
    [
      "              precision    recall  f1-score   support",
      "",
      "        MISC       0.50      0.50      0.50         2",
      "         PER       1.00      1.00      1.00         1",
      "",
      "   micro avg       0.67      0.67      0.67         3",
      "   macro avg       0.75      0.75      0.75         3",
      "weighted avg       0.67      0.67      0.67         3",
      "",
    ].join("\n"),
  );
});

test("mismatched sentences, unknown prefixes in strict mode and a missing scheme are clear errors", () => {
  assert.throws(() => entityF1([["O", "B-PER"]], [["O"]]), /sentence 1 has 2 true tags but 1 predicted tags/);
  assert.throws(() => entityF1([["O"]], [["O"], ["O"]]), /1 sentences but yPred has 2/);
  assert.throws(
    () => entityF1([["S-PER"]], [["O"]], { mode: "strict", scheme: "IOB2" }),
    /tag "S-PER" is not valid in the IOB2 scheme/,
  );
  assert.throws(() => entityF1([["B-PER"]], [["O"]], { mode: "strict" }), /needs a scheme/);
  const { warnings } = captureWarnings(() => getEntities(["B-PER", "PER", "O"]));
  assert.match(warnings[0]!, /PER seems not to be NE tag/);
});
