/** ARI and NMI against scikit-learn (fixture from scripts/fixtures/metrics/clustering.py). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { adjustedRandScore, normalizedMutualInfoScore, type NmiAverage } from "../../src/metrics/clustering.js";
import { findMetric } from "../../src/metrics/registry.js";
import { close, fixture } from "./helpers.js";

type Case = { true: (string | number)[]; pred: (string | number)[]; ari: number; nmi: Record<NmiAverage, number> };
const fx = fixture<{ cases: Case[] }>("clustering.json");

test("adjusted Rand index and NMI equal scikit-learn's to 1e-9", () => {
  assert.ok(fx.cases.length >= 10);
  fx.cases.forEach((c, i) => {
    close(adjustedRandScore(c.true, c.pred), c.ari, `case ${i} ari`, 1e-9);
    for (const m of ["arithmetic", "geometric", "min", "max"] as const)
      close(normalizedMutualInfoScore(c.true, c.pred, m), c.nmi[m], `case ${i} nmi ${m}`, 1e-9);
  });
});

test("ari and nmi are registry metrics; length mismatches are errors", () => {
  const c = fx.cases[8];
  const ari = findMetric("ari")!.entry.compute({ predictions: c.pred, references: [c.true] }, {});
  close(ari[0].score, c.ari, "registry ari", 1e-9);
  const nmi = findMetric("normalized-mutual-info")!.entry.compute({ predictions: c.pred, references: [c.true] }, {});
  close(nmi[0].score, c.nmi.arithmetic, "registry nmi", 1e-9);
  assert.throws(() => adjustedRandScore([0, 1], [0]), /2 true labels but 1 predicted/);
});
