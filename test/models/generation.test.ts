/**
 * Generation: greedy tokens and step logits equal the reference (transformers' generate on the same checkpoint gives
 * the same, see check_with_transformers.py); the cache changes nothing but the cost; sampling is seeded; the
 * warpers follow transformers' TopK / TopP / Temperature warpers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/util/rng.js";
import { noGrad } from "../../src/tensor/index.js";
import {
  AutoModelForCausalLM,
  GPT2LMHeadModel,
  applyTopK,
  applyTopP,
  generate,
  padBatch,
} from "../../src/models/index.js";
import { assertClose, expected, fixtureDir, maxAbsDiff, nested } from "./helpers.js";

test("gpt2 greedy generation from left-padded prompts: tokens and each step's logits equal the reference", () => {
  const e = expected("gpt2");
  const model = AutoModelForCausalLM.fromPretrainedDir(fixtureDir("gpt2"));
  const out = generate(model, e.prompts as number[][], { maxNewTokens: 6, eosTokenId: null, outputLogits: true });
  assert.deepEqual(out.newTokens, e.greedy_new_tokens);
  (e.greedy_step_logits as number[][][]).forEach((want, i) => assertClose(`step ${i} logits`, out.logits![i], want));
  assert.deepEqual(
    out.sequences[1],
    [...(e.prompts as number[][])[1], ...(e.greedy_new_tokens as number[][])[1]],
    "sequences drop the left padding",
  );
});

for (const family of ["gpt2", "graft-lstm"] as const) {
  test(`${family}: generation with the cache gives the same tokens and logits as re-reading the whole sequence`, () => {
    const model = AutoModelForCausalLM.fromPretrainedDir(fixtureDir(family));
    const prompts = [
      [5, 17, 33, 8, 9],
      [61, 2],
      [44, 45, 46],
    ];
    for (const doSample of [false, true]) {
      const opts = {
        maxNewTokens: 8,
        eosTokenId: null,
        outputLogits: true,
        doSample,
        topK: 20,
        topP: 0.9,
        temperature: 0.8,
      };
      const cached = generate(model, prompts, { ...opts, useCache: true, rng: new Rng(5) });
      const full = generate(model, prompts, { ...opts, useCache: false, rng: new Rng(5) });
      assert.deepEqual(cached.newTokens, full.newTokens, `doSample=${doSample}`);
      cached.logits!.forEach((l, i) =>
        assert.ok(maxAbsDiff(l, full.logits![i]) < 1e-5, `step ${i}: cached and uncached logits differ`),
      );
    }
  });
}

test("gpt2: one cached step equals the last position of a full forward (positions continue from the past length)", () => {
  const model = GPT2LMHeadModel.fromPretrainedDir(fixtureDir("gpt2"));
  noGrad(() => {
    const { inputIds, attentionMask } = padBatch(
      [
        [3, 4, 5, 6, 7],
        [8, 9, 10, 11, 12],
      ],
      98,
    );
    const full = model.forward({ inputIds, attentionMask }).logits; // [2, 5, V]
    const head = model.forward({
      inputIds: nested(
        [
          [3, 4, 5, 6],
          [8, 9, 10, 11],
        ],
        "i32",
      ),
      useCache: true,
    });
    const step = model.forward({
      inputIds: nested([[7], [12]], "i32"),
      attentionMask,
      pastKeyValues: head.pastKeyValues,
    });
    const v = full.shape[2];
    for (let b = 0; b < 2; b++) {
      const want = full.toFloat32Array().subarray((b * 5 + 4) * v, (b * 5 + 5) * v);
      const got = step.logits.toFloat32Array().subarray(b * v, (b + 1) * v);
      assert.ok(want.every((x, i) => Math.abs(x - got[i]) < 1e-5));
    }
  });
  assert.throws(
    () =>
      model.forward({
        inputIds: nested([[1]], "i32"),
        attentionMask: nested([[1]]),
        pastKeyValues: model.forward({ inputIds: nested([[1, 2]], "i32"), useCache: true }).pastKeyValues,
      }),
    /attentionMask must be \[1, 3\] \(cached \+ new tokens\)/,
  );
});

test("sampling is reproducible from a seed; top-k 1 is greedy; rows that emit eos continue with padding", () => {
  const model = AutoModelForCausalLM.fromPretrainedDir(fixtureDir("gpt2"));
  const prompts = [
    [5, 17, 33],
    [61, 2, 9],
  ];
  const a = generate(model, prompts, { maxNewTokens: 10, doSample: true, topK: 0, rng: new Rng(11), eosTokenId: null });
  const b = generate(model, prompts, { maxNewTokens: 10, doSample: true, topK: 0, rng: new Rng(11), eosTokenId: null });
  const c = generate(model, prompts, { maxNewTokens: 10, doSample: true, topK: 0, rng: new Rng(12), eosTokenId: null });
  assert.deepEqual(a.newTokens, b.newTokens);
  assert.notDeepEqual(
    a.newTokens,
    c.newTokens,
    "another seed, other samples (random weights give a flat distribution)",
  );
  const greedy = generate(model, prompts, { maxNewTokens: 10, eosTokenId: null });
  assert.deepEqual(
    generate(model, prompts, { maxNewTokens: 10, doSample: true, topK: 1, rng: new Rng(3), eosTokenId: null })
      .newTokens,
    greedy.newTokens,
  );
  assert.deepEqual(
    generate(model, prompts, { maxNewTokens: 10, doSample: true, topP: 1e-6, rng: new Rng(3), eosTokenId: null })
      .newTokens,
    greedy.newTokens,
    "top-p keeps at least the best token",
  );

  const eos = greedy.newTokens[0][1];
  const stopped = generate(model, prompts, { maxNewTokens: 10, eosTokenId: eos, padTokenId: 98 });
  const row0 = stopped.newTokens[0];
  const at = row0.indexOf(eos);
  assert.ok(at >= 0 && row0.slice(at + 1).every((t) => t === 98), `after eos only padding: ${row0}`);
  assert.deepEqual(
    stopped.newTokens[1].slice(0, at + 1),
    greedy.newTokens[1].slice(0, at + 1),
    "the other row is unaffected",
  );
});

test("generation errors: too long for the positions, padding on the right, bad options", () => {
  const model = AutoModelForCausalLM.fromPretrainedDir(fixtureDir("gpt2"));
  assert.throws(
    () => generate(model, [[1, 2, 3]], { maxNewTokens: 62 }),
    /a prompt of 3 tokens plus 62 new ones exceeds the 64 positions/,
  );
  const { inputIds, attentionMask } = padBatch([[1, 2, 3], [4]], 98, "right");
  assert.throws(() => generate(model, { inputIds, attentionMask }), /prompt 1 has padding after its tokens/);
  assert.throws(() => generate(model, [[1]], { doSample: true, temperature: 0 }), /temperature must be > 0/);
  assert.throws(() => generate(model, [[1]], { topP: 1.5 }), /topP must be in \(0, 1\]/);
});

test("top-k keeps the k best scores (and ties at the k-th); top-p keeps the smallest set reaching p, as transformers' warpers", () => {
  const s = Float64Array.from([1, 5, 3, 5, 2]);
  applyTopK(s, 2);
  assert.deepEqual([...s], [-Infinity, 5, -Infinity, 5, -Infinity]);
  const t = Float64Array.from([1, 4, 3, 3, 2]);
  applyTopK(t, 2);
  assert.deepEqual([...t], [-Infinity, 4, 3, 3, -Infinity], "a tie at the k-th score keeps both");

  const probs = [0.5, 0.3, 0.15, 0.05];
  const logits = () => Float64Array.from(probs.map(Math.log));
  const p75 = logits();
  applyTopP(p75, 0.75); // ascending cumulative 0.05, 0.20, 0.50, 1.0: drop those ≤ 0.25
  assert.deepEqual(
    [...p75].map((x) => x === -Infinity),
    [false, false, true, true],
  );
  const p85 = logits();
  applyTopP(p85, 0.85); // drop ≤ 0.15: only the 0.05 token
  assert.deepEqual(
    [...p85].map((x) => x === -Infinity),
    [false, false, false, true],
  );
  const tiny = logits();
  applyTopP(tiny, 0.01);
  assert.deepEqual(
    [...tiny].map((x) => x === -Infinity),
    [false, true, true, true],
    "always at least one token",
  );
});
