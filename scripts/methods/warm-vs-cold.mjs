#!/usr/bin/env node
/**
 * Warm vs cold tuning (docs/methods.md "Warm-started tuning"). Subsamples SST-2, AG News and SMS spam from
 * ../shared/datasets into WORK (TRAIN training and VALID validation examples each), runs one SOURCE_TRIALS-trial TPE
 * study per dataset (the earlier studies), then for each target dataset runs TPE studies of N trials cold and
 * warm-started from the studies of the OTHER two datasets (meta-features measured on each training file), over
 * SEEDS seeds, and prints the best validation macro-F1 after 1, 5 and N trials (mean ± sd over seeds).
 *
 *   node scripts/methods/warm-vs-cold.mjs WORK [N=15] [SEEDS=3] [TRAIN=2000] [VALID=1000] [SOURCE_TRIALS=30]
 * TARGETS=sst2,spam (default sst2,agnews) picks the target datasets; earlier studies already in WORK are reused.
 * Run after `npx tsc` (it imports dist/).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { TFIDF_SPACE } from "./tfidf-objective.mjs";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const { runTune } = await import(join(root, "dist/src/tune/index.js"));
const { datasetMetaFeatures } = await import(join(root, "dist/src/methods/index.js"));
const { Rng } = await import(join(root, "dist/src/util/rng.js"));

const [
  work = "/tmp/graft-warm-vs-cold",
  nArg = "15",
  seedsArg = "3",
  trainArg = "2000",
  validArg = "1000",
  srcArg = "30",
] = process.argv.slice(2);
const N = Number(nArg),
  SEEDS = Number(seedsArg),
  TRAIN = Number(trainArg),
  VALID = Number(validArg),
  SOURCE_TRIALS = Number(srcArg);
const data = resolve(root, "../shared/datasets");
mkdirSync(work, { recursive: true });
const log = (l) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${l}\n`);

/** rows of [text, label] → WORK/<name>-train.tsv and -validation.tsv (disjoint seeded samples). */
function write(name, rows) {
  const rng = new Rng(7);
  const p = rng.permutation(rows.length);
  const pick = (a, b) => Array.from(p.subarray(a, b), (i) => rows[i]);
  const clean = (t) => t.replace(/[\t\n\r]+/g, " ");
  const out = {};
  for (const [k, part] of [
    ["train", pick(0, TRAIN)],
    ["validation", pick(TRAIN, TRAIN + VALID)],
  ]) {
    out[k] = join(work, `${name}-${k}.tsv`);
    writeFileSync(out[k], ["text\tlabel", ...part.map(([t, l]) => `${clean(t)}\t${l}`)].join("\n") + "\n");
  }
  return out;
}
const tsvRows = (f) =>
  readFileSync(f, "utf8")
    .split("\n")
    .slice(1)
    .filter((l) => l.trim())
    .map((l) => {
      const tab = l.lastIndexOf("\t");
      return [l.slice(0, tab), l.slice(tab + 1).trim()];
    });
const DATASETS = {
  sst2: write("sst2", tsvRows(join(data, "sst2/train.tsv"))),
  agnews: write("agnews", tsvRows(join(data, "ag_news/train.tsv"))),
  spam: write(
    "spam",
    readFileSync(join(data, "sms_spam/SMSSpamCollection"), "utf8")
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => {
        const tab = l.indexOf("\t");
        return [l.slice(tab + 1), l.slice(0, tab)];
      }),
  ),
};
const meta = {};
for (const [name, files] of Object.entries(DATASETS)) {
  meta[name] = await datasetMetaFeatures(files.train);
  log(`${name}: ${JSON.stringify(meta[name])}`);
}
const objective = (name) => ({
  module: join(root, "scripts/methods/tfidf-objective.mjs"),
  export: "tfidfObjective",
  options: { train: DATASETS[name].train, validation: DATASETS[name].validation },
});
const study = async (dir, name, trials, seed, warmStart) => {
  const r = await runTune({
    dir,
    config: {
      objective: objective(name),
      space: TFIDF_SPACE,
      direction: "maximize",
      trials,
      seed,
      metaFeatures: meta[name],
      ...(warmStart ? { warmStart } : {}),
    },
    log: (l) => (l.startsWith("warm start") ? log(`  ${l}`) : undefined),
  });
  const values = r.study.trials.map((t) => (t.state === "complete" ? t.values[0] : -Infinity));
  r.study.close();
  return values;
};

// the earlier studies, one per dataset
for (const name of Object.keys(DATASETS)) {
  if (existsSync(join(work, `source-${name}`, "study.sqlite"))) continue;
  log(`source study ${name}: ${SOURCE_TRIALS} trials`);
  const v = await study(join(work, `source-${name}`), name, SOURCE_TRIALS, 100, null);
  log(`  best ${Math.max(...v).toFixed(4)}`);
}
const bestAfter = (values, k) => Math.max(...values.slice(0, k));
const stats = (xs) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean: m, sd: Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1)) };
};
const results = {};
const lines = [`| target | start | best after 1 | best after 5 | best after ${N} |`, "| --- | --- | --- | --- | --- |"];
for (const target of (process.env.TARGETS ?? "sst2,agnews").split(",")) {
  const others = Object.keys(DATASETS).filter((d) => d !== target);
  for (const mode of ["cold", "warm"]) {
    const runs = [];
    for (let seed = 0; seed < SEEDS; seed++) {
      log(`${target} ${mode} seed ${seed}`);
      runs.push(
        await study(
          join(work, `${target}-${mode}-${seed}`),
          target,
          N,
          seed,
          mode === "warm" ? others.map((o) => join(work, `source-${o}`)) : null,
        ),
      );
    }
    results[`${target}-${mode}`] = runs;
    const cell = (k) => {
      const s = stats(runs.map((v) => bestAfter(v, k)));
      return `${s.mean.toFixed(4)} ± ${s.sd.toFixed(4)}`;
    };
    lines.push(
      `| ${target} | ${mode}${mode === "warm" ? ` (from ${others.join(" + ")})` : ""} | ${cell(1)} | ${cell(5)} | ${cell(N)} |`,
    );
    log(lines[lines.length - 1]);
    writeFileSync(join(work, `results-${target}.json`), JSON.stringify({ meta, results }, null, 2));
  }
}
writeFileSync(join(work, "table.md"), lines.join("\n") + "\n");
process.stdout.write(lines.join("\n") + "\n");
