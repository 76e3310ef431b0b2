import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadTokenizer } from "../../src/tokenizers/auto.js";
import {
  readVocabTxt,
  readBpeFiles,
  wordPieceTokenizerJson,
  byteLevelBpeTokenizerJson,
} from "../../src/tokenizers/convert.js";
import { FormatError } from "../../src/util/errors.js";
import { fixture, tmpDir } from "../io/helpers.js";

const TINY = fixture("io", "hub", "tiny-bert");
const TEXTS = [
  "Hello, world!",
  "The CATS sat on the mat.",
  "unable 北京 café",
  "dogs-ing'ed?",
  "",
  "   x   ",
  "zzz qwerty",
];

test("vocab.txt converts to a tokenizer equal to the one the Rust library builds itself", async () => {
  const fromJson = loadTokenizer(TINY);
  const dir = tmpDir("graft-conv-");
  for (const f of ["vocab.txt", "tokenizer_config.json"]) copyFileSync(join(TINY, f), join(dir, f));
  const fromVocab = loadTokenizer(dir);
  assert.equal(fromVocab.vocabSize, fromJson.vocabSize);
  const pairs = TEXTS.map((t) => t.toUpperCase());
  assert.deepEqual(
    (await fromVocab.encodeBatch(TEXTS, { pairs })).toJSON(),
    (await fromJson.encodeBatch(TEXTS, { pairs })).toJSON(),
  );
  assert.deepEqual(await fromVocab.decodeBatch([[2, 20, 21, 3]]), await fromJson.decodeBatch([[2, 20, 21, 3]]));
});

test("do_lower_case: false gives a cased WordPiece tokenizer (accents kept, as BertNormalizer's strip_accents follows lowercase)", async () => {
  const dir = tmpDir("graft-conv-");
  writeFileSync(
    join(dir, "vocab.txt"),
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Café", "café", "cafe"].join("\n") + "\n",
  );
  writeFileSync(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({ tokenizer_class: "BertTokenizer", do_lower_case: false }),
  );
  assert.deepEqual((await loadTokenizer(dir).encode("Café café")).tokens, ["[CLS]", "Café", "café", "[SEP]"]);
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ tokenizer_class: "BertTokenizer" }));
  assert.deepEqual((await loadTokenizer(dir).encode("Café café")).tokens, ["[CLS]", "cafe", "cafe", "[SEP]"]);
});

test("byte-level BPE from vocab.json + merges.txt, GPT-2 and RoBERTa flavours", async () => {
  // A toy vocabulary: all 256 byte symbols would be needed for arbitrary text; these words use few.
  const symbols = [
    "h",
    "e",
    "l",
    "o",
    "Ġ",
    "w",
    "r",
    "d",
    "<|endoftext|>",
    "he",
    "ll",
    "hell",
    "hello",
    "Ġw",
    "or",
    "Ġwor",
    "Ġworl",
    "Ġworld",
  ];
  const vocab = Object.fromEntries(symbols.map((s, i) => [s, i]));
  const dir = tmpDir("graft-conv-");
  writeFileSync(join(dir, "vocab.json"), JSON.stringify(vocab));
  writeFileSync(join(dir, "merges.txt"), "#version: 0.2\nh e\nl l\nhe ll\nhell o\nĠ w\no r\nĠw or\nĠwor l\nĠworl d\n");
  const gpt = loadTokenizer(dir);
  assert.equal(gpt.settings.family, "gpt2");
  const e = await gpt.encode("hello world<|endoftext|>");
  assert.deepEqual(e.tokens, ["hello", "Ġworld", "<|endoftext|>"]);
  assert.deepEqual(e.offsets, [
    [0, 5],
    [5, 11],
    [11, 24],
  ]);
  assert.equal(await gpt.decode(e.ids), "hello world<|endoftext|>");
  assert.equal(await gpt.decode(e.ids, { skipSpecialTokens: true }), "hello world");

  const rob = byteLevelBpeTokenizerJson(
    { ...vocab, "<s>": 18, "</s>": 19, "<pad>": 20, "<unk>": 21, "<mask>": 22 },
    readBpeFiles(join(dir, "vocab.json"), join(dir, "merges.txt")).merges,
    { flavor: "roberta" },
  );
  assert.deepEqual((rob.post_processor as { type: string }).type, "RobertaProcessing");
  const rdir = tmpDir("graft-conv-");
  writeFileSync(join(rdir, "tokenizer.json"), JSON.stringify(rob));
  const r = loadTokenizer(rdir);
  assert.equal(r.settings.family, "roberta");
  assert.deepEqual(
    (await r.encode("hello", "world")).tokens,
    ["<s>", "hello", "</s>", "</s>", "w", "or", "l", "d", "</s>"],
    "no prefix space: the pair's first word is not Ġworld",
  );
  assert.deepEqual([r.clsTokenId, r.sepTokenId, r.padTokenId, r.maskTokenId], [18, 19, 20, 22]);
});

test("bad vocabulary files are refused with the file and line", () => {
  const dir = tmpDir("graft-conv-");
  writeFileSync(join(dir, "vocab.json"), JSON.stringify({ a: 0, b: -1 }));
  writeFileSync(join(dir, "merges.txt"), "a b\n");
  assert.throws(
    () => readBpeFiles(join(dir, "vocab.json"), join(dir, "merges.txt")),
    /vocab\.json: token "b" has id -1/,
  );
  writeFileSync(join(dir, "vocab.json"), JSON.stringify({ a: 0, b: 1 }));
  writeFileSync(join(dir, "merges.txt"), "#version: 0.2\na b\nabc\n");
  assert.throws(
    () => readBpeFiles(join(dir, "vocab.json"), join(dir, "merges.txt")),
    /merges\.txt: line 3 is not a merge "a b": "abc"/,
  );
  writeFileSync(join(dir, "vocab.txt"), "");
  assert.throws(
    () => readVocabTxt(join(dir, "vocab.txt")),
    (e: Error) => e instanceof FormatError && /vocabulary is empty/.test(e.message),
  );
  assert.throws(
    () => wordPieceTokenizerJson(new Map([["[UNK]", 0]])),
    /the cls token "\[CLS\]" is not in the vocabulary/,
  );
});
