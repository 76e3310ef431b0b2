/**
 * A cheap tuning objective for warm-start experiments (scripts/methods/warm-vs-cold.mjs): TF-IDF + logistic
 * regression (graft's classical baseline) trained on a TSV (text<TAB>label with a header) and scored by macro-F1 on
 * another. Use it as { "objective": { "module": "scripts/methods/tfidf-objective.mjs", "export": "tfidfObjective",
 * "options": { "train": "...", "validation": "..." } } } with the space of TFIDF_SPACE.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const { TextClassifier } = await import(join(root, "dist/src/data/classical/pipeline.js"));

export const TFIDF_SPACE = {
  C: { type: "loguniform", low: 0.01, high: 1000 },
  ngramMax: { type: "int", low: 1, high: 3 },
  minDf: { type: "int", low: 1, high: 5 },
  maxDf: { type: "uniform", low: 0.2, high: 1 },
  sublinearTf: { type: "categorical", choices: [true, false] },
};

function readTsv(file) {
  const [, ...rows] = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim());
  const texts = [],
    labels = [];
  for (const r of rows) {
    const tab = r.lastIndexOf("\t");
    texts.push(r.slice(0, tab));
    labels.push(r.slice(tab + 1).trim());
  }
  return { texts, labels };
}

function macroF1(gold, pred) {
  const labels = [...new Set(gold)];
  let sum = 0;
  for (const l of labels) {
    let tp = 0,
      fp = 0,
      fn = 0;
    for (let i = 0; i < gold.length; i++) {
      if (pred[i] === l && gold[i] === l) tp++;
      else if (pred[i] === l) fp++;
      else if (gold[i] === l) fn++;
    }
    sum += tp ? (2 * tp) / (2 * tp + fp + fn) : 0;
  }
  return sum / labels.length;
}

export function tfidfObjective(options) {
  const train = readTsv(options.train);
  const validation = readTsv(options.validation);
  return async (trial) => {
    const p = trial.params;
    const model = TextClassifier.fit(train.texts, train.labels, {
      model: "logreg",
      classifier: { C: p.C, maxIter: 200 },
      tfidf: { ngramRange: [1, p.ngramMax], minDf: p.minDf, maxDf: p.maxDf, sublinearTf: p.sublinearTf },
    });
    const ids = model.predictIds(validation.texts);
    return macroF1(
      validation.labels,
      Array.from(ids, (i) => model.labels[i]),
    );
  };
}
