/** Shape errors and bad arguments name the op and the shapes. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as T from "../../src/tensor/index.js";
import { ShapeError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";

const r = new Rng(0);
const x = (...shape: number[]) => T.randn(shape, r);

function throwsShape(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: Error) => e instanceof ShapeError && re.test(e.message));
}

test("shape errors name the op and the shapes", () => {
  throwsShape(() => T.add(x(2, 3), x(4)), /add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
  throwsShape(() => T.matmul(x(2, 3), x(4, 5)), /matmul: inner dimensions differ in \[2, 3\] · \[4, 5\] \(3 vs 4\)/);
  throwsShape(() => T.matmul(x(2, 3, 4), x(3, 4, 5)), /matmul: batch axes/);
  throwsShape(() => T.matmul(x(3), x(3, 2)), /matmul: a must have rank >= 2, got shape \[3\]/);
  throwsShape(() => T.reshape(x(2, 3), [4, 2]), /reshape: cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\]/);
  throwsShape(() => T.permute(x(2, 3), [0, 0]), /permute: \[0, 0\] is not a permutation/);
  throwsShape(() => T.slice(x(2, 3), 1, 2, 5), /slice: range \[2, 5\) is out of bounds for axis 1 of size 3/);
  throwsShape(() => T.concat([x(2, 3), x(3, 3)], 1), /concat: shapes f32\[2, 3\], f32\[3, 3\] differ off axis 1/);
  throwsShape(() => T.sum(x(2, 3), 2), /sum: axis 2 is out of range for a tensor of rank 2/);
  throwsShape(() => T.softmax(x(2, 3), 0), /softmax: only the last axis/);
  throwsShape(
    () => T.layerNorm(x(2, 3), x(4), x(4)),
    /layerNorm: weight \[4\] and bias \[4\] must both have 3 elements/,
  );
  throwsShape(() => T.embedding(x(2), x(5, 3)), /embedding: ids must be an i32 tensor/);
  throwsShape(
    () => T.crossEntropy(x(2, 3), T.tensor([0, 1, 2], [3], { dtype: "i32" })),
    /crossEntropy: targets must be an i32 tensor of 2 elements/,
  );
  throwsShape(() => T.linear(x(2, 5), x(3, 4)), /linear: input \[2, 5\] has 5 features/);
  throwsShape(() => new T.Tensor(new Float32Array(5), [2, 3]), /buffer of 5 elements does not fit shape \[2, 3\]/);
  throwsShape(
    () => T.mul(T.tensor([1, 2], [2], { dtype: "i32" }), x(2)),
    /mul: expected f32 tensors, got i32 of shape \[2\]/,
  );
});

test("index errors say which index and which range", () => {
  assert.throws(
    () => T.embedding(T.tensor([0, 7], [2], { dtype: "i32" }), x(5, 3)),
    /id 7 at position 1 is out of range for a vocabulary of 5/,
  );
  assert.throws(
    () => T.crossEntropy(x(2, 3), T.tensor([0, 3], [2], { dtype: "i32" })),
    /target 3 in row 1 is out of range for 3 classes/,
  );
});

test("backward needs a scalar or an explicit gradient, and a graph", () => {
  const a = T.randn([2, 2], r);
  a.requiresGrad = true;
  throwsShape(() => T.mul(a, 2).backward(), /gradient must be given for a non-scalar tensor of shape \[2, 2\]/);
  throwsShape(() => T.noGrad(() => T.sum(T.mul(a, 2))).backward(), /does not require gradients/);
});

test("autograd: fan-out accumulates, leaves accumulate across backward calls, noGrad records nothing", () => {
  const a = T.tensor([1, 2, 3], [3], { requiresGrad: true });
  const y = T.sum(T.add(T.mul(a, a), a)); // dy/da = 2a + 1
  y.backward();
  assert.deepEqual(a.grad!.toArray(), [3, 5, 7]);
  T.sum(a).backward();
  assert.deepEqual(a.grad!.toArray(), [4, 6, 8]);
  const z = T.noGrad(() => T.mul(a, 3));
  assert.equal(z.requiresGrad, false);
  assert.equal(z.node, null);
});
