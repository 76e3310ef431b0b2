/**
 * The transfer experiment: fine-tuning the pre-trained model against the same architecture trained from scratch and a TF-IDF baseline, at several training-set sizes.
 *
 * `npm run bench -- transfer [--model models/graft-base] [--datasets sst2,ag_news] [--sizes 100,1000,5000,all] [--lr 2e-4] [--max-length 64]`
 * For each dataset and size: a seeded random subset of the training file; (a) the pre-trained model fine-tuned,
 * (b) the same architecture and tokenizer with random weights, trained with the same settings and budget,
 * (c) TF-IDF + logistic regression. Scored on the dataset's test split (SST-2: dev) with accuracy and macro-F1.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng, manualSeed } from "../src/util/rng.js";
import { readConfig } from "../src/models/index.js";
import { AutoModelForMaskedLM } from "../src/models/index.js";
import { AutoTokenizer } from "../src/tokenizers/index.js";
import { readExamples, TextClassifier } from "../src/data/index.js";
import { accuracy, f1 } from "../src/metrics/classification/index.js";
import { finetune } from "../src/tasks/index.js";

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const shared = process.env.GRAFT_SHARED_DATASETS ?? join(process.cwd(), "..", "shared", "datasets");
const DATASETS: Record<string, { train: string; test: string }> = {
  sst2: { train: join(shared, "sst2", "train.tsv"), test: join(shared, "sst2", "dev.tsv") },
  ag_news: { train: join(shared, "ag_news", "train.tsv"), test: join(shared, "ag_news", "test.tsv") },
};
const model = opt("model", "models/graft-base");
const sizes = opt("sizes", "100,1000,5000")
  .split(",")
  .map((s) => (s === "all" ? Infinity : Number(s)));
const datasets = opt("datasets", "sst2,ag_news").split(",");
const maxLength = Number(opt("max-length", "64"));
const lr = Number(opt("lr", "2e-4"));
const work = mkdtempSync(join(tmpdir(), "graft-transfer-"));

/** The same architecture and tokenizer as `dir`, with fresh random weights. */
async function scratchCopy(dir: string): Promise<string> {
  const out = join(work, "scratch");
  mkdirSync(out, { recursive: true });
  manualSeed(1);
  AutoModelForMaskedLM.fromConfig(readConfig(dir)).savePretrained(out);
  (await AutoTokenizer.fromPretrained(dir)).save(out);
  return out;
}

/** Epochs by size: small sets need more passes to use the same kind of budget. */
const epochsFor = (n: number) => (n <= 100 ? 15 : n <= 1000 ? 5 : 3);

const scratch = await scratchCopy(model);
process.stdout.write(
  `model ${model} (${readConfig(model).model_type}); max length ${maxLength}; lr ${lr}; ${new Date().toISOString().slice(0, 10)}\n`,
);
process.stdout.write("dataset | train size | condition | accuracy | macro-F1 | seconds\n");
for (const name of datasets) {
  const ds = DATASETS[name];
  if (!ds) throw new Error(`unknown dataset ${name}`);
  const [header, ...lines] = readFileSync(ds.train, "utf8").split("\n");
  const rows = lines.filter((l) => l.trim());
  const test = (await readExamples(ds.test)).examples;
  for (const n of sizes.map((s) => Math.min(s, rows.length))) {
    const pick = new Rng(n).permutation(rows.length).subarray(0, n);
    const file = join(work, `${name}-${n}.tsv`);
    writeFileSync(file, [header, ...Array.from(pick, (i) => rows[i])].join("\n") + "\n");
    const training = {
      epochs: epochsFor(n),
      batchSize: 16,
      lr,
      warmupRatio: 0.1,
      seed: 1,
      logEvery: 1000,
      saveEvery: "none" as const,
    };
    for (const [cond, dir] of [
      ["pre-trained", model],
      ["from scratch", scratch],
    ] as const) {
      const t0 = performance.now();
      const r = await finetune({
        model: dir,
        data: file,
        test: ds.test,
        maxLength,
        validationFraction: n <= 100 ? 0.2 : 0.1,
        output: join(work, `${name}-${n}-${cond.replace(" ", "-")}`),
        training,
      });
      process.stdout.write(
        `${name} | ${n} | ${cond} | ${r.test.accuracy.toFixed(4)} | ${r.test.f1_macro.toFixed(4)} | ${((performance.now() - t0) / 1000).toFixed(0)}\n`,
      );
    }
    const t0 = performance.now();
    const train = (await readExamples(file)).examples;
    const clf = TextClassifier.fit(
      train.map((e) => e.text),
      train.map((e) => String(e.label)),
      { model: "logreg" },
    );
    const pred = clf.predict(test.map((e) => e.text)).map((p) => p.label);
    const gold = test.map((e) => String(e.label));
    process.stdout.write(
      `${name} | ${n} | TF-IDF + LR | ${accuracy(gold, pred).toFixed(4)} | ${(f1(gold, pred, { average: "macro", zeroDivision: 0 }) as number).toFixed(4)} | ${((performance.now() - t0) / 1000).toFixed(0)}\n`,
    );
  }
}
rmSync(work, { recursive: true, force: true });
