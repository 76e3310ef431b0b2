/**
 * `graft embed`: sentence embeddings of a file's texts to safetensors or JSONL (src/methods/sentence.ts, the same
 * embedding code as graft serve's /embed); `graft embed-train`: contrastive fine-tuning of an encoder into a
 * sentence encoder (MultipleNegativesRankingLoss) from a pairs file or from labelled data.
 */
import type { Command } from "commander";
import { readExamples } from "../data/index.js";
import { Embedder, labelPairs, readPairs, trainSentenceEncoder, type Pooling } from "../methods/sentence.js";
import { saveVectors, vectorFormat } from "../methods/vector-files.js";
import { ArgumentError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { opt, switchesOnly } from "../util/options.js";
import { readOptionsFrom, readSchema } from "./data.js";
import { addOptions, resolveFlags } from "./options.js";

export const EMBED_SWITCHES = switchesOnly({
  model: opt.string({ required: true, flag: "--model <dir>", help: "a transformer encoder (model directory)" }),
  data: opt.string({ required: true, flag: "--data <file>", help: "texts (CSV/TSV/JSONL, or one text per line)" }),
  out: opt.string({ required: true, flag: "--out <file>", help: "vectors file: .safetensors or .jsonl" }),
  pooling: opt.string({
    flag: "--pooling <cls|mean>",
    help: "first token or mean over tokens",
    defaultHelp: "the model's sentence_config.json, else mean",
  }),
  normalize: opt.boolean({ default: true, help: "keep raw vectors (default: unit length)" }),
  batchSize: opt.integer({ default: 32, min: 1, help: "texts per forward pass" }),
  maxLength: opt.integer({ default: 0, min: 0, help: "truncate texts to N tokens (0: the model's limit)" }),
  limit: opt.integer({ default: 0, min: 0, help: "embed only the first N texts (0 = all)" }),
  ...readSchema("fail"),
});

export const EMBED_TRAIN_SWITCHES = switchesOnly({
  model: opt.string({ required: true, flag: "--model <dir>", help: "the encoder to start from" }),
  pairs: opt.string({ flag: "--pairs <file>", help: "text pairs: text and text_pair (or sentence1, sentence2)" }),
  data: opt.string({ flag: "--data <file>", help: "labelled texts: each is paired with another of its label" }),
  output: opt.string({ required: true, flag: "--output <dir>", help: "the sentence encoder's model directory" }),
  pooling: opt.enum(["mean", "cls"], { default: "mean", help: "pooling of the sentence vector" }),
  epochs: opt.number({ default: 1, gt: 0, help: "passes over the pairs" }),
  batchSize: opt.integer({ default: 32, min: 2, help: "pairs per batch (the others are in-batch negatives)" }),
  lr: opt.number({ default: 5e-5, gt: 0, help: "peak learning rate (linear warm-up 10%, then decay)" }),
  scale: opt.number({ default: 20, gt: 0, help: "cosine scale of the loss" }),
  maxLength: opt.integer({ default: 128, min: 4, help: "tokens per text" }),
  maxSteps: opt.integer({ default: 0, min: 0, help: "stop after N steps (0: all epochs)" }),
  limit: opt.integer({ default: 0, min: 0, help: "use only the first N pairs or labelled texts (0 = all)" }),
  seed: opt.integer({ default: 42, help: "seed of pairing, shuffling and dropout" }),
  ...readSchema("fail"),
});

export function register(program: Command): void {
  const embed = program.command("embed").description("sentence embeddings of a file's texts (.safetensors or .jsonl)");
  addOptions(embed, EMBED_SWITCHES)
    .addHelpText(
      "after",
      "\nExamples:\n  graft embed --model models/graft-base --data docs.tsv --out docs.safetensors\n  graft embed --model my-encoder --data docs.txt --pooling cls --out docs.jsonl\n",
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(EMBED_SWITCHES, command);
      vectorFormat(f.out);
      if (f.pooling !== undefined && f.pooling !== "cls" && f.pooling !== "mean")
        throw new ArgumentError(`--pooling must be cls or mean, got "${f.pooling}"`);
      const { examples } = await readExamples(f.data, { labelColumn: undefined, ...readOptionsFrom(f) });
      const kept = f.limit > 0 ? examples.slice(0, f.limit) : examples;
      if (!kept.length) throw new ArgumentError(`${f.data}: no texts to embed`);
      const embedder = new Embedder(f.model, {
        ...(f.pooling ? { pooling: f.pooling as Pooling } : {}),
        ...(command.getOptionValueSource("normalize") === "cli" ? { normalize: f.normalize } : {}),
        ...(f.maxLength ? { maxLength: f.maxLength } : {}),
      });
      const t0 = Date.now();
      const out = await embedder.embedTexts(
        kept.map((e) => e.text),
        { batchSize: f.batchSize },
      );
      const seconds = (Date.now() - t0) / 1000;
      saveVectors(f.out, out, {
        metadata: {
          model: f.model,
          pooling: out.pooling,
          normalize: String(out.normalize),
          data: f.data,
        },
        records: kept.map((e) => ({ text: e.text, ...(e.label !== undefined ? { label: e.label } : {}) })),
      });
      process.stderr.write(
        `${out.n} texts → ${out.n}×${out.d} vectors (${out.pooling} pooling${out.normalize ? ", unit length" : ""}) in ${f.out}; ${(out.n / seconds).toFixed(1)} texts/s\n`,
      );
    });

  const train = program
    .command("embed-train")
    .description("fine-tune an encoder into a sentence encoder (in-batch negatives, MultipleNegativesRankingLoss)");
  addOptions(train, EMBED_TRAIN_SWITCHES)
    .addHelpText(
      "after",
      "\nExamples:\n  graft embed-train --model models/graft-base --pairs pairs.tsv --output my-encoder\n  graft embed-train --model models/graft-base --data train.tsv --output my-encoder --max-steps 200\n",
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(EMBED_TRAIN_SWITCHES, command);
      if ((f.pairs === undefined) === (f.data === undefined))
        throw new ArgumentError("give either --pairs FILE (text pairs) or --data FILE (labelled texts)");
      const read = readOptionsFrom(f);
      let pairs;
      if (f.pairs !== undefined) {
        pairs = await readPairs(f.pairs, read);
        if (f.limit > 0) pairs = pairs.slice(0, f.limit);
      } else {
        const { examples } = await readExamples(f.data!, read);
        const kept = f.limit > 0 ? examples.slice(0, f.limit) : examples;
        kept.forEach((e) => {
          if (e.label === undefined || e.label === "")
            throw new ArgumentError(`${f.data}: line ${e.line} has no label`, "--data needs a label column");
        });
        pairs = labelPairs(
          kept.map((e) => e.text),
          kept.map((e) => String(e.label)),
          new Rng(f.seed),
        );
      }
      // SIGTERM / Ctrl-C: stop at the next step and save what was trained
      let stop = false;
      const onSignal = () => {
        stop = true;
      };
      process.once("SIGTERM", onSignal);
      process.once("SIGINT", onSignal);
      const r = await trainSentenceEncoder({
        shouldStop: () => stop,
        model: f.model,
        pairs,
        output: f.output,
        pooling: f.pooling as Pooling,
        epochs: f.epochs,
        batchSize: f.batchSize,
        lr: f.lr,
        scale: f.scale,
        maxLength: f.maxLength,
        ...(f.maxSteps ? { maxSteps: f.maxSteps } : {}),
        seed: f.seed,
        source: f.pairs ?? `${f.data} (label pairs)`,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      process.stderr.write(
        `${r.pairs} pairs, ${r.steps} steps in ${r.seconds.toFixed(0)} s; loss by epoch ${r.epochLosses.map((l) => l.toFixed(4)).join(", ")}\n`,
      );
      process.stdout.write(`${r.output}\n`);
    });
}
