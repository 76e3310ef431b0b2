import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AutoTokenizer, loadTokenizer } from "../../src/tokenizers/auto.js";
import { batchToTensors, cleanUpTokenization } from "../../src/tokenizers/tokenizer.js";
import { ArgumentError, FormatError } from "../../src/util/errors.js";
import { fixture, tmpDir } from "../io/helpers.js";
import { startHub, repoFromDir } from "../io/hub-server.js";

const TINY = fixture("io", "hub", "tiny-bert");
const tiny = () => loadTokenizer(TINY);

test("loads tokenizer.json with tokenizer_config.json: special tokens, max length, vocabulary", () => {
  const t = tiny();
  assert.equal(t.settings.family, "bert");
  assert.deepEqual(
    [t.padTokenId, t.unkTokenId, t.clsTokenId, t.sepTokenId, t.maskTokenId, t.bosTokenId],
    [0, 1, 2, 3, 4, null],
  );
  assert.equal(t.vocabSize, 79);
  assert.equal(t.modelMaxLength, 16);
  assert.equal(t.tokenToId("cat"), t.getVocab().cat);
  assert.equal(t.idToToken(2), "[CLS]");
  assert.deepEqual(t.allSpecialIds.sort(), [0, 1, 2, 3, 4]);
});

test("pairs: token type ids, and the three truncation strategies", async () => {
  const t = tiny();
  const words = async (e: { tokens: string[] }) => e.tokens.join(" ");
  const e = await t.encode("the cat sat on the mat", "hello world", { truncation: true, maxLength: 8 });
  assert.equal(await words(e), "[CLS] the cat sat [SEP] hello world [SEP]", "longest_first trims the longer sequence");
  assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 0, 1, 1, 1]);
  assert.deepEqual(e.sequenceIds, [null, 0, 0, 0, null, 1, 1, null]);
  const both = await t.encode("the cat sat on", "the dog sat on", { truncation: "longest_first", maxLength: 7 });
  assert.equal(await words(both), "[CLS] the cat [SEP] the dog [SEP]", "then both, one token at a time");
  const second = await t.encode("the cat", "the dog sat on the mat", { truncation: "only_second", maxLength: 8 });
  assert.equal(await words(second), "[CLS] the cat [SEP] the dog sat [SEP]");
  const first = await t.encode("the cat sat on the mat", "the dog", { truncation: "only_first", maxLength: 8 });
  assert.equal(await words(first), "[CLS] the cat sat [SEP] the dog [SEP]");
  await assert.rejects(t.encode("the cat", "the dog sat", { truncation: "only_first", maxLength: 5 }), ArgumentError);
  const long = "the cat sat on the mat ".repeat(5);
  assert.equal(
    (await t.encode(long, null, { truncation: true })).ids.length,
    16,
    "maxLength defaults to model_max_length",
  );
  assert.equal((await t.encode(long)).ids.length, 32, "no truncation unless asked");
});

test("batch padding: to the longest, to max_length, to a multiple, on either side", async () => {
  const t = tiny();
  const texts = ["the cat", "hello world the dog sat", ""];
  const b = await t.encodeBatch(texts, { padding: true });
  assert.deepEqual(
    b.inputIds.map((r) => r.length),
    [7, 7, 7],
  );
  assert.deepEqual(b.attentionMask, [
    [1, 1, 1, 1, 0, 0, 0],
    [1, 1, 1, 1, 1, 1, 1],
    [1, 1, 0, 0, 0, 0, 0],
  ]);
  assert.deepEqual(b.inputIds[0]!.slice(4), [0, 0, 0]);
  assert.deepEqual(b.wordIds[0], [null, 0, 1, null, null, null, null]);
  assert.deepEqual(b.offsets[0]!.slice(3), [
    [0, 0],
    [0, 0],
    [0, 0],
    [0, 0],
  ]);
  assert.deepEqual(b.specialTokensMask[2], [1, 1, 1, 1, 1, 1, 1]);
  const m = await t.encodeBatch(texts, { padding: "max_length", maxLength: 10, truncation: true });
  assert.deepEqual(
    m.inputIds.map((r) => r.length),
    [10, 10, 10],
  );
  const over = await t.encodeBatch(texts, { padding: "max_length", maxLength: 5 });
  assert.deepEqual(
    over.inputIds.map((r) => r.length),
    [5, 7, 5],
    "without truncation a longer row stays longer, as in transformers",
  );
  assert.equal(JSON.stringify(over), JSON.stringify(over.toJSON()));
  const mult = await t.encodeBatch(texts, { padding: true, padToMultipleOf: 4 });
  assert.deepEqual(
    mult.inputIds.map((r) => r.length),
    [8, 8, 8],
  );

  const dir = tmpDir("graft-tok-");
  for (const f of ["tokenizer.json", "special_tokens_map.json"]) copyFileSync(join(TINY, f), join(dir, f));
  const cfg = JSON.parse(readFileSync(join(TINY, "tokenizer_config.json"), "utf8"));
  writeFileSync(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({ ...cfg, padding_side: "left", truncation_side: "left" }),
  );
  const left = loadTokenizer(dir);
  const l = await left.encodeBatch(["the cat", "hello world the dog sat"], { padding: true });
  assert.deepEqual(l.attentionMask[0], [0, 0, 0, 1, 1, 1, 1]);
  assert.deepEqual(l.tokens[0], ["[PAD]", "[PAD]", "[PAD]", "[CLS]", "the", "cat", "[SEP]"]);
  assert.deepEqual(
    (await left.encode("the cat sat on", null, { truncation: true, maxLength: 4 })).tokens,
    ["[CLS]", "sat", "on", "[SEP]"],
    "left truncation keeps the end",
  );

  const tensors = batchToTensors(b);
  assert.deepEqual([...tensors.inputIds.shape], [3, 7]);
  assert.equal(tensors.attentionMask.dtype, "i32");
  assert.deepEqual(tensors.inputIds.toArray().slice(7, 14), b.inputIds[1]);
  assert.throws(
    () => batchToTensors({ inputIds: [[1], [1, 2]], attentionMask: [], tokenTypeIds: [] }),
    /row 1 has 2 tokens, row 0 has 1/,
  );
});

test("offsets point into the original text (UTF-16, astral characters included) and word ids group sub-words", async () => {
  const t = tiny();
  const text = "😀 Cafe unable cats!";
  const e = await t.encode(text);
  const spans = e.offsets.map(([s, end], i) => (e.specialTokensMask[i] ? null : text.slice(s, end)));
  assert.deepEqual(e.tokens, ["[CLS]", "[UNK]", "cafe", "un", "##able", "cat", "##s", "!", "[SEP]"]);
  assert.deepEqual(spans, [null, "😀", "Cafe", "un", "able", "cat", "s", "!", null]);
  assert.deepEqual(e.wordIds, [null, 0, 1, 2, 2, 3, 3, 4, null]);
  // NER label alignment: the first sub-token of each word takes the word's label
  const labels = ["O", "B-MISC", "O", "B-ANIMAL", "O"];
  const aligned = e.wordIds.map((w, i) => (w === null || e.wordIds[i - 1] === w ? -100 : labels[w]));
  assert.deepEqual(aligned, [-100, "O", "B-MISC", "O", -100, "B-ANIMAL", -100, "O", -100]);
  const p = await t.encode("a", "😀😀 cat");
  assert.deepEqual(p.offsets.at(-2), [5, 8], "pair offsets are UTF-16 positions in the pair text");
});

test("decode: special tokens kept or skipped, WordPiece pieces joined, tokenization spaces cleaned as configured", async () => {
  const t = tiny();
  const e = await t.encode("Hello, world! The cats sat.");
  assert.equal(await t.decode(e.ids), "[CLS] hello, world! the cats sat. [SEP]");
  assert.equal(await t.decode(e.ids, { skipSpecialTokens: true }), "hello, world! the cats sat.");
  // the engine's WordPiece decoder already joins punctuation; transformers' extra cleanup changes nothing more here
  assert.equal(
    await t.decode(e.ids, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false }),
    "hello, world! the cats sat.",
  );
  assert.equal(
    cleanUpTokenization("i do n't know . you 're right , it 's ok ' ! ?"),
    "i don't know. you're right, it's ok '!?",
  ); // same order of replacements as transformers
  assert.deepEqual(
    await t.decodeBatch([e.ids, Int32Array.from([t.tokenToId(".")!, t.tokenToId("cat")!])], {
      skipSpecialTokens: true,
    }),
    ["hello, world! the cats sat.", ". cat"],
  );
  await assert.rejects(t.decode([1.5]), /ids\[0\] = 1.5 is not a token id/);
});

test("save writes what transformers' AutoTokenizer reads, and loads back identical, added tokens included", async () => {
  const t = tiny();
  assert.equal(t.addTokens(["graft", "cat"]), 1, "only new tokens count");
  assert.equal(t.vocabSize, 80);
  const dir = tmpDir("graft-tok-");
  assert.deepEqual(t.save(dir), ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]);
  const cfg = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
  assert.equal(cfg.tokenizer_class, "BertTokenizer");
  assert.equal(cfg.model_max_length, 16);
  assert.equal(cfg.do_lower_case, true, "fields graft does not interpret are kept");
  assert.equal(cfg.pad_token, "[PAD]");
  assert.deepEqual(JSON.parse(readFileSync(join(dir, "special_tokens_map.json"), "utf8")), {
    unk_token: "[UNK]",
    sep_token: "[SEP]",
    pad_token: "[PAD]",
    cls_token: "[CLS]",
    mask_token: "[MASK]",
  });
  const back = loadTokenizer(dir);
  const texts = ["graft the cat!", "hello graftcat"];
  assert.deepEqual(
    (await back.encodeBatch(texts, { padding: true })).toJSON(),
    (await t.encodeBatch(texts, { padding: true })).toJSON(),
  );
  assert.deepEqual((await back.encode("graft")).tokens, ["[CLS]", "graft", "[SEP]"]);
});

test("clear errors: padding without a pad token, truncation without a length, bad inputs", async () => {
  const dir = tmpDir("graft-tok-");
  copyFileSync(join(TINY, "tokenizer.json"), join(dir, "tokenizer.json"));
  writeFileSync(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({ tokenizer_class: "BertTokenizer", pad_token: null }),
  );
  const t = loadTokenizer(dir);
  assert.equal(t.padTokenId, null);
  assert.equal(t.modelMaxLength, null);
  await assert.rejects(
    t.encodeBatch(["a", "b"], { padding: true }),
    (e: Error) =>
      e instanceof ArgumentError &&
      /padding needs a pad token/.test(e.message) &&
      /setSpecialToken\("pad"/.test((e as ArgumentError).hint ?? ""),
  );
  await assert.rejects(
    t.encode("a", null, { truncation: true }),
    /truncation needs a maxLength: .* names no model_max_length/,
  );
  t.setSpecialToken("pad", "[PAD]");
  assert.equal(t.padTokenId, 0);
  assert.equal((await t.encodeBatch(["a", "b c"], { padding: true })).inputIds[0]!.length, 4);
  await assert.rejects(t.encodeBatch(["a", "b"], { pairs: ["c"] }), /2 texts but 1 pairs/);
  await assert.rejects(t.encodeBatch(["a", 3 as unknown as string]), /texts\[1\] is number, not a string/);
  await assert.rejects(t.encode("a", null, { padding: "sideways" as never }), /padding must be/);
  await assert.rejects(t.encode("a", null, { truncation: true, maxLength: 0 }), /maxLength must be a positive integer/);

  const broken = tmpDir("graft-tok-");
  writeFileSync(join(broken, "tokenizer.json"), JSON.stringify({ version: "1.0", model: { type: "Nope" } }));
  assert.throws(
    () => loadTokenizer(broken),
    (e: Error) => e instanceof FormatError && /tokenizer\.json: not a tokenizer the engine understands/.test(e.message),
  );
  assert.throws(
    () => loadTokenizer(tmpDir("graft-tok-")),
    /no tokenizer\.json, vocab\.txt, or vocab\.json \+ merges\.txt/,
  );
});

test("AutoTokenizer.fromPretrained downloads only the tokenizer files of a hub model", async () => {
  const hub = await startHub({ "graft-test/tiny-bert": repoFromDir(TINY, "0123456789abcdef0123456789abcdef01234567") });
  const cacheDir = tmpDir("graft-tok-");
  try {
    const t = await AutoTokenizer.fromPretrained("graft-test/tiny-bert", { endpoint: hub.url, cacheDir, token: false });
    assert.deepEqual((await t.encode("hello world")).tokens, ["[CLS]", "hello", "world", "[SEP]"]);
    assert.equal(
      hub.requests.some((r) => r.path.endsWith("model.safetensors")),
      false,
      "weights are not fetched for a tokenizer",
    );
    const snap = join(
      cacheDir,
      "models--graft-test--tiny-bert",
      "snapshots",
      "0123456789abcdef0123456789abcdef01234567",
    );
    assert.deepEqual(readdirSync(snap).sort(), [
      "config.json",
      "special_tokens_map.json",
      "tokenizer.json",
      "tokenizer_config.json",
    ]);
  } finally {
    await hub.close();
  }
  const local = await AutoTokenizer.fromPretrained(TINY);
  assert.equal(local.vocabSize, 79);
});

test("a post-processor template naming an undefined special token is refused, not a process abort on encode", async () => {
  const bundled = fileURLToPath(new URL("../../../models/graft-base/tokenizer.json", import.meta.url));
  const doc = JSON.parse(readFileSync(bundled, "utf8"));
  assert.equal(doc.post_processor.type, "TemplateProcessing");
  // found by the fault campaign (npm run bench -- faults): the Rust core panics on the first encode
  for (const [name, mutate] of [
    ["a renamed template entry", (d: typeof doc) => (d.post_processor.single[2].SpecialToken.id = "[SEP$a]")],
    ["a token missing from special_tokens", (d: typeof doc) => delete d.post_processor.special_tokens["[CLS]"]],
    [
      "a template inside a Sequence",
      (d: typeof doc) => {
        d.post_processor.pair[0].SpecialToken.id = "[NOPE]";
        d.post_processor = { type: "Sequence", processors: [d.post_processor] };
      },
    ],
  ] as const) {
    const bad = structuredClone(doc);
    mutate(bad);
    const dir = tmpDir("graft-tok-");
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(bad));
    assert.throws(() => loadTokenizer(dir), FormatError, name);
    assert.throws(() => loadTokenizer(dir), /special token .* which its special_tokens do not define/, name);
  }
  // the unmodified file still loads and encodes
  const ok = tmpDir("graft-tok-");
  writeFileSync(join(ok, "tokenizer.json"), JSON.stringify(doc));
  assert.ok((await loadTokenizer(ok).encode("the cat")).ids.length > 0);
});
