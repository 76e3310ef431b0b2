/**
 * `graft recommend train|eval|predict`: recommendations from interaction files (src/recsys/ baselines and the
 * src/recommend/ two-tower model with the pre-trained encoder's text tower). eval scores every model with one
 * harness and writes results.json and report.html; train fits one model on all interactions and saves its vectors;
 * predict loads a saved recommender and prints a user's top k.
 */
import { join } from "node:path";
import type { Command } from "commander";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { ArgumentError } from "../util/errors.js";
import { opt, switchesOnly } from "../util/options.js";
import { tabular } from "../data/index.js";
import {
  MODEL_NAMES,
  RecommendPredictor,
  evaluateRecommenders,
  loadRecommendData,
  renderRecommendReport,
  trainRecommender,
  type ModelName,
  type ModelSettings,
} from "../recommend/index.js";
import { bundled } from "./bundled.js";
import { addOptions, resolveFlags } from "./options.js";

const DATA = {
  interactions: opt.string({
    required: true,
    flag: "--interactions <file>",
    help: "interactions: one user, item, rating, timestamp row a line (CSV/TSV)",
  }),
  sep: opt.string({
    flag: "--sep <sep>",
    help: "field separator of --interactions",
    defaultHelp: "tab if the first line has one, else comma",
  }),
  columns: opt.list("string", {
    flag: "--columns <cols...>",
    help: "user, item, rating, timestamp columns: 0-based indexes or header names; 'none' for no rating (implicit) or no timestamp",
    defaultHelp: "0 1 2 3",
  }),
  header: opt.boolean({ help: "the first line of --interactions is a header (implied by column names)" }),
  duplicates: opt.enum(["last", "sum", "error"] as const, {
    default: "last",
    help: "a repeated user-item pair: keep the latest, sum the ratings, or fail",
  }),
  items: opt.string({ flag: "--items <file>", help: "item texts: one item a line, its id and text columns" }),
  itemSep: opt.string({ flag: "--item-sep <sep>", help: "field separator of --items", defaultHelp: "tab or comma" }),
  itemHeader: opt.boolean({ help: "the first line of --items is a header" }),
  itemTemplate: opt.string({
    flag: "--item-template <template>",
    help: "how an item's columns join into its text: {1} or {title} is a column, {flags} the names of the flag columns set to 1",
    defaultHelp: "every column but the id",
  }),
  itemFlags: opt.integer({
    min: 0,
    flag: "--item-flags <column>",
    help: "first of the binary flag columns of --items (MovieLens genres)",
  }),
  itemFlagNames: opt.string({
    flag: "--item-flag-names <file>",
    help: "names of the flag columns, one a line (MovieLens u.genre)",
  }),
  threshold: opt.number({ default: 4, help: "ratings at or above this are positives" }),
  userFeatures: opt.string({
    flag: "--user-features <file>",
    help: "user features for the two-tower's user tower: one user a line, its id and numeric or categorical columns",
  }),
  userFeatureSep: opt.string({
    flag: "--user-feature-sep <sep>",
    help: "field separator of --user-features",
    defaultHelp: "tab, else | , else comma",
  }),
  userFeatureHeader: opt.boolean({
    help: "the first line of --user-features names the columns (else they are named 0, 1, 2, ...)",
  }),
  userFeatureId: opt.string({
    flag: "--user-feature-id <column>",
    help: "the user id column of --user-features (name or 0-based index)",
    defaultHelp: "the first",
  }),
  userFeatureTypes: opt.string({
    flag: "--user-feature-types <spec>",
    help: "column types overriding the inferred ones, as NAME=TYPE,... (numeric, categorical, boolean, id: dropped)",
  }),
};

const MODEL = {
  dim: opt.integer({ default: 64, min: 1, help: "factor / tower dimension" }),
  seed: opt.integer({ default: 0, help: "seed for splits, initialization and sampling" }),
  neighbours: opt.integer({ default: 100, min: 1, help: "ItemKNN: neighbours kept per item" }),
  shrink: opt.number({ default: 10, min: 0, help: "ItemKNN: similarity shrinkage" }),
  bprEpochs: opt.integer({ default: 30, min: 1, help: "BPR: epochs" }),
  alsEpochs: opt.integer({ default: 10, min: 1, help: "ALS: iterations" }),
  alsAlpha: opt.number({ default: 10, gt: 0, help: "ALS: confidence of a positive (1 + alpha)" }),
  epochs: opt.integer({ default: 10, min: 1, help: "two-tower: epochs" }),
  batchSize: opt.integer({ default: 256, min: 2, help: "two-tower: positives per batch (the in-batch negatives)" }),
  lr: opt.number({ default: 0.003, gt: 0, help: "two-tower: Adam learning rate" }),
  temperature: opt.number({ default: 0.1, gt: 0, help: "two-tower: softmax temperature" }),
  loss: opt.enum(["softmax", "bpr"] as const, {
    default: "softmax",
    help: "two-tower: in-batch sampled softmax or BPR",
  }),
  logQ: opt.boolean({ default: true, help: "two-tower: no log-Q correction of the in-batch softmax" }),
  userIds: opt.boolean({ help: "two-tower: add a user ID embedding to the user tower's history mean" }),
  idDropout: opt.number({
    default: 0.3,
    min: 0,
    max: 1,
    help: "two-tower: probability of dropping an item's ID embedding",
  }),
  historyDropout: opt.number({
    default: 0,
    min: 0,
    lt: 1,
    help: "two-tower: probability of training an example without its history, so user features learn to stand alone",
  }),
  itemEncoder: opt.enum(["frozen", "lora", "full"] as const, {
    default: "frozen",
    help: "two-tower: the text encoder frozen (cached vectors), trained through LoRA adapters, or fully fine-tuned",
  }),
  encoderLr: opt.number({
    gt: 0,
    help: "two-tower: Adam learning rate of the encoder's weights (lora, full)",
    defaultHelp: "1e-3 for lora, 1e-4 for full",
  }),
  encoderItems: opt.integer({
    default: 64,
    min: 1,
    help: "two-tower: distinct items a step whose text is recomputed with gradients (the rest read their latest vector)",
  }),
  encoderEpochs: opt.integer({
    min: 1,
    help: "two-tower: train the encoder (lora, full) in the last N epochs only; the earlier ones read cached vectors",
    defaultHelp: "every epoch",
  }),
  loraR: opt.integer({ default: 8, min: 1, help: "two-tower: rank of the item encoder's LoRA adapters (alpha 2r)" }),
  encoder: opt.string({
    flag: "--encoder <dir>",
    help: "text encoder of the item tower",
    defaultHelp: "the bundled models/graft-base",
  }),
  textCache: opt.string({
    flag: "--text-cache <prefix>",
    help: "cache of the item text vectors (PREFIX.json, PREFIX.float32)",
  }),
};

export const RECOMMEND_EVAL_SWITCHES = switchesOnly({
  ...DATA,
  ...MODEL,
  models: opt.list("string", {
    default: [...MODEL_NAMES],
    flag: "--models <names...>",
    help: `models to compare: ${MODEL_NAMES.join(", ")}`,
  }),
  protocol: opt.enum(["random", "last"] as const, {
    default: "random",
    help: "per-user random holdout or leave-last-out by time",
  }),
  testFraction: opt.number({
    default: 0.2,
    gt: 0,
    lt: 1,
    help: "random protocol: share of each user's interactions held out",
  }),
  coldStart: opt.number({
    default: 0,
    min: 0,
    lt: 1,
    help: "also evaluate a cold-start split holding out this share of the items (0: none)",
  }),
  coldUsers: opt.number({
    default: 0,
    min: 0,
    lt: 1,
    help: "also evaluate a cold-start-user split holding out this share of the users entirely (0: none)",
  }),
  k: opt.list("integer", { default: [10], flag: "--k <cutoffs...>", help: "cut-offs of the ranking metrics" }),
  output: opt.string({ flag: "--output <dir>", help: "where results.json and report.html go" }),
  json: opt.boolean({ help: "print the results as JSON" }),
});

export const RECOMMEND_TRAIN_SWITCHES = switchesOnly({
  ...DATA,
  ...MODEL,
  model: opt.enum(["popularity", "bpr", "als", "two-tower"] as const, {
    default: "two-tower",
    help: "the model to train",
  }),
  output: opt.string({ required: true, flag: "--output <dir>", help: "where the recommender's vectors go" }),
});

export const RECOMMEND_PREDICT_SWITCHES = switchesOnly({
  model: opt.string({ required: true, flag: "--model <dir>", help: "a recommender saved by graft recommend train" }),
  user: opt.list("string", { flag: "--user <ids...>", help: "user ids of the training interactions" }),
  history: opt.list("string", {
    flag: "--history <items...>",
    help: "item ids standing for a user the model was not trained on (two-tower)",
  }),
  k: opt.integer({ default: 10, min: 1, help: "recommendations per user" }),
  json: opt.boolean({ help: "print JSON lines" }),
});

/** An argument as a shell would need it written. */
function shellWord(a: string): string {
  return /^[\w./@=:,+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

type DataFlags = { [K in keyof typeof DATA]?: unknown };

const { parseColumnTypes } = tabular;

function dataOptions(f: DataFlags) {
  return {
    interactions: f.interactions as string,
    sep: f.sep as string | undefined,
    columns: f.columns as string[] | undefined,
    header: f.header as boolean | undefined,
    duplicates: f.duplicates as "last" | "sum" | "error",
    items: f.items as string | undefined,
    itemSep: f.itemSep as string | undefined,
    itemHeader: f.itemHeader as boolean | undefined,
    itemTemplate: f.itemTemplate as string | undefined,
    itemFlagFirst: f.itemFlags as number | undefined,
    itemFlagNames: f.itemFlagNames as string | undefined,
    userFeatures: f.userFeatures as string | undefined,
    userFeatureOptions: {
      sep: f.userFeatureSep as string | undefined,
      header: f.userFeatureHeader as boolean | undefined,
      idColumn: f.userFeatureId as string | undefined,
      types: f.userFeatureTypes ? parseColumnTypes(f.userFeatureTypes as string) : undefined,
    },
  };
}

function settings(f: { [K in keyof typeof MODEL]?: unknown }): ModelSettings {
  return {
    dim: f.dim as number,
    seed: f.seed as number,
    neighbours: f.neighbours as number,
    shrink: f.shrink as number,
    bprEpochs: f.bprEpochs as number,
    alsEpochs: f.alsEpochs as number,
    alsAlpha: f.alsAlpha as number,
    epochs: f.epochs as number,
    batchSize: f.batchSize as number,
    lr: f.lr as number,
    temperature: f.temperature as number,
    loss: f.loss as "softmax" | "bpr",
    logQ: f.logQ as boolean,
    idDropout: f.idDropout as number,
    userIds: f.userIds as boolean,
    historyDropout: f.historyDropout as number,
    itemEncoder: f.itemEncoder as "frozen" | "lora" | "full",
    encoderLr: f.encoderLr as number | undefined,
    encoderItems: f.encoderItems as number,
    loraRank: f.loraR as number,
    encoderEpochs: f.encoderEpochs as number | undefined,
  };
}

export function register(program: Command): void {
  const rec = program
    .command("recommend")
    .description(
      "recommendations: baselines and a two-tower model with a pre-trained text tower (train, eval, predict)",
    );

  const evalCmd = rec.command("eval").description("compare recommenders on one split with one harness");
  addOptions(evalCmd, RECOMMEND_EVAL_SWITCHES)
    .addHelpText(
      "after",
      '\nExample:\n  graft recommend eval --interactions ml-100k/u.data --items ml-100k/u.item --item-sep "|" --item-template "{1}. {flags}" --item-flags 5 --item-flag-names ml-100k/u.genre --cold-start 0.2 --output rec-eval\n',
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(RECOMMEND_EVAL_SWITCHES, command);
      const log = f.json ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
      for (const m of f.models)
        if (!(MODEL_NAMES as readonly string[]).includes(m))
          throw new ArgumentError(`unknown model "${m}"`, `known models: ${MODEL_NAMES.join(", ")}`);
      const input = loadRecommendData(dataOptions(f));
      const report = await evaluateRecommenders(input, {
        models: f.models as ModelName[],
        protocol: f.protocol,
        testFraction: f.testFraction,
        coldStart: f.coldStart,
        coldUsers: f.coldUsers,
        threshold: f.threshold,
        ks: f.k,
        seed: f.seed,
        encoder: f.encoder ?? bundled.model(),
        textCache: f.textCache,
        settings: settings(f),
        log,
      });
      if (f.output) {
        writeJsonAtomic(join(f.output, "results.json"), report);
        writeFileAtomic(
          join(f.output, "report.html"),
          renderRecommendReport(report, `graft recommend eval ${process.argv.slice(4).map(shellWord).join(" ")}`),
        );
      }
      if (f.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else {
        const k = f.k[0];
        process.stdout.write(
          `${report.protocol}\n\n| split | model | NDCG@${k} | Recall@${k} | ms / epoch |\n| --- | --- | --- | --- | --- |\n`,
        );
        for (const r of report.results)
          process.stdout.write(
            `| ${r.split} | ${r.model} | ${r.metrics[`ndcg@${k}`]!.toFixed(4)} | ${r.metrics[`recall@${k}`]!.toFixed(4)} | ${r.epochMs.toFixed(0)} |\n`,
          );
        if (f.output) process.stdout.write(`\nwritten to ${f.output}/results.json and ${f.output}/report.html\n`);
      }
    });

  const trainCmd = rec.command("train").description("fit one recommender on all interactions and save its vectors");
  addOptions(trainCmd, RECOMMEND_TRAIN_SWITCHES).action(async (_: unknown, command: Command) => {
    const f = resolveFlags(RECOMMEND_TRAIN_SWITCHES, command);
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const input = loadRecommendData(dataOptions(f));
    const r = await trainRecommender(input, {
      model: f.model,
      threshold: f.threshold,
      output: f.output,
      encoder: f.encoder ?? bundled.model(),
      textCache: f.textCache,
      settings: settings(f),
      log,
    });
    process.stdout.write(`${f.model} trained in ${(r.trainMs / 1000).toFixed(1)} s, saved to ${r.output}\n`);
  });

  const predictCmd = rec.command("predict").description("a saved recommender's top k for users");
  addOptions(predictCmd, RECOMMEND_PREDICT_SWITCHES).action(async (_: unknown, command: Command) => {
    const f = resolveFlags(RECOMMEND_PREDICT_SWITCHES, command);
    const p = RecommendPredictor.load(f.model);
    const users = f.user ?? [];
    if (users.length === 0 && !f.history?.length)
      throw new ArgumentError("give --user IDS or --history ITEMS", "graft recommend predict --model DIR --user 196");
    if (f.history?.length) {
      const recs = p.request({ history: f.history, k: f.k });
      if (f.json) process.stdout.write(`${JSON.stringify({ history: f.history, recommendations: recs })}\n`);
      else {
        process.stdout.write(`history ${f.history.join(" ")}\n`);
        recs.forEach((r, i) =>
          process.stdout.write(`  ${i + 1}. ${r.item}${r.text ? `  ${r.text}` : ""}  (${r.score.toFixed(4)})\n`),
        );
      }
    }
    for (const user of users) {
      const recs = p.recommend(user, f.k);
      if (f.json) process.stdout.write(`${JSON.stringify({ user, recommendations: recs })}\n`);
      else {
        process.stdout.write(`user ${user}\n`);
        recs.forEach((r, i) =>
          process.stdout.write(`  ${i + 1}. ${r.item}${r.text ? `  ${r.text}` : ""}  (${r.score.toFixed(4)})\n`),
        );
      }
    }
  });
}
