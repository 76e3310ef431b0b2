/**
 * graft's tokenizers on the real BERT uncased and GPT-2 vocabularies against ids written by Hugging Face's Rust
 * `tokenizers` called directly (scripts/fixtures/tokenizers/make_reference_ids.mjs; the pure-JS implementation
 * agreed on every text when they were made), plus cases checked by hand against the algorithms.
 * The vocabularies live in the team's shared datasets, not in the repository: without them these tests skip.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { loadTokenizer } from "../../src/tokenizers/auto.js";
import type { Tokenizer } from "../../src/tokenizers/tokenizer.js";
import { fixture, sharedDataset, tmpDir } from "../io/helpers.js";

interface Ref {
  text: string;
  pair?: string;
  ids: number[];
  tokens: string[];
  offsets: [number, number][];
  wordIds: (number | null)[];
  typeIds?: number[];
}
const reference = JSON.parse(readFileSync(fixture("tokenizers", "reference.json"), "utf8")) as {
  bert: Ref[];
  gpt2: Ref[];
};
const vocab = sharedDataset("vocab");
const skip = vocab ? false : "shared vocabularies not found (set GRAFT_SHARED_DATASETS)";

/** Code point offsets (the fixture) → UTF-16 offsets (graft's API). */
function toUtf16(text: string, [s, e]: [number, number]): [number, number] {
  const cps = [...text];
  const at = (n: number) => cps.slice(0, n).join("").length;
  return [at(s), at(e)];
}

async function checkAgainst(tok: Tokenizer, refs: Ref[], what: string): Promise<void> {
  for (const r of refs) {
    const e = await tok.encode(r.text, r.pair ?? null);
    const label = `${what}: ${JSON.stringify(r.text)}`;
    assert.deepEqual(e.ids, r.ids, label);
    assert.deepEqual(e.tokens, r.tokens, label);
    assert.deepEqual(e.wordIds, r.wordIds, label);
    if (r.typeIds) assert.deepEqual(e.tokenTypeIds, r.typeIds, label);
    const expectOffsets = r.offsets.map((o, k) => toUtf16(e.sequenceIds[k] === 1 ? r.pair! : r.text, o));
    assert.deepEqual(e.offsets, expectOffsets, label);
  }
}

test("BERT uncased (tokenizer.json): ids, tokens, offsets and word ids equal the Rust reference on tricky text", {
  skip,
}, async () => {
  await checkAgainst(loadTokenizer(join(vocab!, "bert-base-uncased")), reference.bert, "bert");
});

test("GPT-2 (tokenizer.json): ids, tokens, offsets and word ids equal the Rust reference on tricky text", {
  skip,
}, async () => {
  await checkAgainst(loadTokenizer(join(vocab!, "gpt2")), reference.gpt2, "gpt2");
});

test("without tokenizer.json, vocab.txt and vocab.json + merges.txt give the same results", { skip }, async () => {
  const bertDir = tmpDir("graft-tok-");
  copyFileSync(join(vocab!, "bert-base-uncased", "vocab.txt"), join(bertDir, "vocab.txt"));
  const bert = loadTokenizer(bertDir);
  await checkAgainst(bert, reference.bert, "bert from vocab.txt");
  assert.equal(bert.vocabSize, 30522);
  const gptDir = tmpDir("graft-tok-");
  for (const f of ["vocab.json", "merges.txt"]) copyFileSync(join(vocab!, "gpt2", f), join(gptDir, f));
  const gpt = loadTokenizer(gptDir);
  await checkAgainst(gpt, reference.gpt2, "gpt2 from vocab.json + merges.txt");
  assert.equal(gpt.eosTokenId, 50256);

  // and on a stretch of real prose
  const books = sharedDataset("gutenberg_nltk");
  if (books) {
    const lines = readFileSync(
      join(
        books,
        readdirSync(books)
          .filter((f) => f.endsWith(".txt"))
          .sort()[0]!,
      ),
      "utf8",
    )
      .split("\n")
      .slice(0, 400);
    const fromJson = [loadTokenizer(join(vocab!, "bert-base-uncased")), loadTokenizer(join(vocab!, "gpt2"))];
    for (const [a, b] of [
      [fromJson[0]!, bert],
      [fromJson[1]!, gpt],
    ] as const) {
      assert.deepEqual((await b.encodeBatch(lines)).inputIds, (await a.encodeBatch(lines)).inputIds);
    }
  }
});

test("hand-checked against the algorithms", { skip }, async () => {
  const bert = loadTokenizer(join(vocab!, "bert-base-uncased"));
  const tokens = async (t: Tokenizer, s: string) => (await t.encode(s, null, { addSpecialTokens: false })).tokens;
  // BertNormalizer: lowercase, then NFD and drop combining marks (strip_accents follows lowercase)
  assert.deepEqual(await tokens(bert, "Ça naïve Ångström"), ["ca", "naive", "ang", "##strom"]);
  assert.deepEqual(await tokens(bert, "e\u0301"), ["e"], "a combining accent is stripped like a precomposed one");
  // で = て + U+3099 after NFD: the voicing mark is a combining mark and goes; kana are not split like CJK ideographs
  assert.deepEqual(await tokens(bert, "北京です"), ["北", "京", "て", "##す"]);
  // clean_text drops NUL, BEL and format characters (zero width space/joiner, BOM, soft hyphen), so the pieces join
  const joined = await bert.encode("ab\u0000c\u200bd\u00ade", null, { addSpecialTokens: false });
  assert.deepEqual(joined.tokens, await tokens(bert, "abcde"));
  assert.ok(
    joined.wordIds.every((w) => w === 0),
    "one word",
  );
  // whitespace runs of any kind separate words and vanish; punctuation is split off
  assert.deepEqual(await tokens(bert, "a \t\n\u00a0\u3000 b"), ["a", "b"]);
  assert.deepEqual(await tokens(bert, "don't"), ["don", "'", "t"]);
  // a word longer than max_input_chars_per_word (100) is one [UNK]
  assert.deepEqual(await tokens(bert, "x".repeat(101)), ["[UNK]"]);
  assert.deepEqual(
    await tokens(bert, "[MASK] [mask]"),
    ["[MASK]", "[", "mask", "]"],
    "special tokens match before lowercasing, case-sensitively",
  );

  const gpt = loadTokenizer(join(vocab!, "gpt2"));
  // byte-level: é is bytes C3 A9, shown as Ã©; tab/newline/CR are bytes 09/0A/0D shown as ĉ/Ċ/č
  assert.deepEqual(await tokens(gpt, "é\t\n\r"), ["Ã©", "ĉ", "Ċ", "č"]);
  // the pre-tokenizer regex: a space sticks to the following word; other spaces of a run stand alone
  assert.deepEqual(await tokens(gpt, "a   b"), ["a", "Ġ", "Ġ", "Ġb"]);
  assert.deepEqual(await tokens(gpt, "it's you're"), ["it", "'s", "Ġyou", "'re"]);
  assert.deepEqual(await tokens(gpt, "<|endoftext|>x"), ["<|endoftext|>", "x"]);
  // decoding byte-level BPE gives back the exact text, whatever it was
  for (const r of reference.gpt2) {
    if (r.pair !== undefined) continue;
    assert.equal(await gpt.decode(r.ids), r.text, JSON.stringify(r.text));
  }
});
