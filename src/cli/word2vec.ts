/**
 * `graft word2vec`: train word vectors (skip-gram / CBOW with negative sampling) on raw text files, and query them
 * (nearest neighbours, analogies). Training writes DIR/vectors.txt (word2vec text format), DIR/vectors.safetensors
 * + DIR/vocab.txt, and DIR/word2vec.json (the resolved options and run statistics).
 */
import { join } from "node:path";
import type { Command } from "commander";
import { type Resolved, opt, switchesOnly } from "../util/options.js";
import { addOptions, resolveFlags } from "./options.js";
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

/** `word2vec train`'s flags; trainWord2Vec checks the values (integers, ranges) with its own messages. */
export const WORD2VEC_TRAIN_SWITCHES = switchesOnly({
  corpus: opt.list("string", {
    required: true,
    flag: "--corpus <paths...>",
    help: "text/JSONL files (UTF-8, optionally .gz), directories (recursive) or globs",
  }),
  out: opt.string({
    required: true,
    flag: "--out <dir>",
    help: "output directory (vectors.txt, vectors.safetensors, vocab.txt, word2vec.json)",
  }),
  model: opt.enum(["skipgram", "cbow"], { default: "skipgram", help: "skipgram or cbow" }),
  dim: opt.number({ default: 100, flag: "--dim <n>", help: "vector size" }),
  window: opt.number({
    default: 5,
    flag: "--window <n>",
    help: "largest context distance (a random window 1..n is drawn per word)",
  }),
  minCount: opt.number({ default: 5, flag: "--min-count <n>", help: "drop words seen fewer times" }),
  negative: opt.number({ default: 5, flag: "--negative <n>", help: "noise words per positive pair" }),
  sample: opt.number({
    default: 1e-3,
    flag: "--sample <t>",
    help: "subsampling threshold for frequent words (0: off)",
  }),
  epochs: opt.number({ default: 5, flag: "--epochs <n>", help: "passes over the corpus" }),
  alpha: opt.number({
    flag: "--alpha <lr>",
    help: "starting learning rate, decayed linearly to alpha·1e-4",
    defaultHelp: "0.025 skip-gram, 0.05 CBOW",
  }),
  seed: opt.number({ default: 1, flag: "--seed <n>", help: "random seed (runs are reproducible)" }),
  maxVocabSize: opt.number({
    flag: "--max-vocab-size <n>",
    help: "prune the rarest words while counting when the table grows past n",
  }),
  sentences: opt.enum(["line", "paragraph"], {
    default: "line",
    flag: "--sentences <mode>",
    help: "line (each line a sentence) or paragraph (blank lines end sentences)",
  }),
  tokenPattern: opt.string({
    flag: "--token-pattern <regex>",
    help: "regular expression for one word",
    defaultHelp: "letters/digits with inner apostrophes",
  }),
  lowercase: opt.boolean({ default: true, help: "keep case" }),
  binary: opt.boolean({ help: "also write vectors.bin (word2vec binary format)" }),
  json: opt.boolean({ help: "print the summary as JSON" }),
  quiet: opt.boolean({ help: "no progress on stderr" }),
});

const querySwitches = (what: string) =>
  switchesOnly({
    vectors: opt.string({
      required: true,
      flag: "--vectors <path>",
      help: "a directory from `word2vec train`, or a .txt/.bin/.safetensors vectors file",
    }),
    k: opt.integer({ default: 10, min: 1, flag: "-k <n>", help: `how many ${what}` }),
    json: opt.boolean({ help: "print JSON" }),
  });
export const WORD2VEC_NEIGHBORS_SWITCHES = querySwitches("neighbours");
export const WORD2VEC_ANALOGY_SWITCHES = querySwitches("answers");

type TrainFlags = Resolved<typeof WORD2VEC_TRAIN_SWITCHES>;

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
    model: f.model,
    dim: f.dim,
    window: f.window,
    minCount: f.minCount,
    negative: f.negative,
    sample: f.sample,
    epochs: f.epochs,
    alpha: f.alpha,
    seed: f.seed,
    maxVocabSize: f.maxVocabSize,
    sentences: f.sentences,
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

/** Adds `word2vec train|neighbors|analogy`; results go to io.stdout (default process.stdout, tests pass their own). */
export function register(program: Command, io: { stdout?: NodeJS.WritableStream } = {}): void {
  const out = io.stdout ?? process.stdout;
  const w2v = program.command("word2vec").description("train word vectors (skip-gram / CBOW) and query them");

  const trainCmd = w2v
    .command("train")
    .description(
      "train word2vec vectors on raw text files (streamed; a line is a sentence unless --sentences paragraph)",
    );
  addOptions(trainCmd, WORD2VEC_TRAIN_SWITCHES)
    .addHelpText(
      "after",
      "\nExamples:\n  graft word2vec train --corpus books/*.txt --out vecs --sentences paragraph\n  graft word2vec train --corpus wiki.txt --out vecs --model cbow --dim 200 --window 8 --epochs 3\n",
    )
    .action((_: unknown, command: Command) => train(resolveFlags(WORD2VEC_TRAIN_SWITCHES, command), out));

  const neighbors = w2v
    .command("neighbors")
    .alias("neighbours")
    .description("the words nearest to WORD by cosine similarity")
    .argument("<word>");
  addOptions(neighbors, WORD2VEC_NEIGHBORS_SWITCHES)
    .addHelpText("after", "\nExamples:\n  graft word2vec neighbors --vectors vecs king -k 5\n")
    .action(async (word: string, _: unknown, command: Command) => {
      const { k, ...f } = resolveFlags(WORD2VEC_NEIGHBORS_SWITCHES, command);
      const wv = await loadWordVectors(f.vectors);
      printNeighbors(out, `nearest to "${word}":`, wv.nearest(word, k), f.json === true, { word });
    });

  const analogy = w2v
    .command("analogy")
    .description("A is to B as C is to ?: the words nearest to B − A + C (inputs excluded, as gensim's most_similar)")
    .argument("<a>")
    .argument("<b>")
    .argument("<c>");
  addOptions(analogy, WORD2VEC_ANALOGY_SWITCHES)
    .addHelpText(
      "after",
      "\nExamples:\n  graft word2vec analogy --vectors vecs man king woman     # → queen, ideally\n",
    )
    .action(async (a: string, b: string, c: string, _: unknown, command: Command) => {
      const { k, ...f } = resolveFlags(WORD2VEC_ANALOGY_SWITCHES, command);
      const wv = await loadWordVectors(f.vectors);
      printNeighbors(out, `"${a}" is to "${b}" as "${c}" is to:`, wv.analogy(a, b, c, k), f.json === true, { a, b, c });
    });
}
