#!/usr/bin/env node
/**
 * Multi-task vs single-task on real data (docs/methods.md "Multi-task"): subsamples SST-2, AG News and CoNLL-2003
 * from ../shared/datasets into a work directory (never into the repository), then trains models/graft-base
 *   (a) on the three tasks together (round-robin: every task gets exactly STEPS steps), and
 *   (b) on each task alone with the same STEPS steps and settings,
 * and prints per-task test metrics as a Markdown table (also written to WORK/results.json).
 *
 *   node scripts/methods/multitask-compare.mjs WORK [STEPS=150] [TRAIN=2000] [SEED=1]
 * Run after `npx tsc` (it imports dist/).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const { multitaskFinetune } = await import(join(root, "dist/src/tasks/index.js"));
const { Rng } = await import(join(root, "dist/src/util/rng.js"));

const [work = "/tmp/graft-multitask-compare", stepsArg = "150", trainArg = "2000", seedArg = "1"] =
  process.argv.slice(2);
const STEPS = Number(stepsArg),
  TRAIN = Number(trainArg),
  SEED = Number(seedArg);
const VALID = 200,
  TEST = 500;
const data = resolve(root, "../shared/datasets");
mkdirSync(work, { recursive: true });

function sample(items, n, rng) {
  const p = rng.permutation(items.length);
  return Array.from(p.subarray(0, Math.min(n, items.length)), (i) => items[i]);
}
/** Splits a TSV with a header into train/validation samples (disjoint) and a test sample of another file. */
function tsv(name, trainFile, testFile, rng) {
  const read = (f) => readFileSync(f, "utf8").split("\n");
  const [header, ...rows] = read(trainFile).filter((l) => l.trim());
  const pool = sample(rows, TRAIN + VALID, rng);
  const [, ...testRows] = read(testFile).filter((l) => l.trim());
  const out = { train: pool.slice(0, TRAIN), validation: pool.slice(TRAIN), test: sample(testRows, TEST, rng) };
  for (const [k, v] of Object.entries(out))
    writeFileSync(join(work, `${name}-${k}.tsv`), [header, ...v].join("\n") + "\n");
}
/** CoNLL sentences (no -DOCSTART-) sampled per split. */
function conll(name, rng) {
  const sents = (f) =>
    readFileSync(f, "utf8")
      .split(/\n\s*\n/)
      .map((s) => s.trim())
      .filter((s) => s && !s.startsWith("-DOCSTART-"));
  const take = {
    train: [join(data, "conll2003/train.txt"), TRAIN],
    validation: [join(data, "conll2003/valid.txt"), VALID],
    test: [join(data, "conll2003/test.txt"), TEST],
  };
  for (const [k, [f, n]] of Object.entries(take))
    writeFileSync(join(work, `${name}-${k}.txt`), sample(sents(f), n, rng).join("\n\n") + "\n");
}
const rng = new Rng(SEED);
tsv("sst2", join(data, "sst2/train.tsv"), join(data, "sst2/dev.tsv"), rng);
tsv("agnews", join(data, "ag_news/train.tsv"), join(data, "ag_news/test.tsv"), rng);
conll("conll", rng);

const files = (name, ext) => ({
  data: join(work, `${name}-train.${ext}`),
  validation: join(work, `${name}-validation.${ext}`),
  test: join(work, `${name}-test.${ext}`),
});
const TASKS = [
  { name: "sentiment", task: "classification", ...files("sst2", "tsv"), maxLength: 48 },
  { name: "topic", task: "classification", ...files("agnews", "tsv"), maxLength: 48 },
  { name: "ner", task: "ner", ...files("conll", "txt"), maxLength: 48 },
];
const common = {
  model: join(root, "models/graft-base"),
  batchSize: 16,
  lr: 2e-4,
  seed: SEED,
  sampling: "round-robin",
  logEvery: 50,
};
const log = (l) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${l}\n`);

const results = { steps: STEPS, train: TRAIN, seed: SEED, multi: null, single: {} };
log(`multi-task: ${TASKS.length} tasks × ${STEPS} steps`);
results.multi = await multitaskFinetune(
  { ...common, tasks: TASKS, steps: STEPS * TASKS.length, output: join(work, "multi") },
  { log },
);
writeFileSync(join(work, "results.json"), JSON.stringify(results, null, 2));
for (const t of TASKS) {
  log(`single task ${t.name}: ${STEPS} steps`);
  results.single[t.name] = await multitaskFinetune(
    { ...common, tasks: [t], steps: STEPS, output: join(work, `single-${t.name}`) },
    { log },
  );
  writeFileSync(join(work, "results.json"), JSON.stringify(results, null, 2));
}
const METRIC = { sentiment: ["accuracy", "f1_macro"], topic: ["accuracy", "f1_macro"], ner: ["f1", "token_accuracy"] };
const lines = ["| task (test split) | metric | alone | multi-task | time alone | ", "| --- | --- | --- | --- | --- |"];
for (const t of TASKS) {
  const multi = results.multi.tasks.find((x) => x.name === t.name);
  const alone = results.single[t.name];
  for (const m of METRIC[t.name])
    lines.push(
      `| ${t.name} | ${m} | ${alone.tasks[0].test[m].toFixed(4)} | ${multi.test[m].toFixed(4)} | ${alone.seconds.toFixed(0)} s |`,
    );
}
lines.push(`\nmulti-task run: ${results.multi.seconds.toFixed(0)} s for ${STEPS * TASKS.length} steps`);
writeFileSync(join(work, "table.md"), lines.join("\n") + "\n");
process.stdout.write(lines.join("\n") + "\n");
