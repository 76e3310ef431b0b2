/**
 * The fused attention kernel against the unfused path (scores, attentionSoftmax, product) through
 * scaledDotProductAttention: outputs and q/k/v gradients within 1e-5 on odd shapes (sequences not a multiple of
 * the blocks, head size 1 and odd, padding, causal with fewer queries than keys, packed segments), and the
 * fused/unfused rule.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/util/rng.js";
import { Tensor, randn, tensor } from "../../src/tensor/index.js";
import { type AttentionImpl, scaledDotProductAttention, useFusedAttention } from "../../src/nn/index.js";

interface Case {
  b: number;
  h: number;
  tq: number;
  tk: number;
  d: number;
  causal?: boolean;
  pad?: boolean;
  segments?: boolean;
  scale?: number;
}

const CASES: Case[] = [
  { b: 1, h: 1, tq: 1, tk: 1, d: 1 },
  { b: 2, h: 3, tq: 33, tk: 33, d: 1, pad: true },
  { b: 2, h: 2, tq: 5, tk: 70, d: 7, causal: true, pad: true },
  { b: 1, h: 2, tq: 65, tk: 65, d: 9, causal: true, segments: true, pad: true, scale: 0.3 },
  { b: 2, h: 1, tq: 1, tk: 129, d: 16, causal: true },
  { b: 1, h: 1, tq: 40, tk: 97, d: 5, scale: 1.7 },
];

function run(c: Case, impl: AttentionImpl, seed: number) {
  const rng = new Rng(seed);
  const q = new Tensor(randn([c.b, c.h, c.tq, c.d], rng).storage, [c.b, c.h, c.tq, c.d], true);
  const k = new Tensor(randn([c.b, c.h, c.tk, c.d], rng).storage, [c.b, c.h, c.tk, c.d], true);
  const v = new Tensor(randn([c.b, c.h, c.tk, c.d], rng).storage, [c.b, c.h, c.tk, c.d], true);
  const g = randn([c.b, c.h, c.tq, c.d], rng);
  const keep = c.pad
    ? tensor(
        Array.from({ length: c.b * c.tk }, (_, i) => ((i % c.tk) % 5 !== 3 && !(i >= c.tk && i % c.tk < 4) ? 1 : 0)),
        [c.b, c.tk],
      )
    : null;
  const segments = c.segments
    ? tensor(
        Array.from({ length: c.b * c.tk }, (_, i) => 1 + Math.floor((i % c.tk) / 17)),
        [c.b, c.tk],
        { dtype: "i32" },
      )
    : null;
  const out = scaledDotProductAttention(q, k, v, { keep, causal: c.causal, segments, scale: c.scale, impl });
  out.backward(g);
  return [out, q.grad!, k.grad!, v.grad!].map((t) => t.toArray());
}

test("fused attention: outputs and gradients match the unfused path on odd shapes", () => {
  CASES.forEach((c, i) => {
    const want = run(c, "unfused", i);
    const got = run(c, "fused", i);
    ["output", "dq", "dk", "dv"].forEach((name, j) => {
      let worst = 0;
      for (let e = 0; e < want[j].length; e++) worst = Math.max(worst, Math.abs(want[j][e] - got[j][e]));
      assert.ok(worst <= 1e-5, `${JSON.stringify(c)} ${name}: max |fused - unfused| = ${worst}`);
    });
  });
});

test("fused attention: the rule picks it for decoding and long causal sequences, not for short ones or small heads", () => {
  const base = { heads: 8, dim: 64, causal: false, backward: false };
  assert.equal(useFusedAttention({ ...base, queries: 1, keys: 300, causal: true }), true); // a decode step
  assert.equal(useFusedAttention({ ...base, queries: 128, keys: 128 }), false);
  assert.equal(useFusedAttention({ ...base, queries: 512, keys: 512, causal: true }), true);
  assert.equal(useFusedAttention({ ...base, queries: 2048, keys: 2048 }), true);
  assert.equal(useFusedAttention({ ...base, queries: 2048, keys: 2048, backward: true }), false);
  assert.equal(useFusedAttention({ ...base, queries: 2048, keys: 2048, causal: true, backward: true }), true);
  assert.equal(useFusedAttention({ ...base, queries: 1, keys: 300, dim: 16 }), false);
});
