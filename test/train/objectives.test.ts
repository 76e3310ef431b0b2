import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/util/rng.js";
import { BlockPacker, IGNORE_INDEX, maskTokens, maskWholeWords } from "../../src/train/index.js";

const opts = { maskTokenId: 4, vocabSize: 1000, specialIds: new Set([0, 1, 2]) };

test("masked LM statistics: ~15% selected, 80/10/10 split, specials never selected, labels hold originals", () => {
  const n = 200_000;
  const input = new Int32Array(n);
  const r0 = new Rng(1);
  for (let i = 0; i < n; i++) input[i] = i % 50 === 0 ? 1 : 10 + r0.int(990);
  const { inputIds, labels } = maskTokens(input, opts, new Rng(2));
  let selected = 0,
    masked = 0,
    kept = 0,
    special = 0;
  for (let i = 0; i < n; i++) {
    if (input[i] === 1) {
      special++;
      assert.equal(labels[i], IGNORE_INDEX);
      assert.equal(inputIds[i], 1);
      continue;
    }
    if (labels[i] === IGNORE_INDEX) {
      assert.equal(inputIds[i], input[i]);
      continue;
    }
    selected++;
    assert.equal(labels[i], input[i]);
    if (inputIds[i] === 4) masked++;
    else if (inputIds[i] === input[i]) kept++;
  }
  const eligible = n - special;
  assert.ok(Math.abs(selected / eligible - 0.15) < 0.005, `selected ${selected / eligible}`);
  assert.ok(Math.abs(masked / selected - 0.8) < 0.01, `masked ${masked / selected}`);
  // "kept" includes the 0.1% of random replacements that drew the same token
  assert.ok(Math.abs(kept / selected - 0.1) < 0.01, `kept ${kept / selected}`);
});

test("dynamic masking: a new draw masks different positions; the same seed reproduces", () => {
  const input = Int32Array.from({ length: 500 }, (_, i) => 10 + (i % 90));
  const a = maskTokens(input, opts, new Rng(5));
  const b = maskTokens(input, opts, new Rng(5));
  const c = maskTokens(input, opts, new Rng(6));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.labels, c.labels);
});

test("whole-word masking masks every sub-token of a chosen word and about 15% of tokens", () => {
  // 2 rows of 40: [CLS] then words of 1-3 sub-tokens, [SEP]
  const row = 40;
  const ids: number[] = [],
    words: (number | null)[] = [];
  const r = new Rng(3);
  for (let k = 0; k < 2; k++) {
    ids.push(1);
    words.push(null);
    let w = 0;
    while (ids.length < (k + 1) * row - 1) {
      const len = Math.min(1 + r.int(3), (k + 1) * row - 1 - ids.length);
      for (let j = 0; j < len; j++) {
        ids.push(10 + r.int(900));
        words.push(w);
      }
      w++;
    }
    ids.push(2);
    words.push(null);
  }
  let total = 0;
  for (let trial = 0; trial < 200; trial++) {
    const { labels } = maskWholeWords(Int32Array.from(ids), words, row, opts, new Rng(100 + trial));
    for (let i = 0; i < ids.length; i++) {
      if (labels[i] !== IGNORE_INDEX) total++;
      if (words[i] === null) assert.equal(labels[i], IGNORE_INDEX);
      // all positions of a word share the same selection
      if (
        i > 0 &&
        words[i] !== null &&
        words[i] === words[i - 1] &&
        Math.floor(i / row) === Math.floor((i - 1) / row)
      ) {
        assert.equal(labels[i] === IGNORE_INDEX, labels[i - 1] === IGNORE_INDEX);
      }
    }
  }
  const rate = total / (200 * (ids.length - 4));
  assert.ok(Math.abs(rate - 0.15) < 0.02, `whole-word rate ${rate}`);
});

test("block packing joins documents with a separator, cuts fixed blocks and carries the remainder", () => {
  const p = new BlockPacker(4, 0);
  assert.deepEqual(
    p
      .push([
        [1, 2, 3],
        [4, 5],
      ])
      .map((b) => [...b]),
    [[1, 2, 3, 0]],
  );
  assert.equal(p.pending, 3);
  assert.deepEqual(
    p.push([[6, 7, 8, 9, 10]]).map((b) => [...b]),
    [
      [4, 5, 0, 6],
      [7, 8, 9, 10],
    ],
  );
  assert.equal(p.pending, 1);
  assert.throws(() => new BlockPacker(1, 0), /blockSize/);
});
