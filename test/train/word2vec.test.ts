import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { Rng, manualSeed } from "../../src/util/rng.js";
import { ArgumentError, DataError, FormatError, ShapeError } from "../../src/util/errors.js";
import { Tensor, crossEntropy, noGrad, reshape } from "../../src/tensor/index.js";
import { Embedding, LSTM, Linear, Module } from "../../src/nn/index.js";
import { Adam } from "../../src/optim/index.js";
import {
  AliasSampler,
  VocabCounter,
  WordVectors,
  buildWord2VecVocab,
  embeddingFromVectors,
  fillEmbedding,
  formatF32,
  keepProbabilities,
  loadWord2VecBinary,
  loadWord2VecText,
  loadWordVectors,
  makeTokenizer,
  memorySource,
  saveWord2VecBinary,
  saveWord2VecText,
  saveWordVectors,
  trainWord2Vec,
  type Word2VecOptions,
} from "../../src/train/word2vec.js";
import { register } from "../../src/cli/word2vec.js";

const TOPICS = 4,
  TOPIC_WORDS = 8,
  ROLES = 5;

/**
 * Planted structure: (1) topic sentences use only the 8 words of one topic, so the topics are disjoint co-occurrence
 * clusters; (2) role sentences hold one "role{i}{m|f}" word with 3 context words of role i and 3 of gender m|f, so each
 * role word's contexts are the sum of a role part and a gender part — the offset m → f is shared by every role.
 */
function plantedCorpus(seed: number, n = 1000): string[] {
  const r = new Rng(seed);
  const lines: string[] = [];
  for (let s = 0; s < n; s++) {
    const t = r.int(TOPICS);
    lines.push(Array.from({ length: 8 }, () => `topic${t}_${r.int(TOPIC_WORDS)}`).join(" "));
  }
  for (let s = 0; s < n; s++) {
    const i = r.int(ROLES),
      g = r.int(2) ? "f" : "m";
    const ws = [`role${i}${g}`];
    for (let j = 0; j < 3; j++) ws.push(`rctx${i}_${r.int(4)}`, `gctx${g}_${r.int(4)}`);
    lines.push(r.shuffle(ws).join(" "));
  }
  return r.shuffle(lines) as string[];
}

/** Share of topic words whose 5 nearest neighbours are all from their own topic. */
function clusterPurity(wv: WordVectors): number {
  let ok = 0;
  for (let t = 0; t < TOPICS; t++) {
    for (let w = 0; w < TOPIC_WORDS; w++)
      if (wv.nearest(`topic${t}_${w}`, 5).every((n) => n.word.startsWith(`topic${t}_`))) ok++;
  }
  return ok / (TOPICS * TOPIC_WORDS);
}

/** Share of "role_i g1 : role_i g2 :: role_j g1 : ?" answered with role_j g2 (all i ≠ j, both directions). */
function analogyAccuracy(wv: WordVectors): number {
  let ok = 0,
    n = 0;
  for (let i = 0; i < ROLES; i++) {
    for (let j = 0; j < ROLES; j++) {
      if (i === j) continue;
      for (const [g1, g2] of [
        ["m", "f"],
        ["f", "m"],
      ]) {
        n++;
        if (wv.analogy(`role${i}${g1}`, `role${i}${g2}`, `role${j}${g1}`, 1)[0]!.word === `role${j}${g2}`) ok++;
      }
    }
  }
  return ok / n;
}

const planted = plantedCorpus(7);
const synthOpts: Word2VecOptions = { dim: 20, window: 4, minCount: 1, sample: 0, epochs: 4, seed: 1 };

/** Trained once per model, shared by the tests that need trained vectors. */
const trained = {
  skipgram: trainWord2Vec(memorySource(planted), { ...synthOpts, model: "skipgram" }),
  cbow: trainWord2Vec(memorySource(planted), { ...synthOpts, model: "cbow" }),
};

for (const model of ["skipgram", "cbow"] as const) {
  test(`${model} finds planted co-occurrence clusters and a planted analogy`, async () => {
    const { vectors, stats } = await trained[model];
    assert.equal(stats.vocabSize, TOPICS * TOPIC_WORDS + 2 * ROLES + 4 * ROLES + 8);
    assert.equal(stats.trainedWords, 4 * stats.vocabWords, "sample 0 keeps every word");
    assert.equal(clusterPurity(vectors), 1, "every topic word's 5 neighbours are in its topic");
    assert.ok(analogyAccuracy(vectors) >= 0.9, `analogy accuracy ${analogyAccuracy(vectors)}`);
    // the same checks on the untrained (random) vectors fail: they measure what training learned
    const r = new Rng(3);
    const random = new WordVectors(
      vectors.words,
      Float32Array.from(vectors.data, () => r.uniform() - 0.5),
      vectors.dim,
    );
    assert.ok(clusterPurity(random) < 0.2, `random purity ${clusterPurity(random)}`);
    assert.ok(analogyAccuracy(random) < 0.3, `random analogy ${analogyAccuracy(random)}`);
  });
}

test("training is deterministic for a seed and changes with it", async () => {
  const lines = plantedCorpus(1, 150);
  for (const model of ["skipgram", "cbow"] as const) {
    const opts: Word2VecOptions = { model, dim: 8, minCount: 2, epochs: 2, sample: 1e-2 };
    const a = await trainWord2Vec(memorySource(lines), { ...opts, seed: 5 });
    const b = await trainWord2Vec(memorySource(lines), { ...opts, seed: 5 });
    const c = await trainWord2Vec(memorySource(lines), { ...opts, seed: 6 });
    assert.deepEqual(a.vectors.words, b.vectors.words);
    assert.deepEqual(a.vectors.data, b.vectors.data);
    assert.equal(a.stats.trainedWords, b.stats.trainedWords);
    assert.notDeepEqual(a.vectors.data, c.vectors.data);
  }
});

test("vocabulary: min count, most frequent first with ties in order of first appearance, counts and totals", async () => {
  // counts: b 2, a 3, c 3, d 1, e 1 (first seen in that order); "C!" lowercases to c, "a," to a
  const lines = ["b a c a", "d b a, e", "", "C! c"];
  const v = await buildWord2VecVocab(memorySource(lines), { minCount: 2 });
  assert.deepEqual(v.words, ["a", "c", "b"]);
  assert.deepEqual([...v.counts], [3, 3, 2]);
  assert.equal(v.totalWords, 8);
  assert.equal(v.corpusWords, 10);
  assert.equal(v.distinctWords, 5);
  assert.equal(v.index.get("c"), 1);
  const all = await buildWord2VecVocab(memorySource(lines), { minCount: 1 });
  assert.deepEqual(all.words, ["a", "c", "b", "d", "e"]);
  // words below the min count get no vector
  const { vectors } = await trainWord2Vec(memorySource(lines), { minCount: 2, dim: 4, epochs: 1 });
  assert.deepEqual(vectors.words, ["a", "c", "b"]);
  assert.equal(vectors.has("d"), false);
});

test("vocabulary pruning bounds the table while counting (word2vec.c's ReduceVocab)", () => {
  const c = new VocabCounter(3);
  c.add(["x", "x", "x", "y", "y"]);
  c.add(["a", "b", "c"]); // 5 distinct > 3: drop count ≤ 1, leaving x, y
  assert.equal(c.distinctWords, 2);
  c.add(["y", "d", "e", "f"]); // x3 y3 d e f: drop ≤ 2 → x, y
  assert.deepEqual(c.finish(1).words, ["x", "y"]);
});

test("tokenizer: lowercase Unicode words with inner apostrophes; configurable pattern and case", () => {
  assert.deepEqual(makeTokenizer()("Don't STOP: naïve café, 42 new_york — ‘quoted’"), [
    "don't",
    "stop",
    "naïve",
    "café",
    "42",
    "new_york",
    "quoted",
  ]);
  assert.deepEqual(makeTokenizer({ lowercase: false, tokenPattern: "\\S+" })("Hello, World!"), ["Hello,", "World!"]);
  assert.throws(() => makeTokenizer({ tokenPattern: "[a-z]*" }), ArgumentError);
  assert.throws(() => makeTokenizer({ tokenPattern: "(" }), /invalid token pattern/);
});

test("sentences: a line is a sentence, or a paragraph when asked; the window never crosses a sentence", async () => {
  // three one-word lines: as lines, no word has context (CBOW trains nothing); as one paragraph, each has two
  const lines = ["w", "w", "w"];
  const base = { model: "cbow", minCount: 1, dim: 4, epochs: 1, sample: 0 } as const;
  const perLine = await trainWord2Vec(memorySource(lines), { ...base, sentences: "line" });
  const perParagraph = await trainWord2Vec(memorySource(lines), { ...base, sentences: "paragraph" });
  const untrained = await trainWord2Vec(memorySource(lines), { ...base, sentences: "line", alpha: 1e-30 });
  assert.deepEqual(perLine.vectors.data, untrained.vectors.data);
  assert.notDeepEqual(perParagraph.vectors.data, untrained.vectors.data);
  // blank lines (or lines of spaces) end paragraphs
  const split = await trainWord2Vec(memorySource(["w", "", "w", "  ", "w"]), { ...base, sentences: "paragraph" });
  assert.deepEqual(split.vectors.data, untrained.vectors.data);
});

test("subsampling keeps a word with probability (sqrt(f/t) + 1)·t/f, and training sees that many words", async () => {
  const v = {
    words: ["the", "cat", "dog"],
    counts: Float64Array.from([5000, 50, 10]),
    totalWords: 5060,
  } as unknown as Parameters<typeof keepProbabilities>[0];
  const keep = keepProbabilities(v, 1e-3);
  const f = 5000 / 5060,
    t = 1e-3;
  assert.ok(Math.abs(keep[0]! - (Math.sqrt(f / t) + 1) * (t / f)) < 1e-12);
  assert.equal(keep[2], 1, "rare words are always kept");
  assert.deepEqual([...keepProbabilities(v, 0)], [1, 1, 1]);
  // a corpus that is half "the": the expected number of kept words matches the count actually trained
  const r = new Rng(2);
  const lines = Array.from({ length: 400 }, () =>
    Array.from({ length: 10 }, (_, i) => (i % 2 ? "the" : `w${r.int(20)}`)).join(" "),
  );
  const vocab = await buildWord2VecVocab(memorySource(lines), { minCount: 1 });
  const k = keepProbabilities(vocab, 1e-2);
  let expected = 0;
  vocab.counts.forEach((n, i) => (expected += n * k[i]!));
  const { stats } = await trainWord2Vec(memorySource(lines), { minCount: 1, dim: 4, epochs: 3, sample: 1e-2 });
  const sd = Math.sqrt(3 * vocab.counts[0]! * k[0]! * (1 - k[0]!)) + 1; // binomial spread, dominated by "the"
  assert.ok(
    Math.abs(stats.trainedWords - 3 * expected) < 5 * sd,
    `trained ${stats.trainedWords}, expected ${3 * expected} ± ${sd}`,
  );
  assert.ok(stats.trainedWords < 0.7 * stats.vocabWords * 3, "most occurrences of the frequent word were dropped");
});

test("negative sampling draws from unigram^0.75 (alias method)", () => {
  const counts = Float64Array.from([1000, 100, 10, 1, 0.5]);
  const s = new AliasSampler(counts, 0.75);
  const r = new Rng(4);
  const n = 200_000,
    h = new Array<number>(5).fill(0);
  for (let i = 0; i < n; i++) h[s.draw(r.uniform())]!++;
  const w = [...counts].map((c) => c ** 0.75),
    z = w.reduce((a, b) => a + b);
  w.forEach((x, i) => {
    const p = x / z,
      sd = Math.sqrt(n * p * (1 - p)) + 1;
    assert.ok(Math.abs(h[i]! - n * p) < 5 * sd, `word ${i}: ${h[i]} draws, expected ${n * p}`);
  });
});

test("queries: nearest by cosine and analogies as gensim's most_similar", () => {
  const words = ["king", "queen", "man", "woman", "apple"];
  const data = Float32Array.from([
    1,
    1,
    0, // king: royal + male
    1,
    0,
    1, // queen: royal + female
    0,
    1.2,
    0.1, // man
    0,
    0.1,
    1.1, // woman
    -1,
    0.2,
    0.1, // apple
  ]);
  const wv = new WordVectors(words, data, 3);
  // an independent brute-force reference
  const row = (w: string) => [...data.subarray(words.indexOf(w) * 3, words.indexOf(w) * 3 + 3)];
  const unit = (v: number[]) => v.map((x) => x / Math.hypot(...v));
  const cos = (a: number[], b: number[]) =>
    a.reduce((s, x, i) => s + x * b[i]!, 0) / Math.hypot(...a) / Math.hypot(...b);
  const near = wv.nearest("king", 4);
  const ref = words
    .filter((w) => w !== "king")
    .map((w) => ({ word: w, score: cos(row("king"), row(w)) }))
    .sort((a, b) => b.score - a.score);
  assert.deepEqual(
    near.map((n) => n.word),
    ref.map((n) => n.word),
  );
  near.forEach((n, i) => assert.ok(Math.abs(n.score - ref[i]!.score) < 1e-6));
  const ans = wv.analogy("man", "king", "woman", 2);
  assert.equal(ans[0]!.word, "queen");
  const q = unit(row("king")).map((x, i) => x - unit(row("man"))[i]! + unit(row("woman"))[i]!);
  assert.ok(Math.abs(ans[0]!.score - cos(q, row("queen"))) < 1e-6);
  assert.ok(!ans.some((n) => ["man", "king", "woman"].includes(n.word)), "inputs are excluded");
  assert.equal(
    wv.nearest(Float32Array.from([1, 1, 0]), 1)[0]!.word,
    "king",
    "a vector query may return the word itself",
  );
  assert.ok(Math.abs(wv.similarity("king", "queen") - cos(row("king"), row("queen"))) < 1e-6);
  assert.equal(wv.nearest("king", 100).length, 4, "k larger than the vocabulary");
  assert.throws(
    () => wv.nearest("King"),
    (e: ArgumentError) =>
      e instanceof ArgumentError &&
      /unknown word "King"/.test(e.message) &&
      /"king" is in the vocabulary/.test(e.hint!),
  );
  assert.throws(() => wv.analogy("man", "king", "princess"), /unknown word "princess"/);
  assert.throws(() => wv.nearest("king", 0), ArgumentError);
  assert.throws(() => new WordVectors(["a", "a"], new Float32Array(2), 1), /appears twice/);
  assert.throws(() => new WordVectors(["a"], new Float32Array(3), 2), ShapeError);
});

test("formatF32 writes the shortest decimal that reads back as the same float32", () => {
  assert.equal(formatF32(Math.fround(0.1)), "0.1");
  assert.equal(formatF32(0.5), "0.5");
  assert.equal(formatF32(-3), "-3");
  assert.equal(formatF32(Math.fround(1e-7)), "1e-7");
  assert.equal(formatF32(Math.fround(123456.7)), "123456.7");
  const r = new Rng(8);
  for (let i = 0; i < 20000; i++) {
    const x = Math.fround((r.uniform() - 0.5) * 10 ** (r.int(12) - 6));
    const s = formatF32(x);
    assert.equal(Math.fround(Number(s)), x, s);
  }
  assert.throws(() => formatF32(NaN), ArgumentError);
});

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "graft-w2v-"));
}

test("round trips: text, binary and safetensors+vocab.txt reproduce words, vectors and counts exactly", async () => {
  const dir = tmp();
  try {
    const { vectors } = await trainWord2Vec(memorySource(plantedCorpus(3, 100)), { dim: 7, minCount: 1, epochs: 1 });
    const files = saveWordVectors(dir, vectors, { binary: true });
    assert.deepEqual(
      files.map((f) => f.slice(dir.length + 1)),
      ["vectors.txt", "vectors.safetensors", "vocab.txt", "vectors.bin"],
    );
    const text = await loadWord2VecText(join(dir, "vectors.txt"));
    const bin = loadWord2VecBinary(join(dir, "vectors.bin"));
    const st = await loadWordVectors(dir); // a directory: safetensors + vocab.txt
    for (const got of [text, bin, st]) {
      assert.deepEqual(got.words, vectors.words);
      assert.equal(got.dim, 7);
      assert.deepEqual(got.data, vectors.data);
    }
    assert.deepEqual(st.counts, vectors.counts);
    assert.equal(readFileSync(join(dir, "vocab.txt"), "utf8").split("\n")[0], vectors.words[0]);
    assert.equal(readFileSync(join(dir, "vectors.txt"), "utf8").split("\n")[0], `${vectors.size} 7`);
    const limited = await loadWordVectors(join(dir, "vectors.txt"), { limit: 3 });
    assert.deepEqual(limited.words, vectors.words.slice(0, 3));
    assert.deepEqual(
      (await loadWordVectors(join(dir, "vectors.safetensors"), { limit: 2 })).data,
      vectors.data.subarray(0, 14),
    );
    assert.throws(
      () => saveWord2VecText(join(dir, "bad.txt"), new WordVectors(["a b"], new Float32Array(1), 1)),
      /whitespace/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("reads vectors written by word2vec.c, gensim and GloVe", async () => {
  const dir = tmp();
  try {
    // word2vec.c -binary 0: "</s>" first, a space after every number
    writeFileSync(join(dir, "c.txt"), "3 2\n</s> 0.001 -0.002 \nthe 0.5 1.25 \nkönig -1.5e-3 2 \n");
    // gensim save_word2vec_format: no trailing space (CRLF line ends here)
    writeFileSync(join(dir, "gensim.txt"), "2 3\r\nthe 1.0 2.0 3.0\r\nof -1.0 0.0 0.25\r\n");
    // GloVe: no header line
    writeFileSync(join(dir, "glove.txt"), "the 0.1 0.2\nof 0.3 0.4\n");
    // word2vec.c -binary 1
    const row = (w: string, xs: number[]) => {
      const b = Buffer.alloc(4 * xs.length);
      xs.forEach((x, i) => b.writeFloatLE(x, 4 * i));
      return Buffer.concat([Buffer.from(w + " "), b, Buffer.from("\n")]);
    };
    writeFileSync(
      join(dir, "c.bin"),
      Buffer.concat([Buffer.from("2 2\n"), row("the", [0.5, -1]), row("of", [2, 0.25])]),
    );
    const c = await loadWordVectors(join(dir, "c.txt"));
    assert.deepEqual(c.words, ["</s>", "the", "könig"]);
    assert.deepEqual([...c.vector("könig")], [Math.fround(-1.5e-3), 2]);
    const g = await loadWordVectors(join(dir, "gensim.txt"));
    assert.deepEqual([...g.vector("of")], [-1, 0, 0.25]);
    const gl = await loadWordVectors(join(dir, "glove.txt"));
    assert.equal(gl.dim, 2);
    assert.deepEqual(gl.words, ["the", "of"]);
    const b = await loadWordVectors(join(dir, "c.bin"));
    assert.deepEqual([...b.vector("of")], [2, 0.25]);
    // our binary writer produces word2vec.c's bytes exactly
    saveWord2VecBinary(join(dir, "ours.bin"), b);
    assert.deepEqual(readFileSync(join(dir, "ours.bin")), readFileSync(join(dir, "c.bin")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("damaged vector files are refused with the file, the line and the reason", async () => {
  const dir = tmp();
  try {
    const cases: [string, string | Buffer, RegExp][] = [
      ["short.txt", "3 2\nthe 1 2\nof 3 4\n", /announces 3 vectors but the file holds 2/],
      ["fields.txt", "2 2\nthe 1 2\nof 3\n", /line 3: expected a word and 2 numbers, found 2/],
      ["nan.txt", "1 2\nthe 1 x\n", /line 2: value 2 of "the" is "x"/],
      ["dup.txt", "2 1\nthe 1\nthe 2\n", /"the" appears twice/],
      ["extra.txt", "1 1\nthe 1\nof 2\n", /more vectors than the 1/],
      [
        "trunc.bin",
        Buffer.concat([Buffer.from("2 2\nthe "), Buffer.alloc(8), Buffer.from("\nof "), Buffer.alloc(3)]),
        /file ends inside the numbers of "of"/,
      ],
    ];
    for (const [name, body, re] of cases) {
      writeFileSync(join(dir, name), body);
      await assert.rejects(
        loadWordVectors(join(dir, name)),
        (e: Error) => e instanceof DataError && re.test(e.message) && e.message.includes(name),
        name,
      );
    }
    await assert.rejects(loadWordVectors(join(dir, "missing")), /does not exist/);
    const vecs = join(dir, "v");
    saveWordVectors(vecs, new WordVectors(["a", "b"], Float32Array.from([1, 2]), 1));
    writeFileSync(join(vecs, "vocab.txt"), "a\n");
    await assert.rejects(
      loadWordVectors(vecs),
      (e: Error) => e instanceof FormatError && /has 1 words but .* has 2 rows/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("clear errors: empty corpus, nothing above min count, bad options", async () => {
  await assert.rejects(
    trainWord2Vec(memorySource(["", "  ", "!!"])),
    (e: DataError) => e instanceof DataError && /no words/.test(e.message),
  );
  await assert.rejects(
    trainWord2Vec(memorySource(["a b c a"]), { minCount: 5 }),
    (e: DataError) => /no word occurs 5 times/.test(e.message) && /"a", occurs 2 times/.test(e.hint!),
  );
  for (const bad of [
    { dim: 0 },
    { dim: -3 },
    { dim: 2.5 },
    { window: 0 },
    { negative: 0 },
    { epochs: 0 },
    { sample: -1 },
    { alpha: 0 },
    { minCount: 0 },
    { model: "glove" },
    { sentences: "words" },
  ]) {
    await assert.rejects(
      trainWord2Vec(memorySource(["a b"]), bad as Word2VecOptions),
      ArgumentError,
      JSON.stringify(bad),
    );
  }
  await assert.rejects(trainWord2Vec([]), /no corpus/);
  await assert.rejects(
    trainWord2Vec("/nonexistent/corpus.txt"),
    (e: DataError) => e instanceof DataError && /corpus path does not exist/.test(e.message),
  );
});

/** Embedding → LSTM → Linear over the final hidden state. */
class LstmClassifier extends Module {
  constructor(
    public embeddings: Embedding,
    public lstm: LSTM,
    public classifier: Linear,
  ) {
    super();
  }

  forward(ids: Tensor): Tensor {
    const b = ids.shape[0]!;
    const { h } = this.lstm.forward(this.embeddings.forward(ids));
    return this.classifier.forward(reshape(h, [b, this.lstm.hiddenSize]));
  }
}

test("pre-trained vectors fill an Embedding (missing words reported) that an LSTM classifier uses frozen or fine-tuned", async () => {
  const { vectors } = await trained.cbow;
  const D = vectors.dim;
  // the classifier's own vocabulary: padding, an unknown word, the topic words in its own order, one upper-cased
  const vocab = [
    "<pad>",
    "<unk>",
    ...Array.from({ length: TOPICS * TOPIC_WORDS }, (_, i) => `topic${i % TOPICS}_${Math.floor(i / TOPICS)}`),
  ];
  vocab[5] = vocab[5]!.toUpperCase();
  const strict = embeddingFromVectors(vectors, vocab, { paddingIdx: 0, rng: new Rng(1) });
  assert.deepEqual(strict.missingWords, ["<unk>", "TOPIC3_0"]);
  const { embedding, found, missing } = embeddingFromVectors(vectors, vocab, {
    paddingIdx: 0,
    lowercaseFallback: true,
    freeze: true,
    rng: new Rng(1),
  });
  assert.equal(found, TOPICS * TOPIC_WORDS);
  assert.equal(missing, 1);
  const weights = embedding.weight.toFloat32Array();
  assert.deepEqual([...weights.subarray(0, D)], new Array(D).fill(0), "padding row is zero");
  assert.deepEqual(weights.subarray(2 * D, 3 * D), vectors.vector("topic0_0"));
  assert.deepEqual(weights.subarray(5 * D, 6 * D), vectors.vector("topic3_0"));
  assert.equal(embedding.weight.requiresGrad, false);
  assert.throws(
    () => fillEmbedding(new Embedding(vocab.length, 7), vectors, vocab),
    (e: ShapeError) => /7 dims but the vectors have 20/.test(e.message),
  );
  assert.throws(() => fillEmbedding(new Embedding(3, D), vectors, vocab), /34 ids but the embedding has 3 rows/);

  // topic classification of 6-word sequences
  const r = new Rng(9);
  const make = (n: number) => {
    const ids = new Int32Array(n * 6),
      labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = r.int(TOPICS);
      for (let j = 0; j < 6; j++) ids[i * 6 + j] = 2 + labels[i]! + TOPICS * r.int(TOPIC_WORDS);
    }
    return { ids: new Tensor(ids, [n, 6]), labels: new Tensor(labels, [n]) };
  };
  const train = make(64),
    held = make(64);
  for (const freeze of [true, false]) {
    manualSeed(3);
    const emb = embeddingFromVectors(vectors, vocab, {
      paddingIdx: 0,
      lowercaseFallback: true,
      freeze,
      rng: new Rng(1),
    }).embedding;
    const before = emb.weight.toFloat32Array();
    const model = new LstmClassifier(emb, new LSTM(D, 12), new Linear(12, TOPICS));
    const opt = new Adam(model.trainableParameters(), { lr: 0.03 });
    for (let step = 0; step < 25; step++) {
      opt.zeroGrad();
      crossEntropy(model.forward(train.ids), train.labels).backward();
      opt.step();
    }
    const logits = noGrad(() => model.forward(held.ids)).toFloat32Array();
    const heldLabels = held.labels.toArray();
    let correct = 0;
    for (let i = 0; i < 64; i++) {
      const row = [...logits.subarray(i * TOPICS, (i + 1) * TOPICS)];
      if (row.indexOf(Math.max(...row)) === heldLabels[i]) correct++;
    }
    assert.ok(correct / 64 > 0.9, `freeze=${freeze}: held-out accuracy ${correct / 64}`);
    if (freeze) assert.deepEqual(emb.weight.toFloat32Array(), before, "a frozen embedding is not updated");
    else assert.notDeepEqual(emb.weight.toFloat32Array(), before, "a trainable embedding is fine-tuned");
  }
});

test("CLI: word2vec train writes the vectors directory; neighbors and analogy print results", async () => {
  const dir = tmp();
  const run = async (...args: string[]) => {
    const chunks: string[] = [];
    const program = new Command().exitOverride();
    register(program, { stdout: { write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WritableStream });
    await program.parseAsync(["node", "graft", ...args]);
    return chunks.join("");
  };
  try {
    writeFileSync(join(dir, "corpus.txt"), planted.join("\n") + "\n");
    const summary = JSON.parse(
      await run(
        "word2vec",
        "train",
        "--corpus",
        join(dir, "corpus.txt"),
        "--out",
        join(dir, "vecs"),
        "--dim",
        "20",
        "--window",
        "4",
        "--min-count",
        "1",
        "--sample",
        "0",
        "--epochs",
        "4",
        "--model",
        "cbow",
        "--quiet",
        "--json",
      ),
    );
    assert.equal(summary.stats.vocabSize, TOPICS * TOPIC_WORDS + 2 * ROLES + 4 * ROLES + 8);
    assert.equal(summary.options.model, "cbow");
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "vecs", "word2vec.json"), "utf8")).stats, summary.stats);
    const nb = JSON.parse(
      await run("word2vec", "neighbors", "--vectors", join(dir, "vecs"), "topic2_3", "-k", "3", "--json"),
    );
    assert.equal(nb.neighbors.length, 3);
    assert.ok(nb.neighbors.every((n: { word: string }) => n.word.startsWith("topic2_")));
    const an = JSON.parse(
      await run(
        "word2vec",
        "analogy",
        "--vectors",
        join(dir, "vecs", "vectors.txt"),
        "role1m",
        "role1f",
        "role3m",
        "-k",
        "1",
        "--json",
      ),
    );
    assert.equal(an.neighbors[0].word, "role3f");
    assert.match(
      await run("word2vec", "neighbors", "--vectors", join(dir, "vecs"), "topic0_0", "-k", "2"),
      /^nearest to "topic0_0":\n {2}topic0_\d {2}0\.\d{4}\n/,
    );
    await assert.rejects(
      run("word2vec", "neighbors", "--vectors", join(dir, "vecs"), "nosuchword"),
      /unknown word "nosuchword"/,
    );
    await assert.rejects(
      run("word2vec", "train", "--corpus", join(dir, "corpus.txt"), "--out", join(dir, "x"), "--dim", "ten"),
      /--dim must be a number/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
