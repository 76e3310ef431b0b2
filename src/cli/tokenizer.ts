/** `graft tokenizer train`: learn a WordPiece or byte-level BPE vocabulary from a corpus (files, directories, globs). */
import type { Command } from "commander";
import { opt, switchesOnly } from "../util/options.js";
import { addOptions, resolveFlags } from "./options.js";
import { trainTokenizer } from "../tokenizers/index.js";

export const TOKENIZER_TRAIN_SWITCHES = switchesOnly({
  corpus: opt.list("string", {
    required: true,
    flag: "--corpus <paths...>",
    help: "text/JSONL files (optionally .gz), directories (recursive) or globs, streamed line by line",
  }),
  out: opt.string({
    required: true,
    flag: "--out <dir>",
    help: "output directory (tokenizer.json, vocab files, tokenizer_config.json)",
  }),
  type: opt.enum(["wordpiece", "bpe"], { default: "wordpiece", flag: "--type <type>", help: "wordpiece or bpe" }),
  vocabSize: opt.integer({ default: 8000, min: 1, help: "vocabulary size, special tokens included" }),
  minFrequency: opt.integer({ default: 2, min: 1, help: "least pair count that is merged" }),
  lowercase: opt.boolean({ default: true, help: "WordPiece: keep case" }),
  stripAccents: opt.boolean({ help: "WordPiece: strip accents even without lowercasing" }),
  specialTokens: opt.list("string", {
    separator: ",",
    flag: "--special-tokens <tokens>",
    help: "comma-separated special tokens, first in the vocabulary",
  }),
  modelMaxLength: opt.integer({ min: 1, help: "model_max_length written to tokenizer_config.json" }),
  json: opt.boolean({ help: "print a JSON summary" }),
});

export function register(program: Command): void {
  const tok = program.command("tokenizer").description("tokenizer tools");
  const train = tok
    .command("train")
    .description("train a WordPiece (BERT-style) or byte-level BPE (GPT-2-style) tokenizer; writes tokenizer.json");
  addOptions(train, TOKENIZER_TRAIN_SWITCHES)
    .addHelpText(
      "after",
      "\nExamples:\n  graft tokenizer train --corpus books/*.txt --out tok --vocab-size 12000\n  graft tokenizer train --type bpe --corpus corpus.txt --out gpt-tok --vocab-size 16000\n",
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(TOKENIZER_TRAIN_SWITCHES, command);
      const t0 = performance.now();
      const tokenizer = await trainTokenizer(f.corpus, f.out, {
        type: f.type,
        vocabSize: f.vocabSize,
        minFrequency: f.minFrequency,
        lowercase: f.lowercase,
        ...(f.stripAccents ? { stripAccents: true } : {}),
        ...(f.specialTokens ? { specialTokens: f.specialTokens } : {}),
        ...(f.modelMaxLength ? { modelMaxLength: f.modelMaxLength } : {}),
        onProgress: f.json
          ? undefined
          : (phase, n) => process.stderr.write(phase === "count" ? `counted ${n} lines\n` : `${n} merges\n`),
      });
      const summary = {
        out: f.out,
        type: f.type,
        vocabSize: tokenizer.vocabSize,
        seconds: +((performance.now() - t0) / 1000).toFixed(2),
      };
      process.stdout.write(
        f.json
          ? JSON.stringify(summary) + "\n"
          : `wrote ${f.out}/tokenizer.json: ${summary.vocabSize} tokens (${f.type}) in ${summary.seconds} s\n`,
      );
    });
}
