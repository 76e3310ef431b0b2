/**
 * The decode path's in-place KV cache (kv-cache.ts): steps append into preallocated buffers that double when
 * full, a cache continued twice from the same point forks instead of overwriting, and GPT-2 / Llama decoding with
 * growCache gives the logits of the concatenating cache.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/util/rng.js";
import { type Tensor, noGrad, randn, slice, tensor } from "../../src/tensor/index.js";
import { GPT2LMHeadModel, LlamaForCausalLM, makeConfig } from "../../src/models/index.js";
import { appendKV, cachedLength, reorderKV } from "../../src/models/kv-cache.js";
import { maxAbsDiff } from "./helpers.js";

test("kv cache: appends in place, doubles when full, forks a cache continued twice", () => {
  const rng = new Rng(1);
  const step = (t: number) => randn([2, 3, t, 4], rng);
  noGrad(() => {
    const k0 = step(5);
    const v0 = step(5);
    const c0 = appendKV(null, k0, v0);
    assert.equal(cachedLength(c0), 5);
    const cap = c0.key.shape[2];
    assert.ok(cap >= 10, `capacity ${cap} leaves room to grow`);
    assert.equal(maxAbsDiff(slice(c0.key, 2, 0, 5), k0), 0);
    const k1 = step(1);
    const c1 = appendKV(c0, k1, step(1));
    assert.equal(c1.key, c0.key, "the next step writes into the same buffer");
    assert.equal(cachedLength(c1), 6);
    assert.equal(maxAbsDiff(slice(c1.key, 2, 5, 6), k1), 0);
    // continuing c0 again must not overwrite row 5 of c1
    const k1b = step(1);
    const c1b = appendKV(c0, k1b, step(1));
    assert.notEqual(c1b.key, c0.key, "a second continuation gets its own buffer");
    assert.equal(maxAbsDiff(slice(c1.key, 2, 5, 6), k1), 0);
    assert.equal(maxAbsDiff(slice(c1b.key, 2, 5, 6), k1b), 0);
    assert.equal(maxAbsDiff(slice(c1b.key, 2, 0, 5), k0), 0);
    // growing past the capacity doubles and keeps every row
    let c = c1;
    const rows = [slice(c1.key, 2, 0, 6)];
    while (cachedLength(c) <= cap) {
      const k = step(3);
      rows.push(k);
      c = appendKV(c, k, step(3));
    }
    assert.ok(c.key.shape[2] >= 2 * cachedLength(c) - 3);
    let at = 0;
    for (const r of rows) {
      assert.equal(maxAbsDiff(slice(c.key, 2, at, at + r.shape[2]), r), 0);
      at += r.shape[2];
    }
    const re = reorderKV(c, [1, 1, 0]);
    assert.equal(cachedLength(re), cachedLength(c));
    assert.equal(re.key.shape[0], 3);
  });
});

function decode(model: GPT2LMHeadModel | LlamaForCausalLM, grow: boolean): Tensor[] {
  const prompt = [
    [3, 5, 7, 9, 2],
    [0, 0, 4, 6, 8],
  ];
  const mask = [
    [1, 1, 1, 1, 1],
    [0, 0, 1, 1, 1],
  ];
  return noGrad(() => {
    const logits: Tensor[] = [];
    let out = model.forward({
      inputIds: tensor(prompt.flat(), [2, 5], { dtype: "i32" }),
      attentionMask: tensor(mask.flat(), [2, 5]),
      useCache: true,
      growCache: grow,
    });
    for (let s = 0; s < 12; s++) {
      for (const m of mask) m.push(1);
      out = model.forward({
        inputIds: tensor([1 + (s % 7), 2 + (s % 5)], [2, 1], { dtype: "i32" }),
        attentionMask: tensor(mask.flat(), [2, mask[0].length]),
        pastKeyValues: out.pastKeyValues as never,
        useCache: true,
        growCache: grow,
      });
      logits.push(out.logits);
    }
    return logits;
  });
}

test("kv cache: GPT-2 and Llama decode the same logits with the cache grown in place as with concatenation", () => {
  const gpt = new GPT2LMHeadModel(
    makeConfig("gpt2", { vocab_size: 12, n_positions: 32, n_embd: 16, n_layer: 2, n_head: 2 }),
    { rng: new Rng(2) },
  ).eval();
  const llama = new LlamaForCausalLM(
    makeConfig("llama", {
      vocab_size: 12,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      max_position_embeddings: 32,
    }),
    { rng: new Rng(3) },
  ).eval();
  for (const [name, model] of [
    ["gpt2", gpt],
    ["llama", llama],
  ] as const) {
    const want = decode(model, false);
    const got = decode(model, true);
    want.forEach((w, i) => assert.ok(maxAbsDiff(w, got[i]) <= 1e-5, `${name} step ${i}: ${maxAbsDiff(w, got[i])}`));
  }
});
