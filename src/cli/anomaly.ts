/**
 * `graft anomaly fit|score`: unsupervised (and semi-supervised) anomaly detection on embeddings of a text file,
 * TF-IDF vectors, or a table's numeric columns (src/methods/anomaly.ts).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { GraftError } from "../util/errors.js";
import { opt, switchesOnly } from "../util/options.js";
import {
  ANOMALY_DETECTORS,
  ANOMALY_FILE,
  fitAnomaly,
  scoreAnomaly,
  type AnomalyDetector,
  type AnomalyInput,
  type AnomalyModel,
} from "../methods/index.js";
import { anomalyReportHtml } from "../report/index.js";
import { readOptionsFrom, readSchema } from "./data.js";
import { addOptions, resolveFlags } from "./options.js";

const INPUTS = ["embeddings", "tfidf", "table"] as const;

export const ANOMALY_FIT_SWITCHES = switchesOnly({
  data: opt.string({ required: true, flag: "--data <file>", help: "training records (text file or table)" }),
  out: opt.string({ required: true, flag: "--out <dir>", help: `where ${ANOMALY_FILE} goes` }),
  input: opt.enum(INPUTS, {
    default: "embeddings",
    flag: "--input <kind>",
    help: "features: embeddings (of --model), tfidf, or table (numeric columns)",
  }),
  model: opt.string({ flag: "--model <dir>", help: "encoder whose mean-pooled embeddings are the features" }),
  detectors: opt.list("string", {
    default: [...ANOMALY_DETECTORS],
    separator: ",",
    flag: "--detectors <names>",
    help: `comma-separated: ${ANOMALY_DETECTORS.join(", ")}`,
  }),
  contamination: opt.number({
    default: 0.05,
    gt: 0,
    lt: 0.5,
    flag: "--contamination <f>",
    help: "share of records flagged: each threshold is this quantile of the training scores",
  }),
  normalLabel: opt.string({
    flag: "--normal-label <label>",
    help: "fit only on records with this label (training on normal data)",
  }),
  known: opt.string({ flag: "--known <file>", help: "known anomalies (same format): adds semi-supervised scores" }),
  k: opt.integer({ default: 5, min: 1, flag: "--k <n>", help: "knn: the neighbour whose distance is the score" }),
  trees: opt.integer({ default: 100, min: 1, flag: "--trees <n>", help: "iforest: trees" }),
  epochs: opt.integer({ default: 30, min: 1, flag: "--epochs <n>", help: "autoencoder: passes over the data" }),
  tfidfFeatures: opt.integer({
    default: 256,
    min: 1,
    flag: "--tfidf-features <n>",
    help: "tfidf: vocabulary size (most frequent terms)",
  }),
  seed: opt.integer({ default: 0, flag: "--seed <n>", help: "seed of the forest and the autoencoder" }),
  ...readSchema("fail"),
});

export const ANOMALY_SCORE_SWITCHES = switchesOnly({
  model: opt.string({
    required: true,
    flag: "--model <dir>",
    help: `directory of ${ANOMALY_FILE} (anomaly fit --out)`,
  }),
  data: opt.string({ required: true, flag: "--data <file>", help: "records to score" }),
  normalLabel: opt.string({
    flag: "--normal-label <label>",
    help: "with a label column: the normal label (others are anomalies) for ROC-AUC, PR-AUC, precision@k",
  }),
  k: opt.integer({ min: 1, flag: "--k <n>", help: "precision@k's k", defaultHelp: "the number of anomalies" }),
  out: opt.string({ flag: "--out <file>", help: "scores.jsonl: each record's scores and flags" }),
  report: opt.string({ flag: "--report <file>", help: "HTML page: metrics, score distributions, top records" }),
  json: opt.boolean({ help: "print JSON" }),
  ...readSchema("fail"),
});

function readModel(dir: string): AnomalyModel {
  try {
    return JSON.parse(readFileSync(join(dir, ANOMALY_FILE), "utf8")) as AnomalyModel;
  } catch (e) {
    throw new GraftError(
      `${dir}: no readable ${ANOMALY_FILE} (${(e as Error).message})`,
      "fit one with graft anomaly fit",
    );
  }
}

export function register(program: Command): void {
  const cmd = program.command("anomaly").description("anomaly detection on embeddings, TF-IDF vectors or tables");
  addOptions(
    cmd.command("fit").description("fit detectors (Mahalanobis, kNN, isolation forest, autoencoder) on records"),
    ANOMALY_FIT_SWITCHES,
  )
    .addHelpText(
      "after",
      "\nExamples:\n  graft anomaly fit --data train.jsonl --normal-label ham --model models/graft-base --out det\n  graft anomaly fit --data tx.csv --input table --label-column fraud --normal-label 0 --out det\n",
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(ANOMALY_FIT_SWITCHES, command);
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const m = await fitAnomaly({
        data: f.data,
        out: f.out,
        input: f.input as AnomalyInput,
        model: f.model,
        detectors: f.detectors as AnomalyDetector[],
        contamination: f.contamination,
        normalLabel: f.normalLabel,
        known: f.known,
        k: f.k,
        trees: f.trees,
        epochs: f.epochs,
        tfidfFeatures: f.tfidfFeatures,
        seed: f.seed,
        read: readOptionsFrom(f),
        labelColumn: f.labelColumn,
        log,
      });
      process.stdout.write(
        `${m.detectors.length} detector(s) fitted on ${m.trainRows} records, written to ${join(f.out, ANOMALY_FILE)}\n`,
      );
    });
  addOptions(cmd.command("score").description("score records with fitted detectors"), ANOMALY_SCORE_SWITCHES)
    .addHelpText(
      "after",
      "\nExamples:\n  graft anomaly score --model det --data test.jsonl --normal-label ham --report anomalies.html\n",
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(ANOMALY_SCORE_SWITCHES, command);
      const model = readModel(f.model);
      const r = await scoreAnomaly({
        model,
        data: f.data,
        read: readOptionsFrom(f),
        labelColumn: f.labelColumn,
        normalLabel: f.normalLabel,
        k: f.k,
        out: f.out,
      });
      if (f.report) {
        const gold = r.anomalies !== null ? r.labels!.map((l) => (l === f.normalLabel ? 0 : 1)) : undefined;
        writeFileSync(
          f.report,
          anomalyReportHtml({
            title: `graft anomaly: ${f.data}`,
            detectors: r.detectors,
            scores: r.scores,
            thresholds: Object.fromEntries(model.detectors.map((d) => [d.name, d.threshold])),
            items: r.items,
            gold,
          }),
        );
      }
      if (f.json) {
        process.stdout.write(
          `${JSON.stringify({ records: r.records, anomalies: r.anomalies, detectors: r.detectors })}\n`,
        );
        return;
      }
      process.stdout.write(
        `${r.records} records${r.anomalies !== null ? `, ${r.anomalies} labelled anomalous` : ""} from ${f.data}\n`,
      );
      const keys = [...new Set(Object.values(r.detectors).flatMap((m) => Object.keys(m)))];
      process.stdout.write(`  ${"detector".padEnd(20)}${keys.map((k) => k.padStart(16)).join("")}\n`);
      for (const [name, m] of Object.entries(r.detectors))
        process.stdout.write(
          `  ${name.padEnd(20)}${keys.map((k) => (m[k] === undefined ? "—" : Number.isInteger(m[k]) ? String(m[k]) : m[k].toFixed(4)).padStart(16)).join("")}\n`,
        );
    });
}
