import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../src/util/rng.js";
import { trainTokenizer, bertWords, byteLevelWords } from "../../src/tokenizers/index.js";

const work = mkdtempSync(join(tmpdir(), "graft-toktrain-"));
test.after(() => rmSync(work, { recursive: true, force: true }));

const WORDS = [
  "the",
  "transfer",
  "learning",
  "model",
  "tokenizer",
  "training",
  "café",
  "naïve",
  "über",
  "straße",
  "données",
  "日本語",
  "テキスト",
  "😀",
  "réseau",
  "neuronal",
  "apprentissage",
  "profond",
];
function corpus(path: string, lines: number, seed: number): void {
  const r = new Rng(seed);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = 4 + r.int(10);
    const ws: string[] = [];
    for (let j = 0; j < n; j++) ws.push(WORDS[r.int(WORDS.length)] + (r.uniform() < 0.1 ? "," : ""));
    out.push(ws.join(r.uniform() < 0.05 ? "   " : " ") + ".");
  }
  writeFileSync(path, out.join("\n") + "\n");
}

corpus(join(work, "a.txt"), 400, 1);
corpus(join(work, "b.txt"), 400, 2);
const files = [join(work, "a.txt"), join(work, "b.txt")];
const TRICKY = "Transfer learning: the naïve café über Straße — 日本語テキスト 😀 réseau   neuronal!";

test("WordPiece: vocabulary size, special tokens first, lowercase + accent stripping, round trip of known text", async () => {
  const tok = await trainTokenizer(files, join(work, "wp"), { type: "wordpiece", vocabSize: 120, minFrequency: 2 });
  assert.equal(tok.vocabSize, 120);
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((i) => tok.idToToken(i)),
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
  );
  const enc = await tok.encode(TRICKY);
  assert.equal(enc.tokens[0], "[CLS]");
  assert.equal(enc.tokens.at(-1), "[SEP]");
  const decoded = await tok.decode(enc.ids, { skipSpecialTokens: false });
  // BERT's normalization lowercases and strips accents (ß has no decomposition); CJK characters become separate
  // words; characters the corpus never had (":", "—", "!") are unknown
  assert.equal(
    decoded,
    "[CLS] transfer learning [UNK] the naive cafe uber straße [UNK] 日 本 語 テキスト 😀 reseau neuronal [UNK] [SEP]",
  );
  const vocabTxt = readFileSync(join(work, "wp", "vocab.txt"), "utf8")
    .trim()
    .split("\n");
  assert.equal(vocabTxt.length, 120);
  assert.ok(
    vocabTxt.some((t) => t.startsWith("##")),
    "continuation pieces are learned",
  );
});

test("byte-level BPE: exact round trip of any text (accents, CJK, emoji, whitespace runs), merges file", async () => {
  const tok = await trainTokenizer(files, join(work, "bpe"), { type: "bpe", vocabSize: 340, minFrequency: 2 });
  assert.equal(tok.vocabSize, 340);
  for (const text of [TRICKY, "  leading and   inner  spaces ", "unseen wörds ☃ ∑ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "a".repeat(300)]) {
    const enc = await tok.encode(text);
    assert.equal(await tok.decode(enc.ids), text);
  }
  const merges = readFileSync(join(work, "bpe", "merges.txt"), "utf8")
    .trim()
    .split("\n");
  assert.equal(merges[0], "#version: 0.2");
  assert.equal(merges.length - 1, 340 - 256 - 1);
  // merges compress frequent text well below one token per byte
  const line = readFileSync(join(work, "a.txt"), "utf8").split("\n")[0];
  const n = (await tok.encode(line)).ids.length;
  assert.ok(n < Buffer.byteLength(line) / 3, `${n} tokens for ${Buffer.byteLength(line)} bytes`);
});

test("training is deterministic", async () => {
  await trainTokenizer(files, join(work, "d1"), { type: "wordpiece", vocabSize: 100 });
  await trainTokenizer(files, join(work, "d2"), { type: "wordpiece", vocabSize: 100 });
  assert.equal(
    readFileSync(join(work, "d1", "tokenizer.json"), "utf8"),
    readFileSync(join(work, "d2", "tokenizer.json"), "utf8"),
  );
});

test("pre-tokenizers split as BERT and GPT-2 do; bad input is refused", async () => {
  assert.deepEqual(bertWords("Hello, World! Ça va?", true, true), ["hello", ",", "world", "!", "ca", "va", "?"]);
  assert.deepEqual(bertWords("日本", false, false), ["日", "本"]);
  assert.deepEqual(byteLevelWords("Hi there's"), ["Hi", "Ġthere", "'s"]);
  await assert.rejects(
    trainTokenizer([join(work, "missing.txt")], join(work, "x"), { type: "bpe", vocabSize: 300 }),
    /does not exist/,
  );
  writeFileSync(join(work, "empty.txt"), "\n\n");
  await assert.rejects(
    trainTokenizer([join(work, "empty.txt")], join(work, "y"), { type: "wordpiece", vocabSize: 100 }),
    /no words/,
  );
  await assert.rejects(trainTokenizer(files, join(work, "z"), { type: "wordpiece", vocabSize: 10 }), /vocabSize/);
});
