/**
 * `graft word2vec`: train word vectors (skip-gram / CBOW with negative sampling) on raw text files, and query them
 * (nearest neighbours, analogies). Training writes DIR/vectors.txt (word2vec text format), DIR/vectors.safetensors
 * + DIR/vocab.txt, and DIR/word2vec.json (the resolved options and run statistics).
 */
import { join } from "node:path";
import type { Command } from "commander";
import { ArgumentError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/atomic.js";
import {
  loadWordVectors,
  saveWordVectors,
  trainWord2Vec,
  type Neighbor,
  type Word2VecOptions,
  type Word2VecProgress,
} from "../train/word2vec.js";
import { version } from "./version.js";

interface TrainFlags {
  corpus: string[];
  out: string;
  model: string;
  dim: string;
  window: string;
  minCount: string;
  negative: string;
  sample: string;
  epochs: string;
  alpha?: string;
  seed: string;
  maxVocabSize?: string;
  sentences: string;
  tokenPattern?: string;
  lowercase: boolean;
  binary?: boolean;
  json?: boolean;
  quiet?: boolean;
}

interface QueryFlags {
  vectors: string;
  k: string;
  json?: boolean;
}

function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === "" || !Number.isFinite(x)) throw new ArgumentError(`${flag} must be a number, got "${v}"`);
  return x;
}

/** Progress on stderr: one line rewritten in place on a TTY, a line per report otherwise (logs, pipes). */
function progressPrinter(quiet: boolean): { onProgress?: (p: Word2VecProgress) => void; end(): void } {
  const tty = process.stderr.isTTY === true;
  let printed = false;
  return {
    onProgress: quiet
      ? undefined
      : (p) => {
          const pct = ((100 * p.wordsDone) / p.wordsTotal).toFixed(1).padStart(5);
          const eta = p.wordsPerSecond > 0 ? Math.round((p.wordsTotal - p.wordsDone) / p.wordsPerSecond) : 0;
          const line = `epoch ${p.epoch}/${p.epochs}  ${pct}%  alpha ${p.alpha.toFixed(6)}  ${Math.round(p.wordsPerSecond).toLocaleString("en-US")} words/s  ETA ${eta}s`;
          process.stderr.write(tty ? `\r${line}\x1b[K` : line + "\n");
          printed = true;
        },
    end() {
      if (tty && printed) process.stderr.write("\n");
    },
  };
}

async function train(f: TrainFlags, out: NodeJS.WritableStream): Promise<void> {
  const progress = progressPrinter(f.quiet === true);
  const opts: Word2VecOptions = {
    model: f.model as Word2VecOptions["model"],
    dim: num("--dim", f.dim),
    window: num("--window", f.window),
    minCount: num("--min-count", f.minCount),
    negative: num("--negative", f.negative),
    sample: num("--sample", f.sample),
    epochs: num("--epochs", f.epochs),
    alpha: num("--alpha", f.alpha),
    seed: num("--seed", f.seed),
    maxVocabSize: num("--max-vocab-size", f.maxVocabSize),
    sentences: f.sentences as Word2VecOptions["sentences"],
    tokenPattern: f.tokenPattern,
    lowercase: f.lowercase,
    onProgress: progress.onProgress,
    // a TTY line is rewritten in place, so it can update often; log files get a line every 10 s
    progressSeconds: process.stderr.isTTY ? 0.5 : 10,
  };
  let result;
  try {
    result = await trainWord2Vec(f.corpus, opts);
  } finally {
    progress.end();
  }
  const { vectors, stats, options } = result;
  const files = saveWordVectors(f.out, vectors, {
    binary: f.binary,
    metadata: { graft_version: version(), model: options.model },
  });
  const summary = { graft: version(), corpus: f.corpus, options, stats };
  writeJsonAtomic(join(f.out, "word2vec.json"), summary);
  files.push(join(f.out, "word2vec.json"));
  if (f.json) {
    out.write(JSON.stringify({ ...summary, files }) + "\n");
    return;
  }
  const int = (n: number) => Math.round(n).toLocaleString("en-US");
  out.write(
    `${options.model}: ${int(stats.vocabSize)} words × ${options.dim} dims from ${int(stats.corpusWords)} corpus words ` +
      `(${int(stats.distinctWords)} distinct, min count ${options.minCount}); ${options.epochs} epochs in ${stats.seconds.toFixed(1)} s, ${int(stats.wordsPerSecond)} words/s\n`,
  );
  for (const file of files) out.write(`wrote ${file}\n`);
}

function printNeighbors(
  out: NodeJS.WritableStream,
  title: string,
  list: Neighbor[],
  json: boolean,
  extra: Record<string, unknown>,
): void {
  if (json) {
    out.write(JSON.stringify({ ...extra, neighbors: list }) + "\n");
    return;
  }
  out.write(`${title}\n`);
  const w = Math.max(...list.map((n) => n.word.length), 4);
  for (const n of list) out.write(`  ${n.word.padEnd(w)}  ${n.score.toFixed(4)}\n`);
}

function kFlag(v: string): number {
  const k = num("-k", v)!;
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`-k must be a positive integer, got "${v}"`);
  return k;
}

/** Adds `word2vec train|neighbors|analogy`; results go to io.stdout (default process.stdout, tests pass their own). */
export function register(program: Command, io: { stdout?: NodeJS.WritableStream } = {}): void {
  const out = io.stdout ?? process.stdout;
  const w2v = program.command("word2vec").description("train word vectors (skip-gram / CBOW) and query them");

  w2v
    .command("train")
    .description(
      "train word2vec vectors on raw text files (streamed; a line is a sentence unless --sentences paragraph)",
    )
    .requiredOption("--corpus <files...>", "text files (UTF-8)")
    .requiredOption("--out <dir>", "output directory (vectors.txt, vectors.safetensors, vocab.txt, word2vec.json)")
    .option("--model <name>", "skipgram or cbow", "skipgram")
    .option("--dim <n>", "vector size", "100")
    .option("--window <n>", "largest context distance (a random window 1..n is drawn per word)", "5")
    .option("--min-count <n>", "drop words seen fewer times", "5")
    .option("--negative <n>", "noise words per positive pair", "5")
    .option("--sample <t>", "subsampling threshold for frequent words (0: off)", "1e-3")
    .option("--epochs <n>", "passes over the corpus", "5")
    .option(
      "--alpha <lr>",
      "starting learning rate (default 0.025 skip-gram, 0.05 CBOW), decayed linearly to alpha·1e-4",
    )
    .option("--seed <n>", "random seed (runs are reproducible)", "1")
    .option("--max-vocab-size <n>", "prune the rarest words while counting when the table grows past n")
    .option("--sentences <mode>", "line (each line a sentence) or paragraph (blank lines end sentences)", "line")
    .option(
      "--token-pattern <regex>",
      "regular expression for one word (default: letters/digits with inner apostrophes)",
    )
    .option("--no-lowercase", "keep case")
    .option("--binary", "also write vectors.bin (word2vec binary format)")
    .option("--json", "print the summary as JSON")
    .option("--quiet", "no progress on stderr")
    .addHelpText(
      "after",
      "\nExamples:\n  graft word2vec train --corpus books/*.txt --out vecs --sentences paragraph\n  graft word2vec train --corpus wiki.txt --out vecs --model cbow --dim 200 --window 8 --epochs 3\n",
    )
    .action((f: TrainFlags) => train(f, out));

  w2v
    .command("neighbors")
    .alias("neighbours")
    .description("the words nearest to WORD by cosine similarity")
    .argument("<word>")
    .requiredOption("--vectors <path>", "a directory from `word2vec train`, or a .txt/.bin/.safetensors vectors file")
    .option("-k <n>", "how many neighbours", "10")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExamples:\n  graft word2vec neighbors --vectors vecs king -k 5\n")
    .action(async (word: string, f: QueryFlags) => {
      const k = kFlag(f.k);
      const wv = await loadWordVectors(f.vectors);
      printNeighbors(out, `nearest to "${word}":`, wv.nearest(word, k), f.json === true, { word });
    });

  w2v
    .command("analogy")
    .description("A is to B as C is to ?: the words nearest to B − A + C (inputs excluded, as gensim's most_similar)")
    .argument("<a>")
    .argument("<b>")
    .argument("<c>")
    .requiredOption("--vectors <path>", "a directory from `word2vec train`, or a .txt/.bin/.safetensors vectors file")
    .option("-k <n>", "how many answers", "10")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      "\nExamples:\n  graft word2vec analogy --vectors vecs man king woman     # → queen, ideally\n",
    )
    .action(async (a: string, b: string, c: string, f: QueryFlags) => {
      const k = kFlag(f.k);
      const wv = await loadWordVectors(f.vectors);
      printNeighbors(out, `"${a}" is to "${b}" as "${c}" is to:`, wv.analogy(a, b, c, k), f.json === true, { a, b, c });
    });
}
