/**
 * A T5-style tokenizer.json (SentencePiece Unigram converted by transformers' T5Tokenizer: precompiled charsmap
 * normalizer, WhitespaceSplit + Metaspace, "$A </s>", sentinels <extra_id_N> at the end of the vocabulary) against
 * what Hugging Face's Rust `tokenizers` and transformers made of unicode-heavy text
 * (test/fixtures/tokenizers/t5, written by scripts/fixtures/tokenizers/make_t5_tokenizer.py).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadTokenizer } from "../../src/tokenizers/auto.js";
import { sentinelIds, sentinelToken } from "../../src/tokenizers/sentinels.js";
import { fixture, tmpDir } from "../io/helpers.js";

interface Case {
  text: string;
  ids: number[];
  tokens: string[];
  offsets: [number, number][];
  decode: string;
  decode_skip_special: string;
  transformers_decode: string;
}
const dir = fixture("tokenizers", "t5");
const reference = JSON.parse(readFileSync(join(dir, "reference.json"), "utf8")) as {
  vocab_size: number;
  sentinels: Record<string, number>;
  cases: Case[];
};

/** Code point offsets (the fixture) → UTF-16 offsets (graft's API). */
function toUtf16(text: string, [s, e]: [number, number]): [number, number] {
  const cps = [...text];
  const at = (n: number) => cps.slice(0, n).join("").length;
  return [at(s), at(e)];
}

test("T5 tokenizer.json: ids, tokens, offsets and decoding equal the Rust engine's and transformers' on unicode-heavy text", async () => {
  const tok = loadTokenizer(dir);
  assert.equal(tok.vocabSize, reference.vocab_size);
  assert.ok(reference.cases.length >= 12);
  for (const r of reference.cases) {
    const label = JSON.stringify(r.text);
    const e = await tok.encode(r.text);
    assert.deepEqual(e.ids, r.ids, label);
    assert.deepEqual(e.tokens, r.tokens, label);
    assert.deepEqual(
      e.offsets,
      r.offsets.map((o) => toUtf16(r.text, o)),
      label,
    );
    assert.equal(await tok.decode(r.ids), r.decode, label);
    assert.equal(await tok.decode(r.ids, { skipSpecialTokens: true }), r.decode_skip_special, label);
    assert.equal(await tok.decode(r.ids, { skipSpecialTokens: true }), r.transformers_decode, label);
  }
});

test("T5 special tokens: </s> ends every encoding, pad is 0, sentinels (transformers 5.x's extra_special_tokens) are special", async () => {
  const tok = loadTokenizer(dir);
  assert.equal(tok.padTokenId, 0);
  assert.equal(tok.eosTokenId, 1);
  assert.equal(tok.unkTokenId, 2);
  const special = new Set(tok.allSpecialIds);
  for (const id of Object.values(reference.sentinels)) assert.ok(special.has(id), `sentinel ${id} is special`);
  const b = await tok.encodeBatch(["A man.", "Zwei junge Männer überqueren die Straße."], { padding: true });
  assert.equal(b.inputIds[0].at(-1), 0);
  assert.equal(b.inputIds[1].at(-1), 1);
});

test("sentinelIds: <extra_id_0>, <extra_id_1>, ... from the end of the vocabulary, in order; clear errors", () => {
  const tok = loadTokenizer(dir);
  const want = Array.from({ length: 20 }, (_, i) => reference.sentinels[sentinelToken(i)]);
  assert.deepEqual(sentinelIds(tok), want);
  assert.equal(want[0], tok.vocabSize - 1);
  assert.deepEqual(sentinelIds(tok, 3), [tok.vocabSize - 1, tok.vocabSize - 2, tok.vocabSize - 3]);
  assert.throws(() => sentinelIds(tok, 21), /has 20 sentinel tokens \(<extra_id_0> to <extra_id_19>\), 21 are needed/);
  const bert = loadTokenizer(fixture("io", "hub", "tiny-bert"));
  assert.throws(() => sentinelIds(bert), /has no sentinel tokens/);
  bert.addTokens([sentinelToken(0), sentinelToken(2)], { special: true });
  assert.throws(() => sentinelIds(bert), /skip <extra_id_1>/);
});

test("T5 tokenizer saved by graft loads back with the same ids and keeps one list of sentinels", async () => {
  const tok = loadTokenizer(dir);
  const out = tmpDir();
  tok.save(out);
  const config = JSON.parse(readFileSync(join(out, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
  assert.ok(Array.isArray(config.extra_special_tokens));
  assert.equal(config.additional_special_tokens, undefined);
  const again = loadTokenizer(out);
  assert.deepEqual(sentinelIds(again), sentinelIds(tok));
  for (const r of reference.cases) assert.deepEqual((await again.encode(r.text)).ids, r.ids, JSON.stringify(r.text));
});
