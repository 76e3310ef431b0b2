/**
 * graft's Tokenizer on a BART-style byte-level BPE tokenizer.json (ByteLevel without prefix space, RobertaProcessing,
 * <s> <pad> </s> <unk> and a left-stripping <mask>) against what the Rust `tokenizers` library gives through its
 * Python binding (scripts/fixtures/tokenizers/make_bart_tokenizer.py): ids, tokens, offsets and decoding on
 * accents, combining marks, CJK, emoji sequences and scripts of several directions, single texts and pairs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadTokenizer } from "../../src/tokenizers/auto.js";
import { guessFamily } from "../../src/tokenizers/settings.js";
import { fixture } from "../io/helpers.js";

interface Case {
  text: string;
  pair?: string;
  ids: number[];
  tokens: string[];
  offsets: [number, number][];
  decode: string;
  decode_skip_special: string;
  transformers_decode_skip_special: string;
}
const dir = fixture("tokenizers", "bart");
const ref = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as {
  vocab_size: number;
  special: Record<string, number>;
  singles: Case[];
  pairs: Case[];
};

/** Code point offsets (Python's, the fixture's) → UTF-16 offsets (graft's API). */
function toUtf16(text: string, [s, e]: [number, number]): [number, number] {
  const cps = [...text];
  const at = (n: number) => cps.slice(0, n).join("").length;
  return [at(s), at(e)];
}

test("bart tokenizer: special tokens and vocabulary size as the Rust library reports them", () => {
  const tok = loadTokenizer(dir);
  assert.equal(tok.vocabSize, ref.vocab_size);
  const roles = { bos: "<s>", pad: "<pad>", eos: "</s>", unk: "<unk>", mask: "<mask>" } as const;
  for (const [role, token] of Object.entries(roles)) {
    assert.equal(tok.specialToken(role as keyof typeof roles), token, role);
    assert.equal(tok.specialTokenId(role as keyof typeof roles), ref.special[token], role);
  }
  assert.equal(guessFamily(null, null, "bart"), "roberta", "a BART model directory reads its BPE files as RoBERTa's");
});

test("bart tokenizer: ids, tokens and offsets equal the Rust library's on unicode-heavy texts and pairs", async () => {
  const tok = loadTokenizer(dir);
  for (const c of [...ref.singles, ...ref.pairs]) {
    const what = JSON.stringify(c.pair === undefined ? c.text : [c.text, c.pair]);
    const e = await tok.encode(c.text, c.pair ?? null);
    assert.deepEqual(e.ids, c.ids, `ids of ${what}`);
    assert.deepEqual(e.tokens, c.tokens, `tokens of ${what}`);
    // offsets index the sequence each token came from (the pair's own text for its tokens)
    const want = c.offsets.map((o, i) =>
      e.sequenceIds[i] === 1 ? toUtf16(c.pair!, o) : e.sequenceIds[i] === 0 ? toUtf16(c.text, o) : o,
    );
    assert.deepEqual(e.offsets, want, `offsets of ${what}`);
  }
});

test("bart tokenizer: decoding equals the Rust library's (with and without special tokens) and transformers'", async () => {
  const tok = loadTokenizer(dir);
  for (const c of [...ref.singles, ...ref.pairs]) {
    const what = JSON.stringify(c.text);
    assert.equal(await tok.decode(c.ids, { cleanUpTokenizationSpaces: false }), c.decode, what);
    assert.equal(
      await tok.decode(c.ids, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false }),
      c.decode_skip_special,
      what,
    );
    assert.equal(await tok.decode(c.ids, { skipSpecialTokens: true }), c.transformers_decode_skip_special, what);
  }
  const batch = await tok.decodeBatch(
    ref.singles.map((c) => c.ids),
    { skipSpecialTokens: true, cleanUpTokenizationSpaces: false },
  );
  assert.deepEqual(
    batch,
    ref.singles.map((c) => c.decode_skip_special),
  );
});

test("bart tokenizer: a padded batch holds each text's ids, then <pad> with attention 0", async () => {
  const tok = loadTokenizer(dir);
  const b = await tok.encodeBatch(
    ref.singles.map((c) => c.text),
    { padding: true },
  );
  const longest = Math.max(...ref.singles.map((c) => c.ids.length));
  ref.singles.forEach((c, i) => {
    const pad = longest - c.ids.length;
    assert.deepEqual(b.inputIds[i], [...c.ids, ...new Array(pad).fill(ref.special["<pad>"])]);
    assert.deepEqual(b.attentionMask[i], [...new Array(c.ids.length).fill(1), ...new Array(pad).fill(0)]);
  });
});
