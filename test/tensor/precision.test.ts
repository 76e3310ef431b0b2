/**
 * Mixed precision (withPrecision("bf16")): matmul and linear round their operands to bf16 in forward and
 * backward, everything else stays fp32, the precision a product ran at is the one its backward uses, and the
 * gradients of a transformer block stay within bf16 rounding of the fp32 ones.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng, manualSeed } from "../../src/util/rng.js";
import {
  Tensor,
  crossEntropy,
  linear,
  matmul,
  matmulPrecision,
  mean,
  randn,
  sum,
  mul,
  reshape,
  tensor,
  withPrecision,
} from "../../src/tensor/index.js";
import { Linear, TransformerBlock } from "../../src/nn/index.js";

/** x rounded to bf16 (round-to-nearest-even), computed with doubles so it is independent of the code under test. */
function bf16(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const e = Math.floor(Math.log2(Math.abs(x)));
  const ulp = 2 ** (e - 7);
  const q = x / ulp;
  const f = Math.floor(q);
  const r = q - f === 0.5 ? (f % 2 === 0 ? f : f + 1) : Math.round(q);
  return r * ulp;
}

const rounded = (t: Tensor): Tensor => tensor(t.toArray().map(bf16), t.shape);

function maxDiff(a: Tensor, b: Tensor): number {
  const x = a.toArray(),
    y = b.toArray();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

function relDiff(a: Tensor, b: Tensor): number {
  const x = a.toArray(),
    y = b.toArray();
  let num = 0,
    den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i]! - y[i]!) ** 2;
    den += y[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

test("the default precision is fp32; withPrecision restores it, also after a throw, and rejects unknown ones", () => {
  assert.equal(matmulPrecision(), "fp32");
  assert.equal(
    withPrecision("bf16", () => matmulPrecision()),
    "bf16",
  );
  assert.throws(() =>
    withPrecision("bf16", () => {
      throw new Error("boom");
    }),
  );
  assert.equal(matmulPrecision(), "fp32");
  assert.throws(() => withPrecision("fp16" as "bf16", () => 0), /unknown precision "fp16".*fp32, bf16/);
});

test("bf16 matmul and linear compute the fp32 product of bf16-rounded operands, forward and backward", () => {
  const r = new Rng(7);
  const a = randn([2, 5, 9], r),
    b = randn([9, 6], r),
    w = randn([4, 9], r),
    bias = randn([4], r);
  const y = withPrecision("bf16", () => matmul(a, b));
  assert.ok(maxDiff(y, matmul(rounded(a), rounded(b))) < 1e-5);
  assert.ok(maxDiff(y, matmul(a, b)) > 1e-4, "the product is not the fp32 one");
  const z = withPrecision("bf16", () => linear(a, w, bias));
  assert.ok(maxDiff(z, linear(rounded(a), rounded(w), bias)) < 1e-5);
  // batched matmul with transposes (attention's products)
  const q = randn([2, 3, 7, 8], r),
    k = randn([2, 3, 7, 8], r);
  const s = withPrecision("bf16", () => matmul(q, k, { transB: true }));
  assert.ok(maxDiff(s, matmul(rounded(q), rounded(k), { transB: true })) < 1e-5);

  // backward: recorded under bf16, run outside it; dX = dY · Wᵀ with both rounded (dY itself is fp32 and rounded)
  const x = new Tensor(a.toFloat32Array(), a.shape, true),
    wt = new Tensor(w.toFloat32Array(), w.shape, true);
  const g = randn([2, 5, 4], r);
  const out = withPrecision("bf16", () => linear(x, wt));
  sum(mul(out, g)).backward();
  assert.equal(matmulPrecision(), "fp32");
  const gxWant = matmul(rounded(g), rounded(w));
  assert.ok(maxDiff(x.grad!, gxWant) < 1e-5, "dx at bf16");
  const gwWant = matmul(reshape(rounded(g), [10, 4]), reshape(rounded(a), [10, 9]), { transA: true });
  assert.ok(maxDiff(wt.grad!, gwWant) < 1e-5, "dw at bf16");
});

test("a transformer block's bf16 gradients are within bf16 rounding of its fp32 gradients", () => {
  manualSeed(11);
  const block = new TransformerBlock({ dim: 32, heads: 4, ffDim: 64, dropout: 0 });
  const head = new Linear(32, 5);
  const r = new Rng(12);
  const x = randn([3, 10, 32], r);
  const labels = tensor([0, 3, 4], [3], { dtype: "i32" });
  const params = [...block.parameters(), ...head.parameters()];
  const grads = (p: "fp32" | "bf16") => {
    for (const t of params) t.grad = null;
    const loss = withPrecision(p, () => {
      const l = crossEntropy(head.forward(mean(block.forward(x), 1)), labels);
      l.backward();
      return l.item();
    });
    return { loss, grads: params.map((t) => t.grad!) };
  };
  const f = grads("fp32"),
    h = grads("bf16");
  assert.ok(Math.abs(f.loss - h.loss) < 2e-2 * Math.abs(f.loss), `loss ${h.loss} vs ${f.loss}`);
  // per parameter, relative to its gradient's norm, floored at a thousandth of the largest (the key bias's gradient is
  // zero in exact arithmetic, so at any precision it is rounding noise)
  const norm = (t: Tensor) => Math.sqrt(t.toArray().reduce((acc, v) => acc + v * v, 0));
  const floor = 1e-3 * Math.max(...f.grads.map(norm));
  let worst = 0,
    best = 1;
  f.grads.forEach((gf, i) => {
    const d = (relDiff(h.grads[i]!, gf) * norm(gf)) / Math.max(norm(gf), floor);
    worst = Math.max(worst, d);
    best = Math.min(best, d);
  });
  // bf16 keeps 8 significant bits (relative rounding ≤ 2⁻⁹ ≈ 0.002 per operand); through a block and the head the
  // gradients' relative error stays a few times that, and it is not zero (the products did run in bf16)
  assert.ok(worst < 3e-2, `largest relative gradient difference ${worst}`);
  assert.ok(best > 1e-5, `smallest relative gradient difference ${best}`);
});
