/**
 * word2vec (Mikolov et al. 2013): skip-gram and CBOW with negative sampling, trained the way word2vec.c does it —
 * vocabulary by min count sorted by frequency, subsampling of frequent words, a dynamic window, negatives from
 * unigram^0.75, and a learning rate decaying linearly from alpha to alpha·1e-4 over all words × epochs.
 * Single-threaded and seeded, so a run is reproducible bit for bit (word2vec.c's Hogwild threads are not).
 *
 * The corpus is read twice or more, streamed line by line: one pass counts the vocabulary, then one pass per epoch.
 */
import { ArgumentError, DataError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { corpusFiles } from "../data/readers/corpus.js";
import {
  DEFAULT_TOKEN_PATTERN,
  fileSource,
  makeTokenizer,
  sentences,
  type SentenceMode,
  type TextSource,
} from "./word2vec/corpus.js";
import { AliasSampler, VocabCounter, keepProbabilities, type Vocab } from "./word2vec/vocab.js";
import { SgnsState, type Word2VecModelType } from "./word2vec/sgns.js";
import { WordVectors } from "./word2vec/vectors.js";

export {
  fileSource,
  memorySource,
  makeTokenizer,
  DEFAULT_TOKEN_PATTERN,
  type TextSource,
  type SentenceMode,
  type TokenizeOptions,
} from "./word2vec/corpus.js";
export { VocabCounter, AliasSampler, keepProbabilities, type Vocab } from "./word2vec/vocab.js";
export type { Word2VecModelType } from "./word2vec/sgns.js";
export { WordVectors, type Neighbor } from "./word2vec/vectors.js";
export {
  saveWordVectors,
  loadWordVectors,
  saveWord2VecText,
  loadWord2VecText,
  saveWord2VecBinary,
  loadWord2VecBinary,
  saveWordVectorsSafetensors,
  loadWordVectorsSafetensors,
  formatF32,
  VECTORS_TEXT,
  VECTORS_BINARY,
  VECTORS_SAFETENSORS,
  VOCAB_FILE,
  type LoadOptions,
} from "./word2vec/formats.js";
export {
  embeddingFromVectors,
  fillEmbedding,
  type PretrainedEmbeddingOptions,
  type FillReport,
} from "./word2vec/embedding.js";

export interface Word2VecOptions {
  /** "skipgram" (default) or "cbow". */
  model?: Word2VecModelType;
  /** Vector size (default 100). */
  dim?: number;
  /** Largest distance between centre and context word; each position draws a reduced window 1..window (default 5). */
  window?: number;
  /** Words seen fewer times are dropped before training (default 5). */
  minCount?: number;
  /** Noise words per positive pair (default 5). */
  negative?: number;
  /** Subsampling threshold t; 0 turns subsampling off (default 1e-3). */
  sample?: number;
  /** Passes over the corpus (default 5). */
  epochs?: number;
  /** Starting learning rate (default 0.025 for skip-gram, 0.05 for CBOW); it decays linearly to alpha·1e-4. */
  alpha?: number;
  seed?: number;
  /** Bound on the vocabulary table while counting (prunes the rarest words, as word2vec.c); default unbounded. */
  maxVocabSize?: number;
  /** Lowercase the text (default true). */
  lowercase?: boolean;
  /** Regular expression for one word (default DEFAULT_TOKEN_PATTERN). */
  tokenPattern?: string;
  /** "line" (default): each line is a sentence; "paragraph": blank lines end sentences (hard-wrapped text). */
  sentences?: SentenceMode;
  /** Longer sentences are cut into pieces of this many words (word2vec.c's MAX_SENTENCE_LENGTH, 1000). */
  maxSentenceLength?: number;
  /** Called about every progressSeconds while training, and once at the end of each epoch. */
  onProgress?: (p: Word2VecProgress) => void;
  progressSeconds?: number;
}

export type ResolvedWord2VecOptions = Required<Omit<Word2VecOptions, "onProgress" | "maxVocabSize">> & {
  maxVocabSize: number | null;
};

export interface Word2VecProgress {
  epoch: number;
  epochs: number;
  /** Vocabulary words read so far, over all epochs (subsampled ones included, as word2vec.c counts). */
  wordsDone: number;
  wordsTotal: number;
  alpha: number;
  wordsPerSecond: number;
  elapsedSeconds: number;
}

export interface Word2VecStats {
  vocabSize: number;
  /** Distinct words before the min-count cut. */
  distinctWords: number;
  /** Words in the corpus (one pass). */
  corpusWords: number;
  /** Words of the vocabulary in the corpus (one pass): the learning-rate schedule's unit. */
  vocabWords: number;
  /** Words that survived subsampling and were trained on, over all epochs. */
  trainedWords: number;
  /** Seconds spent training (after the vocabulary pass). */
  seconds: number;
  /** Vocabulary words read per second of training. */
  wordsPerSecond: number;
}

export interface Word2VecResult {
  vectors: WordVectors;
  stats: Word2VecStats;
  options: ResolvedWord2VecOptions;
}

export function resolveWord2VecOptions(opts: Word2VecOptions = {}): ResolvedWord2VecOptions {
  const model = opts.model ?? "skipgram";
  if (model !== "skipgram" && model !== "cbow")
    throw new ArgumentError(`word2vec: model must be "skipgram" or "cbow", got ${JSON.stringify(model)}`);
  const r: ResolvedWord2VecOptions = {
    model,
    dim: opts.dim ?? 100,
    window: opts.window ?? 5,
    minCount: opts.minCount ?? 5,
    negative: opts.negative ?? 5,
    sample: opts.sample ?? 1e-3,
    epochs: opts.epochs ?? 5,
    alpha: opts.alpha ?? (model === "cbow" ? 0.05 : 0.025),
    seed: opts.seed ?? 1,
    maxVocabSize: opts.maxVocabSize ?? null,
    lowercase: opts.lowercase ?? true,
    tokenPattern: opts.tokenPattern ?? DEFAULT_TOKEN_PATTERN,
    sentences: opts.sentences ?? "line",
    maxSentenceLength: opts.maxSentenceLength ?? 1000,
    progressSeconds: opts.progressSeconds ?? 1,
  };
  const posInt = (name: keyof ResolvedWord2VecOptions, v: number) => {
    if (!Number.isInteger(v) || v < 1)
      throw new ArgumentError(`word2vec: ${name} must be a positive integer, got ${v}`);
  };
  posInt("dim", r.dim);
  posInt("window", r.window);
  posInt("minCount", r.minCount);
  posInt("negative", r.negative);
  posInt("epochs", r.epochs);
  posInt("maxSentenceLength", r.maxSentenceLength);
  if (r.maxVocabSize !== null) posInt("maxVocabSize", r.maxVocabSize);
  if (!(r.sample >= 0 && r.sample < 1))
    throw new ArgumentError(
      `word2vec: sample must be in [0, 1), got ${r.sample}`,
      "typical values are 1e-3 to 1e-5; 0 turns subsampling off",
    );
  if (!(r.alpha > 0 && r.alpha < 10))
    throw new ArgumentError(`word2vec: alpha must be a positive learning rate, got ${r.alpha}`);
  if (!Number.isFinite(r.seed)) throw new ArgumentError(`word2vec: seed must be a number, got ${r.seed}`);
  if (r.sentences !== "line" && r.sentences !== "paragraph")
    throw new ArgumentError(`word2vec: sentences must be "line" or "paragraph", got ${JSON.stringify(r.sentences)}`);
  if (!(r.progressSeconds > 0))
    throw new ArgumentError(`word2vec: progressSeconds must be > 0, got ${r.progressSeconds}`);
  return r;
}

export type CorpusArg = string | TextSource | readonly (string | TextSource)[];

function toSources(corpus: CorpusArg): TextSource[] {
  const list =
    typeof corpus === "string" || !Array.isArray(corpus)
      ? [corpus as string | TextSource]
      : (corpus as readonly (string | TextSource)[]);
  if (list.length === 0) throw new ArgumentError("word2vec: no corpus given", "pass one or more text files");
  // paths (files, directories, globs) expand through the shared corpus reader, in its deterministic order
  return list.flatMap((s) => (typeof s === "string" ? corpusFiles(s).map(fileSource) : [s]));
}

/** One pass over the corpus: the vocabulary. */
export async function buildWord2VecVocab(corpus: CorpusArg, opts: Word2VecOptions = {}): Promise<Vocab> {
  const o = resolveWord2VecOptions(opts);
  const sources = toSources(corpus);
  const tokenize = makeTokenizer({ lowercase: o.lowercase, tokenPattern: o.tokenPattern });
  const counter = new VocabCounter(o.maxVocabSize ?? Infinity);
  for await (const s of sentences(sources, tokenize, o.sentences)) counter.add(s);
  const names = sources.map((s) => s.name).join(", ");
  if (counter.corpusWords === 0) {
    throw new DataError(
      "the corpus has no words",
      { file: names },
      o.tokenPattern !== DEFAULT_TOKEN_PATTERN
        ? `does the token pattern ${JSON.stringify(o.tokenPattern)} match the text?`
        : "the files are empty, or hold no letters or digits",
    );
  }
  const vocab = counter.finish(o.minCount);
  if (vocab.words.length === 0) {
    const [w, n] = counter.mostFrequent()!;
    throw new DataError(
      `no word occurs ${o.minCount} times or more (${counter.corpusWords} words, ${counter.distinctWords} distinct)`,
      { file: names },
      `the most frequent word, ${JSON.stringify(w)}, occurs ${n} times: lower --min-count or give more text`,
    );
  }
  return vocab;
}

/** Trains word vectors on one or more text files (paths) or sources. */
export async function trainWord2Vec(corpus: CorpusArg, opts: Word2VecOptions = {}): Promise<Word2VecResult> {
  const o = resolveWord2VecOptions(opts);
  const sources = toSources(corpus);
  const vocab = await buildWord2VecVocab(sources, opts);
  const tokenize = makeTokenizer({ lowercase: o.lowercase, tokenPattern: o.tokenPattern });
  const V = vocab.words.length;
  const rng = new Rng(o.seed);
  const state = new SgnsState(V, o.dim, o.model, o.window, o.negative, new AliasSampler(vocab.counts, 0.75), rng);
  const keep = keepProbabilities(vocab, o.sample);
  const index = vocab.index;

  const wordsTotal = o.epochs * vocab.totalWords;
  const minAlpha = o.alpha * 1e-4;
  const sen = new Int32Array(o.maxSentenceLength);
  let wordsDone = 0,
    trained = 0;
  const t0 = performance.now();
  let lastReport = t0;
  const progress = (epoch: number) => {
    const now = performance.now();
    lastReport = now;
    const elapsed = (now - t0) / 1000;
    opts.onProgress?.({
      epoch,
      epochs: o.epochs,
      wordsDone,
      wordsTotal,
      alpha: alphaAt(),
      wordsPerSecond: elapsed > 0 ? wordsDone / elapsed : 0,
      elapsedSeconds: elapsed,
    });
  };
  // word2vec.c: alpha = α0·(1 − done/(epochs·words + 1)), floored at α0·1e-4
  const alphaAt = () => Math.max(minAlpha, o.alpha * (1 - wordsDone / (wordsTotal + 1)));

  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    for await (const words of sentences(sources, tokenize, o.sentences)) {
      let n = 0;
      for (const w of words) {
        const id = index.get(w);
        if (id === undefined) continue;
        wordsDone++;
        const k = keep[id]!;
        if (k < 1 && rng.uniform() >= k) continue;
        sen[n++] = id;
        if (n === sen.length) {
          state.trainSentence(sen, n, alphaAt());
          trained += n;
          n = 0;
        }
      }
      if (n > 0) {
        state.trainSentence(sen, n, alphaAt());
        trained += n;
      }
      if (opts.onProgress && performance.now() - lastReport >= o.progressSeconds * 1000) progress(epoch);
    }
    if (opts.onProgress) progress(epoch);
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    vectors: new WordVectors(vocab.words, state.syn0, o.dim, vocab.counts),
    stats: {
      vocabSize: V,
      distinctWords: vocab.distinctWords,
      corpusWords: vocab.corpusWords,
      vocabWords: vocab.totalWords,
      trainedWords: trained,
      seconds,
      wordsPerSecond: seconds > 0 ? wordsDone / seconds : 0,
    },
    options: o,
  };
}
