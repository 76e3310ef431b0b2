/**
 * Dtypes over storages: bf16 / f16 / i8 tensors, the differentiable cast (values and gradients as torch rounds
 * them), the ops that accept every dtype (copies and reshapes), and a clear refusal from the f32-only ops.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as T from "../../src/tensor/index.js";
import type { Tensor } from "../../src/tensor/index.js";

const BF16_TIE = 1 + 2 ** -8; // halfway between two bf16 values: rounds to the even one, 1

test("tensors of every dtype: creation, values, item, clone", () => {
  const b = T.tensor([1, BF16_TIE, 1 + 3 * 2 ** -8, -2], [2, 2], { dtype: "bf16" });
  assert.equal(b.dtype, "bf16");
  assert.deepEqual(b.toArray(), [1, 1, 1 + 2 ** -6, -2]);
  assert.equal(T.tensor([70000], [1], { dtype: "f16" }).item(), Infinity);
  const i8 = T.tensor([-3, 5], [2], { dtype: "i8" });
  assert.equal(i8.dtype, "i8");
  assert.deepEqual(i8.toArray(), [-3, 5]);
  const c = b.clone();
  assert.equal(c.dtype, "bf16");
  assert.deepEqual(c.toArray(), b.toArray());
  assert.equal(T.zeros([3], "f16").dtype, "f16");
  assert.match(String(b), /^Tensor\(bf16\[2, 2\] 1, 1, 1\.0156, -2\)$/);
});

test("toFloat32Array is a copy, exact for bf16 and f16", () => {
  const x = T.tensor([1.5, -2]);
  const a = x.toFloat32Array();
  a[0] = 100;
  assert.deepEqual(x.toArray(), [1.5, -2]);
  assert.deepEqual(Array.from(T.tensor([0.1], [1], { dtype: "f16" }).toFloat32Array()), [Math.fround(0.0999755859375)]);
});

test("tensor(values) copies a typed array; new Tensor(array) takes it over", () => {
  const v = Float32Array.of(1, 2);
  const t = T.tensor(v);
  v[0] = 9;
  assert.deepEqual(t.toArray(), [1, 2]);
});

test("cast: f32 → bf16 / f16 round to nearest even, back to f32 exactly", () => {
  const x = T.tensor([1, BF16_TIE, 65520, Number.NaN, -0, 2 ** -25]);
  assert.deepEqual(x.to("bf16").to("f32").toArray().slice(0, 3), [1, 1, 65536]);
  const h = T.cast(x, "f16").toArray();
  assert.deepEqual(h.slice(0, 3), [1, BF16_TIE, Infinity]);
  assert.ok(Number.isNaN(h[3]), "NaN stays NaN");
  assert.ok(Object.is(h[4], -0));
  assert.equal(h[5], 0, "2^-25 ties to the even 0");
  assert.ok(Number.isNaN(x.to("bf16").toArray()[3]));
  assert.equal(x.to("f32"), x, "casting to the same dtype is the tensor itself");
});

test("cast to integers needs integer values in range and carries no gradient", () => {
  assert.deepEqual(T.cast(T.tensor([3, -4]), "i32").toArray(), [3, -4]);
  assert.throws(() => T.cast(T.tensor([1.5]), "i32"), /cast: value 1.5 of a f32\[1\] tensor does not fit i32/);
  assert.throws(() => T.cast(T.tensor([200]), "i8"), /value 200 .* does not fit i8/);
  const x = T.tensor([2], [1], { requiresGrad: true });
  const i = T.cast(x, "i32");
  assert.equal(i.requiresGrad, false);
  assert.throws(() => T.tensor([1], [1], { dtype: "i8", requiresGrad: true }), /only floating-point tensors/);
});

test("the gradient of a cast is the gradient cast to the input's dtype", () => {
  // f32 → bf16 → f32: the gradient passes through a bf16 tensor, so it is rounded to bf16 on the way (as torch)
  const x = T.tensor([0.5, -1, 2], [3], { requiresGrad: true });
  const w = T.tensor([BF16_TIE, 3, 1 + 2 ** -10]);
  T.sum(T.mul(x.to("bf16").to("f32"), w)).backward();
  assert.equal(x.grad!.dtype, "f32");
  assert.deepEqual(x.grad!.toArray(), [1, 3, 1]);
  // a bf16 leaf gets a bf16 gradient; two uses accumulate
  const leaf = T.tensor([1, 2], [2], { dtype: "bf16", requiresGrad: true });
  const y = leaf.to("f32");
  T.sum(T.add(T.mul(y, T.tensor([1.25, 2])), T.mul(y, T.tensor([0.5, 0.5])))).backward();
  assert.equal(leaf.grad!.dtype, "bf16");
  assert.deepEqual(leaf.grad!.toArray(), [1.75, 2.5]);
  T.sum(leaf.to("f32")).backward();
  assert.deepEqual(leaf.grad!.toArray(), [2.75, 3.5], "a second backward accumulates in the leaf's dtype");
});

test("copies and reshapes accept every dtype", () => {
  for (const dtype of ["bf16", "f16", "i8", "i32"] as const) {
    const x = T.tensor([1, 2, 3, 4, 5, 6], [2, 3], { dtype });
    const checks: [Tensor, number[]][] = [
      [T.reshape(x, [3, 2]), [1, 2, 3, 4, 5, 6]],
      [T.transpose(x), [1, 4, 2, 5, 3, 6]],
      [T.slice(x, 1, 1, 3), [2, 3, 5, 6]],
      [T.concat([x, x], 0), [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6]],
      [T.broadcastTo(T.reshape(T.slice(x, 0, 0, 1), [1, 3]), [2, 3]), [1, 2, 3, 1, 2, 3]],
    ];
    for (const [y, want] of checks) {
      assert.equal(y.dtype, dtype);
      assert.deepEqual(y.toArray(), want, dtype);
    }
  }
});

test("f32-only ops refuse other dtypes with a clear error", () => {
  const b = T.tensor([1, 2], [2], { dtype: "bf16" });
  assert.throws(
    () => T.exp(b),
    /exp: expected f32 tensors, got bf16 of shape \[2\] \(cast it with \.to\("f32"\) first\)/,
  );
  assert.throws(() => T.add(b, b), /add: expected f32 tensors, got bf16/);
  assert.throws(() => T.matmul(T.reshape(b, [1, 2]), T.ones([2, 2])), /matmul: expected f32 tensors, got bf16/);
  assert.throws(() => T.sum(T.tensor([1], [1], { dtype: "f16" })), /sum: expected f32 tensors, got f16/);
  assert.throws(
    () => T.embedding(T.tensor([0], [1], { dtype: "i8" }), T.ones([2, 2])),
    /embedding: ids must be an i32 tensor, got i8/,
  );
});

test("toRows: the values as rows along the last axis, for every dtype", () => {
  const x = T.tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
  assert.deepEqual(x.toRows(), [
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.deepEqual(T.reshape(x, [3, 1, 2]).toRows(), [
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  assert.deepEqual(x.to("bf16").toRows()[1], [4, 5, 6]);
  assert.deepEqual(T.tensor(Int32Array.from([7, 8]), [2]).toRows(), [[7, 8]]);
});
