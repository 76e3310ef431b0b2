/** `graft tokenizer train`: learn a WordPiece or byte-level BPE vocabulary from text files. */
import type { Command } from "commander";
import { GraftError } from "../util/errors.js";
import { trainTokenizer } from "../tokenizers/index.js";

export function register(program: Command): void {
  const tok = program.command("tokenizer").description("tokenizer tools");
  tok
    .command("train")
    .description("train a WordPiece (BERT-style) or byte-level BPE (GPT-2-style) tokenizer; writes tokenizer.json")
    .requiredOption("--corpus <files...>", "plain-text files, streamed line by line")
    .requiredOption("--out <dir>", "output directory (tokenizer.json, vocab files, tokenizer_config.json)")
    .option("--type <type>", "wordpiece or bpe", "wordpiece")
    .option("--vocab-size <n>", "vocabulary size, special tokens included", "8000")
    .option("--min-frequency <n>", "least pair count that is merged", "2")
    .option("--no-lowercase", "WordPiece: keep case")
    .option("--strip-accents", "WordPiece: strip accents even without lowercasing")
    .option("--special-tokens <tokens>", "comma-separated special tokens, first in the vocabulary")
    .option("--model-max-length <n>", "model_max_length written to tokenizer_config.json")
    .option("--json", "print a JSON summary")
    .addHelpText(
      "after",
      "\nExamples:\n  graft tokenizer train --corpus books/*.txt --out tok --vocab-size 12000\n  graft tokenizer train --type bpe --corpus corpus.txt --out gpt-tok --vocab-size 16000\n",
    )
    .action(
      async (f: {
        corpus: string[];
        out: string;
        type: string;
        vocabSize: string;
        minFrequency: string;
        lowercase: boolean;
        stripAccents?: boolean;
        specialTokens?: string;
        modelMaxLength?: string;
        json?: boolean;
      }) => {
        if (f.type !== "wordpiece" && f.type !== "bpe")
          throw new GraftError(`--type must be wordpiece or bpe, got "${f.type}"`);
        const vocabSize = Number(f.vocabSize),
          minFrequency = Number(f.minFrequency);
        if (!Number.isInteger(vocabSize)) throw new GraftError(`--vocab-size must be an integer, got "${f.vocabSize}"`);
        if (!Number.isInteger(minFrequency) || minFrequency < 1)
          throw new GraftError(`--min-frequency must be a positive integer, got "${f.minFrequency}"`);
        const t0 = performance.now();
        const tokenizer = await trainTokenizer(f.corpus, f.out, {
          type: f.type,
          vocabSize,
          minFrequency,
          lowercase: f.lowercase,
          ...(f.stripAccents ? { stripAccents: true } : {}),
          ...(f.specialTokens ? { specialTokens: f.specialTokens.split(",") } : {}),
          ...(f.modelMaxLength ? { modelMaxLength: Number(f.modelMaxLength) } : {}),
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
      },
    );
}
