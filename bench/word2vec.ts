/**
 * word2vec throughput and a sanity check of the vectors on real text: trains on Project Gutenberg books and
 * prints words/s and the nearest neighbours of a few words.
 *
 *   npx tsc -p . && node dist/bench/word2vec.js [--model skipgram|cbow] [--dim 100] [--epochs 5] [--files a.txt,b.txt]
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { trainWord2Vec, type Word2VecModelType } from "../src/train/word2vec.js";

const DATA = "/work/shared/datasets/gutenberg_nltk";
const DEFAULT_FILES = [
  "austen-emma.txt",
  "austen-persuasion.txt",
  "austen-sense.txt",
  "bible-kjv.txt",
  "shakespeare-hamlet.txt",
  "shakespeare-macbeth.txt",
  "shakespeare-caesar.txt",
];
const PROBES = ["king", "father", "love", "lord", "house", "said", "good", "water"];

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "skipgram" },
    dim: { type: "string", default: "100" },
    window: { type: "string", default: "5" },
    epochs: { type: "string", default: "5" },
    "min-count": { type: "string", default: "5" },
    files: { type: "string" },
    seed: { type: "string", default: "1" },
  },
});

const cpu0 = process.cpuUsage();
const files = (values.files ? values.files.split(",") : DEFAULT_FILES).map((f) =>
  f.includes("/") ? f : join(DATA, f),
);
const { vectors, stats, options } = await trainWord2Vec(files, {
  model: values.model as Word2VecModelType,
  dim: Number(values.dim),
  window: Number(values.window),
  epochs: Number(values.epochs),
  minCount: Number(values["min-count"]),
  seed: Number(values.seed),
  sentences: "paragraph",
  onProgress: (p) =>
    process.stderr.write(
      `\repoch ${p.epoch}/${p.epochs}  ${((100 * p.wordsDone) / p.wordsTotal).toFixed(1)}%  alpha ${p.alpha.toFixed(5)}  ${Math.round(p.wordsPerSecond)} words/s   `,
    ),
});
process.stderr.write("\n");
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6; // vocabulary pass included; steadier than wall time on a loaded shared machine
console.log(
  `word2vec ${options.model} dim=${options.dim} window=${options.window} negative=${options.negative} sample=${options.sample} epochs=${options.epochs} min-count=${options.minCount}`,
);
console.log(
  `corpus: ${files.length} files, ${stats.corpusWords} words, vocabulary ${stats.vocabSize} (of ${stats.distinctWords} distinct)`,
);
console.log(
  `training: ${stats.seconds.toFixed(1)} s, ${Math.round(stats.wordsPerSecond)} words/s wall clock, ${Math.round((stats.wordsPerSecond * stats.seconds) / cpuSeconds)} words per CPU second (${stats.trainedWords} words trained after subsampling)`,
);
for (const w of PROBES) {
  if (!vectors.has(w)) continue;
  console.log(
    `${w.padEnd(8)} ${vectors
      .nearest(w, 8)
      .map((n) => `${n.word} ${n.score.toFixed(2)}`)
      .join(", ")}`,
  );
}
for (const [a, b, c] of [
  ["man", "king", "woman"],
  ["son", "father", "daughter"],
  ["he", "his", "she"],
] as const) {
  if ([a, b, c].every((w) => vectors.has(w)))
    console.log(
      `${a} : ${b} :: ${c} : ${vectors
        .analogy(a, b, c, 5)
        .map((n) => n.word)
        .join(", ")}`,
    );
}
