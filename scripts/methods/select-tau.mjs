#!/usr/bin/env node
/**
 * The selection figure of docs/methods.md ("Choosing a base model on SST-2 and AG News"): the scores of
 * `graft select --json` (one or more files, e.g. candidates scored in separate processes) next to the test metrics of
 * each candidate's fine-tuning run (the run `graft select --verify` makes: `graft finetune` with the same settings on
 * the same file), as a Markdown table, and Kendall's τ-b of every score against the fine-tuned accuracy and macro-F1.
 *
 *   node scripts/methods/select-tau.mjs SCORES.json[,MORE.json] NAME=MODEL:RUN_DIR ...
 *
 * MODEL is the candidate as `graft select --models` named it; RUN_DIR its fine-tuning run (summary.json is read), or
 * several runs of it (seeds) joined by "+", whose test metrics are averaged.
 * Run after `npx tsc` (it imports dist/).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const { kendallTau } = await import(join(root, "dist/src/methods/index.js"));

const [scoreFiles, ...candidates] = process.argv.slice(2);
if (!scoreFiles || candidates.length < 2) {
  process.stderr.write("usage: select-tau.mjs SCORES.json[,MORE.json] NAME=MODEL:RUN_DIR NAME=MODEL:RUN_DIR ...\n");
  process.exit(2);
}
const scored = scoreFiles.split(",").flatMap((f) => JSON.parse(readFileSync(f, "utf8")).ranking);
const rows = candidates.map((arg) => {
  const m = /^([^=]+)=([^:]+):(.+)$/.exec(arg);
  if (!m) throw new Error(`"${arg}" is not NAME=MODEL:RUN_DIR`);
  const [, name, model, runDir] = m;
  const s = scored.find((c) => c.model === model);
  if (!s) throw new Error(`no scores for ${model} in ${scoreFiles}`);
  // several runs (seeds) of one candidate, joined by "+": their mean
  const tests = runDir.split("+").map((d) => JSON.parse(readFileSync(join(d, "summary.json"), "utf8")).test);
  const mean = (key) => tests.reduce((t, x) => t + x[key], 0) / tests.length;
  return { name, ...s, accuracy: mean("accuracy"), f1: mean("f1_macro") };
});
const fmt = (x, d = 4) => (x === null || x === undefined ? "-" : x.toFixed(d));
const lines = [
  "| candidate | LogME | LEEP | kNN | probe | fine-tuned accuracy | fine-tuned macro-F1 |",
  "| --- | --- | --- | --- | --- | --- | --- |",
];
for (const r of [...rows].sort((a, b) => b.accuracy - a.accuracy))
  lines.push(
    `| ${r.name} | ${fmt(r.logme)} | ${fmt(r.leep)} | ${fmt(r.knn, 3)} | ${fmt(r.probe, 3)} | ${fmt(r.accuracy)} | ${fmt(r.f1)} |`,
  );
lines.push(
  "",
  "| Kendall's τ-b of the score against | LogME | LEEP | kNN | probe |",
  "| --- | --- | --- | --- | --- |",
);
for (const [metric, label] of [
  ["accuracy", "fine-tuned accuracy"],
  ["f1", "fine-tuned macro-F1"],
]) {
  const taus = ["logme", "leep", "knn", "probe"].map((k) => {
    const have = rows.filter((r) => r[k] !== null);
    const t =
      have.length >= 2
        ? kendallTau(
            have.map((r) => r[k]),
            have.map((r) => r[metric]),
          )
        : Number.NaN;
    return Number.isFinite(t) ? t.toFixed(3) : `- (${have.length} of ${rows.length} scored)`;
  });
  lines.push(`| ${label} | ${taus.join(" | ")} |`);
}
process.stdout.write(lines.join("\n") + "\n");
