import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AutoTokenizer, trainTokenizer, type Tokenizer } from "../../src/tokenizers/index.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const work = mkdtempSync(join(tmpdir(), "graft-decodesync-"));
test.after(() => rmSync(work, { recursive: true, force: true }));

const TEXTS = [
  "Zwei junge Männer stehen draußen neben vielen Büschen.",
  "A café in Zürich — naïve über-straße, 日本語 😀!",
  "  spaces   and\ttabs, don't stop it's fine .",
];

async function sameAsDecode(tok: Tokenizer, name: string): Promise<void> {
  const enc = await tok.encodeBatch(TEXTS);
  for (const ids of enc.inputIds) {
    for (const skipSpecialTokens of [false, true]) {
      const want = await tok.decode(ids, { skipSpecialTokens });
      assert.equal(tok.decodeSync(ids, { skipSpecialTokens }), want, `${name}, skip ${skipSpecialTokens}`);
    }
  }
}

test("decodeSync gives the engine's decode: WordPiece with [CLS]/[SEP], T5's Unigram, byte-level BPE with specials", async () => {
  await sameAsDecode(await AutoTokenizer.fromPretrained(join(ROOT, "models", "graft-base")), "wordpiece");
  // T5's SentencePiece Unigram (Metaspace decoder, </s> appended, sentinels)
  const t5 = await AutoTokenizer.fromPretrained(join(ROOT, "test", "fixtures", "tokenizers", "t5"));
  await sameAsDecode(t5, "t5");
  const withSentinel = [...(await t5.encode("Zwei <extra_id_0> Männer")).ids];
  assert.equal(
    t5.decodeSync(withSentinel, { skipSpecialTokens: true }),
    await t5.decode(withSentinel, { skipSpecialTokens: true }),
  );
  const corpus = join(work, "c.txt");
  writeFileSync(corpus, `${TEXTS.join("\n")}\n`.repeat(20));
  const bpe = await trainTokenizer(corpus, join(work, "bpe"), {
    type: "bpe",
    vocabSize: 300,
    specialTokens: ["</s>", "<pad>", "<extra_id_1>", "<extra_id_0>"],
  });
  await sameAsDecode(bpe, "bpe");
  const ids = [...(await bpe.encode("Zwei <extra_id_0> Männer</s>")).ids];
  assert.ok(ids.includes(bpe.tokenToId("<extra_id_0>")!));
  assert.equal(bpe.decodeSync(ids, { skipSpecialTokens: true }), await bpe.decode(ids, { skipSpecialTokens: true }));
  assert.throws(() => bpe.decodeSync([-1]), /not a token id/);
});
